package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Tests of the class "the runtime runs a file the container controls" (see
// docs/security.md): a container replaces what /proc (or another path)
// names inside its mount namespace, and waits for the runtime to look a
// file of its own up there while it is still privileged.

// plantScript makes /proc a tmpfs in pid 1's mount namespace whose
// /proc/self/fd/N and /proc/thread-self/fd/N are scripts writing
// /out/pwn: what a runtime exec'ing "/proc/self/fd/N" after joining the
// container's mount namespace would run as host root. It then signals
// readiness and sleeps as pid 1.
const plantScript = `set -e
mount -t tmpfs t /proc
mkdir -p /proc/self/fd /proc/thread-self/fd
for i in 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
	for d in self thread-self; do
		printf '#!/bin/sh\necho "pwned by %s" > /out/pwn\n' "$d/$i" > /proc/$d/fd/$i
		chmod 755 /proc/$d/fd/$i
	done
done
touch /out/ready
exec sleep 1000`

// startPlanter starts a container whose pid 1 runs script (which must end
// in touch /out/ready) with host dir /out, and waits for it to be ready.
func startPlanter(t *testing.T, script string, detachedRun bool, mod func(*Container)) *Container {
	t.Helper()
	c := newContainer(t)
	c.addBind(c.HostDir, "/out", false)
	c.Spec.Process.Args = []string{"sh", "-c", script}
	if mod != nil {
		mod(c)
	}
	if detachedRun {
		if r := c.Run("-d"); !r.ok() {
			t.Fatalf("run -d: %s", r)
		}
	} else {
		c.mustCreate()
		c.mustStart()
	}
	waitFor(t, 10*time.Second, "the container to plant its files", func() bool {
		_, err := os.Stat(filepath.Join(c.HostDir, "ready"))
		return err == nil
	})
	return c
}

func withSysAdmin(c *Container) {
	caps := c.Spec.Process.Capabilities
	caps.Bounding = append(caps.Bounding, "CAP_SYS_ADMIN")
	caps.Effective = append(caps.Effective, "CAP_SYS_ADMIN")
	caps.Permitted = append(caps.Permitted, "CAP_SYS_ADMIN")
}

// checkNotPwned fails the test if a planted file ran.
func checkNotPwned(t *testing.T, c *Container) {
	t.Helper()
	if b, err := os.ReadFile(filepath.Join(c.HostDir, "pwn")); err == nil {
		t.Fatalf("THE RUNTIME RAN A FILE THE CONTAINER PLANTED, as host root: /out/pwn says %q", strings.TrimSpace(string(b)))
	}
}

// TestExecEscapeProcInContainer: the attack of issue 9. Exec must run the
// program asked for, and nothing of the container's, whatever pid 1 has
// mounted over /proc in its mount namespace.
func TestExecEscapeProcInContainer(t *testing.T) {
	t.Parallel()
	requireCarapace(t)
	guardRuntimeBinary(t)
	// The process JSON of exec --process.
	processJSON := func(t *testing.T, c *Container) string {
		p := *c.Spec.Process
		p.Args = []string{"echo", "exec-ran"}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(c.Dir, "process.json")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	cases := []struct {
		name   string
		script string
		run    bool // run -d instead of create + start
		mod    func(*Container)
		flags  func(*testing.T, *Container) []string
	}{
		// CAP_SYS_ADMIN in the container (docker --cap-add SYS_ADMIN, a
		// privileged pod): pid 1 mounts over /proc itself.
		{name: "cap-sys-admin", script: plantScript, mod: withSysAdmin},
		// No capability at all: pid 1, a non-root user, becomes root of a
		// user namespace of its own (where the host allows unprivileged
		// ones) and mounts over /proc in the mount namespace that comes
		// with it, which is what /proc/1/ns/mnt then names.
		{name: "own-user-namespace", script: "exec unshare -Urm sh -c '" + strings.ReplaceAll(plantScript, "'", `'"'"'`) + "'",
			mod: func(c *Container) {
				c.Spec.Process.User = specs.User{UID: 1000, GID: 1000}
				c.Spec.Process.Capabilities = &specs.LinuxCapabilities{}
				if err := os.Chmod(c.HostDir, 0o777); err != nil {
					c.t.Fatal(err)
				}
			}},
		// run -d, then exec --process.
		{name: "run-d-exec-process", script: plantScript, run: true, mod: withSysAdmin,
			flags: func(t *testing.T, c *Container) []string { return []string{"--process", processJSON(t, c)} }},
		// Preserved fds move the helper's own descriptors up.
		{name: "preserve-fds", script: plantScript, mod: withSysAdmin,
			flags: func(*testing.T, *Container) []string { return []string{"--preserve-fds", "2"} }},
		{name: "tty", script: plantScript, mod: withSysAdmin,
			flags: func(*testing.T, *Container) []string { return []string{"-t"} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.name == "own-user-namespace" {
				requireUnprivilegedUserns(t)
			}
			c := startPlanter(t, tc.script, tc.run, tc.mod)
			var flags []string
			if tc.flags != nil {
				flags = tc.flags(t, c)
			}
			var o cmdOpts
			if len(flags) > 0 && flags[0] == "--preserve-fds" {
				// Two open fds for the process: the helper's own move to 5, 6.
				for i := 0; i < 2; i++ {
					f, err := os.Open(os.DevNull)
					if err != nil {
						t.Fatal(err)
					}
					defer f.Close()
					o.extraFiles = append(o.extraFiles, f)
				}
			}
			cmd := []string{"echo", "exec-ran"}
			if len(flags) > 0 && flags[0] == "--process" {
				cmd = nil
			}
			r := c.execOpts(o, flags, cmd...)
			checkNotPwned(t, c)
			if !r.ok() || !strings.Contains(r.Stdout, "exec-ran") {
				t.Fatalf("exec did not run the program asked for: %s", r)
			}
			// The container keeps running and a second exec works too.
			if r := c.execIn(nil, "true"); !r.ok() {
				t.Fatalf("second exec: %s", r)
			}
			checkNotPwned(t, c)
		})
	}
}

// TestCreateEscapeJoinedMountNamespace: the same attack on create, for a
// container that joins another container's mount namespace by path (as
// pods sharing namespaces do): the runtime must not exec its init through
// a path resolved in the joined namespace.
func TestCreateEscapeJoinedMountNamespace(t *testing.T) {
	t.Parallel()
	requireCarapace(t)
	attacker := startPlanter(t, plantScript, false, withSysAdmin)
	pid := attacker.mustState().Pid

	c := newContainer(t)
	c.Spec.Process.Args = []string{"echo", "joined-ran"}
	c.setNamespace(specs.MountNamespace, fmt.Sprintf("/proc/%d/ns/mnt", pid))
	// The joined namespace already has its root and mounts.
	c.Spec.Mounts = nil
	c.Spec.Linux.MaskedPaths, c.Spec.Linux.ReadonlyPaths = nil, nil
	c.Spec.Root.Readonly = false
	r := c.Run()
	checkNotPwned(t, attacker)
	t.Logf("run in the joined mount namespace: %s", r)
}

// requireUnprivilegedUserns skips where the host forbids unprivileged
// user namespaces (Debian's and Ubuntu's sysctls, or a zero limit).
func requireUnprivilegedUserns(t *testing.T) {
	t.Helper()
	for _, f := range []string{"/proc/sys/kernel/unprivileged_userns_clone", "/proc/sys/user/max_user_namespaces",
		"/proc/sys/kernel/apparmor_restrict_unprivileged_userns"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		v := strings.TrimSpace(string(b))
		if (strings.HasSuffix(f, "restrict_unprivileged_userns") && v != "0") || (!strings.HasSuffix(f, "restrict_unprivileged_userns") && v == "0") {
			t.Skipf("unprivileged user namespaces are off on this host (%s = %s)", f, v)
		}
	}
}

// TestCVE2016_9962_CreatedInitNotReachable: a created container's init
// waits on the exec fifo holding the runtime's descriptors. A root process
// of another container in its pid namespace (a pod's sandbox shares one)
// must not reach the host through them, nor read init's environment or
// descriptors: init is non-dumpable from its first instruction and holds
// no host directory or host procfs descriptor across the wait. Before
// that fix, init held an O_PATH fd on the host's /proc, and
// /proc/1/fd/N/<pid>/root was the host's root.
func TestCVE2016_9962_CreatedInitNotReachable(t *testing.T) {
	t.Parallel()
	requireCarapace(t)
	for _, tc := range []struct {
		name string
		mod  func(*Container)
	}{
		{"default-caps", nil},
		// This machine's kernel (6.18) shows non-dumpable processes to a
		// container root with CAP_SYS_ADMIN; Debian's 6.1 does not.
		{"cap-sys-admin", withSysAdmin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			createdInitProbe(t, tc.mod)
		})
	}
}

func createdInitProbe(t *testing.T, mod func(*Container)) {
	a := newContainer(t)
	a.Spec.Process.Args = []string{"true"}
	a.mustCreate()
	pid := a.mustState().Pid

	// A file only the host's root filesystem has, at this absolute path,
	// reachable through the root of a host process in the host's /proc
	// if init held an fd on it: a root process without capabilities,
	// which a container's root may look into.
	marker := filepath.Join(a.HostDir, "host-marker")
	if err := os.WriteFile(marker, []byte("HOST-FILE-REACHED\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	capless := startHelper(t, "capless")
	// Whether this kernel hides a non-dumpable process from a container
	// root with these capabilities: probed on a host process that is only
	// that.
	nondumpable := startHelper(t, "capless-nondumpable")

	b := newContainer(t)
	b.setNamespace(specs.PIDNamespace, fmt.Sprintf("/proc/%d/ns/pid", pid))
	if mod != nil {
		mod(b)
	}
	b.Spec.Process.Args = []string{"sh", "-c", `exec 2>/dev/null
for f in /proc/1/fd/*; do
	for p in 1 ` + itoa(capless) + `; do cat "$f/$p/root` + marker + `"; done
	cat "$f/root` + marker + `"
done
for f in /proc/1/fd/*; do readlink "$f"; done | grep -q . && echo INIT-FDS-READ
tr '\0' '\n' < /proc/1/environ | grep -q _CARAPACE && echo INIT-ENVIRON-READ
echo done`}
	out := b.mustRun().Stdout
	t.Logf("from a container in the created init's pid namespace:\n%s", out)
	if !strings.Contains(out, "done") {
		t.Fatalf("the probe did not finish")
	}
	if strings.Contains(out, "HOST-FILE-REACHED") {
		t.Errorf("a container reached the host's root through the created init's descriptors")
	}
	if st := readFileString(fmt.Sprintf("/proc/%d/status", pid)); statusField(st, "State") == "" {
		t.Fatalf("init %d is gone", pid)
	}
	// Non-dumpability: asserted where the kernel enforces it.
	enforced := nondumpableHidden(t, nondumpable, mod)
	t.Logf("the kernel hides non-dumpable processes from this container's root: %v", enforced)
	if enforced {
		for _, leak := range []string{"INIT-FDS-READ", "INIT-ENVIRON-READ"} {
			if strings.Contains(out, leak) {
				t.Errorf("%s: the created init is dumpable", leak)
			}
		}
	}
}

// nondumpableHidden reports whether a root process of a container (with
// the capabilities mod gives) is kept out of a capability-less,
// non-dumpable host process's /proc/<pid>/environ.
func nondumpableHidden(t *testing.T, pid int, mod func(*Container)) bool {
	t.Helper()
	c := newContainer(t)
	c.removeNamespace(specs.PIDNamespace)
	if mod != nil {
		mod(c)
	}
	c.Spec.Process.Args = []string{"sh", "-c", "cat /proc/" + itoa(pid) + "/environ >/dev/null 2>&1 && echo READ || echo DENIED"}
	return strings.Contains(c.mustRun().Stdout, "DENIED")
}

// TestExecIgnoresContainerProc: what the exec helper needs to know of the
// kernel it asks the kernel, not the container's /proc: a fake
// cap_last_cap of 0 must not leave capabilities above it in the bounding
// set, and a fake setgroups "deny" must not skip the process's groups
// (it would keep the runtime's own).
func TestExecIgnoresContainerProc(t *testing.T) {
	t.Parallel()
	requireCarapace(t)
	c := startPlanter(t, `set -e
mount -t tmpfs t /proc
mkdir -p /proc/sys/kernel /proc/self/fd
echo 0 > /proc/sys/kernel/cap_last_cap
echo deny > /proc/self/setgroups
touch /out/ready
exec sleep 1000`, false, withSysAdmin)
	pidFile := filepath.Join(c.Dir, "exec.pid")
	if r := c.execIn([]string{"-d", "--pid-file", pidFile, "-g", "555"}, "sleep", "100"); !r.ok() {
		t.Fatalf("exec: %s", r)
	}
	pid := readPidFile(t, pidFile)
	status := readFileString(fmt.Sprintf("/proc/%d/status", pid))
	want := capMask(t, c.Spec.Process.Capabilities.Bounding)
	if got := parseHex(t, statusField(status, "CapBnd")); got != want {
		t.Errorf("exec'd process: CapBnd %#x, want the container's %#x", got, want)
	}
	if groups := strings.Fields(statusField(status, "Groups")); len(groups) != 1 || groups[0] != "555" {
		t.Errorf("exec'd process: Groups %v, want [555]", groups)
	}
}

// TestKillAllPaused: kill --all of a paused container signals every
// process and leaves it paused (as runc does); only SIGKILL thaws it, so
// that its processes can die.
func TestKillAllPaused(t *testing.T) {
	t.Parallel()
	c, _ := startSleeper(t, func(c *Container) {
		c.Spec.Process.Args = []string{"sh", "-c", "trap 'echo got-usr1' USR1; while :; do sleep 0.1; done"}
	})
	if r := c.runtime("pause", c.ID); !r.ok() {
		t.Fatalf("pause: %s", r)
	}
	if r := c.runtime("kill", "--all", c.ID, "USR1"); !r.ok() {
		t.Fatalf("kill --all USR1: %s", r)
	}
	if st := c.mustState(); st.Status != "paused" {
		t.Fatalf("after kill --all USR1 of a paused container: status %q, want paused", st.Status)
	}
	if r := c.runtime("resume", c.ID); !r.ok() {
		t.Fatalf("resume: %s", r)
	}
	waitFor(t, 5*time.Second, "the signal to reach the process once resumed", func() bool {
		return strings.Contains(c.Output(), "got-usr1")
	})
	if r := c.runtime("pause", c.ID); !r.ok() {
		t.Fatalf("pause: %s", r)
	}
	if r := c.runtime("kill", "--all", c.ID, "KILL"); !r.ok() {
		t.Fatalf("kill --all KILL: %s", r)
	}
	c.waitStatus("stopped", 10*time.Second)
}

// TestPassedFDsChecked: --preserve-fds may pass on only descriptors the
// runtime was given; a negative count, or a slot the caller left empty
// (which the runtime's own files would fill), is an error that leaves
// nothing behind.
func TestPassedFDsChecked(t *testing.T) {
	t.Parallel()
	c, _ := startSleeper(t, nil)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"exec", "--preserve-fds", "-1", c.ID, "true"}, "--preserve-fds -1: must not be negative"},
		{[]string{"exec", "--preserve-fds", "1", c.ID, "true"}, "--preserve-fds 1: fd 3 was not open"},
		// With a log file, which the runtime opens at fd 3.
		{[]string{"--log", filepath.Join(c.Dir, "log.json"), "exec", "--preserve-fds", "1", c.ID, "true"}, "fd 3 was not open"},
	} {
		r := c.runtime(tc.args...)
		if r.ok() || !strings.Contains(r.Stderr+readFileString(filepath.Join(c.Dir, "log.json")), tc.want) {
			t.Errorf("%v: want failure with %q, got %s", tc.args, tc.want, r)
		}
	}
	d := newContainer(t)
	d.WriteSpec()
	if r := d.runtime("create", "--bundle", d.Bundle, "--preserve-fds", "2", d.ID); r.ok() || !strings.Contains(r.Stderr, "fd 3 was not open") {
		t.Errorf("create --preserve-fds 2 without fds: want failure naming fd 3, got %s", r)
	}
}

