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

// Syscall is one syscall the runtime cannot do without, with a call the
// kernel refuses before doing anything (EINVAL, EBADF, EFAULT): only
// ENOSYS, or EPERM from a filter around the runtime, says it is unusable.
type Syscall struct {
	Name  string
	Nr    uintptr
	Args  [6]uintptr
	Since string
	Why   string
	// PermFirst: the kernel checks the caller's privilege before the
	// arguments, so EPERM is its answer to an unprivileged (rootless)
	// caller, not a filter's; only ENOSYS says the syscall is missing.
	PermFirst bool
}

// Probe makes the refused call and returns its errno.
func (s Syscall) Probe() unix.Errno {
	_, _, e := unix.Syscall6(s.Nr, s.Args[0], s.Args[1], s.Args[2], s.Args[3], s.Args[4], s.Args[5])
	return e
}

// Required are the syscalls without which no container can be set up
// safely: Check refuses to go on without them, and carapace check
// reports them.
var Required = []Syscall{
	{Name: "openat2", Nr: unix.SYS_OPENAT2, Args: [6]uintptr{^uintptr(0), 0, 0, 0}, Since: "5.6",
		Why: "resolves every path inside the container's root without leaving it"},
	{Name: "mount_setattr", Nr: unix.SYS_MOUNT_SETATTR, Args: [6]uintptr{^uintptr(0), 0, 0, 0, 0}, Since: "5.12",
		Why: "makes linux.readonlyPaths and bind mount options apply before a mount is attached"},
	{Name: "open_tree", Nr: unix.SYS_OPEN_TREE, Args: [6]uintptr{^uintptr(0), 0, ^uintptr(0)}, Since: "5.2",
		Why: "clones bind mounts and the runtime's sealed binary as detached trees"},
	{Name: "move_mount", Nr: unix.SYS_MOVE_MOUNT, Args: [6]uintptr{^uintptr(0), 0, ^uintptr(0), 0, ^uintptr(0)}, Since: "5.2",
		Why: "attaches detached mounts at an fd resolved inside the root", PermFirst: true},
	{Name: "fsopen", Nr: unix.SYS_FSOPEN, Args: [6]uintptr{0, ^uintptr(0)}, Since: "5.2",
		Why: "makes the tmpfs that hides linux.maskedPaths directories", PermFirst: true},
	{Name: "pidfd_open", Nr: unix.SYS_PIDFD_OPEN, Args: [6]uintptr{0, ^uintptr(0)}, Since: "5.3",
		Why: "signals a container's processes without racing pid reuse"},
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
	for _, p := range Required {
		if e := p.Probe(); e == unix.ENOSYS || (e == unix.EPERM && !p.PermFirst) {
			return fmt.Errorf("this kernel is Linux %s (%s) but %s fails with %w: carapace needs it (Linux %s+) because it %s; "+
				"if a seccomp profile or LSM policy around carapace refuses it, allow %s", v, release, p.Name, e, p.Since, p.Why, p.Name)
		}
	}
	return nil
}
