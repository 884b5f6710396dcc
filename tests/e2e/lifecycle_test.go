package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestLifecycle walks create → state → start → kill → delete, once per form
// of the signal argument.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sig  string
		trap bool // the process needs a handler: pid 1 ignores unhandled TERM
	}{
		{"KILL", false}, {"SIGKILL", false}, {"9", false},
		{"TERM", true}, {"SIGTERM", true}, {"15", true},
	} {
		t.Run("kill-"+tc.sig, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			c.addBind(c.HostDir, "/host", false)
			script := `touch /host/ran; echo started; while true; do sleep 0.1; done`
			if tc.trap {
				script = `trap "echo got-term; exit 7" TERM; ` + script
			}
			c.Spec.Process.Args = []string{"sh", "-c", script}
			c.mustCreate()

			s := c.mustState()
			if s.Status != "created" || s.Pid <= 0 || s.ID != c.ID || s.Bundle != c.Bundle || s.OCIVersion == "" {
				t.Fatalf("state after create = %+v; want status created, a pid, id %s, bundle %s, an ociVersion", s, c.ID, c.Bundle)
			}
			if _, err := os.Stat("/proc/" + strconv.Itoa(s.Pid)); err != nil {
				t.Errorf("state pid %d is not a live process: %v", s.Pid, err)
			}
			// Give a runtime that wrongly starts the process at create
			// time the chance to show it.
			time.Sleep(300 * time.Millisecond)
			if _, err := os.Stat(filepath.Join(c.HostDir, "ran")); err == nil {
				t.Fatal("the container process ran before start")
			}
			if out := c.Output(); out != "" {
				t.Fatalf("the container process wrote %q before start", out)
			}

			c.mustStart()
			waitFor(t, 10*time.Second, "the process to run after start", func() bool {
				_, err := os.Stat(filepath.Join(c.HostDir, "ran"))
				return err == nil
			})
			if s := c.mustState(); s.Status != "running" {
				t.Fatalf("state after start = %+v, want running", s)
			}
			if out := c.Output(); !strings.Contains(out, "started") {
				t.Errorf("container stdout = %q, want it to contain %q", out, "started")
			}

			if r := c.Kill(tc.sig); !r.ok() {
				t.Fatalf("kill %s: %s", tc.sig, r)
			}
			c.waitStatus("stopped", 10*time.Second)
			if tc.trap && !strings.Contains(c.Output(), "got-term") {
				t.Errorf("the TERM handler did not run; stdout %q", c.Output())
			}

			if r := c.Delete(false); !r.ok() {
				t.Fatalf("delete: %s", r)
			}
			if _, r := c.State(); !r.failed() {
				t.Fatalf("state after delete should fail: %s", r)
			}
			c.checkNoLeftovers("after delete")
		})
	}
}

func TestCreatePidFile(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.Spec.Process.Args = []string{"sleep", "100"}
	pidFile := filepath.Join(c.Dir, "container.pid")
	c.mustCreate("--pid-file", pidFile)
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSuffix(string(data), "\n"))
	if err != nil {
		t.Fatalf("pid file holds %q: %v", data, err)
	}
	if s := c.mustState(); s.Pid != pid {
		t.Fatalf("pid file says %d, state says %d", pid, s.Pid)
	}
}

func TestCreateExistingIDFails(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.Spec.Process.Args = []string{"sleep", "100"}
	c.mustCreate()
	before := c.mustState()
	r := c.runtime("create", "--bundle", c.Bundle, c.ID)
	if !r.failed() {
		t.Fatalf("a second create with the same id should fail: %s", r)
	}
	after := c.mustState()
	if after.Status != "created" || after.Pid != before.Pid {
		t.Fatalf("the failed create changed the first container: before %+v, after %+v", before, after)
	}
}

