package cgroups

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func p64(v int64) *int64    { return &v }
func pu64(v uint64) *uint64 { return &v }
func pu16(v uint16) *uint16 { return &v }
func pu32(v uint32) *uint32 { return &v }
func pb(v bool) *bool       { return &v }

// wantWrite is "file=value" (v2) or "controller:file=value" (v1).
func render(ws []Write) []string {
	var out []string
	for _, x := range ws {
		s := x.File + "=" + x.Value
		if x.Controller != "" {
			s = x.Controller + ":" + s
		}
		out = append(out, s)
	}
	return out
}

// docker0 is what docker update sends for --memory 128m --pids-limit 99:
// zeros for everything it was not asked to change.
var docker0 = specs.LinuxResources{
	Memory:  &specs.LinuxMemory{Limit: p64(128 << 20), Reservation: p64(0), Swap: p64(0), Kernel: p64(0), KernelTCP: p64(0)},
	CPU:     &specs.LinuxCPU{Shares: pu64(0), Quota: p64(0), Period: pu64(0), RealtimePeriod: pu64(0), RealtimeRuntime: p64(0)},
	Pids:    &specs.LinuxPids{Limit: p64(99)},
	BlockIO: &specs.LinuxBlockIO{Weight: pu16(0), LeafWeight: pu16(0)},
}

