package jsonfast

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// Encoder is what the generated encoders append to. They write what
// json.Marshal writes for the same value, byte for byte (the fuzz targets
// of their users check that); what json.Marshal would refuse, or what the
// generator has no exact equivalent for at run time (a non-nil interface
// value), makes Err non-nil, and the caller then marshals with
// encoding/json, which gives the error, or the value, as before.
type Encoder struct {
	Buf []byte
	err error
}

// ErrUnsupported is Err for a value the generated code leaves to
// encoding/json.
var ErrUnsupported = errors.New("jsonfast: value left to encoding/json")

// Err is the first failure, if any: Buf is then incomplete.
func (e *Encoder) Err() error { return e.err }

// Fail records err unless a failure is recorded already.
func (e *Encoder) Fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

// Raw appends s as it is: punctuation, and member names the generator
// escaped already.
func (e *Encoder) Raw(s string) { e.Buf = append(e.Buf, s...) }

// Byte appends c as it is.
func (e *Encoder) Byte(c byte) { e.Buf = append(e.Buf, c) }

// Key appends a member's name (with its quotes and colon), after a comma
// if the object has a member already (*more), and notes that it has.
func (e *Encoder) Key(more *bool, name string) {
	if *more {
		e.Buf = append(e.Buf, ',')
	}
	*more = true
	e.Buf = append(e.Buf, name...)
}

// Null appends null.
func (e *Encoder) Null() { e.Buf = append(e.Buf, "null"...) }

// Bool appends true or false.
func (e *Encoder) Bool(v bool) { e.Buf = strconv.AppendBool(e.Buf, v) }

// Int appends a signed integer.
func (e *Encoder) Int(v int64) { e.Buf = strconv.AppendInt(e.Buf, v, 10) }

// Uint appends an unsigned integer.
func (e *Encoder) Uint(v uint64) { e.Buf = strconv.AppendUint(e.Buf, v, 10) }

// Str appends s as a JSON string, escaped as encoding/json escapes by
// default: <, > and & as \u003c, \u003e and \u0026 (HTML-safe), U+2028
// and U+2029 as \u2028 and \u2029, each byte of invalid UTF-8 as \ufffd.
func (e *Encoder) Str(s string) { e.Buf = AppendString(e.Buf, s) }

// Bytes appends b as encoding/json writes a []byte: base64, padded; null
// for nil.
func (e *Encoder) Bytes(b []byte) {
	if b == nil {
		e.Null()
		return
	}
	e.Buf = append(e.Buf, '"')
	e.Buf = base64.StdEncoding.AppendEncode(e.Buf, b)
	e.Buf = append(e.Buf, '"')
}

// Time appends t as its MarshalJSON writes it (RFC 3339 with
// nanoseconds), which is what encoding/json calls; a year it cannot write
// is left to encoding/json, for its error.
func (e *Encoder) Time(t time.Time) {
	b, err := t.MarshalJSON()
	if err != nil {
		e.Fail(ErrUnsupported)
		return
	}
	e.Buf = append(e.Buf, b...)
}

// RawMessage appends m as encoding/json does: its MarshalJSON (null for
// nil) compacted, with <, >, &, U+2028 and U+2029 escaped; text that is
// not JSON is left to encoding/json, for its error.
func (e *Encoder) RawMessage(m json.RawMessage) {
	if m == nil {
		e.Null()
		return
	}
	var c bytes.Buffer
	if err := json.Compact(&c, m); err != nil {
		e.Fail(ErrUnsupported)
		return
	}
	// Escaping after compacting is the same as escaping while compacting:
	// outside strings valid JSON holds none of the escaped characters.
	var h bytes.Buffer
	json.HTMLEscape(&h, c.Bytes())
	e.Buf = append(e.Buf, h.Bytes()...)
}

const hex = "0123456789abcdef"

// AppendString appends s as a JSON string, as Str does.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// SortedKeys are m's keys in the order encoding/json writes them (by
// their bytes).
func SortedKeys[M ~map[K]V, K ~string, V any](m M) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Marshal is json.Marshal of v through enc, a generated encoder, or
// through encoding/json when enc fails (for its error, or for a value enc
// leaves to it).
func Marshal[T any](v *T, enc func(*Encoder, *T)) ([]byte, error) {
	e := Encoder{Buf: make([]byte, 0, 512)}
	enc(&e, v)
	if e.err != nil {
		return json.Marshal(v)
	}
	return e.Buf, nil
}
