package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/carapace-oci/carapace/tests/internal/leaks"
	"github.com/carapace-oci/carapace/tests/internal/testenv"
)

// TestKillCreateAtAnyMomentLeavesNoCgroup: create SIGKILLed at any moment,
// here at 44 points spread over the time a whole create takes on this
// machine (a 40th of it apart, and a little past its end), is cleaned up
// entirely by delete --force: no cgroup directory in any hierarchy, no
// state, no process. In between, state and list answer (no crash, no
// error for list). Whatever create makes is recorded before it is made;
// the cgroups used to be recorded only after all of them were made, and a
// kill in between (about 4 to 13 ms into create on a cgroup v1 host,
// where a whole create takes 30 to 40 ms) left one directory per
// hierarchy behind.
//
// Four kills land right after the first cgroup directory appears (a busy
// loop watches for it), where the old window opened: the old runtime fails
// there every time. The delays only spread the other kills over create's
// steps: a correct runtime passes at every one of them.
func TestKillCreateAtAnyMomentLeavesNoCgroup(t *testing.T) {
	requireCarapace(t)
	c := newContainer(t)
	c.Spec.Process.Args = []string{"sleep", "1000"}
	c.WriteSpec()
	whole := c.runtime("create", "--bundle", c.Bundle, c.ID)
	if !whole.ok() {
		t.Fatalf("create: %s", whole)
	}
	if r := c.Delete(true); !r.ok() {
		t.Fatalf("delete --force: %s", r)
	}
	// First, right after create made the first of its cgroup directories
	// (watched for in a busy loop): the old window, hit every time. The
	// VM legs, emulated and ten times slower, spread fewer kills
	// (CARAPACE_E2E_KILL_STEPS).
	steps := 40
	if v, err := strconv.Atoi(os.Getenv("CARAPACE_E2E_KILL_STEPS")); err == nil && v > 0 {
		steps = v
	}
	pre := min(4, steps) // kills right after the first cgroup directory
	for i := -pre; i <= steps+4; i++ {
		if i == 0 || i < 0 && systemdCgroup {
			continue
		}
		delay := whole.Elapsed * time.Duration(i) / time.Duration(steps)
		k := *c
		k.ID = c.ID + "-" + strconv.Itoa(i+10)
		registerID(k.ID)
		cmd := exec.Command(runtimeBin, runtimeArgs(c.Root, "create", "--bundle", c.Bundle, k.ID)...)
		cmd.Dir = c.Dir
		watch := containerCgroupDirs(t, k.ID)
		if err := startTracked(cmd); err != nil {
			t.Fatal(err)
		}
		when := "kill after " + delay.String()
		if i < 0 {
			delay, when = 0, "kill once the first cgroup directory appeared"
			deadline := time.Now().Add(whole.Elapsed * 4)
			for !anyExists(watch) && time.Now().Before(deadline) {
			}
		}
		time.Sleep(delay)
		_ = cmd.Process.Kill()
		_ = waitTracked(cmd)

		// What state and list say of what the kill left.
		if r := k.runtime("state", k.ID); r.Err != nil || r.Code > 1 || strings.Contains(r.Stderr, "panic") {
			t.Errorf("%s: state: %s", when, r)
		} else if r.ok() {
			var s State
			if err := json.Unmarshal([]byte(r.Stdout), &s); err != nil || s.ID != k.ID ||
				(s.Status != "created" && s.Status != "stopped") {
				t.Errorf("%s: state of a container whose create was killed: want created or stopped: %s", when, r)
			}
		}
		if r := k.runtime("list", "--format", "json"); !r.ok() {
			t.Errorf("%s: list: %s", when, r)
		}

		if r := k.runtime("delete", "--force", k.ID); !r.ok() {
			t.Errorf("%s: delete --force: %s", when, r)
		}
		k.checkNoLeftovers(when + ", then delete --force")
		if t.Failed() {
			break
		}
	}
}

