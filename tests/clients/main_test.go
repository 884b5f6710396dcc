// Package clients runs the runtime under the real programs that call it:
// containerd (ctr, through containerd-shim-runc-v2), podman (with conmon)
// and dockerd. Each suite starts its own private daemon with its own state
// directories and socket, imports a busybox image built offline, and checks
// what the client reports and what the container sees.
//
// CARAPACE_BINARY picks the runtime (default bin/carapace); pointing it at
// /usr/sbin/runc runs the same suites against runc, for comparison.
package clients

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
	"testing"
	"time"

	"github.com/carapace-oci/carapace/tests/internal/subreaper"
	"github.com/carapace-oci/carapace/tests/internal/testenv"
)

var (
	runtimeBin string // absolute path of the runtime under test
	workDir    string // every suite's files live under here
	image      images // the busybox image, in the archive formats the clients load
	skipReason string
)

// imageRef is the name every client knows the test image by.
const imageRef = "docker.io/library/busybox:carapace"

type images struct {
	OCIArchive    string // oci-archive (ctr images import, podman load)
	DockerArchive string // docker-archive (docker load)
}

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	if os.Geteuid() != 0 {
		skipReason = "the client suites need root"
		return m.Run()
	}
	bin, skip, err := testenv.RuntimeBinary()
	if err != nil {
		fmt.Fprintf(os.Stderr, "clients: %v\n", err)
		return 1
	}
	runtimeBin, skipReason = bin, skip
	if skip != "" {
		return m.Run()
	}
	// containerd's shims and conmon daemonize: when their daemon is gone
	// they are re-parented to us, not to a PID 1 that does not reap.
	if err := subreaper.Become(); err != nil {
		fmt.Fprintf(os.Stderr, "clients: PR_SET_CHILD_SUBREAPER: %v\n", err)
		return 1
	}
	workDir, err = os.MkdirTemp("", "carapace-clients-")
	if err == nil {
		err = os.Chmod(workDir, 0o755)
	}
	if err == nil {
		image, err = buildImage(filepath.Join(workDir, "image"))
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "clients: %v\n", err)
		_ = os.RemoveAll(workDir)
		return 1
	}
	code := m.Run()
	if leaks := leaksUnder(workDir); len(leaks) > 0 {
		fmt.Fprintf(os.Stderr, "clients: left behind after the suites:\n  %s\n", strings.Join(leaks, "\n  "))
		code = 1
	}
	if err := os.RemoveAll(workDir); err != nil {
		fmt.Fprintf(os.Stderr, "clients: removing %s: %v\n", workDir, err)
		code = 1
	}
	return code
}

// requireTools skips when not root or not built, and fails when a client
// program the suite needs is missing: scripts/install-deps.sh installs them,
// so a missing one in CI is a broken setup, not a reason to pass.
func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (scripts/install-deps.sh installs it): %v", tool, err)
		}
	}
}

