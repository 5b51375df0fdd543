package clockifysim

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/clockberg/clockberg/schemas"
)

// Every record a full sync of the demo and acceptance presets returns validates against its stream's
// schema (package schemas, draft-07).
func TestRecordsMatchStreamSchemas(t *testing.T) {
	for name, cfg := range map[string]Config{"demo": Demo(), "acceptance": Acceptance()} {
		t.Run(name, func(t *testing.T) { checkSchemas(t, cfg) })
	}
}

func checkSchemas(t *testing.T, cfg Config) {
	_, c := startSim(t, cfg)
	_, recs := c.fullSync(5000)
	for _, stream := range Streams {
		raw, ok := schemas.Get(stream)
		if !ok {
			t.Errorf("no schema for stream %s", stream)
			continue
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("schema %s: %v", stream, err)
		}
		comp := jsonschema.NewCompiler()
		comp.DefaultDraft(jsonschema.Draft7)
		url := "mem:///" + stream + ".json"
		if err := comp.AddResource(url, doc); err != nil {
			t.Fatalf("schema %s: %v", stream, err)
		}
		sch, err := comp.Compile(url)
		if err != nil {
			t.Fatalf("compiling schema %s: %v", stream, err)
		}
		if len(recs[stream]) == 0 {
			t.Errorf("demo sync returned no %s records", stream)
		}
		for i, r := range recs[stream] {
			if stream == StreamApprovalRequests {
				// The schema describes the source's record, which copies approvalRequest.id to id and
				// adds the parent workspaceId (source/streams.go idFrom, parentKeys).
				ar := r["approvalRequest"].(map[string]any)
				r["id"], r["workspaceId"] = ar["id"], ar["workspaceId"]
			}
			b, _ := json.Marshal(r)
			v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(v); err != nil {
				t.Errorf("%s record %d does not match its schema: %v\n%s", stream, i, err, b)
				break
			}
		}
	}
}