// TestDeleteForcePausedContainer: delete --force of a paused container
// kills and removes it at once, leaving nothing (and nothing frozen). The
// v1 freezer holds a SIGKILLed process until it is thawed: delete used to
// wait 10 s for init, fail, and leave the cgroup frozen with init in it.
// kill KILL of a paused container stops it too, as runc's (it thaws after
// sending the signal).
func TestDeleteForcePausedContainer(t *testing.T) {
	t.Parallel()
	for _, verb := range []string{"delete", "kill"} {
		t.Run(verb, func(t *testing.T) {
			t.Parallel()
			c, pid := startSleeper(t, nil)
			if r := c.runtime("pause", c.ID); !r.ok() {
				t.Fatalf("pause: %s", r)
			}
			if s := c.mustState(); s.Status != "paused" {
				t.Fatalf("state after pause: %q", s.Status)
			}
			if verb == "kill" {
				if r := c.runtime("kill", c.ID, "KILL"); !r.ok() {
					t.Fatalf("kill KILL of a paused container: %s", r)
				}
				c.waitStatus("stopped", 10*time.Second)
			}
			r := c.runtimeOpts(cmdOpts{timeout: 20 * time.Second}, "delete", "--force", c.ID)
			if !r.ok() || r.Elapsed > 5*time.Second {
				t.Errorf("delete --force of a paused container: %s", r)
			}
			if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pid))); err == nil && !leaks.IsZombie(pid) {
				t.Errorf("init %d still there after delete --force", pid)
			}
			c.checkNoLeftovers("after delete --force of a paused container")
		})
	}
}

// TestStateOfHalfCreatedContainer: while create runs (here held in a
// createRuntime hook), state says "creating" and list shows it with the
// other containers; once that create is killed, state says "stopped",
// delete (without --force) removes what it made, and state says it does
// not exist. A container directory without a state file used to be "does
// not exist" for state and missing from list while its cgroups were there.
func TestStateOfHalfCreatedContainer(t *testing.T) {
	t.Parallel()
	requireCarapace(t)
	c := newContainer(t)
	// Another container in the same root, running: list shows both.
	other := newContainer(t)
	other.Root = c.Root
	other.Spec.Process.Args = []string{"sleep", "1000"}
	other.mustCreate()
	other.mustStart()
	create, hook := createHeldInHook(t, c)
	listed := func(want map[string]string) {
		t.Helper()
		r := c.runtime("list", "--format", "json")
		var l []State
		if !r.ok() || json.Unmarshal([]byte(r.Stdout), &l) != nil {
			t.Fatalf("list: %s", r)
		}
		got := map[string]string{}
		for _, s := range l {
			got[s.ID] = s.Status
		}
		for id, st := range want {
			if got[id] != st {
				t.Errorf("list: %s is %q, want %q: %s", id, got[id], st, r.Stdout)
			}
		}
	}
	if s := c.mustState(); s.Status != "creating" || s.ID != c.ID || s.Bundle != c.Bundle {
		t.Errorf("state while create runs: want creating, with its id and bundle: %+v", s)
	}
	listed(map[string]string{c.ID: "creating", other.ID: "running"})

	_ = create.cmd.Process.Kill()
	create.wait(10 * time.Second)
	_ = syscall.Kill(hook, syscall.SIGKILL)
	if s := c.mustState(); s.Status != "stopped" || s.Pid != 0 {
		t.Errorf("state after create was killed: want stopped, pid 0: %+v", s)
	}
	listed(map[string]string{c.ID: "stopped", other.ID: "running"})
	if r := c.Delete(false); !r.ok() {
		t.Errorf("delete of what a killed create left: %s", r)
	}
	if _, r := c.State(); !r.failed() || !strings.Contains(r.Stderr, "does not exist") {
		t.Errorf("state after delete: want does not exist: %s", r)
	}
	if l := cgroupDirsNamed(c.ID); len(l) > 0 {
		t.Errorf("after delete: %v", l)
	}
}

