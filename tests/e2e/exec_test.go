package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/carapace-oci/carapace/tests/internal/leaks"
	"github.com/carapace-oci/carapace/tests/internal/testenv"
)

// ---- exec helpers ---------------------------------------------------------------

// startSleeper creates and starts a container running `sleep 1000` (after
// mod changes the spec) and returns it with its init's host pid.
func startSleeper(t *testing.T, mod func(c *Container)) (*Container, int) {
	t.Helper()
	c := newContainer(t)
	c.Spec.Process.Args = []string{"sleep", "1000"}
	if mod != nil {
		mod(c)
	}
	c.mustCreate()
	c.mustStart()
	return c, c.mustState().Pid
}

// execIn runs `exec [flags...] ID [cmd...]`.
func (c *Container) execIn(flags []string, cmd ...string) result {
	return c.execOpts(cmdOpts{}, flags, cmd...)
}

func (c *Container) execOpts(o cmdOpts, flags []string, cmd ...string) result {
	args := append([]string{"exec"}, flags...)
	args = append(args, c.ID)
	return c.runtimeOpts(o, append(args, cmd...)...)
}

// mustExecSh runs `exec [flags...] ID sh -c script` and requires exit 0.
func (c *Container) mustExecSh(t *testing.T, flags []string, script string) string {
	t.Helper()
	r := c.execIn(flags, "sh", "-c", script)
	if !r.ok() {
		t.Fatalf("exec: %s", r)
	}
	return r.Stdout
}

var nsTypes = []string{"pid", "net", "ipc", "uts", "mnt", "cgroup", "user", "time"}

// procNS reads the namespace links of a host pid.
func procNS(t *testing.T, pid int) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, n := range nsTypes {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, n))
		if err != nil {
			t.Fatalf("reading the namespaces of %d: %v", pid, err)
		}
		m[n] = l
	}
	return m
}

// readPidFile reads a --pid-file (a decimal pid, a newline optional).
func readPidFile(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the pid file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		t.Fatalf("the pid file holds %q, not a pid", data)
	}
	return pid
}

