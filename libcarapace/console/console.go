// Package console makes a container's pseudo-terminal and hands its master
// to whoever asked for it through --console-socket.
package console

import (
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/securefs"
)

// Setup opens a pty in the container's devpts (run after pivot_root), binds
// its peer over /dev/console and makes it the controlling terminal and
// stdio of the calling process. It returns the master.
//
// The peer comes from the master itself (TIOCGPTPEER), never from a path
// under /dev/pts, which the image could have made a symlink
// (CVE-2025-52565).
//
// exec passes bindDevConsole false: /dev/console stays the container's.
func Setup(size *specs.Box, bindDevConsole bool) (*os.File, error) {
	root, err := securefs.OpenRoot("/")
	if err != nil {
		return nil, err
	}
	defer root.Close()
	master, err := root.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/ptmx: %w", err)
	}
	m := os.NewFile(uintptr(master), "/dev/ptmx")
	fail := func(err error) (*os.File, error) { m.Close(); return nil, err }
	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		return fail(fmt.Errorf("unlock pty: %w", err))
	}
	// TIOCGPTPEER takes the open flags of the peer as its argument.
	r, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(master), unix.TIOCGPTPEER, uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if e != 0 {
		return fail(fmt.Errorf("open pty peer: %w", e))
	}
	peer := int(r)
	defer unix.Close(peer)
	if size != nil {
		ws := &unix.Winsize{Row: uint16(size.Height), Col: uint16(size.Width)}
		if err := unix.IoctlSetWinsize(master, unix.TIOCSWINSZ, ws); err != nil {
			return fail(fmt.Errorf("set console size: %w", err))
		}
	}
	if bindDevConsole {
		if err := bindConsole(root, peer); err != nil {
			return fail(err)
		}
	}
	if _, err := unix.Setsid(); err != nil {
		return fail(fmt.Errorf("setsid: %w", err))
	}
	if err := unix.IoctlSetInt(peer, unix.TIOCSCTTY, 0); err != nil {
		return fail(fmt.Errorf("set controlling terminal: %w", err))
	}
	for fd := 0; fd < 3; fd++ {
		if err := unix.Dup2(peer, fd); err != nil {
			return fail(fmt.Errorf("dup pty to fd %d: %w", fd, err))
		}
	}
	return m, nil
}

func bindConsole(root *securefs.Root, peer int) error {
	dev, err := root.MkdirAll("/dev", 0o755)
	if err != nil {
		return fmt.Errorf("open /dev: %w", err)
	}
	defer unix.Close(dev)
	// The pty is bound over the image's /dev/console if that is a file or
	// a device; anything else, a symlink above all, is replaced by an
	// empty file of ours, so the pty goes there and nowhere else
	// (CVE-2025-52565).
	var st unix.Stat_t
	switch err := unix.Fstatat(dev, "console", &st, unix.AT_SYMLINK_NOFOLLOW); {
	case err == unix.ENOENT:
	case err != nil:
		return fmt.Errorf("stat /dev/console: %w", err)
	default:
		switch t := st.Mode & unix.S_IFMT; t {
		case unix.S_IFREG, unix.S_IFCHR:
		case unix.S_IFDIR:
			return &securefs.TypeError{Path: "/dev/console", Got: t, Want: []uint32{unix.S_IFREG, unix.S_IFCHR}}
		default:
			if err := unix.Unlinkat(dev, "console", 0); err != nil {
				return fmt.Errorf("replace /dev/console (a %s): %w", securefs.TypeName(t), err)
			}
		}
	}
	// Created exclusively, then looked at with O_PATH only: whatever is
	// there when the bind happens, even if it was swapped since the check
	// above, is a regular file or a character device, or nothing is bound.
	target, err := securefs.CreateAt(dev, "console", "/dev/console", 0o600, unix.S_IFCHR)
	if err != nil {
		return fmt.Errorf("pty bind target: %w", err)
	}
	defer unix.Close(target)
	tree, err := unix.OpenTree(peer, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH)
	if err != nil {
		return fmt.Errorf("bind /dev/console: %w", err)
	}
	defer unix.Close(tree)
	if err := unix.MoveMount(tree, "", target, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("bind /dev/console: %w", err)
	}
	return nil
}

// SendMaster passes the pty master to the process listening on the unix
// socket at path (--console-socket), as runc does.
func SendMaster(path string, master *os.File) error {
	return SendFile(path, "pty master (--console-socket)", master)
}

// SendFile passes f, named by its file name, to the process listening on
// the unix socket at path (--console-socket, --pidfd-socket), with one
// SCM_RIGHTS message.
func SendFile(path, what string, f *os.File) error {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("send %s: socket: %w", what, err)
	}
	defer unix.Close(fd)
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		return fmt.Errorf("send %s: connect %s: %w", what, path, err)
	}
	if err := unix.Sendmsg(fd, []byte(f.Name()), unix.UnixRights(int(f.Fd())), nil, 0); err != nil {
		return fmt.Errorf("send %s to %s: %w", what, path, err)
	}
	return nil
}

// ClearONLCR turns off the pty's \n -> \r\n translation on output, as runc
// does for a terminal it proxies itself: the caller's own terminal adds
// the \r, and a caller reading the output line by line gets clean lines.
// Set on the master, it applies to the pair.
func ClearONLCR(master *os.File) error {
	t, err := unix.IoctlGetTermios(int(master.Fd()), unix.TCGETS)
	if err != nil {
		return fmt.Errorf("pty termios: %w", err)
	}
	t.Oflag &^= unix.ONLCR
	if err := unix.IoctlSetTermios(int(master.Fd()), unix.TCSETS, t); err != nil {
		return fmt.Errorf("pty termios: %w", err)
	}
	return nil
}
