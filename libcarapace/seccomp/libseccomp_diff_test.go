//go:build libseccomp && cgo

package seccomp

// The differential test: the same profiles compiled by Carapace and by
// libseccomp as runc uses it (internal/libseccomp), both programs run by
// the interpreter of bpfvm_test.go on every syscall number of each ABI an
// x86_64 kernel runs (x86_64, x32, i386) with argument values at the edges
// of each comparison the profile makes, and the verdicts (action and data)
// must be the same.
//
// runc's filter is libseccomp's program behind runc's -ENOSYS stub
// (libcontainer/seccomp/patchbpf): the stub is runc's, not libseccomp's, so
// runcStub models it from patchbpf's generatePatch and the comparison is
// with what runc loads. A few differences are Carapace's on purpose; each
// is recognised by keptOnPurpose, counted and logged, and nothing else may
// differ.
//
// go test -tags libseccomp needs libseccomp-dev (scripts/install-deps.sh).

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/seccomp/internal/libseccomp"
)

// abi is one of the ways a syscall reaches an x86_64 kernel.
type abi struct {
	arch   specs.Arch
	audit  uint32
	table  int
	args32 bool // the kernel zero-extends 32-bit arguments
	base   uint32
}

var diffABIs = []abi{
	{arch: specs.ArchX86_64, audit: unix.AUDIT_ARCH_X86_64, table: tabX86_64},
	{arch: specs.ArchX32, audit: unix.AUDIT_ARCH_X86_64, table: tabX32, base: x32SyscallBit},
	{arch: specs.ArchX86, audit: unix.AUDIT_ARCH_I386, table: tabX86, args32: true},
}

// numbers are the syscall numbers put to the filters for an ABI: all of the
// table and 64 beyond, and numbers far outside it.
func (a abi) numbers() []uint32 {
	hi := uint32(0)
	for _, e := range syscallTable {
		if n := e.nr[a.table]; n >= 0 {
			hi = max(hi, uint32(n)-a.base)
		}
	}
	var out []uint32
	for n := uint32(0); n <= hi+64; n++ {
		out = append(out, a.base+n)
	}
	out = append(out, a.base+1024, a.base+4095, a.base+0x3fffffff)
	if a.base == 0 {
		out = append(out, 0x3fffffff, 0x80000000, 0xfffffffe, 0xffffffff)
	}
	return out
}

// runcStub is runc's -ENOSYS stub: per architecture of the profile (and the
// native one), a syscall numbered above the highest the profile names
// returns ENOSYS, unless the default action lets syscalls through (allow,
// log, trace) or is already ENOSYS. Numbers come from libseccomp, as runc
// gets them (findLastSyscalls).
type runcStub struct {
	on  bool
	max map[uint32]map[bool]uint32 // audit arch → x32 → highest number
}

func newRuncStub(sc *specs.LinuxSeccomp) runcStub {
	s := runcStub{max: map[uint32]map[bool]uint32{}}
	if sc.DefaultErrnoRet != nil && *sc.DefaultErrnoRet == uint(unix.ENOSYS) {
		return s
	}
	switch sc.DefaultAction {
	case specs.ActAllow, specs.ActLog, specs.ActTrace:
		return s
	}
	s.on = true
	arches := append([]specs.Arch{specs.ArchX86_64}, sc.Architectures...)
	for _, a := range arches {
		info, ok := archs[a]
		if !ok {
			continue // not an ABI of this host: its syscalls never come
		}
		var largest int32
		for _, r := range sc.Syscalls {
			for _, n := range r.Names {
				if nr, ok := libseccomp.Resolve(a, n); ok && nr > largest {
					largest = nr
				}
			}
		}
		if largest == 0 {
			continue
		}
		if s.max[info.audit] == nil {
			s.max[info.audit] = map[bool]uint32{}
		}
		s.max[info.audit][info.x32] = uint32(largest)
	}
	return s
}

// enosys reports whether the stub returns ENOSYS for d.
func (s runcStub) enosys(d seccompData) bool {
	m := s.max[d.arch]
	if !s.on || m == nil {
		return false
	}
	x32 := d.nr&x32SyscallBit != 0
	if d.arch != unix.AUDIT_ARCH_X86_64 {
		x32 = false
	}
	hi, ok := m[x32]
	if !ok {
		return false // x86_64 without x32 or the reverse: the filter decides
	}
	return d.nr > hi
}

