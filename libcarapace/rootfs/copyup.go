package rootfs

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// hasOption reports whether a spec mount lists option o.
func hasOption(opts []string, o string) bool {
	for _, x := range opts {
		if x == o {
			return true
		}
	}
	return false
}

// copyUp copies the contents of the directory src (the image's directory
// under a tmpfs just mounted on it) into dst (the root of that tmpfs):
// the tmpcopyup extension of runc and crun, which podman uses so that a
// tmpfs over /etc/something or /run keeps what the image put there.
//
// src was resolved inside the rootfs by securefs; below it every entry is
// reached by a single name relative to its parent's fd, with O_NOFOLLOW and
// never "..", so nothing leads out of src. Symlinks are recreated with
// their text, never followed. Regular files are opened O_NONBLOCK and
// checked to still be regular files, so one swapped for a fifo cannot
// block init. Owners and modes (setuid, setgid and sticky bits included)
// are kept; modes are set after the owner, which would clear setuid bits.
// The mode and owner of dst itself are the tmpfs's own (mode= defaults to
// the directory's mode, see mount), as with runc.
func copyUp(src, dst int) error {
	var dstSt unix.Stat_t
	if err := unix.Fstat(dst, &dstSt); err != nil {
		return err
	}
	return copyDir(src, dst, dstSt.Dev, "")
}

// copyDir copies the entries of src into dst. rel names src for messages.
// tmpfsDev is the device of the new tmpfs: a directory of the source that
// is on it (a mount of the destination under itself) is not walked into,
// which would never end.
func copyDir(src, dst int, tmpfsDev uint64, rel string) error {
	// Read through a duplicate: the os.File owns and closes it.
	dup, err := unix.FcntlInt(uintptr(src), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return err
	}
	d := os.NewFile(uintptr(dup), rel)
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return fmt.Errorf("read %s: %w", display(rel), err)
	}
	for _, name := range names {
		if err := copyEntry(src, dst, name, tmpfsDev, rel+"/"+name); err != nil {
			return err
		}
	}
	return nil
}

func display(rel string) string {
	if rel == "" {
		return "."
	}
	return rel[1:]
}

func copyEntry(src, dst int, name string, tmpfsDev uint64, rel string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(src, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("stat %s: %w", display(rel), err)
	}
	typ := st.Mode & unix.S_IFMT
	perm := st.Mode &^ unix.S_IFMT
	switch typ {
	case unix.S_IFDIR:
		sfd, err := unix.Openat(src, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", display(rel), err)
		}
		defer unix.Close(sfd)
		if err := unix.Fstat(sfd, &st); err != nil {
			return err
		}
		if st.Dev == tmpfsDev {
			return nil
		}
		if err := unix.Mkdirat(dst, name, 0o700); err != nil {
			return fmt.Errorf("mkdir %s: %w", display(rel), err)
		}
		dfd, err := unix.Openat(dst, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open copy of %s: %w", display(rel), err)
		}
		defer unix.Close(dfd)
		if err := copyDir(sfd, dfd, tmpfsDev, rel); err != nil {
			return err
		}
		// Owner and mode last: a directory without write permission is
		// still filled, whoever init is in a user namespace.
		return setOwnerMode(dfd, rel, st.Uid, st.Gid, st.Mode&^unix.S_IFMT)
	case unix.S_IFREG:
		sfd, err := unix.Openat(src, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", display(rel), err)
		}
		sf := os.NewFile(uintptr(sfd), rel)
		defer sf.Close()
		if err := unix.Fstat(sfd, &st); err != nil {
			return err
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG {
			return fmt.Errorf("%s changed type while copied", display(rel))
		}
		dfd, err := unix.Openat(dst, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return fmt.Errorf("create copy of %s: %w", display(rel), err)
		}
		df := os.NewFile(uintptr(dfd), rel)
		defer df.Close()
		if _, err := io.Copy(df, sf); err != nil {
			return fmt.Errorf("copy %s: %w", display(rel), err)
		}
		return setOwnerMode(dfd, rel, st.Uid, st.Gid, st.Mode&^unix.S_IFMT)
	case unix.S_IFLNK:
		target, err := readlinkat(src, name)
		if err != nil {
			return fmt.Errorf("readlink %s: %w", display(rel), err)
		}
		if err := unix.Symlinkat(target, dst, name); err != nil {
			return fmt.Errorf("symlink %s: %w", display(rel), err)
		}
		if err := unix.Fchownat(dst, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("chown %s: %w", display(rel), err)
		}
		return nil
	case unix.S_IFCHR, unix.S_IFBLK, unix.S_IFIFO, unix.S_IFSOCK:
		// Made, never opened: a fifo or a device is copied as a node.
		if err := unix.Mknodat(dst, name, typ|0o600, int(st.Rdev)); err != nil {
			return fmt.Errorf("mknod %s: %w", display(rel), err)
		}
		fd, err := unix.Openat(dst, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open copy of %s: %w", display(rel), err)
		}
		defer unix.Close(fd)
		if err := unix.Fchownat(fd, "", int(st.Uid), int(st.Gid), unix.AT_EMPTY_PATH); err != nil {
			return fmt.Errorf("chown %s: %w", display(rel), err)
		}
		// fchmod does not take an O_PATH fd; the node was made in the new
		// tmpfs, which nothing else can reach yet, so its name is it.
		if err := unix.Fchmodat(dst, name, perm, 0); err != nil {
			return fmt.Errorf("chmod %s: %w", display(rel), err)
		}
		return nil
	}
	return fmt.Errorf("%s: unknown file type %#o", display(rel), typ)
}

func setOwnerMode(fd int, rel string, uid, gid, mode uint32) error {
	if err := unix.Fchown(fd, int(uid), int(gid)); err != nil {
		return fmt.Errorf("chown %s: %w", display(rel), err)
	}
	if err := unix.Fchmod(fd, mode); err != nil {
		return fmt.Errorf("chmod %s: %w", display(rel), err)
	}
	return nil
}

func readlinkat(dir int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dir, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
		if size >= unix.PathMax*2 {
			return "", errors.New("link target too long")
		}
	}
}
