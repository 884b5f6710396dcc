package cgroups

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Write is one value for one cgroup file: the whole of linux.resources
// becomes a list of these, computed before anything is written, so a field
// the host cannot take is refused before any other is applied.
type Write struct {
	Controller string   // v1: the controller whose hierarchy has the file; v2: ""
	File       string   // e.g. memory.limit_in_bytes
	Alt        []string // files to try, in order, if File does not exist (bfq variants)
	Value      string
	AltValue   string // the value for the Alt files when their scale differs
	Optional   bool   // skipped where the kernel lacks the file
	Missing    string // what a missing file means, for the error (default: no controller or feature)
	Field      string // the spec field, for errors: linux.resources.memory.limit
	// Retry: the kernel checks this value against the current one of the
	// next write (its partner), so EINVAL may only mean "the other one
	// first": the next write is then made first, and this one again.
	Retry bool
}

func w(ctrl, file, value, field string) Write {
	return Write{Controller: ctrl, File: file, Value: value, Field: "linux.resources." + field}
}

// set reports whether a numeric resource field asks for something. Zero
// means "leave as is" for these fields: the clients send zeros for what the
// user did not set (docker's blockIO.weight, an update's memory.reservation
// and cpu.quota), and runc writes nothing for them.
func set[T int64 | uint64 | uint16](p *T) bool { return p != nil && *p != 0 }

func i64(v int64) string  { return strconv.FormatInt(v, 10) }
func u64(v uint64) string { return strconv.FormatUint(v, 10) }

