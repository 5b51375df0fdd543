// Package cmd holds no code of its own; this test checks the packaging that ties the three mains
// to Airbyte: the Dockerfile targets and the two metadata.yaml files. It needs no Docker engine:
// the Dockerfile is read with a small line parser.
package cmd

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"go.yaml.in/yaml/v3"
)

const repoRoot = ".."

// connectorTargets maps each Dockerfile target that Airbyte runs to its metadata file.
var connectorTargets = map[string]string{
	"source-clockify":     "metadata.yaml",
	"destination-iceberg": "destination/metadata.yaml",
}

// ---------------------------------------------------------------------------------------------
// Dockerfile parsing

type copyInstr struct {
	from string // stage or image of --from, "" for the build context
	srcs []string
	dst  string
}

type stage struct {
	name     string // the AS name, lower-cased; "" if unnamed
	from     string // image reference or earlier stage name
	line     int
	user     string
	userSet  bool
	env      map[string]string
	labels   map[string]string
	entry    []string
	entryRaw string
	entryOK  bool // ENTRYPOINT given in exec (JSON array) form
	entrySet bool
	runs     []string
	copies   []copyInstr
}

// logicalLines joins backslash continuations and drops comments and blank lines, keeping the
// number of the line each instruction starts on.
func logicalLines(src string) (lines []string, starts []int) {
	var cur strings.Builder
	start := 0
	for i, raw := range strings.Split(src, "\n") {
		t := strings.TrimSpace(raw)
		if t == "" || strings.HasPrefix(t, "#") {
			continue // comments inside a continuation are skipped too, as Docker does
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(t, "\\") {
			cur.WriteString(strings.TrimSuffix(t, "\\"))
			cur.WriteString(" ")
			continue
		}
		cur.WriteString(t)
		lines = append(lines, cur.String())
		starts = append(starts, start)
		cur.Reset()
	}
	if cur.Len() > 0 {
		lines = append(lines, cur.String())
		starts = append(starts, start)
	}
	return lines, starts
}

// words splits on blanks outside quotes and removes the quotes, like Docker's ENV/LABEL parser.
func words(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	var quote rune
	inWord := false
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote == '"' && r == '\\' && i+1 < len(rs):
			i++
			cur.WriteRune(rs[i])
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote in %q", quote, s)
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}

// keyValues parses `k=v k2="v 2"` and the legacy single-pair form `k v`.
func keyValues(s string) (map[string]string, error) {
	ws, err := words(s)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	if len(ws) > 0 && !strings.Contains(ws[0], "=") {
		m[ws[0]] = strings.Join(ws[1:], " ")
		return m, nil
	}
	for _, w := range ws {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not key=value in %q", w, s)
		}
		m[k] = v
	}
	return m, nil
}

func parseDockerfile(src string) ([]*stage, error) {
	lines, starts := logicalLines(src)
	var stages []*stage
	for i, l := range lines {
		instr, rest, _ := strings.Cut(l, " ")
		instr = strings.ToUpper(instr)
		rest = strings.TrimSpace(rest)
		if instr == "FROM" {
			ws := strings.Fields(rest)
			for len(ws) > 0 && strings.HasPrefix(ws[0], "--") {
				ws = ws[1:]
			}
			if len(ws) == 0 {
				return nil, fmt.Errorf("line %d: FROM without an image", starts[i])
			}
			st := &stage{from: ws[0], line: starts[i], env: map[string]string{}, labels: map[string]string{}}
			if len(ws) == 3 && strings.EqualFold(ws[1], "AS") {
				st.name = strings.ToLower(ws[2])
			} else if len(ws) != 1 {
				return nil, fmt.Errorf("line %d: cannot read FROM %q", starts[i], rest)
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			if instr == "ARG" {
				continue // global ARGs before the first FROM
			}
			return nil, fmt.Errorf("line %d: %s before the first FROM", starts[i], instr)
		}
		st := stages[len(stages)-1]
		switch instr {
		case "USER":
			st.user, st.userSet = rest, true
		case "ENV", "LABEL":
			kv, err := keyValues(rest)
			if err != nil {
				return nil, fmt.Errorf("line %d: %s: %w", starts[i], instr, err)
			}
			dst := st.env
			if instr == "LABEL" {
				dst = st.labels
			}
			for k, v := range kv {
				dst[k] = v
			}
		case "ENTRYPOINT":
			st.entrySet, st.entryRaw, st.entry, st.entryOK = true, rest, nil, false
			if strings.HasPrefix(rest, "[") {
				var arr []string
				if json.Unmarshal([]byte(rest), &arr) == nil {
					st.entry, st.entryOK = arr, true
				}
			}
		case "RUN":
			st.runs = append(st.runs, rest)
		case "COPY", "ADD":
			ws, err := words(rest)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", starts[i], err)
			}
			var c copyInstr
			for len(ws) > 0 && strings.HasPrefix(ws[0], "--") {
				if v, ok := strings.CutPrefix(ws[0], "--from="); ok {
					c.from = strings.ToLower(v)
				}
				ws = ws[1:]
			}
			if len(ws) < 2 {
				return nil, fmt.Errorf("line %d: %s needs a source and a destination", starts[i], instr)
			}
			c.srcs, c.dst = ws[:len(ws)-1], ws[len(ws)-1]
			st.copies = append(st.copies, c)
		}
	}
	return stages, nil
}

