// Package rootfs builds a container's filesystem view inside its new mount
// namespace: the spec's mounts, /dev, pivot_root (or chroot), masked and
// read-only paths. Every destination is resolved through securefs and
// mounted by fd, so nothing in the rootfs can redirect a mount to the host.
package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/config"
	"github.com/carapace-oci/carapace/libcarapace/lsm"
	"github.com/carapace-oci/carapace/libcarapace/securefs"
)

// Setup is the filesystem part of one container's init.
type Setup struct {
	Spec      *specs.Spec
	Rootfs    string // absolute, on the host
	BundleDir string
	// UserNS is true when the container has a user namespace of its own:
	// device nodes cannot be made there, host ones are bound instead.
	UserNS  bool
	NoPivot bool
	// CgroupNS: the container has a cgroup namespace of its own, new or
	// joined by path (runc's cgroupns, NEWCGROUP in either form): its
	// /proc/self/cgroup paths are relative to that namespace's root, so
	// only a cgroupfs mount, not a bind of host paths, can show them.
	CgroupNS bool
	// MountLabel is the SELinux context of the container's own filesystems
	// (linux.mountLabel, where SELinux is enabled).
	MountLabel string
	// CgroupV2Dir is the container's cgroup2 directory on the host ("" if
	// none). A cgroup namespace made in a user namespace cannot mount
	// cgroup2 (the kernel's one superblock belongs to the host's user
	// namespace: EBUSY, or EPERM); a bind of this directory shows the
	// same tree instead, as runc does.
	CgroupV2Dir string
	// IDMapped maps the index of each idmapped mount to the detached,
	// idmapped tree the runtime made for it (IDMapTree), to attach.
	IDMapped map[int]int

	root *securefs.Root
	// rootDev and rootIno identify the rootfs directory, statted once:
	// every mount checks its destination against it (checkNotRoot).
	rootDev uint64
	rootIno uint64
}

// Prepare runs in the container's mount namespace before pivot_root: it
// stops mount events reaching the host, turns the rootfs into a mount,
// mounts the spec's mounts and fills /dev.
func (s *Setup) Prepare() error {
	prop, what := uintptr(unix.MS_SLAVE|unix.MS_REC), "a slave mount"
	switch s.Spec.Linux.RootfsPropagation {
	case "private", "rprivate":
		prop, what = unix.MS_PRIVATE|unix.MS_REC, "a private mount"
	case "shared", "rshared":
		// The host's shared mounts stay peers of the host's, as runc
		// leaves them: a bind mount of one (a Kubernetes volume with
		// Bidirectional propagation, made rshared on the host) then
		// joins the host's peer group, and what the container mounts
		// under it reaches the host. The rootfs alone is kept off it
		// (rootfsParentPrivate).
		prop, what = propagationOpts[s.Spec.Linux.RootfsPropagation], "a shared mount"
	}
	if err := unix.Mount("", "/", "", prop, ""); err != nil {
		return fmt.Errorf("make / %s: %w", what, err)
	}
	if prop&unix.MS_SHARED != 0 {
		if err := rootfsParentPrivate(s.Rootfs); err != nil {
			return err
		}
	}
	if err := unix.Mount(s.Rootfs, s.Rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return mountErr(fmt.Sprintf("bind rootfs %s onto itself", s.Rootfs), err)
	}
	root, err := securefs.OpenRoot(s.Rootfs)
	if err != nil {
		return err
	}
	s.root = root
	var st unix.Stat_t
	if err := unix.Fstat(root.FD(), &st); err != nil {
		return fmt.Errorf("stat rootfs %s: %w", s.Rootfs, err)
	}
	s.rootDev, s.rootIno = st.Dev, st.Ino
	for i, m := range s.Spec.Mounts {
		tree, idmapped := s.IDMapped[i]
		if !idmapped {
			tree = -1
		}
		if err := s.mount(m, tree); err != nil {
			// Something of the wrong type at the destination itself: the
			// error names the field and what is there, e.g.
			// mounts[3].destination "/x": exists and is a fifo, not a
			// regular file.
			var te *securefs.TypeError
			if errors.As(err, &te) && te.Path == path.Clean(m.Destination) {
				return fmt.Errorf("%s: mounts[%d].destination %w", config.Name, i, te)
			}
			return fmt.Errorf("%s: mounts[%d] (%s on %s): %w", config.Name, i, m.Type, m.Destination, err)
		}
	}
	if s.needsDev() {
		if err := s.setupDev(); err != nil {
			return err
		}
	}
	return nil
}

