package e2e

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ---- console socket and pty helpers -------------------------------------------

// consoleSocket is the listening end of --console-socket: the runtime
// connects and sends the pty master as one message whose SCM_RIGHTS
// carry the fd (runc's protocol).
type consoleSocket struct {
	Path string
	ln   *net.UnixListener
	got  chan consoleMsg
}

type consoleMsg struct {
	master *os.File
	name   string // the message's payload
	nfds   int    // how many fds the message carried
	err    error
}

func newConsoleSocket(t *testing.T, dir string) *consoleSocket {
	t.Helper()
	p := filepath.Join(dir, "console.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	s := &consoleSocket{Path: p, ln: ln, got: make(chan consoleMsg, 1)}
	go s.accept()
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *consoleSocket) accept() {
	conn, err := s.ln.AcceptUnix()
	if err != nil {
		s.got <- consoleMsg{err: err}
		return
	}
	defer conn.Close()
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4*8))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		s.got <- consoleMsg{err: fmt.Errorf("reading the console socket: %w", err)}
		return
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		s.got <- consoleMsg{err: fmt.Errorf("parsing the control message: %w", err)}
		return
	}
	var fds []int
	for _, m := range msgs {
		f, err := unix.ParseUnixRights(&m)
		if err == nil {
			fds = append(fds, f...)
		}
	}
	msg := consoleMsg{name: string(buf[:n]), nfds: len(fds)}
	if len(fds) == 0 {
		msg.err = fmt.Errorf("the console socket message (%q) carried no fd", buf[:n])
		s.got <- msg
		return
	}
	for _, fd := range fds[1:] {
		unix.Close(fd)
	}
	// Non-blocking, so that the runtime poller serves it and deadlines work.
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		msg.err = err
		s.got <- msg
		return
	}
	msg.master = os.NewFile(uintptr(fds[0]), "pty-master")
	s.got <- msg
}

// receive waits for the runtime's message.
func (s *consoleSocket) receive(timeout time.Duration) consoleMsg {
	select {
	case m := <-s.got:
		return m
	case <-time.After(timeout):
		return consoleMsg{err: fmt.Errorf("no pty master on the console socket after %v", timeout)}
	}
}

// readPty reads a pty master until the other side is closed by everyone
// (EIO), or the timeout. \r are dropped (the pty's ONLCR adds them).
func readPty(f *os.File, timeout time.Duration) (string, error) {
	_ = f.SetReadDeadline(time.Now().Add(timeout))
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := f.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			s := strings.ReplaceAll(string(out), "\r", "")
			if errors.Is(err, syscall.EIO) {
				return s, nil
			}
			return s, err
		}
	}
}

// openPty makes a pty pair on the host: the master (non-blocking) and its
// peer.
func openPty(t *testing.T) (master, peer *os.File, name string) {
	t.Helper()
	m, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	if err := unix.IoctlSetPointerInt(m, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(m)
		t.Fatalf("TIOCSPTLCK: %v", err)
	}
	n, err := unix.IoctlGetInt(m, unix.TIOCGPTN)
	if err != nil {
		unix.Close(m)
		t.Fatalf("TIOCGPTN: %v", err)
	}
	// The peer from the master itself: /dev/pts may hold several devpts.
	r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(m), unix.TIOCGPTPEER, uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if errno != 0 {
		unix.Close(m)
		t.Fatalf("TIOCGPTPEER: %v", errno)
	}
	if err := unix.SetNonblock(m, true); err != nil {
		t.Fatal(err)
	}
	return os.NewFile(uintptr(m), "ptmx"), os.NewFile(r, "pty-peer"), fmt.Sprintf("/dev/pts/%d", n)
}

