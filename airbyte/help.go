package airbyte

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// helpWidth is where help text wraps.
const helpWidth = 100

// help prints the program's usage: every command with one line, the config fields from the spec
// and where to read more.
func (p *Program) help(w io.Writer) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n\n", p.Name, p.Summary)
	fmt.Fprintf(&b, "Usage:\n  %s <command> [flags]\n  %s help <command>    one command's flags (or: %s <command> --help)\n\n", p.Name, p.Name, p.Name)
	b.WriteString("Commands:\n")
	var rows [][2]string
	for _, c := range p.protocol() {
		rows = append(rows, [2]string{c.name, expand(c.summary, p.Name)})
	}
	for _, c := range p.Commands {
		rows = append(rows, [2]string{c.Name, c.Summary})
	}
	rows = append(rows, [2]string{"help", "this text; `help <command>` for one command"})
	writeRows(&b, rows, "  ")
	b.WriteString("\n")
	p.writeConfig(&b)
	b.WriteString("\nstdout carries only Airbyte protocol messages, one JSON object per line. Progress, warnings and\n" +
		"errors for people go to stderr: a line every few seconds and a summary (--quiet turns it off, and\n" +
		"so does running inside the Airbyte platform, which sets WORKER_JOB_ID).\n")
	p.writeDocs(&b)
	io.WriteString(w, b.String())
}

// commandHelp prints one protocol command's usage, flags and (for commands that read a config)
// the config fields.
func (p *Program) commandHelp(w io.Writer, pc protocolCommand) {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s %s", p.Name, pc.name)
	for _, f := range pc.flags {
		if f == "debug" {
			continue
		}
		arg := strings.TrimSpace(" --" + f + " " + flagDefs[f].arg)
		if slices.Contains(pc.required, f) {
			b.WriteString(" " + arg)
		} else {
			b.WriteString(" [" + arg + "]")
		}
	}
	if pc.name == "write" {
		b.WriteString(" < messages")
	}
	fmt.Fprintf(&b, "\n\n%s\n\nFlags:\n", expand(pc.about, p.Name))
	var rows [][2]string
	for _, f := range pc.flags {
		rows = append(rows, [2]string{strings.TrimSpace("--" + f + " " + flagDefs[f].arg), flagDefs[f].help})
	}
	writeRows(&b, rows, "  ")
	if pc.takesJSON {
		b.WriteString("\n")
		p.writeConfig(&b)
	}
	p.writeDocs(&b)
	io.WriteString(w, b.String())
}

func (p *Program) writeDocs(b *strings.Builder) {
	if p.Docs != "" {
		fmt.Fprintf(b, "\nRead more: %s\n", p.Docs)
	}
}

func (p *Program) writeConfig(b *strings.Builder) {
	fields := SpecFields(p.spec().ConnectionSpecification)
	if len(fields) == 0 {
		return
	}
	b.WriteString("Config (--config <file>, a JSON object; unknown fields are ignored with a warning):\n")
	writeRows(b, fields, "  ")
}

// SpecFields describes the config fields of a connectionSpecification, one row per field in the
// spec's order: the name, then its type, default, whether it is required or secret, and its
// description. Object fields with oneOf variants get one row per variant, named
// by the variant's constant (for example catalog.catalog_type=rest), listing its fields.
func SpecFields(spec json.RawMessage) [][2]string {
	var root map[string]any
	if json.Unmarshal(spec, &root) != nil {
		return nil
	}
	return fieldRows(root, "")
}

func fieldRows(node map[string]any, prefix string) [][2]string {
	props, _ := node["properties"].(map[string]any)
	required := stringSet(node["required"])
	var rows [][2]string
	for _, name := range orderedKeys(props) {
		prop, _ := props[name].(map[string]any)
		var attrs []string
		if t, ok := prop["type"].(string); ok {
			attrs = append(attrs, t)
		}
		text := strings.Join(append(attrs, fieldAttrs(prop, required[name])...), ", ")
		if s := strings.TrimSpace(str(prop["description"])); s != "" {
			text += ". " + s
		}
		rows = append(rows, [2]string{prefix + name, text})
		if variants, ok := prop["oneOf"].([]any); ok {
			rows = append(rows, variantRows(variants, prefix+name)...)
		} else if _, ok := prop["properties"]; ok {
			rows = append(rows, fieldRows(prop, prefix+name+".")...)
		}
	}
	return rows
}