// needsDev is false when /dev comes from a bind mount, which brings its own
// nodes.
func (s *Setup) needsDev() bool {
	for _, m := range s.Spec.Mounts {
		if path.Clean(m.Destination) == "/dev" && config.IsBind(m) {
			return false
		}
	}
	return true
}

// Close releases the rootfs fd (it is close-on-exec in any case).
func (s *Setup) Close() {
	if s.root != nil {
		s.root.Close()
		s.root = nil
	}
}

// mount makes one of the spec's mounts; tree, when not -1, is the
// idmapped tree to attach for a bind mount.
func (s *Setup) mount(m specs.Mount, tree int) error {
	opts := ParseOptions(m.Options)
	bind := config.IsBind(m)
	dst := path.Clean(m.Destination)
	var resolve uint64
	if m.Type == "proc" || m.Type == "sysfs" || dst == "/proc" || dst == "/sys" {
		// The runtime later writes under /proc and /sys: they must be the
		// real thing, not a symlink to somewhere the image chose.
		resolve = unix.RESOLVE_NO_SYMLINKS
	}
	src := m.Source
	if bind && !filepath.IsAbs(src) {
		src = filepath.Join(s.BundleDir, src)
	}
	tmpfs := !bind && m.Type == "tmpfs"
	if readonlyLater(m, opts) {
		// Mounted read-write, filled (device nodes, mount points of later
		// mounts, tmpcopyup), and made read-only by Finish, as runc does
		// (mountPropagate, finalizeRootfs). "rro" waits too: made
		// read-only at once, the mount could not take the mount points
		// of later mounts under it.
		opts.Flags &^= unix.MS_RDONLY
		opts.RecSet &^= unix.MOUNT_ATTR_RDONLY
	}
	var dfd int
	var err error
	// Whether the destination was there before: a tmpfs over an existing
	// directory takes its mode (mountTmpfs).
	var made bool
	if bind {
		fi, serr := os.Stat(src)
		if serr != nil {
			return fmt.Errorf("bind source: %w", serr)
		}
		if fi.IsDir() {
			dfd, _, err = s.mkdir(dst, resolve)
		} else {
			// A file is bound over a regular file, or over an entry of
			// the source's own type (a device node over the image's
			// node); a fifo or a socket the image put there is refused,
			// never opened.
			var also []uint32
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				if t := st.Mode & unix.S_IFMT; t != unix.S_IFREG {
					also = append(also, t)
				}
			}
			dfd, err = s.root.CreateFile(dst, 0o644, also...)
		}
	} else {
		dfd, made, err = s.mkdir(dst, resolve)
	}
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	dstStat, err := s.checkNotRoot(dfd, dst)
	if err != nil {
		return err
	}
	if err := checkNotIntoProc(dfd, dst); err != nil {
		return err
	}
	// After a filesystem is mounted on dfd, dfd still names the directory
	// underneath; a new lookup from the root crosses into the new mount.
	reopen := func() (int, error) { return s.root.Open(dst, unix.O_PATH|unix.O_DIRECTORY, resolve) }
	label := s.MountLabel
	if label != "" && !bind && m.Type != "proc" && m.Type != "sysfs" &&
		m.Type != "cgroup" && m.Type != "cgroup2" && m.Type != "mqueue" {
		// linux.mountLabel labels the files of the container's own
		// filesystems (tmpfs, devpts...), as runc does; proc, sysfs and
		// cgroup files keep the kernel's labels.
		opts.Data = append(opts.Data, lsm.MountContext(label))
	}
	switch {
	case label != "" && m.Type == "mqueue":
		// mqueue takes no context= option: its root is labelled
		// instead, as runc does.
		if err := fsMount(m.Source, m.Type, dfd, reopen, opts); err != nil {
			return err
		}
		fd, err := s.root.Open(dst, unix.O_RDONLY|unix.O_DIRECTORY, resolve)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		if err := unix.Fsetxattr(fd, "security.selinux", []byte(label), 0); err != nil {
			return fmt.Errorf("linux.mountLabel %q on %s: %w", label, dst, err)
		}
		return nil
	case bind && tree >= 0:
		// Attached first: only then is the mount in the container's
		// mount namespace, whose owner may set its attributes.
		if err := moveMount(tree, dfd); err != nil {
			return err
		}
		return setAttrs(tree, opts)
	case bind:
		return bindMount(src, dfd, opts)
	case m.Type == "cgroup" || m.Type == "cgroup2":
		return mountCgroups(dfd, reopen, opts, s.CgroupNS, s.CgroupV2Dir, label)
	case tmpfs:
		return s.mountTmpfs(m, dfd, &dstStat, reopen, opts, !made)
	default:
		return fsMount(m.Source, m.Type, dfd, reopen, opts)
	}
}

