package airbyte

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// UnknownField is a config key that the connector's spec does not define, so the connector
// ignores it: most often a misspelling.
type UnknownField struct {
	Path    string // dotted path from the config root, e.g. "worksapce_id" or "catalog.urii"
	Nearest string // the nearest field the spec defines (dotted path), "" when it defines none
}

func (u UnknownField) String() string {
	if u.Nearest == "" {
		return fmt.Sprintf("config field %q is not one this connector knows; it is ignored", u.Path)
	}
	return fmt.Sprintf("config field %q is not one this connector knows; it is ignored (nearest known field: %q)", u.Path, u.Nearest)
}

// UnknownFields returns the keys of config, at any depth, that the spec's properties do not
// define, in the config's order. An object whose schema has oneOf variants knows the properties
// of every variant; an object schema without properties (free-form) accepts any key.
func UnknownFields(spec, config json.RawMessage) []UnknownField {
	var schema map[string]any
	if json.Unmarshal(spec, &schema) != nil {
		return nil
	}
	var out []UnknownField
	known := knownPaths([]map[string]any{schema}, "")
	walkUnknown([]map[string]any{schema}, config, "", known, &out)
	return out
}

// propertiesOf returns the properties a set of schema nodes define (their oneOf variants
// included) and whether any of them restricts keys at all.
func propertiesOf(nodes []map[string]any) (map[string][]map[string]any, bool) {
	props := map[string][]map[string]any{}
	defined := false
	var add func(n map[string]any)
	add = func(n map[string]any) {
		if p, ok := n["properties"].(map[string]any); ok {
			defined = true
			for k, v := range p {
				if m, ok := v.(map[string]any); ok {
					props[k] = append(props[k], m)
				}
			}
		}
		if variants, ok := n["oneOf"].([]any); ok {
			for _, v := range variants {
				if m, ok := v.(map[string]any); ok {
					add(m)
				}
			}
		}
	}
	for _, n := range nodes {
		add(n)
	}
	return props, defined
}

// knownPaths lists every dotted path the schema nodes define, for suggestions across levels.
func knownPaths(nodes []map[string]any, prefix string) []string {
	props, _ := propertiesOf(nodes)
	var out []string
	for _, k := range slices.Sorted(maps.Keys(props)) {
		out = append(out, prefix+k)
		out = append(out, knownPaths(props[k], prefix+k+".")...)
	}
	return out
}

func walkUnknown(nodes []map[string]any, raw json.RawMessage, prefix string, all []string, out *[]UnknownField) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return
	}
	props, defined := propertiesOf(nodes)
	if !defined {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // {
		return
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return
		}
		if sub, ok := props[key]; ok {
			walkUnknown(sub, val, prefix+key+".", all, out)
			continue
		}
		*out = append(*out, UnknownField{Path: prefix + key, Nearest: nearestField(prefix, key, slices.Sorted(maps.Keys(props)), all)})
	}
}

// nearestField picks the suggestion for an unknown key: a field of the same name elsewhere in
// the spec (a key at the wrong level), else the closest name at its own level.
func nearestField(prefix, key string, siblings, all []string) string {
	for _, p := range all {
		if p == key || strings.HasSuffix(p, "."+key) {
			return p
		}
	}
	best := nearest(key, siblings)
	if best == "" {
		return ""
	}
	return prefix + best
}

// nearest returns the candidate closest to s by edit distance (adjacent transpositions count as
// one edit), ties going to the first; "" when there are no candidates.
func nearest(s string, candidates []string) string {
	best, bestD := "", -1
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), strings.ToLower(c)); bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// suggest returns ` (did you mean "x"?)` when a candidate is close to s, else "".
func suggest(s string, candidates []string) string {
	if best := nearest(s, candidates); best != "" && editDistance(s, best) <= max(2, len(s)/3) {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

func suggestFlag(s string, candidates []string) string {
	if best := nearest(s, candidates); best != "" && editDistance(s, best) <= max(2, len(s)/3) {
		return fmt.Sprintf(" (did you mean --%s?)", best)
	}
	return ""
}

// editDistance is the optimal-string-alignment distance between a and b (in bytes).
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
