package rootfs

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/mountinfo"
)

// enterNoPivot makes the rootfs the root without pivot_root (which fails
// when / is a ramfs or the initial rootfs): it moves the rootfs mount over /
// and chroots into it. The host's mounts stay in the namespace, under the
// moved rootfs, so the whole procfs and sysfs mounts among them are dropped
// first (see hideRevealingMounts).
func (s *Setup) enterNoPivot() error {
	if err := hideRevealingMounts(s.Rootfs); err != nil {
		return fmt.Errorf("--no-pivot: %w", err)
	}
	// Work from the rootfs fd, not its path: the move and the chroot act on
	// the mount Prepare made, whatever the path now leads to.
	if err := unix.Fchdir(s.root.FD()); err != nil {
		return fmt.Errorf("--no-pivot: chdir rootfs %s: %w", s.Rootfs, err)
	}
	if err := unix.MoveMount(s.root.FD(), "", unix.AT_FDCWD, "/", unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return mountErr(fmt.Sprintf("--no-pivot: move rootfs %s over /", s.Rootfs), err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("--no-pivot: chroot into rootfs %s: %w", s.Rootfs, err)
	}
	return unix.Chdir("/")
}

// hideRevealingMounts detaches, or else covers, every mount outside rootfs
// that shows a whole procfs or sysfs. The kernel lets a user namespace
// mount a new procfs or sysfs only when one is already fully visible in its
// mount namespace (mount_too_revealing); after pivot_root the host's mounts
// are gone, but with a plain chroot they would stay in the namespace and
// license a fresh, unmasked /proc or a read-write /sys.
//
// The namespace's mounts are already slaves or private (Prepare made / so,
// recursively), so these unmounts do not reach the host.
func hideRevealingMounts(rootfs string) error {
	ms, err := mountinfo.Self()
	if err != nil {
		return fmt.Errorf("read mounts: %w", err)
	}
	mps := revealingMounts(ms, rootfs)
	// Last first: a mount listed later may sit on one listed earlier, and
	// once that one is gone its path would name something else.
	for i := len(mps) - 1; i >= 0; i-- {
		mp := mps[i]
		err := unix.Unmount(mp.point, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW)
		switch {
		case err == nil, errors.Is(err, unix.ENOENT):
			// Gone, or under a mount already detached.
		case errors.Is(err, unix.EINVAL), errors.Is(err, unix.EPERM):
			// A mount locked into a user namespace's copy of the host's
			// mounts cannot be unmounted: hide it under an empty tmpfs,
			// which stays over it in any namespace made from this one.
			flags := uintptr(unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
			if err := unix.Mount("tmpfs", mp.point, "tmpfs", flags, "size=4k,mode=0555"); err != nil {
				return mountErr(fmt.Sprintf("cover host %s mount at %s", mp.fstype, mp.point), err)
			}
		default:
			return fmt.Errorf("unmount host %s mount at %s: %w", mp.fstype, mp.point, err)
		}
	}
	return nil
}

type hostMount struct{ point, fstype string }

// revealingMounts lists, from a mount table, the procfs and sysfs mounts
// of a filesystem's root (bind mounts of a subdirectory reveal nothing
// more) whose mount point is not rootfs or under it: the container's own
// stay.
func revealingMounts(ms []mountinfo.Mount, rootfs string) []hostMount {
	var out []hostMount
	for _, m := range ms {
		if (m.FSType == "proc" || m.FSType == "sysfs") && m.Root == "/" &&
			m.Point != rootfs && !strings.HasPrefix(m.Point, strings.TrimSuffix(rootfs, "/")+"/") {
			out = append(out, hostMount{point: m.Point, fstype: m.FSType})
		}
	}
	return out
}