func findStage(stages []*stage, name string) *stage {
	for _, s := range stages {
		if s.name != "" && s.name == strings.ToLower(name) {
			return s
		}
	}
	return nil
}

// chain returns the stage and its ancestors, root first; the root's `from` is an image.
func chain(stages []*stage, s *stage) []*stage {
	var c []*stage
	for s != nil && len(c) <= len(stages) { // bounded: a FROM cycle cannot loop forever
		c = append([]*stage{s}, c...)
		s = findStage(stages, s.from)
	}
	return c
}

// effective is what a stage inherits: later stages override earlier ones.
type effective struct {
	user, baseImage string
	userSet         bool
	env, labels     map[string]string
	entry           []string
	entryOK         bool
	entryRaw        string
	runs            []string
}

func resolve(stages []*stage, s *stage) effective {
	e := effective{env: map[string]string{}, labels: map[string]string{}}
	c := chain(stages, s)
	e.baseImage = c[0].from
	for _, st := range c {
		if st.userSet {
			e.user, e.userSet = st.user, true
		}
		for k, v := range st.env {
			e.env[k] = v
		}
		for k, v := range st.labels {
			e.labels[k] = v
		}
		if st.entrySet {
			e.entry, e.entryOK, e.entryRaw = st.entry, st.entryOK, st.entryRaw
		}
		e.runs = append(e.runs, st.runs...)
	}
	return e
}

var golangImage = regexp.MustCompile(`^golang:(\d+)\.(\d+)(\.\d+)?(-|$)`)