// mountTmpfs mounts a tmpfs on dfd. Without mode= it gets the mode of the
// directory it covers, if that was there before, as runc does
// (createOpenMountpoint prepends mode=): an image's 0700 directory stays
// 0700 rather than becoming the kernel's 1777. A mode= in the options
// comes later in the data string and wins. With tmpcopyup, the tmpfs
// starts with a copy of the directory's contents. st is dfd's stat.
func (s *Setup) mountTmpfs(m specs.Mount, dfd int, st *unix.Stat_t, reopen func() (int, error), opts Options, existed bool) error {
	if existed {
		perm := st.Mode & (unix.S_ISUID | unix.S_ISGID | unix.S_ISVTX | 0o777)
		opts.Data = append([]string{fmt.Sprintf("mode=%04o", perm)}, opts.Data...)
	}
	if !hasOption(m.Options, "tmpcopyup") {
		return fsMount(m.Source, m.Type, dfd, reopen, opts)
	}
	// The image's directory, opened before the tmpfs hides it: "." from
	// dfd is dfd's own directory, not what is mounted on it.
	src, err := unix.Openat(dfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("tmpcopyup: open %s: %w", m.Destination, err)
	}
	defer unix.Close(src)
	if err := fsMount(m.Source, m.Type, dfd, reopen, opts); err != nil {
		return err
	}
	top, err := reopen()
	if err != nil {
		return fmt.Errorf("tmpcopyup: reopen new mount: %w", err)
	}
	defer unix.Close(top)
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(top, &sfs); err != nil || sfs.Type != unix.TMPFS_MAGIC {
		return fmt.Errorf("tmpcopyup: %s is not the new tmpfs after mounting", m.Destination)
	}
	if err := copyUp(src, top); err != nil {
		return fmt.Errorf("tmpcopyup: %w", err)
	}
	return nil
}

// mkdir resolves (or makes) a mount destination directory; made reports
// that it was not there before.
func (s *Setup) mkdir(dst string, resolve uint64) (fd int, made bool, err error) {
	if resolve == 0 {
		return s.root.MkdirAllMade(dst, 0o755)
	}
	fd, err = s.root.Open(dst, unix.O_PATH|unix.O_DIRECTORY, resolve)
	if errors.Is(err, unix.ENOENT) {
		if fd, made, err = s.root.MkdirAllMade(dst, 0o755); err == nil {
			unix.Close(fd)
			fd, err = s.root.Open(dst, unix.O_PATH|unix.O_DIRECTORY, resolve)
		}
	}
	if errors.Is(err, unix.ELOOP) {
		return -1, false, fmt.Errorf("%s is a symlink; refusing to mount through it", dst)
	}
	return fd, made, err
}

// checkNotRoot refuses a destination that resolved to the rootfs itself
// (a symlink to "/"), which would hide the whole image. It returns the
// destination's stat, for the mount to use.
func (s *Setup) checkNotRoot(fd int, dst string) (unix.Stat_t, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return st, err
	}
	if st.Dev == s.rootDev && st.Ino == s.rootIno {
		return st, fmt.Errorf("destination %s resolves to the container's root (a symlink to /?)", dst)
	}
	return st, nil
}