func TestV1Writes(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    specs.LinuxResources
		want []string
		err  string
	}{
		{"memory", specs.LinuxResources{Memory: &specs.LinuxMemory{
			Limit: p64(64 << 20), Swap: p64(128 << 20), Reservation: p64(32 << 20), Kernel: p64(1 << 20),
			KernelTCP: p64(1 << 19), Swappiness: pu64(10), DisableOOMKiller: pb(true)}},
			[]string{"memory:memory.limit_in_bytes=67108864", "memory:memory.memsw.limit_in_bytes=134217728",
				"memory:memory.soft_limit_in_bytes=33554432", "memory:memory.kmem.limit_in_bytes=1048576",
				"memory:memory.kmem.tcp.limit_in_bytes=524288", "memory:memory.swappiness=10", "memory:memory.oom_control=1"}, ""},
		// No memory limit lifts memory+swap too (runc's setMemoryAndSwap),
		// first: the kernel refuses a limit above memsw.
		{"unlimited memory", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: p64(-1)}},
			[]string{"memory:memory.memsw.limit_in_bytes=-1", "memory:memory.limit_in_bytes=-1"}, ""},
		{"unlimited swap goes first", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: p64(64 << 20), Swap: p64(-1)}},
			[]string{"memory:memory.memsw.limit_in_bytes=-1", "memory:memory.limit_in_bytes=67108864"}, ""},
		{"swappiness too high", specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: pu64(101)}}, nil,
			"linux.resources.memory.swappiness"},
		{"cpu", specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: pu64(512), Quota: p64(50000), Period: pu64(100000),
			Burst: pu64(1000), RealtimeRuntime: p64(950), RealtimePeriod: pu64(1000), Cpus: "0-1", Mems: "0", Idle: p64(1)}},
			[]string{"cpu:cpu.shares=512", "cpu:cpu.cfs_period_us=100000", "cpu:cpu.cfs_quota_us=50000",
				"cpu:cpu.cfs_burst_us=1000", "cpu:cpu.rt_period_us=1000", "cpu:cpu.rt_runtime_us=950",
				"cpu:cpu.idle=1", "cpuset:cpuset.cpus=0-1", "cpuset:cpuset.mems=0"}, ""},
		{"zeros leave files alone", docker0, []string{"memory:memory.limit_in_bytes=134217728", "pids:pids.max=99"}, ""},
		{"pids", specs.LinuxResources{Pids: &specs.LinuxPids{Limit: p64(64)}}, []string{"pids:pids.max=64"}, ""},
		{"pids unlimited", specs.LinuxResources{Pids: &specs.LinuxPids{Limit: p64(-1)}}, []string{"pids:pids.max=max"}, ""},
		{"pids 0 is a limit (runc: 1)", specs.LinuxResources{Pids: &specs.LinuxPids{Limit: p64(0)}}, []string{"pids:pids.max=1"}, ""},
		{"blkio", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: pu16(500), LeafWeight: pu16(300),
			WeightDevice:            []specs.LinuxWeightDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Weight: pu16(200)}},
			ThrottleReadBpsDevice:   []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 1048576}},
			ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 16}, Rate: 100}}}},
			[]string{"blkio:blkio.weight=500", "blkio:blkio.leaf_weight=300", "blkio:blkio.weight_device=8:0 200",
				"blkio:blkio.throttle.read_bps_device=8:0 1048576", "blkio:blkio.throttle.write_iops_device=8:16 100"}, ""},
		{"hugetlb", specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}}},
			[]string{"hugetlb:hugetlb.2MB.limit_in_bytes=4194304"}, ""},
		{"network", specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: pu32(0x100001),
			Priorities: []specs.LinuxInterfacePriority{{Name: "eth0", Priority: 5}}}},
			[]string{"net_cls:net_cls.classid=1048577", "net_prio:net_prio.ifpriomap=eth0 5"}, ""},
		{"rdma", specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"mlx5_0": {HcaHandles: pu32(3), HcaObjects: pu32(1000)}}},
			[]string{"rdma:rdma.max=mlx5_0 hca_handle=3 hca_object=1000"}, ""},
		{"unified refused", specs.LinuxResources{Unified: map[string]string{"memory.high": "1G"}}, nil, "linux.resources.unified"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws, err := V1Writes(&tc.r)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(render(ws), "\n"); got != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", got, strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestV2Writes(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    specs.LinuxResources
		want []string
		err  string
	}{
		// memory.swap.max (swap - limit) before memory.max, as runc writes them.
		{"memory", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: p64(64 << 20), Swap: p64(96 << 20), Reservation: p64(32 << 20)}},
			[]string{"memory.swap.max=33554432", "memory.max=67108864", "memory.low=33554432"}, ""},
		{"unlimited", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: p64(-1), Swap: p64(-1)}},
			[]string{"memory.swap.max=max", "memory.max=max"}, ""},
		{"unlimited memory resets swap", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: p64(-1)}},
			[]string{"memory.swap.max=max", "memory.max=max"}, ""},
		{"unlimited memory, swap zero", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: p64(-1), Swap: p64(0)}},
			[]string{"memory.swap.max=max", "memory.max=max"}, ""},
		{"unlimited swap alone", specs.LinuxResources{Memory: &specs.LinuxMemory{Swap: p64(-1)}},
			[]string{"memory.swap.max=max"}, ""},
		{"no swap", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: p64(64 << 20), Swap: p64(64 << 20)}},
			[]string{"memory.swap.max=0", "memory.max=67108864"}, ""},
		{"unlimited memory, swap as is", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: p64(-1), Swap: p64(32 << 20)}},
			[]string{"memory.swap.max=33554432", "memory.max=max"}, ""},
		{"reservation leaves swap alone", specs.LinuxResources{Memory: &specs.LinuxMemory{Reservation: p64(-1)}},
			[]string{"memory.low=max"}, ""},
		{"swap below limit", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: p64(64 << 20), Swap: p64(32 << 20)}}, nil,
			"linux.resources.memory.swap: 33554432 is below the memory limit"},
		{"swap without limit", specs.LinuxResources{Memory: &specs.LinuxMemory{Swap: p64(32 << 20)}}, nil,
			"linux.resources.memory.swap: on cgroup v2 a swap limit needs a memory limit too"},
		{"swap below -1", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: p64(64 << 20), Swap: p64(-2)}}, nil,
			"linux.resources.memory.swap: -2 is not a limit"},
		{"limit below -1", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: p64(-2)}}, nil,
			"linux.resources.memory.limit: -2 is not a limit"},
		{"swappiness", specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: pu64(10)}}, nil, "linux.resources.memory.swappiness"},
		{"disable oom killer", specs.LinuxResources{Memory: &specs.LinuxMemory{DisableOOMKiller: pb(true)}}, nil,
			"linux.resources.memory.disableOOMKiller"},
		{"cpu", specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: pu64(1024), Quota: p64(50000), Period: pu64(100000),
			Burst: pu64(1000), Cpus: "0", Mems: "0", Idle: p64(0)}},
			[]string{"cpu.weight=100", "cpu.max=50000 100000", "cpu.max.burst=1000", "cpu.idle=0", "cpuset.cpus=0", "cpuset.mems=0"}, ""},
		{"cpu quota unlimited", specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: p64(-1)}}, []string{"cpu.max=max"}, ""},
		{"zeros leave files alone", docker0, []string{"memory.max=134217728", "pids.max=99"}, ""},
		{"period alone", specs.LinuxResources{CPU: &specs.LinuxCPU{Period: pu64(50000)}}, []string{"cpu.max=max 50000"}, ""},
		{"realtime", specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: p64(950)}}, nil, "linux.resources.cpu.realtimeRuntime"},
		{"pids", specs.LinuxResources{Pids: &specs.LinuxPids{Limit: p64(10)}}, []string{"pids.max=10"}, ""},
		{"pids 0 is a limit (runc: 1)", specs.LinuxResources{Pids: &specs.LinuxPids{Limit: p64(0)}}, []string{"pids.max=1"}, ""},
		{"pids -1 is none", specs.LinuxResources{Pids: &specs.LinuxPids{Limit: p64(-1)}}, []string{"pids.max=max"}, ""},
		{"io", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: pu16(500),
			ThrottleReadBpsDevice:  []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 1048576}},
			ThrottleWriteBpsDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 2048}}}},
			[]string{"io.bfq.weight=500", "io.max=8:0 rbps=1048576", "io.max=8:0 wbps=2048"}, ""},
		{"leaf weight", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{LeafWeight: pu16(300)}}, nil, "linux.resources.blockIO.leafWeight"},
		{"hugetlb", specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "1GB", Limit: 1 << 30}}},
			[]string{"hugetlb.1GB.max=1073741824", "hugetlb.1GB.rsvd.max=1073741824"}, ""},
		{"network", specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: pu32(1)}}, nil, "linux.resources.network"},
		{"unified", specs.LinuxResources{Unified: map[string]string{"memory.high": "1073741824", "io.weight": "default 200"}},
			[]string{"io.weight=default 200", "memory.high=1073741824"}, ""},
		{"unified path", specs.LinuxResources{Unified: map[string]string{"../memory.max": "1"}}, nil, "linux.resources.unified"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws, err := V2Writes(&tc.r)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(render(ws), "\n"); got != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", got, strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestWeightConversions(t *testing.T) {
	for shares, want := range map[uint64]uint64{2: 1, 3: 2, 512: 59, 1024: 100, 2048: 174, 262143: 10000, 262144: 10000, 0: 0, 1: 1, 500000: 10000} {
		if got := CPUWeight(shares); got != want {
			t.Errorf("CPUWeight(%d) = %d, want %d", shares, got, want)
		}
	}
	for w, want := range map[uint16]uint64{10: 1, 1000: 10000, 500: 4950, 0: 0} {
		if got := IOWeight(w); got != want {
			t.Errorf("IOWeight(%d) = %d, want %d", w, got, want)
		}
	}
}

