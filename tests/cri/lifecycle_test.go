package cri

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carapace-oci/carapace/tests/internal/harness"
)

// TestUpdate changes a running container's CPU quota and memory limit
// (crictl update, the runtime's update) and reads them in its cgroup.
func TestUpdate(t *testing.T) {
	c := requireNode(t)
	p := c.runPod(t, podSpec{})
	id := p.run(t, "update", containerSpec{Cmd: []string{"sleep", "3600"},
		Resources: map[string]any{"cpu_period": 100000, "cpu_quota": 20000, "memory_limit_in_bytes": 128 << 20}})
	// v2's cpu.max is "<quota> <period>".
	quota := func() string { return strings.Fields(c.cgroupFile(t, "cpu", id, "cpu.cfs_quota_us", "cpu.max"))[0] }
	memory := func() string { return c.cgroupFile(t, "memory", id, "memory.limit_in_bytes", "memory.max") }
	if q, m := quota(), memory(); q != "20000" || m != "134217728" {
		t.Fatalf("before the update: cpu quota %s, memory limit %s; want 20000 and 134217728", q, m)
	}
	r := c.crictl("update", "--cpu-period", "100000", "--cpu-quota", "50000", "--memory", "67108864", id)
	if r.Code != 0 {
		t.Fatalf("crictl update: %s\ncontainerd's errors about it:\n%s", r, c.daemonErrors(id))
	}
	if q, m := quota(), memory(); q != "50000" || m != "67108864" {
		t.Errorf("after the update: cpu quota %s, memory limit %s; want 50000 and 67108864", q, m)
	}
	if st := c.inspect(t, id); st.State != "CONTAINER_RUNNING" {
		t.Errorf("after the update the container is %s", st.State)
	}
}

// TestStopGrace: a pid 1 with a TERM handler gets SIGTERM from the CRI's
// stop and exits by itself, well before the grace period's SIGKILL: its
// exit code is its own, and its handler's output is in its log. (The one
// without a handler is TestCRI/StopIgnoresTERM.)
func TestStopGrace(t *testing.T) {
	c := requireNode(t)
	p := c.runPod(t, podSpec{})
	id := p.run(t, "graceful", containerSpec{Cmd: []string{"sh", "-c",
		`trap 'echo got-term; exit 42' TERM; echo ready; sleep 3600 & wait`}})
	if !harness.Eventually(10*time.Second, func() bool { return strings.Contains(c.crictl("logs", id).Stdout, "ready") }) {
		t.Fatalf("the container did not get to its trap: %s", c.crictl("logs", id))
	}
	c.stop(t, id, 60)
	if st := c.inspect(t, id); st.State != "CONTAINER_EXITED" || st.ExitCode != 42 {
		t.Errorf("after the stop: %s, exit code %d (reason %q); want CONTAINER_EXITED and the trap's 42, not a SIGKILL", st.State, st.ExitCode, st.Reason)
	}
	if logs := c.crictl("logs", id); !strings.Contains(logs.Stdout, "got-term") {
		t.Errorf("the TERM handler's output is not in the log: %s", logs)
	}
}

// TestOOMKilled: a container's init that outgrows its memory limit is
// killed by the kernel, and the CRI reports it as OOMKilled, exit 137.
func TestOOMKilled(t *testing.T) {
	c := requireNode(t)
	p := c.runPod(t, podSpec{})
	// tail keeps every byte of a file without newlines: it grows until
	// the limit and the OOM killer kills it; sh exits with its status.
	// It starts a second after the container does, and sh keeps the
	// cgroup alive two seconds after: containerd 1.6's shim (Debian 12's)
	// watches the cgroup's OOM events only once start has returned (2.x
	// from create on), and on cgroup v1 drops an event it reads after
	// the cgroup is gone; either way an OOM kill is then reported as
	// "Error", whatever the runtime.
	id := p.run(t, "oom", containerSpec{Cmd: []string{"sh", "-c", "sleep 1; tail /dev/zero; s=$?; sleep 2; exit $s"},
		Resources: map[string]any{"memory_limit_in_bytes": 32 << 20}})
	st := c.waitExited(t, id, 30*time.Second)
	// containerd sets the reason from the shim's OOM event, which may
	// come after the exit event: until it does, an exit of 137 reads
	// "Error".
	if st.ExitCode == 137 && st.Reason != "OOMKilled" {
		harness.Eventually(10*time.Second, func() bool { st = c.inspect(t, id); return st.Reason == "OOMKilled" })
	}
	if st.Reason != "OOMKilled" || st.ExitCode != 137 {
		t.Errorf("the container that outgrew its limit: exit code %d, reason %q; want 137 and OOMKilled\ncontainerd's errors about it:\n%s",
			st.ExitCode, st.Reason, c.daemonErrors(id))
	}
}

// TestRestart: the kubelet restarts a container of a running pod by
// creating a new attempt of the same name once the first has exited.
// The new one runs, in the same pod, with the same address.
func TestRestart(t *testing.T) {
	c := requireNode(t)
	p := c.runPod(t, podSpec{})
	ip := p.inspect(t).Status.Network.IP
	first := p.run(t, "app", containerSpec{Cmd: []string{"sh", "-c", "exit 1"}})
	if st := c.waitExited(t, first, 10*time.Second); st.ExitCode != 1 {
		t.Fatalf("the first attempt exited %d, want 1", st.ExitCode)
	}
	second := p.run(t, "app", containerSpec{Cmd: []string{"sleep", "3600"}, Attempt: 1})
	if st := c.inspect(t, second); st.State != "CONTAINER_RUNNING" || st.Attempt != 1 {
		t.Fatalf("the second attempt: %s, attempt %d", st.State, st.Attempt)
	}
	if got := p.inspect(t).Status.Network.IP; got != ip {
		t.Errorf("the pod's address changed with the restart: %s, was %s", got, ip)
	}
	if out := c.exec(t, second, "ip", "-4", "-o", "addr", "show", "dev", "eth0"); !strings.Contains(out, " "+ip+"/24 ") {
		t.Errorf("the restarted container's eth0 does not have the pod's address %s:\n%s", ip, out)
	}
	// The kubelet removes the exited attempt.
	c.removeContainer(t, first)
	if st := c.inspect(t, second); st.State != "CONTAINER_RUNNING" {
		t.Errorf("after the removal of the first attempt the second is %s", st.State)
	}
}

// TestRemovePodForce removes a running pod with running containers in
// one go (crictl rmp -f): nothing of it is left, its network namespace
// and address included.
func TestRemovePodForce(t *testing.T) {
	c := requireNode(t)
	p := c.runPod(t, podSpec{SharePID: true})
	ip := p.inspect(t).Status.Network.IP
	p.sleeper(t, "one")
	p.run(t, "two", containerSpec{Cmd: []string{"sh", "-c", "trap '' TERM; sleep 3600"}})
	// netns_mounts_under_state_dir: the node's leak check sees it.
	if !strings.HasPrefix(p.netns, c.state+"/") {
		t.Fatalf("inspectp names the CNI pod's network namespace %q: want a mount under %s", p.netns, c.state)
	}
	p.remove(t, true)
	if r := c.crictl("ps", "-a", "-q", "-p", p.ID); r.Code != 0 || strings.TrimSpace(r.Stdout) != "" {
		t.Errorf("containers left after rmp -f: %s", r)
	}
	if _, err := os.Stat(filepath.Join(c.ipamDir, c.netName, ip)); err == nil {
		t.Errorf("the pod's address %s is still allocated", ip)
	}
}
