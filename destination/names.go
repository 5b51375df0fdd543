package destination

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Names. Airbyte stream, namespace and property names are arbitrary strings; Iceberg catalogs,
// object stores and readers are not so forgiving (a space or a '%' in a table name ends up
// percent-encoded in some paths and literal in others, an empty column name makes a table that
// iceberg-go cannot load, Snowflake folds unquoted names to upper case). So every name is mapped,
// at every nesting level alike, to a safe name: ASCII letters, digits and '_', not starting with a
// digit, at most maxNameLen bytes. A name that is already safe maps to itself, which keeps every
// existing table and column of a well-named stream as it was. Names that collide after mapping,
// or that differ from another only in case, get a suffix derived from the original name, and a
// column made from a mapped name records the original in its doc, so the mapping of a later sync
// is the same even when new names appear.

const maxNameLen = 128

// spelled transliterates letters that Unicode decomposition does not reduce to ASCII.
var spelled = map[rune]string{
	'ß': "ss", 'ẞ': "SS", 'æ': "ae", 'Æ': "AE", 'œ': "oe", 'Œ': "OE", 'ø': "o", 'Ø': "O",
	'đ': "d", 'Đ': "D", 'ł': "l", 'Ł': "L", 'þ': "th", 'Þ': "TH", 'ð': "d", 'Ð': "D", 'ı': "i",
}

func isASCIIAlnum(r rune) bool {
	return r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
}

// isSafeName reports whether s can be used as it is.
func isSafeName(s string) bool {
	if s == "" || len(s) > maxNameLen || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := rune(s[i]); !isASCIIAlnum(c) && c != '_' {
			return false
		}
	}
	return true
}

// nameHash is a short stable digest of an original name, for suffixes.
func nameHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:4])
}

// safeName maps one name to a safe one: diacritics are dropped (ä → a), a few letters are
// spelled out (ß → ss), every run of other characters becomes one '_', a leading digit gets a
// '_' before it. A name with no letter or digit left (empty, only symbols, or a script without
// a Latin spelling) becomes '_' and a hash of the original; an overlong one is cut and hashed.
func safeName(s string) string {
	if isSafeName(s) {
		return s
	}
	var b strings.Builder
	gap := false
	alnum := false
	for _, r := range norm.NFKD.String(s) {
		var part string
		switch {
		case isASCIIAlnum(r) || r == '_':
			part = string(r)
			alnum = alnum || r != '_'
		case unicode.Is(unicode.Mn, r):
			continue // a combining mark left by the decomposition
		case spelled[r] != "":
			part, alnum = spelled[r], true
		default:
			gap = true
			continue
		}
		if gap {
			b.WriteByte('_')
			gap = false
		}
		b.WriteString(part)
	}
	if gap {
		b.WriteByte('_')
	}
	out := b.String()
	if !alnum {
		return "_" + nameHash(s)
	}
	if out[0] >= '0' && out[0] <= '9' {
		out = "_" + out
	}
	if len(out) > maxNameLen {
		out = out[:maxNameLen-9] + "_" + nameHash(s)
	}
	return out
}

// suffixed is the fallback name of original when its safe name is taken.
func suffixed(name, original string) string {
	if len(name) > maxNameLen-9 {
		name = name[:maxNameLen-9]
	}
	return name + "_" + nameHash(original)
}

// assignNames maps the originals of one scope (the fields of one struct, the tables of one
// namespace), in their order, to unique safe names. existing maps the names already present in
// the scope to the original each was made from (the name itself when nothing was recorded: made
// by an older version or another engine); an original keeps the name it already has. reserved names (the meta columns) belong to no original. Uniqueness is
// case-insensitive. Names that are already safe are placed before mapped ones, so a mapped name
// never takes the name a safe original has or will have.
func assignNames(originals []string, existing map[string]string, reserved []string) (map[string]string, error) {
	taken := map[string]bool{}
	owned := map[string]string{} // original -> existing name
	for _, r := range reserved {
		taken[strings.ToLower(r)] = true
	}
	for name, orig := range existing {
		taken[strings.ToLower(name)] = true
		if _, dup := owned[orig]; !dup || name == orig {
			owned[orig] = name
		}
	}
	out := make(map[string]string, len(originals))
	claim := func(o, name string) bool {
		if taken[strings.ToLower(name)] {
			return false
		}
		taken[strings.ToLower(name)] = true
		out[o] = name
		return true
	}
	for _, o := range originals {
		if name, ok := owned[o]; ok {
			out[o] = name
		}
	}
	for _, o := range originals {
		if _, done := out[o]; !done && isSafeName(o) {
			claim(o, o)
		}
	}
	for _, o := range originals {
		if _, done := out[o]; done {
			continue
		}
		base := safeName(o)
		if !claim(o, base) && !claim(o, suffixed(base, o)) {
			return nil, fmt.Errorf("name %q maps to %q, and both it and %q are taken", o, base, suffixed(base, o))
		}
	}
	return out, nil
}

// Field docs carry two facts a later sync needs: the column holds JSON text (jsonDoc), and the
// original name of a column whose name was mapped.
const originalMarker = "Airbyte name: "

func fieldDoc(jsonText bool, original, column string) string {
	var parts []string
	if jsonText {
		parts = append(parts, jsonDoc)
	}
	if original != column {
		q, _ := json.Marshal(original)
		parts = append(parts, originalMarker+string(q))
	}
	return strings.Join(parts, "; ")
}

func docIsJSON(doc string) bool { return strings.HasPrefix(doc, jsonDoc) }

// docOriginal returns the original name recorded in a field doc.
func docOriginal(doc string) (string, bool) {
	i := strings.Index(doc, originalMarker)
	if i < 0 {
		return "", false
	}
	var s string
	if err := json.NewDecoder(strings.NewReader(doc[i+len(originalMarker):])).Decode(&s); err != nil {
		return "", false
	}
	return s, true
}
