// Package timerslack keeps the runtime's own timer slack out of the
// processes it starts.
//
// Every carapace process (the CLI, a container's init, an exec helper)
// raises its timer slack before the Go runtime starts (nsenter.c). Go's
// sysmon thread sleeps 20 µs at a time while the process is busy and
// wakes again at once whenever a system call blocks; in a process that
// lives for milliseconds those wake-ups were most of its context
// switches. With a larger slack the kernel may batch them: timed waits
// end up to the slack later, which no verb notices (its waits are on
// events, and its polling loops sleep milliseconds).
//
// The slack is inherited across fork and execve, so whatever the runtime
// starts gets the caller's slack back: a container's process (Restore,
// before execve), a hook or a helper (Start, around the fork).
package timerslack

import (
	"runtime"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// host is the caller's timer slack in ns (what this process had before
// it raised its own), 0 when not known: then nothing is changed.
var host atomic.Uint64

// SetHost records the caller's timer slack; nsenter does, at start.
func SetHost(ns uint64) { host.Store(ns) }

// Restore gives the calling thread the caller's timer slack, for good:
// the caller locks the thread and execs from it.
func Restore() error {
	ns := host.Load()
	if ns == 0 {
		return nil
	}
	return unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(ns), 0, 0, 0)
}

// Start runs start (which forks a child: exec.Cmd.Start, syscall.ForkExec)
// on a thread that has the caller's timer slack, so that the child
// inherits that and not the runtime's, and puts the thread's back after.
func Start(start func() error) error {
	ns := host.Load()
	if ns == 0 {
		return start()
	}
	// Go forks from the calling thread: locked, it is this one.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cur, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil || uint64(cur) == ns {
		return start()
	}
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(ns), 0, 0, 0); err != nil {
		return start()
	}
	defer unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(cur), 0, 0, 0)
	return start()
}
