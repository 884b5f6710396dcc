package cri

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"

	"github.com/carapace-oci/carapace/tests/internal/subreaper"
)

func itoa(i int) string { return strconv.Itoa(i) }

func readlink(p string) (string, error) { return os.Readlink(p) }

// bgCrictl is a crictl that runs until the test stops it (port-forward,
// attach).
type bgCrictl struct {
	cmd *exec.Cmd
	mu  sync.Mutex
	out bytes.Buffer
}

func (b *bgCrictl) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.Write(p)
}

func (b *bgCrictl) output() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.String()
}

// startCrictl starts crictl in the background; t's cleanup stops it by
// its pid.
func (c *node) startCrictl(t *testing.T, args ...string) *bgCrictl {
	t.Helper()
	b := &bgCrictl{cmd: exec.Command("crictl", c.crictlArgs(args...)...)}
	b.cmd.Stdout, b.cmd.Stderr = b, b
	if err := subreaper.Start(b.cmd); err != nil {
		t.Fatalf("start crictl: %v", err)
	}
	t.Cleanup(func() {
		_ = b.cmd.Process.Signal(syscall.SIGTERM)
		_ = subreaper.Wait(b.cmd)
	})
	return b
}