// TestDeleteKeepsStateWhenCgroupRemains: when delete cannot remove the
// container's cgroup (a process of the host's was moved into a cgroup
// below it), it fails naming the cgroup and keeps the container's state,
// so that delete can be retried and finish once the cgroup is free. It
// used to remove the state anyway, leaving a cgroup nothing knew of.
func TestDeleteKeepsStateWhenCgroupRemains(t *testing.T) {
	t.Parallel()
	requireCarapace(t)
	skipUnderSystemd(t, "systemd owns the unit's cgroup tree")
	c, pid := startSleeper(t, nil)
	dir := procCgroupDirs(t, pid).dir(t, "pids")
	sub := filepath.Join(dir, "intruder")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	sleeper := exec.Command("sleep", "60")
	if err := startTracked(sleeper); err != nil {
		t.Fatal(err)
	}
	stopSleeper := func() {
		if sleeper != nil {
			_ = sleeper.Process.Kill()
			_ = waitTracked(sleeper)
			sleeper = nil
		}
	}
	t.Cleanup(stopSleeper)
	if err := os.WriteFile(filepath.Join(sub, "cgroup.procs"), []byte(strconv.Itoa(sleeper.Process.Pid)), 0); err != nil {
		t.Fatal(err)
	}
	r := c.Delete(true)
	if r.ok() || !strings.Contains(r.Stderr, sub) {
		t.Errorf("delete --force with a cgroup it cannot remove: want a failure naming %s: %s", sub, r)
	}
	if s, r := c.State(); !r.ok() || s.Status != "stopped" {
		t.Errorf("state after a delete that failed: want the container, stopped: %+v %s", s, r)
	}
	stopSleeper()
	if r := c.Delete(false); !r.ok() {
		t.Errorf("delete again once the cgroup is free: %s", r)
	}
	c.checkNoLeftovers("after the second delete")
}

// TestCreateRefusesFrozenParentCgroup: a container cgroup made under a
// frozen one is frozen from birth (v1 freezer.state, v2 cgroup.events
// say so; its own freezer files do not): create refuses it at once,
// naming linux.cgroupsPath, removes what it made, and leaves the frozen
// parent frozen. It used to hang for ever, init frozen before it could
// report (runc refuses only a frozen cgroup of its own).
func TestCreateRefusesFrozenParentCgroup(t *testing.T) {
	t.Parallel()
	requireCarapace(t)
	skipUnderSystemd(t, "sets a cgroupfs cgroupsPath")
	c := newContainer(t)
	parent := "/e2e-frozen-" + testenv.RandHex(4)
	dir, file, frozen, thawed := filepath.Join("/sys/fs/cgroup/freezer", parent), "freezer.state", "FROZEN", "THAWED"
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		dir, file, frozen, thawed = filepath.Join("/sys/fs/cgroup", parent), "cgroup.freeze", "1", "0"
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.WriteFile(filepath.Join(dir, file), []byte(thawed), 0)
		for i := 0; i < 50 && os.Remove(dir) != nil; i++ {
			time.Sleep(20 * time.Millisecond)
		}
	})
	if err := os.WriteFile(filepath.Join(dir, file), []byte(frozen), 0); err != nil {
		t.Fatal(err)
	}
	c.Spec.Linux.CgroupsPath = parent + "/" + c.ID
	c.Spec.Process.Args = []string{"true"}
	c.WriteSpec()
	r := c.runtimeOpts(cmdOpts{timeout: 15 * time.Second}, "create", "--bundle", c.Bundle, c.ID)
	if r.Err != nil || r.ok() || !strings.Contains(r.Stderr, "linux.cgroupsPath") || !strings.Contains(r.Stderr, "frozen") {
		t.Errorf("create under a frozen cgroup: want a quick refusal naming linux.cgroupsPath: %s", r)
	}
	if got := strings.TrimSpace(readFileString(filepath.Join(dir, file))); got != frozen {
		t.Errorf("the frozen parent's %s is %q now", file, got)
	}
}

