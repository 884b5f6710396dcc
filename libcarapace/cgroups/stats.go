package cgroups

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The shapes of runc's `events` JSON, which containerd's shim decodes.

type Throttling struct {
	Periods          uint64 `json:"periods,omitempty"`
	ThrottledPeriods uint64 `json:"throttledPeriods,omitempty"`
	ThrottledTime    uint64 `json:"throttledTime,omitempty"`
}

type CPUUsage struct {
	Total        uint64   `json:"total,omitempty"` // ns
	Percpu       []uint64 `json:"percpu,omitempty"`
	PercpuKernel []uint64 `json:"percpu_kernel,omitempty"`
	PercpuUser   []uint64 `json:"percpu_user,omitempty"`
	Kernel       uint64   `json:"kernel"`
	User         uint64   `json:"user"`
}

type CPU struct {
	Usage      CPUUsage   `json:"usage,omitzero"`
	Throttling Throttling `json:"throttling,omitzero"`
	PSI        *PSIStats  `json:"psi,omitempty"`
}

type MemoryEntry struct {
	Limit   uint64 `json:"limit"`
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

type Memory struct {
	Cache     uint64            `json:"cache,omitempty"`
	Usage     MemoryEntry       `json:"usage,omitzero"`
	Swap      MemoryEntry       `json:"swap,omitzero"`
	Kernel    MemoryEntry       `json:"kernel,omitzero"`
	KernelTCP MemoryEntry       `json:"kernelTCP,omitzero"`
	Raw       map[string]uint64 `json:"raw,omitempty"`
	PSI       *PSIStats         `json:"psi,omitempty"`
}

type Pids struct {
	Current uint64 `json:"current,omitempty"`
	Limit   uint64 `json:"limit,omitempty"`
}

type BlkioEntry struct {
	Major uint64 `json:"major,omitempty"`
	Minor uint64 `json:"minor,omitempty"`
	Op    string `json:"op,omitempty"`
	Value uint64 `json:"value,omitempty"`
}

type Blkio struct {
	IoServiceBytesRecursive []BlkioEntry `json:"ioServiceBytesRecursive,omitempty"`
	IoServicedRecursive     []BlkioEntry `json:"ioServicedRecursive,omitempty"`
	PSI                     *PSIStats    `json:"psi,omitempty"`
}

type Hugetlb struct {
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

// Stats is the data of a "stats" event: runc's keys in runc's order.
type Stats struct {
	CPU      CPU                `json:"cpu"`
	CPUSet   CPUSet             `json:"cpuset"`
	Memory   Memory             `json:"memory"`
	Pids     Pids               `json:"pids"`
	Blkio    Blkio              `json:"blkio"`
	Hugetlb  map[string]Hugetlb `json:"hugetlb"`
	IntelRdt IntelRdt           `json:"intel_rdt"`
	// NetworkInterfaces stays nil (null), as runc's for an OCI bundle:
	// runc only counts the veth pairs of its own network setup.
	NetworkInterfaces []*NetworkInterface `json:"network_interfaces"`
}

// userHZ is the unit of cpuacct.stat.
const userHZ = 100

func num(dir, file string) uint64 {
	v, err := readFile(dir, file)
	if err != nil {
		return 0
	}
	if v == "max" {
		return ^uint64(0)
	}
	n, _ := strconv.ParseUint(strings.Fields(v + " 0")[0], 10, 64)
	return n
}

// keyed reads a flat-keyed file ("key value" lines).
func keyed(dir, file string) map[string]uint64 {
	f, err := os.Open(filepath.Join(dir, file))
	if err != nil {
		return nil
	}
	defer f.Close()
	m := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err == nil {
			m[k] = n
		}
	}
	return m
}

// Stats reads the container's resource usage.
func (m *Manager) Stats() (*Stats, error) {
	s := &Stats{Hugetlb: map[string]Hugetlb{}}
	if m.Mode == ModeV2 {
		m.statsV2(s)
	} else {
		m.statsV1(s)
	}
	return s, nil
}

func (m *Manager) statsV1(s *Stats) {
	if d, ok := m.Dir("cpuacct"); ok {
		s.CPU.Usage.Total = num(d, "cpuacct.usage")
		if v, err := readFile(d, "cpuacct.usage_percpu"); err == nil {
			for _, f := range strings.Fields(v) {
				n, _ := strconv.ParseUint(f, 10, 64)
				s.CPU.Usage.Percpu = append(s.CPU.Usage.Percpu, n)
			}
		}
		s.CPU.Usage.PercpuKernel, s.CPU.Usage.PercpuUser = percpuModes(d)
		st := keyed(d, "cpuacct.stat")
		s.CPU.Usage.User = st["user"] * 1e9 / userHZ
		s.CPU.Usage.Kernel = st["system"] * 1e9 / userHZ
	}
	if d, ok := m.Dir("cpu"); ok {
		st := keyed(d, "cpu.stat")
		s.CPU.Throttling = Throttling{st["nr_periods"], st["nr_throttled"], st["throttled_time"]}
	}
	if d, ok := m.Dir("memory"); ok {
		entry := func(prefix string) MemoryEntry {
			return MemoryEntry{
				Limit: num(d, prefix+"limit_in_bytes"), Usage: num(d, prefix+"usage_in_bytes"),
				Max: num(d, prefix+"max_usage_in_bytes"), Failcnt: num(d, prefix+"failcnt"),
			}
		}
		s.Memory.Usage = entry("memory.")
		s.Memory.Swap = entry("memory.memsw.")
		s.Memory.Kernel = entry("memory.kmem.")
		s.Memory.KernelTCP = entry("memory.kmem.tcp.")
		s.Memory.Raw = keyed(d, "memory.stat")
		s.Memory.Cache = s.Memory.Raw["cache"]
	}
	if d, ok := m.Dir("cpuset"); ok {
		s.CPUSet = cpusetV1(d)
	}
	if d, ok := m.Dir("pids"); ok {
		s.Pids = pids(d)
	}
	if d, ok := m.Dir("blkio"); ok {
		s.Blkio.IoServiceBytesRecursive = blkioV1(d, "blkio.throttle.io_service_bytes_recursive")
		s.Blkio.IoServicedRecursive = blkioV1(d, "blkio.throttle.io_serviced_recursive")
	}
	if d, ok := m.Dir("hugetlb"); ok {
		for _, size := range hugepageSizes(d, ".usage_in_bytes") {
			p := "hugetlb." + size + "."
			s.Hugetlb[size] = Hugetlb{Usage: num(d, p+"usage_in_bytes"), Max: num(d, p+"max_usage_in_bytes"), Failcnt: num(d, p+"failcnt")}
		}
	}
}

func blkioV1(dir, file string) []BlkioEntry {
	v, err := readFile(dir, file)
	if err != nil {
		return nil
	}
	var out []BlkioEntry
	for _, line := range strings.Split(v, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		var e BlkioEntry
		majMin := strings.SplitN(f[0], ":", 2)
		if len(majMin) != 2 {
			continue
		}
		e.Major, _ = strconv.ParseUint(majMin[0], 10, 64)
		e.Minor, _ = strconv.ParseUint(majMin[1], 10, 64)
		e.Op = f[1]
		e.Value, _ = strconv.ParseUint(f[2], 10, 64)
		out = append(out, e)
	}
	return out
}

func hugepageSizes(dir, suffix string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var sizes []string
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, "hugetlb.") && strings.HasSuffix(n, suffix) && !strings.Contains(n, ".rsvd.") {
			sizes = append(sizes, strings.TrimSuffix(strings.TrimPrefix(n, "hugetlb."), suffix))
		}
	}
	return sizes
}

