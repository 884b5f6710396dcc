package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/tests/internal/leaks"
	"github.com/carapace-oci/carapace/tests/internal/testenv"
)

// Differences from runc that clients depend on (issue 10).

// TestKillNotRunningText: kill of a stopped container fails with runc's
// exact text, which containerd's shim matches to treat the process as
// already gone (otherwise a CRI stop of an exited container fails and the
// pod cannot be removed). kill ID 0 is a liveness probe.
func TestKillNotRunningText(t *testing.T) {
	t.Parallel()
	c, _ := startSleeper(t, nil)
	if r := c.runtime("kill", c.ID, "0"); !r.ok() {
		t.Fatalf("kill ID 0 of a running container: %s", r)
	}
	if r := c.Kill("KILL"); !r.ok() {
		t.Fatalf("kill: %s", r)
	}
	c.waitStatus("stopped", 10*time.Second)
	logPath := filepath.Join(c.Dir, "log.json")
	for _, args := range [][]string{
		{"kill", c.ID, "TERM"},
		{"kill", c.ID, "0"},
		{"kill", "--all", c.ID, "KILL"},
		{"--log", logPath, "--log-format", "json", "kill", c.ID, "KILL"},
	} {
		r := c.runtime(args...)
		if r.ok() || !strings.Contains(r.Stderr+readFileString(logPath), "container not running") {
			t.Errorf("%v of a stopped container: want failure with runc's \"container not running\", got %s", args, r)
		}
	}
	if !strings.Contains(readFileString(logPath), `"level":"error","msg":"`) && !strings.Contains(readFileString(logPath), `container not running`) {
		t.Errorf("JSON log has no error line: %q", readFileString(logPath))
	}
	if r := c.runtime("kill", c.ID+"-missing", "KILL"); r.ok() || !strings.Contains(r.Stderr, "does not exist") {
		t.Errorf("kill of a missing container: want \"does not exist\", got %s", r)
	}
}

// requireRaiseRlimits skips unless the runtime (this test's root) may raise
// a hard rlimit: root here lacks CAP_SYS_RESOURCE; in the VM it has it.
func requireRaiseRlimits(t *testing.T) {
	t.Helper()
	b, _ := os.ReadFile("/proc/self/status")
	eff, err := strconv.ParseUint(statusField(string(b), "CapEff"), 16, 64)
	if err != nil || eff&(1<<unix.CAP_SYS_RESOURCE) == 0 {
		t.Skip("root lacks CAP_SYS_RESOURCE here: raising a hard rlimit is tested in the VM (make test-v2)")
	}
}

// TestRlimitsRaiseHard: a hard limit above the runtime's own is set by the
// runtime (prlimit on the child), which holds CAP_SYS_RESOURCE, not by the
// child after it dropped it, nor in a user namespace where it never can.
func TestRlimitsRaiseHard(t *testing.T) {
	t.Parallel()
	requireRaiseRlimits(t)
	var cur unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &cur); err != nil {
		t.Fatal(err)
	}
	want := cur.Max + 1024
	limit := []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: want, Hard: want}}
	wantOut := fmt.Sprintf("%d %d", want, want)
	script := `echo "$(ulimit -n) $(ulimit -Hn)"`
	for _, userns := range []bool{false, true} {
		t.Run(fmt.Sprintf("userns=%v", userns), func(t *testing.T) {
			t.Parallel()
			c, _ := startSleeper(t, func(c *Container) {
				c.Spec.Process.Rlimits = limit
				if userns {
					c.Spec.Linux.Namespaces = append(c.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
					c.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
					c.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
					c.removeMount("/sys/fs/cgroup")
				}
				c.Spec.Process.Args = []string{"sh", "-c", script + " > /tmp/limits; exec sleep 1000"}
				c.Spec.Root.Readonly = false
			})
			got := strings.TrimSpace(c.mustExecSh(t, nil, "cat /tmp/limits"))
			if got != wantOut {
				t.Errorf("init's process: NOFILE soft hard = %q, want %q", got, wantOut)
			}
			// exec with the same raise, through --process.
			p := *c.Spec.Process
			p.Args = []string{"sh", "-c", script}
			pj := filepath.Join(c.Dir, "p.json")
			b, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(pj, b, 0o644); err != nil {
				t.Fatal(err)
			}
			r := c.execIn([]string{"--process", pj})
			if !r.ok() || strings.TrimSpace(r.Stdout) != wantOut {
				t.Errorf("exec'd process: want %q, got %s", wantOut, r)
			}
		})
	}
}

