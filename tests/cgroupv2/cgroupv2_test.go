package cgroupv2

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/carapace-oci/carapace/tests/internal/leaks"
)

const mib = 1 << 20

// ---- (a) the host -------------------------------------------------------------

// TestHostIsPureV2 checks the premise of everything else: a single cgroup2
// hierarchy at /sys/fs/cgroup with the controllers the tests use.
func TestHostIsPureV2(t *testing.T) {
	if notV2 != "" {
		t.Skip(skipReason)
	}
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == cgroupMount {
			t.Logf("mount: %s", line)
			if !strings.Contains(line, "nsdelegate") {
				t.Logf("note: cgroup2 is mounted without nsdelegate")
			}
		}
	}
	ctrls := strings.Fields(readCgroupFile(t, cgroupMount, "cgroup.controllers"))
	t.Logf("root cgroup.controllers: %v; subtree_control: %q", ctrls, readCgroupFile(t, cgroupMount, "cgroup.subtree_control"))
	for _, want := range []string{"cpu", "memory", "pids"} {
		if !slices.Contains(ctrls, want) {
			t.Errorf("the %s controller is not available in the root cgroup", want)
		}
	}
	own, err := procCgroup("self")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the tests (and so the runtime) run in cgroup %s", own)
}

// ---- (b) a container and its cgroup ------------------------------------------------

// TestRunInCgroupNamespace: with a cgroup namespace the container sees its
// own cgroup as the root, and /sys/fs/cgroup is a cgroup2 mount of it.
func TestRunInCgroupNamespace(t *testing.T) {
	c := newCtr(t, "sh", "-c", "cat /proc/self/cgroup; echo ---; grep ' /sys/fs/cgroup ' /proc/self/mountinfo")
	r := c.run()
	if !r.ok() {
		t.Fatalf("run failed: %s", r)
	}
	cg, mnt, _ := strings.Cut(r.Stdout, "---\n")
	if cg != "0::/\n" {
		t.Errorf("/proc/self/cgroup in the container is %q, want \"0::/\\n\" (a cgroup namespace rooted at the container's cgroup)\n%s", cg, r)
	}
	if f := strings.Fields(mnt); len(f) < 5 || f[3] != "/" || !strings.Contains(mnt, " - cgroup2 ") {
		t.Errorf("/sys/fs/cgroup in the container is not the cgroup2 root of its namespace: %q", mnt)
	}
}

// TestExecInCgroupNamespace: exec joins a container that has its own
// cgroup namespace, born in the container's cgroup (clone3 into it), and
// sees the namespace's root. cgroup2 is mounted with nsdelegate here, as
// systemd mounts it: the kernel refuses a clone into the cgroup from a
// thread already in the container's cgroup namespace (ENOENT).
func TestExecInCgroupNamespace(t *testing.T) {
	c := newCtr(t, "sleep", "600")
	c.create()
	if r := c.runtime("start", c.ID); !r.ok() {
		t.Fatalf("start failed: %s", r)
	}
	c.waitStatus("running")
	r := c.runtime("exec", c.ID, "cat", "/proc/self/cgroup")
	if !r.ok() {
		t.Fatalf("exec failed: %s", r)
	}
	if r.Stdout != "0::/\n" {
		t.Errorf("/proc/self/cgroup of the exec'd process is %q, want \"0::/\\n\"", r.Stdout)
	}
}

// TestRunWithoutCgroupNamespace: without one, /proc/self/cgroup shows the
// container's cgroup: the container id under the runtime's cgroup.
func TestRunWithoutCgroupNamespace(t *testing.T) {
	c := newCtr(t, "cat", "/proc/self/cgroup")
	c.Spec.Linux.Namespaces = slices.DeleteFunc(c.Spec.Linux.Namespaces, func(n specs.LinuxNamespace) bool {
		return n.Type == specs.CgroupNamespace
	})
	r := c.run()
	if !r.ok() {
		t.Fatalf("run failed: %s", r)
	}
	want := "0::" + filepath.Join(ownCgroup, c.ID) + "\n"
	if r.Stdout != want {
		t.Errorf("/proc/self/cgroup in the container is %q, want %q", r.Stdout, want)
	}
}

