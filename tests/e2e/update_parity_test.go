package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/carapace-oci/carapace/tests/internal/leaks"
	"github.com/carapace-oci/carapace/tests/internal/testenv"
)

// TestUpdateCPUPeriodUnderParentQuota: under a parent cgroup limited to
// half a CPU, a container at 0.4 CPU (40ms/100ms) is updated to the same
// share with a shorter period (20ms/50ms). Period first would make the old
// quota 40ms per 50ms, above the parent's share, and the kernel refuses it
// (EINVAL); runc then writes the quota first and the period again, and so
// must we.
func TestUpdateCPUPeriodUnderParentQuota(t *testing.T) {
	t.Parallel()
	requireCgroupV1(t)
	c := newContainer(t)
	parent := "e2e-cpupod-" + testenv.RandHex(4)
	registerID(parent)
	own := procCgroupDirs(t, os.Getpid()).dir(t, "cpu")
	pdir := filepath.Join(own, parent)
	if err := os.Mkdir(pdir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.runtime("delete", "--force", c.ID)
		for _, o := range ownCgroupDirs(t) {
			leaks.RemoveCgroupTree(filepath.Join(o, parent))
		}
	})
	for f, v := range map[string]string{"cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "50000"} {
		if err := os.WriteFile(filepath.Join(pdir, f), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c.Spec.Linux.CgroupsPath = parent + "/" + c.ID
	c.Spec.Process.Args = []string{"sleep", "1000"}
	c.resources().CPU = &specs.LinuxCPU{Quota: ptr(int64(40000)), Period: ptr(uint64(100000))}
	_, d := c.createForCgroups()
	dir := d.dir(t, "cpu")
	if r := c.runtime("update", "--cpu-period", "50000", "--cpu-quota", "20000", c.ID); !r.ok() {
		t.Fatalf("update --cpu-period 50000 --cpu-quota 20000 under a parent with 50000/100000: %s", r)
	}
	if p, q := readCg(t, dir, "cpu.cfs_period_us"), readCg(t, dir, "cpu.cfs_quota_us"); p != "50000" || q != "20000" {
		t.Errorf("after update: cpu.cfs_period_us %s, cpu.cfs_quota_us %s; want 50000, 20000", p, q)
	}
}

// TestUpdateRealtimePeriodBelowRuntime: lowering the RT period below the
// current RT runtime is refused by the kernel until the new runtime is in;
// runc writes the runtime first and the period again, and so must we.
func TestUpdateRealtimePeriodBelowRuntime(t *testing.T) {
	t.Parallel()
	requireCgroupV1(t)
	c := newContainer(t)
	c.Spec.Process.Args = []string{"sleep", "1000"}
	c.resources().CPU = &specs.LinuxCPU{RealtimeRuntime: ptr(int64(5000)), RealtimePeriod: ptr(uint64(10000))}
	_, d := c.createForCgroups()
	dir := d.dir(t, "cpu")
	if !fileExists(filepath.Join(dir, "cpu.rt_period_us")) {
		t.Skip("no cpu.rt_period_us: kernel without RT group scheduling")
	}
	if r := c.runtime("update", "--cpu-rt-period", "4000", "--cpu-rt-runtime", "2000", c.ID); !r.ok() {
		t.Fatalf("update --cpu-rt-period 4000 --cpu-rt-runtime 2000 from 10000/5000: %s", r)
	}
	if p, q := readCg(t, dir, "cpu.rt_period_us"), readCg(t, dir, "cpu.rt_runtime_us"); p != "4000" || q != "2000" {
		t.Errorf("after update: cpu.rt_period_us %s, cpu.rt_runtime_us %s; want 4000, 2000", p, q)
	}
}

// TestUpdatePidsLimitZero: pids.limit 0 is a limit (runtime-spec 1.3), and
// runc 1.4+ writes it as 1; -1 is no limit.
func TestUpdatePidsLimitZero(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.Spec.Process.Args = []string{"sleep", "1000"}
	c.resources().Pids = &specs.LinuxPids{Limit: ptr(int64(100))}
	_, d := c.createForCgroups()
	dir := d.dir(t, "pids")
	for _, step := range []struct{ arg, want string }{{"0", "1"}, {"-1", "max"}} {
		if r := c.runtime("update", "--pids-limit", step.arg, c.ID); !r.ok() {
			t.Fatalf("update --pids-limit %s: %s", step.arg, r)
		}
		if got := readCg(t, dir, "pids.max"); got != step.want {
			t.Errorf("after update --pids-limit %s: pids.max %s, want %s", step.arg, got, step.want)
		}
	}
}

// TestUpdateDevicesNoWindow: `update --resources -` with device rules (as
// docker and containerd send on every update) must not take away, even for
// a moment, an access both the old and the new rules allow. The container
// opens /dev/null and a node of /dev/loop-control (c 10:237, allowed by
// its rules; opening it does nothing) for writing in a loop while the rules
// are rewritten 50 times, alternately the same and with one rule more; no
// open may fail. Rewriting them as deny-all then allows, the loop hits the
// window. Then an update that leaves c 10:237 read-only must really apply.
func TestUpdateDevicesNoWindow(t *testing.T) {
	t.Parallel()
	requireCarapace(t) // runc's update ignores device rules
	requireCgroupV1(t) // v2: an eBPF program, replaced atomically
	c := newContainer(t)
	caps := append(append([]string(nil), defaultCaps...), "CAP_MKNOD")
	pc := c.Spec.Process.Capabilities
	pc.Bounding, pc.Effective, pc.Permitted = caps, caps, caps
	lc := `{"allow":true,"type":"c","major":10,"minor":237,"access":"rw"}`
	c.resources().Devices = []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Major: ptr(int64(10)), Minor: ptr(int64(237)), Access: "rw"},
	}
	c.Spec.Process.Args = []string{"sh", "-c", `mknod /dev/lc c 10 237 || exit 1
echo started
while :; do
	echo x > /dev/null || echo FAIL-null
	true > /dev/lc || echo FAIL-lc
done`}
	c.mustCreate()
	c.mustStart()
	waitFor(t, cmdTimeout, "the loop to start", func() bool { return strings.Contains(c.Output(), "started") })

	same := `{"devices":[{"allow":false,"access":"rwm"},` + lc + `]}`
	more := `{"devices":[{"allow":false,"access":"rwm"},` + lc + `,{"allow":true,"type":"c","major":10,"minor":238,"access":"r"}]}`
	for i := 0; i < 50; i++ {
		js := same
		if i%2 == 1 {
			js = more
		}
		if r := c.runtimeStdin(js, "update", "--resources", "-", c.ID); !r.ok() {
			t.Fatalf("update %d: %s\ncontainer output:\n%s", i, r, c.Output())
		}
	}
	if st := c.mustState(); st.Status != "running" {
		t.Fatalf("after the updates the container is %s; output:\n%s", st.Status, c.Output())
	}
	if out := c.Output(); strings.Contains(out, "FAIL") {
		t.Errorf("an access allowed before and after an update failed while it ran:\n%s", out)
	}

	ro := `{"devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":10,"minor":237,"access":"r"}]}`
	if r := c.runtimeStdin(ro, "update", "--resources", "-", c.ID); !r.ok() {
		t.Fatalf("update to c 10:237 r: %s", r)
	}
	if r := c.execIn(nil, "sh", "-c", ": > /dev/lc"); r.ok() {
		t.Errorf("after an update to c 10:237 r, opening it for writing still works: %s", r)
	}
	if r := c.execIn(nil, "sh", "-c", "exec 3</dev/lc && echo x > /dev/null"); !r.ok() {
		t.Errorf("after an update to c 10:237 r: opening it for reading, or writing /dev/null, fails: %s", r)
	}
}

// TestDevicesNoRulesAllowOnlyDefaults: a spec without
// linux.resources.devices gets the default devices only, as in runc (whose
// rules start from deny-all) and as on cgroup v2, not v1's allow-all of a
// new cgroup: a node made in the container for c 10:237 cannot be opened.
func TestDevicesNoRulesAllowOnlyDefaults(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	caps := append(append([]string(nil), defaultCaps...), "CAP_MKNOD")
	pc := c.Spec.Process.Capabilities
	pc.Bounding, pc.Effective, pc.Permitted = caps, caps, caps
	c.resources().Devices = nil
	out := c.Sh(`mknod /dev/lc c 10 237 && echo "mknod ok"
echo x > /dev/null && echo "null ok"
(exec 3</dev/lc) 2>&1 | sed 's/^/lc: /'; echo done`)
	for _, want := range []string{"mknod ok", "null ok", "done"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "lc: ") || !strings.Contains(out, "Operation not permitted") {
		t.Errorf("opening a c 10:237 node without device rules: want \"Operation not permitted\":\n%s", out)
	}
}