// TestUnknownCapabilityWarned: runtime-spec 1.3 (config.md,
// process.capabilities): a value that cannot be mapped "MUST be logged as
// a warning by the runtime. Runtimes SHOULD NOT fail". create and exec
// warn, naming the field, and run with the capabilities they know.
func TestUnknownCapabilityWarned(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.Spec.Process.Capabilities.Bounding = append(c.Spec.Process.Capabilities.Bounding, "CAP_TEST")
	c.Spec.Process.Capabilities.Effective = append(c.Spec.Process.Capabilities.Effective, "CAP_FOO")
	c.Spec.Process.Args = []string{"sh", "-c", "grep CapBnd /proc/self/status; exec sleep 1000"}
	r := c.Create()
	if !r.ok() {
		t.Fatalf("create with an unknown capability: want success with a warning, got %s", r)
	}
	for _, w := range []string{`process.capabilities.bounding[3]: unknown capability \"CAP_TEST\"`, `process.capabilities.effective[3]: unknown capability \"CAP_FOO\"`} {
		if !strings.Contains(r.Stderr, w) {
			t.Errorf("create's warnings lack %s:\n%s", w, r.Stderr)
		}
	}
	c.mustStart()
	want := capMask(t, defaultCaps)
	waitFor(t, 5*time.Second, "the process's output", func() bool { return strings.Contains(c.Output(), "CapBnd") })
	if got := parseHex(t, statusField(c.Output(), "CapBnd")); got != want {
		t.Errorf("CapBnd %#x, want the known ones %#x", got, want)
	}
	r = c.execIn([]string{"--cap", "CAP_BOGUS"}, "true")
	if !r.ok() || !strings.Contains(r.Stderr, `unknown capability \"CAP_BOGUS\"`) {
		t.Errorf("exec --cap CAP_BOGUS: want success with a warning, got %s", r)
	}
}

// TestDefaultDevicesAllowTun: /dev/net/tun (c 10:200) is in the default
// device rules, as runc has always had it; a device outside them (the
// kernel log, c 1:11) stays denied, so the rule list is really enforced.
func TestDefaultDevicesAllowTun(t *testing.T) {
	t.Parallel()
	for _, dev := range []string{"/dev/net/tun", "/dev/kmsg"} {
		if _, err := os.Stat(dev); err != nil {
			t.Skipf("%s: %v", dev, err)
		}
	}
	c := newContainer(t)
	c.Spec.Mounts = append(c.Spec.Mounts,
		specs.Mount{Destination: "/dev/net/tun", Type: "bind", Source: "/dev/net/tun", Options: []string{"bind"}},
		specs.Mount{Destination: "/dev/kmsg2", Type: "bind", Source: "/dev/kmsg", Options: []string{"bind"}})
	out := c.Sh(`(exec 3<>/dev/net/tun) 2>/dev/null && echo tun-opened || echo tun-denied
(exec 3</dev/kmsg2) 2>/dev/null && echo kmsg-opened || echo kmsg-denied`)
	if !strings.Contains(out, "tun-opened") {
		t.Errorf("/dev/net/tun cannot be opened: the default rules lack c 10:200 rwm\n%s", out)
	}
	if !strings.Contains(out, "kmsg-denied") {
		t.Errorf("/dev/kmsg (c 1:11, not allowed) could be opened: the device rules are not enforced\n%s", out)
	}
}

// TestStdioOwnedByUser: a process running as a non-root user can reopen
// its stdio pipes (/dev/stdout, /proc/self/fd/1), as with runc: the
// runtime gives the user the pipes before it drops root. For run and exec.
func TestStdioOwnedByUser(t *testing.T) {
	t.Parallel()
	script := "echo via-fd1 > /proc/self/fd/1; echo via-dev-stdout > /dev/stdout; echo via-dev-stderr > /dev/stderr"
	check := func(t *testing.T, what, out, errOut string) {
		t.Helper()
		for _, want := range []string{"via-fd1", "via-dev-stdout"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s as uid 1000 with pipes as stdio: %q missing from stdout %q (stderr %q)", what, want, out, errOut)
			}
		}
		if !strings.Contains(errOut, "via-dev-stderr") {
			t.Errorf("%s as uid 1000: /dev/stderr not reopened: stderr %q", what, errOut)
		}
	}
	t.Run("run", func(t *testing.T) {
		t.Parallel()
		c := newContainer(t)
		c.Spec.Process.User = specs.User{UID: 1000, GID: 1000}
		c.Spec.Process.Args = []string{"sh", "-c", script}
		c.WriteSpec()
		out, errOut, err := runWithPipes(c, "run", "--bundle", c.Bundle, c.ID)
		if err != nil {
			t.Fatalf("run: %v\n%s", err, errOut)
		}
		check(t, "run", out, errOut)
	})
	t.Run("exec", func(t *testing.T) {
		t.Parallel()
		c, _ := startSleeper(t, nil)
		out, errOut, err := runWithPipes(c, "exec", "-u", "1000:1000", c.ID, "sh", "-c", script)
		if err != nil {
			t.Fatalf("exec: %v\n%s", err, errOut)
		}
		check(t, "exec", out, errOut)
	})
}

