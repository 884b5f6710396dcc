package cri

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/carapace-oci/carapace/tests/internal/harness"
)

// TestCRI is the stop path of Kubernetes, on a host-network pod. The CRI
// stops a container with SIGTERM, then SIGKILL after the grace period,
// through the shim's kill; the shim takes a runtime's kill error as
// "already gone" only when its text is one of runc's (container not
// running, no such process, os: process already finished, does not
// exist). Any other text makes the stop fail with "unknown error after
// kill", and leaves the container RUNNING in the CRI and its pod
// impossible to remove.
func TestCRI(t *testing.T) {
	c := requireNode(t)
	var p *pod
	t.Cleanup(func() {
		if p != nil {
			p.remove(t, true)
		}
	})
	need := func(t *testing.T) {
		if p == nil || p.removed {
			t.Skip("no pod: RunPod failed")
		}
	}

	t.Run("RunPod", func(t *testing.T) {
		p = c.newPod(t, podSpec{HostNetwork: true})
		// The shim runs the sandbox with the runtime under test and the
		// handler's root: its options.json says so, and only the runtime
		// writes state under that root.
		c.checkRuntime(t, criHandler, p.ID)
	})
	// A pid 1 with no TERM handler ignores SIGTERM: the CRI's stop sends
	// it, waits the grace period, and kills. The stop must succeed and
	// leave the container exited, killed.
	t.Run("StopIgnoresTERM", func(t *testing.T) {
		need(t)
		id := p.run(t, "ignores-term", containerSpec{Cmd: []string{"sh", "-c", "echo hi; sleep 300"}})
		if st := c.inspect(t, id); st.State != "CONTAINER_RUNNING" {
			t.Fatalf("after start the container is %s", st.State)
		}
		c.checkRuntime(t, criHandler, id)
		// hi is in the log once the shell is past it, in its sleep.
		var logs harness.Result
		if !harness.Eventually(10*time.Second, func() bool {
			logs = c.crictl("logs", id)
			return logs.Code == 0 && strings.TrimSpace(logs.Stdout) == "hi"
		}) {
			t.Fatalf("crictl logs does not show hi: %s", logs)
		}
		start := time.Now()
		c.stop(t, id, 2)
		took := time.Since(start)
		st := c.inspect(t, id)
		if st.State != "CONTAINER_EXITED" {
			t.Fatalf("after a successful stop the CRI reports the container %s", st.State)
		}
		if st.ExitCode != 137 || took < 1500*time.Millisecond {
			t.Errorf("exit code %d (reason %q) after a stop of %v: want 137, a SIGKILL after the 2 s grace period",
				st.ExitCode, st.Reason, took.Round(time.Millisecond))
		}
		if logs := c.crictl("logs", id); logs.Code != 0 || strings.TrimSpace(logs.Stdout) != "hi" {
			t.Errorf("crictl logs after the stop: %s", logs)
		}
		// Left for the pod's removal to remove, as the kubelet leaves it.
	})
	// A container whose process exited by itself: the stop of it succeeds
	// and the exit code stays its own.
	t.Run("StopExited", func(t *testing.T) {
		need(t)
		id := p.run(t, "exited", containerSpec{Cmd: []string{"sh", "-c", "exit 3"}})
		c.waitExited(t, id, 10*time.Second)
		c.stop(t, id, 2)
		if st := c.inspect(t, id); st.State != "CONTAINER_EXITED" || st.ExitCode != 3 {
			t.Errorf("after the stop: %s, exit code %d (reason %q), want CONTAINER_EXITED and 3", st.State, st.ExitCode, st.Reason)
		}
		c.removeContainer(t, id)
	})
	// A stop that races the process's own exit: the shim may signal a
	// process that has just exited, and the runtime's error must read as
	// "already gone". Not deterministic; it runs a few times.
	t.Run("StopWhileExiting", func(t *testing.T) {
		need(t)
		for i := range 3 {
			id := p.run(t, fmt.Sprintf("exiting%d", i), containerSpec{Cmd: []string{"sh", "-c", "exit 3"}})
			c.stop(t, id, 2)
			// containerd records the exit from its event stream, which
			// may trail a stop that found the task already gone (as the
			// kubelet does, poll the status); the exit code must stay
			// the process's own, not a kill's 137.
			var st criStatus
			if !harness.Eventually(5*time.Second, func() bool { st = c.inspect(t, id); return st.State == "CONTAINER_EXITED" }) || st.ExitCode != 3 {
				t.Errorf("after the stop: %s, exit code %d (reason %q), want CONTAINER_EXITED and 3", st.State, st.ExitCode, st.Reason)
			}
			c.removeContainer(t, id)
		}
	})
	// The pod stops, killing the container still running in it, and goes
	// with its containers; nothing of them is left.
	t.Run("RemovePod", func(t *testing.T) {
		need(t)
		running := p.sleeper(t, "running-at-stopp")
		if r := c.crictl("stopp", p.ID); r.Code != 0 {
			t.Fatalf("stopp: %s\ncontainerd's errors:\n%s", r, c.daemonErrors(""))
		}
		if st := c.inspect(t, running); st.State != "CONTAINER_EXITED" || st.ExitCode != 137 {
			t.Errorf("the container running when its pod stopped: %s, exit code %d (reason %q), want CONTAINER_EXITED and 137",
				st.State, st.ExitCode, st.Reason)
		}
		p.remove(t, false)
		for _, list := range [][]string{{"pods", "-q", "--id", p.ID}, {"ps", "-a", "-q", "-p", p.ID}} {
			if r := c.crictl(list...); r.Code != 0 || strings.TrimSpace(r.Stdout) != "" {
				t.Errorf("left after rmp: %s", r)
			}
		}
	})
}

// removeContainer removes an exited container and checks that its
// runtime state, bundle and cgroups went with it.
func (c *node) removeContainer(t *testing.T, id string) {
	t.Helper()
	if r := c.crictl("rm", id); r.Code != 0 {
		t.Errorf("rm: %s", r)
	}
	c.checkGone(t, id)
}
