package destination

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/apache/iceberg-go"
)

// Meta column names, in table order.
const (
	colRawID        = "_airbyte_raw_id"
	colExtractedAt  = "_airbyte_extracted_at"
	colGenerationID = "_airbyte_generation_id"
	colMeta         = "_airbyte_meta"
)

// jsonDoc marks string columns holding JSON text, so a later sync can tell a JSON column (any
// value fits) from a plain string column (only JSON strings fit).
const jsonDoc = "JSON text; read with PARSE_JSON"

// property is one top-level property of a stream's JSON schema and the column it wants.
type property struct {
	Name   string // as in the JSON schema and the records
	Column string // the column's name (see names.go); set once the table's columns are known
	Type   iceberg.Type
	JSON   bool // the value is stored as JSON text in a string column
}

// metaColumns are the names no property can have as its column.
var metaColumns = []string{colRawID, colExtractedAt, colGenerationID, colMeta}

// mapColumns sets the column name of every property, keeping the names the table sch (nil for a
// new table) already gives them.
func mapColumns(props []property, sch *iceberg.Schema) error {
	existing := map[string]string{}
	if sch != nil {
		for _, f := range sch.Fields() {
			if slices.Contains(metaColumns, f.Name) {
				continue
			}
			orig, ok := docOriginal(f.Doc)
			if !ok {
				orig = f.Name
			}
			existing[f.Name] = orig
		}
	}
	names := make([]string, len(props))
	for i, p := range props {
		names[i] = p.Name
	}
	cols, err := assignNames(names, existing, metaColumns)
	if err != nil {
		return err
	}
	for i := range props {
		props[i].Column = cols[props[i].Name]
	}
	return nil
}

// jsonSchema is the subset of draft-07 the mapping reads.
type jsonSchema struct {
	Type        json.RawMessage            `json:"type"`
	Format      string                     `json:"format"`
	AirbyteType string                     `json:"airbyte_type"`
	Properties  map[string]json.RawMessage `json:"properties"`
	Items       json.RawMessage            `json:"items"`
	OneOf       []json.RawMessage          `json:"oneOf"`
	AnyOf       []json.RawMessage          `json:"anyOf"`
}

// streamProperties maps the stream's JSON schema to columns in a deterministic order: the order
// the properties appear in the schema text, which is the order a reader of the schema expects.
func streamProperties(schema json.RawMessage) ([]property, error) {
	if len(schema) == 0 || string(schema) == "null" {
		return nil, nil
	}
	var s jsonSchema
	if err := json.Unmarshal(schema, &s); err != nil {
		return nil, fmt.Errorf("json_schema is not a JSON object: %w", err)
	}
	names, err := objectKeys(schema, "properties")
	if err != nil {
		return nil, err
	}
	out := make([]property, 0, len(names))
	for _, name := range names {
		// A property named like a meta column is kept: its column gets another name (names.go).
		p, err := propertyType(s.Properties[name])
		if err != nil {
			return nil, fmt.Errorf("property %q: %w", name, err)
		}
		p.Name = name
		out = append(out, p)
	}
	return out, nil
}

// objectKeys returns the keys of obj[member] in document order.
func objectKeys(obj json.RawMessage, member string) ([]string, error) {
	var keys []string
	var inner []byte
	if err := eachField(obj, func(k, v []byte) {
		if string(k) == member {
			inner = v
		}
	}); err != nil {
		return nil, err
	}
	if inner == nil || string(inner) == "null" {
		return nil, nil
	}
	seen := map[string]bool{}
	err := eachField(inner, func(k, _ []byte) {
		key := unescapeKey(k)
		if !seen[key] {
			seen[key] = true
			keys = append(keys, key)
		}
	})
	return keys, err
}

func unescapeKey(k []byte) string {
	if !slices.Contains(k, '\\') {
		return string(k)
	}
	var s string
	q := make([]byte, 0, len(k)+2)
	q = append(append(append(q, '"'), k...), '"')
	if json.Unmarshal(q, &s) != nil {
		return string(k)
	}
	return s
}

func propertyType(raw json.RawMessage) (property, error) {
	t, jsonText, err := fieldType(raw)
	return property{Type: t, JSON: jsonText}, err
}