// runWithPipes runs the runtime with pipes as stdout and stderr (as
// containerd and podman give them), until they close.
func runWithPipes(c *Container, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, runtimeBin, runtimeArgs(c.Root, args...)...)
	var out, errb bytes.Buffer
	// Not *os.File: exec gives the command pipes.
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := startTracked(cmd); err != nil {
		return "", "", err
	}
	err := waitTracked(cmd)
	return out.String(), errb.String(), err
}

// TestTerminalNoCR: run -t and exec -t in the foreground clear the pty's
// ONLCR, as runc does: a caller that reads the output (a pipe here) gets
// "\n", not "\r\n".
func TestTerminalNoCR(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.Spec.Process.Terminal = true
	c.Spec.Process.Args = []string{"sh", "-c", `printf 'line-1\nline-2\n'; exec sleep 1000`}
	c.WriteSpec()
	runOut := make(chan string, 1)
	go func() {
		out, _, _ := runWithPipes(c, "run", "--bundle", c.Bundle, c.ID)
		runOut <- out
	}()
	waitFor(t, 10*time.Second, "the container to run", func() bool {
		st, r := c.State()
		return r.ok() && st.Status == "running"
	})
	out, errOut, err := runWithPipes(c, "exec", "-t", c.ID, "printf", `a\nb\n`)
	if err != nil {
		t.Fatalf("exec -t: %v\n%s", err, errOut)
	}
	if out != "a\nb\n" {
		t.Errorf("exec -t output %q, want %q (no \\r)", out, "a\nb\n")
	}
	if r := c.Kill("KILL"); !r.ok() {
		t.Fatalf("kill: %s", r)
	}
	if out := <-runOut; out != "line-1\nline-2\n" {
		t.Errorf("run -t output %q, want %q (no \\r)", out, "line-1\nline-2\n")
	}
}

// TestEnvironLikeRunc: each variable once with its last value; an empty
// HOME is replaced by the user's home from the image's /etc/passwd, a
// non-empty one kept.
func TestEnvironLikeRunc(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.Spec.Process.Env = append(c.Spec.Process.Env, "HOME=", "E2E_DUP=first", "E2E_DUP=last")
	// pid 1's environment as execve gave it (a shell would dedup its own).
	out := c.Sh(`tr '\0' '\n' < /proc/1/environ; true`)
	env := envMap(out)
	if n := strings.Count(out, "E2E_DUP="); n != 1 || env["E2E_DUP"] != "last" {
		t.Errorf("E2E_DUP appears %d times, value %q; want once, \"last\":\n%s", n, env["E2E_DUP"], out)
	}
	if n := strings.Count(out, "HOME="); n != 1 || env["HOME"] == "" {
		t.Errorf("HOME appears %d times, value %q; want once, the user's home:\n%s", n, env["HOME"], out)
	}
	c2 := newContainer(t)
	c2.Spec.Process.Env = append(c2.Spec.Process.Env, "HOME=/custom")
	if env := envMap(c2.Sh("env")); env["HOME"] != "/custom" {
		t.Errorf("a non-empty HOME in process.env: got %q, want /custom", env["HOME"])
	}
}

// TestExecFailureStatus: a failed exec ends with 255, as runc's does, and
// never with a status the process could have had.
func TestExecFailureStatus(t *testing.T) {
	t.Parallel()
	c, _ := startSleeper(t, nil)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"missing-program", []string{"/no/such/program"}},
		{"pid-file-in-missing-dir", []string{"--pid-file", "/nonexistent-dir/pid", "true"}},
		{"bad-user", []string{"--user", "abc", "true"}},
	} {
		var flags, cmd []string
		for i, a := range tc.args {
			if !strings.HasPrefix(a, "-") && (i == 0 || !strings.HasPrefix(tc.args[i-1], "-")) {
				flags, cmd = tc.args[:i], tc.args[i:]
				break
			}
		}
		r := c.execIn(flags, cmd...)
		if r.Err != nil || r.Code != 255 {
			t.Errorf("%s: want exit status 255, got %s", tc.name, r)
		}
		// The error names the flag and the path the user gave, with the
		// reason clients match (runc: "no such file or directory"), not
		// the runtime's temporary file.
		if tc.name == "pid-file-in-missing-dir" && !isRunc() &&
			!strings.Contains(r.Stderr, "--pid-file /nonexistent-dir/pid: no such file or directory") {
			t.Errorf("%s: want the error to name --pid-file and its path, got %s", tc.name, r)
		}
	}
	if r := c.runtime("pause", c.ID); !r.ok() {
		t.Fatalf("pause: %s", r)
	}
	if r := c.execIn(nil, "true"); r.Err != nil || r.Code != 255 {
		t.Errorf("exec into a paused container: want exit status 255, got %s", r)
	}
	if r := c.runtime("resume", c.ID); !r.ok() {
		t.Fatalf("resume: %s", r)
	}
	if r := c.execIn(nil, "sh", "-c", "exit 3"); r.Code != 3 {
		t.Errorf("the process's own status: want 3, got %s", r)
	}
}

