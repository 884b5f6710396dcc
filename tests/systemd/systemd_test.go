package systemd

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func ptr[T any](v T) *T { return &v }

// TestScopeDelegated: while the container runs, its transient scope is
// active in its slice with Delegate=yes (systemctl show and busctl, the
// D-Bus property itself), systemctl status lists its init, and every
// hierarchy of /proc/<init>/cgroup (each v1 controller, name=systemd, the
// cgroup2 one) has init in the scope's directory. After delete the unit is
// gone (LoadState=not-found) and so is every directory.
func TestScopeDelegated(t *testing.T) {
	c := newContainer(t)
	pid := c.startSleeper()
	unit := c.unit()
	p := show(t, unit, "ActiveState", "Delegate", "Slice", "ControlGroup", "LoadState")
	want := map[string]string{
		"ActiveState":  "active",
		"Delegate":     "yes",
		"Slice":        "system.slice",
		"ControlGroup": "/system.slice/" + unit,
		"LoadState":    "loaded",
	}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("systemctl show %s: %s=%q, want %q", unit, k, p[k], v)
		}
	}
	obj := strings.Fields(output(t, "busctl", "call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
		"org.freedesktop.systemd1.Manager", "GetUnit", "s", unit))
	if len(obj) != 2 || obj[0] != "o" {
		t.Fatalf("busctl GetUnit %s: %q", unit, obj)
	}
	path, _ := strconv.Unquote(obj[1])
	if got := strings.TrimSpace(output(t, "busctl", "get-property", "org.freedesktop.systemd1", path,
		"org.freedesktop.systemd1.Scope", "Delegate")); got != "b true" {
		t.Errorf("busctl get-property %s Scope.Delegate: %q, want \"b true\"", path, got)
	}
	// systemctl status exits 0 for an active unit, and lists its processes.
	status := output(t, "systemctl", "status", "--no-pager", "--lines=0", unit)
	if !strings.Contains(status, "Active: active") || !strings.Contains(status, strconv.Itoa(pid)) {
		t.Errorf("systemctl status %s does not show it active with init %d:\n%s", unit, pid, status)
	}

	cgs := procCgroups(t, pid)
	suffix := "/system.slice/" + unit
	var dirs []string
	for k, path := range cgs {
		if k == "" && cgroupMode(t) != "v2" {
			// hybrid: systemd tracks the scope in the unified hierarchy too.
			dirs = append(dirs, filepath.Join("/sys/fs/cgroup/unified", path))
		} else if k == "" {
			dirs = append(dirs, filepath.Join("/sys/fs/cgroup", path))
		} else {
			dirs = append(dirs, filepath.Join("/sys/fs/cgroup", strings.TrimPrefix(k, "name="), path))
		}
		if path != suffix {
			t.Errorf("/proc/%d/cgroup: hierarchy %q: %s, want %s", pid, k, path, suffix)
		}
	}
	if cgroupMode(t) != "v2" {
		for _, ctrl := range []string{"memory", "pids", "cpu", "devices", "freezer", "blkio", "cpuset", "name=systemd"} {
			found := false
			for k := range cgs {
				found = found || strings.Contains(","+k+",", ","+ctrl+",")
			}
			if !found {
				t.Errorf("/proc/%d/cgroup has no %s hierarchy: %v", pid, ctrl, cgs)
			}
		}
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("the container's cgroup directory: %v", err)
		}
	}

	if r := c.runtime("kill", c.ID, "KILL"); !r.ok() {
		t.Fatalf("kill: %s", r)
	}
	waitStopped(t, c)
	if r := c.runtime("delete", c.ID); !r.ok() {
		t.Fatalf("delete: %s", r)
	}
	c.checkGone("after delete")
	if got := show(t, unit, "LoadState")["LoadState"]; got != "not-found" {
		t.Errorf("after delete: %s LoadState=%s, want not-found", unit, got)
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("after delete: %s still there (%v)", d, err)
		}
	}
}

func waitStopped(t *testing.T, c *container) {
	t.Helper()
	for i := 0; i < 100; i++ {
		r := c.runtime("state", c.ID)
		if strings.Contains(r.Stdout, `"stopped"`) {
			return
		}
		sleep()
	}
	t.Fatalf("container %s did not stop", c.ID)
}