// checkBinaryBuild checks that the stage chain producing binPath builds ./cmd/<target> statically.
func checkBinaryBuild(stages []*stage, final *stage, target, binPath string) []string {
	var problems []string
	var src copyInstr
	found := false
	for _, c := range final.copies {
		if c.dst == binPath && c.from != "" && len(c.srcs) == 1 {
			src, found = c, true
		}
	}
	if !found {
		return []string{fmt.Sprintf("%s: no COPY --from=<build stage> puts the binary at %s", target, binPath)}
	}
	bs := findStage(stages, src.from)
	if bs == nil {
		return []string{fmt.Sprintf("%s: COPY --from=%s names no stage", target, src.from)}
	}
	be := resolve(stages, bs)
	m := golangImage.FindStringSubmatch(be.baseImage)
	if m == nil {
		problems = append(problems, fmt.Sprintf("%s: builder image %q is not golang:X.Y", target, be.baseImage))
	} else if maj, _ := strconv.Atoi(m[1]); maj < 1 || maj == 1 && atoi(m[2]) < 26 {
		problems = append(problems, fmt.Sprintf("%s: builder image %q is older than Go 1.26", target, be.baseImage))
	}
	var build string
	for _, r := range be.runs {
		if strings.Contains(r, "go build") && strings.Contains(r, "-o "+src.srcs[0]) {
			build = r
		}
	}
	if build == "" {
		return append(problems, fmt.Sprintf("%s: no RUN go build -o %s in stage %s", target, src.srcs[0], bs.name))
	}
	cgoOff := strings.Contains(build, "CGO_ENABLED=0") ||
		be.env["CGO_ENABLED"] == "0" && !strings.Contains(build, "CGO_ENABLED=1")
	if !cgoOff {
		problems = append(problems, fmt.Sprintf("%s: build does not set CGO_ENABLED=0: %s", target, build))
	}
	for _, want := range []string{"-trimpath", "./cmd/" + target} {
		if !slices.Contains(strings.Fields(build), want) {
			problems = append(problems, fmt.Sprintf("%s: build lacks %s: %s", target, want, build))
		}
	}
	if !strings.Contains(build, `-ldflags="-s -w"`) && !strings.Contains(build, `-ldflags='-s -w'`) {
		problems = append(problems, fmt.Sprintf("%s: build lacks -ldflags=\"-s -w\": %s", target, build))
	}
	return problems
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// checkRuntime checks user, entrypoint and base image of a final stage.
func checkRuntime(stages []*stage, target string) (effective, []string) {
	st := findStage(stages, target)
	if st == nil {
		return effective{}, []string{fmt.Sprintf("no stage named %s, so docker build --target %s fails", target, target)}
	}
	var problems []string
	e := resolve(stages, st)
	if !e.userSet || (e.user != "1000" && e.user != "1000:1000") {
		problems = append(problems, fmt.Sprintf("%s: USER is %q, want 1000 or 1000:1000", target, e.user))
	}
	if !e.entryOK || len(e.entry) == 0 {
		problems = append(problems, fmt.Sprintf("%s: ENTRYPOINT %q is not in exec (JSON array) form", target, e.entryRaw))
	} else if !path.IsAbs(e.entry[0]) {
		problems = append(problems, fmt.Sprintf("%s: ENTRYPOINT %q is not an absolute path", target, e.entry[0]))
	}
	// The platform runs `sh -c`, so the image needs a shell: no scratch or distroless bases.
	if !strings.HasPrefix(e.baseImage, "alpine:") {
		problems = append(problems, fmt.Sprintf("%s: runtime base %q is not alpine (needs /bin/sh)", target, e.baseImage))
	}
	hasCerts := false
	for _, r := range e.runs {
		if strings.Contains(r, "apk add") && strings.Contains(r, "ca-certificates") {
			hasCerts = true
		}
	}
	if !hasCerts {
		problems = append(problems, fmt.Sprintf("%s: no apk add ca-certificates in its stages", target))
	}
	if len(e.entry) > 0 {
		problems = append(problems, checkBinaryBuild(stages, st, target, e.entry[0])...)
	}
	return e, problems
}

func checkDockerfile(src string, metas map[string]metadata) []string {
	stages, err := parseDockerfile(src)
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	for _, target := range slices.Sorted(maps.Keys(connectorTargets)) {
		e, ps := checkRuntime(stages, target)
		problems = append(problems, ps...)
		if len(ps) > 0 && e.env == nil {
			continue
		}
		if got, want := e.env["AIRBYTE_ENTRYPOINT"], strings.Join(e.entry, " "); got != want || got == "" {
			problems = append(problems, fmt.Sprintf("%s: AIRBYTE_ENTRYPOINT %q != ENTRYPOINT joined %q", target, got, want))
		}
		md := metas[connectorTargets[target]]
		if got := e.labels["io.airbyte.name"]; got != md.DockerRepository || got == "" {
			problems = append(problems, fmt.Sprintf("%s: label io.airbyte.name %q, metadata dockerRepository %q", target, got, md.DockerRepository))
		}
		if got := e.labels["io.airbyte.version"]; got != md.DockerImageTag || got == "" {
			problems = append(problems, fmt.Sprintf("%s: label io.airbyte.version %q, metadata dockerImageTag %q", target, got, md.DockerImageTag))
		}
	}
	// The simulator image is optional, but if present it must be built the same way.
	if findStage(stages, "clockify-sim") != nil {
		_, ps := checkRuntime(stages, "clockify-sim")
		problems = append(problems, ps...)
	}
	return problems
}

// ---------------------------------------------------------------------------------------------
// metadata.yaml

// Field lists of ConnectorMetadataDefinitionV0 as read from
// airbytehq/airbyte-connector-models: airbyte_connector_models/metadata/v0/ConnectorMetadataDefinitionV0.json
// at commit acf8ea011f6a5af388b144e0a2f8ba93aca030d4 (the same required list as
// airbytehq/airbyte: airbyte-ci/connectors/metadata_service/lib/metadata_service/models/src/
// ConnectorMetadataDefinitionV0.yaml at 109e6a43e311be7b7c8c1adc2c05f30c108e26d1).
var (
	requiredTop  = []string{"metadataSpecVersion", "data"}
	requiredData = []string{"name", "definitionId", "connectorType", "dockerRepository", "dockerImageTag",
		"license", "documentationUrl", "githubIssueLabel", "connectorSubtype", "releaseStage"}
	// knownData is every property the schema allows under data (additionalProperties: false).
	knownData = []string{"name", "icon", "definitionId", "connectorBuildOptions", "connectorTestSuitesOptions",
		"connectorType", "dockerRepository", "dockerImageTag", "supportsDbt", "supportsNormalization", "license",
		"documentationUrl", "externalDocumentationUrls", "githubIssueLabel", "maxSecondsBetweenMessages",
		"releaseDate", "protocolVersion", "erdUrl", "connectorSubtype", "releaseStage", "supportLevel", "tags",
		"registryOverrides", "allowedHosts", "releases", "normalizationConfig", "suggestedStreams",
		"resourceRequirements", "ab_internal", "remoteRegistries", "supportsRefreshes", "generated",
		"supportsFileTransfer", "supportsDataActivation", "connectorIPCOptions"}
	connectorSubtypes = []string{"api", "database", "datalake", "file", "custom", "message_queue", "unknown", "vectorstore"}
	releaseStages     = []string{"alpha", "beta", "generally_available", "custom"}
	supportLevels     = []string{"community", "certified", "archived"}
)

type metadata struct {
	DockerRepository, DockerImageTag, DefinitionID, ConnectorType string
}

var semver = regexp.MustCompile(`^\d+\.\d+\.\d+$`)

// checkMetadata validates one metadata.yaml for a connector of the given type and subtype.
func checkMetadata(raw []byte, wantType, wantSubtype string) (metadata, []string) {
	var problems []string
	fail := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return metadata{}, []string{"not YAML: " + err.Error()}
	}
	for _, k := range requiredTop {
		if _, ok := doc[k]; !ok {
			fail("missing required top-level field %s", k)
		}
	}
	for k := range doc {
		if !slices.Contains(requiredTop, k) {
			fail("unknown top-level field %s (the schema allows no others)", k)
		}
	}
	if v, ok := doc["metadataSpecVersion"]; ok {
		if _, isStr := v.(string); !isStr {
			fail("metadataSpecVersion is %T %v, the schema wants a string (quote it)", v, v)
		}
	}
	data, ok := doc["data"].(map[string]any)
	if !ok {
		fail("data is %T, want a mapping", doc["data"])
		return metadata{}, problems
	}
	for _, k := range requiredData {
		if _, ok := data[k]; !ok {
			fail("missing required field data.%s", k)
		}
	}
	for k := range data {
		if !slices.Contains(knownData, k) {
			fail("unknown field data.%s (data has additionalProperties: false)", k)
		}
	}
	str := func(k string) string {
		v, ok := data[k]
		if !ok {
			return ""
		}
		s, isStr := v.(string)
		if !isStr {
			fail("data.%s is %T %v, want a string", k, v, v)
		}
		return s
	}
	for _, k := range []string{"name", "license", "githubIssueLabel", "icon", "protocolVersion"} {
		str(k)
	}
	md := metadata{DockerRepository: str("dockerRepository"), DockerImageTag: str("dockerImageTag"),
		DefinitionID: str("definitionId"), ConnectorType: str("connectorType")}

	if id, err := uuid.Parse(md.DefinitionID); err != nil || id == uuid.Nil || len(md.DefinitionID) != 36 {
		fail("definitionId %q is not a canonical non-nil uuid", md.DefinitionID)
	}
	if md.ConnectorType != wantType {
		fail("connectorType %q, want %q", md.ConnectorType, wantType)
	}
	if st := str("connectorSubtype"); !slices.Contains(connectorSubtypes, st) || st != wantSubtype {
		fail("connectorSubtype %q, want %q", st, wantSubtype)
	}
	if rs := str("releaseStage"); !slices.Contains(releaseStages, rs) {
		fail("releaseStage %q not in %v", rs, releaseStages)
	}
	if sl, ok := data["supportLevel"]; ok && !slices.Contains(supportLevels, fmt.Sprint(sl)) {
		fail("supportLevel %v not in %v", sl, supportLevels)
	}
	if !semver.MatchString(md.DockerImageTag) {
		fail("dockerImageTag %q is not MAJOR.MINOR.PATCH", md.DockerImageTag)
	}
	if want := "clockberg/" + wantType + "-"; !strings.HasPrefix(md.DockerRepository, want) {
		fail("dockerRepository %q does not start with %s", md.DockerRepository, want)
	}
	if u, err := url.Parse(str("documentationUrl")); err != nil || !u.IsAbs() || u.Host == "" {
		fail("documentationUrl %q is not an absolute URI", data["documentationUrl"])
	}
	if tags, ok := data["tags"].([]any); !ok || !slices.Contains(tags, any("language:go")) {
		fail("tags %v lack language:go", data["tags"])
	}
	if ah, present := data["allowedHosts"]; present {
		m, _ := ah.(map[string]any)
		hosts, ok := m["hosts"].([]any)
		if !ok {
			fail("allowedHosts.hosts is %T, want a list", m["hosts"])
		}
		for _, h := range hosts {
			s, isStr := h.(string)
			if !isStr {
				fail("allowedHosts entry %v is not a string", h)
				continue
			}
			if s == "localhost" || strings.HasPrefix(s, "127.") || s == "::1" || s == "[::1]" {
				fail("allowedHosts lists loopback %q; loopback is for tests only", s)
			}
		}
		if wantType == "source" && !(slices.Contains(hosts, any("api.clockify.me")) && slices.Contains(hosts, any("*.clockify.me"))) {
			fail("allowedHosts %v must cover api.clockify.me and *.clockify.me", hosts)
		}
	} else if wantType == "source" {
		fail("the source must declare allowedHosts")
	}
	if v, ok := data["supportsRefreshes"]; ok {
		if _, isBool := v.(bool); !isBool {
			fail("supportsRefreshes is %T, want a boolean", v)
		}
	}
	if wantType == "destination" && data["supportsRefreshes"] != true {
		fail("destination must declare supportsRefreshes: true, has %v", data["supportsRefreshes"])
	}
	return md, problems
}