// startOrphans runs a container without a pid namespace of its own whose
// init starts n background sleeps and exits: it returns the container,
// stopped, and the host pids of the sleeps left in its cgroup.
func startOrphans(t *testing.T, n int) (*Container, []int) {
	t.Helper()
	c := newContainer(t)
	c.removeNamespace(specs.PIDNamespace)
	c.addBind(c.HostDir, "/host", false)
	c.Spec.Process.Args = []string{"sh", "-c", "for i in $(seq " + strconv.Itoa(n) + "); do sleep 1000 & echo $! > /host/p$i; done; exit 0"}
	c.mustCreate()
	c.mustStart()
	c.waitStatus("stopped", 10*time.Second)
	var pids []int
	for i := 1; i <= n; i++ {
		f := filepath.Join(c.HostDir, "p"+strconv.Itoa(i))
		waitFor(t, 5*time.Second, "the background pids", func() bool { return readFileString(f) != "" })
		pid, err := strconv.Atoi(strings.TrimSpace(readFileString(f)))
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	return c, pids
}

// TestKillSharedPidNSAfterInit: in a container without a pid namespace of
// its own, kill KILL reaches every process of the container, also once
// its init has exited (runc signals the whole cgroup).
func TestKillSharedPidNSAfterInit(t *testing.T) {
	t.Parallel()
	c, pids := startOrphans(t, 2)
	if r := c.Kill("KILL"); !r.ok() {
		t.Fatalf("kill KILL with init gone and processes left: %s", r)
	}
	waitFor(t, 10*time.Second, "every process of the container to die", func() bool {
		for _, p := range pids {
			if !leaks.IsZombie(p) {
				return false
			}
		}
		return true
	})
	if r := c.Kill("KILL"); r.ok() || !strings.Contains(r.Stderr, "container not running") {
		t.Errorf("kill KILL with nothing left: want \"container not running\", got %s", r)
	}
}

// TestRunKeep: run --keep leaves the stopped container for state and
// delete, as runc's does.
func TestRunKeep(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.Spec.Process.Args = []string{"sh", "-c", "exit 4"}
	if r := c.Run("--keep"); r.Err != nil || r.Code != 4 {
		t.Fatalf("run --keep: want the process's status 4, got %s", r)
	}
	if st := c.mustState(); st.Status != "stopped" {
		t.Errorf("state after run --keep: %q, want stopped", st.Status)
	}
	if r := c.Delete(false); !r.ok() {
		t.Errorf("delete after run --keep: %s", r)
	}
	if r := c.runtime("run", "-d", "--keep", "--bundle", c.Bundle, c.ID); r.ok() {
		t.Errorf("run -d --keep: want a refusal, got %s", r)
	}
}

// TestPidfdSocket: --pidfd-socket on create, run and exec passes a pidfd
// of the container's init (or of the exec'd process) over the socket.
func TestPidfdSocket(t *testing.T) {
	t.Parallel()
	pidOf := func(t *testing.T, f *os.File) int {
		t.Helper()
		info := readFileString(fmt.Sprintf("/proc/self/fdinfo/%d", f.Fd()))
		pid, err := strconv.Atoi(statusField(info, "Pid"))
		if err != nil {
			t.Fatalf("the fd passed is not a pidfd: fdinfo %q", info)
		}
		return pid
	}
	c := newContainer(t)
	c.Spec.Process.Args = []string{"sleep", "1000"}
	sock := newConsoleSocket(t, c.Dir)
	c.mustCreate("--pidfd-socket", sock.Path)
	m := sock.receive(10 * time.Second)
	if m.err != nil {
		t.Fatalf("create --pidfd-socket: %v", m.err)
	}
	defer m.master.Close()
	if got, want := pidOf(t, m.master), c.mustState().Pid; got != want {
		t.Errorf("create's pidfd is of pid %d, want init's %d", got, want)
	}
	c.mustStart()
	sock2 := newConsoleSocket(t, t.TempDir())
	pidFile := filepath.Join(c.Dir, "exec.pid")
	if r := c.execIn([]string{"-d", "--pid-file", pidFile, "--pidfd-socket", sock2.Path}, "sleep", "100"); !r.ok() {
		t.Fatalf("exec --pidfd-socket: %s", r)
	}
	m2 := sock2.receive(10 * time.Second)
	if m2.err != nil {
		t.Fatalf("exec --pidfd-socket: %v", m2.err)
	}
	defer m2.master.Close()
	if got, want := pidOf(t, m2.master), readPidFile(t, pidFile); got != want {
		t.Errorf("exec's pidfd is of pid %d, want the exec'd %d", got, want)
	}
}

// TestCPUAffinityReset: the container's processes may run on every CPU,
// not on the runtime's own affinity (a taskset of its caller), as runc.
func TestCPUAffinityReset(t *testing.T) {
	t.Parallel()
	if runtime.NumCPU() < 2 {
		t.Skip("one CPU: nothing to reset")
	}
	want := fmt.Sprintf("0-%d", runtime.NumCPU()-1)
	c, _ := startSleeper(t, func(c *Container) {
		c.addBind(c.HostDir, "/host", false)
		c.Spec.Process.Args = []string{"sh", "-c", "grep Cpus_allowed_list /proc/self/status > /host/init; exec sleep 1000"}
	})
	r := runCmd(cmdOpts{dir: c.Dir, outDir: c.Dir}, "taskset", "-c", "0", runtimeBin, "--root", c.Root, "exec", c.ID, "grep", "Cpus_allowed_list", "/proc/self/status")
	if !r.ok() || !strings.Contains(r.Stdout, want) {
		t.Errorf("exec under taskset -c 0: want Cpus_allowed_list %s, got %s", want, r)
	}
	d := newContainer(t)
	d.Spec.Process.Args = []string{"grep", "Cpus_allowed_list", "/proc/self/status"}
	d.WriteSpec()
	r = runCmd(cmdOpts{dir: d.Dir, outDir: d.Dir}, "taskset", "-c", "0", runtimeBin, "--root", d.Root, "run", "--bundle", d.Bundle, d.ID)
	if !r.ok() || !strings.Contains(r.Stdout, want) {
		t.Errorf("run under taskset -c 0: want Cpus_allowed_list %s, got %s", want, r)
	}
}

// TestUpdateFlagsAfterID: update takes its flags before or after the
// container id, as runc does.
func TestUpdateFlagsAfterID(t *testing.T) {
	t.Parallel()
	c, _ := startSleeper(t, nil)
	if r := c.runtime("update", c.ID, "--pids-limit", "77"); !r.ok() {
		t.Fatalf("update ID --pids-limit 77: %s", r)
	}
	if r := c.runtime("update", "--pids-limit", "78", c.ID); !r.ok() {
		t.Fatalf("update --pids-limit 78 ID: %s", r)
	}
	if r := c.runtime("update", c.ID, "extra"); r.ok() {
		t.Errorf("update ID extra: want a refusal, got %s", r)
	}
}

// TestHooksLikeRunc: hooks without env run with the runtime's environment
// (host side) or the container process's (createContainer and
// startContainer, which init runs); host-side and createContainer hooks
// run in the bundle directory, startContainer ones in the process's cwd
// and under its seccomp filter; and no descriptor of the runtime's, or
// leaked to it by its caller, reaches a hook.
func TestHooksLikeRunc(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.addBind(c.HostDir, "/hooklog", false)
	c.Spec.Process.Args = []string{"true"}
	c.Spec.Process.Cwd = "/etc"
	c.Spec.Process.Env = append(c.Spec.Process.Env, "E2E_PROC=from-process")
	c.Spec.Process.NoNewPrivileges = true
	c.Spec.Linux.Seccomp = &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: ptr(uint(1))}},
	}
	probe := func(name, dir string) specs.Hook {
		return specs.Hook{Path: "/bin/busybox", Args: []string{"sh", "-c", `out=$1/` + name + `
{ echo "PWD $(pwd)"; echo "PROC $E2E_PROC"; echo "FDS $(ls /proc/self/fd | tr '\n' ' ')"
  mkdir $1/mkdir-` + name + ` 2>/dev/null && echo MKDIR-OK || echo MKDIR-DENIED; } > $out`, "hook", dir}}
	}
	c.Spec.Hooks = &specs.Hooks{
		CreateRuntime:   []specs.Hook{probe("createRuntime", c.HostDir)},
		CreateContainer: []specs.Hook{probe("createContainer", c.HostDir)},
		StartContainer:  []specs.Hook{probe("startContainer", "/hooklog")},
		Poststart:       []specs.Hook{probe("poststart", c.HostDir)},
	}
	// Descriptors the caller leaks to the runtime, at 3 and 4.
	var leaked []*os.File
	for i := 0; i < 2; i++ {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		leaked = append(leaked, f)
	}
	if r := c.RunOpts(cmdOpts{extraFiles: leaked, env: []string{"E2E_PROC=from-runtime"}}); !r.ok() {
		t.Fatalf("run: %s", r)
	}
	read := func(name string) map[string]string {
		m := map[string]string{}
		for _, l := range lines(readFileString(filepath.Join(c.HostDir, name))) {
			k, v, _ := strings.Cut(l, " ")
			m[k] = v
		}
		if len(m) == 0 {
			t.Fatalf("hook %s left no record", name)
		}
		return m
	}
	for name, want := range map[string]map[string]string{
		"createRuntime":   {"PWD": c.Bundle, "PROC": "from-runtime"},
		"createContainer": {"PWD": c.Bundle, "PROC": "from-process"},
		"startContainer":  {"PWD": "/etc", "PROC": "from-process", "MKDIR-DENIED": ""},
		"poststart":       {"PWD": c.Bundle, "PROC": "from-runtime"},
	} {
		got := read(name)
		for k, v := range want {
			if g, ok := got[k]; !ok || g != v {
				t.Errorf("hook %s: %s = %q, want %q (record %v)", name, k, g, v, got)
			}
		}
		// 0-2 and the directory ls reads (3): nothing else.
		if fds := strings.Fields(got["FDS"]); len(fds) > 4 {
			t.Errorf("hook %s has descriptors beyond stdio: %v", name, fds)
		}
	}
}