// checkNotIntoProc refuses a destination that config validation let
// through because its path is not under /proc, but that resolved into the
// container's procfs through a symlink of the image (/mnt/p -> /proc/sys):
// a mount there would cover the files the runtime and the kernel's
// confinement rely on (CVE-2019-16884, CVE-2025-52881), which the
// validation of the path forbids. As runc checks the resolved destination
// (checkProcMount), the check is on the opened fd, not on a path.
func checkNotIntoProc(fd int, dst string) error {
	if dst == "/proc" || strings.HasPrefix(dst, "/proc/") {
		return nil // validated by its path (config.checkMounts)
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", dst, err)
	}
	if st.Type == unix.PROC_SUPER_MAGIC {
		return fmt.Errorf("%s resolves into /proc (through a symlink in the rootfs): mounts under /proc are not allowed", dst)
	}
	return nil
}

// bindMount clones the source tree detached, sets its attributes, then
// attaches it at the destination fd: nothing is visible half-configured.
func bindMount(src string, dfd int, o Options) error {
	flags := unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC
	if o.Recursive {
		flags |= unix.AT_RECURSIVE
	}
	tree, err := unix.OpenTree(unix.AT_FDCWD, src, uint(flags))
	if err != nil {
		return fmt.Errorf("open_tree %s: %w", src, err)
	}
	defer unix.Close(tree)
	if err := setAttrs(tree, o); err != nil {
		return err
	}
	return moveMount(tree, dfd)
}

// setAttrs applies per-mount flags, recursive attributes and propagation
// to the mount an fd refers to.
func setAttrs(fd int, o Options) error {
	set, clr := o.attrs()
	// The atime mode is one field: whichever option asked for one sets it.
	switch {
	case o.Flags&unix.MS_NOATIME != 0:
		set, clr = set|unix.MOUNT_ATTR_NOATIME, clr|unix.MOUNT_ATTR__ATIME
	case o.Flags&unix.MS_STRICTATIME != 0:
		set, clr = set|unix.MOUNT_ATTR_STRICTATIME, clr|unix.MOUNT_ATTR__ATIME
	case o.Flags&unix.MS_RELATIME != 0 || o.Cleared&(unix.MS_NOATIME|unix.MS_STRICTATIME) != 0:
		set, clr = set|unix.MOUNT_ATTR_RELATIME, clr|unix.MOUNT_ATTR__ATIME
	}
	if set != 0 || clr != 0 {
		attr := unix.MountAttr{Attr_set: set, Attr_clr: clr}
		if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &attr); err != nil {
			return fmt.Errorf("mount_setattr: %w", err)
		}
	}
	if o.RecSet != 0 || o.RecClr != 0 || o.RecAtimeSet {
		attr := unix.MountAttr{Attr_set: o.RecSet, Attr_clr: o.RecClr}
		if o.RecAtimeSet {
			attr.Attr_set |= o.RecAtime
			attr.Attr_clr |= unix.MOUNT_ATTR__ATIME
		}
		if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
			return fmt.Errorf("mount_setattr (recursive): %w", err)
		}
	}
	if o.Propagation != 0 {
		attr := unix.MountAttr{Propagation: uint64(o.Propagation &^ unix.MS_REC)}
		flags := uint(unix.AT_EMPTY_PATH)
		if o.Propagation&unix.MS_REC != 0 {
			flags |= unix.AT_RECURSIVE
		}
		if err := unix.MountSetattr(fd, "", flags, &attr); err != nil {
			return fmt.Errorf("set propagation: %w", err)
		}
	}
	return nil
}

func moveMount(tree, dfd int) error {
	if err := unix.MoveMount(tree, "", dfd, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return mountErr("move_mount", err)
	}
	return nil
}

