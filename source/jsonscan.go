package source

import (
	"errors"
	"fmt"
)

// These helpers walk JSON text without building values: records pass from the HTTP body to
// stdout as byte slices, so a page costs one validation pass and one copy, not an
// unmarshal/marshal round trip per record. They assume syntactically valid input (the engine
// runs json.Valid on every body first) and only track structure.

var errNotArray = errors.New("JSON value is not an array")

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at b[i] == '"'.
func skipString(b []byte, i int) (int, error) {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1, nil
		}
	}
	return 0, fmt.Errorf("unterminated JSON string at offset %d", i)
}

// skipValue returns the index just past the value starting at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errors.New("unexpected end of JSON")
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				j, err := skipString(b, i)
				if err != nil {
					return 0, err
				}
				i = j
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
			i++
		}
		return 0, errors.New("unterminated JSON object or array")
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
			return 0, fmt.Errorf("unexpected %q at offset %d", b[i], i)
		}
		return j, nil
	}
}

// eachElement calls fn with every element of the JSON array b, in order.
func eachElement(b []byte, fn func(elem []byte) error) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return errNotArray
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return nil
	}
	for i < len(b) {
		end, err := skipValue(b, i)
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
			return fmt.Errorf("unexpected %q after array element at offset %d", b[i], i)
		}
	}
	return errors.New("unterminated JSON array")
}

// member returns the raw value of the top-level key of object b, if present. Keys are compared
// in their raw (escaped) form, which is exact for the plain ASCII keys Clockify uses.
func member(b []byte, key string) ([]byte, bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	i = skipSpace(b, i+1)
	for i < len(b) && b[i] == '"' {
		kEnd, err := skipString(b, i)
		if err != nil {
			return nil, false
		}
		k := b[i+1 : kEnd-1]
		i = skipSpace(b, kEnd)
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		i = skipSpace(b, i+1)
		vEnd, err := skipValue(b, i)
		if err != nil {
			return nil, false
		}
		if string(k) == key {
			return b[i:vEnd], true
		}
		i = skipSpace(b, vEnd)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return nil, false
}

// path follows keys through nested objects.
func path(b []byte, keys ...string) ([]byte, bool) {
	for _, k := range keys {
		v, ok := member(b, k)
		if !ok {
			return nil, false
		}
		b = v
	}
	return b, true
}

// stringValue decodes a JSON string without escapes (ids, instants); anything else is reported
// as absent so callers fall back to their slow path or skip the record's extra handling.
func stringValue(v []byte) (string, bool) {
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

// field is a top-level key and its JSON-encoded value, spliced into records that lack the key.
type field struct {
	key   string
	value []byte
}

// addMissing returns obj with every field whose key obj lacks inserted at the front, appending
// to dst. Keys already present keep their value: the API's own data wins over parent context.
func addMissing(dst, obj []byte, fields []field) []byte {
	start := skipSpace(obj, 0)
	if start >= len(obj) || obj[start] != '{' {
		return append(dst, obj...)
	}
	var add [4]field
	missing := add[:0]
	for _, f := range fields {
		if _, ok := member(obj, f.key); !ok {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		return append(dst, obj...)
	}
	dst = append(dst, '{')
	for _, f := range missing {
		dst = append(dst, '"')
		dst = append(dst, f.key...)
		dst = append(dst, '"', ':')
		dst = append(dst, f.value...)
		dst = append(dst, ',')
	}
	rest := skipSpace(obj, start+1)
	if rest < len(obj) && obj[rest] == '}' {
		dst = dst[:len(dst)-1] // object was empty: drop the trailing comma
	}
	return append(dst, obj[rest:]...)
}