// TestRelativeMountDestination: runtime-spec 1.3 says a relative mount
// destination "MUST be interpreted as relative to /" (and is deprecated):
// it is mounted there, with a warning, as runc does.
func TestRelativeMountDestination(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.addTmpfs("mnt/rel")
	c.Spec.Process.Args = []string{"sh", "-c", "grep ' /mnt/rel ' /proc/mounts"}
	r := c.Run()
	if !r.ok() || !strings.Contains(r.Stdout, "tmpfs") {
		t.Fatalf("run with a relative mount destination: want it mounted at /mnt/rel, got %s", r)
	}
	if !strings.Contains(r.Stderr, "relative destinations are deprecated") {
		t.Errorf("no warning for the relative destination: %s", r)
	}
}

// TestCwdNotSearchableByUser: the cwd is entered before the switch to the
// process's user, as runc does: a cwd only root can search still works.
func TestCwdNotSearchableByUser(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	if err := os.Mkdir(filepath.Join(c.Rootfs, "secret"), 0o700); err != nil {
		t.Fatal(err)
	}
	c.Spec.Process.User = specs.User{UID: 1000, GID: 1000}
	c.Spec.Process.Cwd = "/secret"
	if got := strings.TrimSpace(c.Sh("pwd; id -u")); got != "/secret\n1000" {
		t.Errorf("pwd and uid: %q, want /secret and 1000", got)
	}
}

