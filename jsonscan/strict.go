package jsonscan

import "fmt"

// maxDepth is encoding/json's nesting limit; deeper input is rejected as it is there.
const maxDepth = 10000

// SyntaxError is a strict scan's verdict on input that is not JSON.
type SyntaxError struct {
	Offset int // byte offset of the problem
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at offset %d: %s", e.Offset, e.Msg)
}

func syntaxErr(b []byte, i int, what string) error {
	if i >= len(b) {
		return &SyntaxError{Offset: i, Msg: "unexpected end of input " + what}
	}
	return &SyntaxError{Offset: i, Msg: fmt.Sprintf("unexpected %q %s", b[i], what)}
}

// plain marks the string bytes that need no attention: not a quote, a backslash or a control
// character. A table lookup keeps the common run of ordinary characters to one branch a byte.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

var hex = func() (t [256]bool) {
	for _, c := range "0123456789abcdefABCDEF" {
		t[c] = true
	}
	return t
}()

// Validate reports whether b is exactly one JSON value, optionally surrounded by whitespace,
// with the verdict of encoding/json.Valid (bytes that are not UTF-8 are accepted inside strings,
// as there). The error is a *SyntaxError.
func Validate(b []byte) error {
	end, err := scanValue(b, skipSpace(b, 0))
	if err != nil {
		return err
	}
	if i := skipSpace(b, end); i < len(b) {
		return syntaxErr(b, i, "after the top-level value")
	}
	return nil
}

// AppendElements validates b strictly (as Validate does) and appends each element of the
// top-level array b to dst, so a body is checked and split in one pass. Valid JSON that is not
// an array returns ErrNotArray; invalid JSON a *SyntaxError. On error dst may hold some
// elements.
func AppendElements(dst [][]byte, b []byte) ([][]byte, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		if err := Validate(b); err != nil {
			return dst, err
		}
		return dst, ErrNotArray
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		i++
	} else {
		for {
			end, err := scanValue(b, i)
			if err != nil {
				return dst, err
			}
			dst = append(dst, b[i:end])
			i = skipSpace(b, end)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
				continue
			}
			if i < len(b) && b[i] == ']' {
				i++
				break
			}
			return dst, syntaxErr(b, i, "after an array element")
		}
	}
	if i = skipSpace(b, i); i < len(b) {
		return dst, syntaxErr(b, i, "after the top-level value")
	}
	return dst, nil
}

// scanValue checks the value starting at b[i] (no leading space) and returns the index just
// past it. Containers are tracked on an explicit stack rather than by recursion, so deep input
// costs no goroutine stack growth.
func scanValue(b []byte, i int) (int, error) {
	var buf [64]byte
	stack := buf[:0] // '{' or '[' per open container
	var err error
	for {
		// A value starts at b[i].
		if i >= len(b) {
			return 0, syntaxErr(b, i, "where a value should start")
		}
		switch c := b[i]; c {
		case '"':
			if i, err = scanString(b, i); err != nil {
				return 0, err
			}
		case '{', '[':
			if len(stack) >= maxDepth {
				return 0, &SyntaxError{Offset: i, Msg: fmt.Sprintf("nesting deeper than %d", maxDepth)}
			}
			i = skipSpace(b, i+1)
			if c == '{' {
				if i < len(b) && b[i] == '}' {
					i++
					break
				}
				if i, err = scanKey(b, i); err != nil {
					return 0, err
				}
			} else if i < len(b) && b[i] == ']' {
				i++
				break
			}
			stack = append(stack, c)
			continue
		case 't':
			if i, err = scanLiteral(b, i, "true"); err != nil {
				return 0, err
			}
		case 'f':
			if i, err = scanLiteral(b, i, "false"); err != nil {
				return 0, err
			}
		case 'n':
			if i, err = scanLiteral(b, i, "null"); err != nil {
				return 0, err
			}
		default:
			if i, err = scanNumber(b, i); err != nil {
				return 0, err
			}
		}
		// A value ended at i: close containers until one continues with another value.
		for {
			if len(stack) == 0 {
				return i, nil
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return 0, syntaxErr(b, i, "inside an unclosed object or array")
			}
			top := stack[len(stack)-1]
			if b[i] == ',' {
				i = skipSpace(b, i+1)
				if top == '{' {
					if i, err = scanKey(b, i); err != nil {
						return 0, err
					}
				}
				break
			}
			if top == '{' && b[i] == '}' || top == '[' && b[i] == ']' {
				i++
				stack = stack[:len(stack)-1]
				continue
			}
			if top == '{' {
				return 0, syntaxErr(b, i, "after an object member value (want ',' or '}')")
			}
			return 0, syntaxErr(b, i, "after an array element (want ',' or ']')")
		}
	}
}

// scanKey checks `"key" :` at b[i] and returns the index of the value after the colon.
func scanKey(b []byte, i int) (int, error) {
	if i >= len(b) || b[i] != '"' {
		return 0, syntaxErr(b, i, "where an object key should start")
	}
	i, err := scanString(b, i)
	if err != nil {
		return 0, err
	}
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != ':' {
		return 0, syntaxErr(b, i, "after an object key (want ':')")
	}
	return skipSpace(b, i+1), nil
}

// scanString checks the string starting at b[i] == '"' and returns the index just past it.
func scanString(b []byte, i int) (int, error) {
	start := i
	for i++; i < len(b); {
		c := b[i]
		if plain[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			if i+1 >= len(b) {
				return 0, syntaxErr(b, i+1, "in an escape sequence")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for k := i + 2; k < i+6; k++ {
					if k >= len(b) || !hex[b[k]] {
						return 0, syntaxErr(b, k, "in a \\u escape (want 4 hex digits)")
					}
				}
				i += 6
			default:
				return 0, syntaxErr(b, i+1, "after a backslash in a string")
			}
		default:
			return 0, syntaxErr(b, i, "(control character) in a string")
		}
	}
	return 0, &SyntaxError{Offset: len(b), Msg: fmt.Sprintf("unexpected end of input in the string starting at offset %d", start)}
}

func scanLiteral(b []byte, i int, lit string) (int, error) {
	for k := 0; k < len(lit); k++ {
		if i+k >= len(b) || b[i+k] != lit[k] {
			return 0, syntaxErr(b, i+k, "in literal "+lit)
		}
	}
	return i + len(lit), nil
}

// scanNumber checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at b[i]. What follows is the
// caller's to judge, which rejects "01" and "1x" as encoding/json does.
func scanNumber(b []byte, i int) (int, error) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i+1)
	default:
		return 0, syntaxErr(b, i, "where a value should start")
	}
	if i < len(b) && b[i] == '.' {
		if i+1 >= len(b) || b[i+1] < '0' || b[i+1] > '9' {
			return 0, syntaxErr(b, i+1, "after a decimal point")
		}
		i = digits(b, i+1)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return 0, syntaxErr(b, i, "in an exponent")
		}
		i = digits(b, i)
	}
	return i, nil
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}