// field is one linux.resources field the driver gives systemd as a unit
// property: the property and its value as `systemctl show` prints it, and
// the cgroup file that must hold the value, per layout ("" prop: not a
// property there).
type field struct {
	name           string
	v2Prop, v2Want string
	v1Prop, v1Want string
	ctrl           string // v1 controller of the file
	v2File, v2Val  string
	v1File, v1Val  string
}

// fields are checked on a container created with resources(), then again
// after update with updated().
func fields(updated bool) []field {
	if !updated {
		return []field{
			{name: "memory.limit", v2Prop: "MemoryMax", v2Want: "268435456", v1Prop: "MemoryLimit", v1Want: "268435456",
				ctrl: "memory", v2File: "memory.max", v2Val: "268435456", v1File: "memory.limit_in_bytes", v1Val: "268435456"},
			{name: "memory.reservation", v2Prop: "MemoryLow", v2Want: "67108864",
				ctrl: "memory", v2File: "memory.low", v2Val: "67108864", v1File: "memory.soft_limit_in_bytes", v1Val: "67108864"},
			{name: "memory.swap", v2Prop: "MemorySwapMax", v2Want: "134217728",
				ctrl: "memory", v2File: "memory.swap.max", v2Val: "134217728"},
			{name: "cpu.shares", v2Prop: "CPUWeight", v2Want: "59", v1Prop: "CPUShares", v1Want: "512",
				ctrl: "cpu", v2File: "cpu.weight", v2Val: "59", v1File: "cpu.shares", v1Val: "512"},
			{name: "cpu.quota", v2Prop: "CPUQuotaPerSecUSec", v2Want: "500ms", v1Prop: "CPUQuotaPerSecUSec", v1Want: "500ms",
				ctrl: "cpu", v2File: "cpu.max", v2Val: "25000 50000", v1File: "cpu.cfs_quota_us", v1Val: "25000"},
			{name: "cpu.period", v2Prop: "CPUQuotaPeriodUSec", v2Want: "50ms", v1Prop: "CPUQuotaPeriodUSec", v1Want: "50ms",
				ctrl: "cpu", v2File: "cpu.max", v2Val: "25000 50000", v1File: "cpu.cfs_period_us", v1Val: "50000"},
			{name: "cpu.cpus", v2Prop: "AllowedCPUs", v2Want: "0",
				ctrl: "cpuset", v2File: "cpuset.cpus", v2Val: "0", v1File: "cpuset.cpus", v1Val: "0"},
			{name: "cpu.mems", v2Prop: "AllowedMemoryNodes", v2Want: "0",
				ctrl: "cpuset", v2File: "cpuset.mems", v2Val: "0", v1File: "cpuset.mems", v1Val: "0"},
			{name: "pids.limit", v2Prop: "TasksMax", v2Want: "42", v1Prop: "TasksMax", v1Want: "42",
				ctrl: "pids", v2File: "pids.max", v2Val: "42", v1File: "pids.max", v1Val: "42"},
			{name: "devices", v2Prop: "DevicePolicy", v2Want: "strict", v1Prop: "DevicePolicy", v1Want: "strict",
				ctrl: "devices", v1File: "devices.list", v1Val: "c 1:3 rwm"},
		}
	}
	return []field{
		{name: "memory.limit", v2Prop: "MemoryMax", v2Want: "201326592", v1Prop: "MemoryLimit", v1Want: "201326592",
			ctrl: "memory", v2File: "memory.max", v2Val: "201326592", v1File: "memory.limit_in_bytes", v1Val: "201326592"},
		{name: "memory.swap", v2Prop: "MemorySwapMax", v2Want: "201326592",
			ctrl: "memory", v2File: "memory.swap.max", v2Val: "201326592"},
		{name: "cpu.shares", v2Prop: "CPUWeight", v2Want: "100", v1Prop: "CPUShares", v1Want: "1024",
			ctrl: "cpu", v2File: "cpu.weight", v2Val: "100", v1File: "cpu.shares", v1Val: "1024"},
		{name: "cpu.quota", v2Prop: "CPUQuotaPerSecUSec", v2Want: "1.500000s", v1Prop: "CPUQuotaPerSecUSec", v1Want: "1.500000s",
			ctrl: "cpu", v2File: "cpu.max", v2Val: "75000 50000", v1File: "cpu.cfs_quota_us", v1Val: "75000"},
		{name: "pids.limit", v2Prop: "TasksMax", v2Want: "64", v1Prop: "TasksMax", v1Want: "64",
			ctrl: "pids", v2File: "pids.max", v2Val: "64", v1File: "pids.max", v1Val: "64"},
	}
}