// fieldType maps one JSON schema to an Iceberg type, recursively: an object with declared
// properties becomes a struct of them (in document order, names mapped as at the top level), an
// array whose items map to a type a list of it; untyped values, unions, objects without
// properties and arrays of untyped items are JSON text (jsonText true). Nested field IDs are
// placeholders (0): a table schema numbers them (numberFields).
func fieldType(raw json.RawMessage) (t iceberg.Type, jsonText bool, err error) {
	text := iceberg.Type(iceberg.PrimitiveTypes.String)
	if len(raw) == 0 || string(raw) == "true" || string(raw) == "{}" {
		return text, true, nil
	}
	var s jsonSchema
	if err := json.Unmarshal(raw, &s); err != nil {
		// A boolean false or other non-object schema: nothing can be typed.
		return text, true, nil
	}
	if len(s.OneOf) > 0 || len(s.AnyOf) > 0 {
		return text, true, nil
	}
	var types []string
	if len(s.Type) > 0 {
		var one string
		if json.Unmarshal(s.Type, &one) == nil {
			types = []string{one}
		} else if err := json.Unmarshal(s.Type, &types); err != nil {
			return nil, false, fmt.Errorf("type is neither a string nor a list of strings: %s", s.Type)
		}
	}
	types = slices.DeleteFunc(types, func(t string) bool { return t == "null" })
	if len(types) != 1 {
		return text, true, nil
	}
	switch types[0] {
	case "string":
		switch {
		case s.Format == "date" || s.AirbyteType == "date":
			return iceberg.PrimitiveTypes.Date, false, nil
		case s.AirbyteType == "timestamp_without_timezone":
			return iceberg.PrimitiveTypes.Timestamp, false, nil
		case s.Format == "date-time" || s.AirbyteType == "timestamp_with_timezone":
			return iceberg.PrimitiveTypes.TimestampTz, false, nil
		}
		return iceberg.PrimitiveTypes.String, false, nil
	case "boolean":
		return iceberg.PrimitiveTypes.Bool, false, nil
	case "integer":
		return iceberg.PrimitiveTypes.Int64, false, nil
	case "number":
		if s.AirbyteType == "integer" {
			return iceberg.PrimitiveTypes.Int64, false, nil
		}
		return iceberg.PrimitiveTypes.Float64, false, nil
	case "object":
		st, err := structType(raw, s.Properties)
		if err != nil || st == nil {
			return text, true, err
		}
		return st, false, nil
	case "array":
		if len(s.Items) == 0 {
			return text, true, nil
		}
		elem, elemJSON, err := fieldType(s.Items)
		if err != nil {
			return nil, false, fmt.Errorf("items: %w", err)
		}
		if elemJSON {
			return text, true, nil
		}
		return &iceberg.ListType{Element: elem}, false, nil
	}
	return text, true, nil
}

// structType is the struct of an object schema's properties; nil when it declares none.
func structType(raw json.RawMessage, props map[string]json.RawMessage) (*iceberg.StructType, error) {
	names, err := objectKeys(raw, "properties")
	if err != nil || len(names) == 0 {
		return nil, err
	}
	cols, err := assignNames(names, nil, nil)
	if err != nil {
		return nil, err
	}
	st := &iceberg.StructType{FieldList: make([]iceberg.NestedField, 0, len(names))}
	for _, name := range names {
		t, jsonText, err := fieldType(props[name])
		if err != nil {
			return nil, fmt.Errorf("property %q: %w", name, err)
		}
		st.FieldList = append(st.FieldList, iceberg.NestedField{Name: cols[name], Type: t, Doc: fieldDoc(jsonText, name, cols[name])})
	}
	return st, nil
}

// numberFields gives the nested fields of t the IDs next, next+1, … (depth first) and returns the
// next free ID. Iceberg renumbers them when the table is created; they only need to be unique.
func numberFields(t iceberg.Type, next int) (iceberg.Type, int) {
	switch x := t.(type) {
	case *iceberg.StructType:
		out := &iceberg.StructType{FieldList: slices.Clone(x.FieldList)}
		for i := range out.FieldList {
			out.FieldList[i].ID = next
			next++
		}
		for i := range out.FieldList {
			out.FieldList[i].Type, next = numberFields(out.FieldList[i].Type, next)
		}
		return out, next
	case *iceberg.ListType:
		out := &iceberg.ListType{ElementID: next, ElementRequired: x.ElementRequired}
		out.Element, next = numberFields(x.Element, next+1)
		return out, next
	}
	return t, next
}

// metaFields are the four columns every table starts with. They are required: every row has them.
func metaFields() []iceberg.NestedField {
	return []iceberg.NestedField{
		{ID: 1, Name: colRawID, Type: iceberg.PrimitiveTypes.String, Required: true},
		{ID: 2, Name: colExtractedAt, Type: iceberg.PrimitiveTypes.TimestampTz, Required: true},
		{ID: 3, Name: colGenerationID, Type: iceberg.PrimitiveTypes.Int64, Required: true},
		{ID: 4, Name: colMeta, Type: iceberg.PrimitiveTypes.String, Required: true,
			Doc: `JSON {"sync_id":…,"changes":[{"field","change","reason"}]}`},
	}
}

// newTableSchema is the schema of a table created for a stream. Primary key columns are required
// identifier fields when their type allows it (Iceberg forbids float identifiers).
func newTableSchema(props []property, pk []string) *iceberg.Schema {
	fields := metaFields()
	var ids []int
	next := len(fields) + len(props) + 1 // nested fields are numbered after the top-level ones
	for _, p := range props {
		f := iceberg.NestedField{ID: len(fields) + 1, Name: p.Column, Type: p.Type, Doc: fieldDoc(p.JSON, p.Name, p.Column)}
		f.Type, next = numberFields(p.Type, next)
		if slices.Contains(pk, p.Name) && identifierType(p) {
			f.Required = true
			ids = append(ids, f.ID)
		}
		fields = append(fields, f)
	}
	return iceberg.NewSchemaWithIdentifiers(0, ids, fields...)
}

func identifierType(p property) bool {
	if p.JSON {
		return false
	}
	switch p.Type.(type) {
	case iceberg.Float32Type, iceberg.Float64Type, *iceberg.StructType, *iceberg.ListType, *iceberg.MapType:
		return false
	}
	return true
}

// allowedWidening reports whether Iceberg lets a column of type from become type to.
func allowedWidening(from, to iceberg.Type) bool {
	switch from.(type) {
	case iceberg.Int32Type:
		_, ok := to.(iceberg.Int64Type)
		return ok
	case iceberg.Float32Type:
		_, ok := to.(iceberg.Float64Type)
		return ok
	}
	return false
}
