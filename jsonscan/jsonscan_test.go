package jsonscan

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func TestSkipValue(t *testing.T) {
	cases := []struct {
		in   string
		at   int
		want string // the value's text; "" means an error
	}{
		{`"abc",`, 0, `"abc"`},
		{`"a\"b",`, 0, `"a\"b"`},
		{`"a\\",1`, 0, `"a\\"`},
		{`"\u0022}",1`, 0, `"\u0022}"`},
		{`"h\u00e9llo ☃"]`, 0, `"h\u00e9llo ☃"`},
		{`{"a":"}]\"{","b":[1,{"c":"]"}]} ,`, 0, `{"a":"}]\"{","b":[1,{"c":"]"}]}`},
		{`[[],[[]],{}]]`, 0, `[[],[[]],{}]`},
		{`x:-1.5e3}`, 2, `-1.5e3`},
		{`true`, 0, `true`},
		{`null ,`, 0, `null`},
		// Truncated strings and containers must error, wherever the cut falls.
		{`"abc`, 0, ""},
		{`"abc\"`, 0, ""},
		{`{"a":1`, 0, ""},
		{`{"a":"}`, 0, ""},
		{`[1,[2]`, 0, ""},
		{`[{"a":"x\"]}`, 0, ""},
		{``, 0, ""},
		{`[1]`, 3, ""},
		{`,`, 0, ""},
		{`}`, 0, ""},
	}
	for _, c := range cases {
		end, err := SkipValue([]byte(c.in), c.at)
		if c.want == "" {
			if err == nil {
				t.Errorf("SkipValue(%q, %d) = %d, want an error", c.in, c.at, end)
			}
			continue
		}
		if err != nil {
			t.Errorf("SkipValue(%q, %d): %v", c.in, c.at, err)
			continue
		}
		if got := c.in[c.at:end]; got != c.want {
			t.Errorf("SkipValue(%q, %d) spans %q, want %q", c.in, c.at, got, c.want)
		}
	}
}

func TestEachElement(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{`[]`, nil},
		{` [ ] `, nil},
		{`[1]`, []string{`1`}},
		{"[\n {\"a\":\"x]}\\\"\"} ,\t[1,[2]], \"s\\\\\", null ,true,-1.5e3]",
			[]string{`{"a":"x]}\""}`, `[1,[2]]`, `"s\\"`, `null`, `true`, `-1.5e3`}},
		{`[{"id":"a","n":{"id":"b"}},{}]`, []string{`{"id":"a","n":{"id":"b"}}`, `{}`}},
		{`["\u005d\"", "\\\""]`, []string{`"\u005d\""`, `"\\\""`}},
	}
	for _, c := range cases {
		var got []string
		err := EachElement([]byte(c.in), func(e []byte) error { got = append(got, string(e)); return nil })
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %q want %q", c.in, got, c.want)
		}
	}
	for _, bad := range []string{``, `{}`, `"[]"`, `[1,2`, `[`, `["abc`, `["a\"]`, `[1 2]`, `[{"a":1]`, `[{"a":1}`} {
		err := EachElement([]byte(bad), func([]byte) error { return nil })
		if err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	if err := EachElement([]byte(`{}`), func([]byte) error { return nil }); !errors.Is(err, ErrNotArray) {
		t.Errorf("object: %v, want ErrNotArray", err)
	}
	stop := errors.New("stop")
	n := 0
	if err := EachElement([]byte(`[1,2,3]`), func([]byte) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("fn's error: %v after %d calls, want stop after 1", err, n)
	}
}

