package flat_test

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/config"
	"github.com/carapace-oci/carapace/libcarapace/container"
	"github.com/carapace-oci/carapace/libcarapace/internal/flat"
	"github.com/carapace-oci/carapace/libcarapace/seccomp"
)

// fill sets every exported field reachable from v to a value that is not
// its zero value and differs from its neighbours' (a counter), so a round
// trip that drops, swaps or truncates any field of any nested type fails.
func fill(t *testing.T, v reflect.Value, n *int, depth int) {
	*n++
	if depth > 20 {
		t.Fatalf("type %s nests too deep (recursive?)", v.Type())
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		// Negative, to exercise the zigzag encoding.
		v.SetInt(-int64(*n % 100))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(uint64(*n%200) + 1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(*n) + 0.5)
	case reflect.String:
		v.SetString(strings.Repeat("s", *n%7+1) + "\x00é")
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := 0; i < 2; i++ {
			fill(t, s.Index(i), n, depth+1)
		}
		v.Set(s)
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			fill(t, v.Index(i), n, depth+1)
		}
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(t, p.Elem(), n, depth+1)
		v.Set(p)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i := 0; i < 2; i++ {
			k := reflect.New(v.Type().Key()).Elem()
			fill(t, k, n, depth+1)
			e := reflect.New(v.Type().Elem()).Elem()
			fill(t, e, n, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(t, v.Field(i), n, depth+1)
			}
		}
	case reflect.Interface:
		// What encoding/json makes of an object.
		v.Set(reflect.ValueOf(map[string]any{"k": "v", "n": float64(*n)}))
	default:
		t.Fatalf("fill: unexpected kind %s (%s)", v.Kind(), v.Type())
	}
}

func roundTrip[T any](t *testing.T, in *T) {
	t.Helper()
	b, err := flat.Marshal(in)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	out := new(T)
	if err := flat.Unmarshal(b, out); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if !reflect.DeepEqual(in, out) {
		ij, _ := json.Marshal(in)
		oj, _ := json.Marshal(out)
		t.Fatalf("round trip differs:\n in: %s\nout: %s", ij, oj)
	}
	// Deterministic: the same value encodes to the same bytes.
	if b2, _ := flat.Marshal(out); !bytes.Equal(b, b2) {
		t.Fatalf("re-encoding differs")
	}
}

// TestEveryField fills every field of what init and the exec helper are
// sent (the whole runtime spec included) and checks it comes back equal.
func TestEveryField(t *testing.T) {
	for name, v := range map[string]any{
		"InitConfig": new(container.InitConfig),
		"ExecConfig": new(container.ExecConfig),
	} {
		t.Run(name, func(t *testing.T) {
			n := 0
			fill(t, reflect.ValueOf(v).Elem(), &n, 0)
			if n < 50 {
				t.Fatalf("only %d values filled", n)
			}
			switch v := v.(type) {
			case *container.InitConfig:
				if v.Spec == nil || v.Spec.Linux == nil || v.Spec.Linux.Resources == nil || v.Spec.Windows == nil {
					t.Fatal("spec not filled")
				}
				roundTrip(t, v)
			case *container.ExecConfig:
				roundTrip(t, v)
			}
		})
	}
}

type kinds struct {
	B     bool
	I     int
	I8    int8
	I64   int64
	U8    uint8
	U16   uint16
	U64   uint64
	F     float64
	S     string
	Raw   json.RawMessage
	Bytes []byte
	Strs  []string
	Ptr   *int64
	PtrS  *kinds
	Map   map[string]string
	MapI  map[int]string
	Arr   [3]uint16
	Any   any
	Sock  []unix.SockFilter
	Mode  *uint32
	priv  int //nolint:unused // skipped: unexported
}

func TestRoundTrip(t *testing.T) {
	zero := int64(0)
	for _, tc := range []struct {
		name string
		in   kinds
	}{
		{"zero", kinds{}},
		{"empty not nil", kinds{Raw: json.RawMessage{}, Bytes: []byte{}, Strs: []string{}, Map: map[string]string{}, MapI: map[int]string{}, Sock: []unix.SockFilter{}}},
		{"nil vs empty elements", kinds{Strs: []string{"", "a", ""}, Map: map[string]string{"": ""}}},
		{"pointer to zero", kinds{Ptr: &zero, PtrS: &kinds{}}},
		{"extremes", kinds{I: math.MinInt, I8: math.MinInt8, I64: math.MaxInt64, U8: math.MaxUint8, U16: math.MaxUint16, U64: math.MaxUint64, F: math.Inf(-1)}},
		{"nested", kinds{PtrS: &kinds{S: "inner", PtrS: &kinds{B: true}}}},
		{"bytes", kinds{Raw: json.RawMessage(`{"a":1}`), Bytes: []byte{0, 255, 10}}},
		{"maps", kinds{Map: map[string]string{"b": "2", "a": "1", "c": ""}, MapI: map[int]string{-1: "x", 7: "y"}}},
		{"any scalar", kinds{Any: "str"}},
		{"any list", kinds{Any: []any{true, float64(1), nil, "x"}}},
		{"array", kinds{Arr: [3]uint16{1, 0, math.MaxUint16}}},
		{"sock filter", kinds{Sock: []unix.SockFilter{{Code: 6, Jt: 1, Jf: 2, K: 0x7fff0000}, {}}}},
		{"file mode", kinds{Mode: new(uint32)}},
	} {
		t.Run(tc.name, func(t *testing.T) { roundTrip(t, &tc.in) })
	}
}

