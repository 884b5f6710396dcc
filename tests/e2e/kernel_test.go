package e2e

import (
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// withRefusedSyscall runs f on a fresh OS thread whose seccomp filter
// makes syscall nr fail with errno; every process f starts from that
// thread inherits the filter (with no_new_privs), as the runtime would
// under a container engine's or a sandbox's profile, or on a kernel
// without the syscall. The thread ends with f: its goroutine never
// unlocks it.
func withRefusedSyscall(t *testing.T, nr uintptr, errno unix.Errno, f func()) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			done <- err
			return
		}
		insns := []unix.SockFilter{
			{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // seccomp_data.nr
			{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: uint32(nr), Jt: 1},
			{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
			{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(errno)},
		}
		prog := unix.SockFprog{Len: uint16(len(insns)), Filter: &insns[0]}
		_, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&prog)))
		runtime.KeepAlive(insns)
		if e != 0 {
			done <- e
			return
		}
		f()
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatalf("seccomp filter for the runtime: %v", err)
	}
}

// TestKernelMissingSyscallFailsEarly: a runtime that cannot use
// mount_setattr (Linux before 5.12, or a profile that refuses it) refuses
// to create the container up front, naming the syscall, instead of
// failing halfway through the mounts with a bare ENOSYS; and leaves
// nothing behind.
func TestKernelMissingSyscallFailsEarly(t *testing.T) {
	requireCarapace(t)
	for _, tc := range []struct {
		name  string
		nr    uintptr
		errno unix.Errno
	}{
		{"mount_setattr", unix.SYS_MOUNT_SETATTR, unix.ENOSYS},
		{"mount_setattr", unix.SYS_MOUNT_SETATTR, unix.EPERM},
		{"openat2", unix.SYS_OPENAT2, unix.ENOSYS},
	} {
		t.Run(tc.name+"-"+unix.ErrnoName(tc.errno), func(t *testing.T) {
			c := newContainer(t)
			c.Spec.Process.Args = []string{"true"}
			var r result
			withRefusedSyscall(t, tc.nr, tc.errno, func() { r = c.Run() })
			if r.ok() {
				t.Fatalf("run succeeded with %s refused", tc.name)
			}
			if !strings.Contains(r.Stderr, tc.name+" fails with") || !strings.Contains(r.Stderr, "carapace needs it") {
				t.Errorf("run with %s refused: want the kernel check's error naming it, got:\n%s", tc.name, r)
			}
			c.checkNoLeftovers("refused run")
		})
	}
}
