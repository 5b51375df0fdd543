// Package jsonscan walks JSON text without building values. Both connectors move records as
// byte slices (HTTP body to stdout in the source, stdin to Arrow columns in the destination);
// decoding every record into maps and encoding it again would cost more than the rest of either
// path together.
//
// Two kinds of function live here:
//
//   - Structural walks (SkipValue, EachElement, EachField, Member, Path, String, AddMissing)
//     track only strings and brackets. They are fast because they assume syntactically valid
//     input; on invalid input they may return garbage spans, but they never read out of bounds
//     and they report truncated strings and containers as errors.
//   - Strict scans (Validate, AppendElements) check the full JSON grammar, with the same verdict
//     as encoding/json.Valid, so that a caller can validate and split a body in one pass.
//
// Keys are compared and handed out in their raw (escaped) form; callers that may see escaped
// keys unescape them themselves.
package jsonscan

import (
	"errors"
	"fmt"
)

// ErrNotArray is returned when a value that must be an array is another kind of value.
var ErrNotArray = errors.New("JSON value is not an array")

// ErrNotObject is returned when a value that must be an object is another kind of value.
var ErrNotObject = errors.New("JSON value is not an object")

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at b[i] == '"'.
func skipString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("unterminated JSON string starting at offset %d", i)
}

// SkipValue returns the index just past the JSON value starting at b[i] (no leading space).
// Only strings and brackets are tracked; see the package comment.
func SkipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, fmt.Errorf("missing JSON value at offset %d (end of input)", i)
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, fmt.Errorf("unterminated JSON object or array starting at offset %d", i)
	default:
		j := i
		for j < len(b) {
			c := b[j]
			if c == ',' || c == ']' || c == '}' || isSpace(c) {
				break
			}
			j++
		}
		if j == i {
			return 0, fmt.Errorf("unexpected %q where a JSON value should start at offset %d", b[i], i)
		}
		return j, nil
	}
}

// EachElement calls fn with every element of the JSON array b, in order, and stops at the first
// error fn returns. It returns ErrNotArray when b is not an array.
func EachElement(b []byte, fn func(elem []byte) error) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return ErrNotArray
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return nil
	}
	for i < len(b) {
		end, err := SkipValue(b, i)
		if err != nil {
			return err
		}
		if err := fn(b[i:end]); err != nil {
			return err
		}
		i = skipSpace(b, end)
		if i >= len(b) {
			break
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			return nil
		default:
			return fmt.Errorf("unexpected %q after a JSON array element at offset %d", b[i], i)
		}
	}
	return errors.New("unterminated JSON array")
}

// EachField calls fn for every member of the JSON object obj with the raw key (without quotes,
// escapes left as they are) and the raw value. It returns ErrNotObject when obj is not an
// object. fn cannot stop the walk: the callers read every member anyway, and a per-member error
// check costs on the destination's hot path.
func EachField(obj []byte, fn func(key, val []byte)) error {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return ErrNotObject
	}
	i = skipSpace(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return nil
	}
	for i < len(obj) {
		if obj[i] != '"' {
			return fmt.Errorf("expected a JSON object key at offset %d, found %q", i, obj[i])
		}
		end, err := skipString(obj, i)
		if err != nil {
			return err
		}
		key := obj[i+1 : end-1]
		i = skipSpace(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return fmt.Errorf("expected ':' after JSON object key %q at offset %d", key, i)
		}
		i = skipSpace(obj, i+1)
		vend, err := SkipValue(obj, i)
		if err != nil {
			return err
		}
		fn(key, obj[i:vend])
		i = skipSpace(obj, vend)
		if i >= len(obj) {
			break
		}
		if obj[i] == '}' {
			return nil
		}
		if obj[i] != ',' {
			return fmt.Errorf("expected ',' or '}' after the value of JSON object key %q at offset %d", key, i)
		}
		i = skipSpace(obj, i+1)
	}
	return errors.New("unterminated JSON object")
}

// Member returns the raw value of the top-level key of object obj, if present. It stops at the
// key, so looking up an early key of a large record is cheap. Keys are compared in their raw
// (escaped) form, which is exact for plain ASCII keys. Malformed input reads as absent.
func Member(obj []byte, key string) ([]byte, bool) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, false
	}
	i = skipSpace(obj, i+1)
	for i < len(obj) && obj[i] == '"' {
		kEnd, err := skipString(obj, i)
		if err != nil {
			return nil, false
		}
		k := obj[i+1 : kEnd-1]
		i = skipSpace(obj, kEnd)
		if i >= len(obj) || obj[i] != ':' {
			return nil, false
		}
		i = skipSpace(obj, i+1)
		vEnd, err := SkipValue(obj, i)
		if err != nil {
			return nil, false
		}
		if string(k) == key {
			return obj[i:vEnd], true
		}
		i = skipSpace(obj, vEnd)
		if i < len(obj) && obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
	}
	return nil, false
}

// Path follows keys through nested objects, as Member does for one key.
func Path(obj []byte, keys ...string) ([]byte, bool) {
	for _, k := range keys {
		v, ok := Member(obj, k)
		if !ok {
			return nil, false
		}
		obj = v
	}
	return obj, true
}

// String returns the content of a JSON string without escapes (ids, instants). A string with
// escapes or any other value reads as absent, so callers fall back to a slower path or skip
// their extra handling.
func String(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	s := v[1 : len(v)-1]
	for _, c := range s {
		if c == '\\' {
			return "", false
		}
	}
	return string(s), true
}

// Field is a top-level key (plain, needing no escapes) and its JSON-encoded value.
type Field struct {
	Key   string
	Value []byte
}

// AddMissing appends obj to dst with every field whose key obj lacks inserted at the front. Keys
// already present keep their value, even null. A non-object obj is appended unchanged.
func AddMissing(dst, obj []byte, fields []Field) []byte {
	start := skipSpace(obj, 0)
	if start >= len(obj) || obj[start] != '{' {
		return append(dst, obj...)
	}
	// Records get at most a few parent keys; the array keeps this allocation-free.
	var add [4]Field
	missing := add[:0]
	for _, f := range fields {
		if _, ok := Member(obj, f.Key); !ok {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		return append(dst, obj...)
	}
	dst = append(dst, '{')
	for _, f := range missing {
		dst = append(dst, '"')
		dst = append(dst, f.Key...)
		dst = append(dst, '"', ':')
		dst = append(dst, f.Value...)
		dst = append(dst, ',')
	}
	rest := skipSpace(obj, start+1)
	if rest < len(obj) && obj[rest] == '}' {
		dst = dst[:len(dst)-1] // the object was empty: no member follows the comma
	}
	return append(dst, obj[rest:]...)
}