func TestEachField(t *testing.T) {
	var got []string
	err := EachField([]byte(` { "a" : { "b" : "}" } , "c\"d" : [ "]" ], "e":"\u007d\\","f":-0.5e-2,"g":{}} `), func(k, v []byte) {
		got = append(got, string(k)+"="+string(v))
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`a={ "b" : "}" }`, `c\"d=[ "]" ]`, `e="\u007d\\"`, `f=-0.5e-2`, `g={}`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fields %q, want %q", got, want)
	}
	if err := EachField([]byte(`{}`), func(k, v []byte) { t.Errorf("empty object yielded %s", k) }); err != nil {
		t.Errorf("empty object: %v", err)
	}
	for _, bad := range []string{``, `{`, `{"a":1`, `{"a":"x}`, `["a"]`, `{"a" 1}`, `{"a":[1,2}`, `{"a":1 "b":2}`, `{1:2}`, `{"a":}`, `{"a\"}`} {
		if err := EachField([]byte(bad), func(k, v []byte) {}); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if err := EachField([]byte(`[]`), func(k, v []byte) {}); !errors.Is(err, ErrNotObject) {
		t.Errorf("array: %v, want ErrNotObject", err)
	}
}

func TestMemberPathString(t *testing.T) {
	obj := []byte(`{ "approvalRequest" : {"id":"a1","owner":{"id":"x"}}, "note":"has \"id\":\"no\"", "projectId": null , "n" : 12 }`)
	cases := []struct {
		keys []string
		want string
		ok   bool
	}{
		{[]string{"approvalRequest", "id"}, `"a1"`, true},
		{[]string{"approvalRequest", "owner", "id"}, `"x"`, true},
		{[]string{"id"}, "", false}, // only nested or inside a string
		{[]string{"projectId"}, `null`, true},
		{[]string{"n"}, `12`, true},
		{[]string{"note", "id"}, "", false},
		{[]string{"missing"}, "", false},
		{nil, string(obj), true},
	}
	for _, c := range cases {
		v, ok := Path(obj, c.keys...)
		if ok != c.ok || string(v) != c.want {
			t.Errorf("Path %v = %q %v, want %q %v", c.keys, v, ok, c.want, c.ok)
		}
	}
	for _, bad := range []string{`[]`, `{"a":"x`, `{"a" 1}`, `{"b":{"a":1`, ``} {
		if v, ok := Member([]byte(bad), "a"); ok {
			t.Errorf("Member(%s) = %s, want absent", bad, v)
		}
	}
	for in, want := range map[string]string{`"abc"`: "abc", `""`: "", `"2024-01-02T03:04:05Z"`: "2024-01-02T03:04:05Z"} {
		if s, ok := String([]byte(in)); !ok || s != want {
			t.Errorf("String(%s) = %q %v", in, s, ok)
		}
	}
	for _, in := range []string{`"a\"b"`, `"\u0041"`, `12`, `null`, `"`, ``, `"abc`} {
		if s, ok := String([]byte(in)); ok {
			t.Errorf("String(%s) = %q, want absent", in, s)
		}
	}
}

func TestAddMissing(t *testing.T) {
	obj := []byte(`{ "id":"x", "note":"has \"workspaceId\"", "projectId": null }`)
	out := AddMissing([]byte("prefix|"), obj, []Field{{"id", []byte(`"a1"`)}, {"projectId", []byte(`"p9"`)}, {"workspaceId", []byte(`"w1"`)}})
	got, ok := strings.CutPrefix(string(out), "prefix|")
	if !ok {
		t.Fatalf("dst not kept: %s", out)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(got), &m); err != nil {
		t.Fatalf("patched record is not JSON: %v: %s", err, got)
	}
	// Present keys keep the API's value, even null; absent keys are added.
	if m["id"] != "x" || m["projectId"] != nil || m["workspaceId"] != "w1" || len(m) != 4 {
		t.Fatalf("patched record %s", got)
	}
	for _, c := range []struct{ in, want string }{
		{`{}`, `{"workspaceId":"w"}`},
		{` { } `, `{"workspaceId":"w"} `},
		{`{"workspaceId":"api"}`, `{"workspaceId":"api"}`},
		{`[1]`, `[1]`},
	} {
		if got := string(AddMissing(nil, []byte(c.in), []Field{{"workspaceId", []byte(`"w"`)}})); got != c.want {
			t.Errorf("AddMissing(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestValidate(t *testing.T) {
	valid := []string{
		`0`, `-0`, `1.5`, `-1.5e+3`, `1E-2`, `12345678901234567890`, `true`, `false`, `null`,
		`""`, `"a\"b\\c\/d\b\f\n\r\t"`, `"\u00e9\uD83D\uDE00"`, "\"\xff\xfe\"", `"☃"`,
		` [ ] `, `{}`, `{"a":[1,{"b":null}],"c":"}"}`, "\t{\n\"a\"\r:\n1 }\n",
		strings.Repeat("[", 500) + strings.Repeat("]", 500),
	}
	invalid := []string{
		``, ` `, `01`, `-`, `1.`, `.5`, `1e`, `1e+`, `+1`, `0x10`, `tru`, `nul`, `True`, `truex`,
		`"abc`, `"a\"`, `"\x"`, `"\u12"`, `"\u12G4"`, "\"a\nb\"", "\"\x00\"",
		`[`, `]`, `[1,]`, `[,1]`, `[1 2]`, `[1}`, `{"a":1]`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{a:1}`,
		`{"a" 1}`, `{,}`, `{"a":1}}`, `[] []`, `1 2`, `{"a":"x}`, `[{"a":1`, `"a"x`,
		strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1),
	}
	for _, s := range valid {
		if err := Validate([]byte(s)); err != nil {
			t.Errorf("Validate(%.40q): %v", s, err)
		}
	}
	for _, s := range invalid {
		err := Validate([]byte(s))
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Validate(%.40q) = %v, want a *SyntaxError", s, err)
		}
	}
	// The verdicts above are ours; encoding/json must agree on every one.
	for _, s := range append(valid, invalid...) {
		if json.Valid([]byte(s)) != (Validate([]byte(s)) == nil) {
			t.Errorf("%.40q: encoding/json disagrees", s)
		}
	}
}

func TestAppendElements(t *testing.T) {
	in := " [ {\"a\":\"]\\\"\"}, [1,[2]] ,\"\\u005d\",-1e3, null ]\n"
	got, err := AppendElements(nil, []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, e := range got {
		s = append(s, string(e))
	}
	if want := []string{`{"a":"]\""}`, `[1,[2]]`, `"\u005d"`, `-1e3`, `null`}; !reflect.DeepEqual(s, want) {
		t.Errorf("elements %q, want %q", s, want)
	}
	if got, err := AppendElements(got[:0], []byte(`[]`)); err != nil || len(got) != 0 {
		t.Errorf("[]: %q %v", got, err)
	}
	for _, notArray := range []string{`{}`, `"[]"`, ` 1 `, `null`} {
		if _, err := AppendElements(nil, []byte(notArray)); !errors.Is(err, ErrNotArray) {
			t.Errorf("%s: %v, want ErrNotArray", notArray, err)
		}
	}
	for _, bad := range []string{``, `[`, `[1,2`, `[1,]`, `[1 2]`, `[1] x`, `[{"a":tru}]`, `{"a":`, `[{"a":1]`, `["a\"]`, `[1]]`} {
		_, err := AppendElements(nil, []byte(bad))
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%s: %v, want a *SyntaxError", bad, err)
		}
	}
}

// TestStrictAgreesWithEncodingJSON mutates valid documents byte by byte (the way a broken proxy or
// a cut connection damages a body) and checks that Validate gives encoding/json's verdict on each.
func TestStrictAgreesWithEncodingJSON(t *testing.T) {
	seeds := []string{
		`[{"id":"5f0a","description":"fix \"quoted\" \\ path","tagIds":["a","b"],"billable":true,"timeInterval":{"start":"2024-01-02T03:04:05Z","end":null,"duration":"PT1H"},"hourlyRate":{"amount":-12.5e2,"currency":"EUR"},"note":"caf\u00e9 ☃"}]`,
		`{"expenses":{"count":2,"expenses":[{"id":"e1","total":0.5},{"id":"e2","total":10}]}}`,
	}
	alphabet := []byte(`{}[]",:\ u0123456789abcdefEtrunl.-+` + "\t\n\x00\x7f\xff")
	rng := rand.New(rand.NewPCG(1, 2))
	checked := 0
	for _, seed := range seeds {
		for n := 0; n < 3000; n++ {
			b := []byte(seed)
			for k := rng.IntN(3) + 1; k > 0; k-- {
				p := rng.IntN(len(b))
				switch rng.IntN(3) {
				case 0:
					b[p] = alphabet[rng.IntN(len(alphabet))]
				case 1:
					b = append(b[:p], b[p+1:]...)
				default:
					b = b[:p]
				}
				if len(b) == 0 {
					break
				}
			}
			want := json.Valid(b)
			if got := Validate(b) == nil; got != want {
				t.Fatalf("Validate(%q) valid=%v, encoding/json says %v", b, got, want)
			}
			if _, err := AppendElements(nil, b); want && err != nil && !errors.Is(err, ErrNotArray) {
				t.Fatalf("AppendElements(%q) rejected valid JSON: %v", b, err)
			}
			checked++
		}
	}
	if checked != 6000 {
		t.Fatalf("checked %d documents", checked)
	}
}

func FuzzValidate(f *testing.F) {
	for _, s := range []string{`[]`, `{"a":[1,"\u00e9",null]}`, `"a\"b"`, `-0.5e+3`, `[1,]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want := json.Valid(b)
		if got := Validate(b) == nil; got != want {
			t.Fatalf("Validate(%q) valid=%v, encoding/json says %v", b, got, want)
		}
		elems, err := AppendElements(nil, b)
		if !want {
			if err == nil {
				t.Fatalf("AppendElements accepted invalid %q", b)
			}
			return
		}
		if errors.Is(err, ErrNotArray) {
			return
		}
		if err != nil {
			t.Fatalf("AppendElements(%q): %v", b, err)
		}
		// The structural walk must split a valid array exactly as the strict one does.
		var walked [][]byte
		if err := EachElement(b, func(e []byte) error { walked = append(walked, e); return nil }); err != nil {
			t.Fatalf("EachElement(%q): %v", b, err)
		}
		if len(walked) != len(elems) {
			t.Fatalf("%q: %d elements walked, %d scanned", b, len(walked), len(elems))
		}
		for i := range elems {
			if string(walked[i]) != string(elems[i]) {
				t.Fatalf("%q: element %d walked %q, scanned %q", b, i, walked[i], elems[i])
			}
		}
	})
}

// benchPage is a page of time entries shaped like the simulator's.
func benchPage(n int) []byte {
	var b strings.Builder
	b.WriteByte('[')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"id":"65a1b2c3d4e5f60718293a4b","description":"Sprint \"review\" and planning","tagIds":["65a1b2c3d4e5f60718293a4c"],"userId":"65a1b2c3d4e5f60718293a4d","billable":true,"taskId":null,"projectId":"65a1b2c3d4e5f60718293a4e","timeInterval":{"start":"2024-03-01T09:00:00Z","end":"2024-03-01T10:30:00Z","duration":"PT1H30M"},"workspaceId":"65a1b2c3d4e5f60718293a4f","hourlyRate":{"amount":12500,"currency":"EUR"},"customFieldValues":[],"type":"REGULAR","kioskId":null,"isLocked":false}`)
	}
	b.WriteByte(']')
	return []byte(b.String())
}

// BenchmarkSplitPage compares the source's old body handling (encoding/json.Valid, then the
// structural walk) with the one strict pass it makes now.
func BenchmarkSplitPage(b *testing.B) {
	page := benchPage(5000)
	b.Run("json.Valid+EachElement", func(b *testing.B) {
		b.SetBytes(int64(len(page)))
		for b.Loop() {
			if !json.Valid(page) {
				b.Fatal("invalid")
			}
			if err := EachElement(page, func([]byte) error { return nil }); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AppendElements", func(b *testing.B) {
		b.SetBytes(int64(len(page)))
		var elems [][]byte
		for b.Loop() {
			var err error
			if elems, err = AppendElements(elems[:0], page); err != nil {
				b.Fatal(err)
			}
		}
	})
}
