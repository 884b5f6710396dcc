package kernel

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/internal/sysfail"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Version
		ok   bool
	}{
		{"6.1.0-27-amd64", Version{6, 1}, true},
		{"5.14.0-427.el9.x86_64", Version{5, 14}, true},
		{"6.18.44-fc-v1272", Version{6, 18}, true},
		{"5.6", Version{5, 6}, true},
		{"4.19+", Version{4, 19}, true},
		{"6", Version{}, false},
		{"x.y", Version{}, false},
	} {
		got, err := Parse(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("Parse(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestMinimum(t *testing.T) {
	for _, tc := range []struct {
		v    Version
		less bool
	}{
		{Version{4, 19}, true}, {Version{5, 5}, true}, {Version{5, 6}, true},
		// 5.10 and 5.11 lack mount_setattr, which every readonlyPaths
		// entry and every bind mount with options needs.
		{Version{5, 10}, true}, {Version{5, 11}, true},
		{Version{5, 12}, false}, {Version{6, 0}, false}, {Version{6, 1}, false},
	} {
		if got := tc.v.Less(Minimum); got != tc.less {
			t.Errorf("%v.Less(%v) = %v, want %v", tc.v, Minimum, got, tc.less)
		}
	}
	if err := Check(); err != nil {
		t.Errorf("Check on this machine: %v", err)
	}
}

// TestCheckProbesSyscalls: a kernel of the right version whose syscalls
// are refused anyway (a seccomp profile around the runtime, a backport
// kernel with a feature compiled out) fails the check up front, naming
// the syscall, rather than a create failing halfway with ENOSYS.
func TestCheckProbesSyscalls(t *testing.T) {
	for _, tc := range []struct {
		name string
		nr   uintptr
		// permFirst: the kernel answers EPERM to an unprivileged caller
		// before it looks at the arguments, so only ENOSYS is a verdict.
		permFirst bool
	}{
		{"openat2", unix.SYS_OPENAT2, false},
		{"mount_setattr", unix.SYS_MOUNT_SETATTR, false},
		{"open_tree", unix.SYS_OPEN_TREE, false},
		{"move_mount", unix.SYS_MOVE_MOUNT, true},
		{"fsopen", unix.SYS_FSOPEN, true},
		{"pidfd_open", unix.SYS_PIDFD_OPEN, false},
	} {
		errnos := []unix.Errno{unix.ENOSYS, unix.EPERM}
		if tc.permFirst {
			errnos = errnos[:1]
		}
		for _, errno := range errnos {
			err := sysfail.Run(errno, []uintptr{tc.nr}, Check)
			if err == nil {
				t.Errorf("Check with %s refused (%v): no error", tc.name, errno)
				continue
			}
			if !strings.Contains(err.Error(), tc.name) || !errors.Is(err, errno) {
				t.Errorf("Check with %s refused (%v): %v; want an error naming %s and wrapping the errno", tc.name, errno, err, tc.name)
			}
		}
	}
}
