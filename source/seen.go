package source

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// seenEntry is a record the source emitted: its key and its cursor value. A partition's seen
// entries of the lookback window go into the state, so the next read can tell which of them are
// gone.
type seenEntry struct {
	id    string
	start time.Time
}

// Packing: a mode byte, then per entry (sorted by start) the start as a uvarint delta from the
// previous one (the first from 0), in seconds or, when any start has a fraction, milliseconds,
// then the id: 12 raw bytes when every id is a 24-hex ObjectId, else a uvarint length and the
// bytes. Base64 without padding. About 19 characters per entry for Clockify's ids and
// whole-second starts, against some 60 as JSON.
const (
	packObjectIDs = 1 << iota
	packMillis
)

func isObjectID(s string) bool {
	if len(s) != 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// packSeen encodes entries for the state; "" when there are none.
func packSeen(entries []seenEntry) string {
	if len(entries) == 0 {
		return ""
	}
	es := slices.Clone(entries)
	slices.SortFunc(es, func(a, b seenEntry) int {
		if c := a.start.Compare(b.start); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	mode := byte(packObjectIDs)
	for _, e := range es {
		if !isObjectID(e.id) {
			mode &^= packObjectIDs
		}
		if e.start.Nanosecond()%int(time.Second) != 0 {
			mode |= packMillis
		}
	}
	unit := func(t time.Time) int64 {
		if mode&packMillis != 0 {
			return t.UnixMilli()
		}
		return t.Unix()
	}
	b := []byte{mode}
	prev := int64(0)
	for i, e := range es {
		v := unit(e.start)
		if i == 0 {
			b = binary.AppendVarint(b, v)
		} else {
			b = binary.AppendUvarint(b, uint64(v-prev))
		}
		prev = v
		if mode&packObjectIDs != 0 {
			b, _ = hex.AppendDecode(b, []byte(e.id))
		} else {
			b = binary.AppendUvarint(b, uint64(len(e.id)))
			b = append(b, e.id...)
		}
	}
	return base64.RawStdEncoding.EncodeToString(b)
}

var errBadSeen = errors.New("malformed packed ids")

// unpackSeen decodes packSeen's output.
func unpackSeen(s string) ([]seenEntry, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("%w: %v", errBadSeen, err)
	}
	mode, b := b[0], b[1:]
	var out []seenEntry
	prev := int64(0)
	for len(b) > 0 {
		var v int64
		if len(out) == 0 {
			x, n := binary.Varint(b)
			if n <= 0 {
				return nil, errBadSeen
			}
			v, b = x, b[n:]
		} else {
			d, n := binary.Uvarint(b)
			if n <= 0 {
				return nil, errBadSeen
			}
			v, b = prev+int64(d), b[n:]
		}
		prev = v
		e := seenEntry{start: time.Unix(v, 0).UTC()}
		if mode&packMillis != 0 {
			e.start = time.UnixMilli(v).UTC()
		}
		if mode&packObjectIDs != 0 {
			if len(b) < 12 {
				return nil, errBadSeen
			}
			e.id, b = hex.EncodeToString(b[:12]), b[12:]
		} else {
			l, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				return nil, errBadSeen
			}
			e.id, b = string(b[n:n+int(l)]), b[n+int(l):]
		}
		out = append(out, e)
	}
	return out, nil
}