// TestListMissingRoot: list with a --root that does not exist fails, as
// runc 1.5's does (a missing default root is just no containers).
func TestListMissingRoot(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	missing := filepath.Join(c.Dir, "no-such-root")
	r := runCmd(cmdOpts{dir: c.Dir, outDir: c.Dir}, runtimeBin, "--root", missing, "list")
	if r.ok() || !strings.Contains(r.Stderr, "no such file or directory") {
		t.Errorf("list --root <missing>: want a failure, got %s", r)
	}
}

// TestExecPersonalityAndMemoryPolicy: an exec'd process gets the
// container's linux.personality and linux.memoryPolicy, as runc's does.
func TestExecPersonalityAndMemoryPolicy(t *testing.T) {
	t.Parallel()
	numa := true
	for _, f := range []string{"/proc/self/numa_maps", "/sys/devices/system/node/node0"} {
		if _, err := os.Stat(f); err != nil {
			numa = false
		}
	}
	c, _ := startSleeper(t, func(c *Container) {
		c.addProbe()
		c.Spec.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32}
		if numa {
			c.Spec.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolInterleave, Nodes: "0"}
		}
	})
	r := c.execIn(nil, "probe", "personality")
	per, err := strconv.ParseUint(strings.TrimSpace(r.Stdout), 10, 32)
	if !r.ok() || err != nil || per&0xff != 0x0008 {
		t.Errorf("exec'd process: personality %q, want domain LINUX32 (0x8): %s", r.Stdout, r)
	}
	if !numa {
		t.Log("no NUMA: memory policy not checked")
		return
	}
	pidFile := filepath.Join(c.Dir, "exec.pid")
	if r := c.execIn([]string{"-d", "--pid-file", pidFile}, "sleep", "100"); !r.ok() {
		t.Fatalf("exec -d: %s", r)
	}
	maps := readFileString(fmt.Sprintf("/proc/%d/numa_maps", readPidFile(t, pidFile)))
	if !strings.Contains(maps, "interleave:0") {
		t.Errorf("exec'd process: numa_maps lack the container's interleave:0 policy:\n%s", maps)
	}
}