// V1Writes maps linux.resources to cgroup v1 files (Documentation/admin-guide/cgroup-v1).
func V1Writes(r *specs.LinuxResources) ([]Write, error) {
	if r == nil {
		return nil, nil
	}
	if len(r.Unified) > 0 {
		return nil, fmt.Errorf("linux.resources.unified: needs a cgroup v2 host; this host has cgroup v1 controllers")
	}
	var ws []Write
	if m := r.Memory; m != nil {
		// memsw (memory+swap) may never be below the limit. With both set,
		// the order that works depends on the current values: the limit
		// goes first, and is retried after memsw when it would be above
		// the current memsw (raising both); an unlimited memsw is valid
		// whatever the limit, so it simply goes first.
		var limit, memsw []Write
		if set(m.Limit) {
			x := w("memory", "memory.limit_in_bytes", i64(*m.Limit), "memory.limit")
			x.Retry = set(m.Swap) && *m.Swap != -1 // memsw -1 goes first: no retry
			limit = append(limit, x)
		}
		switch {
		case set(m.Swap):
			memsw = append(memsw, w("memory", "memory.memsw.limit_in_bytes", i64(*m.Swap), "memory.swap"))
		case m.Limit != nil && *m.Limit == -1:
			// No memory limit lifts memory+swap too, as runc does: the
			// kernel refuses an unlimited memory limit above a set memsw.
			// Skipped where there is no swap accounting (no memsw file).
			x := w("memory", "memory.memsw.limit_in_bytes", "-1", "memory.limit")
			x.Optional = true
			memsw = append(memsw, x)
		}
		if len(memsw) > 0 && memsw[0].Value == "-1" {
			ws = append(append(ws, memsw...), limit...)
		} else {
			ws = append(append(ws, limit...), memsw...)
		}
		if set(m.Reservation) {
			ws = append(ws, w("memory", "memory.soft_limit_in_bytes", i64(*m.Reservation), "memory.reservation"))
		}
		if set(m.Kernel) {
			ws = append(ws, w("memory", "memory.kmem.limit_in_bytes", i64(*m.Kernel), "memory.kernel"))
		}
		if set(m.KernelTCP) {
			ws = append(ws, w("memory", "memory.kmem.tcp.limit_in_bytes", i64(*m.KernelTCP), "memory.kernelTCP"))
		}
		if m.Swappiness != nil {
			if *m.Swappiness > 100 {
				return nil, fmt.Errorf("linux.resources.memory.swappiness: %d is above 100", *m.Swappiness)
			}
			ws = append(ws, w("memory", "memory.swappiness", u64(*m.Swappiness), "memory.swappiness"))
		}
		if m.DisableOOMKiller != nil && *m.DisableOOMKiller {
			ws = append(ws, w("memory", "memory.oom_control", "1", "memory.disableOOMKiller"))
		}
	}
	if c := r.CPU; c != nil {
		if set(c.Shares) {
			ws = append(ws, w("cpu", "cpu.shares", u64(*c.Shares), "cpu.shares"))
		}
		// The period first: a quota is checked against the current period.
		// Under a parent with a quota, a shorter period can make the
		// current quota too large a share (EINVAL): the quota then goes
		// first and the period is retried, as runc does.
		if set(c.Period) {
			x := w("cpu", "cpu.cfs_period_us", u64(*c.Period), "cpu.period")
			x.Retry = set(c.Quota)
			ws = append(ws, x)
		}
		if set(c.Quota) {
			ws = append(ws, w("cpu", "cpu.cfs_quota_us", i64(*c.Quota), "cpu.quota"))
		}
		if c.Burst != nil {
			ws = append(ws, w("cpu", "cpu.cfs_burst_us", u64(*c.Burst), "cpu.burst"))
		}
		// Likewise the RT period: one shorter than the current runtime is
		// EINVAL until the new runtime is in.
		if set(c.RealtimePeriod) {
			x := w("cpu", "cpu.rt_period_us", u64(*c.RealtimePeriod), "cpu.realtimePeriod")
			x.Retry = set(c.RealtimeRuntime)
			ws = append(ws, x)
		}
		if set(c.RealtimeRuntime) {
			ws = append(ws, w("cpu", "cpu.rt_runtime_us", i64(*c.RealtimeRuntime), "cpu.realtimeRuntime"))
		}
		if c.Idle != nil {
			ws = append(ws, w("cpu", "cpu.idle", i64(*c.Idle), "cpu.idle"))
		}
		if c.Cpus != "" {
			ws = append(ws, w("cpuset", "cpuset.cpus", c.Cpus, "cpu.cpus"))
		}
		if c.Mems != "" {
			ws = append(ws, w("cpuset", "cpuset.mems", c.Mems, "cpu.mems"))
		}
	}
	if p := r.Pids; p != nil && p.Limit != nil {
		ws = append(ws, w("pids", "pids.max", pidsMax(*p.Limit), "pids.limit"))
	}
	if b := r.BlockIO; b != nil {
		if set(b.Weight) {
			x := w("blkio", "blkio.weight", strconv.Itoa(int(*b.Weight)), "blockIO.weight")
			x.Alt = []string{"blkio.bfq.weight"}
			ws = append(ws, x)
		}
		if set(b.LeafWeight) {
			ws = append(ws, w("blkio", "blkio.leaf_weight", strconv.Itoa(int(*b.LeafWeight)), "blockIO.leafWeight"))
		}
		for i, d := range b.WeightDevice {
			f := fmt.Sprintf("blockIO.weightDevice[%d]", i)
			if set(d.Weight) {
				x := w("blkio", "blkio.weight_device", fmt.Sprintf("%d:%d %d", d.Major, d.Minor, *d.Weight), f+".weight")
				x.Alt = []string{"blkio.bfq.weight_device"}
				ws = append(ws, x)
			}
			if set(d.LeafWeight) {
				ws = append(ws, w("blkio", "blkio.leaf_weight_device", fmt.Sprintf("%d:%d %d", d.Major, d.Minor, *d.LeafWeight), f+".leafWeight"))
			}
		}
		for _, t := range []struct {
			field, file string
			devs        []specs.LinuxThrottleDevice
		}{
			{"throttleReadBpsDevice", "blkio.throttle.read_bps_device", b.ThrottleReadBpsDevice},
			{"throttleWriteBpsDevice", "blkio.throttle.write_bps_device", b.ThrottleWriteBpsDevice},
			{"throttleReadIOPSDevice", "blkio.throttle.read_iops_device", b.ThrottleReadIOPSDevice},
			{"throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", b.ThrottleWriteIOPSDevice},
		} {
			for i, d := range t.devs {
				ws = append(ws, w("blkio", t.file, fmt.Sprintf("%d:%d %d", d.Major, d.Minor, d.Rate), fmt.Sprintf("blockIO.%s[%d]", t.field, i)))
			}
		}
	}
	for i, h := range r.HugepageLimits {
		ws = append(ws, w("hugetlb", "hugetlb."+h.Pagesize+".limit_in_bytes", u64(h.Limit), fmt.Sprintf("hugepageLimits[%d]", i)))
	}
	if n := r.Network; n != nil {
		if n.ClassID != nil {
			ws = append(ws, w("net_cls", "net_cls.classid", strconv.FormatUint(uint64(*n.ClassID), 10), "network.classID"))
		}
		for i, p := range n.Priorities {
			ws = append(ws, w("net_prio", "net_prio.ifpriomap", fmt.Sprintf("%s %d", p.Name, p.Priority), fmt.Sprintf("network.priorities[%d]", i)))
		}
	}
	ws = append(ws, rdmaWrites(r.Rdma, "rdma")...)
	return ws, nil
}