// TestPidFileNotThroughSymlink: the pid file is written through a new
// file of an unpredictable name: a symlink planted where a predictable
// temporary name would be does not get a host file overwritten.
func TestPidFileNotThroughSymlink(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.Spec.Process.Args = []string{"true"}
	victim := filepath.Join(c.HostDir, "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(c.HostDir, "pid")
	for _, name := range []string{".pid.tmp", ".pid", "pid.tmp"} {
		if err := os.Symlink(victim, filepath.Join(c.HostDir, name)); err != nil {
			t.Fatal(err)
		}
	}
	c.mustCreate("--pid-file", pidFile)
	if got := readFileString(victim); got != "precious" {
		t.Errorf("the pid file was written through a planted symlink: the victim now holds %q", got)
	}
	if pid := readPidFile(t, pidFile); pid != c.mustState().Pid {
		t.Errorf("pid file %d, want init's %d", pid, c.mustState().Pid)
	}
	if fi, err := os.Lstat(pidFile); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("the pid file is not a regular file: %v %v", fi, err)
	}
}

// TestExecRefusesRecycledPid: exec pins init with a pidfd checked against
// its start time before it opens /proc/<pid>/ns/*: state that names
// another process under init's pid (pid reuse) is a stopped container,
// never a way into that process's namespaces.
func TestExecRefusesRecycledPid(t *testing.T) {
	t.Parallel()
	requireCarapace(t)
	c, _ := startSleeper(t, nil)
	other := exec.Command("sleep", "60")
	if err := startTracked(other); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		other.Process.Kill()
		waitTracked(other)
	})
	orig := c.editState(func(doc map[string]any) { doc["pid"] = other.Process.Pid })
	r := c.execIn(nil, "touch", "/joined-the-wrong-process")
	c.restoreState(orig)
	if r.ok() || !strings.Contains(r.Stderr, "is stopped") {
		t.Errorf("exec into a state whose pid is another process: want 'is stopped', got %s", r)
	}
	if _, err := os.Stat("/joined-the-wrong-process"); err == nil {
		os.Remove("/joined-the-wrong-process")
		t.Errorf("exec ran in the host's namespaces")
	}
}
