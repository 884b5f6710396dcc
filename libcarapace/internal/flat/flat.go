// Package flat is the binary form in which the runtime hands a container's
// init (and an exec's helper) its configuration: the Go values themselves,
// field after field, with no names and no text to scan.
//
// Init is a fresh Go process for every container: decoding the spec there
// with encoding/json cost milliseconds, most of it building, cold, the
// per-type tables json needs (field names, tags, case folding) for the
// hundred-odd types of the runtime spec. Here a value is read in the order
// of its type's fields, which needs none of that.
//
// The two ends are the same binary, so the format has no versioning: what
// Marshal writes is only ever read by Unmarshal of the same build. The
// decoder still treats its input as untrusted (every length is checked
// against what is left, so bad input is an error, never a panic nor a
// huge allocation).
//
// Encoding, by kind: bool one byte; signed integers zigzag varints;
// unsigned integers varints; floats their IEEE bits as varints; strings
// and []byte a length and the bytes; slices and maps 0 for nil, else 1 +
// the length, then the elements (map entries sorted by key when the keys
// are strings or integers, so the output is deterministic); pointers 0
// for nil, else 1 and the value; arrays and structs their elements or
// exported fields in order (unexported fields are skipped); interfaces,
// which only the runtime spec's windows section has, as JSON, exactly as
// encoding/json would decode them.
package flat

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
)

// Marshal encodes v, or what v points to (anything but channels and
// functions), for Unmarshal into a pointer to that type.
func Marshal(v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil, errors.New("flat: Marshal of a nil pointer")
		}
		rv = rv.Elem()
	}
	e := encoder{buf: make([]byte, 0, 4096)}
	if err := e.value(rv); err != nil {
		return nil, err
	}
	return e.buf, nil
}

// Unmarshal decodes data, written by Marshal from a value of the type v
// points to, into *v. All of data must be used.
func Unmarshal(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("flat: Unmarshal needs a non-nil pointer")
	}
	d := decoder{buf: data}
	if err := d.value(rv.Elem()); err != nil {
		return err
	}
	if len(d.buf) != 0 {
		return fmt.Errorf("flat: %d bytes left over", len(d.buf))
	}
	return nil
}

type encoder struct{ buf []byte }

func (e *encoder) uvarint(u uint64) { e.buf = binary.AppendUvarint(e.buf, u) }