// pidsMax: -1 (any negative) is no limit. 0 is a limit, as runtime-spec
// 1.3 says and runc 1.4+ does; like runc it is written as 1 (systemd's
// TasksMax cannot be 0, and the two drivers must agree): the container's
// existing processes stay, none can fork. Docker never sends 0 (its 0 and
// negatives become -1, or no pids object at all).
func pidsMax(limit int64) string {
	switch {
	case limit < 0:
		return "max"
	case limit == 0:
		return "1"
	}
	return i64(limit)
}

func rdmaWrites(rdma map[string]specs.LinuxRdma, ctrl string) []Write {
	names := make([]string, 0, len(rdma))
	for n := range rdma {
		names = append(names, n)
	}
	sort.Strings(names)
	var ws []Write
	for _, n := range names {
		l := rdma[n]
		var parts []string
		if l.HcaHandles != nil {
			parts = append(parts, fmt.Sprintf("hca_handle=%d", *l.HcaHandles))
		}
		if l.HcaObjects != nil {
			parts = append(parts, fmt.Sprintf("hca_object=%d", *l.HcaObjects))
		}
		if len(parts) > 0 {
			ctl := "rdma"
			if ctrl == "" {
				ctl = ""
			}
			ws = append(ws, w(ctl, "rdma.max", n+" "+strings.Join(parts, " "), "rdma."+n))
		}
	}
	return ws
}

// CPUWeight converts cgroup v1 cpu.shares (2..262144) to v2 cpu.weight
// (1..10000) as runc 1.3+ and crun do (opencontainers/cgroups): the
// exponent of 10 is a quadratic in log2(shares) through the three points
// (2, 1), (1024, 100) and (262144, 10000), so that v1's default share
// lands on v2's (and systemd's) default weight. Computed with the same
// floating-point steps, so that a pod gets the same weight whichever
// runtime its RuntimeClass names.
func CPUWeight(shares uint64) uint64 {
	switch {
	case shares == 0:
		return 0
	case shares <= 2:
		return 1
	case shares >= 262144:
		return 10000
	}
	l := math.Log2(float64(shares))
	exp := (l*l+125*l)/612.0 - 7.0/34.0
	return uint64(math.Ceil(math.Pow(10, exp)))
}

// IOWeight converts blkio.weight (10..1000) to io.weight (1..10000).
func IOWeight(weight uint16) uint64 {
	if weight == 0 {
		return 0
	}
	return 1 + (uint64(weight)-10)*9999/990
}

