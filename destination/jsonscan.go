package destination

import (
	"fmt"

	"github.com/clockberg/clockberg/jsonscan"
)

// eachField calls fn for every top-level member of the JSON object obj with the raw key (without
// quotes, escapes left as they are) and the raw value. obj must already be valid JSON (the envelope
// decoder checks it); this walk exists because decoding every record into a map costs more than the
// rest of the write path together. Errors name the record data, which is what obj always is here.
func eachField(obj []byte, fn func(key, val []byte)) error {
	if err := jsonscan.EachField(obj, fn); err != nil {
		return fmt.Errorf("record data: %w", err)
	}
	return nil
}
