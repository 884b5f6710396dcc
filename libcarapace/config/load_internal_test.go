package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// countFallbacks makes unmarshal count its uses for the test.
func countFallbacks(t *testing.T) *int {
	n := new(int)
	t.Cleanup(func() { unmarshal = json.Unmarshal })
	unmarshal = func(b []byte, v any) error {
		*n++
		return json.Unmarshal(b, v)
	}
	return n
}

// TestDecodeTakesFastPath: config.json as runtimes are given it (the
// testdata, `carapace spec`) and a process JSON decode without
// encoding/json, to what encoding/json gives; other input goes to
// encoding/json, with its errors as they were.
func TestDecodeTakesFastPath(t *testing.T) {
	fallbacks := countFallbacks(t)
	paths, err := filepath.Glob("testdata/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no configs in testdata: %v", err)
	}
	cfgs := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		cfgs[p] = b
	}
	for _, rootless := range []bool{false, true} {
		b, err := json.Marshal(Default(rootless, 1000, 1000))
		if err != nil {
			t.Fatal(err)
		}
		cfgs["default"+map[bool]string{false: "", true: "-rootless"}[rootless]] = b
	}
	for name, raw := range cfgs {
		*fallbacks = 0
		got, err := decode(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if *fallbacks != 0 {
			t.Errorf("%s: decoded by encoding/json, not the fast path", name)
		}
		var want specs.Spec
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("%s: fast path gives %+v, encoding/json %+v", name, got, &want)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		*fallbacks = 0
		p, err := ParseProcess(m["process"])
		if err != nil || *fallbacks != 0 || !reflect.DeepEqual(p, want.Process) {
			t.Errorf("%s: ParseProcess = %+v, %v (%d fallbacks), want %+v", name, p, err, *fallbacks, want.Process)
		}
	}

	// A key in the wrong case: encoding/json takes it, so the fallback
	// does, to the same result.
	*fallbacks = 0
	s, err := decode([]byte(`{"ociVersion":"1.0.2","Hostname":"h"}`))
	if err != nil || *fallbacks != 1 || s.Hostname != "h" {
		t.Errorf("case-mismatch key: %+v, %v, %d fallbacks", s, err, *fallbacks)
	}
	// Errors are encoding/json's.
	bad := []byte(`{"args":"sh"}`)
	_, err = ParseProcess(bad)
	want := json.Unmarshal(bad, new(specs.Process))
	if err == nil || want == nil || err.Error() != want.Error() {
		t.Errorf("ParseProcess(%s) = %v, want %v", bad, err, want)
	}
}