var wantKinds = map[string][2]string{
	"metadata.yaml":             {"source", "api"},
	"destination/metadata.yaml": {"destination", "datalake"},
}

func readRepoFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func loadMetadata(t *testing.T, files map[string][]byte) (map[string]metadata, []string) {
	t.Helper()
	metas := map[string]metadata{}
	var problems []string
	for name, raw := range files {
		k := wantKinds[name]
		md, ps := checkMetadata(raw, k[0], k[1])
		for _, p := range ps {
			problems = append(problems, name+": "+p)
		}
		metas[name] = md
	}
	if a, b := metas["metadata.yaml"].DefinitionID, metas["destination/metadata.yaml"].DefinitionID; a == b {
		problems = append(problems, fmt.Sprintf("source and destination share definitionId %q", a))
	}
	return metas, problems
}

func realFiles(t *testing.T) map[string][]byte {
	files := map[string][]byte{}
	for name := range wantKinds {
		files[name] = readRepoFile(t, name)
	}
	files["Dockerfile"] = readRepoFile(t, "Dockerfile")
	return files
}

func checkAll(t *testing.T, files map[string][]byte) []string {
	t.Helper()
	md := map[string][]byte{}
	for name := range wantKinds {
		md[name] = files[name]
	}
	metas, problems := loadMetadata(t, md)
	return append(problems, checkDockerfile(string(files["Dockerfile"]), metas)...)
}

