package process

import (
	"fmt"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// IOPriorityClasses maps the spec's classes to the kernel's.
var IOPriorityClasses = map[specs.IOPriorityClass]int{
	specs.IOPRIO_CLASS_RT:   1,
	specs.IOPRIO_CLASS_BE:   2,
	specs.IOPRIO_CLASS_IDLE: 3,
}

// SchedPolicies maps the spec's scheduling policies to the kernel's.
var SchedPolicies = map[specs.LinuxSchedulerPolicy]uint32{
	"SCHED_OTHER": 0, "SCHED_FIFO": 1, "SCHED_RR": 2, "SCHED_BATCH": 3,
	"SCHED_ISO": 4, "SCHED_IDLE": 5, "SCHED_DEADLINE": 6,
}

// SchedFlags maps the spec's scheduler flags to the kernel's.
var SchedFlags = map[specs.LinuxSchedulerFlag]uint64{
	specs.SchedFlagResetOnFork: 0x01, specs.SchedFlagReclaim: 0x02, specs.SchedFlagDLOverrun: 0x04,
	specs.SchedFlagKeepPolicy: 0x08, specs.SchedFlagKeepParams: 0x10,
	specs.SchedFlagUtilClampMin: 0x20, specs.SchedFlagUtilClampMax: 0x40,
}

// Personalities maps the spec's execution domains to the kernel's.
var Personalities = map[specs.LinuxPersonalityDomain]uintptr{
	specs.PerLinux:   0x0000,
	specs.PerLinux32: 0x0008,
}

// SetIOPriority applies process.ioPriority to the calling process.
func SetIOPriority(p *specs.LinuxIOPriority) error {
	const whoProcess, classShift = 1, 13
	prio := IOPriorityClasses[p.Class]<<classShift | p.Priority
	if _, _, e := unix.RawSyscall(unix.SYS_IOPRIO_SET, whoProcess, 0, uintptr(prio)); e != 0 {
		return fmt.Errorf("process.ioPriority: ioprio_set: %w", e)
	}
	return nil
}

// schedAttr is the kernel's struct sched_attr.
type schedAttr struct {
	size     uint32
	policy   uint32
	flags    uint64
	nice     int32
	priority uint32
	runtime  uint64
	deadline uint64
	period   uint64
}

// SetScheduler applies process.scheduler to the calling thread, which
// passes it on through exec.
func SetScheduler(s *specs.Scheduler) error {
	attr := schedAttr{
		policy: SchedPolicies[s.Policy], nice: s.Nice, priority: uint32(s.Priority),
		runtime: s.Runtime, deadline: s.Deadline, period: s.Period,
	}
	attr.size = uint32(unsafe.Sizeof(attr))
	for _, f := range s.Flags {
		attr.flags |= SchedFlags[f]
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SCHED_SETATTR, 0, uintptr(unsafe.Pointer(&attr)), 0); e != 0 {
		return fmt.Errorf("process.scheduler %s: sched_setattr: %w", s.Policy, e)
	}
	return nil
}

// SetPersonality applies linux.personality.
func SetPersonality(p *specs.LinuxPersonality) error {
	if _, _, e := unix.RawSyscall(unix.SYS_PERSONALITY, Personalities[p.Domain], 0, 0); e != 0 {
		return fmt.Errorf("linux.personality %s: %w", p.Domain, e)
	}
	return nil
}

// CheckRlimits refuses, at create, rlimits that could only be set with
// CAP_SYS_RESOURCE when the runtime does not have it: raising a hard limit
// above the current one. They are applied only just before exec.
func CheckRlimits(rl []specs.POSIXRlimit) error {
	if hasCapability(unix.CAP_SYS_RESOURCE) {
		return nil
	}
	for i, r := range rl {
		var cur unix.Rlimit
		if err := unix.Getrlimit(rlimitByName[r.Type], &cur); err != nil {
			continue
		}
		if r.Hard > cur.Max {
			return fmt.Errorf("process.rlimits[%d]: %s hard limit %d is above the runtime's own hard limit %d, and raising it needs CAP_SYS_RESOURCE, which the runtime lacks",
				i, r.Type, r.Hard, cur.Max)
		}
	}
	return nil
}

func hasCapability(c int) bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false
	}
	return data[c/32].Effective&(1<<(c%32)) != 0
}
