// Package lsm applies a process's AppArmor profile and SELinux label: what
// the process becomes at its execve. Both are written to the calling
// thread's attr files through the runtime's private procfs (package
// procfs), never through a /proc the container could have mounted or
// covered (CVE-2019-16884, CVE-2025-52881): a write that a fake /proc
// swallowed, or that an overmount redirected, would run the container
// unconfined, or write the label somewhere else.
package lsm

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// AppArmorEnabled tells whether the kernel has AppArmor enabled.
func AppArmorEnabled() bool {
	b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && len(b) > 0 && b[0] == 'Y'
}

// SELinuxEnabled tells whether the kernel has SELinux enabled with a
// policy loaded (selinuxfs shows enforce only then).
func SELinuxEnabled() bool {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/selinux", &st); err != nil || st.Type != unix.SELINUX_MAGIC {
		return false
	}
	_, err := os.Stat("/sys/fs/selinux/enforce")
	return err == nil
}

// ErrNotLoaded: the kernel knows no AppArmor profile of that name.
var ErrNotLoaded = errors.New("no AppArmor profile of that name is loaded")

// ErrInvalidLabel: the loaded SELinux policy rejects the context.
var ErrInvalidLabel = errors.New("the loaded SELinux policy rejects this context")

// SetAppArmorExec makes the calling thread's next execve enter profile
// (what libapparmor's aa_change_onexec does). AppArmor keeps the request
// on the thread that wrote it: the caller must be locked to the OS thread
// that will execve. proc is a procfs root (procfs.Open).
func SetAppArmorExec(proc int, profile string) error {
	f, err := openAttr(proc, "apparmor/exec")
	if errors.Is(err, unix.ENOENT) {
		// Kernels before 5.1 have only the shared files.
		f, err = openAttr(proc, "exec")
	}
	if err != nil {
		return err
	}
	defer unix.Close(f)
	if err := writeAll(f, "exec "+profile); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return ErrNotLoaded
		}
		return fmt.Errorf("write attr/apparmor/exec: %w", err)
	}
	return nil
}

// CheckSELinuxContext asks the loaded policy whether label is a valid
// context (what security_check_context does: a write to selinuxfs's
// context file), so that a bad label fails before anything starts.
func CheckSELinuxContext(label string) error {
	f, err := os.OpenFile("/sys/fs/selinux/context", os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Write([]byte(label)); err != nil {
		if errors.Is(err, unix.EINVAL) {
			return ErrInvalidLabel
		}
		return err
	}
	return nil
}

// MountContext is the mount option that gives every file of a new mount
// the context label.
func MountContext(label string) string {
	return fmt.Sprintf("context=%q", label)
}

// SetSELinuxExec makes label the security context of the calling
// thread's next execve (setexeccon). The same thread rule holds as for
// SetAppArmorExec.
func SetSELinuxExec(proc int, label string) error {
	return setSELinux(proc, "exec", label)
}

// SetSELinuxKeyCreate labels the keyrings the calling thread creates
// from now on (setkeycreatecon): the container's session keyring gets
// the container's label.
func SetSELinuxKeyCreate(proc int, label string) error {
	return setSELinux(proc, "keycreate", label)
}

func setSELinux(proc int, attr, label string) error {
	f, err := openAttr(proc, attr)
	if err != nil {
		return err
	}
	defer unix.Close(f)
	if err := writeAll(f, label); err != nil {
		if errors.Is(err, unix.EINVAL) {
			return ErrInvalidLabel
		}
		return fmt.Errorf("write attr/%s: %w", attr, err)
	}
	return nil
}

// openAttr opens the calling thread's attr/<name> for writing under proc,
// resolved beneath it without crossing a mount or following a magic link,
// and checks that it is a procfs file.
func openAttr(proc int, name string) (int, error) {
	path := "thread-self/attr/" + name
	how := unix.OpenHow{
		Flags:   unix.O_WRONLY | unix.O_CLOEXEC | unix.O_NOFOLLOW,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV,
	}
	// No fallback to openat where openat2 is missing (ENOSYS: a kernel
	// older than kernel.Minimum, or a seccomp filter around the runtime):
	// openat would cross a mount over attr/ and write the label to
	// whatever that mount put there, and the process would run
	// unconfined.
	fd, err := unix.Openat2(proc, path, &how)
	if err != nil {
		return -1, fmt.Errorf("open %s (openat2, RESOLVE_NO_XDEV): %w", path, err)
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil || st.Type != unix.PROC_SUPER_MAGIC {
		unix.Close(fd)
		return -1, fmt.Errorf("open %s: not a procfs file", path)
	}
	return fd, nil
}

// writeAll writes s with one write(2): the attr files take a whole value
// per write.
func writeAll(fd int, s string) error {
	n, err := unix.Write(fd, []byte(s))
	if err != nil {
		return err
	}
	if n != len(s) {
		return fmt.Errorf("short write (%d of %d bytes)", n, len(s))
	}
	return nil
}
