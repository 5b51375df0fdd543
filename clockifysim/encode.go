package clockifysim

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

func mustUnmarshal(b []byte, v any) {
	if err := json.Unmarshal(b, v); err != nil {
		panic(fmt.Sprintf("clockifysim: decoding own %T: %v", v, err))
	}
}

// isoDuration formats seconds the Java way Clockify does: hours do not roll into days (PT26H).
func isoDuration(secs int64) string { return string(appendISODuration(nil, secs)) }

func appendISODuration(dst []byte, secs int64) []byte {
	dst = append(dst, 'P', 'T')
	if secs == 0 {
		return append(dst, '0', 'S')
	}
	h, m, sec := secs/3600, secs/60%60, secs%60
	if h > 0 {
		dst = strconv.AppendInt(dst, h, 10)
		dst = append(dst, 'H')
	}
	if m > 0 {
		dst = strconv.AppendInt(dst, m, 10)
		dst = append(dst, 'M')
	}
	if sec > 0 {
		dst = strconv.AppendInt(dst, sec, 10)
		dst = append(dst, 'S')
	}
	return dst
}

// appendInstant writes an RFC 3339 UTC instant with seconds, without going through time.Format.
func appendInstant(dst []byte, ts int64) []byte {
	t := time.Unix(ts, 0).UTC()
	y, mo, d := t.Date()
	hh, mm, ss := t.Clock()
	dst = append(dst, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(mo)/10), byte('0'+int(mo)%10), '-', byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+hh/10), byte('0'+hh%10), ':', byte('0'+mm/10), byte('0'+mm%10), ':', byte('0'+ss/10), byte('0'+ss%10), 'Z')
	return dst
}

const hexDigits = "0123456789abcdef"

// appendString writes a JSON string with the escapes encoding/json would use for control characters,
// quotes and backslashes (HTML characters are left as they are).
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

var entryTypes = []string{"REGULAR", "REGULAR", "REGULAR", "REGULAR", "REGULAR", "REGULAR", "REGULAR", "BREAK"}

// appendTimeEntry encodes entry i of user u (0 = oldest). Everything but the explicit interval is a
// function of (seed, workspace, user, i).
func (s *Server) appendTimeEntry(dst []byte, w *workspace, u *wsUser, i int, explicit []explicitEntry) []byte {
	owner := uint32(w.idx)<<16 | uint32(u.idx)
	h := hash(s.seed, uint64(kindTimeEntry), uint64(owner), uint64(i), 0)
	var start, end int64
	if i < u.n {
		start = u.genStart(i)
		d := u.maxDur/2 + int64(h>>52)%(u.maxDur/2+1)
		end = start + max(d, 1)
	} else {
		e := explicit[i-u.n]
		start, end = e.start, e.end
	}
	var idBuf [24]byte
	id := appendOID(idBuf[:0], s.mask, kindTimeEntry, owner, uint32(i), start)

	dst = append(dst, `{"id":"`...)
	dst = append(dst, id...)
	dst = append(dst, `","description":`...)
	dst = appendString(dst, words[h%uint64(len(words))])
	dst = append(dst, `,"userId":"`...)
	dst = append(dst, u.id...)
	dst = append(dst, `","workspaceId":"`...)
	dst = append(dst, w.id...)
	dst = append(dst, `","projectId":`...)
	pi := -1
	if len(w.projects) > 0 && (h>>8)%10 != 0 {
		pi = int((h >> 12) % uint64(len(w.projects)))
		dst = append(dst, '"')
		dst = append(dst, w.projects[pi].id...)
		dst = append(dst, '"')
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"taskId":`...)
	if pi >= 0 && len(w.tasks[pi]) > 0 && (h>>20)%3 != 0 {
		t := w.tasks[pi][int((h>>24)%uint64(len(w.tasks[pi])))]
		dst = append(dst, '"')
		dst = append(dst, t.id...)
		dst = append(dst, '"')
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"tagIds":`...)
	switch k := (h >> 32) % 4; {
	case k == 0:
		dst = append(dst, "null"...)
	case k == 1 || len(w.tagIDs) == 0:
		dst = append(dst, "[]"...)
	default:
		a := int((h >> 34) % uint64(len(w.tagIDs)))
		dst = append(dst, `["`...)
		dst = append(dst, w.tagIDs[a]...)
		if b := int((h >> 40) % uint64(len(w.tagIDs))); k == 3 && b != a {
			dst = append(dst, `","`...)
			dst = append(dst, w.tagIDs[b]...)
		}
		dst = append(dst, `"]`...)
	}
	if (h>>36)&1 == 0 {
		dst = append(dst, `,"billable":true`...)
	} else {
		dst = append(dst, `,"billable":false`...)
	}
	if (h>>37)%16 == 0 {
		dst = append(dst, `,"isLocked":true`...)
	} else {
		dst = append(dst, `,"isLocked":false`...)
	}
	dst = append(dst, `,"kioskId":null,"type":"`...)
	dst = append(dst, entryTypes[(h>>41)%uint64(len(entryTypes))]...)
	dst = append(dst, `","timeInterval":{"start":"`...)
	dst = appendInstant(dst, start)
	if end < 0 {
		dst = append(dst, `","end":null,"duration":null}`...)
	} else {
		dst = append(dst, `","end":"`...)
		dst = appendInstant(dst, end)
		dst = append(dst, `","duration":"`...)
		dst = appendISODuration(dst, end-start)
		dst = append(dst, `"}`...)
	}
	dst = append(dst, `,"customFieldValues":[`...)
	if w.field != nil && (h>>44)%4 == 0 {
		dst = append(dst, `{"customFieldId":"`...)
		dst = append(dst, w.field.id...)
		dst = append(dst, `","timeEntryId":"`...)
		dst = append(dst, id...)
		dst = append(dst, `","value":`...)
		dst = appendString(dst, w.field.values[(h>>46)%uint64(len(w.field.values))])
		dst = append(dst, `,"name":`...)
		dst = appendString(dst, w.field.name)
		dst = append(dst, `,"type":"WORKSPACE"}`...)
	}
	dst = append(dst, `],"hourlyRate":`...)
	if (h>>48)%5 == 0 {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, `{"amount":`...)
		dst = strconv.AppendInt(dst, int64((h>>50)%100+10)*100, 10)
		dst = append(dst, `,"currency":"USD"}`...)
	}
	dst = append(dst, `,"costRate":null}`...)
	return dst
}

// timeEntryID is the id appendTimeEntry gives entry i of u.
func (s *Server) timeEntryID(w *workspace, u *wsUser, i int, explicit []explicitEntry) string {
	start := int64(0)
	if i < u.n {
		start = u.genStart(i)
	} else {
		start = explicit[i-u.n].start
	}
	return oid(s.mask, kindTimeEntry, uint32(w.idx)<<16|uint32(u.idx), uint32(i), start)
}