func TestDeviceRules(t *testing.T) {
	rules := DeviceRules([]specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
		[]specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}})
	ws, err := V1DeviceWrites("a *:* rwm", rules)
	if err != nil {
		t.Fatal(err)
	}
	got := render(ws)
	if got[0] != "devices:devices.deny=a *:* rwm" {
		t.Errorf("first rule %q, want the spec's deny-all", got[0])
	}
	for _, want := range []string{"devices:devices.allow=c 1:3 rwm", "devices:devices.allow=c 136:* rwm", "devices:devices.allow=c *:* m", "devices:devices.allow=c 10:229 rwm"} {
		found := false
		for _, g := range got {
			found = found || g == want
		}
		if !found {
			t.Errorf("missing default %q in %v", want, got)
		}
	}
	for _, bad := range []specs.LinuxDeviceCgroup{{Type: "x"}, {Type: "c", Access: "rwx"}} {
		if _, err := V1DeviceWrites("", []specs.LinuxDeviceCgroup{bad}); err == nil || !strings.Contains(err.Error(), "linux.resources.devices[0]") {
			t.Errorf("%+v: err = %v", bad, err)
		}
	}
}

// TestSetV2FakeTree drives Manager.Set against a fake cgroup v2 directory:
// this machine is hybrid, so the v2 writer is checked here on files, and
// for real in the VM leg (tests/cgroupv2).
func TestSetV2FakeTree(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"memory.max", "memory.swap.max", "cpu.weight", "cpu.max", "pids.max", "io.weight"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := &Manager{Mode: ModeV2, Dirs: map[string]string{"": dir}}
	r := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: p64(4 << 20), Swap: p64(4 << 20)},
		CPU:     &specs.LinuxCPU{Shares: pu64(2048), Quota: p64(20000)},
		Pids:    &specs.LinuxPids{Limit: p64(5)},
		BlockIO: &specs.LinuxBlockIO{Weight: pu16(1000)},
	}
	if err := m.Set(r); err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string]string{
		"memory.max": "4194304", "memory.swap.max": "0", "cpu.weight": "174", "cpu.max": "20000",
		"pids.max": "5", "io.weight": "default 10000",
	} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		if string(b) != want {
			t.Errorf("%s = %q, want %q", f, b, want)
		}
	}
	// A file the kernel does not have is an error naming the field.
	err := m.Set(&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1}}})
	if err == nil || !strings.Contains(err.Error(), "linux.resources.hugepageLimits[0]") {
		t.Errorf("missing file: err = %v", err)
	}
}