// TestCgroupLifecycle: the cgroup exists from create (with init in it)
// through start, and is gone after delete.
func TestCgroupLifecycle(t *testing.T) {
	c := newCtr(t, "sleep", "600")
	dir := c.createdCgroup()
	s, _ := c.state()
	t.Logf("created: pid %d in %s", s.Pid, dir)
	if s.Status != "created" {
		t.Errorf("status after create is %q, want created", s.Status)
	}
	if !strings.Contains(filepath.Base(dir), c.ID) {
		t.Errorf("the container's cgroup %s is not named after its id %s", dir, c.ID)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("the container's cgroup dir after create: %v", err)
	}
	if procs := strings.Fields(readCgroupFile(t, dir, "cgroup.procs")); !slices.Contains(procs, strconv.Itoa(s.Pid)) {
		t.Errorf("init %d is not in %s/cgroup.procs: %v", s.Pid, dir, procs)
	}
	t.Logf("cgroup.controllers: %q", readCgroupFile(t, dir, "cgroup.controllers"))

	if r := c.runtime("start", c.ID); !r.ok() {
		t.Fatalf("start failed: %s", r)
	}
	s = c.waitStatus("running")
	if got := c.cgroupDir(s.Pid); got != dir {
		t.Errorf("running: init is in %s, want %s", got, dir)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("the container's cgroup dir while it runs: %v", err)
	}

	if r := c.runtime("kill", c.ID, "KILL"); !r.ok() {
		t.Fatalf("kill failed: %s", r)
	}
	c.waitStatus("stopped")
	if r := c.runtime("delete", c.ID); !r.ok() {
		t.Fatalf("delete failed: %s", r)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the container's cgroup %s is still there after delete (stat: %v)", dir, err)
	}
	if _, r := c.state(); r.ok() {
		t.Errorf("state still works after delete: %s", r)
	}
}

// ---- (c) resources: written and enforced --------------------------------------

// checkFile creates a container with resources and checks a file of its cgroup.
func checkFile(t *testing.T, res *specs.LinuxResources, file, want string) {
	t.Helper()
	c := newCtr(t, "sleep", "600")
	res.Devices = c.Spec.Linux.Resources.Devices
	c.Spec.Linux.Resources = res
	dir := c.createdCgroup()
	if got := readCgroupFile(t, dir, file); got != want {
		t.Errorf("%s of the container's cgroup %s is %q, want %q", file, dir, got, want)
	}
}

func TestMemoryMax(t *testing.T) {
	checkFile(t, &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](32 * mib)}},
		"memory.max", "33554432")
}

// TestMemorySwapMax: the spec's swap is v1's memory+swap; v2's
// memory.swap.max is the swap alone (swap - limit).
func TestMemorySwapMax(t *testing.T) {
	checkFile(t, &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](32 * mib), Swap: ptr[int64](64 * mib)}},
		"memory.swap.max", "33554432")
}

// TestMemorySwapUpdate: update raises and lowers memory and memory+swap on
// a real kernel (which checks neither limit against the other, nor against
// usage), a refused update changes neither file, and `update --memory -1`
// lifts both limits, as runc's does.
func TestMemorySwapUpdate(t *testing.T) {
	c := newCtr(t, "sleep", "600")
	c.Spec.Linux.Resources.Memory = &specs.LinuxMemory{Limit: ptr[int64](32 * mib), Swap: ptr[int64](32 * mib)}
	dir := c.createdCgroup()
	if _, err := os.Stat(filepath.Join(dir, "memory.swap.max")); err != nil {
		t.Skipf("this kernel has no memory.swap.max (no swap accounting): %v", err)
	}
	check := func(step, max, swap string) {
		t.Helper()
		if got, gotSwap := readCgroupFile(t, dir, "memory.max"), readCgroupFile(t, dir, "memory.swap.max"); got != max || gotSwap != swap {
			t.Errorf("%s: memory.max %s, memory.swap.max %s; want %s, %s", step, got, gotSwap, max, swap)
		}
	}
	check("create with swap == limit", "33554432", "0")
	for _, step := range []struct {
		args      []string
		max, swap string
		err       string
	}{
		{args: []string{"--memory", "64m", "--memory-swap", "128m"}, max: "67108864", swap: "67108864"},
		{args: []string{"--memory", "16m", "--memory-swap", "24m"}, max: "16777216", swap: "8388608"},
		{args: []string{"--memory", "48m", "--memory-swap", "48m"}, max: "50331648", swap: "0"},
		{args: []string{"--memory", "24m", "--memory-swap", "-1"}, max: "25165824", swap: "max"},
		{args: []string{"--memory", "32m", "--memory-swap", "40m"}, max: "33554432", swap: "8388608"},
		{args: []string{"--memory", "64m", "--memory-swap", "32m"}, max: "33554432", swap: "8388608",
			err: "linux.resources.memory.swap"},
		{args: []string{"--memory", "-1"}, max: "max", swap: "max"},
	} {
		name := "update " + strings.Join(step.args, " ")
		r := c.runtime(append(append([]string{"update"}, step.args...), c.ID)...)
		switch {
		case step.err == "" && !r.ok():
			t.Errorf("%s: %s", name, r)
		case step.err != "" && (r.ok() || !strings.Contains(r.Stderr, step.err)):
			t.Errorf("%s: want a refusal naming %s: %s", name, step.err, r)
		}
		check(name, step.max, step.swap)
	}
}

