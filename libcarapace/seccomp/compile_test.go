package seccomp

import (
	"encoding/json"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

const (
	retAllow = unix.SECCOMP_RET_ALLOW
	retKillP = unix.SECCOMP_RET_KILL_PROCESS
)

func retErrno(e unix.Errno) uint32 { return unix.SECCOMP_RET_ERRNO | uint32(e) }

var (
	auditX86_64 = uint32(unix.AUDIT_ARCH_X86_64)
	auditI386   = uint32(unix.AUDIT_ARCH_I386)
)

func requireAmd64(t *testing.T) {
	t.Helper()
	if runtime.GOARCH != "amd64" {
		t.Skip("the cases are written for an x86_64 host")
	}
}

// sysnr is a syscall's number in one of the generated tables.
func sysnr(t *testing.T, name string, table int) uint32 {
	t.Helper()
	e := lookup(name)
	if e == nil || e.nr[table] < 0 {
		t.Fatalf("no %s in table %d", name, table)
	}
	return uint32(e.nr[table])
}

func mustCompile(t *testing.T, sc *specs.LinuxSeccomp) []unix.SockFilter {
	t.Helper()
	p, err := Compile(sc, nil)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	if err := checkProgram(p.Insns); err != nil {
		t.Fatalf("the kernel would refuse the program: %v", err)
	}
	return p.Insns
}

func verdict(t *testing.T, prog []unix.SockFilter, d seccompData) uint32 {
	t.Helper()
	r, _, err := runBPF(prog, d)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func errnoPtr(e uint) *uint { return &e }

// probe is one syscall put to a compiled filter and the verdict expected.
type probe struct {
	name  string // syscall, looked up in table
	table int
	nr    *uint32 // instead of name
	arch  uint32
	args  [6]uint64
	want  uint32
}

func (p probe) data(t *testing.T) seccompData {
	d := seccompData{arch: p.arch, args: p.args}
	if p.nr != nil {
		d.nr = *p.nr
	} else {
		d.nr = sysnr(t, p.name, p.table)
	}
	return d
}

func u32(v uint32) *uint32 { return &v }

func TestCompileVerdicts(t *testing.T) {
	requireAmd64(t)
	allow := func(names ...string) specs.LinuxSyscall {
		return specs.LinuxSyscall{Names: names, Action: specs.ActAllow}
	}
	for _, tc := range []struct {
		name   string
		sc     specs.LinuxSeccomp
		probes []probe
	}{
		{
			name: "arch-mismatch-kills",
			sc:   specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActErrno}}},
			probes: []probe{
				{name: "mkdir", table: tabX86_64, arch: auditX86_64, want: retErrno(unix.EPERM)},
				{name: "getpid", table: tabX86_64, arch: auditX86_64, want: retAllow},
				// i386 and aarch64 not in the filter: bad arch, whatever the syscall.
				{name: "getpid", table: tabX86, arch: auditI386, want: retKillP},
				{name: "getpid", table: tabAARCH64, arch: unix.AUDIT_ARCH_AARCH64, want: retKillP},
				// x32 not in the filter: bad arch too.
				{name: "getpid", table: tabX32, arch: auditX86_64, want: retKillP},
				// -1 is x86_64's, not x32's.
				{nr: u32(0xffffffff), arch: auditX86_64, want: retAllow},
			},
		},
		{
			name: "x86-and-x32-listed",
			sc: specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
				Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir", "rt_sigaction", "socketcall"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(13)}},
			},
			probes: []probe{
				{name: "mkdir", table: tabX86_64, arch: auditX86_64, want: retErrno(13)},
				{name: "mkdir", table: tabX86, arch: auditI386, want: retErrno(13)},
				{name: "mkdir", table: tabX32, arch: auditX86_64, want: retErrno(13)},
				{name: "rt_sigaction", table: tabX32, arch: auditX86_64, want: retErrno(13)}, // 512|bit
				// x86_64's rt_sigaction number with the x32 bit is not x32's rt_sigaction.
				{nr: u32(x32SyscallBit | 13), arch: auditX86_64, want: retAllow},
				{name: "socketcall", table: tabX86, arch: auditI386, want: retErrno(13)},
				// mkdir's i386 number (39) is getpid on x86_64.
				{nr: u32(39), arch: auditX86_64, want: retAllow},
				{name: "getpid", table: tabX86, arch: auditI386, want: retAllow},
				{name: "getpid", table: tabAARCH64, arch: unix.AUDIT_ARCH_AARCH64, want: retKillP},
			},
		},
		{
			name: "foreign-arch-is-left-out",
			sc: specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchS390X, specs.ArchAARCH64},
				Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActErrno}}},
			probes: []probe{
				{name: "mkdir", table: tabX86_64, arch: auditX86_64, want: retErrno(unix.EPERM)},
				{name: "mkdirat", table: tabAARCH64, arch: unix.AUDIT_ARCH_AARCH64, want: retKillP},
			},
		},
		{
			name: "errno-values",
			sc: specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: errnoPtr(uint(unix.EACCES)),
				Syscalls: []specs.LinuxSyscall{
					allow("read", "write", "exit_group", "openat2"),
					{Names: []string{"mkdir"}, Action: specs.ActErrno},                           // EPERM when unset
					{Names: []string{"rmdir"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(0)},    // 0: a fake success
					{Names: []string{"chdir"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(4095)}, // MAX_ERRNO
					{Names: []string{"ptrace"}, Action: specs.ActTrace, ErrnoRet: errnoPtr(1234)},
					{Names: []string{"uname"}, Action: specs.ActTrace},
					{Names: []string{"kill"}, Action: specs.ActKill},
					{Names: []string{"tkill"}, Action: specs.ActKillThread},
					{Names: []string{"tgkill"}, Action: specs.ActKillProcess},
					{Names: []string{"pause"}, Action: specs.ActTrap},
					{Names: []string{"sync"}, Action: specs.ActLog},
				}},
			probes: []probe{
				{name: "read", table: tabX86_64, arch: auditX86_64, want: retAllow},
				{name: "getpid", table: tabX86_64, arch: auditX86_64, want: retErrno(unix.EACCES)},
				{name: "mkdir", table: tabX86_64, arch: auditX86_64, want: retErrno(unix.EPERM)},
				{name: "rmdir", table: tabX86_64, arch: auditX86_64, want: retErrno(0)},
				{name: "chdir", table: tabX86_64, arch: auditX86_64, want: retErrno(4095)},
				{name: "ptrace", table: tabX86_64, arch: auditX86_64, want: unix.SECCOMP_RET_TRACE | 1234},
				{name: "uname", table: tabX86_64, arch: auditX86_64, want: unix.SECCOMP_RET_TRACE | uint32(unix.EPERM)},
				{name: "kill", table: tabX86_64, arch: auditX86_64, want: unix.SECCOMP_RET_KILL_THREAD},
				{name: "tkill", table: tabX86_64, arch: auditX86_64, want: unix.SECCOMP_RET_KILL_THREAD},
				{name: "tgkill", table: tabX86_64, arch: auditX86_64, want: unix.SECCOMP_RET_KILL_PROCESS},
				{name: "pause", table: tabX86_64, arch: auditX86_64, want: unix.SECCOMP_RET_TRAP},
				{name: "sync", table: tabX86_64, arch: auditX86_64, want: unix.SECCOMP_RET_LOG},
			},
		},
		{
			// Default errno: numbers above the profile's highest are newer
			// than the profile and get ENOSYS; numbers below it that it does
			// not name get the default.
			name: "enosys-above-the-profile",
			sc: specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: []specs.Arch{specs.ArchX86, specs.ArchX32},
				Syscalls: []specs.LinuxSyscall{allow("read", "openat2", "rt_sigaction"), allow("no_such_syscall_e2e")}},
			probes: []probe{
				{name: "read", table: tabX86_64, arch: auditX86_64, want: retAllow},
				{name: "mkdir", table: tabX86_64, arch: auditX86_64, want: retErrno(unix.EPERM)},
				{name: "openat2", table: tabX86_64, arch: auditX86_64, want: retAllow},
				{name: "pidfd_open", table: tabX86_64, arch: auditX86_64, want: retErrno(unix.EPERM)},   // 434 < openat2's 437
				{name: "pidfd_getfd", table: tabX86_64, arch: auditX86_64, want: retErrno(unix.ENOSYS)}, // 438
				{name: "faccessat2", table: tabX86_64, arch: auditX86_64, want: retErrno(unix.ENOSYS)},
				{name: "listns", table: tabX86_64, arch: auditX86_64, want: retErrno(unix.ENOSYS)},
				{nr: u32(100000), arch: auditX86_64, want: retErrno(unix.ENOSYS)},
				{nr: u32(0xffffffff), arch: auditX86_64, want: retErrno(unix.ENOSYS)},
				{name: "faccessat2", table: tabX86, arch: auditI386, want: retErrno(unix.ENOSYS)},
				{name: "mkdir", table: tabX86, arch: auditI386, want: retErrno(unix.EPERM)},
				// x32: the legacy 512+ block does not raise the ceiling.
				{name: "rt_sigaction", table: tabX32, arch: auditX86_64, want: retAllow},
				{name: "faccessat2", table: tabX32, arch: auditX86_64, want: retErrno(unix.ENOSYS)},
				{name: "execve", table: tabX32, arch: auditX86_64, want: retErrno(unix.ENOSYS)},
				{name: "mkdir", table: tabX32, arch: auditX86_64, want: retErrno(unix.EPERM)},
			},
		},
		{
			// As runc's patchbpf: every default that stops a syscall (kill,
			// trap, errno) gets ENOSYS for newer syscalls; allow, log and
			// trace let them through.
			name: "enosys-with-a-kill-default",
			sc:   specs.LinuxSeccomp{DefaultAction: specs.ActKillProcess, Syscalls: []specs.LinuxSyscall{allow("read", "openat2")}},
			probes: []probe{
				{name: "read", table: tabX86_64, arch: auditX86_64, want: retAllow},
				{name: "mkdir", table: tabX86_64, arch: auditX86_64, want: retKillP},
				{name: "listns", table: tabX86_64, arch: auditX86_64, want: retErrno(unix.ENOSYS)},
			},
		},
		{
			name: "enosys-with-a-trap-default",
			sc:   specs.LinuxSeccomp{DefaultAction: specs.ActTrap, Syscalls: []specs.LinuxSyscall{allow("read", "openat2")}},
			probes: []probe{
				{name: "mkdir", table: tabX86_64, arch: auditX86_64, want: unix.SECCOMP_RET_TRAP},
				{name: "listns", table: tabX86_64, arch: auditX86_64, want: retErrno(unix.ENOSYS)},
			},
		},
		{
			name: "no-enosys-with-a-log-default",
			sc:   specs.LinuxSeccomp{DefaultAction: specs.ActLog, Syscalls: []specs.LinuxSyscall{{Names: []string{"close"}, Action: specs.ActErrno}}},
			probes: []probe{
				{name: "close", table: tabX86_64, arch: auditX86_64, want: retErrno(unix.EPERM)},
				{name: "listns", table: tabX86_64, arch: auditX86_64, want: unix.SECCOMP_RET_LOG},
			},
		},
		{
			// x32's compat block (512-547) is old: its syscalls the profile
			// does not name get the default action, not ENOSYS; above the
			// highest syscall named, legacy ones included, ENOSYS.
			name: "x32-compat-block-is-not-new",
			sc: specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX32},
				Syscalls: []specs.LinuxSyscall{allow("read", "openat2", "execve")}},
			probes: []probe{
				{name: "execve", table: tabX32, arch: auditX86_64, want: retAllow},
				{nr: u32(x32SyscallBit + 512), arch: auditX86_64, want: retErrno(unix.EPERM)},
				{nr: u32(x32SyscallBit + 519), arch: auditX86_64, want: retErrno(unix.EPERM)},
				{nr: u32(x32SyscallBit + 521), arch: auditX86_64, want: retErrno(unix.ENOSYS)},
				{nr: u32(x32SyscallBit + 100), arch: auditX86_64, want: retErrno(unix.EPERM)},
				{nr: u32(x32SyscallBit + 450), arch: auditX86_64, want: retErrno(unix.ENOSYS)},
			},
		},
		{
			name: "clone-masked-eq-like-docker",
			sc: specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: errnoPtr(1), Architectures: []specs.Arch{specs.ArchX86},
				Syscalls: []specs.LinuxSyscall{
					allow("read", "unshare_not_a_syscall"),
					{Names: []string{"clone"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0x7E020000, ValueTwo: 0, Op: specs.OpMaskedEqual}}},
					{Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(38)},
				}},
			probes: []probe{
				{name: "clone", table: tabX86_64, arch: auditX86_64, args: [6]uint64{0x3d0f00}, want: retAllow}, // a thread
				{name: "clone", table: tabX86_64, arch: auditX86_64, args: [6]uint64{0x11 | unix.CLONE_VFORK | unix.CLONE_VM}, want: retAllow},
				{name: "clone", table: tabX86_64, arch: auditX86_64, args: [6]uint64{0x11 | unix.CLONE_NEWNS}, want: retErrno(1)},
				{name: "clone", table: tabX86_64, arch: auditX86_64, args: [6]uint64{0x11 | unix.CLONE_NEWUSER}, want: retErrno(1)},
				// High bits outside the mask do not matter.
				{name: "clone", table: tabX86_64, arch: auditX86_64, args: [6]uint64{0xffffffff_00000011}, want: retAllow},
				{name: "clone", table: tabX86, arch: auditI386, args: [6]uint64{0x11}, want: retAllow},
				{name: "clone", table: tabX86, arch: auditI386, args: [6]uint64{0x11 | unix.CLONE_NEWNET}, want: retErrno(1)},
				{name: "clone3", table: tabX86_64, arch: auditX86_64, want: retErrno(unix.ENOSYS)},
			},
		},
		{
			name: "args-anded-same-arg-ored",
			sc: specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
				{Names: []string{"mmap"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{
					{Index: 2, Value: 4, ValueTwo: 4, Op: specs.OpMaskedEqual},       // PROT_EXEC
					{Index: 3, Value: 0x20, ValueTwo: 0x20, Op: specs.OpMaskedEqual}, // MAP_ANONYMOUS
				}},
				// Two conditions on one argument are ORed, as runc adds
				// them (one rule each): either value matches.
				{Names: []string{"personality"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{
					{Index: 0, Value: 10, Op: specs.OpEqualTo},
					{Index: 0, Value: 19, Op: specs.OpEqualTo},
				}},
			}},
			probes: []probe{
				{name: "mmap", table: tabX86_64, arch: auditX86_64, args: [6]uint64{0, 4096, 5, 0x22}, want: retErrno(unix.EPERM)},
				{name: "mmap", table: tabX86_64, arch: auditX86_64, args: [6]uint64{0, 4096, 3, 0x22}, want: retAllow},
				{name: "mmap", table: tabX86_64, arch: auditX86_64, args: [6]uint64{0, 4096, 5, 0x2}, want: retAllow},
				{name: "personality", table: tabX86_64, arch: auditX86_64, args: [6]uint64{9}, want: retAllow},
				{name: "personality", table: tabX86_64, arch: auditX86_64, args: [6]uint64{10}, want: retErrno(unix.EPERM)},
				{name: "personality", table: tabX86_64, arch: auditX86_64, args: [6]uint64{19}, want: retErrno(unix.EPERM)},
				{name: "personality", table: tabX86_64, arch: auditX86_64, args: [6]uint64{15}, want: retAllow},
				{name: "personality", table: tabX86_64, arch: auditX86_64, args: [6]uint64{20}, want: retAllow},
				{name: "personality", table: tabX86_64, arch: auditX86_64, args: [6]uint64{1<<32 | 10}, want: retAllow},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prog := mustCompile(t, &tc.sc)
			for _, p := range tc.probes {
				d := p.data(t)
				if got := verdict(t, prog, d); got != p.want {
					t.Errorf("%s (nr %#x, arch %#x, args %#x): got %#x, want %#x", p.name, d.nr, d.arch, d.args, got, p.want)
				}
			}
		})
	}
}