type diffProfile struct {
	name string
	sc   *specs.LinuxSeccomp
}

func loadProfile(t *testing.T, path string) *specs.LinuxSeccomp {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sc specs.LinuxSeccomp
	if err := json.Unmarshal(b, &sc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &sc
}

// onlyLibseccompNames drops the syscall names libseccomp does not know:
// runc skips them, Carapace (whose tables are newer) does not, and that
// difference is the library's age, not the compilers'. Names Carapace does
// not know stay: libseccomp knowing one would be a gap in Carapace's tables.
func onlyLibseccompNames(sc *specs.LinuxSeccomp) (*specs.LinuxSeccomp, []string) {
	out := *sc
	out.Syscalls = nil
	var dropped []string
	for _, s := range sc.Syscalls {
		var names []string
		for _, n := range s.Names {
			if libseccomp.Known(n) {
				names = append(names, n)
			} else if !slices.Contains(dropped, n) {
				dropped = append(dropped, n)
			}
		}
		if len(names) > 0 {
			s.Names = names
			out.Syscalls = append(out.Syscalls, s)
		}
	}
	return &out, dropped
}

// edges are argument values around one comparison: the value and its
// neighbours, with the high word changed or cleared, and for a mask the
// expected value with bits inside and outside the mask flipped.
func edges(a specs.LinuxSeccompArg) []uint64 {
	around := func(v uint64) []uint64 {
		return []uint64{v, v - 1, v + 1, v + 1<<32, v - 1<<32, v & 0xffffffff, v &^ 0xffffffff,
			v | 0xffffffff, v | 0xffffffff<<32, v ^ 0x80000000, v ^ 1<<63}
	}
	out := []uint64{0, math.MaxUint64, 1 << 32, 1<<32 - 1}
	if a.Op != specs.OpMaskedEqual {
		return append(out, around(a.Value)...)
	}
	mask, want := a.Value, a.ValueTwo
	out = append(out, around(want)...)
	out = append(out, want|^mask, want&mask, ^want&mask, ^want)
	for _, bits := range []uint64{mask, mask & 0xffffffff, mask &^ 0xffffffff} {
		if bits != 0 {
			low := bits & -bits
			high := uint64(1) << (63 - uint(leadingZeros(bits)))
			out = append(out, want^low, want^high, (want&mask)^low)
		}
	}
	return out
}

func leadingZeros(v uint64) int {
	n := 0
	for i := 63; i >= 0 && v&(1<<uint(i)) == 0; i-- {
		n++
	}
	return n
}

// vectors are the argument vectors for one syscall on one ABI: every
// combination of the edge values of the arguments the profile compares
// (the others 0), plus all zeros and all ones.
func vectors(conds []specs.LinuxSeccompArg, args32 bool, extra0 []uint64) [][6]uint64 {
	cand := map[uint][]uint64{}
	add := func(i uint, vs ...uint64) {
		for _, v := range vs {
			if args32 {
				v &= 0xffffffff
			}
			if !slices.Contains(cand[i], v) {
				cand[i] = append(cand[i], v)
			}
		}
	}
	for _, c := range conds {
		add(c.Index, edges(c)...)
	}
	add(0, extra0...)
	ones := uint64(math.MaxUint64)
	if args32 {
		ones = 0xffffffff
	}
	out := [][6]uint64{{}, {ones, ones, ones, ones, ones, ones}}
	idx := make([]uint, 0, len(cand))
	for i := range cand {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	var rec func(k int, v [6]uint64)
	rec = func(k int, v [6]uint64) {
		if k == len(idx) {
			out = append(out, v)
			return
		}
		for _, x := range cand[idx[k]] {
			v[idx[k]] = x
			rec(k+1, v)
		}
	}
	if len(idx) > 0 {
		rec(0, [6]uint64{})
	}
	return out
}

// keptOnPurpose names the difference when Carapace (c) and runc (r) differ
// on d on purpose, "" otherwise.
func keptOnPurpose(sc *specs.LinuxSeccomp, d seccompData, c, r uint32) string {
	x32 := d.arch == unix.AUDIT_ARCH_X86_64 && d.nr&x32SyscallBit != 0 && d.nr != 0xffffffff
	inFilter := func() bool {
		for _, a := range append([]specs.Arch{specs.ArchX86_64}, sc.Architectures...) {
			if info, ok := archs[a]; ok && info.audit == d.arch && (d.arch != unix.AUDIT_ARCH_X86_64 || info.x32 == x32) {
				return true
			}
		}
		return false
	}
	enosys := uint32(unix.SECCOMP_RET_ERRNO | unix.ENOSYS)
	switch {
	case c == unix.SECCOMP_RET_KILL_PROCESS && r == unix.SECCOMP_RET_KILL_THREAD && !inFilter():
		// libseccomp kills the thread, Carapace the process (retBadArch).
		return "a syscall of an ABI the profile leaves out kills the process, not the thread"
	case x32 && c == enosys && d.nr < x32SyscallBit+512:
		// runc's stub takes x32's highest number from the 512-547 compat
		// block (execve is 520) and returns ENOSYS for none of the newer
		// syscalls numbered below it (448-511); Carapace does.
		return "x32: ENOSYS between the profile's newest syscall and the 512-547 compat block"
	case d.arch == unix.AUDIT_ARCH_X86_64 && d.nr == 0xffffffff && c == enosys:
		// -1 is no syscall (ptrace's skipped one): the kernel says ENOSYS.
		return "x86_64 syscall -1: ENOSYS"
	case d.arch == unix.AUDIT_ARCH_X86_64 && d.nr >= 0x80000000 && !x32:
		// Not a syscall of any ABI; Carapace sends every number from
		// 0x40000000 up to x32's side.
		return "x86_64 numbers with bit 31 set and bit 30 clear: x32's side"
	}
	if d.arch == unix.AUDIT_ARCH_I386 && d.nr == i386IPC && d.args[0]>>16 != 0 && d.args[0]&0xffff <= 24 {
		// The kernel takes ipc(2)'s call from the low 16 bits of arg0
		// (the high ones are a version): libseccomp compares all 32 and
		// lets ipc(SHMGET|1<<16, ...) dodge a rule on shmget.
		return "i386 ipc(2): the call number is arg0's low 16 bits"
	}
	if d.arch == unix.AUDIT_ARCH_I386 && r == enosys && c != enosys {
		// runc's stub takes i386's highest number from libseccomp, which
		// resolves socket, shmget... to pseudo numbers there: their
		// direct syscalls (socket is 359) do not count, and get ENOSYS
		// when the profile's other syscalls are older. Carapace counts
		// them: the profile names them, so it is at least that new.
		for _, s := range sc.Syscalls {
			for _, n := range s.Names {
				if e := lookup(n); e != nil && muxCalls[n] != (muxCall{}) && e.nr[tabX86] >= 0 && uint32(e.nr[tabX86]) >= d.nr {
					return "i386: the direct socket and IPC syscalls count for the profile's newest syscall"
				}
			}
		}
	}
	for _, s := range sc.Syscalls {
		for _, n := range s.Names {
			for _, a := range diffABIs {
				e := lookup(n)
				if a.audit != d.arch || e == nil || e.nr[a.table] < 0 || uint32(e.nr[a.table]) != d.nr {
					continue
				}
				if nr, ok := libseccomp.Resolve(a.arch, n); !ok || nr < 0 {
					// Carapace's tables are newer than libseccomp 2.5.4's.
					return "libseccomp's table lacks a syscall on an ABI (" + n + " on " + string(a.arch) + ")"
				}
			}
		}
	}
	return ""
}

// synthetic are the profiles written for the test: every operator at the
// edges of 64-bit values, conditions on several arguments, rules that
// overlap, every action, every default action, and sets of architectures.
func synthetic(t *testing.T) []diffProfile {
	// Syscalls every ABI of the host has, outside the multiplexed families
	// of i386 (socketcall, ipc), in table order.
	var names []string
	skip := map[string]bool{"socketcall": true, "ipc": true, "write": true}
	for _, e := range syscallTable {
		if e.nr[tabX86_64] >= 0 && e.nr[tabX86] >= 0 && e.nr[tabX32] >= 0 && !skip[e.name] && libseccomp.Known(e.name) {
			names = append(names, e.name)
		}
	}
	next := 0
	pick := func() string {
		if next >= len(names) {
			t.Fatal("synthetic profiles: out of syscall names")
		}
		next++
		return names[next-1]
	}
	x86s := []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}
	var out []diffProfile

	// Every operator against values at the word boundaries.
	values := []uint64{0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 1 << 32, 1<<32 + 1, 1<<33 - 1,
		0xffffffff << 32, 1 << 63, math.MaxUint64}
	ops := []specs.LinuxSeccompOperator{specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual,
		specs.OpEqualTo, specs.OpGreaterEqual, specs.OpGreaterThan}
	opProf := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: x86s}
	for i, op := range ops {
		for j, v := range values {
			opProf.Syscalls = append(opProf.Syscalls, specs.LinuxSyscall{Names: []string{pick()}, Action: specs.ActAllow,
				Args: []specs.LinuxSeccompArg{{Index: uint((i + j) % 6), Value: v, Op: op}}})
		}
	}
	masks := [][2]uint64{{0xff, 0}, {0xff, 0x12}, {0xffffffff << 32, 0}, {0xffffffff << 32, 1 << 32},
		{1<<32 | 1, 1<<32 | 1}, {1<<32 | 1, 1}, {math.MaxUint64, 0x1_0000_0002}, {0, 0},
		{0x8000000000000000, 0x8000000000000000}, {unix.CLONE_NEWNS | unix.CLONE_NEWUSER, 0}}
	for j, m := range masks {
		opProf.Syscalls = append(opProf.Syscalls, specs.LinuxSyscall{Names: []string{pick()}, Action: specs.ActAllow,
			Args: []specs.LinuxSeccompArg{{Index: uint(j % 6), Value: m[0], ValueTwo: m[1], Op: specs.OpMaskedEqual}}})
	}
	out = append(out, diffProfile{"operators", opProf})

	// Several arguments, ANDed; two conditions on one argument (runc: one
	// rule each, ORed); several conditional rules on one syscall; rules
	// with and without conditions on one syscall, both orders; a rule
	// with the default action; two unconditional rules.
	e := func(n uint) *uint { return &n }
	s1, s2, s3, s4, s5, s6, s7 := pick(), pick(), pick(), pick(), pick(), pick(), pick()
	multi := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: x86s, Syscalls: []specs.LinuxSyscall{
		{Names: []string{s1}, Action: specs.ActErrno, ErrnoRet: e(1), Args: []specs.LinuxSeccompArg{
			{Index: 0, Value: 1 << 32, Op: specs.OpGreaterEqual},
			{Index: 1, Value: 0xffff, ValueTwo: 0x10, Op: specs.OpMaskedEqual},
			{Index: 3, Value: 7, Op: specs.OpNotEqual}}},
		{Names: []string{s2}, Action: specs.ActErrno, ErrnoRet: e(2), Args: []specs.LinuxSeccompArg{
			{Index: 2, Value: 5, Op: specs.OpEqualTo},
			{Index: 2, Value: 1<<32 + 5, Op: specs.OpEqualTo},
			{Index: 4, Value: 0x80000000, Op: specs.OpLessThan}}},
		{Names: []string{s3}, Action: specs.ActErrno, ErrnoRet: e(3), Args: []specs.LinuxSeccompArg{
			{Index: 0, Value: 10, Op: specs.OpEqualTo}}},
		{Names: []string{s3}, Action: specs.ActErrno, ErrnoRet: e(4), Args: []specs.LinuxSeccompArg{
			{Index: 0, Value: 20, Op: specs.OpEqualTo}}},
		{Names: []string{s4}, Action: specs.ActErrno, ErrnoRet: e(5), Args: []specs.LinuxSeccompArg{
			{Index: 0, Value: 10, Op: specs.OpEqualTo}}},
		{Names: []string{s4}, Action: specs.ActErrno, ErrnoRet: e(6)},
		{Names: []string{s5}, Action: specs.ActErrno, ErrnoRet: e(7)},
		{Names: []string{s5}, Action: specs.ActErrno, ErrnoRet: e(8), Args: []specs.LinuxSeccompArg{
			{Index: 0, Value: 10, Op: specs.OpEqualTo}}},
		{Names: []string{s6}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{
			{Index: 0, Value: 10, Op: specs.OpEqualTo}}},
		{Names: []string{s6}, Action: specs.ActErrno, ErrnoRet: e(9), Args: []specs.LinuxSeccompArg{
			{Index: 0, Value: 10, Op: specs.OpGreaterThan}}},
		{Names: []string{s7}, Action: specs.ActErrno, ErrnoRet: e(10)},
		{Names: []string{s7}, Action: specs.ActKillProcess},
	}}
	// Conditional rules of one syscall that hold together: libseccomp
	// tries them in its order (condOrder), not the profile's.
	overlap := [][]specs.LinuxSyscall{
		{{Action: specs.ActErrno, ErrnoRet: e(11), Args: []specs.LinuxSeccompArg{{Index: 0, Value: 10, Op: specs.OpEqualTo}}},
			{Action: specs.ActErrno, ErrnoRet: e(12), Args: []specs.LinuxSeccompArg{{Index: 1, Value: 20, Op: specs.OpEqualTo}}}},
		{{Action: specs.ActErrno, ErrnoRet: e(13), Args: []specs.LinuxSeccompArg{{Index: 0, Value: 5, Op: specs.OpGreaterThan}}},
			{Action: specs.ActErrno, ErrnoRet: e(14), Args: []specs.LinuxSeccompArg{{Index: 0, Value: 7, Op: specs.OpEqualTo}}}},
		{{Action: specs.ActErrno, ErrnoRet: e(15), Args: []specs.LinuxSeccompArg{{Index: 2, Value: 5, Op: specs.OpGreaterThan}}},
			{Action: specs.ActErrno, ErrnoRet: e(16), Args: []specs.LinuxSeccompArg{{Index: 2, Value: 10, Op: specs.OpGreaterThan}}}},
		{{Action: specs.ActErrno, ErrnoRet: e(17), Args: []specs.LinuxSeccompArg{{Index: 2, Value: 10, Op: specs.OpLessThan}}},
			{Action: specs.ActErrno, ErrnoRet: e(18), Args: []specs.LinuxSeccompArg{{Index: 2, Value: 5, Op: specs.OpLessEqual}}}},
		{{Action: specs.ActErrno, ErrnoRet: e(19), Args: []specs.LinuxSeccompArg{{Index: 0, Value: 10, Op: specs.OpEqualTo}, {Index: 3, Value: 1, Op: specs.OpEqualTo}}},
			{Action: specs.ActErrno, ErrnoRet: e(20), Args: []specs.LinuxSeccompArg{{Index: 1, Value: 20, Op: specs.OpEqualTo}, {Index: 2, Value: 2, Op: specs.OpNotEqual}}}},
		{{Action: specs.ActErrno, ErrnoRet: e(21), Args: []specs.LinuxSeccompArg{{Index: 4, Value: 0xff, ValueTwo: 1, Op: specs.OpMaskedEqual}}},
			{Action: specs.ActErrno, ErrnoRet: e(22), Args: []specs.LinuxSeccompArg{{Index: 4, Value: 3, Op: specs.OpGreaterEqual}}}},
	}
	for _, pair := range overlap {
		n := pick()
		for _, order := range [][2]int{{0, 1}, {1, 0}} {
			for _, k := range order {
				r := pair[k]
				r.Names = []string{n}
				multi.Syscalls = append(multi.Syscalls, r)
			}
			n = pick()
		}
	}
	out = append(out, diffProfile{"multi-arg", multi})

	// Every action, as rule and as default.
	acts := []specs.LinuxSyscall{
		{Action: specs.ActErrno}, {Action: specs.ActErrno, ErrnoRet: e(0)}, {Action: specs.ActErrno, ErrnoRet: e(4094)},
		{Action: specs.ActErrno, ErrnoRet: e(uint(unix.ENOSYS))}, {Action: specs.ActKill}, {Action: specs.ActKillThread},
		{Action: specs.ActKillProcess}, {Action: specs.ActTrap}, {Action: specs.ActTrace},
		{Action: specs.ActTrace, ErrnoRet: e(7)}, {Action: specs.ActLog}, {Action: specs.ActAllow}, {Action: specs.ActNotify},
	}
	var rules []specs.LinuxSyscall
	for _, a := range acts {
		a.Names = []string{pick()}
		rules = append(rules, a)
		a.Names = []string{pick()}
		a.Args = []specs.LinuxSeccompArg{{Index: 1, Value: 3, Op: specs.OpLessEqual}}
		rules = append(rules, a)
	}
	defaults := []specs.LinuxSeccomp{
		{DefaultAction: specs.ActErrno}, {DefaultAction: specs.ActErrno, DefaultErrnoRet: e(uint(unix.ENOSYS))},
		{DefaultAction: specs.ActErrno, DefaultErrnoRet: e(0)}, {DefaultAction: specs.ActKill},
		{DefaultAction: specs.ActKillProcess}, {DefaultAction: specs.ActTrap}, {DefaultAction: specs.ActTrace},
		{DefaultAction: specs.ActLog}, {DefaultAction: specs.ActAllow},
	}
	for _, d := range defaults {
		d.Architectures, d.Syscalls, d.ListenerPath = x86s, rules, "/run/agent.sock"
		name := "actions, default " + string(d.DefaultAction)
		if d.DefaultErrnoRet != nil {
			name += fmt.Sprintf("(%d)", *d.DefaultErrnoRet)
		}
		out = append(out, diffProfile{name, &d})
	}

	// Sets of architectures, foreign ones included (runc adds them to
	// libseccomp's filter, Carapace leaves them out: their syscalls cannot
	// reach this kernel).
	archRules := []specs.LinuxSyscall{
		{Names: []string{"read", "exit_group", "socketcall", "mmap2", "getpid"}, Action: specs.ActAllow},
		{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 8, Op: specs.OpEqualTo}}},
	}
	for _, as := range [][]specs.Arch{nil, {specs.ArchX86_64}, {specs.ArchX86_64, specs.ArchX32},
		{specs.ArchX86_64, specs.ArchX86}, {specs.ArchX32}, {specs.ArchX86},
		{specs.ArchX86_64, specs.ArchAARCH64, specs.ArchARM, specs.ArchMIPSEL, specs.ArchPPC64LE, specs.ArchRISCV64}} {
		out = append(out, diffProfile{fmt.Sprintf("architectures %v", as),
			&specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: as, Syscalls: archRules}})
	}

	// i386's multiplexed syscalls: libseccomp turns a rule for socket or
	// shmget into a rule on socketcall or ipc too.
	out = append(out, diffProfile{"i386 socketcall, deny list", &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow, Architectures: x86s, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"socket", "connect", "shmget", "semop"}, Action: specs.ActErrno}}}})
	out = append(out, diffProfile{"i386 socketcall, allow list", &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno, Architectures: x86s, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"socket", "accept", "shmat", "exit_group"}, Action: specs.ActAllow}}}})
	// With conditions: the one on arg0 gives way to the call number, the
	// others test the multiplexer's registers; a rule on socketcall
	// itself; every socket and IPC call.
	var all []string
	for n := range muxCalls {
		if libseccomp.Known(n) {
			all = append(all, n)
		}
	}
	slices.Sort(all)
	out = append(out, diffProfile{"i386 socketcall, conditions", &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno, Architectures: x86s, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"socket"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 40, Op: specs.OpNotEqual}}},
			{Names: []string{"connect", "semget"}, Action: specs.ActErrno, ErrnoRet: e(3), Args: []specs.LinuxSeccompArg{
				{Index: 0, Value: 2, Op: specs.OpEqualTo}, {Index: 2, Value: 16, Op: specs.OpLessEqual}}},
			{Names: []string{"msgrcv"}, Action: specs.ActTrap, Args: []specs.LinuxSeccompArg{
				{Index: 1, Value: 7, Op: specs.OpEqualTo}, {Index: 1, Value: 9, Op: specs.OpEqualTo}}},
			{Names: []string{"exit_group"}, Action: specs.ActAllow}}}})
	out = append(out, diffProfile{"i386 socketcall, every call, socketcall allowed", &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow, Architectures: x86s, Syscalls: []specs.LinuxSyscall{
			{Names: all, Action: specs.ActErrno, ErrnoRet: e(5)},
			{Names: []string{"socketcall"}, Action: specs.ActLog}}}})
	out = append(out, diffProfile{"i386 socketcall, every call, kill", &specs.LinuxSeccomp{
		DefaultAction: specs.ActKillProcess, Architectures: x86s, Syscalls: []specs.LinuxSyscall{
			{Names: all, Action: specs.ActAllow}, {Names: []string{"exit_group", "read"}, Action: specs.ActAllow}}}})
	return out
}

