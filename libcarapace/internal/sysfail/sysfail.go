// Package sysfail lets a test see what the runtime does when the kernel
// lacks a system call, on a kernel that has it: a seccomp filter makes the
// chosen syscalls fail with an errno, as an older kernel (ENOSYS) or a
// seccomp profile around the runtime (EPERM) would.
//
// The filter goes on one locked OS thread only, with no_new_privs (so no
// privilege is needed), and that thread ends with the goroutine that ran
// the test function: Go does not reuse a thread its goroutine left locked.
package sysfail

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Run calls f on a fresh OS thread on which each syscall in nrs fails
// with errno, and returns f's error, or the error of setting the thread
// up. No other thread of the process is affected.
func Run(errno unix.Errno, nrs []uintptr, f func() error) error {
	ch := make(chan error, 1)
	go func() {
		// Never unlocked: the thread carries the filter and must die
		// with this goroutine.
		runtime.LockOSThread()
		if err := load(errno, nrs); err != nil {
			ch <- err
			return
		}
		ch <- f()
	}()
	return <-ch
}

// load installs, on the calling thread, a filter that returns errno for
// the syscalls nrs and allows everything else.
func load(errno unix.Errno, nrs []uintptr) error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return err
	}
	// seccomp_data.nr is at offset 0.
	insns := []unix.SockFilter{{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}}
	for i, nr := range nrs {
		// Jump to the ERRNO return (the last instruction) on a match.
		insns = append(insns, unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: uint32(nr), Jt: uint8(len(nrs) - i)})
	}
	insns = append(insns,
		unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
		unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(errno)},
	)
	prog := unix.SockFprog{Len: uint16(len(insns)), Filter: &insns[0]}
	_, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&prog)))
	runtime.KeepAlive(insns)
	if e != 0 {
		return e
	}
	return nil
}