// TestStartRefusesFrozenCgroup: start of a created container whose cgroup
// someone froze fails at once, naming the cgroup, without releasing init
// (which would otherwise run the process whenever thawed, started by
// nobody); once thawed, start works. It used to wait for ever.
func TestStartRefusesFrozenCgroup(t *testing.T) {
	t.Parallel()
	requireCarapace(t)
	c := newContainer(t)
	c.Spec.Process.Args = []string{"sleep", "1000"}
	_, d := c.createForCgroups()
	dir := d.dir(t, "freezer")
	file, frozen, thawed := "freezer.state", "FROZEN", "THAWED"
	if isV2(t) {
		file, frozen, thawed = "cgroup.freeze", "1", "0"
	}
	if err := os.WriteFile(filepath.Join(dir, file), []byte(frozen), 0); err != nil {
		t.Fatal(err)
	}
	r := c.runtimeOpts(cmdOpts{timeout: 15 * time.Second}, "start", c.ID)
	if r.Err != nil || r.ok() || !strings.Contains(r.Stderr, dir) {
		t.Errorf("start of a created container in a frozen cgroup: want a quick failure naming %s: %s", dir, r)
	}
	if err := os.WriteFile(filepath.Join(dir, file), []byte(thawed), 0); err != nil {
		t.Fatal(err)
	}
	if s := c.mustState(); s.Status != "created" {
		t.Errorf("after the refused start and a thaw: %q, want created", s.Status)
	}
	c.mustStart()
	c.waitStatus("running", 10*time.Second)
}

// containerCgroupDirs are the directories a container named id gets with no
// cgroupsPath, in every hierarchy: id below the runtime's own cgroup
// (this process's) in each.
func containerCgroupDirs(t *testing.T, id string) []string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, line := range lines(string(data)) {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		mp := "/sys/fs/cgroup"
		switch {
		case parts[1] == "" && parts[0] == "0":
			if _, err := os.Stat("/sys/fs/cgroup/unified"); err == nil {
				mp = "/sys/fs/cgroup/unified"
			}
		default:
			mp = filepath.Join(mp, strings.TrimPrefix(parts[1], "name="))
		}
		dirs = append(dirs, filepath.Join(mp, parts[2], id))
	}
	return dirs
}

func anyExists(paths []string) bool {
	for _, p := range paths {
		if _, err := os.Lstat(p); err == nil {
			return true
		}
	}
	return false
}

// procStateOf is the state letter of /proc/<pid>/stat (R, S, T, Z...), 0
// when the process is gone.
func procStateOf(pid int) byte {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2]
	}
	return 0
}

// TestDeleteStoppedCreate: a create stopped (SIGSTOP) mid-way, by its own
// createRuntime hook, holds the container's lock. delete and start fail at
// once, naming the create and saying that it is stopped, and leave the
// container as it is; delete --force kills the create (the one
// create.json records) and removes everything. Both used to wait for ever
// on the lock.
func TestDeleteStoppedCreate(t *testing.T) {
	c := newRaceBundle(t)
	c.Spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sh",
		Args: []string{"sh", "-c", "kill -STOP $PPID"}}}}
	c.WriteSpec()
	create := c.runtimeBackground("create", "--bundle", c.Bundle, c.ID)
	pid := create.cmd.Process.Pid
	waitFor(t, 30*time.Second, "create to stop itself", func() bool {
		return procStateOf(pid) == 'T' || !isRunning(create)
	})
	if !isRunning(create) {
		t.Fatalf("create exited (%d) before its hook stopped it: %q", create.code, create.stderr())
	}
	want := "is locked by " + filepath.Base(runtimeBin) + " create (pid " + strconv.Itoa(pid) + "), which is stopped"
	for _, verb := range []string{"delete", "start"} {
		r := c.runtime(verb, c.ID)
		checkLoser(t, verb+" while create is stopped", r, c.ID, want)
		t.Logf("%s: %s", verb, strings.TrimSpace(r.Stderr))
	}
	if s := c.mustState(); s.Status != "creating" {
		t.Errorf("state after the refused delete: want creating: %+v", s)
	}
	if r := c.Delete(true); !r.ok() {
		t.Fatalf("delete --force of a stopped create: %s", r)
	}
	if !create.wait(10 * time.Second) {
		t.Error("create still runs after delete --force")
	}
	c.checkNoLeftovers("delete --force of a stopped create")
}