func TestDeleteMissing(t *testing.T) {
	t.Parallel()
	t.Run("force", func(t *testing.T) {
		t.Parallel()
		c := newContainer(t)
		if r := c.Delete(true); !r.ok() {
			t.Fatalf("delete --force of a missing container should exit 0: %s", r)
		}
	})
	t.Run("no-force", func(t *testing.T) {
		t.Parallel()
		c := newContainer(t)
		if r := c.Delete(false); !r.failed() {
			t.Fatalf("delete of a missing container should fail: %s", r)
		}
	})
}

// TestRunExitStatus checks that run passes the process's exit status
// through, and 128+N for a death by signal N.
func TestRunExitStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		script string
		hostNS bool // share the host pid namespace: pid 1 of a pid ns cannot kill itself
		want   int
	}{
		{"exit-0", "exit 0", false, 0},
		{"exit-3", "exit 3", false, 3},
		{"exit-255", "exit 255", false, 255},
		{"false", "false", false, 1},
		{"sigkill", "kill -9 $$", true, 128 + 9},
		{"sigterm", "kill -TERM $$", true, 128 + 15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			if tc.hostNS {
				c.removeNamespace(specs.PIDNamespace)
			}
			r := c.ShResult(tc.script)
			if r.Err != nil || r.Code != tc.want {
				t.Fatalf("want exit status %d: %s", tc.want, r)
			}
		})
	}
}

// TestRunKilledExternally kills a `run` container with the kill verb: run
// exits 128+9.
func TestRunKilledExternally(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.Spec.Process.Args = []string{"sleep", "1000"}
	wait := c.RunAsync()
	c.waitStatus("running", 10*time.Second)
	if r := c.Kill("KILL"); !r.ok() {
		t.Fatalf("kill: %s", r)
	}
	if r := wait(); r.Err != nil || r.Code != 137 {
		t.Fatalf("run of a SIGKILLed container: want exit 137: %s", r)
	}
}

// TestDeleteForceAfterKilledCreate: a create SIGKILLed after it made the
// container's cgroup (here in a createRuntime hook, before any state is
// saved) leaves nothing once `delete --force` has run: no cgroup directory
// in any hierarchy, no systemd unit, no state. Without a record of the
// cgroup, delete --force could only remove the state directory.
func TestDeleteForceAfterKilledCreate(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	create, hook := createHeldInHook(t, c)
	if len(cgroupDirsNamed(c.ID)) == 0 {
		t.Fatalf("while the hook runs, the container has no cgroup named after %s", c.ID)
	}
	_ = create.cmd.Process.Kill()
	create.wait(10 * time.Second)
	// The hook is the killed create's child, not the container's.
	_ = syscall.Kill(hook, syscall.SIGKILL)
	if r := c.Delete(true); !r.ok() {
		t.Errorf("delete --force after the killed create: %s", r)
	}
	c.checkNoLeftovers("after delete --force of a killed create")
}

// createHeldInHook starts create of c (running sleep 1000) in the
// background with a createRuntime hook that sleeps, after create made the
// cgroup and before it saved any state, and returns once the hook runs,
// with the hook's pid.
func createHeldInHook(t *testing.T, c *Container) (create *bgProc, hook int) {
	t.Helper()
	mark := filepath.Join(c.HostDir, "hook-ran")
	c.Spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sh",
		Args: []string{"sh", "-c", "echo $$ > " + mark + "; exec sleep 300"}}}}
	c.Spec.Process.Args = []string{"sleep", "1000"}
	c.WriteSpec()
	create = c.runtimeBackground("create", "--bundle", c.Bundle, c.ID)
	waitFor(t, 30*time.Second, "the createRuntime hook", func() bool {
		if b, err := os.ReadFile(mark); err == nil && strings.HasSuffix(string(b), "\n") {
			hook, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		return hook > 0 || !isRunning(create)
	})
	if hook == 0 {
		t.Fatalf("create exited (%d) before its hook ran: %q", create.code, create.stderr())
	}
	return create, hook
}
