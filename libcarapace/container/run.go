package container

import (
	"io"
	"os"
	"os/signal"

	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/notify"
)

// Run creates and starts a container. Detached, it returns once the process
// runs; otherwise it waits, forwarding signals, removes the container
// (unless keep: it stays, stopped, for state and delete) and returns the
// process's exit status (128+N for a signal N).
func (r *Runtime) Run(o CreateOptions, detach, keep bool) (int, error) {
	// Orphans of the container (with no pid namespace of its own) come to
	// us to be reaped, not to a host PID 1 that may not reap.
	if !detach && !o.NoSubreaper {
		unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	}
	var master *os.File
	if !detach && o.ConsoleSocket == "" {
		o.OnConsole = func(m *os.File) error {
			master = m
			// Sized now, before start: the process may ask at once.
			if ws, err := unix.IoctlGetWinsize(int(os.Stdin.Fd()), unix.TIOCGWINSZ); err == nil {
				unix.IoctlSetWinsize(int(m.Fd()), unix.TIOCSWINSZ, ws)
			}
			return nil
		}
	}
	sigs := make(chan os.Signal, 32)
	if !detach {
		signal.Notify(sigs, forwarded...)
	}
	c, err := r.create(o)
	if err != nil {
		return 1, err
	}
	// Under systemd, run passes READY=1 on when it comes, while it waits
	// for the process, which may never send it.
	startSt := c.st
	var nl *notify.Listener
	if c.st.NotifySocket != "" {
		if nl, err = notify.Listen(r.Store.Dir(c.st.ID)); err != nil {
			r.stop(c.st)
			r.destroy(c.st)
			return 1, err
		}
		defer nl.Close()
		cp := *c.st
		cp.NotifySocket = ""
		startSt = &cp
	}
	if err := r.start(startSt); err != nil {
		r.stop(c.st)
		r.destroy(c.st)
		return 1, err
	}
	if nl != nil {
		if pidfd, err := unix.PidfdOpen(c.pid, 0); err == nil {
			go func() {
				defer unix.Close(pidfd)
				if err := nl.WaitReady(pidfd, c.pid, c.st.NotifySocket); err != nil {
					r.Log.Warn("sd_notify", "id", c.st.ID, "error", err)
				}
			}()
		}
	}
	if detach {
		return 0, nil
	}
	if master != nil {
		restore := proxyTerminal(master)
		defer restore()
	}
	go forwardSignals(sigs, c.st.Pid, master)
	status := waitInit(c.pid)
	if keep {
		return status, nil
	}
	if err := r.destroy(c.st); err != nil {
		r.Log.Warn("remove container", "id", c.st.ID, "error", err)
	}
	return status, nil
}

// forwarded are the signals run passes on to the container, as a shell
// would to its foreground job.
var forwarded = []os.Signal{
	unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM, unix.SIGUSR1, unix.SIGUSR2,
	unix.SIGWINCH, unix.SIGCONT, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU, unix.SIGALRM,
}

// waitInit reaps children until init exits and returns its exit status.
func waitInit(pid int) int {
	for {
		var ws unix.WaitStatus
		wpid, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 1
		}
		if wpid != pid {
			continue
		}
		if ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ws.ExitStatus()
	}
}

func forwardSignals(sigs chan os.Signal, pid int, master *os.File) {
	for s := range sigs {
		sig := s.(unix.Signal)
		switch sig {
		case unix.SIGCHLD, unix.SIGURG, unix.SIGPIPE:
			continue
		case unix.SIGWINCH:
			if master != nil {
				if ws, err := unix.IoctlGetWinsize(int(os.Stdin.Fd()), unix.TIOCGWINSZ); err == nil {
					unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, ws)
				}
			}
			continue
		}
		unix.Kill(pid, sig)
	}
}

// proxyTerminal copies between our stdio and the container's pty, with our
// terminal (if any) in raw mode, as runc run does without a console socket.
func proxyTerminal(master *os.File) func() {
	restore := func() {}
	in := int(os.Stdin.Fd())
	if old, err := unix.IoctlGetTermios(in, unix.TCGETS); err == nil {
		raw := *old
		raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		raw.Oflag &^= unix.OPOST
		raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		raw.Cflag &^= unix.CSIZE | unix.PARENB
		raw.Cflag |= unix.CS8
		raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
		if unix.IoctlSetTermios(in, unix.TCSETS, &raw) == nil {
			restore = func() { unix.IoctlSetTermios(in, unix.TCSETS, old) }
		}
		if ws, err := unix.IoctlGetWinsize(int(os.Stdin.Fd()), unix.TIOCGWINSZ); err == nil {
			unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, ws)
		}
	}
	go io.Copy(master, os.Stdin)
	done := make(chan struct{})
	go func() {
		io.Copy(os.Stdout, master)
		close(done)
	}()
	return func() {
		// Output still in the pty after the process exited is drained
		// until the master reports EIO.
		<-done
		restore()
	}
}
