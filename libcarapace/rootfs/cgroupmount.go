package rootfs

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/cgroups"
	"github.com/carapace-oci/carapace/libcarapace/lsm"
	"github.com/carapace-oci/carapace/libcarapace/securefs"
)

// mountCgroups mounts the container's view of the cgroup hierarchies at
// dfd. With a cgroup namespace the kernel shows the container's cgroup as
// the root; without one, the container's own cgroup directories are bound,
// so the host's tree stays out of sight either way. label, when not
// empty, labels the v1 layout's tmpfs (the directories and links of the
// hierarchies), as runc does; the cgroup files keep the kernel's labels.
// v2Dir is the container's cgroup2 directory, bound where a cgroup
// namespace cannot mount cgroup2 (see Setup.CgroupV2Dir).
func mountCgroups(dfd int, reopen func() (int, error), o Options, cgroupNS bool, v2Dir, label string) error {
	hs, err := cgroups.Hierarchies()
	if err != nil {
		return err
	}
	own, err := cgroups.ProcCgroups("self")
	if err != nil {
		return err
	}
	flags := o.Flags | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	if cgroups.DetectMode(hs) == cgroups.ModeV2 {
		err := mountHierarchy(hs[0], own, dfd, flags, cgroupNS)
		if err == nil || !cgroupNS || !errors.Is(err, unix.EBUSY) && !errors.Is(err, unix.EPERM) {
			return err
		}
		if v2Dir != "" {
			// The namespace's root is the container's cgroup: its
			// directory, bound, is the same view.
			return bindMount(v2Dir, dfd, Options{Recursive: true, Flags: flags})
		}
		// No cgroup of its own (rootless, not delegated): an empty,
		// read-only directory rather than the host's tree.
		mnt, terr := emptyTmpfs(label)
		if terr != nil {
			return errors.Join(err, terr)
		}
		defer unix.Close(mnt)
		return moveMount(mnt, dfd)
	}
	// v1 and hybrid: a tmpfs with one directory per hierarchy, like the
	// host's /sys/fs/cgroup.
	data := "mode=755"
	if label != "" {
		data += "," + lsm.MountContext(label)
	}
	if err := unix.Mount("tmpfs", securefs.ProcPath(dfd), "tmpfs", (flags &^ unix.MS_RDONLY), data); err != nil {
		return mountErr("mount tmpfs for cgroups", err)
	}
	top, err := reopen()
	if err != nil {
		return err
	}
	defer unix.Close(top)
	for _, h := range hs {
		name := filepath.Base(h.Mountpoint)
		if err := unix.Mkdirat(top, name, 0o755); err != nil && err != unix.EEXIST {
			return fmt.Errorf("mkdir cgroup %s: %w", name, err)
		}
		sub, err := unix.Openat(top, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		err = mountHierarchy(h, own, sub, flags, cgroupNS)
		unix.Close(sub)
		if err != nil {
			return err
		}
		// Co-mounted controllers (cpu,cpuacct) are also reachable by each
		// controller's name, as on the host.
		if strings.Contains(name, ",") {
			for _, c := range strings.Split(name, ",") {
				if err := unix.Symlinkat(name, top, c); err != nil && err != unix.EEXIST {
					return fmt.Errorf("link cgroup %s: %w", c, err)
				}
			}
		}
	}
	if flags&unix.MS_RDONLY != 0 {
		attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
		if err := unix.MountSetattr(top, "", unix.AT_EMPTY_PATH, &attr); err != nil {
			return fmt.Errorf("make cgroup tmpfs read-only: %w", err)
		}
	}
	return nil
}

func mountHierarchy(h cgroups.Hierarchy, own map[string]string, dfd int, flags uintptr, cgroupNS bool) error {
	if cgroupNS {
		fstype, data := "cgroup2", ""
		if !h.V2 {
			fstype, data = "cgroup", h.Name()
			if strings.HasPrefix(data, "name=") {
				data = "none," + data
			}
		}
		if err := unix.Mount("cgroup", securefs.ProcPath(dfd), fstype, flags, data); err != nil {
			return mountErr(fmt.Sprintf("mount %s %s", fstype, data), err)
		}
		return nil
	}
	p, ok := own[h.Name()]
	if !ok {
		p = "/"
	}
	rel := strings.TrimPrefix(p, h.Root)
	src := filepath.Join(h.Mountpoint, rel)
	o := Options{Recursive: true, Flags: flags}
	if err := bindMount(src, dfd, o); err != nil {
		return fmt.Errorf("bind cgroup %s: %w", src, err)
	}
	return nil
}