// TestUnexportedSkipped: unexported fields are neither written nor read.
func TestUnexportedSkipped(t *testing.T) {
	b, err := flat.Marshal(&kinds{priv: 5})
	if err != nil {
		t.Fatal(err)
	}
	var out kinds
	if err := flat.Unmarshal(b, &out); err != nil || out.priv != 0 {
		t.Fatalf("priv %d, err %v", out.priv, err)
	}
}

// TestDefaultSpec: the spec carapace spec writes, as parsed from JSON,
// reaches init equal.
func TestDefaultSpec(t *testing.T) {
	raw, err := json.Marshal(config.Default(false, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := config.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, &container.InitConfig{ID: "c", Spec: spec, Seccomp: &seccomp.Program{Insns: []unix.SockFilter{{Code: 6}}, Notify: true},
		State: specs.State{ID: "c", Status: specs.StateCreated, Pid: 42, Annotations: map[string]string{"a": "b"}}})
}

// TestBadInput: every truncation of a valid encoding, trailing bytes and
// out-of-range values are errors, not panics nor wrong values.
func TestBadInput(t *testing.T) {
	in := kinds{S: "hello", Strs: []string{"a", "b"}, Ptr: new(int64), Map: map[string]string{"k": "v"}, Any: "x", Raw: json.RawMessage("[]"), B: true}
	b, err := flat.Marshal(&in)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(b); i++ {
		var out kinds
		if err := flat.Unmarshal(b[:i], &out); err == nil {
			t.Errorf("truncated to %d of %d bytes: no error", i, len(b))
		}
	}
	var out kinds
	if err := flat.Unmarshal(append(b[:len(b):len(b)], 0), &out); err == nil {
		t.Error("trailing byte: no error")
	}
	for _, tc := range []struct {
		name string
		data []byte
		v    any
	}{
		{"bool 2", []byte{2}, new(bool)},
		{"int8 overflow", []byte{0x80, 0x02}, new(int8)}, // zigzag 128
		{"uint8 overflow", []byte{0x80, 0x02}, new(uint8)},
		{"pointer tag 2", []byte{2}, new(*int)},
		{"huge slice", []byte{0xff, 0xff, 0xff, 0xff, 0x0f}, new([]string)},
		{"huge string", []byte{0xff, 0xff, 0xff, 0xff, 0x0f}, new(string)},
		{"huge map", []byte{0xff, 0xff, 0xff, 0xff, 0x0f}, new(map[string]string)},
		{"bad json", []byte{3, '{', '}', '}'}, new(any)},
		{"empty", nil, new(int)},
	} {
		if err := flat.Unmarshal(tc.data, tc.v); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	if err := flat.Unmarshal(b, out); err == nil {
		t.Error("non-pointer: no error")
	}
	if _, err := flat.Marshal(struct{ C chan int }{}); err == nil {
		t.Error("chan: no error")
	}
}

// FuzzUnmarshal: whatever the bytes, decoding into what init is sent
// returns (an error or a value), and what it returns encodes back to the
// same bytes.
func FuzzUnmarshal(f *testing.F) {
	spec, err := config.Parse(mustJSON(f, config.Default(false, 0, 0)))
	if err != nil {
		f.Fatal(err)
	}
	for _, v := range []any{
		&container.InitConfig{ID: "x", Spec: spec},
		&container.InitConfig{},
		&container.ExecConfig{Process: *spec.Process},
	} {
		b, err := flat.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var cfg container.InitConfig
		if err := flat.Unmarshal(data, &cfg); err != nil {
			return
		}
		b, err := flat.Marshal(&cfg)
		if err != nil {
			t.Fatalf("decoded value does not encode: %v", err)
		}
		var again container.InitConfig
		if err := flat.Unmarshal(b, &again); err != nil {
			t.Fatalf("re-encoded value does not decode: %v", err)
		}
		if !reflect.DeepEqual(&cfg, &again) {
			t.Fatal("second round trip differs")
		}
	})
}

func mustJSON(f *testing.F, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		f.Fatal(err)
	}
	return b
}