// TestMemoryNoSwapAccounting: on a kernel without memory.swap.max, a
// memory limit with swap == limit (no swap) runs, as with runc, and a swap
// limit is refused with the reason. The VM's kernel always has swap
// accounting (since 6.1 swapaccount=0 is ignored), so there this skips;
// the fake trees of libcarapace/cgroups cover it everywhere.
func TestMemoryNoSwapAccounting(t *testing.T) {
	c := newCtr(t, "sleep", "600")
	c.Spec.Linux.Resources.Memory = &specs.LinuxMemory{Limit: ptr[int64](32 * mib), Swap: ptr[int64](32 * mib)}
	dir := c.createdCgroup()
	if _, err := os.Stat(filepath.Join(dir, "memory.swap.max")); err == nil {
		t.Skip("this kernel has swap accounting (memory.swap.max)")
	}
	if got := readCgroupFile(t, dir, "memory.max"); got != "33554432" {
		t.Errorf("memory.max = %s, want 33554432", got)
	}
	r := c.runtime("update", "--memory", "32m", "--memory-swap", "64m", c.ID)
	if r.ok() || !strings.Contains(r.Stderr, "linux.resources.memory.swap") || !strings.Contains(r.Stderr, "swap accounting") {
		t.Errorf("a swap limit without swap accounting: want a refusal naming the field and the reason: %s", r)
	}
	if r := c.runtime("update", "--memory", "-1", c.ID); !r.ok() {
		t.Errorf("update --memory -1 without swap accounting: %s", r)
	}
}

// TestMemoryOOMKill: a process that needs 64 MiB (dd's buffer) in a 32 MiB
// container (no swap) is killed by the OOM killer: run exits 128+9.
func TestMemoryOOMKill(t *testing.T) {
	c := newCtr(t, "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1")
	c.Spec.Linux.Resources.Memory = &specs.LinuxMemory{Limit: ptr[int64](32 * mib), Swap: ptr[int64](32 * mib)}
	r := c.run()
	if r.Err != nil || r.Code != 137 {
		t.Errorf("dd bs=64M under a 32 MiB limit: want exit 137 (OOM-killed): %s", r)
	}
}

// TestTinyMemoryLimitRuns: the runtime's own work inside the container's
// cgroup (before the exec) fits in 4 MiB.
func TestTinyMemoryLimitRuns(t *testing.T) {
	c := newCtr(t, "true")
	c.Spec.Linux.Resources.Memory = &specs.LinuxMemory{Limit: ptr[int64](4 * mib)}
	if r := c.run(); !r.ok() {
		t.Errorf("`true` under a 4 MiB memory limit: want exit 0: %s", r)
	}
}

func TestPidsMax(t *testing.T) {
	checkFile(t, &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr[int64](10)}}, "pids.max", "10")
}

// TestPidsForkFailure: with pids.max 10, a shell cannot start 30
// background sleeps.
func TestPidsForkFailure(t *testing.T) {
	c := newCtr(t, "sh", "-c", `i=0; while [ $i -lt 30 ]; do i=$((i+1)); { echo forked; exec sleep 3; } & done; wait`)
	c.Spec.Linux.Resources.Pids = &specs.LinuxPids{Limit: ptr[int64](10)}
	r := c.run()
	if r.Err != nil {
		t.Fatalf("run: %s", r)
	}
	forked := strings.Count(r.Stdout, "forked")
	t.Logf("%d of 30 background processes started; exit %d; stderr %q", forked, r.Code, strings.TrimSpace(r.Stderr))
	if forked >= 10 {
		t.Errorf("%d background processes started under pids.max 10 (the shell is one more)", forked)
	}
	if !strings.Contains(r.Stderr, "fork") {
		t.Errorf("no fork failure reported on stderr (%q)", r.Stderr)
	}
}

func TestCPUMax(t *testing.T) {
	checkFile(t, &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr[int64](50000), Period: ptr[uint64](100000)}},
		"cpu.max", "50000 100000")
}

