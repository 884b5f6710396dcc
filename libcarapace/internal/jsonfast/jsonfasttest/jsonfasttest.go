// Package jsonfasttest is for the tests of generated encoders: it builds
// values of any type from a fuzzer's bytes, and checks that a generated
// encoder writes what json.Marshal writes.
package jsonfasttest

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/carapace-oci/carapace/libcarapace/internal/jsonfast"
)

// Check fails t unless enc, through jsonfast.Marshal, writes what
// json.Marshal writes for v, or both fail.
func Check[T any](t *testing.T, v *T, enc func(*jsonfast.Encoder, *T)) {
	t.Helper()
	want, werr := json.Marshal(v)
	var e jsonfast.Encoder
	enc(&e, v)
	switch {
	case e.Err() != nil:
		// Left to encoding/json: only what it refuses, or what the
		// generator says it leaves (an interface value), may be.
		if werr == nil && !hasInterfaceValue(reflect.ValueOf(v)) {
			t.Errorf("%T: the encoder gave up (%v), json.Marshal writes %s", v, e.Err(), want)
		}
	case werr != nil:
		t.Errorf("%T: json.Marshal fails (%v), the encoder writes %s", v, werr, e.Buf)
	case !bytes.Equal(e.Buf, want):
		t.Errorf("%T: encoder and json.Marshal differ:\n got %s\nwant %s", v, e.Buf, want)
	}
	got, err := jsonfast.Marshal(v, enc)
	if (err != nil) != (werr != nil) || !bytes.Equal(got, want) {
		t.Errorf("%T: jsonfast.Marshal = %s, %v; json.Marshal = %s, %v", v, got, err, want, werr)
	}
}

func hasInterfaceValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Interface:
		return !v.IsNil()
	case reflect.Pointer:
		return !v.IsNil() && hasInterfaceValue(v.Elem())
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() && hasInterfaceValue(v.Field(i)) {
				return true
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			if hasInterfaceValue(v.Index(i)) {
				return true
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if hasInterfaceValue(it.Value()) {
				return true
			}
		}
	}
	return false
}

// Fill sets v (a pointer) to a value its type allows, chosen by data:
// nil, empty and full slices, maps and pointers, strings of any bytes
// (invalid UTF-8, <, >, &, control characters, U+2028), integers at their
// limits, times in several zones and out of JSON's range, raw messages
// valid and not. The same data always gives the same value.
func Fill(v any, data []byte) {
	f := &filler{data: data}
	f.value(reflect.ValueOf(v).Elem(), 0)
}

type filler struct {
	data []byte
	pos  int
}

// byte is the next byte of data, 0 once it is used up.
func (f *filler) byte() byte {
	if f.pos >= len(f.data) {
		return 0
	}
	f.pos++
	return f.data[f.pos-1]
}

func (f *filler) uint64() uint64 {
	var u uint64
	for i := 0; i < 8; i++ {
		u = u<<8 | uint64(f.byte())
	}
	return u
}

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

var strs = []string{"", "a", "<b>&amp;</b>", "\u2028\u2029", "\xff\xfe", "tab\there\n", "\x00\x1f\x7f", `quote" back\`, "ünïcödé ☃ 😀", "\xed\xa0\x80", "a\xc3"}

var raws = []json.RawMessage{nil, {}, json.RawMessage(`{}`), json.RawMessage(` { "a" : [ 1 , 2.5e3 , "<&>" ] } `), json.RawMessage(`"\u2028 ` + "\u2028" + `"`),
	json.RawMessage(`{`), json.RawMessage(`null`), json.RawMessage(`12 13`), json.RawMessage("\t\"x\"\n"), json.RawMessage(`"\xff"`)}

var zones = []*time.Location{time.UTC, time.FixedZone("", 5*3600+30*60), time.FixedZone("X", -7*3600), time.FixedZone("", 24*3600), time.Local}

func (f *filler) value(v reflect.Value, depth int) {
	if !v.CanSet() || depth > 12 {
		return
	}
	switch v.Type() {
	case timeType:
		sec := int64(f.uint64())
		switch f.byte() % 4 {
		case 0:
			sec %= 1 << 35 // years 0 to 9999 and around
		case 1:
			sec = 0
		}
		t := time.Unix(sec, int64(f.uint64()%1e9))
		if f.byte()%3 == 0 {
			t = time.Time{}
		}
		v.Set(reflect.ValueOf(t.In(zones[int(f.byte())%len(zones)])))
		return
	case rawType:
		v.Set(reflect.ValueOf(raws[int(f.byte())%len(raws)]))
		return
	}
	switch v.Kind() {
	case reflect.String:
		if b := f.byte(); b < 128 {
			v.SetString(strs[int(b)%len(strs)])
		} else {
			n := int(f.byte() % 16)
			s := make([]byte, n)
			for i := range s {
				s[i] = f.byte()
			}
			v.SetString(string(s))
		}
	case reflect.Bool:
		v.SetBool(f.byte()&1 == 1)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x := int64(f.uint64())
		if f.byte()&1 == 0 {
			x %= 1000
		}
		v.SetInt(x) // truncated to the kind's size
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		x := f.uint64()
		if f.byte()&1 == 0 {
			x %= 1000
		}
		v.SetUint(x)
	case reflect.Pointer:
		if f.byte()%3 == 0 {
			return
		}
		p := reflect.New(v.Type().Elem())
		f.value(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		b := f.byte()
		if b%4 == 0 {
			return
		}
		n := int(b%4) - 1
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := 0; i < n; i++ {
			f.value(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		b := f.byte()
		if b%4 == 0 {
			return
		}
		m := reflect.MakeMap(v.Type())
		for i := 0; i < int(b%4)-1; i++ {
			k := reflect.New(v.Type().Key()).Elem()
			f.value(k, depth+1)
			e := reflect.New(v.Type().Elem()).Elem()
			f.value(e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f.value(v.Field(i), depth+1)
		}
	case reflect.Interface:
		switch f.byte() % 3 {
		case 1:
			v.Set(reflect.ValueOf("x"))
		case 2:
			v.Set(reflect.ValueOf(map[string]any{"a": []any{1.5, nil}}))
		}
	}
}
