package lsm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/internal/sysfail"
	"github.com/carapace-oci/carapace/libcarapace/procfs"
)

// TestOpenAttrOnlyProcfs: a root that is not procfs (a fake /proc with
// the attr files in place, as a container could make) is refused, so a
// label is never written to a file that confines nothing.
func TestOpenAttrOnlyProcfs(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"thread-self/attr/apparmor/exec", "thread-self/attr/exec"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	root, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(root)
	for _, set := range []func() error{
		func() error { return SetAppArmorExec(root, "p") },
		func() error { return SetSELinuxExec(root, "system_u:system_r:container_t:s0") },
	} {
		if err := set(); err == nil || !strings.Contains(err.Error(), "not a procfs file") {
			t.Errorf("on a fake proc: %v, want a refusal", err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "thread-self/attr/apparmor/exec")); len(b) != 0 {
		t.Errorf("written to the fake proc: %q", b)
	}
}

// TestOpenAttrPrivateProcfs: the calling thread's attr files are found
// in the runtime's private procfs.
func TestOpenAttrPrivateProcfs(t *testing.T) {
	if _, err := os.Stat("/proc/thread-self/attr/exec"); err != nil {
		t.Skip("no attr files on this kernel")
	}
	root, err := procfs.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(root)
	fd, err := openAttr(root, "exec")
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
}

// TestOpenAttrNoFallbackWithoutOpenat2: without openat2 (a kernel older
// than kernel.Minimum, or a seccomp filter around the runtime that says
// ENOSYS) the attr file is not opened at all. A plain openat would follow
// a mount over /proc/thread-self/attr, the write that confines the
// process could land elsewhere, and the process would run unconfined.
func TestOpenAttrNoFallbackWithoutOpenat2(t *testing.T) {
	if _, err := os.Stat("/proc/thread-self/attr/exec"); err != nil {
		t.Skip("no attr files on this kernel")
	}
	root, err := procfs.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(root)
	err = sysfail.Run(unix.ENOSYS, []uintptr{unix.SYS_OPENAT2}, func() error {
		fd, err := openAttr(root, "exec")
		if err == nil {
			unix.Close(fd)
		}
		return err
	})
	if err == nil {
		t.Fatal("openAttr without openat2 opened the attr file (fell back to openat)")
	}
	if !strings.Contains(err.Error(), "openat2") {
		t.Errorf("error %q does not name openat2", err)
	}
}