// TestCompileComparisons checks every operator against Go's own
// comparison: 64-bit on x86_64; on the 32-bit ABIs (i386, whose high words
// are 0, and x32, whose are not) of the low words only, the value's high
// word dropped, as libseccomp compiles them.
func TestCompileComparisons(t *testing.T) {
	requireAmd64(t)
	values := []uint64{0, 1, 5, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 1 << 32, 1<<32 | 5, 5<<32 | 5,
		0x7fffffff_ffffffff, 0x80000000_00000000, 0xffffffff_fffffffe, 0xffffffff_ffffffff}
	holds := func(op specs.LinuxSeccompOperator, arg, v, v2 uint64, low bool) bool {
		if low {
			arg, v, v2 = arg&0xffffffff, v&0xffffffff, v2&0xffffffff
		}
		switch op {
		case specs.OpEqualTo:
			return arg == v
		case specs.OpNotEqual:
			return arg != v
		case specs.OpLessThan:
			return arg < v
		case specs.OpLessEqual:
			return arg <= v
		case specs.OpGreaterThan:
			return arg > v
		case specs.OpGreaterEqual:
			return arg >= v
		case specs.OpMaskedEqual:
			return arg&v == v2
		}
		panic(op)
	}
	masks := [][2]uint64{{0xff, 5}, {0xffffffff_00000000, 5 << 32}, {0x7E020000, 0}, {0xffffffff_ffffffff, 1<<32 | 5}, {0, 0}, {0, 1}, {1 << 40, 1 << 40}, {0xf, 0x10}}
	for _, op := range Operators() {
		op := specs.LinuxSeccompOperator(op)
		type rv struct{ v, v2 uint64 }
		var rvs []rv
		if op == specs.OpMaskedEqual {
			for _, m := range masks {
				rvs = append(rvs, rv{m[0], m[1]})
			}
		} else {
			for _, v := range values {
				rvs = append(rvs, rv{v: v})
			}
		}
		for _, r := range rvs {
			sc := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchX86, specs.ArchX32},
				Syscalls: []specs.LinuxSyscall{{Names: []string{"personality"}, Action: specs.ActErrno,
					Args: []specs.LinuxSeccompArg{{Index: 3, Value: r.v, ValueTwo: r.v2, Op: op}}}}}
			prog := mustCompile(t, sc)
			for _, arg := range append(values, r.v, r.v+1, r.v-1, r.v2, r.v2+1, r.v2-1) {
				for _, abi := range []struct {
					table int
					arch  uint32
					low   bool
				}{{tabX86_64, auditX86_64, false}, {tabX86, auditI386, true}, {tabX32, auditX86_64, true}} {
					if abi.table == tabX86 && arg > 0xffffffff {
						continue // the kernel zero-extends i386's arguments
					}
					d := seccompData{nr: sysnr(t, "personality", abi.table), arch: abi.arch}
					d.args[3] = arg
					want := uint32(retAllow)
					if holds(op, arg, r.v, r.v2, abi.low) {
						want = retErrno(unix.EPERM)
					}
					if got := verdict(t, prog, d); got != want {
						t.Errorf("%s value %#x valueTwo %#x, arg %#x, arch %#x: got %#x, want %#x", op, r.v, r.v2, arg, abi.arch, got, want)
					}
				}
			}
		}
	}
}

