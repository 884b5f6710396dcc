package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/config"
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
	for _, d := range DefaultDevices {
		if err := s.makeDevice(d, true); err != nil {
			return fmt.Errorf("default device %s: %w", d.Path, err)
		}
	}
	for i, d := range s.Spec.Linux.Devices {
		if err := s.makeDevice(d, false); err != nil {
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
	if s.UserNS {
		return s.bindDevice(d, dfd, name)
	}
	mode := uint32(0o666)
	if d.FileMode != nil {
		mode = uint32(*d.FileMode & os.ModePerm)
	}
	switch d.Type {
	case "c", "u":
		mode |= unix.S_IFCHR
	case "b":
		mode |= unix.S_IFBLK
	case "p":
		mode |= unix.S_IFIFO
	}
	err = unix.Mknodat(dfd, name, mode, int(unix.Mkdev(uint32(d.Major), uint32(d.Minor))))
	if errors.Is(err, unix.EEXIST) {
		if isDefault {
			// The config listed it too, or the image ships it.
			return nil
		}
		if err := unix.Unlinkat(dfd, name, 0); err != nil {
			return fmt.Errorf("replace existing node: %w", err)
		}
		err = unix.Mknodat(dfd, name, mode, int(unix.Mkdev(uint32(d.Major), uint32(d.Minor))))
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
// cannot create device nodes.
func (s *Setup) bindDevice(d specs.LinuxDevice, dfd int, name string) error {
	f, err := unix.Openat(dfd, name, unix.O_CREAT|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil && err != unix.EEXIST {
		return fmt.Errorf("create bind target: %w", err)
	}
	if err == nil {
		unix.Close(f)
	}
	target, err := unix.Openat(dfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(target)
	return bindMount(d.Path, target, Options{})
}
