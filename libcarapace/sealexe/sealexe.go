// Package sealexe gives the runtime a way to re-execute itself as a
// container's init without the container ever reaching a writable host
// binary through /proc/<pid>/exe (CVE-2019-5736).
//
// The cheap way, for root: a detached, read-only bind mount of the binary
// (open_tree + mount_setattr, two syscalls, no copy). The binary is exec'd
// through that mount, so /proc/<pid>/exe leads to a read-only mount that no
// path in any mount namespace reaches. Without the privilege for that, a
// sealed memfd copy is made instead.
package sealexe

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// Open returns a close-on-exec fd that can be exec'd through
// /proc/self/fd/N and whose file cannot be written.
func Open() (*os.File, error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, "/proc/self/exe", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err == nil {
		attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
		if err = unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &attr); err == nil {
			return os.NewFile(uintptr(fd), "carapace-exe"), nil
		}
		unix.Close(fd)
	}
	return memfdCopy()
}

const seals = unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE

func memfdCopy() (*os.File, error) {
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		return nil, fmt.Errorf("open own binary: %w", err)
	}
	defer src.Close()
	fd, err := unix.MemfdCreate("carapace", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_EXEC)
	if err == unix.EINVAL {
		fd, err = unix.MemfdCreate("carapace", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "carapace-exe")
	if _, err := io.Copy(f, src); err != nil {
		f.Close()
		return nil, fmt.Errorf("copy own binary: %w", err)
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		f.Close()
		return nil, fmt.Errorf("seal binary copy: %w", err)
	}
	return f, nil
}