func TestLibseccompDifferential(t *testing.T) {
	requireAmd64(t)
	t.Logf("libseccomp %s", libseccomp.Version())
	var profiles []diffProfile
	paths, _ := filepath.Glob("testdata/profiles/*.json")
	paths = append(paths, "testdata/docker-like.json")
	for _, p := range paths {
		profiles = append(profiles, diffProfile{filepath.Base(p), loadProfile(t, p)})
	}
	profiles = append(profiles, synthetic(t)...)

	total, kept := 0, map[string]int{}
	for _, p := range profiles {
		sc, dropped := onlyLibseccompNames(p.sc)
		if len(dropped) > 0 {
			t.Logf("%s: names libseccomp %s does not know, left out of both: %s", p.name, libseccomp.Version(), strings.Join(dropped, " "))
		}
		cprog, cerr := Compile(sc, nil)
		lprog, lerr := libseccomp.Export(sc)
		if (cerr == nil) != (lerr == nil) {
			t.Errorf("%s: Carapace: %v; libseccomp: %v", p.name, cerr, lerr)
			continue
		}
		if cerr != nil {
			t.Logf("%s: both refuse it (Carapace: %v; libseccomp: %v)", p.name, cerr, lerr)
			continue
		}
		if err := checkProgram(cprog.Insns); err != nil {
			t.Fatalf("%s: Carapace's program: %v", p.name, err)
		}
		if err := checkKernel(lprog); err != nil {
			t.Fatalf("%s: libseccomp's program: %v", p.name, err)
		}
		stub := newRuncStub(sc)
		n, bad := 0, 0
		firstDiff, nDiff, order := map[[2]uint32]string{}, map[[2]uint32]int{}, [][2]uint32(nil)
		for _, a := range diffABIs {
			conds := map[uint32][]specs.LinuxSeccompArg{}
			for _, s := range sc.Syscalls {
				for _, name := range s.Names {
					if nr, ok := libseccomp.Resolve(a.arch, name); ok && nr >= 0 {
						conds[uint32(nr)] = append(conds[uint32(nr)], s.Args...)
					}
					if e := lookup(name); e != nil && e.nr[a.table] >= 0 {
						conds[uint32(e.nr[a.table])] = append(conds[uint32(e.nr[a.table])], s.Args...)
					}
				}
			}
			var mux []uint64 // socketcall's and ipc's call numbers, ipc's with a version
			for i := range uint64(25) {
				mux = append(mux, i, i|1<<16)
			}
			for _, nr := range a.numbers() {
				var extra []uint64
				if a.table == tabX86 && (nr == i386Socketcall || nr == i386IPC) {
					extra = mux
				}
				for _, args := range vectors(conds[nr], a.args32, extra) {
					d := seccompData{nr: nr, arch: a.audit, args: args}
					c, _, err := runBPF(cprog.Insns, d)
					if err != nil {
						t.Fatalf("%s: Carapace's program: %v", p.name, err)
					}
					r := uint32(unix.SECCOMP_RET_ERRNO | unix.ENOSYS)
					if !stub.enosys(d) {
						if r, _, err = runBPF(lprog, d); err != nil {
							t.Fatalf("%s: libseccomp's program: %v", p.name, err)
						}
					}
					n++
					if c == r {
						continue
					}
					if why := keptOnPurpose(sc, d, c, r); why != "" {
						kept[why]++
						continue
					}
					bad++
					k := [2]uint32{a.audit, nr}
					if _, ok := firstDiff[k]; !ok {
						order = append(order, k)
						firstDiff[k] = fmt.Sprintf("%s nr %#x args %#x: Carapace %#x, runc+libseccomp %#x", a.arch, nr, args, c, r)
					}
					nDiff[k]++
				}
			}
		}
		for i, k := range order {
			if i == 15 {
				t.Errorf("%s: differences on %d more syscalls", p.name, len(order)-i)
				break
			}
			t.Errorf("%s: %d differences, first: %s", p.name, nDiff[k], firstDiff[k])
		}
		t.Logf("%s: %d cases, %d instructions (libseccomp %d)", p.name, n, len(cprog.Insns), len(lprog))
		total += n
	}
	t.Logf("%d profiles, %d cases", len(profiles), total)
	for why, n := range kept {
		t.Logf("known difference: %s: %d cases", why, n)
	}
}