func TestPackaging(t *testing.T) {
	files := realFiles(t)
	for _, p := range checkAll(t, files) {
		t.Error(p)
	}
	stages, err := parseDockerfile(string(files["Dockerfile"]))
	if err != nil {
		t.Fatal(err)
	}
	for target := range connectorTargets {
		e := resolve(stages, findStage(stages, target))
		t.Logf("%s: FROM %s, USER %s, ENTRYPOINT %v, labels %v", target, e.baseImage, e.user, e.entry, e.labels)
	}
}

// TestPackagingCheckCatchesBreakage edits copies of the real files and expects each edit to be
// reported, so TestPackaging cannot pass vacuously.
func TestPackagingCheckCatchesBreakage(t *testing.T) {
	edits := []struct {
		name, file, old, new string
	}{
		{"no source target", "Dockerfile", "AS source-clockify", "AS source-clockify-old"},
		{"no destination target", "Dockerfile", "AS destination-iceberg\n", "AS dest\n"},
		{"root user", "Dockerfile", "COPY --from=build-source-clockify /out/source-clockify /airbyte/source-clockify\nUSER 1000:1000", "COPY --from=build-source-clockify /out/source-clockify /airbyte/source-clockify\nUSER root"},
		{"shell-form entrypoint", "Dockerfile", `ENTRYPOINT ["/airbyte/destination-iceberg"]`, `ENTRYPOINT /airbyte/destination-iceberg`},
		{"relative entrypoint", "Dockerfile", `ENTRYPOINT ["/airbyte/source-clockify"]`, `ENTRYPOINT ["source-clockify"]`},
		{"entrypoint env differs", "Dockerfile", `ENV AIRBYTE_ENTRYPOINT="/airbyte/source-clockify"`, `ENV AIRBYTE_ENTRYPOINT="/airbyte/source-clockify --debug"`},
		{"entrypoint env missing", "Dockerfile", `ENV AIRBYTE_ENTRYPOINT="/airbyte/destination-iceberg"`, ``},
		{"label version", "Dockerfile", `io.airbyte.version="0.1.0"`, `io.airbyte.version="0.1.1"`},
		{"label name", "Dockerfile", `io.airbyte.name="clockberg/destination-iceberg"`, `io.airbyte.name="airbyte/destination-iceberg"`},
		{"cgo on", "Dockerfile", "RUN CGO_ENABLED=0 go build -trimpath -ldflags=\"-s -w\" -o /out/destination-iceberg", "RUN CGO_ENABLED=1 go build -trimpath -ldflags=\"-s -w\" -o /out/destination-iceberg"},
		{"no trimpath", "Dockerfile", "go build -trimpath -ldflags=\"-s -w\" -o /out/source-clockify", "go build -ldflags=\"-s -w\" -o /out/source-clockify"},
		{"symbols kept", "Dockerfile", "-ldflags=\"-s -w\" -o /out/source-clockify", "-o /out/source-clockify"},
		{"wrong cmd", "Dockerfile", "./cmd/source-clockify", "./cmd/clockify-sim"},
		{"old go", "Dockerfile", "golang:1.26-alpine", "golang:1.25-alpine"},
		{"no shell", "Dockerfile", "FROM alpine:3.22 AS runtime", "FROM scratch AS runtime"},
		{"no certs", "Dockerfile", "apk add --no-cache ca-certificates tzdata", "apk add --no-cache tzdata"},
		{"binary not copied", "Dockerfile", "/out/source-clockify /airbyte/source-clockify", "/out/source-clockify /airbyte/source"},
		{"spec version float", "metadata.yaml", `metadataSpecVersion: "1.0"`, `metadataSpecVersion: 1.0`},
		{"missing label field", "metadata.yaml", "  githubIssueLabel: source-clockify\n", ""},
		{"missing license", "destination/metadata.yaml", "  license: MIT\n", ""},
		{"bad uuid", "metadata.yaml", "definitionId: 7de59a15-6945-473f-b160-07b19fcadd26", "definitionId: 7de59a15-6945-473f-b160"},
		{"shared uuid", "destination/metadata.yaml", "definitionId: 79da737a-b7b4-4356-a4d8-cd1bde452968", "definitionId: 7de59a15-6945-473f-b160-07b19fcadd26"},
		{"wrong type", "destination/metadata.yaml", "connectorType: destination", "connectorType: source"},
		{"wrong subtype", "metadata.yaml", "connectorSubtype: api", "connectorSubtype: datalake"},
		{"typo field", "metadata.yaml", "  supportLevel: community", "  supportlevel: community"},
		{"loopback host", "metadata.yaml", `      - "${api_url}"`, `      - "127.0.0.1"`},
		{"regional hosts", "metadata.yaml", `      - "*.clockify.me"`, ``},
		{"no refreshes", "destination/metadata.yaml", "supportsRefreshes: true", "supportsRefreshes: false"},
		{"tag mismatch", "destination/metadata.yaml", "dockerImageTag: 0.1.0", "dockerImageTag: 0.2.0"},
		{"repo mismatch", "metadata.yaml", "dockerRepository: clockberg/source-clockify", "dockerRepository: clockberg/source-clockify2"},
	}
	for _, e := range edits {
		files := realFiles(t)
		orig := files[e.file]
		if !bytes.Contains(orig, []byte(e.old)) {
			t.Errorf("%s: %s no longer contains %q; update this case", e.name, e.file, e.old)
			continue
		}
		files[e.file] = bytes.Replace(orig, []byte(e.old), []byte(e.new), 1)
		if ps := checkAll(t, files); len(ps) == 0 {
			t.Errorf("%s: editing %s went unnoticed", e.name, e.file)
		} else {
			t.Logf("%s: %s", e.name, ps[0])
		}
	}
}

