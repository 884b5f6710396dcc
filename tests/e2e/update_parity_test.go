package e2e

import (
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/carapace-oci/carapace/tests/internal/leaks"
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
	parent := "e2e-cpupod-" + randHex(4)
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
