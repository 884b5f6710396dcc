package process

import (
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ParseList reads a CPU or node list such as "0-3,6": the kernel's
// cpuset format.
func ParseList(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, fmt.Errorf("%q: empty element", s)
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("%q: %q is not a number", s, lo)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("%q: bad range %q", s, part)
			}
		}
		if b >= 8192 {
			return nil, fmt.Errorf("%q: %d is too large", s, b)
		}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
	}
	return out, nil
}

// SetAffinity pins pid (0: the calling thread) to the CPUs of list.
func SetAffinity(pid int, list string) error {
	cpus, err := ParseList(list)
	if err != nil {
		return err
	}
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	return unix.SchedSetaffinity(pid, &set)
}

// MemoryPolicyModes and MemoryPolicyFlags map the spec's names to
// set_mempolicy(2)'s values.
var MemoryPolicyModes = map[specs.MemoryPolicyModeType]int{
	specs.MpolDefault: 0, specs.MpolPreferred: 1, specs.MpolBind: 2, specs.MpolInterleave: 3,
	specs.MpolLocal: 4, specs.MpolPreferredMany: 5, specs.MpolWeightedInterleave: 6,
}

var MemoryPolicyFlags = map[specs.MemoryPolicyFlagType]int{
	specs.MpolFNumaBalancing: 1 << 13, specs.MpolFRelativeNodes: 1 << 14, specs.MpolFStaticNodes: 1 << 15,
}

// SetMemoryPolicy applies linux.memoryPolicy to the calling thread; exec
// keeps it.
func SetMemoryPolicy(p *specs.LinuxMemoryPolicy) error {
	mode := MemoryPolicyModes[p.Mode]
	for _, f := range p.Flags {
		mode |= MemoryPolicyFlags[f]
	}
	var mask []uint64
	maxNode := 0
	if p.Nodes != "" {
		nodes, err := ParseList(p.Nodes)
		if err != nil {
			return fmt.Errorf("linux.memoryPolicy.nodes: %w", err)
		}
		for _, n := range nodes {
			for len(mask) <= n/64 {
				mask = append(mask, 0)
			}
			mask[n/64] |= 1 << (n % 64)
			maxNode = max(maxNode, n+2)
		}
	}
	var ptr unsafe.Pointer
	if len(mask) > 0 {
		ptr = unsafe.Pointer(&mask[0])
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SET_MEMPOLICY, uintptr(mode), uintptr(ptr), uintptr(maxNode)); e != 0 {
		// Left to the kernel: nodes it does not have, and flags the mode
		// does not take (MPOL_F_NUMA_BALANCING but with MPOL_BIND, static
		// and relative nodes together).
		return fmt.Errorf("linux.memoryPolicy (mode %s, nodes %q, flags %v): set_mempolicy: %w", p.Mode, p.Nodes, p.Flags, e)
	}
	return nil
}
