package harness

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRuntimeLeaks: a runtime root's container directory is found, deep
// under the suite's dir, and nothing else is.
func TestRuntimeLeaks(t *testing.T) {
	dir := t.TempDir()
	left := filepath.Join(dir, "containerd", "runc", "k8s.io", "e2e-left-xyz")
	if err := os.MkdirAll(left, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(left, "state.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "image", "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	got := RuntimeLeaks(dir)
	if len(got) != 1 || !strings.Contains(got[0], left) {
		t.Errorf("RuntimeLeaks: %v, want the state dir %s alone", got, left)
	}
	if got := RuntimeLeaks(filepath.Join(dir, "image")); len(got) != 0 {
		t.Errorf("RuntimeLeaks of a dir without containers: %v", got)
	}
}