func envMap(out string) map[string]string {
	m := map[string]string{}
	for _, l := range lines(out) {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}

// ---- 1. the args form ---------------------------------------------------------------

func TestExecArgs(t *testing.T) {
	t.Parallel()
	c, initPid := startSleeper(t, func(c *Container) {
		c.Spec.Process.Env = append(c.Spec.Process.Env, "E2E_CONFIG=from-config", "E2E_OVERRIDE=config-value")
		c.Spec.Process.Cwd = "/etc"
		c.Spec.Process.NoNewPrivileges = false
		c.Spec.Process.User.AdditionalGids = []uint32{30}
	})
	initStatus := readFileString(fmt.Sprintf("/proc/%d/status", initPid))

	t.Run("output-and-exit-status", func(t *testing.T) {
		t.Parallel()
		r := c.execIn(nil, "sh", "-c", "echo out-of-exec; echo err-of-exec >&2; exit 7")
		if r.Err != nil || r.Code != 7 {
			t.Errorf("exec of `exit 7`: want exit status 7: %s", r)
		}
		if strings.TrimSpace(r.Stdout) != "out-of-exec" || !strings.Contains(r.Stderr, "err-of-exec") {
			t.Errorf("exec's stdout/stderr are not the process's: %s", r)
		}
		if r := c.execIn(nil, "true"); !r.ok() {
			t.Errorf("exec true: %s", r)
		}
	})
	t.Run("killed-by-signal", func(t *testing.T) {
		t.Parallel()
		r := c.execIn(nil, "sh", "-c", "kill -9 $$")
		if r.Err != nil || r.Code != 137 {
			t.Errorf("exec of a process killed by SIGKILL: want exit status 137 (128+9): %s", r)
		}
	})
	t.Run("env", func(t *testing.T) {
		t.Parallel()
		r := c.execIn([]string{"-e", "E2E_OVERRIDE=flag-value", "-e", "E2E_NEW=added"}, "env")
		if !r.ok() {
			t.Fatalf("exec env: %s", r)
		}
		env := envMap(r.Stdout)
		want := map[string]string{
			"E2E_CONFIG":   "from-config",
			"E2E_OVERRIDE": "flag-value",
			"E2E_NEW":      "added",
			"PATH":         "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"TERM":         "xterm",
		}
		for k, v := range want {
			if env[k] != v {
				t.Errorf("%s=%q in the exec'd process, want %q\n%s", k, env[k], v, r.Stdout)
			}
		}
		if n := strings.Count(r.Stdout, "E2E_OVERRIDE="); n != 1 {
			t.Errorf("E2E_OVERRIDE appears %d times in the environment, want once:\n%s", n, r.Stdout)
		}
		for k := range env {
			if strings.HasPrefix(k, "_CARAPACE") {
				t.Errorf("the runtime's own variable %s reached the process:\n%s", k, r.Stdout)
			}
		}
	})
	t.Run("cwd", func(t *testing.T) {
		t.Parallel()
		if got := strings.TrimSpace(c.mustExecSh(t, nil, "pwd")); got != "/etc" {
			t.Errorf("default cwd = %q, want the config's /etc", got)
		}
		if got := strings.TrimSpace(c.mustExecSh(t, []string{"--cwd", "/home/e2e"}, "pwd")); got != "/home/e2e" {
			t.Errorf("--cwd /home/e2e: pwd = %q", got)
		}
		if r := c.execIn([]string{"--cwd", "/does-not-exist"}, "true"); !r.failed() {
			t.Errorf("--cwd of a missing dir: want a failure: %s", r)
		}
	})
	t.Run("user-and-groups", func(t *testing.T) {
		t.Parallel()
		out := c.mustExecSh(t, []string{"-u", "1000:1000", "-g", "10", "-g", "20"}, "id -u; id -g; id -G")
		l := lines(out)
		if len(l) != 3 || l[0] != "1000" || l[1] != "1000" {
			t.Fatalf("-u 1000:1000: id -u/-g = %q, want 1000 1000", l)
		}
		groups := strings.Fields(l[2])
		for _, g := range []string{"10", "20"} {
			if !slices.Contains(groups, g) {
				t.Errorf("-g 10 -g 20: id -G = %q lacks %s", l[2], g)
			}
		}
		// As runc: -u without a gid keeps the container's gid and its
		// additional gids.
		out = c.mustExecSh(t, []string{"--user", "1000"}, "id -u; id -g; id -G")
		if l := lines(out); len(l) != 3 || l[0] != "1000" || l[1] != "0" || l[2] != "0 30" {
			t.Errorf("-u 1000: id -u/-g/-G = %q, want 1000, the config's gid 0 and groups 0 30", l)
		}
		// Without -u, the config's user (root) and its groups.
		if got := lines(c.mustExecSh(t, nil, "id -u; id -g")); strings.Join(got, " ") != "0 0" {
			t.Errorf("default user: id -u/-g = %q, want 0 0", got)
		}
	})
	// runc (urfave/cli v1) takes a repeated flag in its short and long
	// forms mixed, as in `-e A=1 --env B=2`.
	t.Run("mixed-flag-forms", func(t *testing.T) {
		t.Parallel()
		r := c.execIn([]string{"-e", "E2E_A=1", "--env", "E2E_B=2", "-g", "10", "--additional-gids", "20"}, "sh", "-c", "echo $E2E_A$E2E_B; id -G")
		if !r.ok() {
			t.Fatalf("exec: %s", r)
		}
		l := lines(r.Stdout)
		if len(l) != 2 || l[0] != "12" || !slices.Contains(strings.Fields(l[1]), "10") || !slices.Contains(strings.Fields(l[1]), "20") {
			t.Errorf("-e E2E_A=1 --env E2E_B=2 -g 10 --additional-gids 20: got %q", l)
		}
	})
	t.Run("default-caps", func(t *testing.T) {
		t.Parallel()
		status := c.mustExecSh(t, nil, "cat /proc/self/status")
		for _, f := range []string{"CapEff", "CapPrm", "CapBnd"} {
			if got, want := statusField(status, f), statusField(initStatus, f); got != want {
				t.Errorf("%s of the exec'd process = %s, want the container init's %s", f, got, want)
			}
		}
		if got := parseHex(t, statusField(status, "CapEff")); got != capMask(t, defaultCaps) {
			t.Errorf("CapEff = %#x, want the config's %v (%#x)", got, defaultCaps, capMask(t, defaultCaps))
		}
		if got := parseHex(t, statusField(status, "CapInh")); got != 0 {
			t.Errorf("CapInh = %#x, want 0 (CVE-2022-29162)", got)
		}
		if got := statusField(status, "NoNewPrivs"); got != "0" {
			t.Errorf("NoNewPrivs = %s, want the config's 0", got)
		}
	})
	t.Run("cap-flag", func(t *testing.T) {
		t.Parallel()
		status := c.mustExecSh(t, []string{"--cap", "CAP_NET_ADMIN"}, "cat /proc/self/status")
		want := capMask(t, append([]string{"CAP_NET_ADMIN"}, defaultCaps...))
		for _, f := range []string{"CapEff", "CapPrm", "CapBnd"} {
			if got := parseHex(t, statusField(status, f)); got != want {
				t.Errorf("--cap CAP_NET_ADMIN: %s = %#x, want %#x (the config's caps and NET_ADMIN)", f, got, want)
			}
		}
		if got := parseHex(t, statusField(status, "CapInh")); got != 0 {
			t.Errorf("--cap CAP_NET_ADMIN: CapInh = %#x, want 0: --cap must not add inheritable caps (CVE-2022-29162)", got)
		}
		if got := parseHex(t, statusField(status, "CapAmb")); got&(1<<capNumbers["CAP_NET_ADMIN"]) != 0 {
			t.Errorf("--cap CAP_NET_ADMIN: CapAmb = %#x has NET_ADMIN", got)
		}
		// The capability works: NET_ADMIN can change lo's MTU.
		if r := c.execIn([]string{"--cap", "CAP_NET_ADMIN"}, "ip", "link", "set", "lo", "mtu", "60000"); !r.ok() {
			t.Errorf("ip link set lo mtu with --cap CAP_NET_ADMIN: %s", r)
		}
		if r := c.execIn(nil, "ip", "link", "set", "lo", "mtu", "61000"); !r.failed() {
			t.Errorf("ip link set lo mtu without CAP_NET_ADMIN: want a failure: %s", r)
		}
	})
	t.Run("no-new-privs", func(t *testing.T) {
		t.Parallel()
		status := c.mustExecSh(t, []string{"--no-new-privs"}, "cat /proc/self/status")
		if got := statusField(status, "NoNewPrivs"); got != "1" {
			t.Errorf("--no-new-privs: NoNewPrivs = %q, want 1", got)
		}
	})
}

// ---- 2. the --process form -------------------------------------------------------

func TestExecProcessFile(t *testing.T) {
	t.Parallel()
	c, _ := startSleeper(t, func(c *Container) {
		c.Spec.Process.Env = append(c.Spec.Process.Env, "E2E_CONFIG=from-config")
	})
	caps := []string{"CAP_KILL", "CAP_NET_RAW"}
	// As containerd writes it: a runtime-spec process object.
	p := specs.Process{
		User: specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{10}},
		Args: []string{"sh", "-c", `echo "uid=$(id -u) gid=$(id -g) groups=$(id -G)"; echo "cwd=$(pwd)"
echo "proc=$E2E_PROC config=$E2E_CONFIG"; echo "nofile=$(ulimit -n)"; cat /proc/self/status`},
		Env:             []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "E2E_PROC=from-process-json"},
		Cwd:             "/home/e2e",
		Capabilities:    &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps},
		Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 512, Soft: 512}},
		NoNewPrivileges: true,
	}
	writeProcess := func(name string, p specs.Process) string {
		data, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(c.HostDir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	path := writeProcess("process.json", p)
	r := c.execIn([]string{"--process", path})
	if !r.ok() {
		t.Fatalf("exec --process: %s", r)
	}
	out := r.Stdout
	for _, want := range []string{
		"uid=1000 gid=1000 groups=", "cwd=/home/e2e", "proc=from-process-json config=\n", "nofile=512\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("exec --process output lacks %q:\n%s", want, out)
		}
	}
	if m := regexp.MustCompile(`groups=(.*)`).FindStringSubmatch(out); m == nil || !slices.Contains(strings.Fields(m[1]), "10") {
		t.Errorf("additionalGids [10] not in id -G:\n%s", out)
	}
	if got, want := parseHex(t, statusField(out, "CapBnd")), capMask(t, caps); got != want {
		t.Errorf("CapBnd = %#x, want %#x", got, want)
	}
	// Without ambient capabilities, a non-root process loses its
	// capabilities at execve (as for a container process).
	if got := parseHex(t, statusField(out, "CapEff")); got != 0 {
		t.Errorf("uid 1000 without ambient caps: CapEff = %#x, want 0", got)
	}
	if got := parseHex(t, statusField(out, "CapInh")); got != 0 {
		t.Errorf("CapInh = %#x, want 0", got)
	}
	if got := statusField(out, "NoNewPrivs"); got != "1" {
		t.Errorf("NoNewPrivs = %q, want 1", got)
	}

	// As root, the process's capability sets exactly.
	p.User = specs.User{UID: 0, GID: 0}
	p.Args = []string{"cat", "/proc/self/status"}
	r = c.execIn([]string{"--process", writeProcess("root.json", p)})
	if !r.ok() {
		t.Fatalf("exec --process (root): %s", r)
	}
	for _, f := range []string{"CapEff", "CapPrm", "CapBnd"} {
		if got, want := parseHex(t, statusField(r.Stdout, f)), capMask(t, caps); got != want {
			t.Errorf("root: %s = %#x, want the process's %v (%#x)", f, got, caps, want)
		}
	}
	if got := parseHex(t, statusField(r.Stdout, "CapInh")); got != 0 {
		t.Errorf("root: CapInh = %#x, want 0", got)
	}

	// Args after the id replace the file's.
	r = c.execIn([]string{"--process", path}, "sh", "-c", "echo replaced; ulimit -n")
	if !r.ok() || strings.Join(lines(r.Stdout), " ") != "replaced 512" {
		t.Errorf("exec --process FILE ID cmd: want the command line's args with the file's rlimits: %s", r)
	}
}

