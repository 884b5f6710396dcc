// Package jsonfast is the scanner under the generated, reflection-free
// JSON decoders (config/specjson for config.json and process JSON, state
// for state.json; gen writes them): encoding/json builds, in every fresh
// process, its tables for each type it decodes, and for the
// runtime-spec's hundred-odd types that was most of what decoding cost the
// CLI.
//
// It is a fast path, not a second JSON decoder: a generated decoder takes
// the plain, common form and answers false on anything it does not decode
// exactly as encoding/json would (a syntax error, a type mismatch, an
// integer out of range or written with a fraction or an exponent, a key
// that matches a field only case-insensitively, a repeated field, invalid
// UTF-8, a lone surrogate, a non-null interface{} value, nesting deeper
// than maxDepth). The caller then decodes with encoding/json, which gives
// the errors and the odd cases as before. Whenever a decoder answers true,
// json.Unmarshal of the same text succeeds with a reflect.DeepEqual value
// (the fuzz targets of its users check that).
//
// The generated encoders (encode.go) are the other direction: they write
// state.json, create.json, the ipc messages, the state verb's output and
// the hooks' stdin exactly as json.Marshal would, without its tables.
//
// Its API is for generated code.
package jsonfast

import (
	"encoding/json"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds the nesting of skipped values (far below encoding/json's
// own limit of 10000, whose error the fallback then gives).
const maxDepth = 1000

// Decoder reads one JSON text.
type Decoder struct {
	data  []byte
	pos   int
	buf   []byte // unescaped string, reused
	depth int    // of skip
}

// New returns a decoder of data.
func New(data []byte) *Decoder { return &Decoder{data: data} }

// ws skips JSON's white space.
func (d *Decoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// Take reports whether the generated decoder dec decoded all of b into
// *v exactly as encoding/json would; on false *v is partial.
func Take[T any](b []byte, v *T, dec func(*Decoder, *T) bool) bool {
	d := New(b)
	return dec(d, v) && d.End()
}

// Unmarshal is json.Unmarshal of b into *v: take (a Take of a generated
// decoder) first; what it does not take, errors included, is decoded
// again from a zero *v by fallback (encoding/json's Unmarshal), whose
// result and error are then the answer.
func Unmarshal[T any](b []byte, v *T, take func([]byte, *T) bool, fallback func([]byte, any) error) error {
	if take(b, v) {
		return nil
	}
	var zero T
	*v = zero
	return fallback(b, v)
}

// End: only white space follows the value.
func (d *Decoder) End() bool {
	d.ws()
	return d.pos == len(d.data)
}

// Null consumes a null literal if one comes next. What follows it is
// checked by the caller, which expects a delimiter.
func (d *Decoder) Null() bool {
	d.ws()
	if len(d.data)-d.pos >= 4 && string(d.data[d.pos:d.pos+4]) == "null" {
		d.pos += 4
		return true
	}
	return false
}

// Open consumes c, '{' or '['.
func (d *Decoder) Open(c byte) bool {
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == c {
		d.pos++
		return true
	}
	return false
}

// Next is called before each member of an object or element of an array
// (first for the first): it consumes the closing byte and answers more
// false at the end, or consumes the comma between two.
func (d *Decoder) Next(first bool, close byte) (more, ok bool) {
	d.ws()
	if d.pos >= len(d.data) {
		return false, false
	}
	if d.data[d.pos] == close {
		d.pos++
		return false, true
	}
	if !first {
		if d.data[d.pos] != ',' {
			return false, false
		}
		d.pos++
	}
	return true, true
}

// Key reads an object member's name and its colon. The name may be in
// the scratch buffer: use it before reading the next string.
func (d *Decoder) Key() ([]byte, bool) {
	k, ok := d.text()
	if !ok {
		return nil, false
	}
	d.ws()
	if d.pos >= len(d.data) || d.data[d.pos] != ':' {
		return nil, false
	}
	d.pos++
	return k, true
}

// Folds reports whether key, which matched no field exactly, could match
// one of the (lower-case ASCII) names case-insensitively, as encoding/json
// would then take it. A key with non-ASCII bytes counts as matching:
// encoding/json folds some (U+212A KELVIN SIGN to k, U+017F LONG S to s).
func (d *Decoder) Folds(key []byte, names []string) bool {
	for _, c := range key {
		if c >= utf8.RuneSelf {
			return true
		}
	}
	for _, n := range names {
		if len(n) != len(key) {
			continue
		}
		same := true
		for i := 0; i < len(n); i++ {
			c := key[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != n[i] {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	return false
}

// text reads a JSON string; the result aliases the input or the scratch
// buffer.
func (d *Decoder) text() ([]byte, bool) {
	d.ws()
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return nil, false
	}
	d.pos++
	start := d.pos
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			return d.data[start : d.pos-1], true
		case c == '\\':
			return d.unescape(start)
		case c < 0x20:
			return nil, false
		case c < utf8.RuneSelf:
			d.pos++
		default:
			// encoding/json would replace invalid UTF-8 with U+FFFD.
			r, n := utf8.DecodeRune(d.data[d.pos:])
			if r == utf8.RuneError && n == 1 {
				return nil, false
			}
			d.pos += n
		}
	}
	return nil, false
}

// unescape continues text from the first backslash, building the string in
// d.buf.
func (d *Decoder) unescape(start int) ([]byte, bool) {
	b := append(d.buf[:0], d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			d.buf = b
			return b, true
		case c == '\\':
			if d.pos+1 >= len(d.data) {
				return nil, false
			}
			e := d.data[d.pos+1]
			d.pos += 2
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := d.hex4()
				if !ok {
					return nil, false
				}
				if utf16.IsSurrogate(r) {
					// Only a high surrogate followed by a low one
					// is a character; encoding/json replaces the
					// rest with U+FFFD.
					if r >= 0xdc00 || d.pos+1 >= len(d.data) || d.data[d.pos] != '\\' || d.data[d.pos+1] != 'u' {
						return nil, false
					}
					d.pos += 2
					r2, ok := d.hex4()
					if !ok {
						return nil, false
					}
					r = utf16.DecodeRune(r, r2)
					if r == utf8.RuneError {
						return nil, false
					}
				}
				b = utf8.AppendRune(b, r)
			default:
				return nil, false
			}
		case c < 0x20:
			return nil, false
		case c < utf8.RuneSelf:
			b = append(b, c)
			d.pos++
		default:
			r, n := utf8.DecodeRune(d.data[d.pos:])
			if r == utf8.RuneError && n == 1 {
				return nil, false
			}
			b = append(b, d.data[d.pos:d.pos+n]...)
			d.pos += n
		}
	}
	return nil, false
}

func (d *Decoder) hex4() (rune, bool) {
	if len(d.data)-d.pos < 4 {
		return 0, false
	}
	var r rune
	for _, c := range d.data[d.pos : d.pos+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	d.pos += 4
	return r, true
}

// integer reads a JSON number that is a plain integer: anything with a
// fraction or an exponent is left to encoding/json (which rejects it for
// an integer field), as is a magnitude beyond uint64.
func (d *Decoder) integer() (neg bool, mag uint64, ok bool) {
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == '-' {
		neg = true
		d.pos++
	}
	start := d.pos
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c < '0' || c > '9' {
			break
		}
		if mag > (1<<64-1)/10 {
			return false, 0, false
		}
		m := mag*10 + uint64(c-'0')
		if m < mag*10 {
			return false, 0, false
		}
		mag = m
		d.pos++
	}
	n := d.pos - start
	if n == 0 || (n > 1 && d.data[start] == '0') {
		return false, 0, false
	}
	if d.pos < len(d.data) {
		if c := d.data[d.pos]; c == '.' || c == 'e' || c == 'E' {
			return false, 0, false
		}
	}
	return neg, mag, true
}

// Once marks field i of an object seen, false if it was: encoding/json
// would decode a repeated field into what the first one left (merging
// objects), which the fast path does not copy.
func Once(seen *uint64, i uint) bool {
	if *seen&(1<<i) != 0 {
		return false
	}
	*seen |= 1 << i
	return true
}

// Raw reads one value and returns its text, for a type with its own
// UnmarshalJSON (which encoding/json gives the value's text, null
// included).
func (d *Decoder) Raw() ([]byte, bool) {
	d.ws()
	start := d.pos
	if !d.Skip() {
		return nil, false
	}
	return d.data[start:d.pos], true
}

// Unmarshaler decodes a value into u with its UnmarshalJSON; its errors
// are left to encoding/json.
func Unmarshaler(d *Decoder, u json.Unmarshaler) bool {
	raw, ok := d.Raw()
	return ok && u.UnmarshalJSON(raw) == nil
}

// The value decoders below leave *p as it is on null, as encoding/json
// does for these kinds.

func Str[T ~string](d *Decoder, p *T) bool {
	if d.Null() {
		return true
	}
	s, ok := d.text()
	if ok {
		*p = T(s)
	}
	return ok
}

func Bool[T ~bool](d *Decoder, p *T) bool {
	if d.Null() {
		return true
	}
	rest := d.data[d.pos:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		*p = true
		d.pos += 4
	case len(rest) >= 5 && string(rest[:5]) == "false":
		*p = false
		d.pos += 5
	default:
		return false
	}
	return true
}

func Signed[T ~int | ~int8 | ~int16 | ~int32 | ~int64](d *Decoder, p *T) bool {
	if d.Null() {
		return true
	}
	neg, mag, ok := d.integer()
	if !ok {
		return false
	}
	var n int64
	if neg {
		if mag > 1<<63 {
			return false
		}
		n = int64(-mag)
	} else {
		if mag > 1<<63-1 {
			return false
		}
		n = int64(mag)
	}
	if int64(T(n)) != n {
		return false
	}
	*p = T(n)
	return true
}

func Unsigned[T ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64](d *Decoder, p *T) bool {
	if d.Null() {
		return true
	}
	neg, mag, ok := d.integer()
	if !ok || neg { // encoding/json rejects even -0 here
		return false
	}
	if uint64(T(mag)) != mag {
		return false
	}
	*p = T(mag)
	return true
}

// Skip reads a value of a key no field takes, checking it is valid JSON
// as encoding/json would.
func (d *Decoder) Skip() bool {
	d.ws()
	if d.pos >= len(d.data) {
		return false
	}
	switch c := d.data[d.pos]; {
	case c == '{' || c == '[':
		d.depth++
		if d.depth > maxDepth {
			return false
		}
		d.pos++
		close := byte(']')
		if c == '{' {
			close = '}'
		}
		for first := true; ; first = false {
			more, ok := d.Next(first, close)
			if !ok {
				return false
			}
			if !more {
				break
			}
			if c == '{' {
				if _, ok := d.Key(); !ok {
					return false
				}
			}
			if !d.Skip() {
				return false
			}
		}
		d.depth--
		return true
	case c == '"':
		return d.skipStr()
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	case c == '-' || ('0' <= c && c <= '9'):
		return d.number()
	}
	return false
}

func (d *Decoder) literal(s string) bool {
	if len(d.data)-d.pos >= len(s) && string(d.data[d.pos:d.pos+len(s)]) == s {
		d.pos += len(s)
		return true
	}
	return false
}

// skipStr checks a string's escapes and control characters as
// encoding/json's scanner does (it does not check UTF-8 in a value it
// skips).
func (d *Decoder) skipStr() bool {
	d.pos++ // '"'
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			return true
		case c == '\\':
			if d.pos+1 >= len(d.data) {
				return false
			}
			d.pos++
			switch d.data[d.pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				d.pos++
			case 'u':
				d.pos++
				if _, ok := d.hex4(); !ok {
					return false
				}
			default:
				return false
			}
		case c < 0x20:
			return false
		default:
			d.pos++
		}
	}
	return false
}

// number checks JSON's number grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *Decoder) number() bool {
	if d.data[d.pos] == '-' {
		d.pos++
	}
	if d.pos >= len(d.data) {
		return false
	}
	if d.data[d.pos] == '0' {
		d.pos++
	} else if !d.digits() {
		return false
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		if !d.digits() {
			return false
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if !d.digits() {
			return false
		}
	}
	return true
}

// digits consumes one or more decimal digits.
func (d *Decoder) digits() bool {
	start := d.pos
	for d.pos < len(d.data) && '0' <= d.data[d.pos] && d.data[d.pos] <= '9' {
		d.pos++
	}
	return d.pos > start
}