// fsMount mounts a new filesystem instance on the destination fd. The
// attributes that mount(2) cannot take with a new mount (propagation,
// recursive ones) are set afterwards on the new mount itself.
func fsMount(source, fstype string, dfd int, reopen func() (int, error), o Options) error {
	if source == "" {
		source = fstype
	}
	flags := o.Flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT)
	data := o.DataString()
	target := securefs.ProcPath(dfd)
	if err := unix.Mount(source, target, fstype, flags, data); err != nil {
		if errors.Is(err, unix.EINVAL) && data != "" {
			return mountErr(fmt.Sprintf("mount %s with options %q", fstype, data), err)
		}
		return mountErr("mount "+fstype, err)
	}
	if o.Propagation == 0 && o.RecSet == 0 && o.RecClr == 0 && !o.RecAtimeSet {
		return nil
	}
	top, err := reopen()
	if err != nil {
		return fmt.Errorf("reopen new mount: %w", err)
	}
	defer unix.Close(top)
	o.Flags, o.Cleared = 0, 0
	return setAttrs(top, o)
}

// Enter makes the rootfs the process's root: pivot_root, or with --no-pivot
// a move over / and chroot (for ramfs roots, where pivot_root fails).
func (s *Setup) Enter() error {
	defer s.Close()
	if s.NoPivot {
		return s.enterNoPivot()
	}
	oldRoot, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open old root: %w", err)
	}
	defer unix.Close(oldRoot)
	if err := unix.Fchdir(s.root.FD()); err != nil {
		return fmt.Errorf("chdir rootfs: %w", err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root %s: %w", s.Rootfs, err)
	}
	// The old root is now stacked with the new one at "/". Step onto it
	// (not the new root, whose mounts keep the propagation the spec gave
	// them), stop its unmount from reaching the host, and drop it.
	if err := unix.Fchdir(oldRoot); err != nil {
		return fmt.Errorf("chdir old root: %w", err)
	}
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make old root a slave: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("unmount old root: %w", err)
	}
	return unix.Chdir("/")
}

// rootfsParentPrivate makes the mount that holds the rootfs private, in
// the container's mount namespace whose / is shared with the host's: the
// rootfs's bind onto itself, and every mount made in it, would otherwise
// reach the host (and pivot_root refuses a shared parent).
func rootfsParentPrivate(rootfs string) error {
	for p := rootfs; ; p = filepath.Dir(p) {
		err := unix.Mount("", p, "", unix.MS_PRIVATE, "")
		if err == nil {
			return nil
		}
		// EINVAL: not a mount point; the one holding it is further up.
		if err != unix.EINVAL || p == "/" {
			return fmt.Errorf("make the mount holding the rootfs (%s) private: %w", p, err)
		}
	}
}

// Finish runs inside the new root: masked and read-only paths, a read-only
// root, and the rootfs propagation the spec asks for. mountLabel labels
// the masked directories' tmpfs ("" where SELinux is off).
func Finish(spec *specs.Spec, mountLabel string) error {
	root, err := securefs.OpenRoot("/")
	if err != nil {
		return err
	}
	defer root.Close()
	// A missing cwd is made, as runc makes it (ctr run --cwd and docker -w
	// rely on that), before the root can turn read-only.
	if spec.Process != nil && spec.Process.Cwd != "" {
		fd, err := root.MkdirAll(spec.Process.Cwd, 0o755)
		if err != nil {
			return fmt.Errorf("%s: process.cwd %q: %w", config.Name, spec.Process.Cwd, err)
		}
		unix.Close(fd)
	}
	if err := remountReadonly(root, spec.Mounts); err != nil {
		return err
	}
	if err := maskPaths(root, spec.Linux.MaskedPaths, mountLabel); err != nil {
		return err
	}
	for i, p := range spec.Linux.ReadonlyPaths {
		if err := readonlyPath(root, p); err != nil {
			return fmt.Errorf("%s: linux.readonlyPaths[%d] %s: %w", config.Name, i, p, err)
		}
	}
	if spec.Root.Readonly {
		attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
		if err := unix.MountSetattr(root.FD(), "", unix.AT_EMPTY_PATH, &attr); err != nil {
			return fmt.Errorf("make root read-only: %w", err)
		}
	}
	if p, ok := propagationOpts[spec.Linux.RootfsPropagation]; ok {
		if err := unix.Mount("", "/", "", p|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("%s: linux.rootfsPropagation %q: %w", config.Name, spec.Linux.RootfsPropagation, err)
		}
	}
	return nil
}

