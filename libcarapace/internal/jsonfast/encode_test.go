package jsonfast

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

var stringCases = []string{"", "plain", "<>&", "\u2028\u2029", "\u2027\u202a", "\xff", "a\xc3", "\xed\xa0\x80", "\xf4\x90\x80\x80",
	"\x00\x01\x08\x09\x0a\x0b\x0c\x0d\x1f\x20\x7f", `"\/`, "ünïcödé ☃ 😀", "\U0010ffff", "\ufffd"}

// TestAppendString: strings are escaped as json.Marshal escapes them.
func TestAppendString(t *testing.T) {
	for _, s := range stringCases {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	}
}

// FuzzAppendString: for every string.
func FuzzAppendString(f *testing.F) {
	for _, s := range stringCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendString([]byte("x"), s); !bytes.Equal(got[1:], want) || got[0] != 'x' {
			t.Errorf("AppendString(%q) = %s, want %s", s, got[1:], want)
		}
	})
}

// TestLeaves: the values encoding/json writes through their methods.
func TestLeaves(t *testing.T) {
	for _, c := range []struct {
		v   any
		enc func(*Encoder)
	}{
		{time.Date(2026, 1, 2, 3, 4, 5, 60, time.FixedZone("", 3600+60)), func(e *Encoder) { e.Time(time.Date(2026, 1, 2, 3, 4, 5, 60, time.FixedZone("", 3600+60))) }},
		{time.Time{}, func(e *Encoder) { e.Time(time.Time{}) }},
		{[]byte("<\xff>"), func(e *Encoder) { e.Bytes([]byte("<\xff>")) }},
		{[]byte(nil), func(e *Encoder) { e.Bytes(nil) }},
		{json.RawMessage(nil), func(e *Encoder) { e.RawMessage(nil) }},
		{json.RawMessage(" [ \"<\u2029>\" , {} ] "), func(e *Encoder) { e.RawMessage(json.RawMessage(" [ \"<\u2029>\" , {} ] ")) }},
		{uint64(1<<64 - 1), func(e *Encoder) { e.Uint(1<<64 - 1) }},
		{int64(-1 << 63), func(e *Encoder) { e.Int(-1 << 63) }},
		{false, func(e *Encoder) { e.Bool(false) }},
	} {
		want, err := json.Marshal(c.v)
		if err != nil {
			t.Fatal(err)
		}
		var e Encoder
		c.enc(&e)
		if e.Err() != nil || !bytes.Equal(e.Buf, want) {
			t.Errorf("%#v: got %s (%v), want %s", c.v, e.Buf, e.Err(), want)
		}
	}
	// What json.Marshal refuses is left to it.
	for _, f := range []func(*Encoder){
		func(e *Encoder) { e.Time(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)) },
		func(e *Encoder) { e.RawMessage(json.RawMessage{}) },
		func(e *Encoder) { e.RawMessage(json.RawMessage(`{"a"}`)) },
	} {
		var e Encoder
		if f(&e); e.Err() == nil {
			t.Errorf("no error, wrote %s", e.Buf)
		}
	}
}