func TestCompilePrecedence(t *testing.T) {
	requireAmd64(t)
	cond := func(v uint64) []specs.LinuxSeccompArg {
		return []specs.LinuxSeccompArg{{Index: 0, Value: v, Op: specs.OpEqualTo}}
	}
	for _, tc := range []struct {
		name  string
		def   specs.LinuxSeccompAction
		rules []specs.LinuxSyscall
		args  uint64
		want  uint32
	}{
		{"first-unconditional-wins", specs.ActAllow, []specs.LinuxSyscall{
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(11)},
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(22)},
		}, 0, retErrno(11)},
		{"unconditional-overrides-earlier-conditional", specs.ActAllow, []specs.LinuxSyscall{
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(11), Args: cond(7)},
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(22)},
		}, 7, retErrno(22)},
		{"unconditional-overrides-later-conditional", specs.ActAllow, []specs.LinuxSyscall{
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(22)},
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(11), Args: cond(7)},
		}, 7, retErrno(22)},
		// Several conditional rules hold: libseccomp's order decides
		// (condOrder), not the profile's.
		{"eq-before-gt", specs.ActAllow, []specs.LinuxSyscall{
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(11), Args: []specs.LinuxSeccompArg{{Index: 0, Value: 5, Op: specs.OpGreaterThan}}},
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(22), Args: cond(7)},
		}, 7, retErrno(22)},
		{"higher-argument-first", specs.ActAllow, []specs.LinuxSyscall{
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(3), Args: cond(7)},
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(4), Args: []specs.LinuxSeccompArg{{Index: 1, Value: 0, Op: specs.OpEqualTo}}},
		}, 7, retErrno(4)},
		{"higher-argument-first-either-order", specs.ActAllow, []specs.LinuxSyscall{
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(4), Args: []specs.LinuxSeccompArg{{Index: 1, Value: 0, Op: specs.OpEqualTo}}},
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(3), Args: cond(7)},
		}, 7, retErrno(4)},
		{"greater-gt-value-first", specs.ActAllow, []specs.LinuxSyscall{
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(3), Args: []specs.LinuxSeccompArg{{Index: 0, Value: 1, Op: specs.OpGreaterThan}}},
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(4), Args: []specs.LinuxSeccompArg{{Index: 0, Value: 5, Op: specs.OpGreaterEqual}}},
		}, 7, retErrno(4)},
		{"smaller-lt-value-first", specs.ActAllow, []specs.LinuxSyscall{
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(3), Args: []specs.LinuxSeccompArg{{Index: 0, Value: 100, Op: specs.OpLessThan}}},
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(4), Args: []specs.LinuxSeccompArg{{Index: 0, Value: 10, Op: specs.OpLessEqual}}},
		}, 7, retErrno(4)},
		{"shorter-rule-first", specs.ActAllow, []specs.LinuxSyscall{
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(4), Args: cond(7)},
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(3), Args: []specs.LinuxSeccompArg{{Index: 0, Value: 7, Op: specs.OpEqualTo}, {Index: 1, Value: 0, Op: specs.OpEqualTo}}},
		}, 7, retErrno(4)},
		// libseccomp refuses this order (EEXIST); Carapace gives it the
		// meaning of the other.
		{"shorter-rule-first-either-order", specs.ActAllow, []specs.LinuxSyscall{
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(3), Args: []specs.LinuxSeccompArg{{Index: 0, Value: 7, Op: specs.OpEqualTo}, {Index: 1, Value: 0, Op: specs.OpEqualTo}}},
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(4), Args: cond(7)},
		}, 7, retErrno(4)},
		{"later-conditional-when-the-first-does-not-hold", specs.ActAllow, []specs.LinuxSyscall{
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(11), Args: cond(8)},
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(22), Args: cond(7)},
		}, 7, retErrno(22)},
		{"no-conditional-holds-default", specs.ActAllow, []specs.LinuxSyscall{
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(11), Args: cond(8)},
		}, 7, retAllow},
		// A rule with the default action is dropped: it does not hide the
		// rule after it.
		{"default-action-rule-dropped", specs.ActErrno, []specs.LinuxSyscall{
			{Names: []string{"mkdir"}, Action: specs.ActErrno},
			{Names: []string{"mkdir"}, Action: specs.ActAllow},
		}, 0, retAllow},
		// Same action, another errno: not the default action, kept.
		{"other-errno-is-not-the-default", specs.ActErrno, []specs.LinuxSyscall{
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(5)},
			{Names: []string{"mkdir"}, Action: specs.ActAllow},
		}, 0, retErrno(5)},
		{"identical-conditions-same-action", specs.ActAllow, []specs.LinuxSyscall{
			{Names: []string{"mkdir"}, Action: specs.ActErrno, Args: cond(7)},
			{Names: []string{"mkdir", "rmdir"}, Action: specs.ActErrno, Args: cond(7)},
		}, 7, retErrno(unix.EPERM)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prog := mustCompile(t, &specs.LinuxSeccomp{DefaultAction: tc.def, Syscalls: tc.rules})
			d := seccompData{nr: sysnr(t, "mkdir", tabX86_64), arch: auditX86_64, args: [6]uint64{tc.args}}
			if got := verdict(t, prog, d); got != tc.want {
				t.Errorf("got %#x, want %#x", got, tc.want)
			}
		})
	}
	t.Run("identical-conditions-other-action-refused", func(t *testing.T) {
		_, err := Compile(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mkdir"}, Action: specs.ActErrno, Args: cond(7)},
			{Names: []string{"mkdir"}, Action: specs.ActKillProcess, Args: cond(7)},
		}}, nil)
		if err == nil || !strings.Contains(err.Error(), "linux.seccomp.syscalls[1]:") || !strings.Contains(err.Error(), "syscalls[0]") {
			t.Errorf("got %v", err)
		}
	})
}