func TestDockerfileParser(t *testing.T) {
	src := "ARG X=1\nFROM --platform=$BUILDPLATFORM img:1 AS a\n# comment\nRUN echo a \\\n  # inner comment\n  && echo b\n" +
		"FROM a AS B\nENV K1=v1 K2=\"v 2\"\nENV LEGACY some value\nLABEL \"x.y\"=\"z\"\nUSER 1000\n" +
		"ENTRYPOINT [\"/bin/x\", \"--flag\"]\nCOPY --from=a /o /p\n"
	st, err := parseDockerfile(src)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 2 || st[0].name != "a" || st[0].from != "img:1" || st[1].name != "b" {
		t.Fatalf("stages parsed as %+v", st)
	}
	if want := "echo a && echo b"; len(st[0].runs) != 1 || strings.Join(strings.Fields(st[0].runs[0]), " ") != want {
		t.Errorf("continuation joined to %q, want %q", st[0].runs, want)
	}
	e := resolve(st, st[1])
	if e.baseImage != "img:1" || e.env["K1"] != "v1" || e.env["K2"] != "v 2" || e.env["LEGACY"] != "some value" ||
		e.labels["x.y"] != "z" || e.user != "1000" || !slices.Equal(e.entry, []string{"/bin/x", "--flag"}) ||
		len(e.runs) != 1 || len(st[1].copies) != 1 || st[1].copies[0].from != "a" || st[1].copies[0].dst != "/p" {
		t.Errorf("resolved %+v, copies %+v", e, st[1].copies)
	}
	for _, bad := range []string{"RUN x\n", "FROM\n", "FROM a b c d\n", "FROM a\nENV K=\"open\n", "FROM a\nCOPY x\n"} {
		if _, err := parseDockerfile(bad); err == nil {
			t.Errorf("parseDockerfile(%q) accepted malformed input", bad)
		}
	}
}