// TestDeleteHungCreate: a create whose createRuntime hook (no timeout)
// does not return holds the container's lock. delete waits
// state.LockWait (10 s), then fails naming the create; delete --force
// waits as long, then kills the create and removes everything but the
// hook, which is the runtime's child, not the container's (see
// docs/recovery.md). delete used to wait for ever.
func TestDeleteHungCreate(t *testing.T) {
	c := newRaceBundle(t)
	create, hook := createHeldInHook(t, c)
	defer syscall.Kill(hook, syscall.SIGKILL)
	pid := create.cmd.Process.Pid
	r := c.runtime("delete", c.ID)
	checkLoser(t, "delete while create hangs", r, c.ID,
		"is locked by "+filepath.Base(runtimeBin)+" create (pid "+strconv.Itoa(pid)+"), which has not finished in 10s")
	t.Logf("delete: %s", strings.TrimSpace(r.Stderr))
	if r := c.Delete(true); !r.ok() {
		t.Fatalf("delete --force of a hung create: %s", r)
	}
	if !create.wait(10 * time.Second) {
		t.Error("create still runs after delete --force")
	}
	syscall.Kill(hook, syscall.SIGKILL)
	c.checkNoLeftovers("delete --force of a hung create")
}

// TestVerbsOnHalfCreatedContainer: kill, ps, start, exec, pause, resume and
// update of a container whose create is still at work, or was killed
// half-way, say so instead of "does not exist" (state and list show the
// container, delete removes it). kill also says "container not running",
// which containerd's shim, like "does not exist", takes for a process
// already gone.
func TestVerbsOnHalfCreatedContainer(t *testing.T) {
	c := newRaceBundle(t)
	create, hook := createHeldInHook(t, c)
	defer syscall.Kill(hook, syscall.SIGKILL)
	creating := `container "` + c.ID + `" is being created (its create has not finished)`
	for _, args := range [][]string{{"kill", c.ID, "KILL"}, {"ps", c.ID}} {
		r := c.runtime(args...)
		want := creating
		if args[0] == "kill" {
			want += ": container not running"
		}
		requireClear(t, args[0]+" while create runs", r, want)
	}
	_ = create.cmd.Process.Kill()
	create.wait(10 * time.Second)
	syscall.Kill(hook, syscall.SIGKILL)
	half := `container "` + c.ID + `" was not fully created (its create did not finish): delete it`
	for _, args := range [][]string{
		{"kill", c.ID, "KILL"}, {"kill", "--all", c.ID, "TERM"}, {"ps", c.ID},
		{"start", c.ID}, {"exec", c.ID, "true"},
		{"pause", c.ID}, {"resume", c.ID}, {"update", "--pids-limit", "10", c.ID},
	} {
		r := c.runtime(args...)
		want := half
		if args[0] == "kill" {
			want += ": container not running"
		}
		requireClear(t, args[0]+" after create was killed", r, want)
		t.Logf("%s: %s", args[0], strings.TrimSpace(r.Stderr))
	}
	if r := c.Delete(false); !r.ok() {
		t.Errorf("delete of what a killed create left: %s", r)
	}
	c.checkNoLeftovers("delete of a half-created container")
}