// TestCPUWeight: cpu.shares 1024 (v1's default) is cpu.weight 100 (v2's
// and systemd's default), as runc 1.3+ and crun convert it
// (opencontainers/cgroups' quadratic mapping); 512 is 59.
func TestCPUWeight(t *testing.T) {
	checkFile(t, &specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr[uint64](1024)}}, "cpu.weight", "100")
	checkFile(t, &specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr[uint64](512)}}, "cpu.weight", "59")
}

// ---- (d) the systemd driver ------------------------------------------------------

// TestSystemdCgroupRefused: --systemd-cgroup is refused with an error
// naming systemd, before any container or cgroup exists. (A
// slice:prefix:name cgroupsPath without it is a plain relative path, as
// runc has it: tests/e2e TestCgroupColonPathCgroupfs.)
func TestSystemdCgroupRefused(t *testing.T) {
	requireSetup(t)
	for _, tc := range []struct {
		name   string
		global []string
		verb   string
		path   func(id string) string
	}{
		{name: "run", global: []string{"--systemd-cgroup"}, verb: "run"},
		{name: "create", global: []string{"--systemd-cgroup"}, verb: "create"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCtr(t, "echo", "container ran")
			if tc.path != nil {
				c.Spec.Linux.CgroupsPath = tc.path(c.ID)
			}
			c.writeSpec()
			args := append(append([]string(nil), tc.global...), tc.verb, "--bundle", c.Bundle, c.ID)
			r := c.runtime(args...)
			if r.Err != nil || r.Code == 0 {
				t.Fatalf("want a refusal: %s", r)
			}
			if !strings.Contains(r.Stderr, "systemd") {
				t.Errorf("the error does not say what is refused (systemd): %s", r)
			}
			t.Logf("refused: %s", strings.TrimSpace(r.Stderr))
			if strings.Contains(r.Stdout, "container ran") {
				t.Errorf("the container process ran: %s", r)
			}
			if _, s := c.state(); s.ok() {
				t.Errorf("the container exists after the refusal: %s", s)
			}
			if l := leaks.CgroupDirsNamed(cgroupMount, c.ID); len(l) > 0 {
				t.Errorf("a cgroup was made: %v", l)
			}
		})
	}
}

// ---- not cgroups: the VM's older kernel ------------------------------------------

// TestDefaultSpecMaskedDirs runs a container with all of the default
// linux.maskedPaths, directories included (they get an empty read-only
// tmpfs). The VM boots Debian 12's kernel (6.1), older than the CI hosts',
// and this is what fails there first: the clone of the detached tmpfs.
func TestDefaultSpecMaskedDirs(t *testing.T) {
	c := newCtr(t, "sh", "-c", "for d in /proc/acpi /sys/firmware; do [ -d $d ] && ls -A $d; done | wc -l")
	r := c.run()
	if !r.ok() {
		t.Fatalf("run with the default masked paths (directories %v): %s", maskedDirs, r)
	}
	if got := strings.TrimSpace(r.Stdout); got != "0" {
		t.Errorf("the masked directories are not empty: ls | wc -l gives %q", got)
	}
}

// TestMemoryUpdateMergesStored: update merges with the limits in force, as
// runc's does: `update --memory` alone recomputes memory.swap.max from the
// stored memory+swap, and `update --memory-swap` alone uses the stored
// memory limit.
func TestMemoryUpdateMergesStored(t *testing.T) {
	c := newCtr(t, "sleep", "600")
	c.Spec.Linux.Resources.Memory = &specs.LinuxMemory{Limit: ptr[int64](32 * mib), Swap: ptr[int64](64 * mib)}
	dir := c.createdCgroup()
	if _, err := os.Stat(filepath.Join(dir, "memory.swap.max")); err != nil {
		t.Skipf("this kernel has no memory.swap.max (no swap accounting): %v", err)
	}
	for _, step := range []struct {
		args      []string
		max, swap string
	}{
		{[]string{"--memory", "48m"}, "50331648", "16777216"},      // 64m - 48m
		{[]string{"--memory-swap", "96m"}, "50331648", "50331648"}, // 96m - 48m
		{[]string{"--memory", "32m"}, "33554432", "67108864"},      // 96m - 32m
	} {
		name := "update " + strings.Join(step.args, " ")
		if r := c.runtime(append(append([]string{"update"}, step.args...), c.ID)...); !r.ok() {
			t.Errorf("%s: %s", name, r)
		}
		if got, gotSwap := readCgroupFile(t, dir, "memory.max"), readCgroupFile(t, dir, "memory.swap.max"); got != step.max || gotSwap != step.swap {
			t.Errorf("%s: memory.max %s, memory.swap.max %s; want %s, %s", name, got, gotSwap, step.max, step.swap)
		}
	}
}
