package airbyte

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Position returns the 1-based line and column of byte offset off in b.
func Position(b []byte, off int64) (line, col int) {
	off = max(0, min(off, int64(len(b))))
	before := b[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// DescribeJSONError rewrites an encoding/json error about data so that it says where: a syntax
// error or a value of the wrong type gets the line and column of the problem. Other errors are
// returned as they are.
func DescribeJSONError(data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		// The offset is just past the offending byte; point at the byte itself.
		at := max(se.Offset-1, 0)
		line, col := Position(data, at)
		hint := ""
		before := bytes.TrimRight(data[:min(at, int64(len(data)))], " \t\r\n")
		switch {
		case strings.Contains(se.Error(), "unexpected end"):
			hint = " (is the text cut short?)"
		case at < int64(len(data)) && (data[at] == '}' || data[at] == ']') && bytes.HasSuffix(before, []byte(",")):
			hint = " (JSON allows no comma before a closing bracket)"
		}
		return fmt.Errorf("line %d, column %d: %v%s", line, col, se, hint)
	case errors.As(err, &te):
		line, col := Position(data, max(te.Offset-1, 0)) // the offset is just past the value
		where := te.Field
		if where == "" {
			where = "the top level"
		}
		return fmt.Errorf("line %d, column %d: %s holds a JSON %s where %s is expected", line, col, where, te.Value, te.Type)
	}
	return err
}

// ReadConfigFile reads a connector config file for a helper command: a config_error names the
// file and, for JSON that does not parse, the line and column of the problem.
func ReadConfigFile(path string) (json.RawMessage, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, ConfigErrorf("cannot read the config file %s: %v", path, err)
	}
	if err := jsonObjectError(b); err != nil {
		return nil, ConfigErrorf("the config file %s %v", path, err)
	}
	return bytes.TrimSpace(b), nil
}

// jsonObjectError returns nil when b is one JSON object, else an error that completes "the file
// X ..." and, for a syntax error, says where.
func jsonObjectError(b []byte) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return errors.New("is empty; it must hold a JSON object")
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("is not valid JSON: %v", DescribeJSONError(b, err))
	}
	if _, ok := v.(map[string]any); !ok {
		return fmt.Errorf("holds a JSON %s, not an object", jsonKind(v))
	}
	return nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	}
	return "object"
}
