package rootfs

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// IDMapTree clones the tree at src detached (open_tree OPEN_TREE_CLONE,
// with the mounts under it when recursive) and idmaps it with the maps of
// the user namespace userns (mount_setattr MOUNT_ATTR_IDMAP), the whole
// clone when idmapRecursive (ridmap), else its top mount (idmap).
//
// The runtime does this on the host, before init: the kernel idmaps a
// mount only for a caller privileged over the source filesystem's user
// namespace (the host's, for a disk), which init in the container's user
// namespace is not. Init then attaches the tree (move_mount accepts a
// detached tree from anyone) and sets its other attributes.
func IDMapTree(src string, recursive, idmapRecursive bool, userns *os.File) (*os.File, error) {
	flags := unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC
	if recursive {
		flags |= unix.AT_RECURSIVE
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, src, uint(flags))
	if err != nil {
		return nil, fmt.Errorf("open_tree %s: %w", src, err)
	}
	tree := os.NewFile(uintptr(fd), src)
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns.Fd())}
	at := uint(unix.AT_EMPTY_PATH)
	if idmapRecursive {
		at |= unix.AT_RECURSIVE
	}
	if err := unix.MountSetattr(fd, "", at, &attr); err != nil {
		tree.Close()
		switch {
		case errors.Is(err, unix.ENOSYS):
			return nil, fmt.Errorf("idmapped mount of %s: this kernel has no mount_setattr (Linux 5.12 or newer needed)", src)
		case errors.Is(err, unix.EINVAL):
			var fs unix.Statfs_t
			unix.Statfs(src, &fs)
			return nil, fmt.Errorf("idmapped mount of %s: its filesystem (magic %#x) cannot be idmapped by this kernel, or a mount under it cannot (use idmap, not ridmap): %w", src, fs.Type, err)
		}
		return nil, fmt.Errorf("idmapped mount of %s: mount_setattr MOUNT_ATTR_IDMAP: %w", src, err)
	}
	return tree, nil
}

// IDMapSupported reports whether the kernel has mount_setattr, with which
// it idmaps mounts (Linux 5.12).
func IDMapSupported() bool {
	err := unix.MountSetattr(-1, "", unix.AT_EMPTY_PATH, &unix.MountAttr{})
	return !errors.Is(err, unix.ENOSYS)
}
