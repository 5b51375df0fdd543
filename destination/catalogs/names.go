package catalogs

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/apache/iceberg-go/table"
)

// CheckIdentifier rejects a namespace.table identifier that iceberg-go's catalogs refuse (they
// answer "table does not exist: invalid identifier component", which hides the cause), so the
// destination can say so before it creates anything.
func CheckIdentifier(ident table.Identifier) error {
	if len(ident) < 2 {
		return fmt.Errorf("table identifier %q needs a namespace and a table name", strings.Join(ident, "."))
	}
	for i, part := range ident {
		what := "namespace"
		if i == len(ident)-1 {
			what = "table name"
		}
		var why string
		switch {
		case part == "":
			why = "it is empty"
		case part == "." || part == "..":
			why = "it is a path step (. or ..)"
		case strings.Contains(part, "/"):
			why = "it contains /"
		case strings.IndexFunc(part, unicode.IsControl) >= 0:
			why = "it contains a control character"
		default:
			continue
		}
		return fmt.Errorf("the %s %q cannot be used for an Iceberg table: %s (Iceberg catalogs refuse empty names, . and .., / and control characters)", what, part, why)
	}
	return nil
}