// TestCompileLongProgram: far more than 255 instructions between a test and
// its target, so the layout must use trampolines; every syscall still gets
// its own verdict.
func TestCompileLongProgram(t *testing.T) {
	requireAmd64(t)
	var rules []specs.LinuxSyscall
	var names []string
	for _, e := range syscallTable {
		if e.nr[tabX86_64] < 0 || len(names) == 150 {
			continue
		}
		names = append(names, e.name)
		// Three conditions each, with 64-bit values: ~12 instructions a
		// syscall.
		rules = append(rules, specs.LinuxSyscall{Names: []string{e.name}, Action: specs.ActErrno, ErrnoRet: errnoPtr(uint(len(names))),
			Args: []specs.LinuxSeccompArg{
				{Index: 0, Value: uint64(e.nr[tabX86_64])<<32 | 7, Op: specs.OpEqualTo},
				{Index: 1, Value: 3, Op: specs.OpLessEqual},
			}})
	}
	sc := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchX86}, Syscalls: rules}
	prog := mustCompile(t, sc)
	trampolines := 0
	for i, in := range prog[:len(prog)-1] {
		if isCond(in.Code) && (in.Jt == 0 && prog[i+1].Code == opJa || in.Jf == 1 && i+2 < len(prog) && prog[i+2].Code == opJa) {
			trampolines++
		}
	}
	t.Logf("%d rules: %d instructions, about %d trampolines", len(rules), len(prog), trampolines)
	if len(prog) < 1000 || trampolines == 0 {
		t.Fatalf("the case is meant to need trampolines: %d instructions, %d trampolines", len(prog), trampolines)
	}
	for i, name := range names {
		for _, abi := range []struct {
			table int
			arch  uint32
			hi    uint64
		}{{tabX86_64, auditX86_64, 1}, {tabX86, auditI386, 0}} {
			e := lookup(name)
			if e.nr[abi.table] < 0 {
				continue
			}
			d := seccompData{nr: uint32(e.nr[abi.table]), arch: abi.arch}
			d.args[0] = uint64(e.nr[tabX86_64])<<32*abi.hi | 7
			d.args[1] = 2
			// On i386 the low words are compared: 7 matches.
			want := retErrno(unix.Errno(i + 1))
			if got := verdict(t, prog, d); got != want {
				t.Errorf("%s on %#x: got %#x, want %#x", name, abi.arch, got, want)
			}
			d.args[1] = 4
			if got := verdict(t, prog, d); got != retAllow {
				t.Errorf("%s on %#x with arg1 4: got %#x, want allow", name, abi.arch, got)
			}
		}
	}
}