func (e *encoder) value(v reflect.Value) error {
	switch v.Kind() {
	case reflect.Bool:
		if v.Bool() {
			e.buf = append(e.buf, 1)
		} else {
			e.buf = append(e.buf, 0)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf = binary.AppendVarint(e.buf, v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.uvarint(v.Uint())
	case reflect.Float32, reflect.Float64:
		e.uvarint(math.Float64bits(v.Float()))
	case reflect.String:
		e.uvarint(uint64(v.Len()))
		e.buf = append(e.buf, v.String()...)
	case reflect.Slice:
		if v.IsNil() {
			e.uvarint(0)
			return nil
		}
		e.uvarint(uint64(v.Len()) + 1)
		if v.Type().Elem().Kind() == reflect.Uint8 {
			e.buf = append(e.buf, v.Bytes()...)
			return nil
		}
		for i := 0; i < v.Len(); i++ {
			if err := e.value(v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if err := e.value(v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Pointer:
		if v.IsNil() {
			e.uvarint(0)
			return nil
		}
		e.uvarint(1)
		return e.value(v.Elem())
	case reflect.Map:
		if v.IsNil() {
			e.uvarint(0)
			return nil
		}
		e.uvarint(uint64(v.Len()) + 1)
		keys := v.MapKeys()
		switch v.Type().Key().Kind() {
		case reflect.String:
			sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			sort.Slice(keys, func(i, j int) bool { return keys[i].Int() < keys[j].Int() })
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			sort.Slice(keys, func(i, j int) bool { return keys[i].Uint() < keys[j].Uint() })
		}
		for _, k := range keys {
			if err := e.value(k); err != nil {
				return err
			}
			if err := e.value(v.MapIndex(k)); err != nil {
				return err
			}
		}
	case reflect.Struct:
		// CanInterface is false for unexported fields, and far cheaper
		// than Type.Field(i), which builds a StructField (name, tag...).
		for i := 0; i < v.NumField(); i++ {
			if f := v.Field(i); f.CanInterface() {
				if err := e.value(f); err != nil {
					return err
				}
			}
		}
	case reflect.Interface:
		if v.NumMethod() != 0 {
			return fmt.Errorf("flat: cannot encode a %s", v.Type())
		}
		if v.IsNil() {
			e.uvarint(0)
			return nil
		}
		b, err := json.Marshal(v.Interface())
		if err != nil {
			return fmt.Errorf("flat: %s: %w", v.Type(), err)
		}
		e.uvarint(uint64(len(b)) + 1)
		e.buf = append(e.buf, b...)
	default:
		return fmt.Errorf("flat: cannot encode a %s", v.Type())
	}
	return nil
}

type decoder struct{ buf []byte }

var errShort = errors.New("flat: data ends early")

func (d *decoder) uvarint() (uint64, error) {
	u, n := binary.Uvarint(d.buf)
	if n <= 0 {
		return 0, errShort
	}
	d.buf = d.buf[n:]
	return u, nil
}

// count reads the length of a slice, map or string-like value whose
// elements take at least one byte each: more than what is left is bad
// input (and would otherwise be allocated before it is found out).
func (d *decoder) count() (int, error) {
	n, err := d.uvarint()
	if err != nil {
		return 0, err
	}
	if n > uint64(len(d.buf)) {
		return 0, errShort
	}
	return int(n), nil
}

// present reads the 0-or-length+1 header of a slice, map or interface.
func (d *decoder) present() (n int, ok bool, err error) {
	u, err := d.uvarint()
	if err != nil || u == 0 {
		return 0, false, err
	}
	if u-1 > uint64(len(d.buf)) {
		return 0, false, errShort
	}
	return int(u - 1), true, nil
}

func (d *decoder) bytes(n int) []byte {
	b := d.buf[:n:n]
	d.buf = d.buf[n:]
	return b
}

func (d *decoder) value(v reflect.Value) error {
	switch v.Kind() {
	case reflect.Bool:
		if len(d.buf) == 0 {
			return errShort
		}
		if d.buf[0] > 1 {
			return fmt.Errorf("flat: bad bool %d", d.buf[0])
		}
		v.SetBool(d.buf[0] == 1)
		d.buf = d.buf[1:]
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, n := binary.Varint(d.buf)
		if n <= 0 {
			return errShort
		}
		d.buf = d.buf[n:]
		if v.OverflowInt(i) {
			return fmt.Errorf("flat: %d overflows %s", i, v.Type())
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u, err := d.uvarint()
		if err != nil {
			return err
		}
		if v.OverflowUint(u) {
			return fmt.Errorf("flat: %d overflows %s", u, v.Type())
		}
		v.SetUint(u)
	case reflect.Float32, reflect.Float64:
		u, err := d.uvarint()
		if err != nil {
			return err
		}
		v.SetFloat(math.Float64frombits(u))
	case reflect.String:
		n, err := d.count()
		if err != nil {
			return err
		}
		v.SetString(string(d.bytes(n)))
	case reflect.Slice:
		n, ok, err := d.present()
		if err != nil || !ok {
			return err
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, n)
			copy(b, d.bytes(n))
			v.SetBytes(b)
			return nil
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := 0; i < n; i++ {
			if err := d.value(s.Index(i)); err != nil {
				return err
			}
		}
		v.Set(s)
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if err := d.value(v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Pointer:
		u, err := d.uvarint()
		if err != nil {
			return err
		}
		switch u {
		case 0:
			return nil
		case 1:
		default:
			return fmt.Errorf("flat: bad pointer tag %d", u)
		}
		p := reflect.New(v.Type().Elem())
		if err := d.value(p.Elem()); err != nil {
			return err
		}
		v.Set(p)
	case reflect.Map:
		n, ok, err := d.present()
		if err != nil || !ok {
			return err
		}
		t := v.Type()
		m := reflect.MakeMapWithSize(t, n)
		for i := 0; i < n; i++ {
			k := reflect.New(t.Key()).Elem()
			if err := d.value(k); err != nil {
				return err
			}
			e := reflect.New(t.Elem()).Elem()
			if err := d.value(e); err != nil {
				return err
			}
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if f := v.Field(i); f.CanInterface() {
				if err := d.value(f); err != nil {
					return err
				}
			}
		}
	case reflect.Interface:
		n, ok, err := d.present()
		if err != nil || !ok {
			return err
		}
		if v.NumMethod() != 0 {
			return fmt.Errorf("flat: cannot decode into a %s", v.Type())
		}
		var x any
		if err := json.Unmarshal(d.bytes(n), &x); err != nil {
			return fmt.Errorf("flat: %s: %w", v.Type(), err)
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
	default:
		return fmt.Errorf("flat: cannot decode a %s", v.Type())
	}
	return nil
}
