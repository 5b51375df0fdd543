package clockifysim

import (
	"strconv"
	"time"
	"unicode/utf8"
)

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
