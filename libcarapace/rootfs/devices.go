package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/config"
	"github.com/carapace-oci/carapace/libcarapace/securefs"
)

func u32(v uint32) *uint32 { return &v }

func fileMode(v os.FileMode) *os.FileMode { return &v }

// DefaultDevices are the nodes every container gets (runtime-spec
// config-linux.md "Default Devices").
var DefaultDevices = []specs.LinuxDevice{
	{Path: "/dev/null", Type: "c", Major: 1, Minor: 3, FileMode: fileMode(0o666), UID: u32(0), GID: u32(0)},
	{Path: "/dev/zero", Type: "c", Major: 1, Minor: 5, FileMode: fileMode(0o666), UID: u32(0), GID: u32(0)},
	{Path: "/dev/full", Type: "c", Major: 1, Minor: 7, FileMode: fileMode(0o666), UID: u32(0), GID: u32(0)},
	{Path: "/dev/random", Type: "c", Major: 1, Minor: 8, FileMode: fileMode(0o666), UID: u32(0), GID: u32(0)},
	{Path: "/dev/urandom", Type: "c", Major: 1, Minor: 9, FileMode: fileMode(0o666), UID: u32(0), GID: u32(0)},
	{Path: "/dev/tty", Type: "c", Major: 5, Minor: 0, FileMode: fileMode(0o666), UID: u32(0), GID: u32(0)},
}

var devLinks = [][2]string{
	{"/proc/self/fd", "fd"},
	{"/proc/self/fd/0", "stdin"},
	{"/proc/self/fd/1", "stdout"},
	{"/proc/self/fd/2", "stderr"},
}

// setupDev creates the default and configured device nodes and the
// standard links. /dev is opened inside the rootfs, so an image whose /dev
// is a symlink gets its nodes inside the rootfs, never on the host
// (CVE-2026-41579).
func (s *Setup) setupDev() error {
	old := unix.Umask(0)
	defer unix.Umask(old)
	configured := map[string]bool{}
	for _, d := range s.Spec.Linux.Devices {
		configured[path.Clean(d.Path)] = true
	}
	for _, d := range DefaultDevices {
		if configured[d.Path] {
			// Made below as the config says, replacing what the image
			// has there.
			continue
		}
		if err := s.makeDevice(d, true); err != nil {
			var te *securefs.TypeError
			if errors.As(err, &te) && te.Path == d.Path {
				return fmt.Errorf("default device %w", te)
			}
			return fmt.Errorf("default device %s: %w", d.Path, err)
		}
	}
	for i, d := range s.Spec.Linux.Devices {
		if err := s.makeDevice(d, false); err != nil {
			var te *securefs.TypeError
			if errors.As(err, &te) && te.Path == path.Clean(d.Path) {
				return fmt.Errorf("%s: linux.devices[%d].path %w", config.Name, i, te)
			}
			return fmt.Errorf("%s: linux.devices[%d] %s: %w", config.Name, i, d.Path, err)
		}
	}
	dev, err := s.root.MkdirAll("/dev", 0o755)
	if err != nil {
		return err
	}
	defer unix.Close(dev)
	for _, l := range devLinks {
		if err := unix.Symlinkat(l[0], dev, l[1]); err != nil && err != unix.EEXIST {
			return fmt.Errorf("link /dev/%s: %w", l[1], err)
		}
	}
	// /dev/ptmx must lead to the container's devpts instance.
	if err := unix.Unlinkat(dev, "ptmx", 0); err != nil && err != unix.ENOENT {
		return fmt.Errorf("remove /dev/ptmx: %w", err)
	}
	if err := unix.Symlinkat("pts/ptmx", dev, "ptmx"); err != nil {
		return fmt.Errorf("link /dev/ptmx: %w", err)
	}
	return nil
}

func (s *Setup) makeDevice(d specs.LinuxDevice, isDefault bool) error {
	dir, name := path.Split(path.Clean(d.Path))
	dfd, err := s.root.MkdirAll(dir, 0o755)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	var typ uint32
	switch d.Type {
	case "c", "u":
		typ = unix.S_IFCHR
	case "b":
		typ = unix.S_IFBLK
	case "p":
		typ = unix.S_IFIFO
	}
	if s.UserNS {
		return s.bindDevice(d, dfd, name, typ)
	}
	mode := uint32(0o666)
	if d.FileMode != nil {
		mode = uint32(*d.FileMode & os.ModePerm)
	}
	mode |= typ
	rdev := unix.Mkdev(uint32(d.Major), uint32(d.Minor))
	// mknod is exclusive by nature: it never opens or follows what is
	// already there.
	err = unix.Mknodat(dfd, name, mode, int(rdev))
	if errors.Is(err, unix.EEXIST) {
		// Looked at without following or opening it (an open of a fifo
		// would block).
		var st unix.Stat_t
		if err := unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("stat existing node: %w", err)
		}
		got := st.Mode & unix.S_IFMT
		switch {
		case got == unix.S_IFDIR:
			return &securefs.TypeError{Path: path.Clean(d.Path), Got: got, Want: []uint32{typ}}
		case !isDefault:
			// The config asks for this node at this path: what the image
			// has there gives way.
			if err := unix.Unlinkat(dfd, name, 0); err != nil {
				return fmt.Errorf("replace existing %s: %w", securefs.TypeName(got), err)
			}
			err = unix.Mknodat(dfd, name, mode, int(rdev))
		case got != typ:
			// A default node the image has as something else (a symlink,
			// a fifo, a file) is refused rather than kept, which would
			// leave the container a /dev/null that is not the null device
			// (CVE-2025-31133), or replaced, which would hide what the
			// image meant.
			return &securefs.TypeError{Path: path.Clean(d.Path), Got: got, Want: []uint32{typ}}
		case st.Rdev != rdev:
			return fmt.Errorf("exists and is the %s %d:%d, not %d:%d", securefs.TypeName(got),
				unix.Major(st.Rdev), unix.Minor(st.Rdev), d.Major, d.Minor)
		default:
			// The config listed it too, or the image ships the same node.
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("mknod: %w", err)
	}
	uid, gid := -1, -1
	if d.UID != nil {
		uid = int(*d.UID)
	}
	if d.GID != nil {
		gid = int(*d.GID)
	}
	if err := unix.Fchownat(dfd, name, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	return nil
}

// bindDevice binds the host's node over an empty file: a user namespace
// cannot create device nodes. The placeholder is created exclusively; one
// the image already has is used if it is a regular file or a node of the
// device's type, and anything else (a fifo above all, which the open of
// the create would otherwise block on) is refused.
func (s *Setup) bindDevice(d specs.LinuxDevice, dfd int, name string, typ uint32) error {
	var also []uint32
	if typ != 0 {
		also = append(also, typ)
	}
	target, err := securefs.CreateAt(dfd, name, path.Clean(d.Path), 0o644, also...)
	if err != nil {
		return err
	}
	defer unix.Close(target)
	return bindMount(d.Path, target, Options{})
}