func resources() *specs.LinuxResources {
	return &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr(int64(256 << 20)), Reservation: ptr(int64(64 << 20)), Swap: ptr(int64(384 << 20))},
		CPU: &specs.LinuxCPU{Shares: ptr(uint64(512)), Quota: ptr(int64(25000)), Period: ptr(uint64(50000)),
			Cpus: "0", Mems: "0"},
		Pids: &specs.LinuxPids{Limit: ptr(int64(42))},
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"},
			{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(3)), Access: "rwm"}},
	}
}

// TestResourceProperties: each field the driver maps to a unit property is
// set on the scope (systemctl show) and written to its cgroup file, at
// create and by update; and the files still hold the values after
// `systemctl daemon-reload`, at which systemd writes every file from the
// unit's properties: a limit given to the files alone would be undone.
// Enforcement (OOM, pids, devices, freezer) is checked by the e2e suite
// rerun under the driver (CARAPACE_E2E_SYSTEMD=1).
func TestResourceProperties(t *testing.T) {
	c := newContainer(t)
	mode := cgroupMode(t)
	c.Spec.Linux.Resources = resources()
	if mode != "v2" {
		// v1 has no memory.low and no separate swap limit: swap is
		// memory+swap (memsw, absent without swap accounting).
		c.Spec.Linux.Resources.Memory.Swap = nil
	}
	pid := c.startSleeper()
	check := func(when string, fs []field) {
		t.Helper()
		for _, f := range fs {
			prop, want, file, val := f.v2Prop, f.v2Want, f.v2File, f.v2Val
			if mode != "v2" {
				prop, want, file, val = f.v1Prop, f.v1Want, f.v1File, f.v1Val
			}
			if prop != "" {
				if got := show(t, c.unit(), prop)[prop]; got != want {
					t.Errorf("%s: %s: %s=%q, want %q", when, f.name, prop, got, want)
				}
			}
			if file != "" {
				dir := cgroupDir(t, pid, f.ctrl)
				got := readFile(t, filepath.Join(dir, file))
				if !strings.Contains("\n"+got+"\n", "\n"+val+"\n") && got != val {
					t.Errorf("%s: %s: %s/%s = %q, want %q", when, f.name, dir, file, got, val)
				}
			}
		}
	}
	check("after create", fields(false))
	if mode == "v2" {
		if got := show(t, c.unit(), "DeviceAllow")["DeviceAllow"]; !strings.Contains(" "+got+" ", " /dev/char/1:3 rwm ") {
			t.Errorf("DeviceAllow=%q: no entry for 1:3 (/dev/null)", got)
		}
	}
	output(t, "systemctl", "daemon-reload")
	check("after create and daemon-reload", fields(false))

	upd := []string{"update", "--memory", "192M", "--cpu-shares", "1024", "--cpu-quota", "75000", "--pids-limit", "64"}
	if mode == "v2" {
		upd = append(upd, "--memory-swap", "384M")
	}
	if r := c.runtime(append(upd, c.ID)...); !r.ok() {
		t.Fatalf("update: %s", r)
	}
	check("after update", fields(true))
	output(t, "systemctl", "daemon-reload")
	check("after update and daemon-reload", fields(true))
}

