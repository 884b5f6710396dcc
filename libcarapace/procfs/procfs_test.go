package procfs

import (
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// TestOpenIsPrivate: the handle is a procfs showing this process, and a
// mount of its own, not the /proc mount (which a container could cover).
func TestOpenIsPrivate(t *testing.T) {
	root, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(root)
	buf := make([]byte, 64)
	n, err := unix.Readlinkat(root, "self", buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(buf[:n]); got != strconv.Itoa(os.Getpid()) {
		t.Errorf("self = %q, want %d", got, os.Getpid())
	}
	var inst, host unix.Statx_t
	if err := unix.Statx(root, "", unix.AT_EMPTY_PATH, unix.STATX_MNT_ID, &inst); err != nil {
		t.Fatal(err)
	}
	if err := unix.Statx(unix.AT_FDCWD, "/proc", 0, unix.STATX_MNT_ID, &host); err != nil {
		t.Fatal(err)
	}
	if inst.Mnt_id == host.Mnt_id {
		t.Errorf("the handle is the /proc mount (mount id %d), not a private one", host.Mnt_id)
	}
	// No /proc/sys in a subset=pid instance (Linux 5.8+).
	if _, err := unix.Openat(root, "sys/kernel/core_pattern", unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
		t.Errorf("the private procfs shows sys/: subset=pid not applied")
	}
}

// TestReopenFD reopens a pipe's write end through the handle.
func TestReopenFD(t *testing.T) {
	root, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(root)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	fd, err := ReopenFD(root, int(w.Fd()), unix.O_WRONLY)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Write(fd, []byte("x")); err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	b := make([]byte, 1)
	if _, err := r.Read(b); err != nil || b[0] != 'x' {
		t.Errorf("read %q, %v", b, err)
	}
}
