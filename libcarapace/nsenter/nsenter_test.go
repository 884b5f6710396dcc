package nsenter

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestBuildWithoutCgoFails: a build without cgo would lose non-dumpable
// children and the mount namespace join after exec; it must not build.
func TestBuildWithoutCgoFails(t *testing.T) {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.Command(goBin, "build", "-o", os.DevNull, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the nsenter package built without cgo")
	}
	if !strings.Contains(string(out), "CGO_ENABLED_1") {
		t.Errorf("the failure does not say how to build:\n%s", out)
	}
}