func (m *Manager) statsV2(s *Stats) {
	d := m.V2Dir()
	cs := keyed(d, "cpu.stat")
	s.CPU.Usage = CPUUsage{Total: cs["usage_usec"] * 1000, User: cs["user_usec"] * 1000, Kernel: cs["system_usec"] * 1000}
	s.CPU.Throttling = Throttling{cs["nr_periods"], cs["nr_throttled"], cs["throttled_usec"] * 1000}
	ev := keyed(d, "memory.events")
	s.Memory.Usage = MemoryEntry{Limit: num(d, "memory.max"), Usage: num(d, "memory.current"), Max: num(d, "memory.peak"), Failcnt: ev["max"]}
	s.Memory.Swap = MemoryEntry{Limit: num(d, "memory.swap.max"), Usage: num(d, "memory.swap.current"), Max: num(d, "memory.swap.peak")}
	s.Memory.Raw = keyed(d, "memory.stat")
	s.Memory.Cache = s.Memory.Raw["file"]
	s.Pids = pids(d)
	s.CPU.PSI = psi(d, "cpu.pressure")
	s.Memory.PSI = psi(d, "memory.pressure")
	s.Blkio.PSI = psi(d, "io.pressure")
	if v, err := readFile(d, "io.stat"); err == nil {
		for _, line := range strings.Split(v, "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			majMin := strings.SplitN(f[0], ":", 2)
			if len(majMin) != 2 {
				continue
			}
			maj, _ := strconv.ParseUint(majMin[0], 10, 64)
			min, _ := strconv.ParseUint(majMin[1], 10, 64)
			for _, kv := range f[1:] {
				k, val, _ := strings.Cut(kv, "=")
				n, _ := strconv.ParseUint(val, 10, 64)
				e := BlkioEntry{Major: maj, Minor: min, Value: n}
				switch k {
				case "rbytes":
					e.Op = "Read"
					s.Blkio.IoServiceBytesRecursive = append(s.Blkio.IoServiceBytesRecursive, e)
				case "wbytes":
					e.Op = "Write"
					s.Blkio.IoServiceBytesRecursive = append(s.Blkio.IoServiceBytesRecursive, e)
				case "rios":
					e.Op = "Read"
					s.Blkio.IoServicedRecursive = append(s.Blkio.IoServicedRecursive, e)
				case "wios":
					e.Op = "Write"
					s.Blkio.IoServicedRecursive = append(s.Blkio.IoServicedRecursive, e)
				}
			}
		}
	}
	for _, size := range hugepageSizes(d, ".current") {
		p := "hugetlb." + size + "."
		s.Hugetlb[size] = Hugetlb{Usage: num(d, p+"current"), Max: num(d, p+"max"), Failcnt: keyed(d, p+"events")["max"]}
	}
}

// OOMKills returns how many times the OOM killer killed a process of the
// container (0 if that cannot be read).
func (m *Manager) OOMKills() uint64 {
	n, _ := m.OOMKillCount()
	return n
}

// OOMKillCount is OOMKills, with the error of a counter that cannot be
// read: the cgroup is gone (or has no memory controller).
func (m *Manager) OOMKillCount() (uint64, error) {
	d, file := m.V2Dir(), "memory.events"
	if m.Mode != ModeV2 {
		var ok bool
		if d, ok = m.Dir("memory"); !ok {
			return 0, errors.New("no memory cgroup")
		}
		file = "memory.oom_control"
	}
	b, err := os.ReadFile(filepath.Join(d, file))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "oom_kill "); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, nil
}
