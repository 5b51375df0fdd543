package airbyte

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// A line over the bound stops the reading with an error giving its number, its size and, read as
// it streams past, its type and stream, wherever the record puts them; lines before it are read,
// and lines at the bound pass, whether shorter or longer than the reader's buffer.
func TestReadLinesMax(t *testing.T) {
	const buf = 1 << 20
	for _, c := range []struct {
		name    string
		max     int
		line    string // the third line
		want    string // "" when the line passes
		wantLen int64
	}{
		{"short, at the bound", 100, strings.Repeat("x", 100), "", 0},
		{"short, over", 100, `{"type":"RECORD","record":{"stream":"a\"b","data":{"v":"` + strings.Repeat("x", 100) + `"}}}`, `RECORD of stream a"b`, 0},
		{"long, at the bound", 3 * buf, strings.Repeat("x", 3*buf), "", 0},
		{"long, over, stream after the data", 2 * buf, `{"record":{"data":{"stream":"not this","v":"` + strings.Repeat("x", 3*buf) + `"},"namespace":"ns","stream":"big"},"type":"RECORD"}`, "RECORD of stream ns.big", 0},
		{"long, over in the last chunk", 2*buf + 10, `{"type":"STATE","state":"` + strings.Repeat("x", 2*buf) + `"}`, "a STATE message", 0},
		{"long, over, no JSON", 2 * buf, strings.Repeat("y", 5*buf+3), "a message", 5*buf + 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := "first\n\n" + c.line + "\r\nafter\n"
			var got []string
			err := ReadLinesMax(strings.NewReader(in), c.max, func(n int, line []byte) error {
				got = append(got, fmt.Sprintf("%d:%d", n, len(line)))
				return nil
			})
			if c.want == "" {
				if err != nil || len(got) != 3 || got[1] != fmt.Sprintf("3:%d", len(c.line)) {
					t.Fatalf("lines %v, err %v", got, err)
				}
				return
			}
			var e *LineTooLongError
			if !errors.As(err, &e) {
				t.Fatalf("err %v, want a LineTooLongError", err)
			}
			want := int64(len(c.line))
			if c.wantLen > 0 {
				want = c.wantLen
			}
			if e.Line != 3 || e.Size != want || e.Max != c.max || !strings.Contains(e.Error(), c.want) || !strings.Contains(e.Error(), fmt.Sprint(want)) {
				t.Errorf("got %+v (%v), want line 3 of %d bytes, %q", e, e, want, c.want)
			}
			if len(got) != 1 || got[0] != "1:5" {
				t.Errorf("lines read before the long one: %v", got)
			}
		})
	}
}