// TestPidsLimitZero: `update --pids-limit 0` is a limit (runtime-spec
// 1.3), written as 1 to pids.max and given to systemd as TasksMax=1 (it
// refuses 0), as runc 1.5's driver does; with TasksMax=infinity in the
// unit, systemd would reset pids.max to max at the next daemon-reload.
// (At create, a limit of 1 would leave the runtime's init no thread to
// start with, under either driver.)
func TestPidsLimitZero(t *testing.T) {
	c := newContainer(t)
	c.Spec.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(100))}}
	pid := c.startSleeper()
	if r := c.runtime("update", "--pids-limit", "0", c.ID); !r.ok() {
		t.Fatalf("update --pids-limit 0: %s", r)
	}
	if got := show(t, c.unit(), "TasksMax")["TasksMax"]; got != "1" {
		t.Errorf("TasksMax=%s, want 1", got)
	}
	output(t, "systemctl", "daemon-reload")
	if got := readFile(t, filepath.Join(cgroupDir(t, pid, "pids"), "pids.max")); got != "1" {
		t.Errorf("pids.max after daemon-reload: %s, want 1", got)
	}
}

// TestNoUnitLeft: no unit, cgroup or process is left after a failed
// create (init fails on a mount after the scope was made), and after
// `delete --force` of a container whose create was SIGKILLed while its
// scope was up (in a createRuntime hook, after the cgroups are set).
func TestNoUnitLeft(t *testing.T) {
	t.Run("failed-create", func(t *testing.T) {
		c := newContainer(t)
		c.Spec.Mounts = append(c.Spec.Mounts, specs.Mount{Destination: "/mnt", Type: "bind",
			Source: filepath.Join(c.Dir, "no-such-dir"), Options: []string{"bind"}})
		r := c.create()
		if r.ok() {
			t.Fatalf("create with a missing bind source succeeded: %s", r)
		}
		c.checkGone("after the failed create")
	})
	t.Run("delete-force-after-killed-create", func(t *testing.T) {
		c := newContainer(t)
		mark := filepath.Join(c.Dir, "hook-ran")
		c.Spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sh",
			Args: []string{"sh", "-c", "echo $$ > " + mark + "; exec sleep 300"}}}}
		c.Spec.Process.Args = []string{"sleep", "1000"}
		c.writeSpec()
		cmd := startCmd(t, c.Dir, runtimeBin, "--systemd-cgroup", "--root", c.Root, "create", "--bundle", c.Bundle, c.ID)
		var hookPid int
		for i := 0; i < 300 && hookPid == 0; i++ {
			if b, err := os.ReadFile(mark); err == nil && strings.HasSuffix(string(b), "\n") {
				hookPid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
			}
			sleep()
		}
		if hookPid == 0 {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("the createRuntime hook did not run")
		}
		if got := show(t, c.unit(), "ActiveState")["ActiveState"]; got != "active" {
			t.Errorf("while the hook runs: %s ActiveState=%s, want active", c.unit(), got)
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		// The hook is the killed create's child, outside the container.
		_ = syscallKill(hookPid)
		if r := c.runtime("delete", "--force", c.ID); !r.ok() {
			t.Errorf("delete --force after the killed create: %s", r)
		}
		c.checkGone("after delete --force of the killed create")
	})
}

// TestNestedSlice: a slice with dashes expands into its parents
// (a-b.slice is /a.slice/a-b.slice) and the scope goes in it.
func TestNestedSlice(t *testing.T) {
	if skipReason != "" {
		t.Skip(skipReason)
	}
	// Registered first, so it runs after the container's delete: stopping
	// the slice would stop the scope (SIGTERM, then SIGKILL 90 s later).
	t.Cleanup(func() {
		if r := run("/", "systemctl", "stop", "carapacesd.slice"); !r.ok() {
			t.Errorf("%s", r)
		}
	})
	c := newContainer(t)
	const slice = "carapacesd-nested.slice"
	c.Spec.Linux.CgroupsPath = slice + ":" + unitPrefix + ":" + c.ID
	pid := c.startSleeper()
	want := "/carapacesd.slice/" + slice + "/" + c.unit()
	p := show(t, c.unit(), "Slice", "ControlGroup", "Delegate")
	if p["Slice"] != slice || p["ControlGroup"] != want || p["Delegate"] != "yes" {
		t.Errorf("systemctl show %s: %v, want Slice=%s ControlGroup=%s Delegate=yes", c.unit(), p, slice, want)
	}
	for k, path := range procCgroups(t, pid) {
		if path != want {
			t.Errorf("/proc/%d/cgroup: hierarchy %q: %s, want %s", pid, k, path, want)
		}
	}
}

