package namespaces

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestCheckGranted: what a non-root caller may map is its own id and the
// ranges the subordinate id file gives it, by name or by number.
func TestCheckGranted(t *testing.T) {
	own := os.Geteuid()
	file := filepath.Join(t.TempDir(), "subuid")
	data := "someone:100000:65536\n" + strconv.Itoa(own) + ":200000:1000\n" + "#bad\n"
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	m := func(c, h, n uint32) specs.LinuxIDMapping {
		return specs.LinuxIDMapping{ContainerID: c, HostID: h, Size: n}
	}
	self := m(0, uint32(own), 1)
	for _, tc := range []struct {
		name string
		maps []specs.LinuxIDMapping
		want string
	}{
		{"own id only", []specs.LinuxIDMapping{self}, ""},
		{"own id and its range", []specs.LinuxIDMapping{self, m(1, 200000, 1000)}, ""},
		{"part of its range", []specs.LinuxIDMapping{m(0, 200500, 10)}, ""},
		{"past the end of its range", []specs.LinuxIDMapping{self, m(1, 200500, 1000)}, "x[1]: host ids 200500-201499 are not the caller's own"},
		{"another user's range", []specs.LinuxIDMapping{self, m(1, 100000, 10)}, "grants uid " + strconv.Itoa(own) + " 200000-200999"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkGranted("x", file, own, tc.maps)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("want no error, got %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error with %q, got %v", tc.want, err)
			}
		})
	}
	// No file: nothing but the own id.
	if err := checkGranted("x", filepath.Join(t.TempDir(), "none"), own, []specs.LinuxIDMapping{self, m(1, 200000, 1)}); err == nil || !strings.Contains(err.Error(), "none") {
		t.Fatalf("without the file: %v", err)
	}
}