// TestStaticBinaries builds each existing main the way the Dockerfile does and checks the ELF file:
// no program interpreter and no shared libraries (static), no symbol table (-s), no DWARF (-w) and
// no build-machine paths (-trimpath).
func TestStaticBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the three binaries; skipped with -short")
	}
	abs, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"source-clockify", "destination-iceberg", "clockify-sim"} {
		t.Run(target, func(t *testing.T) {
			mains, _ := filepath.Glob(filepath.Join(abs, "cmd", target, "*.go"))
			if len(mains) == 0 {
				t.Skipf("cmd/%s has no Go files yet", target)
			}
			out := filepath.Join(t.TempDir(), target)
			cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./cmd/"+target)
			cmd.Dir = abs
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
			if msg, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go build ./cmd/%s: %v\n%s", target, err, msg)
			}
			f, err := elf.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
					t.Errorf("%s has program header %v: dynamically linked", target, p.Type)
				}
			}
			if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
				t.Errorf("%s needs shared libraries %v", target, libs)
			}
			for _, s := range f.Sections {
				if s.Name == ".symtab" || strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") {
					t.Errorf("%s keeps section %s despite -s -w", target, s.Name)
				}
			}
			bin, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(bin, []byte(abs+"/")) {
				t.Errorf("%s contains the build path %s despite -trimpath", target, abs)
			}
			t.Logf("%s: static ELF, %.1f MiB", target, float64(len(bin))/(1<<20))
		})
	}
}

