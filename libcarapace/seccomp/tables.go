package seccomp

import (
	"runtime"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

//go:generate go run mksyscalls.go

// syscallEntry is one row of the generated syscallTable.
type syscallEntry struct {
	name string
	nr   [numTables]int32
}

// lookup finds a syscall by name in the generated table.
func lookup(name string) *syscallEntry {
	i := sort.Search(len(syscallTable), func(i int) bool { return syscallTable[i].name >= name })
	if i < len(syscallTable) && syscallTable[i].name == name {
		return &syscallTable[i]
	}
	return nil
}

// actionRet maps the spec's actions to the kernel's return values, before
// errnoRet is added.
var actionRet = map[specs.LinuxSeccompAction]uint32{
	// libseccomp's SCMP_ACT_KILL is SECCOMP_RET_KILL_THREAD.
	specs.ActKill:        unix.SECCOMP_RET_KILL_THREAD,
	specs.ActKillThread:  unix.SECCOMP_RET_KILL_THREAD,
	specs.ActKillProcess: unix.SECCOMP_RET_KILL_PROCESS,
	specs.ActTrap:        unix.SECCOMP_RET_TRAP,
	specs.ActErrno:       unix.SECCOMP_RET_ERRNO,
	specs.ActTrace:       unix.SECCOMP_RET_TRACE,
	specs.ActAllow:       unix.SECCOMP_RET_ALLOW,
	specs.ActLog:         unix.SECCOMP_RET_LOG,
	specs.ActNotify:      unix.SECCOMP_RET_USER_NOTIF,
}

var operators = map[specs.LinuxSeccompOperator]bool{
	specs.OpNotEqual: true, specs.OpLessThan: true, specs.OpLessEqual: true, specs.OpEqualTo: true,
	specs.OpGreaterEqual: true, specs.OpGreaterThan: true, specs.OpMaskedEqual: true,
}

// filterFlags are the flags a profile may ask for, passed to seccomp(2).
// NEW_LISTENER and TSYNC_ESRCH are not the profile's to set: the runtime
// adds them when the profile uses SCMP_ACT_NOTIFY.
var filterFlags = map[specs.LinuxSeccompFlag]uint{
	specs.LinuxSeccompFlagLog:                           unix.SECCOMP_FILTER_FLAG_LOG,
	specs.LinuxSeccompFlagSpecAllow:                     unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW,
	specs.LinuxSeccompFlagWaitKillableRecv:              unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
	specs.LinuxSeccompFlag("SECCOMP_FILTER_FLAG_TSYNC"): unix.SECCOMP_FILTER_FLAG_TSYNC,
}

// archInfo describes an architecture the compiler has a table for.
type archInfo struct {
	audit uint32 // seccomp_data.arch
	table int    // column of syscallTable
	// args32: the ABI passes 32-bit arguments; conditions compare the low
	// words only, as libseccomp does (see cond in compile.go).
	args32 bool
	// x32: the syscall numbers carry __X32_SYSCALL_BIT, under
	// AUDIT_ARCH_X86_64.
	x32 bool
	// legacy is where the arch's numbers stop growing: numbers at or above
	// it (x32's 512-547 compat block, arm's private 0x0f0000 range) do not
	// say how new a profile is (see the ENOSYS rule in compile.go).
	legacy uint32
}

const x32SyscallBit = 0x40000000

var archs = map[specs.Arch]archInfo{
	specs.ArchX86_64:  {audit: unix.AUDIT_ARCH_X86_64, table: tabX86_64},
	specs.ArchX86:     {audit: unix.AUDIT_ARCH_I386, table: tabX86, args32: true},
	specs.ArchX32:     {audit: unix.AUDIT_ARCH_X86_64, table: tabX32, args32: true, x32: true, legacy: x32SyscallBit + 512},
	specs.ArchAARCH64: {audit: unix.AUDIT_ARCH_AARCH64, table: tabAARCH64},
	specs.ArchARM:     {audit: unix.AUDIT_ARCH_ARM, table: tabARM, args32: true, legacy: 0x0f0000},
}

// companions are the architectures whose syscalls a kernel of the native
// one also runs: only they can appear in seccomp_data.arch on this host.
var companions = map[specs.Arch][]specs.Arch{
	specs.ArchX86_64:  {specs.ArchX86, specs.ArchX32},
	specs.ArchAARCH64: {specs.ArchARM},
}

// foreignArchs are the spec's other architecture names. A profile may list
// them (generic profiles list many): their syscalls cannot reach a kernel of
// a supported architecture, so they are accepted and left out of the
// filter.
var foreignArchs = map[specs.Arch]bool{
	specs.ArchMIPS: true, specs.ArchMIPS64: true, specs.ArchMIPS64N32: true,
	specs.ArchMIPSEL: true, specs.ArchMIPSEL64: true, specs.ArchMIPSEL64N32: true, specs.ArchPPC: true,
	specs.ArchPPC64: true, specs.ArchPPC64LE: true, specs.ArchS390: true, specs.ArchS390X: true,
	specs.ArchPARISC: true, specs.ArchPARISC64: true, specs.ArchRISCV64: true, specs.ArchLOONGARCH64: true,
	specs.ArchM68K: true, specs.ArchSH: true, specs.ArchSHEB: true,
}

// nativeArch is the architecture of this build, whose syscalls the filter
// always handles.
func nativeArch() (specs.Arch, bool) {
	a, ok := map[string]specs.Arch{
		"amd64": specs.ArchX86_64, "386": specs.ArchX86,
		"arm64": specs.ArchAARCH64, "arm": specs.ArchARM,
	}[runtime.GOARCH]
	return a, ok
}

func sortedKeys[K ~string, V any](m map[K]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, string(k))
	}
	sort.Strings(out)
	return out
}

// Actions lists the actions the compiler implements.
func Actions() []string { return sortedKeys(actionRet) }

// Operators lists the argument operators the compiler implements.
func Operators() []string { return sortedKeys(operators) }

// Archs lists the architectures the compiler has syscall tables for.
func Archs() []string { return sortedKeys(archs) }

// KnownFlags lists the filter flags a profile may ask for.
func KnownFlags() []string { return sortedKeys(filterFlags) }

// SupportedFlags lists the known flags this kernel accepts. seccomp(2)
// checks flags before it reads the program: with a NULL program, a known
// flag fails with EFAULT and an unknown one with EINVAL.
func SupportedFlags() []string {
	var out []string
	for _, name := range KnownFlags() {
		f := filterFlags[specs.LinuxSeccompFlag(name)]
		if f == unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV {
			// Valid only with a listener.
			f |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
		}
		_, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(f), 0)
		if e == unix.EFAULT {
			out = append(out, name)
		}
	}
	return out
}
