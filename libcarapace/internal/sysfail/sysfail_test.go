package sysfail

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// The filter hits the listed syscalls, on the filtered thread only.
func TestRun(t *testing.T) {
	getppid := func() error {
		_, _, e := unix.RawSyscall(unix.SYS_GETPPID, 0, 0, 0)
		if e != 0 {
			return e
		}
		return nil
	}
	err := Run(unix.ENOSYS, []uintptr{unix.SYS_GETTID, unix.SYS_GETPPID}, getppid)
	if !errors.Is(err, unix.ENOSYS) {
		t.Fatalf("getppid under the filter: %v, want ENOSYS", err)
	}
	if err := Run(unix.ENOSYS, []uintptr{unix.SYS_GETTID}, getppid); err != nil {
		t.Fatalf("getppid, not filtered: %v", err)
	}
	if err := getppid(); err != nil {
		t.Fatalf("getppid after: %v (the filter leaked to another thread)", err)
	}
}
