package airbyte

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// LineTooLongError is an input line over the bound of ReadLinesMax. Type and Stream are read from
// the line as it streams past ("" when it does not say).
type LineTooLongError struct {
	Line   int
	Size   int64 // the line's length, to its newline or the end of input
	Max    int
	Type   string
	Stream StreamDescriptor
}

func (e *LineTooLongError) Error() string {
	what := "a message"
	switch {
	case e.Type == string(TypeRecord) && e.Stream.Name != "":
		what = fmt.Sprintf("a RECORD of stream %s", e.Stream)
	case e.Type != "":
		what = "a " + e.Type + " message"
	}
	return fmt.Sprintf("input line %d (%s) is %d bytes long, over the limit of %d bytes for one input line", e.Line, what, e.Size, e.Max)
}

// tooLong describes line n, of which read holds what was read so far; unless complete, it reads
// the rest from br without keeping it.
func tooLong(br *bufio.Reader, n, maxLen int, read [][]byte, complete bool) error {
	e := &LineTooLongError{Line: n, Max: maxLen}
	var sn sniffer
	var last []byte
	for _, p := range read {
		sn.feed(p)
		e.Size += int64(len(p))
		last = p
	}
	for !complete {
		chunk, err := br.ReadSlice('\n')
		sn.feed(chunk)
		e.Size += int64(len(chunk))
		last = chunk
		switch {
		case err == bufio.ErrBufferFull:
		case err == nil || err == io.EOF:
			complete = true
		default:
			return fmt.Errorf("reading input line %d: %w", n, err)
		}
	}
	e.Size -= int64(len(last) - len(bytes.TrimRight(last, "\r\n")))
	e.Type = unquote(sn.typ)
	e.Stream = StreamDescriptor{Name: unquote(sn.stream), Namespace: unquote(sn.namespace)}
	return e
}

func unquote(raw []byte) string {
	var s string
	if json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &s) != nil {
		return string(raw)
	}
	return s
}

// sniffer picks type, record.stream and record.namespace out of an Airbyte message that streams
// past in pieces, without keeping it: a line too long to hold can still be named.
type sniffer struct {
	depth     int
	inStr     bool
	esc       bool
	isKey     bool
	open      [3]byte // '{' or '[' at depths 1 and 2
	expectKey [3]bool
	key       [3]string
	buf       []byte // the current string at depth 1 or 2, up to 1 KiB
	typ       []byte
	stream    []byte
	namespace []byte
}

func (s *sniffer) feed(p []byte) {
	for _, c := range p {
		if s.inStr {
			switch {
			case s.esc:
				s.esc = false
			case c == '\\':
				s.esc = true
			case c == '"':
				s.inStr = false
				s.endString()
				continue
			}
			if s.depth <= 2 && len(s.buf) < 1024 {
				s.buf = append(s.buf, c)
			}
			continue
		}
		switch c {
		case '"':
			s.inStr, s.buf = true, s.buf[:0]
			s.isKey = s.depth <= 2 && s.depth > 0 && s.open[s.depth] == '{' && s.expectKey[s.depth]
		case '{', '[':
			s.depth++
			if s.depth <= 2 {
				s.open[s.depth], s.expectKey[s.depth], s.key[s.depth] = c, c == '{', ""
			}
		case '}', ']':
			s.depth--
		case ':':
			if s.depth > 0 && s.depth <= 2 {
				s.expectKey[s.depth] = false
			}
		case ',':
			if s.depth > 0 && s.depth <= 2 && s.open[s.depth] == '{' {
				s.expectKey[s.depth] = true
			}
		}
	}
}

func (s *sniffer) endString() {
	if s.depth < 1 || s.depth > 2 {
		return
	}
	if s.isKey {
		s.key[s.depth] = string(s.buf)
		return
	}
	switch {
	case s.depth == 1 && s.key[1] == "type":
		s.typ = append(s.typ[:0], s.buf...)
	case s.depth == 2 && s.key[1] == "record" && s.key[2] == "stream":
		s.stream = append(s.stream[:0], s.buf...)
	case s.depth == 2 && s.key[1] == "record" && s.key[2] == "namespace":
		s.namespace = append(s.namespace[:0], s.buf...)
	}
}
