# syntax=docker/dockerfile:1
#
# One Dockerfile, one image per target:
#   docker build --target source-clockify     -t clockberg/source-clockify:0.1.0 .
#   docker build --target destination-iceberg -t clockberg/destination-iceberg:0.1.0 .
#   docker build --target clockify-sim        -t clockberg/clockify-sim:0.1.0 .
# BuildKit builds only the stages a target needs, so the source image never waits for the
# Iceberg/Arrow compile of the destination. cmd/packaging_test.go checks this file against
# metadata.yaml and destination/metadata.yaml.

# The build runs on the builder's own platform and cross-compiles (pure Go, CGO off) for the target
# platform, linux/amd64 by default, which is what Airbyte runs.
FROM --platform=$BUILDPLATFORM golang:1.26-alpine AS build
WORKDIR /src
# Module downloads get their own layer so source edits do not refetch dependencies.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETOS=linux
ARG TARGETARCH=amd64
ENV GOOS=$TARGETOS GOARCH=$TARGETARCH

FROM build AS build-source-clockify
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/source-clockify ./cmd/source-clockify

FROM build AS build-destination-iceberg
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/destination-iceberg ./cmd/destination-iceberg

FROM build AS build-clockify-sim
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/clockify-sim ./cmd/clockify-sim

# Airbyte runs connectors through `sh -c`, so the image needs /bin/sh (scratch and distroless-static
# do not work); CA certificates for TLS to Clockify and the object stores; tzdata for account time
# zones; and uid/gid 1000 owning /airbyte, the only place besides the temp dir the platform lets a
# connector write.
FROM alpine:3.22 AS runtime
RUN apk add --no-cache ca-certificates tzdata \
 && addgroup -g 1000 airbyte \
 && adduser -D -H -h /airbyte -u 1000 -G airbyte airbyte \
 && install -d -o 1000 -g 1000 /airbyte
WORKDIR /airbyte

FROM runtime AS source-clockify
COPY --from=build-source-clockify /out/source-clockify /airbyte/source-clockify
USER 1000:1000
ENV AIRBYTE_ENTRYPOINT="/airbyte/source-clockify"
ENTRYPOINT ["/airbyte/source-clockify"]
LABEL io.airbyte.name="clockberg/source-clockify" io.airbyte.version="0.1.0"

FROM runtime AS destination-iceberg
COPY --from=build-destination-iceberg /out/destination-iceberg /airbyte/destination-iceberg
USER 1000:1000
ENV AIRBYTE_ENTRYPOINT="/airbyte/destination-iceberg"
ENTRYPOINT ["/airbyte/destination-iceberg"]
LABEL io.airbyte.name="clockberg/destination-iceberg" io.airbyte.version="0.1.0"

# The simulator is not an Airbyte connector; it carries no io.airbyte labels. It refuses
# non-loopback listen addresses, so run it in a shared network namespace, e.g.
#   docker run --network host clockberg/clockify-sim --addr 127.0.0.1:8080
# or start the connector with --network container:<sim container>.
FROM runtime AS clockify-sim
COPY --from=build-clockify-sim /out/clockify-sim /airbyte/clockify-sim
USER 1000:1000
ENTRYPOINT ["/airbyte/clockify-sim"]
