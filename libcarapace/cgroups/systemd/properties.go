package systemd

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/carapace-oci/carapace/libcarapace/cgroups"
)

// Property is one unit property as systemd's D-Bus API takes it
// (systemd.resource-control(5) names; D-Bus values: uint64, bool, string,
// []byte bitmasks, []uint32 pids, []DeviceAllow).
type Property struct {
	Name  string
	Value any
}

// DeviceAllow is one DeviceAllow= entry, the D-Bus struct (ss).
type DeviceAllow struct {
	Path  string
	Perms string
}

// infinity is systemd's USEC_INFINITY / CGROUP_LIMIT_MAX: no limit.
const infinity = uint64(math.MaxUint64)

// defaultPeriod is the kernel's CFS period (100ms) when none is given.
const defaultPeriod = 100000

// The systemd versions that added properties; older ones refuse them, so
// they are left to the cgroup files.
const (
	versionQuotaPeriod = 242 // CPUQuotaPeriodUSec
	versionDeviceMajor = 240 // DeviceAllow=char-MAJOR
	versionAllowedCPUs = 244 // AllowedCPUs, AllowedMemoryNodes
)

// UnitProperties are the properties of the unit itself, set only when
// it is made: its place, its init, delegation of the subtree to the
// container (which may make sub-cgroups), accounting of every controller
// (so that systemd enables them), and no dependencies on the boot's
// targets (a container must not wait for, or stop with, shutdown.target).
func UnitProperties(m *cgroups.Manager, id string, pid int) []Property {
	ps := []Property{{"Description", "carapace container " + id}}
	if strings.HasSuffix(m.Unit, ".slice") {
		ps = append(ps, Property{"Wants", []string{m.Slice}})
	} else {
		ps = append(ps, Property{"Slice", m.Slice}, Property{"Delegate", true})
	}
	ps = append(ps,
		Property{"PIDs", []uint32{uint32(pid)}},
		Property{"MemoryAccounting", true},
		Property{"CPUAccounting", true},
	)
	if m.Mode == cgroups.ModeV2 {
		ps = append(ps, Property{"IOAccounting", true})
	} else {
		ps = append(ps, Property{"BlockIOAccounting", true})
	}
	return append(ps, Property{"TasksAccounting", true}, Property{"DefaultDependencies", false})
}