// ---- 3. namespaces, hostname, pid 1, cgroup ------------------------------------------

func TestExecNamespaces(t *testing.T) {
	t.Parallel()
	const off = 1000000
	for _, tc := range []struct {
		name   string
		userns bool
		timens bool
	}{
		{name: "default"},
		{name: "user-and-time", userns: true, timens: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.timens {
				requireCarapace(t)
			}
			c, initPid := startSleeper(t, func(c *Container) {
				c.Spec.Hostname = "exec-ns-host"
				c.Spec.Linux.Namespaces = append(c.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
				if tc.userns {
					c.userNS()
					chownTree(t, c.Rootfs, 100000)
				}
				if tc.timens {
					c.Spec.Linux.Namespaces = append(c.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
					c.Spec.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{
						"monotonic": {Secs: off},
						"boottime":  {Secs: off},
					}
				}
			})
			// start returns once init is told to exec, maybe before it
			// has: its time namespace is that of its children until then.
			waitFor(t, 10*time.Second, "init to exec sleep", func() bool {
				return strings.TrimSpace(readFileString(fmt.Sprintf("/proc/%d/comm", initPid))) == "sleep"
			})
			initNS := procNS(t, initPid)
			if tc.userns && initNS["user"] == hostNS(t, "user") {
				t.Fatalf("the container has no user namespace of its own: %v", initNS)
			}
			if tc.timens && initNS["time"] == hostNS(t, "time") {
				t.Fatalf("the container has no time namespace of its own: %v", initNS)
			}
			out := c.mustExecSh(t, nil, nsScript+`
echo "hostname $(hostname)"
echo "cmd1 $(tr '\0' ' ' < /proc/1/cmdline)"
echo "uptime $(cat /proc/uptime)"
echo "uidmap $(cat /proc/self/uid_map)"
echo "idu $(id -u)"`)
			inside := parseNS(t, out)
			for _, n := range nsTypes {
				if inside[n] != initNS[n] {
					t.Errorf("%s namespace of the exec'd process = %q, want the container init's %q", n, inside[n], initNS[n])
				}
			}
			if inside["hostname"] != "exec-ns-host" {
				t.Errorf("hostname in the exec'd process = %q, want the container's exec-ns-host", inside["hostname"])
			}
			if got := strings.TrimSpace(inside["cmd1"]); got != "sleep 1000" {
				t.Errorf("/proc/1/cmdline in the exec'd process = %q, want the container's \"sleep 1000\"", got)
			}
			if inside["idu"] != "0" {
				t.Errorf("id -u = %q, want 0", inside["idu"])
			}
			if tc.userns {
				if got := strings.Join(strings.Fields(inside["uidmap"]), " "); got != "0 100000 65536" {
					t.Errorf("uid_map of the exec'd process = %q, want 0 100000 65536", got)
				}
			}
			if tc.timens {
				d := parseUptime(t, inside["uptime"]) - parseUptime(t, readFileString("/proc/uptime"))
				if d < off-60 || d > off+60 {
					t.Errorf("uptime in the exec'd process is %.0f s off the host's, want about %d (the time offsets)", d, off)
				}
			}

			// The cgroup and, from the host, the namespaces of a detached
			// exec'd process.
			pidFile := filepath.Join(c.HostDir, "exec.pid")
			if r := c.execIn([]string{"-d", "--pid-file", pidFile}, "sleep", "1000"); !r.ok() {
				t.Fatalf("exec -d: %s", r)
			}
			pid := readPidFile(t, pidFile)
			if got, want := readFileString(fmt.Sprintf("/proc/%d/cgroup", pid)), readFileString(fmt.Sprintf("/proc/%d/cgroup", initPid)); got != want || got == "" {
				t.Errorf("/proc/<exec pid>/cgroup:\n%s\nwant the init's:\n%s", got, want)
			}
			if got := procNS(t, pid); !mapsEqual(got, initNS) {
				t.Errorf("namespaces of the detached exec'd process %v, want the init's %v", got, initNS)
			}
			if got, want := mustReadlink(t, fmt.Sprintf("/proc/%d/root", pid)), mustReadlink(t, fmt.Sprintf("/proc/%d/root", initPid)); got != want {
				t.Errorf("root of the exec'd process %q, want the init's %q", got, want)
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func mustReadlink(t *testing.T, p string) string {
	t.Helper()
	l, err := os.Readlink(p)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// chownTree shifts the owners of a tree by base (for a user namespace
// mapping 0 to base).
func chownTree(t *testing.T, dir string, base int) {
	t.Helper()
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		uid, gid := int(st.Uid), int(st.Gid)
		return os.Lchown(p, base+uid, base+gid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ---- 4. descriptors ------------------------------------------------------------------

func TestExecFds(t *testing.T) {
	t.Parallel()
	c, _ := startSleeper(t, nil)
	f1 := extraFileWith(t, c.HostDir, "extra1", "one")
	f2 := extraFileWith(t, c.HostDir, "extra2", "two")

	r := c.execOpts(cmdOpts{extraFiles: []*os.File{f1, f2}}, nil, "ls", "-l", "/proc/self/fd")
	if !r.ok() {
		t.Fatalf("exec ls: %s", r)
	}
	if fds := openFds(t, r.Stdout); fdNames(fds) != "0 1 2" {
		t.Errorf("open fds in the exec'd process: %v, want only 0 1 2\n%s", fds, r.Stdout)
	}

	r = c.execOpts(cmdOpts{extraFiles: []*os.File{f1, f2}}, []string{"--preserve-fds", "2"},
		"sh", "-c", "ls -l /proc/self/fd; echo; echo fd3=$(cat <&3) fd4=$(cat <&4)")
	if !r.ok() {
		t.Fatalf("exec --preserve-fds 2: %s", r)
	}
	if fds := openFds(t, r.Stdout); fdNames(fds) != "0 1 2 3 4" {
		t.Errorf("--preserve-fds 2: open fds %v, want 0 1 2 3 4\n%s", fds, r.Stdout)
	}
	if !strings.Contains(r.Stdout, "fd3=one fd4=two") {
		t.Errorf("--preserve-fds 2: fds 3 and 4 are not the files passed:\n%s", r.Stdout)
	}
}

// ---- 5. detached with a pid file --------------------------------------------------------

func TestExecDetachPidFile(t *testing.T) {
	t.Parallel()
	c, initPid := startSleeper(t, nil)
	pidFile := filepath.Join(c.HostDir, "exec.pid")
	r := c.execOpts(cmdOpts{timeout: 10 * time.Second}, []string{"--detach", "--pid-file", pidFile}, "sleep", "1000")
	if !r.ok() {
		t.Fatalf("exec --detach sleep 1000: %s", r)
	}
	if r.Elapsed > 5*time.Second {
		t.Errorf("exec --detach took %v: it should return once the process runs", r.Elapsed)
	}
	pid := readPidFile(t, pidFile)
	if leaks.IsZombie(pid) {
		t.Fatalf("the exec'd process %d is not running", pid)
	}
	if got := strings.ReplaceAll(readFileString(fmt.Sprintf("/proc/%d/cmdline", pid)), "\x00", " "); got != "sleep 1000 " {
		t.Errorf("pid %d from the pid file runs %q, want \"sleep 1000\"", pid, got)
	}
	if got, want := mustReadlink(t, fmt.Sprintf("/proc/%d/ns/pid", pid)), mustReadlink(t, fmt.Sprintf("/proc/%d/ns/pid", initPid)); got != want {
		t.Errorf("pid namespace of the exec'd process %s, want the init's %s", got, want)
	}
	if pids := c.psJSON(); !slices.Contains(pids, pid) || !slices.Contains(pids, initPid) {
		t.Errorf("ps --format json = %v, want the init %d and the exec'd %d", pids, initPid, pid)
	}
	if s := c.mustState(); s.Status != "running" || s.Pid != initPid {
		t.Errorf("state after exec -d: %+v, want running with the init's pid %d", s, initPid)
	}
}

// ---- 6. a terminal through --console-socket ---------------------------------------------

func TestExecTTYConsoleSocket(t *testing.T) {
	t.Parallel()
	for _, withTerminal := range []bool{false, true} {
		name := "container-without-terminal"
		if withTerminal {
			name = "container-with-terminal"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			c.Spec.Process.Args = []string{"sleep", "1000"}
			if withTerminal {
				c.Spec.Process.Terminal = true
				sock := newConsoleSocket(t, c.Dir)
				c.mustCreate("--console-socket", sock.Path)
				msg := sock.receive(10 * time.Second)
				if msg.err != nil {
					t.Fatalf("the container's console: %v", msg.err)
				}
				t.Cleanup(func() { msg.master.Close() })
			} else {
				c.mustCreate()
			}
			c.mustStart()
			const consoleScript = `stat -c 'console=%F %t,%T' /dev/console 2>&1; grep ' /dev/console ' /proc/self/mountinfo | cut -d' ' -f4,5,9`
			before := c.mustExecSh(t, nil, consoleScript)

			sock := newConsoleSocket(t, c.HostDir)
			r := c.execOpts(cmdOpts{timeout: 10 * time.Second},
				[]string{"-d", "-t", "--console-socket", sock.Path},
				"sh", "-c", `tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo stdio-are-ttys; echo marker-from-exec
`+consoleScript)
			if !r.ok() {
				t.Fatalf("exec -d -t --console-socket: %s", r)
			}
			msg := sock.receive(10 * time.Second)
			if msg.err != nil {
				t.Fatalf("exec's pty master: %v", msg.err)
			}
			defer msg.master.Close()
			out, err := readPty(msg.master, 10*time.Second)
			if err != nil {
				t.Fatalf("reading the exec's pty: %v; got %q", err, out)
			}
			if !ptsName.MatchString(out) {
				t.Errorf("tty in the exec'd process did not print /dev/pts/N:\n%s", out)
			}
			for _, want := range []string{"stdio-are-ttys", "marker-from-exec"} {
				if !strings.Contains(out, want) {
					t.Errorf("the exec's terminal output lacks %q:\n%s", want, out)
				}
			}
			if !strings.Contains(out, strings.TrimSpace(before)) {
				t.Errorf("/dev/console seen by the tty exec differs from the container's:\n%s\nbefore:\n%s", out, before)
			}
			if withTerminal {
				// The exec's own pty is not the container's console.
				tty := ptsName.FindString(out)
				if m := regexp.MustCompile(`console=character special file 88,([0-9a-f]+)`).FindStringSubmatch(before); m != nil {
					n, _ := strconv.ParseInt(m[1], 16, 64)
					if tty == fmt.Sprintf("/dev/pts/%d", n) {
						t.Errorf("the exec's tty %s is the container's console", tty)
					}
				} else {
					t.Errorf("the container with terminal: /dev/console is not a pty: %s", before)
				}
			}
			if after := c.mustExecSh(t, nil, consoleScript); after != before {
				t.Errorf("/dev/console of the container changed after a tty exec:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// ---- 7. a paused container ---------------------------------------------------------------

func TestExecPaused(t *testing.T) {
	t.Parallel()
	c, _ := startSleeper(t, func(c *Container) { c.addBind(c.HostDir, "/host", false) })
	if r := c.runtime("pause", c.ID); !r.ok() {
		t.Fatalf("pause: %s", r)
	}
	r := c.execOpts(cmdOpts{timeout: 10 * time.Second}, nil, "true")
	if !r.failed() {
		t.Fatalf("exec in a paused container: want a failure: %s", r)
	}
	if !strings.Contains(r.Stderr, "paused") {
		t.Errorf("the error does not mention paused/--ignore-paused: %s", r)
	}
	touched := filepath.Join(c.HostDir, "touched")
	r = c.execOpts(cmdOpts{timeout: 10 * time.Second}, []string{"--ignore-paused", "-d"}, "touch", "/host/touched")
	if !r.ok() {
		t.Fatalf("exec --ignore-paused -d in a paused container: %s", r)
	}
	time.Sleep(300 * time.Millisecond)
	ranWhilePaused := fileExists(touched)
	if s := c.mustState(); s.Status != "paused" {
		t.Errorf("state after exec --ignore-paused: %+v, want still paused", s)
	}
	if r := c.runtime("resume", c.ID); !r.ok() {
		t.Fatalf("resume: %s", r)
	}
	waitFor(t, 10*time.Second, "the exec'd process to run after resume", func() bool { return fileExists(touched) })
	if s := c.mustState(); s.Status != "running" {
		t.Errorf("state after resume: %+v", s)
	}
	if ranWhilePaused {
		t.Error("exec --ignore-paused -d in a paused container: the process ran before resume")
	}
}

// ---- 8. stopped and missing containers -------------------------------------------------------

func TestExecStoppedOrMissing(t *testing.T) {
	t.Parallel()
	t.Run("stopped", func(t *testing.T) {
		t.Parallel()
		c := newContainer(t)
		c.Spec.Process.Args = []string{"true"}
		c.mustCreate()
		c.mustStart()
		c.waitStatus("stopped", 10*time.Second)
		r := c.execIn(nil, "true")
		if !r.failed() {
			t.Fatalf("exec in a stopped container: want a failure: %s", r)
		}
		if !strings.Contains(r.Stderr, "stopped") && !strings.Contains(r.Stderr, "not running") {
			t.Errorf("the error does not say the container is stopped: %s", r)
		}
	})
	t.Run("missing", func(t *testing.T) {
		t.Parallel()
		c := newContainer(t)
		c.ID = "e2e-no-such-container-" + testenv.RandHex(3)
		r := c.execIn(nil, "true")
		if !r.failed() {
			t.Fatalf("exec in a missing container: want a failure: %s", r)
		}
		if !strings.Contains(r.Stderr, c.ID) {
			t.Errorf("the error does not name %s: %s", c.ID, r)
		}
	})
}

// ---- 9. security -----------------------------------------------------------------------------

// TestCVE2024_21626_ExecCwdLeakedFd: --cwd /proc/self/fd/N must not give the
// process a working directory outside the container (a leaked host fd).
func TestCVE2024_21626_ExecCwdLeakedFd(t *testing.T) {
	t.Parallel()
	requireCarapace(t)
	c, _ := startSleeper(t, nil)
	for n := 3; n <= 8; n++ {
		r := c.execIn([]string{"--cwd", fmt.Sprintf("/proc/self/fd/%d", n)}, "sh", "-c",
			`cd ../../../../../../../../../..; if [ -e e2e-rootfs-marker ]; then echo INSIDE; else echo OUTSIDE; ls; fi`)
		switch {
		case r.Err != nil:
			t.Errorf("fd %d: %s", n, r)
		case r.failed():
			t.Logf("--cwd /proc/self/fd/%d refused (safe): %s", n, strings.TrimSpace(r.Stderr))
		case strings.TrimSpace(r.Stdout) != "INSIDE":
			t.Errorf("--cwd /proc/self/fd/%d: the process's cwd is outside the container's root: %s", n, r)
		}
	}
}

// TestCVE2016_9962_ExecHelperNotReadable: a process in the container (root,
// without CAP_SYS_PTRACE) that keeps reading /proc/<pid>/environ of every
// pid must never see an exec helper's environment (it carries _CARAPACE_*
// variables): the helper is non-dumpable from its start.
func TestCVE2016_9962_ExecHelperNotReadable(t *testing.T) {
	t.Parallel()
	requireCarapace(t)
	c, _ := startSleeper(t, func(c *Container) {
		c.addBind(c.HostDir, "/host", false)
		c.Spec.Process.Args = []string{"sh", "-c", `exec 2>/dev/null; n=0; while :; do
n=$((n+1))
for p in /proc/[0-9]*; do
  [ "$p" = /proc/1 ] || [ "$p" = /proc/$$ ] && continue
  e=$(tr '\0' '\n' < $p/environ 2>/dev/null) || continue
  case "$e" in *_CARAPACE_*) echo "LEAK $p: $e" >> /host/leak;; esac
  case "$e" in *E2E_RACE=1*) echo "$p" >> /host/seen;; esac
done
echo $n >> /host/iter
done`}
	})
	const execs = 20
	var wg sync.WaitGroup
	errs := make(chan result, execs)
	sem := make(chan struct{}, 4)
	for i := 0; i < execs; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if r := c.execIn([]string{"-e", "E2E_RACE=1"}, "sleep", "0.3"); !r.ok() {
				errs <- r
			}
		}()
	}
	wg.Wait()
	close(errs)
	for r := range errs {
		t.Errorf("exec: %s", r)
	}
	time.Sleep(200 * time.Millisecond)
	if leak := readFileString(filepath.Join(c.HostDir, "leak")); leak != "" {
		t.Errorf("a process in the container read an exec helper's environment (it is dumpable):\n%s", leak)
	}
	iters := lines(readFileString(filepath.Join(c.HostDir, "iter")))
	iter := strconv.Itoa(len(iters))
	if len(iters) < 1 {
		t.Fatalf("the reading loop in the container did not run (iterations %q)", iter)
	}
	seen := lines(readFileString(filepath.Join(c.HostDir, "seen")))
	t.Logf("%s passes of the loop; it read the environment of an exec'd process %d time(s)", iter, len(seen))
	if len(seen) == 0 {
		t.Errorf("the loop never read an exec'd process's environment: the test cannot tell a leak")
	}
}

// ---- 10. bad input -------------------------------------------------------------------------

func TestExecBadInput(t *testing.T) {
	t.Parallel()
	c, initPid := startSleeper(t, nil)
	badJSON := filepath.Join(c.HostDir, "bad.json")
	if err := os.WriteFile(badJSON, []byte(`{"args": ["true"], `), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		flags []string
		cmd   []string
		want  string // the error names it (case-insensitive)
	}{
		{"user-empty-gid", []string{"-u", "1000:"}, []string{"true"}, "--user"},
		{"user-empty-uid", []string{"-u", ":0"}, []string{"true"}, "--user"},
		{"user-name", []string{"--user", "abc"}, []string{"true"}, "--user"},
		{"apparmor", []string{"--apparmor", "foo"}, []string{"true"}, "apparmor"},
		{"process-label", []string{"--process-label", "system_u:system_r:container_t:s0"}, []string{"true"}, ""},
		{"no-command", nil, nil, ""},
		{"process-file-missing", []string{"--process", filepath.Join(c.HostDir, "nope.json")}, nil, "nope.json"},
		{"process-file-bad-json", []string{"--process", badJSON}, nil, ""},
		{"cwd-relative", []string{"--cwd", "tmp"}, []string{"true"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.execIn(tc.flags, tc.cmd...)
			if !r.failed() {
				t.Fatalf("want a failure: %s", r)
			}
			if tc.want != "" && !strings.Contains(strings.ToLower(r.Stderr), strings.ToLower(tc.want)) {
				t.Errorf("the error does not name %s: %s", tc.want, r)
			}
		})
	}
	// None of them left a process in the container.
	if pids := c.psJSON(); len(pids) != 1 || pids[0] != initPid {
		t.Errorf("ps after the failed execs = %v, want only the init %d", pids, initPid)
	}
}