func TestCompileTooLong(t *testing.T) {
	requireAmd64(t)
	var rules []specs.LinuxSyscall
	for v := range 600 {
		rules = append(rules, specs.LinuxSyscall{Names: []string{"ioctl"}, Action: specs.ActErrno,
			Args: []specs.LinuxSeccompArg{{Index: 1, Value: uint64(v) << 32, Op: specs.OpNotEqual}, {Index: 2, Value: uint64(v), Op: specs.OpNotEqual}}})
	}
	_, err := Compile(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: rules}, nil)
	if err == nil || !strings.Contains(err.Error(), "linux.seccomp:") || !strings.Contains(err.Error(), "4096") {
		t.Fatalf("want an error about the kernel's limit, got %v", err)
	}
}

func TestValidateErrors(t *testing.T) {
	ok := func(sc *specs.LinuxSeccomp) *specs.LinuxSeccomp { return sc }
	base := func() *specs.LinuxSeccomp {
		return &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read"}, Action: specs.ActAllow},
			{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 8, Op: specs.OpEqualTo}}},
		}}
	}
	for _, tc := range []struct {
		name string
		mod  func(sc *specs.LinuxSeccomp)
		want string // "" for valid
	}{
		{"valid", func(sc *specs.LinuxSeccomp) {}, ""},
		{"unknown-default-action", func(sc *specs.LinuxSeccomp) { sc.DefaultAction = "SCMP_ACT_FOO" }, `linux.seccomp.defaultAction: "SCMP_ACT_FOO": unknown action`},
		{"unknown-action", func(sc *specs.LinuxSeccomp) { sc.Syscalls[1].Action = "SCMP_ACT_BAR" }, `linux.seccomp.syscalls[1].action: "SCMP_ACT_BAR": unknown action`},
		{"unknown-arch", func(sc *specs.LinuxSeccomp) { sc.Architectures = []specs.Arch{specs.ArchX86, "SCMP_ARCH_VAX"} }, `linux.seccomp.architectures[1]: "SCMP_ARCH_VAX": unknown architecture`},
		{"unknown-op", func(sc *specs.LinuxSeccomp) { sc.Syscalls[1].Args[0].Op = "SCMP_CMP_XX" }, `linux.seccomp.syscalls[1].args[0].op: "SCMP_CMP_XX": unknown operator`},
		{"arg-index", func(sc *specs.LinuxSeccomp) { sc.Syscalls[1].Args[0].Index = 6 }, `linux.seccomp.syscalls[1].args[0].index: 6: out of range`},
		{"unknown-flag", func(sc *specs.LinuxSeccomp) {
			sc.Flags = []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_FOO"}
		}, `linux.seccomp.flags[1]: "SECCOMP_FILTER_FLAG_FOO": unknown flag`},
		{"empty-names", func(sc *specs.LinuxSeccomp) { sc.Syscalls[0].Names = nil }, `linux.seccomp.syscalls[0].names: empty`},
		{"empty-name", func(sc *specs.LinuxSeccomp) { sc.Syscalls[0].Names = []string{"read", ""} }, `linux.seccomp.syscalls[0].names[1]: empty`},
		{"errnoRet-on-allow", func(sc *specs.LinuxSeccomp) { sc.Syscalls[0].ErrnoRet = errnoPtr(1) }, `linux.seccomp.syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE`},
		{"defaultErrnoRet-on-kill", func(sc *specs.LinuxSeccomp) { sc.DefaultAction = specs.ActKill; sc.DefaultErrnoRet = errnoPtr(1) }, `linux.seccomp.defaultErrnoRet: only`},
		{"errno-too-big", func(sc *specs.LinuxSeccomp) { sc.DefaultErrnoRet = errnoPtr(4096) }, `linux.seccomp.defaultErrnoRet: 4096: out of range`},
		{"trace-value-too-big", func(sc *specs.LinuxSeccomp) {
			sc.Syscalls[0].Action, sc.Syscalls[0].ErrnoRet = specs.ActTrace, errnoPtr(65536)
		}, `linux.seccomp.syscalls[0].errnoRet: 65536: out of range`},
		{"notify-default", func(sc *specs.LinuxSeccomp) { sc.DefaultAction = specs.ActNotify; sc.ListenerPath = "/run/x.sock" }, `linux.seccomp.defaultAction: "SCMP_ACT_NOTIFY": not allowed`},
		{"notify-without-listener", func(sc *specs.LinuxSeccomp) { sc.Syscalls[0].Action = specs.ActNotify }, `linux.seccomp.listenerPath: required`},
		{"notify-relative-listener", func(sc *specs.LinuxSeccomp) {
			sc.Syscalls[0].Action, sc.ListenerPath = specs.ActNotify, "x.sock"
		}, `linux.seccomp.listenerPath: "x.sock": not an absolute path`},
		{"notify-write", func(sc *specs.LinuxSeccomp) {
			sc.Syscalls[0].Action, sc.Syscalls[0].Names, sc.ListenerPath = specs.ActNotify, []string{"read", "write"}, "/x.sock"
		}, `linux.seccomp.syscalls[0].names[1]: "write": SCMP_ACT_NOTIFY is not allowed for write`},
		{"foreign-arch-accepted", func(sc *specs.LinuxSeccomp) { sc.Architectures = []specs.Arch{specs.ArchPPC64LE} }, ""},
		{"unknown-syscall-accepted", func(sc *specs.LinuxSeccomp) { sc.Syscalls[0].Names = []string{"read", "e2e_not_a_syscall"} }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := ok(base())
			tc.mod(sc)
			err := Validate(sc)
			if _, cerr := Compile(sc, nil); (cerr == nil) != (err == nil) {
				t.Errorf("Validate says %v, Compile %v", err, cerr)
			}
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("want valid, got %v", err)
			case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
				t.Errorf("got %v, want %q...", err, tc.want)
			}
		})
	}
}

