// Package harness runs the programs the client suites drive (containerd,
// crictl, podman, docker): commands with a deadline and their output,
// daemons started and stopped by their pid, and the checks that nothing
// of a suite is left (processes, mounts, cgroups). The suite binaries are
// child subreapers (package subreaper), so everything is started through
// subreaper.Start and waited for through subreaper.Wait.
package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/carapace-oci/carapace/tests/internal/subreaper"
)

// Result is what a command did.
type Result struct {
	Cmd            string
	Stdout, Stderr string
	Code           int // exit status; -1 if it could not run or was killed
	Err            error
}

func (r Result) String() string {
	return fmt.Sprintf("%s: exit %d (%v)\nstdout: %s\nstderr: %s", r.Cmd, r.Code, r.Err, r.Stdout, r.Stderr)
}

// Run runs a command with a deadline and returns what it did; env is
// added to the test process's environment.
func Run(env []string, timeout time.Duration, name string, args ...string) Result {
	return RunInput(env, timeout, nil, name, args...)
}

// RunTTY runs a command under script(1), which gives it a pty as its
// terminal: what `-t` and `-it` need. input is typed into the session.
func RunTTY(env []string, timeout time.Duration, input string, name string, args ...string) Result {
	quoted := make([]string, 0, len(args)+1)
	for _, a := range append([]string{name}, args...) {
		quoted = append(quoted, "'"+strings.ReplaceAll(a, "'", `'\''`)+"'")
	}
	return RunInput(env, timeout, strings.NewReader(input), "script", "-qec", strings.Join(quoted, " "), "/dev/null")
}

// RunInput runs a command with stdin as its standard input.
func RunInput(env []string, timeout time.Duration, stdin io.Reader, name string, args ...string) Result {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A client's own children (a podman's conmon) must not hold our pipes
	// open past its exit.
	cmd.WaitDelay = 5 * time.Second
	r := Result{Cmd: name + " " + strings.Join(args, " "), Code: -1}
	if err := subreaper.Start(cmd); err != nil {
		r.Err = err
		return r
	}
	err := subreaper.Wait(cmd)
	r.Stdout, r.Stderr = stdout.String(), stderr.String()
	var ee *exec.ExitError
	switch {
	case err == nil:
		r.Code = 0
	case errors.As(err, &ee) && ee.Exited():
		r.Code = ee.ExitCode()
	default:
		r.Err = err
	}
	if ctx.Err() != nil {
		r.Err = fmt.Errorf("timed out after %v", timeout)
	}
	return r
}

// Daemon is a daemon a suite started.
type Daemon struct {
	Name    string
	LogPath string
	cmd     *exec.Cmd
	log     *os.File
}

// StartDaemon starts a daemon with its output in logPath and waits until
// ready reports true. A daemon that is not ready in 30 s is stopped, and
// the error has the end of its log.
func StartDaemon(name, logPath string, ready func() bool, argv ...string) (*Daemon, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group: a signal meant for the test binary's group
	// must not reach it, and it is stopped by its pid alone.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := subreaper.Start(cmd); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	d := &Daemon{Name: name, LogPath: logPath, cmd: cmd, log: log}
	deadline := time.Now().Add(30 * time.Second)
	for !ready() {
		if time.Now().After(deadline) {
			stopErr := d.Stop()
			out, _ := os.ReadFile(logPath)
			return nil, errors.Join(fmt.Errorf("%s did not get ready in 30 s; its log:\n%s", name, Tail(string(out), 40)), stopErr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return d, nil
}

// Pid is the daemon's process id.
func (d *Daemon) Pid() int { return d.cmd.Process.Pid }

// Stop stops the daemon by its pid: SIGTERM, then SIGKILL after 20 s
// (an error: a daemon must stop on SIGTERM).
func (d *Daemon) Stop() error {
	defer d.log.Close()
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- subreaper.Wait(d.cmd) }()
	select {
	case <-done:
		return nil
	case <-time.After(20 * time.Second):
		_ = d.cmd.Process.Kill()
		<-done
		return fmt.Errorf("%s (pid %d) did not stop on SIGTERM in 20 s: killed", d.Name, d.cmd.Process.Pid)
	}
}

// SocketReady reports whether something accepts connections on a unix
// socket path (the daemon's API).
func SocketReady(path string) func() bool {
	return func() bool {
		fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			return false
		}
		defer syscall.Close(fd)
		return syscall.Connect(fd, &syscall.SockaddrUnix{Name: path}) == nil
	}
}

// LeaksUnder lists what is left of a suite under dir: mounts under it,
// and processes whose command line or cwd names it (shims, conmon,
// containers). It waits up to 10 s for them to go.
func LeaksUnder(dir string) []string {
	var leaks []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		leaks = leaks[:0]
		if mi, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
			for _, line := range strings.Split(string(mi), "\n") {
				f := strings.Fields(line)
				if len(f) > 4 && strings.HasPrefix(f[4], dir) {
					leaks = append(leaks, "mount: "+f[4])
				}
			}
		}
		procs, _ := os.ReadDir("/proc")
		self := strconv.Itoa(os.Getpid())
		for _, p := range procs {
			if _, err := strconv.Atoi(p.Name()); err != nil || p.Name() == self {
				continue
			}
			cmdline, _ := os.ReadFile(filepath.Join("/proc", p.Name(), "cmdline"))
			cwd, _ := os.Readlink(filepath.Join("/proc", p.Name(), "cwd"))
			if bytes.Contains(cmdline, []byte(dir)) || strings.HasPrefix(cwd, dir) {
				leaks = append(leaks, fmt.Sprintf("process %s: %s", p.Name(),
					strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))))
			}
		}
		if len(leaks) == 0 || time.Now().After(deadline) {
			return leaks
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// CgroupLeaks lists the cgroup directories named id under any hierarchy,
// one or two levels below its root.
func CgroupLeaks(ids ...string) []string {
	var leaks []string
	for _, id := range ids {
		matches, _ := filepath.Glob("/sys/fs/cgroup/*/*/" + id)
		more, _ := filepath.Glob("/sys/fs/cgroup/*/*/*/" + id)
		v2, _ := filepath.Glob("/sys/fs/cgroup/*/" + id)
		for _, m := range append(append(matches, more...), v2...) {
			leaks = append(leaks, "cgroup: "+m)
		}
	}
	return leaks
}

// Eventually polls cond every 50 ms until it holds (true) or timeout
// passes (false).
func Eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Tail is the last lines of s.
func Tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

// RuntimeLeaks lists the container state directories left under dir (a
// directory holding state.json, create.json or exec.fifo: a runtime root's
// entry, Carapace's or runc's), and the cgroup directories, in any
// hierarchy, named after their ids.
func RuntimeLeaks(dir string) []string {
	var found, ids []string
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		switch d.Name() {
		case "state.json", "create.json", "exec.fifo":
			id := filepath.Base(filepath.Dir(path))
			found = append(found, "container state: "+filepath.Dir(path))
			ids = append(ids, id)
			return filepath.SkipDir
		}
		return nil
	})
	if len(ids) > 0 {
		found = append(found, CgroupLeaks(ids...)...)
	}
	return found
}
