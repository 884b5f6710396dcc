package container

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// inheritedEnd is one past the last descriptor of the run 3, 4, ... that
// the runtime was started with, noted before it opened any of its own.
var inheritedEnd = 3

// NoteInheritedFDs records which descriptors after stdio the runtime was
// started with, and makes every one of them close-on-exec. Call it first
// thing: --preserve-fds and LISTEN_FDS may pass on only those, never one
// the runtime opened itself (a log file, a cgroup directory) in a slot the
// caller left empty; and none of them reaches a hook or anything else the
// runtime starts unless it is passed on explicitly (spawn lists the
// preserved ones).
func NoteInheritedFDs() {
	fd := 3
	for ; ; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			break
		}
	}
	inheritedEnd = fd
	// Kernels before 5.9 lack close_range: the preserved ones are still
	// passed explicitly, others inherited as before.
	_ = unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
}

// checkPassedFDs checks that fds 3 .. 3+n-1 are all descriptors the
// runtime was started with.
func checkPassedFDs(preserve, listen int) error {
	if preserve < 0 {
		return fmt.Errorf("--preserve-fds %d: must not be negative", preserve)
	}
	if n := preserve + listen; 3+n > inheritedEnd {
		what := fmt.Sprintf("--preserve-fds %d", preserve)
		if listen > 0 {
			what = fmt.Sprintf("LISTEN_FDS=%d with %s", listen, what)
		}
		return fmt.Errorf("%s: fd %d was not open when carapace started (it was given fds 3 to %d)", what, inheritedEnd, inheritedEnd-1)
	}
	return nil
}