func sleep() { time.Sleep(100 * time.Millisecond) }

// startCmd starts a command in the background, its output in dir.
func startCmd(t *testing.T, dir, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := os.Create(filepath.Join(dir, "bg.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

func syscallKill(pid int) error { return unix.Kill(pid, unix.SIGKILL) }

// TestOOMKillKeepsScope: an OOM kill in the container is the container's
// business, as under the cgroupfs driver: the scope (OOMPolicy=continue,
// systemd's default for a unit with Delegate=yes) is not stopped, and
// init, which outlives the killed process, runs on in it. The scope goes
// only when its last process does (see e2e TestCgroupMemoryOOMDeletedAtExit
// for the oom event of a container whose init is the one killed).
func TestOOMKillKeepsScope(t *testing.T) {
	c := newContainer(t)
	c.Spec.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(32 << 20))}}
	c.Spec.Process.Args = []string{"sh", "-c", `sh -c 'x=0123456789; while true; do x=$x$x; done'; exec sleep 1000`}
	if r := c.create(); !r.ok() {
		t.Fatalf("create: %s", r)
	}
	if r := c.runtime("start", c.ID); !r.ok() {
		t.Fatalf("start: %s", r)
	}
	pid := c.pid()
	for i := 0; ; i++ {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
		if err == nil && strings.TrimSpace(string(b)) == "sleep" {
			break
		}
		if err != nil || i > 600 {
			t.Fatalf("init did not go on to sleep after its child's OOM kill (%v)", err)
		}
		sleep()
	}
	p := show(t, c.unit(), "ActiveState", "OOMPolicy")
	if p["ActiveState"] != "active" || p["OOMPolicy"] != "continue" {
		t.Errorf("after an OOM kill in the container: %s ActiveState=%s OOMPolicy=%s, want active and continue", c.unit(), p["ActiveState"], p["OOMPolicy"])
	}
	var kills string
	if cgroupMode(t) == "v2" {
		kills = readFile(t, filepath.Join(cgroupDir(t, pid, "memory"), "memory.events"))
	} else {
		kills = readFile(t, filepath.Join(cgroupDir(t, pid, "memory"), "memory.oom_control"))
	}
	if !strings.Contains(kills, "oom_kill 1") {
		t.Errorf("the memory cgroup counts no OOM kill: %s", kills)
	}
}

// TestCgroupfsDriverInService: the cgroupfs driver (no --systemd-cgroup)
// with a relative cgroupsPath, run from this test's systemd service, would
// put the container below the service's cgroup, which holds the service's
// processes: cgroup v2 gives such a cgroup's children no controllers. create
// refuses it before making anything, naming linux.cgroupsPath, the busy
// cgroup and what to do (it failed with a bare "operation not supported",
// after enabling the threaded controllers in the service's cgroup).
func TestCgroupfsDriverInService(t *testing.T) {
	if cgroupMode(t) != "v2" {
		t.Skip("cgroup v2's no-internal-processes rule: v1 hierarchies allow processes beside child cgroups")
	}
	c := newContainer(t)
	c.Spec.Linux.CgroupsPath = ""
	c.Spec.Process.Args = []string{"true"}
	c.writeSpec()
	own := procCgroups(t, os.Getpid())[""]
	svc := filepath.Join("/sys/fs/cgroup", own)
	before := readFile(t, filepath.Join(svc, "cgroup.subtree_control"))
	r := run(c.Dir, runtimeBin, "--root", c.Root, "create", "--bundle", c.Bundle, c.ID)
	if r.ok() {
		t.Fatalf("create under the service's cgroup %s succeeded: %s", own, r)
	}
	for _, want := range []string{`linux.cgroupsPath ""`, svc + ", which has", "--systemd-cgroup", "absolute linux.cgroupsPath"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("create's error does not say %q: %s", want, r.Stderr)
		}
	}
	if after := readFile(t, filepath.Join(svc, "cgroup.subtree_control")); after != before {
		t.Errorf("create changed %s/cgroup.subtree_control: %q, was %q", svc, after, before)
	}
	if _, err := os.Stat(filepath.Join(svc, c.ID)); err == nil {
		t.Errorf("create left %s/%s", svc, c.ID)
	}
}
