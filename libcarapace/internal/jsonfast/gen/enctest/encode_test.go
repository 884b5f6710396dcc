package enctest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/carapace-oci/carapace/libcarapace/internal/jsonfast/jsonfasttest"
)

func ptr[T any](v T) *T { return &v }

// TestEdgeCases: each rule of encoding/json the generator reproduces,
// against json.Marshal of the same value.
func TestEdgeCases(t *testing.T) {
	n := 7
	pn := &n
	when := time.Date(2026, 12, 5, 3, 4, 5, 123456000, time.FixedZone("", -(9*3600+30*60)))
	for name, v := range map[string]Edge{
		"zero":                   {},
		"embedded and omitempty": {Inner: Inner{X: "x", Y: -1}, Named: "n", I16: -3, U: 1, B: true, MyBool: true},
		"skipped":                {Skipped: &Skipped{Z: 1}, Dash: "gone", DashName: "kept", hidden: 3},
		"html and unicode": {DashName: "<script>&amp;</script>", HTML: "\u2028\u2029\u2027\u202a", NoTag: "\xff\xfe\xc3(\xed\xa0\x80 ok ☃",
			Named: "\x00\x01\x1f\x7f\b\f\n\r\t\"\\/"},
		"bytes":           {Bytes: []byte{}, BytesO: []byte{0, 1, 2, 0xff}, MyBytes: Blob("<>&")},
		"nil bytes":       {Bytes: nil, MyBytes: nil},
		"raw compacted":   {Raw: json.RawMessage(" {\n \"a\" : [ 1 , 2.50, true, null, \"<&>\u2028\" ] }\t"), RawO: json.RawMessage(`"x"`)},
		"raw empty":       {Raw: json.RawMessage{}},
		"raw invalid":     {Raw: json.RawMessage(`{"a":}`)},
		"raw two values":  {Raw: json.RawMessage(`1 2`)},
		"raw null":        {Raw: json.RawMessage(`null`), RawO: json.RawMessage{}},
		"times":           {When: when, WhenO: when.UTC(), WhenP: ptr(when.In(time.FixedZone("", 1)))},
		"time year 10000": {When: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"time year -1":    {When: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
		"time bad zone":   {When: time.Date(2000, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600))},
		"interface nil":   {Any: nil, AnyO: nil},
		"interface value": {Any: map[string]any{"z": 1, "a": "<"}},
		"maps": {Map: map[Name]int8{"b": -128, "a": 127, "": 0, "é": 1, "<": 2, "\xff": 3},
			MapO: map[string]*Inner{"k": nil, "j": {X: "x"}, "i": {}}},
		"empty map":       {Map: map[Name]int8{}, MapO: map[string]*Inner{}},
		"slices":          {Slice: []Inner{{}, {X: "a", Y: 1}}, SliceP: []*int{nil, pn}, SS: [][]string{nil, {}, {"a", "b"}}},
		"empty slices":    {Slice: []Inner{}, SliceP: []*int{}, SS: [][]string{}},
		"pointers":        {PP: &pn},
		"nil in pointer":  {PP: new(*int)},
		"limits":          {Inner: Inner{Y: -1 << 63}, U8: 255, I16: -1 << 15, U: 1<<64 - 1, Count: 65535},
		"nested":          {Nested: Deep{Inner: Inner{X: "in"}, All: &AllOmit{}, E: Empty{}}},
		"nested all omit": {Nested: Deep{All: &AllOmit{B: 1, D: []int{}}}},
	} {
		t.Run(name, func(t *testing.T) {
			jsonfasttest.Check(t, &v, appendEdge)
		})
	}
	for _, v := range []AllOmit{{}, {A: "a"}, {B: 1}, {C: ptr(0)}, {D: []int{1}}, {A: "a", C: ptr(1)}, {B: 2, D: []int{3}}, {A: "a", B: 1, C: ptr(2), D: []int{0}}} {
		jsonfasttest.Check(t, &v, appendAllOmit)
	}
	jsonfasttest.Check(t, &Empty{}, appendEmpty)
}

// FuzzEncode: for every Edge and AllOmit, built from the fuzzer's bytes
// or decoded from them by encoding/json, the generated encoder writes
// what json.Marshal writes.
func FuzzEncode(f *testing.F) {
	b, _ := json.Marshal(Edge{Inner: Inner{X: "<"}, Map: map[Name]int8{"a": 1}, Slice: []Inner{{}}, Raw: json.RawMessage(`[1]`)})
	f.Add(b)
	f.Add([]byte{0x80, 5, '<', 0xff, 0xe2, 0x80, 0xa8, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
	f.Fuzz(func(t *testing.T, data []byte) {
		var e Edge
		jsonfasttest.Fill(&e, data)
		jsonfasttest.Check(t, &e, appendEdge)
		var a AllOmit
		jsonfasttest.Fill(&a, data)
		jsonfasttest.Check(t, &a, appendAllOmit)
		e, a = Edge{}, AllOmit{}
		if json.Unmarshal(data, &e) == nil {
			jsonfasttest.Check(t, &e, appendEdge)
		}
		if json.Unmarshal(data, &a) == nil {
			jsonfasttest.Check(t, &a, appendAllOmit)
		}
	})
}
