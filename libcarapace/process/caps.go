package process

import (
	"fmt"
	"sync"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// capNames lists every capability the kernel headers define, by number.
var capNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

var capByName = func() map[string]int {
	m := make(map[string]int, len(capNames))
	for i, n := range capNames {
		m[n] = i
	}
	return m
}()

// capName names capability c, also one newer than this table.
func capName(c int) string {
	if c < len(capNames) {
		return capNames[c]
	}
	return fmt.Sprintf("capability %d", c)
}

// CapabilityName names capability c ("capability 41" for one newer than
// this build).
func CapabilityName(c int) string { return capName(c) }

// CapabilityNames returns every capability name Carapace knows.
func CapabilityNames() []string { return append([]string(nil), capNames...) }

// CapabilityByName returns the number of a capability such as "CAP_CHOWN".
func CapabilityByName(name string) (int, bool) {
	n, ok := capByName[name]
	return n, ok
}

// lastCap is the highest capability the kernel knows, asked of the kernel
// itself: PR_CAPBSET_READ fails with EINVAL beyond it. Not read from
// /proc/sys/kernel/cap_last_cap: in an exec helper that is the container's
// /proc, and a smaller number there would leave the capabilities above it
// in the bounding set.
var lastCap = sync.OnceValue(func() int {
	// Capabilities are numbered without gaps: a binary search over the
	// 64 bits of a set takes six calls.
	lo, hi := 0, 63 // lo is known, hi+1 is not
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if _, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(mid), 0, 0, 0); err == nil {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
})

// UnknownCapabilities lists the capability names in c this runtime cannot
// map, each as its field and name ("process.capabilities.ambient[0]:
// unknown capability \"CAP_X\""). runtime-spec 1.3: such a value "MUST be
// logged as a warning ... Runtimes SHOULD NOT fail"; CapsFromSpec skips it.
func UnknownCapabilities(c *specs.LinuxCapabilities) []string {
	if c == nil {
		return nil
	}
	var out []string
	for _, set := range []struct {
		name  string
		names []string
	}{
		{"bounding", c.Bounding}, {"effective", c.Effective}, {"inheritable", c.Inheritable},
		{"permitted", c.Permitted}, {"ambient", c.Ambient},
	} {
		for i, n := range set.names {
			if _, ok := capByName[n]; !ok {
				out = append(out, fmt.Sprintf("process.capabilities.%s[%d]: unknown capability %q", set.name, i, n))
			}
		}
	}
	return out
}

// CapSet is a capability bit mask.
type CapSet uint64

func capSetOf(names []string) CapSet {
	var s CapSet
	last := lastCap()
	for _, n := range names {
		// Names were validated; ones the kernel does not have are skipped,
		// as every runtime does, so one config runs on old and new kernels.
		if c, ok := capByName[n]; ok && c <= last {
			s |= 1 << c
		}
	}
	return s
}

// Caps is the five capability sets of a process.
type Caps struct {
	Bounding, Effective, Inheritable, Permitted, Ambient CapSet
}

// CapsFromSpec converts the spec's sets; a nil spec keeps no capabilities.
func CapsFromSpec(c *specs.LinuxCapabilities) Caps {
	if c == nil {
		return Caps{}
	}
	return Caps{
		Bounding:    capSetOf(c.Bounding),
		Effective:   capSetOf(c.Effective),
		Inheritable: capSetOf(c.Inheritable),
		Permitted:   capSetOf(c.Permitted),
		Ambient:     capSetOf(c.Ambient),
	}
}

// DropBounding removes from the bounding set every capability not in keep.
// It must run while the thread still has CAP_SETPCAP.
func DropBounding(keep CapSet) error {
	for c := 0; c <= lastCap(); c++ {
		if keep&(1<<c) != 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && err != unix.EINVAL {
			return fmt.Errorf("drop %s from the bounding set: %w", capName(c), err)
		}
	}
	return nil
}

// Apply sets the effective, permitted and inheritable sets of the calling
// thread, then raises the ambient ones. Call it on the thread that execs.
func (c Caps) Apply() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	for i := 0; i < 2; i++ {
		data[i].Effective = uint32(c.Effective >> (32 * i))
		data[i].Permitted = uint32(c.Permitted >> (32 * i))
		data[i].Inheritable = uint32(c.Inheritable >> (32 * i))
	}
	if _, _, e := unix.RawSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0); e != 0 {
		return fmt.Errorf("capset: %w", e)
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && err != unix.EINVAL {
		return fmt.Errorf("clear ambient capabilities: %w", err)
	}
	for n := 0; n <= lastCap(); n++ {
		if c.Ambient&(1<<n) == 0 {
			continue
		}
		// The kernel only allows ambient capabilities that are also
		// permitted and inheritable; others are skipped, as the spec allows.
		if c.Permitted&c.Inheritable&(1<<n) == 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(n), 0, 0); err != nil {
			return fmt.Errorf("raise ambient %s: %w", capName(n), err)
		}
	}
	return nil
}
