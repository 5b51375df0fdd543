package destination

import (
	"strconv"
	"strings"

	"github.com/clockberg/clockberg/airbyte"
)

// tableFigures gives the runner's summary what only the destination knows: per stream, its table,
// the rows in it and its data files after the sync. They are computed now, so the function it
// returns is safe to call from another goroutine.
func tableFigures(streams []*stream) func() airbyte.Figures {
	f := airbyte.Figures{Tables: map[airbyte.StreamDescriptor]airbyte.TableFigures{}}
	for _, st := range streams {
		tf := airbyte.TableFigures{Table: strings.Join(st.ident, ".")}
		if st.tbl != nil {
			if snap := st.tbl.CurrentSnapshot(); snap != nil && snap.Summary != nil {
				num := func(k string) int64 { n, _ := strconv.ParseInt(snap.Summary.Properties[k], 10, 64); return n }
				tf.Rows = num("total-records") - num("total-position-deletes")
				tf.Files = num("total-data-files")
			}
		}
		f.Tables[st.desc] = tf
	}
	return func() airbyte.Figures { return f }
}