func TestTables(t *testing.T) {
	for _, tc := range []struct {
		name  string
		table int
		want  int32
	}{
		{"read", tabX86_64, 0}, {"execve", tabX86_64, 59}, {"clone3", tabX86_64, 435},
		{"execve", tabX32, x32SyscallBit + 520}, {"read", tabX32, x32SyscallBit}, {"openat2", tabX32, x32SyscallBit + 437},
		{"uselib", tabX32, -1}, {"socketcall", tabX86, 102}, {"mmap2", tabX86, 192},
		{"openat", tabAARCH64, 56}, {"open", tabAARCH64, -1}, {"newfstatat", tabAARCH64, 79},
		{"breakpoint", tabARM, 0x0f0001}, {"set_tls", tabARM, 0x0f0005}, {"arm_fadvise64_64", tabARM, 270},
		{"no_such_syscall", tabX86_64, -1},
	} {
		got := int32(-1)
		if e := lookup(tc.name); e != nil {
			got = e.nr[tc.table]
		}
		if got != tc.want {
			t.Errorf("%s in table %d: %d, want %d", tc.name, tc.table, got, tc.want)
		}
	}
	if !slices.IsSortedFunc(syscallTable[:], func(a, b syscallEntry) int { return strings.Compare(a.name, b.name) }) {
		t.Error("syscallTable is not sorted by name")
	}
}