// variantRows lists each oneOf variant as one row: "name.key=value" and its fields.
func variantRows(variants []any, name string) [][2]string {
	var rows [][2]string
	for _, v := range variants {
		vm, _ := v.(map[string]any)
		props, _ := vm["properties"].(map[string]any)
		required := stringSet(vm["required"])
		label := name
		var fields []string
		for _, k := range orderedKeys(props) {
			p, _ := props[k].(map[string]any)
			if c, ok := p["const"]; ok {
				label = fmt.Sprintf("%s.%s=%v", name, k, c)
				continue
			}
			if attrs := fieldAttrs(p, required[k]); len(attrs) > 0 {
				k += " (" + strings.Join(attrs, ", ") + ")"
			}
			fields = append(fields, k)
		}
		text := str(vm["title"])
		if len(fields) > 0 {
			text += ": " + strings.Join(fields, ", ")
		}
		rows = append(rows, [2]string{"  " + label, text})
	}
	return rows
}

// fieldAttrs says whether a field is required or secret and what its default is.
func fieldAttrs(prop map[string]any, required bool) []string {
	var attrs []string
	if required {
		attrs = append(attrs, "required")
	}
	if prop["airbyte_secret"] == true {
		attrs = append(attrs, "secret")
	}
	if d, ok := prop["default"]; ok {
		j, _ := json.Marshal(d)
		attrs = append(attrs, "default "+string(j))
	}
	return attrs
}

// orderedKeys sorts properties by their "order", then by name.
func orderedKeys(props map[string]any) []string {
	order := func(k string) float64 {
		if m, ok := props[k].(map[string]any); ok {
			if o, ok := m["order"].(float64); ok {
				return o
			}
		}
		return 1e9
	}
	return slices.SortedFunc(maps.Keys(props), func(a, b string) int {
		return cmp.Or(cmp.Compare(order(a), order(b)), cmp.Compare(a, b))
	})
}

func stringSet(v any) map[string]bool {
	set := map[string]bool{}
	if arr, ok := v.([]any); ok {
		for _, x := range arr {
			if s, ok := x.(string); ok {
				set[s] = true
			}
		}
	}
	return set
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// writeRows writes two-column rows, the second column wrapped at helpWidth with a hanging
// indent; a long first column puts the text on the next line.
func writeRows(b *strings.Builder, rows [][2]string, indent string) {
	width := 0
	for _, r := range rows {
		if n := len(r[0]); n <= 28 {
			width = max(width, n)
		}
	}
	pad := strings.Repeat(" ", len(indent)+width+2)
	for _, r := range rows {
		lines := wrap(r[1], max(helpWidth-len(pad), 30))
		if len(r[0]) > width {
			b.WriteString(indent + r[0] + "\n")
			for _, l := range lines {
				b.WriteString(pad + l + "\n")
			}
			continue
		}
		for i, l := range lines {
			if i == 0 {
				fmt.Fprintf(b, "%s%-*s  %s\n", indent, width, r[0], l)
			} else {
				b.WriteString(pad + l + "\n")
			}
		}
		if len(lines) == 0 {
			b.WriteString(indent + r[0] + "\n")
		}
	}
}

// wrap splits text into lines of at most width characters at spaces; explicit newlines stay.
func wrap(text string, width int) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			switch {
			case line == "":
				line = word
			case len(line)+1+len(word) > width:
				out = append(out, line)
				line = word
			default:
				line += " " + word
			}
		}
		out = append(out, line)
	}
	return out
}

// expand fills in the program name of a help text.
func expand(text, prog string) string { return strings.ReplaceAll(text, "{prog}", prog) }
