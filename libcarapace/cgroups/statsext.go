package cgroups

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The parts of runc's `events` data beyond what go-runc decodes: runc 1.5.3
// prints these keys, and its tests read some (psi on cgroup v2).

// CPUSet is the cpuset controller's state (cgroup v1; zero on v2, as runc's).
type CPUSet struct {
	CPUs                  []uint16 `json:"cpus,omitempty"`
	CPUExclusive          uint64   `json:"cpu_exclusive"`
	Mems                  []uint16 `json:"mems,omitempty"`
	MemHardwall           uint64   `json:"mem_hardwall"`
	MemExclusive          uint64   `json:"mem_exclusive"`
	MemoryMigrate         uint64   `json:"memory_migrate"`
	MemorySpreadPage      uint64   `json:"memory_spread_page"`
	MemorySpreadSlab      uint64   `json:"memory_spread_slab"`
	MemoryPressure        uint64   `json:"memory_pressure"`
	SchedLoadBalance      uint64   `json:"sched_load_balance"`
	SchedRelaxDomainLevel int64    `json:"sched_relax_domain_level"`
}

// IntelRdt is empty: Carapace does not manage resctrl groups, and runc
// prints {} too when RDT is off.
type IntelRdt struct{}

// NetworkInterface is one interface's counters in runc's shape.
type NetworkInterface struct {
	Name      string
	RxBytes   uint64
	RxPackets uint64
	RxErrors  uint64
	RxDropped uint64
	TxBytes   uint64
	TxPackets uint64
	TxErrors  uint64
	TxDropped uint64
}

// PSIData is one line of a cgroup v2 *.pressure file.
type PSIData struct {
	Avg10  float64 `json:"avg10"`
	Avg60  float64 `json:"avg60"`
	Avg300 float64 `json:"avg300"`
	Total  uint64  `json:"total"`
}

// PSIStats is a cgroup v2 *.pressure file.
type PSIStats struct {
	Some PSIData `json:"some,omitzero"`
	Full PSIData `json:"full,omitzero"`
}

// pids reads the pids controller; no limit ("max") is 0, as runc reports it.
func pids(dir string) Pids {
	p := Pids{Current: num(dir, "pids.current"), Limit: num(dir, "pids.max")}
	if p.Limit == ^uint64(0) {
		p.Limit = 0
	}
	return p
}

// percpuModes reads the per-CPU user and system times (ns) of cgroup v1's
// cpuacct.usage_all ("cpu user system" lines under that header).
func percpuModes(dir string) (kernel, user []uint64) {
	v, err := readFile(dir, "cpuacct.usage_all")
	if err != nil {
		return nil, nil
	}
	lines := strings.Split(v, "\n")
	if !strings.HasPrefix(lines[0], "cpu user system") {
		return nil, nil
	}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		u, err1 := strconv.ParseUint(f[1], 10, 64)
		k, err2 := strconv.ParseUint(f[2], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, nil
		}
		user, kernel = append(user, u), append(kernel, k)
	}
	return kernel, user
}

// cpusetV1 reads a cgroup v1 cpuset directory.
func cpusetV1(dir string) CPUSet {
	c := CPUSet{
		CPUs:             cpuList(dir, "cpuset.cpus"),
		CPUExclusive:     num(dir, "cpuset.cpu_exclusive"),
		Mems:             cpuList(dir, "cpuset.mems"),
		MemHardwall:      num(dir, "cpuset.mem_hardwall"),
		MemExclusive:     num(dir, "cpuset.mem_exclusive"),
		MemoryMigrate:    num(dir, "cpuset.memory_migrate"),
		MemorySpreadPage: num(dir, "cpuset.memory_spread_page"),
		MemorySpreadSlab: num(dir, "cpuset.memory_spread_slab"),
		MemoryPressure:   num(dir, "cpuset.memory_pressure"),
		SchedLoadBalance: num(dir, "cpuset.sched_load_balance"),
	}
	if v, err := readFile(dir, "cpuset.sched_relax_domain_level"); err == nil {
		c.SchedRelaxDomainLevel, _ = strconv.ParseInt(v, 10, 64)
	}
	return c
}

// cpuList expands a cpuset list ("0-2,4") into its numbers.
func cpuList(dir, file string) []uint16 {
	v, err := readFile(dir, file)
	if err != nil {
		return nil
	}
	var out []uint16
	for _, r := range strings.Split(v, ",") {
		lo, hi, isRange := strings.Cut(r, "-")
		from, err := strconv.ParseUint(lo, 10, 16)
		if err != nil {
			return nil
		}
		to := from
		if isRange {
			if to, err = strconv.ParseUint(hi, 10, 16); err != nil || to < from {
				return nil
			}
		}
		for i := from; i <= to; i++ {
			out = append(out, uint16(i))
		}
	}
	return out
}

// psi reads a cgroup v2 pressure file; nil when the kernel has no PSI.
func psi(dir, file string) *PSIStats {
	f, err := os.Open(filepath.Join(dir, file))
	if err != nil {
		return nil
	}
	defer f.Close()
	var p PSIStats
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		var d *PSIData
		switch fields[0] {
		case "some":
			d = &p.Some
		case "full":
			d = &p.Full
		default:
			continue
		}
		for _, kv := range fields[1:] {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "avg10":
				d.Avg10, _ = strconv.ParseFloat(v, 64)
			case "avg60":
				d.Avg60, _ = strconv.ParseFloat(v, 64)
			case "avg300":
				d.Avg300, _ = strconv.ParseFloat(v, 64)
			case "total":
				d.Total, _ = strconv.ParseUint(v, 10, 64)
			}
		}
	}
	// Reading fails (EOPNOTSUPP) where PSI is compiled in but off.
	if sc.Err() != nil {
		return nil
	}
	return &p
}