// TestExecUnderDeviceRules: an exec'd process is in the container's
// devices cgroup (v1) or under its eBPF program (v2): a device the rules
// deny stays denied to it, as to init.
func TestExecUnderDeviceRules(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/dev/kmsg"); err != nil {
		t.Skip(err)
	}
	c, _ := startSleeper(t, func(c *Container) {
		c.Spec.Mounts = append(c.Spec.Mounts, specs.Mount{Destination: "/dev/kmsg2", Type: "bind", Source: "/dev/kmsg", Options: []string{"bind"}})
		c.Spec.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}
	})
	r := c.execIn(nil, "sh", "-c", "(exec 3>/dev/kmsg2) 2>/dev/null && echo kmsg-opened || echo kmsg-denied")
	if !r.ok() || !strings.Contains(r.Stdout, "kmsg-denied") {
		t.Errorf("exec'd process opened /dev/kmsg, which the device rules deny: %s", r)
	}
}

// TestExecCapAmbient: exec --cap of a capability the process has in its
// inheritable set raises it as ambient too (so a non-root user keeps it
// across its own execs), as runc does.
func TestExecCapAmbient(t *testing.T) {
	t.Parallel()
	c, _ := startSleeper(t, func(c *Container) {
		caps := c.Spec.Process.Capabilities
		caps.Bounding = append(caps.Bounding, "CAP_NET_RAW")
		caps.Inheritable = []string{"CAP_NET_RAW"}
		caps.Ambient = nil
	})
	r := c.execIn([]string{"--user", "1000:1000", "--cap", "CAP_NET_RAW"}, "cat", "/proc/self/status")
	if !r.ok() {
		t.Fatalf("exec --cap: %s", r)
	}
	if amb := parseHex(t, statusField(r.Stdout, "CapAmb")); amb != capMask(t, []string{"CAP_NET_RAW"}) {
		t.Errorf("CapAmb %#x, want CAP_NET_RAW", amb)
	}
}

// TestPasswdNotAFile: an image whose /etc/passwd is a fifo neither stalls
// create nor exec (the runtime reads it for HOME): HOME falls back to /.
func TestPasswdNotAFile(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	passwd := filepath.Join(c.Rootfs, "etc/passwd")
	if err := os.Remove(passwd); err != nil {
		t.Fatal(err)
	}
	mkfifo(t, passwd)
	c.Spec.Process.Args = []string{"sh", "-c", "echo HOME=$HOME; exec sleep 1000"}
	c.mustCreate()
	c.mustStart()
	if r := c.execIn(nil, "sh", "-c", "echo HOME=$HOME"); !r.ok() || strings.TrimSpace(r.Stdout) != "HOME=/" {
		t.Errorf("exec with a fifo at /etc/passwd: want HOME=/, got %s", r)
	}
}

