// Package schemas holds one draft-07 JSON Schema per Clockify stream, embedded in the binary so the
// source's catalog and the destination's table layout come from the same files.
//
// The schemas are deliberately loose: every object allows additional properties and every field
// except the primary key `id` is nullable, because the live API sends explicit nulls and adds
// fields without notice. Unions never exceed ["null", T] so that each property maps to exactly one
// Iceberg column type; values whose JSON type varies carry no `type` at all.
package schemas

import (
	"embed"
	"encoding/json"
)

//go:embed *.json
var files embed.FS

// names is the stream table order; the source walks streams in this order, so it is not sorted.
var names = []string{
	"workspaces",
	"user",
	"workspace_users",
	"groups",
	"projects",
	"clients",
	"tags",
	"tasks",
	"time_entries",
	"time_entries_in_progress",
	"expenses",
	"expense_categories",
	"invoices",
	"approval_requests",
	"holidays",
	"custom_fields",
	"policies",
}

// Names returns the 17 stream names in stream table order. The slice is a fresh copy.
func Names() []string {
	return append([]string(nil), names...)
}

// Get returns the JSON Schema of a stream, or false for an unknown name. The bytes are a fresh
// copy, so callers may modify them.
func Get(name string) (json.RawMessage, bool) {
	for _, n := range names {
		if n == name {
			b, err := files.ReadFile(name + ".json")
			if err != nil {
				// Unreachable while TestEveryNameHasAFile passes; reported as "unknown" rather
				// than panicking in a connector.
				return nil, false
			}
			return json.RawMessage(b), true
		}
	}
	return nil, false
}