// Properties maps what of linux.resources systemd can express to unit
// properties, for mode's layout and systemd's version (-1: unknown, then
// only properties every supported systemd has). The rest stays for the
// cgroup files, which are written afterwards with the returned resources:
// r itself, except a CPU quota rounded as systemd rounds it, so that the
// files and the unit agree.
//
// Only fields that ask for something give a property, so that update
// changes only what it is given.
func Properties(r *specs.LinuxResources, mode cgroups.Mode, version int) ([]Property, *specs.LinuxResources, error) {
	if r == nil {
		return nil, nil, nil
	}
	v2 := mode == cgroups.ModeV2
	var ps []Property
	add := func(name string, v any) { ps = append(ps, Property{name, v}) }
	if m := r.Memory; m != nil {
		var limit, swap int64
		if m.Limit != nil {
			limit = *m.Limit
		}
		if m.Swap != nil {
			swap = *m.Swap
		}
		if limit != 0 {
			name := "MemoryMax"
			if !v2 {
				name = "MemoryLimit"
			}
			add(name, limitValue(limit))
		}
		if v2 {
			if m.Reservation != nil && *m.Reservation != 0 {
				add("MemoryLow", limitValue(*m.Reservation))
			}
			// The spec's swap is memory+swap; MemorySwapMax is swap
			// alone, as package cgroups computes memory.swap.max. What it
			// refuses (a swap below the limit, a swap without a limit)
			// gives no property here: the file check names the field.
			switch {
			case swap == -1, swap == 0 && limit == -1:
				add("MemorySwapMax", infinity)
			case swap == 0:
			case limit == -1:
				add("MemorySwapMax", uint64(swap))
			case limit > 0 && swap >= limit:
				add("MemorySwapMax", uint64(swap-limit))
			}
		}
	}
	out := r
	if c := r.CPU; c != nil {
		if c.Shares != nil && *c.Shares != 0 {
			if v2 {
				add("CPUWeight", cgroups.CPUWeight(*c.Shares))
			} else {
				add("CPUShares", *c.Shares)
			}
		}
		var quota int64
		var period uint64
		if c.Quota != nil {
			quota = *c.Quota
		}
		if c.Period != nil {
			period = *c.Period
		}
		if quota != 0 || period != 0 {
			if period != 0 && version >= versionQuotaPeriod {
				add("CPUQuotaPeriodUSec", period)
			}
			perSec, rounded := quotaPerSec(quota, period)
			add("CPUQuotaPerSecUSec", perSec)
			if rounded != quota {
				cpu := *c
				cpu.Quota = &rounded
				cp := *r
				cp.CPU = &cpu
				out = &cp
			}
		}
		if version >= versionAllowedCPUs {
			for _, x := range []struct{ name, list, field string }{
				{"AllowedCPUs", c.Cpus, "cpus"},
				{"AllowedMemoryNodes", c.Mems, "mems"},
			} {
				if x.list == "" {
					continue
				}
				bits, err := listToBits(x.list)
				if err != nil {
					return nil, nil, fmt.Errorf("linux.resources.cpu.%s %q: %w", x.field, x.list, err)
				}
				add(x.name, bits)
			}
		}
	}
	if p := r.Pids; p != nil && p.Limit != nil {
		// As the pids.max file gets (cgroups' pidsMax): no limit below 0;
		// 0 is a limit, of 1, since systemd refuses TasksMax=0. The unit
		// must agree with the file: systemd rewrites pids.max from
		// TasksMax (at daemon-reload), and infinity would undo the limit.
		t := infinity
		switch l := *p.Limit; {
		case l == 0:
			t = 1
		case l > 0:
			t = uint64(l)
		}
		add("TasksMax", t)
	}
	if b := r.BlockIO; b != nil && b.Weight != nil && *b.Weight != 0 {
		if v2 {
			add("IOWeight", cgroups.IOWeight(*b.Weight))
		} else {
			add("BlockIOWeight", uint64(*b.Weight))
		}
	}
	if r.Devices != nil {
		ps = append(ps, deviceProperties(r.Devices, version)...)
	}
	return ps, out, nil
}

func limitValue(v int64) uint64 {
	if v < 0 {
		return infinity
	}
	return uint64(v)
}

// quotaPerSec is CPUQuotaPerSecUSec for a quota per period (-1: none).
// systemd keeps the quota as a percentage of one CPU, so a quota that is
// not a whole percent is rounded up to the next one; the quota that
// rounded value gives back is returned for the cpu files, so that a
// child cgroup may be given the quota that was asked for.
func quotaPerSec(quota int64, period uint64) (uint64, int64) {
	if quota <= 0 {
		return infinity, quota
	}
	if period == 0 {
		period = defaultPeriod
	}
	perSec := uint64(quota) * 1000000 / period
	if perSec%10000 == 0 {
		return perSec, quota
	}
	perSec = (perSec/10000 + 1) * 10000
	return perSec, int64(perSec * period / 1000000)
}

// listToBits turns a cpuset list ("0-3,8") into the byte mask systemd
// takes for AllowedCPUs: bit n of byte n/8 is CPU n.
func listToBits(list string) ([]byte, error) {
	var bits big.Int
	for _, r := range strings.Split(list, ",") {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(r, "-")
		a, err := strconv.ParseUint(lo, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("%q: not a number", lo)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 16); err != nil {
				return nil, fmt.Errorf("%q: not a number", hi)
			}
			if b < a {
				return nil, fmt.Errorf("range %q ends before it starts", r)
			}
		}
		for i := a; i <= b; i++ {
			bits.SetBit(&bits, int(i), 1)
		}
	}
	if bits.Sign() == 0 {
		return nil, fmt.Errorf("empty list")
	}
	// big.Int's bytes are big-endian; systemd reads byte 0 first.
	out := bits.Bytes()
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}