// TestExecCgroupPerController: exec --cgroup as runc takes it on cgroup v1
// and hybrid hosts: "controller[,controller]:path" (repeatable, a comma
// inside one value) moves the process into that sub-cgroup of those
// controllers only; a sub-cgroup made in the container's cgroup goes with
// it at delete.
func TestExecCgroupPerController(t *testing.T) {
	t.Parallel()
	c, _ := startSleeper(t, nil)
	var st struct {
		Cgroup struct {
			Mode int               `json:"mode"`
			Dirs map[string]string `json:"dirs"`
		} `json:"cgroup"`
	}
	if err := json.Unmarshal([]byte(readFileString(filepath.Join(c.Root, c.ID, "state.json"))), &st); err != nil {
		t.Fatal(err)
	}
	mem, pids := st.Cgroup.Dirs["memory"], st.Cgroup.Dirs["pids"]
	if mem == "" || pids == "" {
		t.Skip("no v1 memory and pids hierarchies (pure cgroup v2): per-controller --cgroup does not apply")
	}
	for _, d := range []string{mem, pids} {
		if err := os.Mkdir(filepath.Join(d, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cgOf := func(out, ctrl string) string {
		for _, l := range lines(out) {
			if parts := strings.SplitN(l, ":", 3); len(parts) == 3 && parts[1] == ctrl {
				return parts[2]
			}
		}
		return "?"
	}
	r := c.execIn([]string{"--cgroup", "memory:sub"}, "cat", "/proc/self/cgroup")
	if !r.ok() || !strings.HasSuffix(cgOf(r.Stdout, "memory"), "/sub") || strings.HasSuffix(cgOf(r.Stdout, "pids"), "/sub") {
		t.Errorf("--cgroup memory:sub: want memory in sub, pids not: %s", r)
	}
	r = c.execIn([]string{"--cgroup", "pids,memory:sub"}, "cat", "/proc/self/cgroup")
	if !r.ok() || !strings.HasSuffix(cgOf(r.Stdout, "memory"), "/sub") || !strings.HasSuffix(cgOf(r.Stdout, "pids"), "/sub") {
		t.Errorf("--cgroup pids,memory:sub: want both in sub: %s", r)
	}
	if r := c.execIn([]string{"--cgroup", "nosuch:sub"}, "true"); r.ok() {
		t.Errorf("--cgroup nosuch:sub: want a refusal, got %s", r)
	}
	if r := c.Kill("KILL"); !r.ok() {
		t.Fatalf("kill: %s", r)
	}
	c.waitStatus("stopped", 10*time.Second)
	if r := c.Delete(false); !r.ok() {
		t.Errorf("delete with a sub-cgroup in the container's cgroup: %s", r)
	}
	for _, d := range []string{mem, pids} {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("%s left behind by delete", d)
		}
	}
}

// TestCreateRefusesCgroupInUse: a container cgroup that exists already
// with processes in it, or frozen, is refused at once with a clear error,
// and left as it was (runc refuses both). A frozen one used to hang create
// for ever: init froze in it before it could report.
func TestCreateRefusesCgroupInUse(t *testing.T) {
	t.Parallel()
	skipUnderSystemd(t, "sets cgroupfs cgroupsPaths")
	if _, err := os.Stat("/sys/fs/cgroup/freezer"); err != nil {
		t.Skip("no v1 freezer hierarchy (pure cgroup v2)")
	}
	for _, tc := range []struct {
		name, ctrl, want string
	}{
		{"frozen", "freezer", "is frozen"},
		{"not-empty", "pids", "process(es) in it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			cgPath := "/e2e-inuse-" + testenv.RandHex(4)
			c.Spec.Linux.CgroupsPath = cgPath
			dir := filepath.Join("/sys/fs/cgroup", tc.ctrl, cgPath)
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			var sleeper *exec.Cmd
			t.Cleanup(func() {
				if sleeper != nil {
					sleeper.Process.Kill()
					waitTracked(sleeper)
				}
				os.WriteFile(filepath.Join(dir, "freezer.state"), []byte("THAWED"), 0)
				for i := 0; i < 50 && os.Remove(dir) != nil; i++ {
					time.Sleep(20 * time.Millisecond)
				}
			})
			switch tc.name {
			case "frozen":
				if err := os.WriteFile(filepath.Join(dir, "freezer.state"), []byte("FROZEN"), 0); err != nil {
					t.Fatal(err)
				}
			case "not-empty":
				sleeper = exec.Command("sleep", "60")
				if err := startTracked(sleeper); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(sleeper.Process.Pid)), 0); err != nil {
					t.Fatal(err)
				}
			}
			c.Spec.Process.Args = []string{"true"}
			c.WriteSpec()
			r := c.runtimeOpts(cmdOpts{timeout: 15 * time.Second}, "create", "--bundle", c.Bundle, c.ID)
			if r.Err != nil || r.ok() || !strings.Contains(r.Stderr, "linux.cgroupsPath") || !strings.Contains(r.Stderr, tc.want) {
				t.Errorf("create into a cgroup in use (%s): want a quick refusal naming linux.cgroupsPath, got %s", tc.name, r)
			}
			if _, err := os.Stat(dir); err != nil {
				t.Errorf("the cgroup in use was removed: %v", err)
			}
			if tc.name == "frozen" {
				if got := strings.TrimSpace(readFileString(filepath.Join(dir, "freezer.state"))); got != "FROZEN" {
					t.Errorf("the frozen cgroup is %s now", got)
				}
			}
		})
	}
}

// TestPsStopped: ps of a stopped container lists what is left in its
// cgroup, as runc's does: nothing (an empty list, exit 0), or the
// processes of a container without a pid namespace of its own that
// outlived init.
func TestPsStopped(t *testing.T) {
	t.Parallel()
	c, pids := startOrphans(t, 1)
	left := strconv.Itoa(pids[0])
	r := c.runtime("ps", "--format", "json", c.ID)
	if !r.ok() || strings.TrimSpace(r.Stdout) != "["+left+"]" {
		t.Errorf("ps --format json of a stopped container with %s left: %s", left, r)
	}
	if r := c.Kill("KILL"); !r.ok() {
		t.Fatalf("kill: %s", r)
	}
	waitFor(t, 10*time.Second, "the cgroup to empty", func() bool {
		r := c.runtime("ps", "--format", "json", c.ID)
		return r.ok() && strings.TrimSpace(r.Stdout) == "[]"
	})
	if r := c.runtime("ps", c.ID); !r.ok() || len(lines(r.Stdout)) != 1 {
		t.Errorf("ps of an empty stopped container: want the header only, got %s", r)
	}
}