// buildImage makes a busybox image without a registry: a rootfs from the
// host's busybox-static, made into an OCI image by umoci and converted to
// the archive formats by skopeo.
func buildImage(dir string) (images, error) {
	layout, bundle := filepath.Join(dir, "oci"), filepath.Join(dir, "bundle")
	img := layout + ":latest"
	steps := [][]string{
		{"umoci", "init", "--layout", layout},
		{"umoci", "new", "--image", img},
		{"umoci", "unpack", "--image", img, bundle},
	}
	for _, s := range steps {
		if r := run(nil, 2*time.Minute, s[0], s[1:]...); r.Code != 0 {
			return images{}, errors.New(r.String())
		}
	}
	if err := fillRootfs(filepath.Join(bundle, "rootfs")); err != nil {
		return images{}, err
	}
	im := images{
		OCIArchive:    filepath.Join(dir, "busybox-oci.tar"),
		DockerArchive: filepath.Join(dir, "busybox-docker.tar"),
	}
	steps = [][]string{
		{"umoci", "repack", "--image", img, bundle},
		{"umoci", "config", "--image", img, "--config.cmd", "sh",
			"--config.env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"--config.workingdir", "/"},
		{"skopeo", "copy", "oci:" + img, "oci-archive:" + im.OCIArchive + ":" + imageRef},
		{"skopeo", "copy", "oci:" + img, "docker-archive:" + im.DockerArchive + ":" + strings.TrimPrefix(imageRef, "docker.io/library/")},
	}
	for _, s := range steps {
		if r := run(nil, 2*time.Minute, s[0], s[1:]...); r.Code != 0 {
			return images{}, errors.New(r.String())
		}
	}
	return im, os.RemoveAll(bundle)
}

// fillRootfs installs busybox with its applet links, and the users and
// groups the suites run as.
func fillRootfs(root string) error {
	for _, d := range []string{"bin", "etc", "tmp", "root", "home/app", "proc", "sys", "dev", "data"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(root, "tmp"), 0o1777); err != nil {
		return err
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return fmt.Errorf("busybox-static is needed: %w", err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin", "busybox"), bb, 0o755); err != nil {
		return err
	}
	list := run(nil, time.Minute, "/bin/busybox", "--list")
	if list.Code != 0 {
		return errors.New(list.String())
	}
	for _, applet := range strings.Fields(list.Stdout) {
		if applet == "busybox" {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(root, "bin", applet)); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	files := map[string]string{
		"etc/passwd":   "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
		"etc/group":    "root:x:0:\napp:x:1000:\naudio:x:29:app\nnogroup:x:65534:\n",
		"etc/hostname": "busybox\n",
		"data/hello":   "hello from the image\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return os.Chown(filepath.Join(root, "home/app"), 1000, 1000)
}

// result is what a client command did.
type result struct {
	Cmd            string
	Stdout, Stderr string
	Code           int // exit status; -1 if it could not run or was killed
	Err            error
}

func (r result) String() string {
	return fmt.Sprintf("%s: exit %d (%v)\nstdout: %s\nstderr: %s", r.Cmd, r.Code, r.Err, r.Stdout, r.Stderr)
}

// run runs a client command with a deadline and returns what it did.
func run(env []string, timeout time.Duration, name string, args ...string) result {
	return runInput(env, timeout, nil, name, args...)
}

// runTTY runs a client command under script(1), which gives it a pty as
// its terminal: what `-t` and `-it` need. input is typed into the session.
func runTTY(env []string, timeout time.Duration, input string, name string, args ...string) result {
	quoted := make([]string, 0, len(args)+1)
	for _, a := range append([]string{name}, args...) {
		quoted = append(quoted, "'"+strings.ReplaceAll(a, "'", `'\''`)+"'")
	}
	return runInput(env, timeout, strings.NewReader(input), "script", "-qec", strings.Join(quoted, " "), "/dev/null")
}

func runInput(env []string, timeout time.Duration, stdin io.Reader, name string, args ...string) result {
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
	r := result{Cmd: name + " " + strings.Join(args, " "), Code: -1}
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

// daemon is a client daemon the suite started.
type daemon struct {
	name string
	cmd  *exec.Cmd
	log  *os.File
}

// startDaemon starts a daemon with its output in logPath and waits until
// ready reports true.
func startDaemon(t *testing.T, name, logPath string, ready func() bool, argv ...string) *daemon {
	t.Helper()
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group: a signal meant for the test binary's group
	// must not reach it, and it is stopped by its pid alone.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := subreaper.Start(cmd); err != nil {
		log.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	d := &daemon{name: name, cmd: cmd, log: log}
	deadline := time.Now().Add(30 * time.Second)
	for !ready() {
		if time.Now().After(deadline) {
			d.stop(t)
			out, _ := os.ReadFile(logPath)
			t.Fatalf("%s did not get ready in 30 s; its log:\n%s", name, tail(string(out), 40))
		}
		time.Sleep(100 * time.Millisecond)
	}
	return d
}

// stop stops the daemon by its pid: SIGTERM, then SIGKILL after 20 s.
func (d *daemon) stop(t *testing.T) {
	t.Helper()
	defer d.log.Close()
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- subreaper.Wait(d.cmd) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Errorf("%s (pid %d) did not stop on SIGTERM in 20 s: killed", d.name, d.cmd.Process.Pid)
		_ = d.cmd.Process.Kill()
		<-done
	}
}

// socketReady reports whether something accepts connections on a unix
// socket path (the daemon's API).
func socketReady(path string) func() bool {
	return func() bool {
		fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			return false
		}
		defer syscall.Close(fd)
		return syscall.Connect(fd, &syscall.SockaddrUnix{Name: path}) == nil
	}
}

// leaksUnder lists what is left of the suites: mounts under dir, and
// processes whose command line or cwd names dir (shims, conmon,
// containers).
func leaksUnder(dir string) []string {
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

// cgroupLeaks lists the cgroup directories named id under any hierarchy.
func cgroupLeaks(ids ...string) []string {
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

// cgroupFile reads a cgroup file of a container by its cgroup directory
// name (the container id for docker, podman and ctr), under the v1
// controller or the v2 hierarchy.
func cgroupFile(t *testing.T, controller, id, file string) string {
	t.Helper()
	for _, pattern := range []string{
		"/sys/fs/cgroup/" + controller + "/*/" + id + "/" + file,
		"/sys/fs/cgroup/" + controller + "/*/*/" + id + "/" + file,
		"/sys/fs/cgroup/*/" + id + "/" + file,
		"/sys/fs/cgroup/*/*/" + id + "/" + file,
	} {
		if m, _ := filepath.Glob(pattern); len(m) > 0 {
			b, err := os.ReadFile(m[0])
			if err != nil {
				t.Fatalf("read %s: %v", m[0], err)
			}
			return strings.TrimSpace(string(b))
		}
	}
	t.Fatalf("no cgroup file %s for %s under /sys/fs/cgroup", file, id)
	return ""
}

// eventually polls cond every 50 ms until it holds (true) or timeout
// passes (false).
func eventually(timeout time.Duration, cond func() bool) bool {
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

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}