// fakeTree makes a directory with the given files (name: content) for a
// Manager to write to; a file left out is one the kernel does not have.
func fakeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for f, v := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// readTree reads back every file of a fake tree.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		got[e.Name()] = string(b)
	}
	return got
}

func sameTree(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestSetV2MemorySwap: memory.limit and memory.swap on a v2 tree with and
// without memory.swap.max (a kernel without swap accounting). Without it,
// what needs no swap limit (max, and 0 for swap == limit) is skipped as
// runc skips it; a positive swap limit is refused, naming the field and
// the reason, before memory.max is touched.
func TestSetV2MemorySwap(t *testing.T) {
	const lim = 64 << 20
	withSwap := map[string]string{"memory.max": "max", "memory.swap.max": "1234", "memory.low": "0"}
	noSwap := map[string]string{"memory.max": "max", "memory.low": "0"}
	for _, tc := range []struct {
		name  string
		files map[string]string
		mem   specs.LinuxMemory
		want  map[string]string // nil: want the error, and the files unchanged
		err   string
	}{
		{"no swap file, limit alone", noSwap, specs.LinuxMemory{Limit: p64(lim)},
			map[string]string{"memory.max": "67108864", "memory.low": "0"}, ""},
		{"no swap file, swap == limit", noSwap, specs.LinuxMemory{Limit: p64(lim), Swap: p64(lim)},
			map[string]string{"memory.max": "67108864", "memory.low": "0"}, ""},
		{"no swap file, swap -1", noSwap, specs.LinuxMemory{Limit: p64(lim), Swap: p64(-1)},
			map[string]string{"memory.max": "67108864", "memory.low": "0"}, ""},
		{"no swap file, limit -1", noSwap, specs.LinuxMemory{Limit: p64(-1)},
			map[string]string{"memory.max": "max", "memory.low": "0"}, ""},
		{"no swap file, swap > limit", noSwap, specs.LinuxMemory{Limit: p64(lim), Swap: p64(2 * lim)}, nil,
			"linux.resources.memory.swap: memory.swap.max does not exist in DIR: this host has no swap accounting " +
				"(or the memory controller is not enabled), so the swap limit of 67108864 bytes cannot be applied"},
		{"no swap file, limit -1, swap > 0", noSwap, specs.LinuxMemory{Limit: p64(-1), Swap: p64(lim)}, nil,
			"linux.resources.memory.swap: memory.swap.max does not exist"},
		{"limit alone", withSwap, specs.LinuxMemory{Limit: p64(lim)},
			map[string]string{"memory.max": "67108864", "memory.swap.max": "1234", "memory.low": "0"}, ""},
		{"swap == limit", withSwap, specs.LinuxMemory{Limit: p64(lim), Swap: p64(lim)},
			map[string]string{"memory.max": "67108864", "memory.swap.max": "0", "memory.low": "0"}, ""},
		{"swap -1", withSwap, specs.LinuxMemory{Limit: p64(lim), Swap: p64(-1)},
			map[string]string{"memory.max": "67108864", "memory.swap.max": "max", "memory.low": "0"}, ""},
		{"swap > limit", withSwap, specs.LinuxMemory{Limit: p64(lim), Swap: p64(3 * lim)},
			map[string]string{"memory.max": "67108864", "memory.swap.max": "134217728", "memory.low": "0"}, ""},
		{"limit -1 resets swap", withSwap, specs.LinuxMemory{Limit: p64(-1)},
			map[string]string{"memory.max": "max", "memory.swap.max": "max", "memory.low": "0"}, ""},
		{"reservation alone", withSwap, specs.LinuxMemory{Reservation: p64(lim)},
			map[string]string{"memory.max": "max", "memory.swap.max": "1234", "memory.low": "67108864"}, ""},
		{"swap < limit", withSwap, specs.LinuxMemory{Limit: p64(lim), Swap: p64(lim / 2)}, nil,
			"linux.resources.memory.swap: 33554432 is below the memory limit 67108864"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := fakeTree(t, tc.files)
			m := &Manager{Mode: ModeV2, Dirs: map[string]string{"": dir}}
			mem := tc.mem
			err := m.Set(&specs.LinuxResources{Memory: &mem})
			got := readTree(t, dir)
			if tc.want == nil {
				if want := strings.ReplaceAll(tc.err, "DIR", dir); err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("err = %v, want %q", err, want)
				}
				if !sameTree(got, tc.files) {
					t.Errorf("a refused Set changed the tree: %v, was %v", got, tc.files)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !sameTree(got, tc.want) {
				t.Errorf("files %v, want %v", got, tc.want)
			}
		})
	}
}

// TestSetV2MemoryTransitions: a container's limits raised and lowered by
// successive updates. The v2 kernel checks neither limit against the other,
// so every order is valid there; memory.swap.max is written first (so that
// a lowered memory.max reclaims into the new swap limit), and each step
// leaves memory.swap.max = (memory+swap) - limit.
func TestSetV2MemoryTransitions(t *testing.T) {
	dir := fakeTree(t, map[string]string{"memory.max": "max", "memory.swap.max": "max"})
	m := &Manager{Mode: ModeV2, Dirs: map[string]string{"": dir}}
	for _, step := range []struct {
		name        string
		limit, swap *int64
		max, swapMx string
	}{
		{"create without swap", p64(64 << 20), p64(64 << 20), "67108864", "0"},
		{"raise both", p64(128 << 20), p64(256 << 20), "134217728", "134217728"},
		{"lower both", p64(32 << 20), p64(48 << 20), "33554432", "16777216"},
		{"raise memory, lower swap", p64(256 << 20), p64(256 << 20), "268435456", "0"},
		{"lower memory, raise swap", p64(16 << 20), p64(-1), "16777216", "max"},
		{"limit again, swap kept", p64(32 << 20), nil, "33554432", "max"},
		{"swap limited", p64(32 << 20), p64(40 << 20), "33554432", "8388608"},
		{"no memory limit resets swap", p64(-1), nil, "max", "max"},
	} {
		r := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: step.limit, Swap: step.swap}}
		ws, err := V2Writes(r)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if files := render(ws); len(files) == 2 && !strings.HasPrefix(files[0], "memory.swap.max=") {
			t.Errorf("%s: writes %v: memory.swap.max must go first", step.name, files)
		}
		if err := m.Set(r); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		want := map[string]string{"memory.max": step.max, "memory.swap.max": step.swapMx}
		if got := readTree(t, dir); !sameTree(got, want) {
			t.Errorf("%s: files %v, want %v", step.name, got, want)
		}
	}
}