// runOnConsole creates the container with --console-socket, receives the
// master, starts the container and returns what the process wrote to its
// terminal until it exited. On a failed create it returns the create
// result and no output.
func (c *Container) runOnConsole() (string, result) {
	c.t.Helper()
	sock := newConsoleSocket(c.t, c.Dir)
	r := c.Create("--console-socket", sock.Path)
	if !r.ok() {
		return "", r
	}
	msg := sock.receive(10 * time.Second)
	if msg.err != nil {
		c.t.Fatalf("console socket: %v (create: %s)", msg.err, r)
	}
	defer msg.master.Close()
	if msg.nfds != 1 {
		c.t.Errorf("the console socket message carried %d fds, want 1", msg.nfds)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(msg.master.Fd()), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR {
		c.t.Fatalf("the fd received is not a character device: %v, mode %o", err, st.Mode)
	}
	if _, err := unix.IoctlGetInt(int(msg.master.Fd()), unix.TIOCGPTN); err != nil {
		c.t.Fatalf("the fd received is not a pty master (TIOCGPTN: %v)", err)
	}
	c.mustStart()
	out, err := readPty(msg.master, 15*time.Second)
	if err != nil {
		c.t.Fatalf("reading the pty: %v; got so far %q", err, out)
	}
	c.waitStatus("stopped", 10*time.Second)
	return out, r
}

var ptsName = regexp.MustCompile(`(?m)^/dev/pts/[0-9]+$`)

// ---- tests -------------------------------------------------------------------

func TestTerminalConsoleSocket(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.Spec.Process.Terminal = true
	c.Spec.Process.ConsoleSize = &specs.Box{Height: 40, Width: 100}
	c.Spec.Process.Args = []string{"sh", "-c", `tty; stty size; echo hello; ls -l /dev/console; stat -c 'console=%F,%t,%T' /dev/console
[ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo stdio-are-ttys
grep -E ' /dev/console ' /proc/self/mountinfo`}
	out, r := c.runOnConsole()
	if !r.ok() {
		t.Fatalf("create: %s", r)
	}
	if !ptsName.MatchString(out) {
		t.Errorf("tty did not print a /dev/pts/N name:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^40 100$`).MatchString(out) {
		t.Errorf("stty size does not show consoleSize {40, 100} as \"40 100\":\n%s", out)
	}
	for _, want := range []string{"hello", "stdio-are-ttys", "console=character special file,88,"} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal output lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`(?m)^c\S+\s+\d+\s+\S+\s+\S+\s+136,\s*\d+ .*/dev/console$`).MatchString(out) {
		t.Errorf("ls -l /dev/console: want a character device with major 136:\n%s", out)
	}
	if !regexp.MustCompile(`(?m) /dev/console .* - devpts `).MatchString(out) {
		t.Errorf("/dev/console is not a mount of the container's devpts:\n%s", out)
	}
	if s := c.mustState(); s.Pid != 0 {
		t.Errorf("state of the exited container = %+v, want pid 0", s)
	}
	if r := c.Delete(false); !r.ok() {
		t.Fatalf("delete: %s", r)
	}
	c.checkNoLeftovers("after delete")
}

// TestTerminalRunForeground: run without --console-socket proxies the pty
// to its own stdio, here a pty of the test's.
func TestTerminalRunForeground(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.Spec.Process.Terminal = true
	c.Spec.Process.Args = []string{"sh", "-c", `tty; stty size; echo hello-from-the-container; exit 3`}
	c.WriteSpec()

	master, peer, name := openPty(t)
	defer master.Close()
	if err := unix.IoctlSetWinsize(int(peer.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 30, Col: 120}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(runtimeBin, "--root", c.Root, "run", "--bundle", c.Bundle, c.ID)
	cmd.Dir = c.Dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = peer, peer, peer
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := startTracked(cmd); err != nil {
		t.Fatal(err)
	}
	peer.Close()
	out, rerr := readPty(master, 20*time.Second)
	if rerr != nil {
		_ = cmd.Process.Kill()
	}
	_ = waitTracked(cmd)
	if rerr != nil {
		t.Fatalf("reading the pty %s: %v; got %q", name, rerr, out)
	}
	if code := cmd.ProcessState.ExitCode(); code != 3 {
		t.Errorf("run under a pty exited %d, want the container's 3; output:\n%s", code, out)
	}
	if !strings.Contains(out, "hello-from-the-container") {
		t.Errorf("the container's output was not proxied to run's terminal:\n%s", out)
	}
	if !ptsName.MatchString(out) {
		t.Errorf("tty in the container did not print a /dev/pts/N name:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^30 120$`).MatchString(out) {
		t.Errorf("stty size in the container: want run's terminal size \"30 120\":\n%s", out)
	}
	// run removes the container when it exits.
	if _, r := c.State(); !r.failed() {
		t.Errorf("state after run: want an error (container removed): %s", r)
	}
}

func TestTerminalFlagErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		terminal bool
		args     func(c *Container) []string
	}{
		{"create-terminal-without-socket", true, func(c *Container) []string {
			return []string{"create", "--bundle", c.Bundle, c.ID}
		}},
		{"run-detach-terminal-without-socket", true, func(c *Container) []string {
			return []string{"run", "-d", "--bundle", c.Bundle, c.ID}
		}},
		{"create-socket-without-terminal", false, func(c *Container) []string {
			return []string{"create", "--bundle", c.Bundle, "--console-socket", filepath.Join(c.Dir, "console.sock"), c.ID}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			c.Spec.Process.Terminal = tc.terminal
			c.Spec.Process.Args = []string{"true"}
			c.WriteSpec()
			if !tc.terminal {
				newConsoleSocket(t, c.Dir)
			}
			r := c.runtime(tc.args(c)...)
			if !r.failed() {
				t.Fatalf("want a failure: %s", r)
			}
			if !strings.Contains(r.Stderr, "console-socket") {
				t.Errorf("the error does not mention console-socket: %s", r)
			}
			if _, sr := c.State(); !sr.failed() {
				t.Errorf("state after the failed create: want an error (no container): %s", sr)
			}
		})
	}
}

// TestCVE2025_52565_ConsoleSymlinks: /dev/console must end up a bind of the
// container's own pty peer, taken from the master (not a path under
// /dev/pts), and never a bind over what symlinks in the image point at.
// The rows use the rootfs's own /dev (no /dev tmpfs), with symlinks at
// /dev/pts/0..9 (hidden by a devpts mount, or not) and at /dev/console.
func TestCVE2025_52565_ConsoleSymlinks(t *testing.T) {
	t.Parallel()
	requireCarapace(t)
	type target int
	const (
		rootfsFile target = iota // /etc/hostname of the rootfs
		hostFile                 // an absolute path to a file on the host
	)
	for _, tc := range []struct {
		name        string
		ptsLinks    bool // /dev/pts/0..9 are symlinks in the image
		consoleLink bool // /dev/console is a symlink in the image
		consoleFile bool // /dev/console is a regular file in the image
		devpts      bool // a devpts is mounted at /dev/pts
		to          target
		bug         string // a known runtime bug: the row is skipped
	}{
		{name: "pts-links-to-rootfs-file", ptsLinks: true, devpts: true, to: rootfsFile},
		{name: "pts-links-to-host-file", ptsLinks: true, devpts: true, to: hostFile},
		{name: "pts-links-no-devpts", ptsLinks: true, to: rootfsFile},
		{name: "console-link-to-rootfs-file", consoleLink: true, devpts: true, to: rootfsFile},
		{name: "console-link-to-host-file", consoleLink: true, devpts: true, to: hostFile},
		{name: "all-links-to-rootfs-file", ptsLinks: true, consoleLink: true, devpts: true, to: rootfsFile},
		{name: "all-links-to-host-file-no-devpts", ptsLinks: true, consoleLink: true, to: hostFile},
		{name: "console-regular-file", consoleFile: true, devpts: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.bug != "" {
				t.Skip(tc.bug)
			}
			c := newContainer(t)
			c.Spec.Root.Readonly = false
			c.Spec.Process.Terminal = true
			c.removeMount("/dev") // the rootfs's own /dev, where the symlinks are
			if !tc.devpts {
				c.removeMount("/dev/pts")
			}
			hostPath := filepath.Join(c.HostDir, "hostfile")
			if err := os.WriteFile(hostPath, []byte("HOST-FILE\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			rootfsHostname := filepath.Join(c.Rootfs, "etc/hostname")
			link := "/etc/hostname"
			if tc.to == hostFile {
				link = hostPath
			}
			if tc.ptsLinks {
				if err := os.MkdirAll(filepath.Join(c.Rootfs, "dev/pts"), 0o755); err != nil {
					t.Fatal(err)
				}
				for i := 0; i < 10; i++ {
					if err := os.Symlink(link, filepath.Join(c.Rootfs, "dev/pts", fmt.Sprint(i))); err != nil {
						t.Fatal(err)
					}
				}
			}
			if tc.consoleLink {
				if err := os.Symlink(link, filepath.Join(c.Rootfs, "dev/console")); err != nil {
					t.Fatal(err)
				}
			}
			consoleFile := filepath.Join(c.Rootfs, "dev/console")
			if tc.consoleFile {
				c.writeRootfsFile("dev/console", "IMAGE-CONSOLE\n", 0o644)
			}
			c.Spec.Process.Args = []string{"sh", "-c", `tty; echo "console=$(stat -c %F,%t,%T /dev/console)"
echo "hostname-file=$(stat -c %F,%t,%T /etc/hostname)"
echo ---; cat /proc/self/mountinfo`}
			out, r := c.runOnConsole()
			switch {
			case r.failed():
				// Refusing the image is safe; the checks below still run.
				t.Logf("create refused the image: %s", r)
			case r.Err != nil:
				t.Fatal(r)
			default:
				if !strings.Contains(out, "console=character special file,88,") {
					t.Errorf("/dev/console is not a pty (char 136:N, not a symlink):\n%s", out)
				}
				if !strings.Contains(out, "hostname-file=regular file,0,0") {
					t.Errorf("/etc/hostname in the container is no longer the image's file:\n%s", out)
				}
				_, mi, _ := strings.Cut(out, "---")
				if m, ok := mountinfoAt(mi, "/dev/console"); !ok || m.FSType != "devpts" {
					t.Errorf("/dev/console is not a mount from devpts: %q", m.Line)
				}
				for _, l := range lines(mi) {
					switch mp := parseMountinfoLine(l).Point; {
					case mp == "/etc/hostname", strings.HasPrefix(mp, c.HostDir), strings.HasPrefix(mp, "/dev/pts/"):
						t.Errorf("the pty was mounted over a symlink's target: %s", l)
					}
				}
			}
			if got := readFileString(hostPath); got != "HOST-FILE\n" {
				t.Errorf("the host file behind the symlinks changed: %q", got)
			}
			if got := readFileString(rootfsHostname); got != "template\n" {
				t.Errorf("the rootfs file behind the symlinks changed: %q", got)
			}
			if fi, err := os.Lstat(rootfsHostname); err != nil || !fi.Mode().IsRegular() {
				t.Errorf("rootfs /etc/hostname is no longer a regular file: %v %v", fi, err)
			}
			if tc.consoleFile {
				if got := readFileString(consoleFile); got != "IMAGE-CONSOLE\n" {
					t.Errorf("the image's /dev/console file changed: %q", got)
				}
			}
			if m := mountsUnder(hostPath); len(m) > 0 {
				t.Errorf("something is mounted on the host file: %v", m)
			}
		})
	}
}

// TestTerminalNonRootUser: with process.user not root, the pty is the
// process's user's (uid only; the group stays devpts' tty group, mode
// 0620), as runc leaves it, and the process can reopen its terminal.
func TestTerminalNonRootUser(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.Spec.Process.Terminal = true
	c.Spec.Process.User = specs.User{UID: 1000, GID: 1000}
	c.Spec.Process.Args = []string{"sh", "-c", `stat -L -c 'pty=%u:%g:%a' /proc/self/fd/0
echo a > /dev/tty && echo reopen-dev-tty-ok; echo b > /proc/self/fd/0 && echo reopen-fd0-ok`}
	out, r := c.runOnConsole()
	if !r.ok() {
		t.Fatalf("create: %s", r)
	}
	for _, want := range []string{"pty=1000:5:620", "reopen-dev-tty-ok", "reopen-fd0-ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal output lacks %q:\n%s", want, out)
		}
	}
}
