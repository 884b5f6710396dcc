package cgroups

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/carapace-oci/carapace/libcarapace/internal/flat"
)

// Merge combines an update with the limits in force (linux.resources as
// created, merged with every update since), as runc's update does with the
// configuration it keeps in its state.
//
// It returns what to write and what to keep for the next update. What is
// written is the update, with each limit the kernel reads together with a
// partner completed from the stored values: memory with memory+swap (v2's
// memory.swap.max is their difference, so `update --memory` alone must
// recompute it), the CFS quota with its period and the real-time runtime
// with its period. Other stored limits are not rewritten: their files still
// hold them.
//
// A zero numeric field asks for nothing, as at create; `update --memory -1`
// without a swap lifts memory+swap too (stored as no swap limit), as runc's
// does. Device rules are not kept: update completes them itself.
func Merge(stored, upd *specs.LinuxResources) (write, merged *specs.LinuxResources) {
	merged = &specs.LinuxResources{}
	if stored != nil {
		clone(stored, merged)
	}
	merged.Devices = nil
	write = &specs.LinuxResources{}
	if upd == nil {
		return write, merged
	}
	clone(upd, write)

	if u := upd.Memory; u != nil {
		if merged.Memory == nil {
			merged.Memory = &specs.LinuxMemory{}
		}
		m := merged.Memory
		if set(u.Limit) {
			m.Limit = u.Limit
			if *u.Limit == -1 && !set(u.Swap) {
				m.Swap = nil
			}
		}
		takeSet(&m.Swap, u.Swap)
		takeSet(&m.Reservation, u.Reservation)
		take(&m.Kernel, u.Kernel)
		take(&m.KernelTCP, u.KernelTCP)
		take(&m.Swappiness, u.Swappiness)
		take(&m.DisableOOMKiller, u.DisableOOMKiller)
		// A request of this update only, not a limit.
		m.CheckBeforeUpdate = nil
		if set(u.Limit) || set(u.Swap) {
			write.Memory.Limit, write.Memory.Swap = m.Limit, m.Swap
		}
	}
	if u := upd.CPU; u != nil {
		if merged.CPU == nil {
			merged.CPU = &specs.LinuxCPU{}
		}
		c := merged.CPU
		takeSet(&c.Shares, u.Shares)
		takeSet(&c.Quota, u.Quota)
		takeSet(&c.Period, u.Period)
		take(&c.Burst, u.Burst)
		takeSet(&c.RealtimeRuntime, u.RealtimeRuntime)
		takeSet(&c.RealtimePeriod, u.RealtimePeriod)
		take(&c.Idle, u.Idle)
		if u.Cpus != "" {
			c.Cpus = u.Cpus
		}
		if u.Mems != "" {
			c.Mems = u.Mems
		}
		if set(u.Quota) || set(u.Period) {
			write.CPU.Quota, write.CPU.Period = c.Quota, c.Period
		}
		if set(u.RealtimeRuntime) || set(u.RealtimePeriod) {
			write.CPU.RealtimeRuntime, write.CPU.RealtimePeriod = c.RealtimeRuntime, c.RealtimePeriod
		}
	}
	if u := upd.Pids; u != nil && u.Limit != nil {
		merged.Pids = &specs.LinuxPids{Limit: u.Limit}
	}
	if u := upd.BlockIO; u != nil {
		if merged.BlockIO == nil {
			merged.BlockIO = &specs.LinuxBlockIO{}
		}
		b := merged.BlockIO
		takeSet(&b.Weight, u.Weight)
		takeSet(&b.LeafWeight, u.LeafWeight)
		// Per-device settings replace those of the same device.
		for _, d := range u.WeightDevice {
			b.WeightDevice = upsert(b.WeightDevice, d, func(x specs.LinuxWeightDevice) bool {
				return x.Major == d.Major && x.Minor == d.Minor
			})
		}
		for _, l := range []struct{ dst, src *[]specs.LinuxThrottleDevice }{
			{&b.ThrottleReadBpsDevice, &u.ThrottleReadBpsDevice},
			{&b.ThrottleWriteBpsDevice, &u.ThrottleWriteBpsDevice},
			{&b.ThrottleReadIOPSDevice, &u.ThrottleReadIOPSDevice},
			{&b.ThrottleWriteIOPSDevice, &u.ThrottleWriteIOPSDevice},
		} {
			for _, d := range *l.src {
				*l.dst = upsert(*l.dst, d, func(x specs.LinuxThrottleDevice) bool {
					return x.Major == d.Major && x.Minor == d.Minor
				})
			}
		}
	}
	for _, h := range upd.HugepageLimits {
		merged.HugepageLimits = upsert(merged.HugepageLimits, h, func(x specs.LinuxHugepageLimit) bool {
			return x.Pagesize == h.Pagesize
		})
	}
	if upd.Network != nil {
		merged.Network = upd.Network
	}
	for k, v := range upd.Rdma {
		if merged.Rdma == nil {
			merged.Rdma = map[string]specs.LinuxRdma{}
		}
		merged.Rdma[k] = v
	}
	for k, v := range upd.Unified {
		if merged.Unified == nil {
			merged.Unified = map[string]string{}
		}
		merged.Unified[k] = v
	}
	return write, merged
}

// takeSet keeps an update's value when it asks for one (not a zero).
func takeSet[T int64 | uint64 | uint16](dst **T, src *T) {
	if set(src) {
		*dst = src
	}
}

// take keeps an update's value when it gives one.
func take[T any](dst **T, src *T) {
	if src != nil {
		*dst = src
	}
}

func upsert[T any](list []T, v T, same func(T) bool) []T {
	for i := range list {
		if same(list[i]) {
			list[i] = v
			return list
		}
	}
	return append(list, v)
}

// clone deep-copies src into dst (zero): the stored resources must not
// share pointers with the update being merged into them. The flat
// encoding copies field by field without the per-type tables a JSON round
// trip builds, cold, in every update; it keeps an empty slice or map
// empty where JSON's omitempty made it nil, which nothing here tells
// apart (TestCloneMatchesJSON).
func clone(src, dst *specs.LinuxResources) {
	b, err := flat.Marshal(src)
	if err == nil {
		err = flat.Unmarshal(b, dst)
	}
	if err != nil {
		panic("cgroups: LinuxResources does not round-trip through flat: " + err.Error())
	}
}
