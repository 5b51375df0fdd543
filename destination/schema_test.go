package destination

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestStreamProperties(t *testing.T) {
	schema := `{"type":"object","properties":{
		"s":{"type":"string"},"ns":{"type":["null","string"]},"i":{"type":"integer"},"ai":{"type":"number","airbyte_type":"integer"},
		"n":{"type":"number"},"b":{"type":"boolean"},"d":{"type":"string","format":"date"},
		"tz":{"type":"string","format":"date-time"},"ntz":{"type":"string","format":"date-time","airbyte_type":"timestamp_without_timezone"},
		"o":{"type":"object"},"a":{"type":"array"},"u":{"type":["string","integer"]},"one":{"oneOf":[{"type":"string"}]},"x":{},
		"_airbyte_raw_id":{"type":"string"},"w\u00e9ird name":{"type":"string"}}}`
	props, err := streamProperties(json.RawMessage(schema))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range props {
		s := p.Name + ":" + p.Type.String()
		if p.JSON {
			s += "(json)"
		}
		got = append(got, s)
	}
	want := "s:string ns:string i:long ai:long n:double b:boolean d:date tz:timestamptz ntz:timestamp o:string(json) a:string(json) u:string(json) one:string(json) x:string(json) _airbyte_raw_id:string wéird name:string"
	if strings.Join(got, " ") != want {
		t.Errorf("properties\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	// A property named like a meta column is kept under another column name.
	if err := mapColumns(props, nil); err != nil {
		t.Fatal(err)
	}
	if c := props[len(props)-2].Column; c != "_airbyte_raw_id_"+nameHash("_airbyte_raw_id") {
		t.Errorf("the _airbyte_raw_id property maps to column %q", c)
	}
	if c := props[len(props)-1].Column; c != "weird_name" {
		t.Errorf("the wéird name property maps to column %q", c)
	}
	if _, err := streamProperties(json.RawMessage(`{"properties":{"a":{"type":5}}}`)); err == nil {
		t.Errorf("a numeric type was accepted")
	}
}

func TestEachFieldRejectsTruncatedData(t *testing.T) {
	for _, bad := range []string{`{"a":1`, `{"a":"x}`, `["a"]`, `{"a" 1}`, `{"a":[1,2}`} {
		if err := eachField([]byte(bad), func(k, v []byte) {}); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	var keys []string
	if err := eachField([]byte(` { "a" : { "b" : "}" } , "c\"d" : [ "]" ] } `), func(k, v []byte) {
		keys = append(keys, unescapeKey(k)+"="+string(v))
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(keys, ";") != `a={ "b" : "}" };c"d=[ "]" ]` {
		t.Errorf("fields %q", keys)
	}
}