// readonlyLater reports whether m is a tmpfs or /dev mount that asked for
// "ro" or "rro": Prepare mounts it read-write, so that it can be filled,
// and remountReadonly makes it read-only at the end.
func readonlyLater(m specs.Mount, opts Options) bool {
	return !config.IsBind(m) && (m.Type == "tmpfs" || path.Clean(m.Destination) == "/dev") &&
		(opts.Flags&unix.MS_RDONLY != 0 || opts.RecSet&unix.MOUNT_ATTR_RDONLY != 0)
}

// remountReadonly makes read-only the tmpfs and /dev mounts that asked for
// "ro" (the mount itself) or "rro" (it and every mount under it by now):
// Prepare mounted them read-write so that they could be filled.
func remountReadonly(root *securefs.Root, mounts []specs.Mount) error {
	for i, m := range mounts {
		opts := ParseOptions(m.Options)
		if !readonlyLater(m, opts) {
			continue
		}
		setattrFlags := uint(unix.AT_EMPTY_PATH)
		if opts.RecSet&unix.MOUNT_ATTR_RDONLY != 0 {
			setattrFlags |= unix.AT_RECURSIVE
		}
		dst := path.Clean(m.Destination)
		err := func() error {
			fd, err := root.Open(dst, unix.O_PATH|unix.O_DIRECTORY, 0)
			if err != nil {
				return err
			}
			defer unix.Close(fd)
			// mount_setattr acts on the mount that holds fd: if dst were
			// no longer a mount's root, the mount around it (the
			// container's root) would turn read-only instead.
			var stx unix.Statx_t
			if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_BASIC_STATS, &stx); err != nil {
				return err
			}
			if stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 && stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT == 0 {
				return errors.New("no longer a mount point")
			}
			attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
			if err := unix.MountSetattr(fd, "", setattrFlags, &attr); err != nil {
				return fmt.Errorf("mount_setattr: %w", err)
			}
			return nil
		}()
		if err != nil {
			return fmt.Errorf("%s: mounts[%d] (%s on %s): make read-only: %w", config.Name, i, m.Type, m.Destination, err)
		}
	}
	return nil
}

func readonlyPath(root *securefs.Root, p string) error {
	fd, err := root.Open(p, unix.O_PATH, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return err
	}
	defer unix.Close(fd)
	tree, err := unix.OpenTree(fd, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH|unix.AT_RECURSIVE)
	if err != nil {
		return fmt.Errorf("open_tree: %w", err)
	}
	defer unix.Close(tree)
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC}
	if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
		return fmt.Errorf("mount_setattr: %w", err)
	}
	return moveMount(tree, fd)
}

