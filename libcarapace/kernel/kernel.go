// Package kernel states the oldest Linux that Carapace runs containers on,
// and checks the running kernel against it.
package kernel

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Minimum is the oldest kernel Carapace supports: mount_setattr (5.12),
// which makes every linux.readonlyPaths entry and every bind mount with
// options read-only (nosuid, ...) on a detached tree before it is
// attached, has no fallback that keeps that guarantee; nor has openat2
// (5.6), which every path inside a container's root is resolved with.
// Everything else the runtime uses is older than 5.12 (clone3 into a
// cgroup 5.7, subset=pid procfs 5.8, close_range with CLOSE_RANGE_CLOEXEC
// 5.11, pidfd_open 5.3, the new mount API 5.2, TIOCGPTPEER 4.13). What
// still falls back does so only where the kernel has the feature but a
// policy refuses it, and keeps its defence: see docs/security.md, "Minimum
// kernel and fallbacks".
var Minimum = Version{5, 12}

// required are the syscalls without which no container can be set up
// safely, probed by Check with arguments the kernel refuses before doing
// anything: ENOSYS (or EPERM, from a seccomp filter around the runtime)
// means the syscall cannot be used at all.
var required = []struct {
	name  string
	nr    uintptr
	args  [6]uintptr
	since string
	why   string
	// permFirst: the kernel checks the caller's privilege before the
	// arguments, so EPERM is its answer to an unprivileged (rootless)
	// caller, not a filter's; only ENOSYS says the syscall is missing.
	permFirst bool
}{
	{name: "openat2", nr: unix.SYS_OPENAT2, args: [6]uintptr{^uintptr(0), 0, 0, 0}, since: "5.6",
		why: "resolves every path inside the container's root without leaving it"},
	{name: "mount_setattr", nr: unix.SYS_MOUNT_SETATTR, args: [6]uintptr{^uintptr(0), 0, 0, 0, 0}, since: "5.12",
		why: "makes linux.readonlyPaths and bind mount options apply before a mount is attached"},
	{name: "open_tree", nr: unix.SYS_OPEN_TREE, args: [6]uintptr{^uintptr(0), 0, ^uintptr(0)}, since: "5.2",
		why: "clones bind mounts and the runtime's sealed binary as detached trees"},
	{name: "move_mount", nr: unix.SYS_MOVE_MOUNT, args: [6]uintptr{^uintptr(0), 0, ^uintptr(0), 0, ^uintptr(0)}, since: "5.2",
		why: "attaches detached mounts at an fd resolved inside the root", permFirst: true},
	{name: "fsopen", nr: unix.SYS_FSOPEN, args: [6]uintptr{0, ^uintptr(0)}, since: "5.2",
		why: "makes the tmpfs that hides linux.maskedPaths directories", permFirst: true},
	{name: "pidfd_open", nr: unix.SYS_PIDFD_OPEN, args: [6]uintptr{0, ^uintptr(0)}, since: "5.3",
		why: "signals a container's processes without racing pid reuse"},
}

// Version is a kernel release's major and minor numbers.
type Version struct{ Major, Minor int }

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// Less reports whether v is older than w.
func (v Version) Less(w Version) bool {
	return v.Major < w.Major || (v.Major == w.Major && v.Minor < w.Minor)
}

// Parse reads the major and minor numbers of a release string such as
// "6.1.0-27-amd64" or "5.14.0-427.el9.x86_64".
func Parse(release string) (Version, error) {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return Version{}, fmt.Errorf("kernel release %q: not MAJOR.MINOR", release)
	}
	major, err := strconv.Atoi(parts[0])
	if err != nil {
		return Version{}, fmt.Errorf("kernel release %q: not MAJOR.MINOR", release)
	}
	minor := parts[1]
	if i := strings.IndexFunc(minor, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minor = minor[:i]
	}
	m, err := strconv.Atoi(minor)
	if err != nil {
		return Version{}, fmt.Errorf("kernel release %q: not MAJOR.MINOR", release)
	}
	return Version{major, m}, nil
}

// Check fails, with an error that says what to do, on a kernel older than
// Minimum or one that refuses a syscall the runtime cannot do without:
// containers would otherwise fail later with ENOSYS from deep inside
// their setup, or be tempted into a fallback that loses a defence.
func Check() error {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return fmt.Errorf("uname: %w", err)
	}
	release := unix.ByteSliceToString(u.Release[:])
	v, err := Parse(release)
	if err != nil {
		return err
	}
	if v.Less(Minimum) {
		return fmt.Errorf("this kernel is Linux %s (%s): carapace needs Linux %s or newer (mount_setattr, openat2); upgrade the kernel", v, release, Minimum)
	}
	for _, p := range required {
		_, _, e := unix.Syscall6(p.nr, p.args[0], p.args[1], p.args[2], p.args[3], p.args[4], p.args[5])
		if e == unix.ENOSYS || (e == unix.EPERM && !p.permFirst) {
			return fmt.Errorf("this kernel is Linux %s (%s) but %s fails with %w: carapace needs it (Linux %s+) because it %s; "+
				"if a seccomp profile or LSM policy around carapace refuses it, allow %s", v, release, p.name, e, p.since, p.why, p.name)
		}
	}
	return nil
}
