// Package schemas holds one draft-07 JSON Schema per Clockify stream, named after its registry
// row (package streams) and embedded in the binary, so the source's catalog and the
// destination's table layout come from the same files.
//
// The schemas are deliberately loose: every object allows additional properties and every field
// except the primary key `id` is nullable, because the live API sends explicit nulls and adds
// fields without notice. Unions never exceed ["null", T] so that each property maps to exactly one
// Iceberg column type; values whose JSON type varies carry no `type` at all.
package schemas

import (
	"embed"
	"encoding/json"
	"strings"
)

//go:embed *.json
var files embed.FS

// Get returns the JSON Schema of a stream by its registry name, or false when there is none. The
// bytes are a fresh copy, so callers may modify them.
func Get(name string) (json.RawMessage, bool) {
	if name == "" || strings.ContainsAny(name, `./\`) {
		return nil, false
	}
	b, err := files.ReadFile(name + ".json")
	if err != nil {
		return nil, false
	}
	return json.RawMessage(b), true
}