// dockerignored reports whether .dockerignore excludes rel (slash-separated, relative to the
// context root). It understands the subset the file uses: comments, plain paths, globs and a
// leading **/; negations are refused so this check never silently misreads the file.
func dockerignored(rel string, patterns []string) (bool, error) {
	for _, p := range patterns {
		if strings.HasPrefix(p, "!") {
			return false, fmt.Errorf(".dockerignore negation %q is not understood by this test", p)
		}
		p = strings.TrimSuffix(strings.TrimPrefix(p, "/"), "/")
		anyDir := strings.HasPrefix(p, "**/")
		p = strings.TrimPrefix(p, "**/")
		segs := strings.Split(rel, "/")
		for i := range segs {
			if i > 0 && !anyDir {
				break
			}
			// A pattern matching a directory excludes everything below it.
			for j := i + 1; j <= len(segs); j++ {
				if ok, err := path.Match(p, strings.Join(segs[i:j], "/")); err != nil {
					return false, fmt.Errorf(".dockerignore pattern %q: %w", p, err)
				} else if ok {
					return true, nil
				}
			}
		}
	}
	return false, nil
}

func dockerignorePatterns(raw []byte) []string {
	var ps []string
	for _, l := range strings.Split(string(raw), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			ps = append(ps, l)
		}
	}
	return ps
}

// TestDockerContextHasEverythingTheBuildNeeds: every Go and embedded file of every package the
// three mains depend on, plus go.mod and go.sum, must survive .dockerignore, or the image build
// fails with a missing package or, worse, an empty embed.
func TestDockerContextHasEverythingTheBuildNeeds(t *testing.T) {
	abs, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	patterns := dockerignorePatterns(readRepoFile(t, ".dockerignore"))
	cmd := exec.Command("go", "list", "-deps", "-f",
		`{{if not .Standard}}{{.Dir}}|{{join .GoFiles ","}}|{{join .EmbedFiles ","}}{{end}}`,
		"./cmd/source-clockify", "./cmd/destination-iceberg", "./cmd/clockify-sim")
	cmd.Dir = abs
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	needed := []string{"go.mod", "go.sum"}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(line, "|")
		if len(parts) != 3 || !strings.HasPrefix(parts[0], abs+string(filepath.Separator)) {
			continue // a dependency from the module cache, fetched by go mod download
		}
		dir := filepath.ToSlash(strings.TrimPrefix(parts[0], abs+string(filepath.Separator)))
		for _, f := range strings.Split(parts[1]+","+parts[2], ",") {
			if f != "" {
				needed = append(needed, dir+"/"+f)
			}
		}
	}
	if len(needed) < 20 {
		t.Fatalf("only %d files found for the three mains; go list output changed?\n%s", len(needed), out)
	}
	for _, f := range needed {
		ign, err := dockerignored(f, patterns)
		if err != nil {
			t.Fatal(err)
		}
		if ign {
			t.Errorf(".dockerignore excludes %s, which the image build needs", f)
		}
	}
	for _, c := range []struct {
		rel  string
		want bool
	}{
		{"bench/run.sh", true}, {"interop/x/y.py", true}, {".git/HEAD", true}, {"source.test", true},
		{"destination/x/y.test", true}, {"schemas/tags.json", false}, {"cmd/source-clockify/main.go", false},
	} {
		if got, err := dockerignored(c.rel, patterns); err != nil || got != c.want {
			t.Errorf("dockerignored(%q) = %v, %v; want %v", c.rel, got, err, c.want)
		}
	}
	if got, _ := dockerignored("schemas/tags.json", append(patterns, "**/*.json")); !got {
		t.Error("a **/*.json pattern was not seen to exclude schemas/tags.json; the check is blind")
	}
	t.Logf("%d files of the build context checked against %d patterns", len(needed), len(patterns))
}