// V2Writes maps linux.resources to cgroup v2 files (Documentation/admin-guide/cgroup-v2.rst).
func V2Writes(r *specs.LinuxResources) ([]Write, error) {
	if r == nil {
		return nil, nil
	}
	var ws []Write
	if m := r.Memory; m != nil {
		mws, err := v2MemoryWrites(m)
		if err != nil {
			return nil, err
		}
		ws = append(ws, mws...)
		if set(m.Reservation) {
			ws = append(ws, w("", "memory.low", maxOr(*m.Reservation), "memory.reservation"))
		}
		if m.Swappiness != nil && *m.Swappiness != 0 {
			return nil, fmt.Errorf("linux.resources.memory.swappiness: cgroup v2 has no per-cgroup swappiness")
		}
		if m.DisableOOMKiller != nil && *m.DisableOOMKiller {
			return nil, fmt.Errorf("linux.resources.memory.disableOOMKiller: cgroup v2 cannot disable the OOM killer")
		}
		// kernel and kernelTCP: v2 accounts kernel memory in memory.max;
		// the spec marks them deprecated. Nothing to write.
	}
	if c := r.CPU; c != nil {
		if set(c.Shares) {
			ws = append(ws, w("", "cpu.weight", u64(CPUWeight(*c.Shares)), "cpu.shares"))
		}
		if set(c.Quota) || set(c.Period) {
			// Without a period the kernel keeps the current one.
			v := "max"
			if set(c.Quota) && *c.Quota > 0 {
				v = i64(*c.Quota)
			}
			if set(c.Period) {
				v += " " + u64(*c.Period)
			}
			ws = append(ws, w("", "cpu.max", v, "cpu.quota"))
		}
		if c.Burst != nil {
			ws = append(ws, w("", "cpu.max.burst", u64(*c.Burst), "cpu.burst"))
		}
		if c.Idle != nil {
			ws = append(ws, w("", "cpu.idle", i64(*c.Idle), "cpu.idle"))
		}
		if (c.RealtimeRuntime != nil && *c.RealtimeRuntime != 0) || (c.RealtimePeriod != nil && *c.RealtimePeriod != 0) {
			return nil, fmt.Errorf("linux.resources.cpu.realtimeRuntime: cgroup v2 has no real-time CPU bandwidth control")
		}
		if c.Cpus != "" {
			ws = append(ws, w("", "cpuset.cpus", c.Cpus, "cpu.cpus"))
		}
		if c.Mems != "" {
			ws = append(ws, w("", "cpuset.mems", c.Mems, "cpu.mems"))
		}
	}
	if p := r.Pids; p != nil && p.Limit != nil {
		ws = append(ws, w("", "pids.max", pidsMax(*p.Limit), "pids.limit"))
	}
	if b := r.BlockIO; b != nil {
		if set(b.Weight) {
			x := w("", "io.bfq.weight", strconv.Itoa(int(*b.Weight)), "blockIO.weight")
			// io.weight takes the v2 range; only used when bfq is absent.
			x.Alt, x.AltValue = []string{"io.weight"}, "default "+u64(IOWeight(*b.Weight))
			ws = append(ws, x)
		}
		if b.LeafWeight != nil && *b.LeafWeight != 0 {
			return nil, fmt.Errorf("linux.resources.blockIO.leafWeight: cgroup v2 has no leaf weight")
		}
		for i, d := range b.WeightDevice {
			if set(d.Weight) {
				x := w("", "io.bfq.weight", fmt.Sprintf("%d:%d %d", d.Major, d.Minor, *d.Weight), fmt.Sprintf("blockIO.weightDevice[%d].weight", i))
				x.Alt = []string{"io.weight"}
				x.AltValue = fmt.Sprintf("%d:%d %d", d.Major, d.Minor, IOWeight(*d.Weight))
				ws = append(ws, x)
			}
		}
		for _, t := range []struct {
			field, key string
			devs       []specs.LinuxThrottleDevice
		}{
			{"throttleReadBpsDevice", "rbps", b.ThrottleReadBpsDevice},
			{"throttleWriteBpsDevice", "wbps", b.ThrottleWriteBpsDevice},
			{"throttleReadIOPSDevice", "riops", b.ThrottleReadIOPSDevice},
			{"throttleWriteIOPSDevice", "wiops", b.ThrottleWriteIOPSDevice},
		} {
			for i, d := range t.devs {
				ws = append(ws, w("", "io.max", fmt.Sprintf("%d:%d %s=%d", d.Major, d.Minor, t.key, d.Rate), fmt.Sprintf("blockIO.%s[%d]", t.field, i)))
			}
		}
	}
	for i, h := range r.HugepageLimits {
		f := fmt.Sprintf("hugepageLimits[%d]", i)
		ws = append(ws, w("", "hugetlb."+h.Pagesize+".max", u64(h.Limit), f))
		// Reservations count too (Linux 5.7+): a limit must also hold for
		// pages reserved by mmap and not yet touched.
		rsvd := w("", "hugetlb."+h.Pagesize+".rsvd.max", u64(h.Limit), f)
		rsvd.Optional = true
		ws = append(ws, rsvd)
	}
	if n := r.Network; n != nil && (n.ClassID != nil || len(n.Priorities) > 0) {
		return nil, fmt.Errorf("linux.resources.network: cgroup v2 has no net_cls/net_prio controllers (use eBPF or tc)")
	}
	ws = append(ws, rdmaWrites(r.Rdma, "")...)
	keys := make([]string, 0, len(r.Unified))
	for k := range r.Unified {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.Contains(k, "/") || strings.HasPrefix(k, ".") || !strings.Contains(k, ".") {
			return nil, fmt.Errorf("linux.resources.unified.%s: not a cgroup interface file name", k)
		}
		ws = append(ws, w("", k, r.Unified[k], "unified."+k))
	}
	return ws, nil
}