func TestProgramJSON(t *testing.T) {
	requireAmd64(t)
	p, err := Compile(dockerLike(), nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Flags = unix.SECCOMP_FILTER_FLAG_LOG
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var q Program
	if err := json.Unmarshal(b, &q); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Insns, q.Insns) || p.Flags != q.Flags || p.Notify != q.Notify {
		t.Errorf("round trip changed the program")
	}
	t.Logf("%d instructions: %d bytes of JSON", len(p.Insns), len(b))
}

// TestDockerLikeCost measures the docker-like profile: its size, and the
// instructions a syscall runs through.
func TestDockerLikeCost(t *testing.T) {
	requireAmd64(t)
	sc := dockerLike()
	prog := mustCompile(t, sc)
	worst, total, n := 0, 0, 0
	for nr := uint32(0); nr < 480; nr++ {
		_, steps, err := runBPF(prog, seccompData{nr: nr, arch: auditX86_64})
		if err != nil {
			t.Fatal(err)
		}
		worst = max(worst, steps)
		total += steps
		n++
	}
	_, getppid, _ := runBPF(prog, seccompData{nr: unix.SYS_GETPPID, arch: auditX86_64})
	t.Logf("docker-like profile (%d rules): %d instructions; x86_64 syscalls run %d on average, %d at most; getppid %d",
		len(sc.Syscalls), len(prog), total/n, worst, getppid)
	if worst > 30 {
		t.Errorf("a syscall runs through %d instructions: the search is not logarithmic", worst)
	}
	for _, c := range []struct {
		name string
		args [6]uint64
		want uint32
	}{
		{"getppid", [6]uint64{}, retAllow},
		{"mkdir", [6]uint64{}, retAllow},
		{"unshare", [6]uint64{}, retErrno(unix.EPERM)},
		{"mount", [6]uint64{}, retErrno(unix.EPERM)},
		{"clone3", [6]uint64{}, retErrno(unix.ENOSYS)},
		{"personality", [6]uint64{8}, retAllow},
		{"personality", [6]uint64{0x0400000}, retErrno(unix.EPERM)},
		{"socket", [6]uint64{unix.AF_INET}, retAllow},
		{"socket", [6]uint64{unix.AF_VSOCK}, retErrno(unix.EPERM)},
	} {
		if got := verdict(t, prog, seccompData{nr: sysnr(t, c.name, tabX86_64), arch: auditX86_64, args: c.args}); got != c.want {
			t.Errorf("%s %#x: got %#x, want %#x", c.name, c.args[0], got, c.want)
		}
	}
}

// dockerLike is a profile shaped like docker's default: errno by default, a
// long allowlist, clone limited by MASKED_EQ, clone3 answering ENOSYS. The
// e2e suite runs containers under the same file.
func dockerLike() *specs.LinuxSeccomp {
	b, err := os.ReadFile("testdata/docker-like.json")
	if err != nil {
		panic(err)
	}
	var sc specs.LinuxSeccomp
	if err := json.Unmarshal(b, &sc); err != nil {
		panic(err)
	}
	return &sc
}

