package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carapace-oci/carapace/libcarapace/config"
)

// The fuzz targets for config.json: whatever the file holds, loading and
// validating it ends in a bundle or an error naming config.json, never a
// panic. Their seed corpus (below and in testdata/fuzz) runs with every go
// test; go test -fuzz=FuzzLoadConfig explores further.

// configSeeds are real config.json files: runc spec's output (as root and
// rootless) and one using most of the spec, plus the small cases
// TestParse covers.
func configSeeds(f *testing.F) {
	paths, err := filepath.Glob("testdata/*.json")
	if err != nil || len(paths) == 0 {
		f.Fatalf("no seed configs in testdata: %v", err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{``, `null`, `[]`, `{"ociVersion":"1.0.0"}`, `{"ociVersion": "1.0.0",}`,
		`{"process": {"args": "sh"}}`, `{"linux": {"namespaces": [{"type": 1}]}}`,
		`{"ociVersion":"1.3.0","root":{"path":"rootfs"},"process":{"args":["sh"],"cwd":"/"},"mounts":[{"destination":"tmp","type":"tmpfs"}]}`} {
		f.Add([]byte(s))
	}
}

// checkConfigErr: an error about the file names it.
func checkConfigErr(t *testing.T, err error) {
	t.Helper()
	var fe *config.FieldError
	if errors.As(err, &fe) && !strings.HasPrefix(err.Error(), config.Name) {
		t.Errorf("error does not name %s: %v", config.Name, err)
	}
}

// FuzzLoadConfig: Load on a bundle whose config.json is the input.
func FuzzLoadConfig(f *testing.F) {
	configSeeds(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, "rootfs"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, config.Name), raw, 0o644); err != nil {
			t.Fatal(err)
		}
		b, err := config.Load(dir)
		if err != nil {
			if b != nil {
				t.Errorf("Load returned a bundle and an error: %v", err)
			}
			checkConfigErr(t, err)
			return
		}
		if b.Spec == nil || b.Rootfs == "" || string(b.Raw) != string(raw) {
			t.Errorf("Load succeeded with an incomplete bundle: %+v", b)
		}
	})
}

// FuzzValidate: Parse, then Validate on what it decoded. Validation is
// repeatable (init validates the same text again after the runtime did):
// the same spec gives the same answer twice.
func FuzzValidate(f *testing.F) {
	configSeeds(f)
	dir := f.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "rootfs"), 0o755); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := config.Parse(raw)
		if err != nil {
			if s != nil {
				t.Errorf("Parse returned a spec and an error: %v", err)
			}
			checkConfigErr(t, err)
			return
		}
		err1 := config.Validate(&config.Bundle{Dir: dir, Spec: s, Raw: raw})
		checkConfigErr(t, err1)
		s2, err := config.Parse(raw)
		if err != nil {
			t.Fatalf("second Parse: %v", err)
		}
		err2 := config.Validate(&config.Bundle{Dir: dir, Spec: s2, Raw: raw})
		if (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
			t.Errorf("Validate is not repeatable: %v, then %v", err1, err2)
		}
	})
}