// TestSetV1UnlimitedMemory: limit -1 lifts memory+swap first where the
// kernel has memsw, and is written alone where it has not.
func TestSetV1UnlimitedMemory(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  map[string]string
	}{
		{"memsw", map[string]string{"memory.limit_in_bytes": "67108864", "memory.memsw.limit_in_bytes": "67108864"},
			map[string]string{"memory.limit_in_bytes": "-1", "memory.memsw.limit_in_bytes": "-1"}},
		{"no memsw", map[string]string{"memory.limit_in_bytes": "67108864"},
			map[string]string{"memory.limit_in_bytes": "-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := fakeTree(t, tc.files)
			m := &Manager{Mode: ModeV1, Dirs: map[string]string{"memory": dir}}
			if err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: p64(-1)}}); err != nil {
				t.Fatal(err)
			}
			if got := readTree(t, dir); !sameTree(got, tc.want) {
				t.Errorf("files %v, want %v", got, tc.want)
			}
		})
	}
}

// TestDestroyLeavesBusyParent: a parent the container made is removed only
// when empty; one that holds a sibling by now is left without an error.
func TestDestroyLeavesBusyParent(t *testing.T) {
	root := t.TempDir()
	parent := filepath.Join(root, "parent")
	own, sibling := filepath.Join(parent, "own"), filepath.Join(parent, "sibling")
	for _, d := range []string{own, sibling} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	m := &Manager{Dirs: map[string]string{"pids": own}, Created: []string{parent, own}}
	if err := m.Destroy(); err != nil {
		t.Fatalf("Destroy with a sibling under the parent: %v", err)
	}
	if _, err := os.Stat(own); !os.IsNotExist(err) {
		t.Errorf("own cgroup still there: %v", err)
	}
	if _, err := os.Stat(sibling); err != nil {
		t.Errorf("sibling: %v", err)
	}
	if err := os.Remove(sibling); err != nil {
		t.Fatal(err)
	}
	m = &Manager{Dirs: map[string]string{"pids": filepath.Join(parent, "gone")}, Created: []string{parent}}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(parent); !os.IsNotExist(err) {
		t.Errorf("empty parent not removed: %v", err)
	}
}
