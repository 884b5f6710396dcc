package rootfs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
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
		return fmt.Errorf("--no-pivot: move rootfs %s over /: %w", s.Rootfs, err)
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
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return fmt.Errorf("read mounts: %w", err)
	}
	mps := revealingMounts(b, rootfs)
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
				return fmt.Errorf("cover host %s mount at %s: %w", mp.fstype, mp.point, err)
			}
		default:
			return fmt.Errorf("unmount host %s mount at %s: %w", mp.fstype, mp.point, err)
		}
	}
	return nil
}

type hostMount struct{ point, fstype string }

// revealingMounts lists, from a mountinfo, the procfs and sysfs mounts of a
// filesystem's root (bind mounts of a subdirectory reveal nothing more)
// whose mount point is not rootfs or under it: the container's own stay.
func revealingMounts(mountinfo []byte, rootfs string) []hostMount {
	var ms []hostMount
	sc := bufio.NewScanner(bytes.NewReader(mountinfo))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if len(pf) < 5 || len(qf) < 1 {
			continue
		}
		if fstype := qf[0]; (fstype == "proc" || fstype == "sysfs") && unescapeMountinfo(pf[3]) == "/" {
			point := unescapeMountinfo(pf[4])
			if point != rootfs && !strings.HasPrefix(point, strings.TrimSuffix(rootfs, "/")+"/") {
				ms = append(ms, hostMount{point: point, fstype: fstype})
			}
		}
	}
	return ms
}

// unescapeMountinfo undoes the kernel's octal escapes (\040 for a space,
// \011, \012, \134) in a mountinfo path.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if c, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(c))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