// maskPaths hides files behind /dev/null and directories behind an empty
// read-only tmpfs. /dev/null is checked to be the real null device first:
// an image that made it a symlink or a regular file would otherwise get a
// writable view of what it points to mounted over the masked path
// (CVE-2025-31133). The tmpfs carries linux.mountLabel, as runc's does
// (maskDir): an SELinux-confined process may then stat and list the masked
// directory, as in any of its own mounts, and finds it empty.
func maskPaths(root *securefs.Root, paths []string, mountLabel string) error {
	if len(paths) == 0 {
		return nil
	}
	null, err := root.Open("/dev/null", unix.O_PATH, unix.RESOLVE_NO_SYMLINKS)
	if err != nil {
		return fmt.Errorf("open /dev/null for masking: %w", err)
	}
	defer unix.Close(null)
	var st unix.Stat_t
	if err := unix.Fstat(null, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(uint64(st.Rdev)) != 1 || unix.Minor(uint64(st.Rdev)) != 3 {
		return errors.New("/dev/null in the container is not the null device (1:3): refusing to mask paths with it")
	}
	var emptyDir int = -1
	defer func() {
		if emptyDir >= 0 {
			unix.Close(emptyDir)
		}
	}()
	// A path listed twice is masked once, as runc does (maskPaths):
	// a second mount would only stack over the first.
	seen := map[string]bool{}
	for i, p := range paths {
		if seen[path.Clean(p)] {
			continue
		}
		seen[path.Clean(p)] = true
		fd, err := root.Open(p, unix.O_PATH, 0)
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue
			}
			return fmt.Errorf("%s: linux.maskedPaths[%d] %s: %w", config.Name, i, p, err)
		}
		err = func() error {
			defer unix.Close(fd)
			if err := unix.Fstat(fd, &st); err != nil {
				return err
			}
			src := null
			if st.Mode&unix.S_IFMT == unix.S_IFDIR {
				if emptyDir < 0 {
					// The first masked directory gets a new empty tmpfs;
					// the others clone it once it is attached (kernels
					// before 6.x cannot clone a mount that is not).
					mnt, err := emptyTmpfs(mountLabel)
					if err != nil {
						return err
					}
					err = moveMount(mnt, fd)
					unix.Close(mnt)
					if err != nil {
						return err
					}
					emptyDir, err = root.Open(p, unix.O_PATH|unix.O_DIRECTORY, 0)
					return err
				}
				src = emptyDir
			}
			tree, err := unix.OpenTree(src, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH)
			if err != nil {
				return fmt.Errorf("open_tree: %w", err)
			}
			defer unix.Close(tree)
			if src == null {
				attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
				if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH, &attr); err != nil {
					return fmt.Errorf("mount_setattr: %w", err)
				}
			}
			return moveMount(tree, fd)
		}()
		if err != nil {
			return fmt.Errorf("%s: linux.maskedPaths[%d] %s: %w", config.Name, i, p, err)
		}
	}
	return nil
}

// emptyTmpfs makes a detached, empty, read-only tmpfs for masking
// directories, with every file labelled label when it is not empty.
func emptyTmpfs(label string) (int, error) {
	fsfd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsopen tmpfs: %w", err)
	}
	defer unix.Close(fsfd)
	if err := unix.FsconfigSetString(fsfd, "size", "0"); err != nil {
		return -1, fmt.Errorf("fsconfig tmpfs size: %w", err)
	}
	if label != "" {
		// One fsconfig key per option: the label's commas (s0:c1,c2)
		// need no quoting here, unlike in mount(2)'s data string.
		if err := unix.FsconfigSetString(fsfd, "context", label); err != nil {
			return -1, fmt.Errorf("linux.mountLabel %q on the masked-path tmpfs: fsconfig context: %w", label, err)
		}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return -1, fmt.Errorf("fsconfig create tmpfs: %w", err)
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsmount tmpfs: %w", err)
	}
	return mfd, nil
}

// SetSysctls writes linux.sysctl through the container's own /proc, refusing
// a /proc/sys that is not procfs or a path through a symlink.
func SetSysctls(sysctl map[string]string) error {
	if len(sysctl) == 0 {
		return nil
	}
	root, err := securefs.OpenRoot("/proc/sys")
	if err != nil {
		return fmt.Errorf("linux.sysctl needs /proc mounted: %w", err)
	}
	defer root.Close()
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(root.FD(), &sfs); err != nil || sfs.Type != unix.PROC_SUPER_MAGIC {
		return errors.New("linux.sysctl: /proc/sys is not procfs")
	}
	for k, v := range sysctl {
		// Either separator is allowed; with "/" the dots are part of a name
		// (an interface such as eth0.100).
		p := k
		if !strings.Contains(k, "/") {
			p = strings.ReplaceAll(k, ".", "/")
		}
		fd, err := root.Open(p, unix.O_WRONLY|unix.O_TRUNC, unix.RESOLVE_NO_SYMLINKS|unix.RESOLVE_NO_XDEV)
		if err != nil {
			return fmt.Errorf("%s: linux.sysctl.%s: %w", config.Name, k, err)
		}
		_, err = unix.Write(fd, []byte(v))
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("%s: linux.sysctl.%s = %q: %w", config.Name, k, v, err)
		}
	}
	return nil
}