// BenchmarkCompileDockerLike: what a container with docker's profile pays
// at create for the filter.
func BenchmarkCompileDockerLike(b *testing.B) {
	sc := dockerLike()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(sc, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCompileI386Multiplexers: on i386 a rule for a socket or SysV IPC
// syscall also holds for socketcall(2) or ipc(2) with its call number in
// arg0, as libseccomp builds it: socketcall(SYS_SOCKET) must not dodge a
// rule on socket.
func TestCompileI386Multiplexers(t *testing.T) {
	requireAmd64(t)
	x86 := []specs.Arch{specs.ArchX86_64, specs.ArchX86}
	sock, ipc := u32(i386Socketcall), u32(i386IPC)
	for _, tc := range []struct {
		name   string
		sc     specs.LinuxSeccomp
		probes []probe
	}{
		{"deny-list", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: x86, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"socket", "accept", "shmget", "semop"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(13)}}},
			[]probe{
				{nr: sock, arch: auditI386, args: [6]uint64{1}, want: retErrno(13)}, // SYS_SOCKET
				{nr: sock, arch: auditI386, args: [6]uint64{5}, want: retErrno(13)}, // SYS_ACCEPT: no direct syscall on i386
				{nr: sock, arch: auditI386, args: [6]uint64{3}, want: retAllow},     // SYS_CONNECT
				{name: "socket", table: tabX86, arch: auditI386, want: retErrno(13)},
				{nr: ipc, arch: auditI386, args: [6]uint64{23}, want: retErrno(13)}, // SHMGET
				{nr: ipc, arch: auditI386, args: [6]uint64{1}, want: retErrno(13)},  // SEMOP
				// ipc(2) takes the call from the low 16 bits; the high ones
				// are a version.
				{nr: ipc, arch: auditI386, args: [6]uint64{1<<16 | 23}, want: retErrno(13)},
				{nr: ipc, arch: auditI386, args: [6]uint64{21}, want: retAllow}, // SHMAT
				{name: "shmget", table: tabX86, arch: auditI386, want: retErrno(13)},
				// x86_64 has no multiplexer: 102 there is getuid.
				{nr: sock, arch: auditX86_64, args: [6]uint64{1}, want: retAllow},
				{name: "socket", table: tabX86_64, arch: auditX86_64, want: retErrno(13)},
			}},
		{"allow-list", specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: x86, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"socket", "recv"}, Action: specs.ActAllow}, {Names: []string{"read"}, Action: specs.ActAllow}}},
			[]probe{
				{nr: sock, arch: auditI386, args: [6]uint64{1}, want: retAllow},
				{nr: sock, arch: auditI386, args: [6]uint64{10}, want: retAllow}, // SYS_RECV
				{nr: sock, arch: auditI386, args: [6]uint64{2}, want: retErrno(unix.EPERM)},
				{nr: sock, arch: auditI386, args: [6]uint64{1 << 32}, want: retErrno(unix.EPERM)},
				{nr: ipc, arch: auditI386, args: [6]uint64{23}, want: retErrno(unix.EPERM)},
			}},
		// The condition on arg0 gives way to the call number (the real
		// arguments are in memory); the others test the multiplexer's
		// registers, as libseccomp.
		{"conditions", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: x86, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"socket"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(13), Args: []specs.LinuxSeccompArg{
				{Index: 0, Value: unix.AF_NETLINK, Op: specs.OpEqualTo}, {Index: 2, Value: 9, Op: specs.OpEqualTo}}}}},
			[]probe{
				{nr: sock, arch: auditI386, args: [6]uint64{1, 0, 9}, want: retErrno(13)},
				{nr: sock, arch: auditI386, args: [6]uint64{1, 0, 8}, want: retAllow},
				{nr: sock, arch: auditI386, args: [6]uint64{unix.AF_NETLINK, 0, 9}, want: retAllow},
				{name: "socket", table: tabX86, arch: auditI386, args: [6]uint64{unix.AF_NETLINK, 0, 9}, want: retErrno(13)},
				{name: "socket", table: tabX86, arch: auditI386, args: [6]uint64{unix.AF_INET, 0, 9}, want: retAllow},
			}},
		// A rule without conditions on socketcall itself overrides them.
		{"socketcall-rule-overrides", specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: x86, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"socket"}, Action: specs.ActAllow}, {Names: []string{"socketcall"}, Action: specs.ActLog}}},
			[]probe{
				{nr: sock, arch: auditI386, args: [6]uint64{1}, want: unix.SECCOMP_RET_LOG},
				{nr: sock, arch: auditI386, args: [6]uint64{2}, want: unix.SECCOMP_RET_LOG},
			}},
		// Without i386 in the filter there is nothing to multiplex.
		{"no-i386", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"accept"}, Action: specs.ActErrno}}},
			[]probe{
				{nr: sock, arch: auditI386, args: [6]uint64{5}, want: retKillP},
				{name: "accept", table: tabX86_64, arch: auditX86_64, want: retErrno(unix.EPERM)},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prog := mustCompile(t, &tc.sc)
			for _, p := range tc.probes {
				if got := verdict(t, prog, p.data(t)); got != p.want {
					t.Errorf("%+v: got %#x, want %#x", p, got, p.want)
				}
			}
		})
	}
}
