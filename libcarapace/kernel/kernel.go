// Package kernel states the oldest Linux that Carapace runs containers on,
// and checks the running kernel against it.
package kernel

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Minimum is the oldest kernel Carapace supports: openat2 (5.6), which
// every path inside a container's root is resolved with, has no fallback.
// Older-than-ideal features fall back: clone3 into a cgroup (5.7),
// close_range (5.9), mount_setattr (5.12), fsopen (5.2) and subset=pid
// procfs (5.8).
var Minimum = Version{5, 6}

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
// Minimum: containers would otherwise fail later with ENOSYS from deep
// inside their setup.
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
		return fmt.Errorf("this kernel is Linux %s (%s): carapace needs Linux %s or newer (openat2); upgrade the kernel", v, release, Minimum)
	}
	return nil
}