// v2MemoryWrites maps memory.limit and memory.swap to memory.swap.max and
// memory.max, in that order, with the values runc 1.5 writes.
//
// The spec's swap is v1's memory+swap; v2's memory.swap.max is the swap
// alone, so it is swap − limit. In both fields -1 means "no limit" and 0
// (or absent) "leave as is". Then:
//
//   - limit -1 and no swap: memory.swap.max is reset to max as well. On v1
//     memory+swap may never be below memory, so lifting the memory limit
//     lifts memory+swap with it; `update --memory -1` means "unlimited"
//     there, and keeps that meaning here (runc does the same).
//   - swap -1: max, whatever the limit.
//   - limit -1 and a positive swap: with no memory limit there is nothing
//     to subtract, so the value is taken as the swap alone (as runc does).
//   - swap == limit: 0, no swap at all.
//
// Hosts without swap accounting (a kernel built without it, or booted with
// swapaccount=0 before Linux 6.1, which ignores that option) have no
// memory.swap.max. There, max and 0 are skipped: max asks for nothing, and
// 0 (swap == limit) is what container managers send by default for "no
// swap"; refusing it would fail every container with a memory limit on such
// hosts, where the kernel cannot limit swap per cgroup anyway. A positive
// swap limit cannot be honoured there, and is refused.
//
// memory.swap.max goes first. The v2 kernel keeps the two limits apart
// (neither write is checked against the other, nor against usage), so no
// order is ever invalid, but a lowered memory.max makes the kernel reclaim
// at once, and reclaim can only swap within the swap limit already in
// place: with the new swap limit written first, lowering memory while
// raising swap swaps out instead of OOM-killing. It also refuses a swap
// limit the host cannot take before memory.max has changed, so a failed
// update leaves both as they were.
func v2MemoryWrites(m *specs.LinuxMemory) ([]Write, error) {
	var limit, swap int64
	if m.Limit != nil {
		limit = *m.Limit
	}
	if m.Swap != nil {
		swap = *m.Swap
	}
	if limit < -1 {
		return nil, fmt.Errorf("linux.resources.memory.limit: %d is not a limit (-1 means none)", limit)
	}
	if swap < -1 {
		return nil, fmt.Errorf("linux.resources.memory.swap: %d is not a limit (-1 means none)", swap)
	}
	var ws []Write
	swapMax := func(v string, optional bool) {
		x := w("", "memory.swap.max", v, "memory.swap")
		x.Optional = optional
		x.Missing = fmt.Sprintf("this host has no swap accounting (or the memory controller is not enabled), "+
			"so the swap limit of %s bytes cannot be applied (a swap of -1, or equal to the limit, needs none)", v)
		ws = append(ws, x)
	}
	switch {
	case swap == -1:
		swapMax("max", true)
	case swap == 0 && limit == -1:
		swapMax("max", true)
		ws[0].Field = "linux.resources.memory.limit" // asked for by the limit
	case swap == 0:
		// Nothing asked of swap.
	case limit == -1:
		swapMax(i64(swap), false)
	case limit == 0:
		return nil, fmt.Errorf("linux.resources.memory.swap: on cgroup v2 a swap limit needs a memory limit too")
	case swap < limit:
		return nil, fmt.Errorf("linux.resources.memory.swap: %d is below the memory limit %d (swap is memory+swap)", swap, limit)
	default:
		swapMax(i64(swap-limit), swap == limit)
	}
	if limit != 0 {
		ws = append(ws, w("", "memory.max", maxOr(limit), "memory.limit"))
	}
	return ws, nil
}

func maxOr(v int64) string {
	if v < 0 {
		return "max"
	}
	return i64(v)
}
