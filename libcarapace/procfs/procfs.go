// Package procfs gives the runtime a procfs of its own: a new instance of
// the filesystem, mounted nowhere (fsopen + fsmount), for the pid namespace
// of the caller. No mount a container makes over /proc, in any mount
// namespace, can cover or replace what the runtime reads and writes
// through it (CVE-2019-16884, CVE-2025-52881); and it is not the host's
// /proc, whose /proc/1/root leads to the host's root.
package procfs

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Open returns a close-on-exec descriptor on the root of a private procfs
// that shows only the processes of the caller's pid namespace (subset=pid:
// no /proc/sys, /proc/kcore and the like). Where the kernel cannot make
// one (before Linux 5.2, or where mount rules of a user namespace forbid
// it) it falls back to a detached copy of /proc as the caller sees it now,
// then to /proc itself, each checked to be procfs.
func Open() (int, error) {
	fd, err := private()
	if err == nil {
		return fd, nil
	}
	if fd, err2 := unix.OpenTree(unix.AT_FDCWD, "/proc", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC); err2 == nil {
		return checked(fd)
	}
	fd, err2 := unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err2 != nil {
		return -1, fmt.Errorf("procfs: new instance: %v; open /proc: %w", err, err2)
	}
	return checked(fd)
}

func private() (int, error) {
	fsfd, err := unix.Fsopen("proc", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsopen: %w", err)
	}
	defer unix.Close(fsfd)
	// subset=pid needs Linux 5.8; without it the instance shows the rest
	// of /proc too, still mounted nowhere.
	_ = unix.FsconfigSetString(fsfd, "subset", "pid")
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return -1, fmt.Errorf("fsconfig: %w", err)
	}
	fd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsmount: %w", err)
	}
	return checked(fd)
}

var errNotProc = errors.New("not procfs")

func checked(fd int) (int, error) {
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("procfs: %w", err)
	}
	if st.Type != unix.PROC_SUPER_MAGIC {
		unix.Close(fd)
		return -1, fmt.Errorf("procfs: /proc: %w", errNotProc)
	}
	return fd, nil
}

// ReopenFD reopens the caller's descriptor fd with flags through the
// procfs at root (its /proc/self/fd/<fd> magic link).
func ReopenFD(root, fd, flags int) (int, error) {
	return unix.Openat(root, fmt.Sprintf("self/fd/%d", fd), flags|unix.O_CLOEXEC, 0)
}
