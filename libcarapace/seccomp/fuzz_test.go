package seccomp

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// FuzzCompile: whatever linux.seccomp holds, Compile returns an error
// naming linux.seccomp, or a program the kernel would load (checkProgram
// and checkKernel: every jump inside the program, every path ending in a
// return) that the interpreter runs without a fault, on every ABI, to one
// of the verdicts the profile can give.
//
// The input is a profile as JSON, or, when it is not JSON, bytes read as a
// profile (fuzzProfile): the mutator rarely keeps JSON whole, and the byte
// form reaches rules, operators and values at random.
func FuzzCompile(f *testing.F) {
	paths, _ := filepath.Glob("testdata/profiles/*.json")
	paths = append(paths, "testdata/docker-like.json")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["socket"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":16,"op":"SCMP_CMP_EQ"},{"index":2,"value":9,"op":"SCMP_CMP_NE"}]}],"architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"]}`,
		`{"defaultAction":"SCMP_ACT_KILL_PROCESS","syscalls":[{"names":["getpid"],"action":"SCMP_ACT_ERRNO","errnoRet":3,"args":[{"index":0,"value":10,"op":"SCMP_CMP_EQ"}]},{"names":["getpid"],"action":"SCMP_ACT_ERRNO","errnoRet":4,"args":[{"index":1,"value":20,"op":"SCMP_CMP_EQ"}]}]}`,
		`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}],"listenerPath":"/run/a.sock"}`,
		`{"defaultAction":"SCMP_ACT_FOO"}`,
	} {
		f.Add([]byte(s))
	}
	f.Add([]byte{0, 3, 7, 1, 2, 0x41, 1, 0, 3, 5, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		var sc specs.LinuxSeccomp
		if json.Unmarshal(data, &sc) != nil {
			sc = fuzzProfile(data)
		}
		p, err := Compile(&sc, nil)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || !strings.HasPrefix(e.Field, "linux.seccomp") {
				t.Fatalf("error that names no field of linux.seccomp: %v", err)
			}
			return
		}
		if err := checkProgram(p.Insns); err != nil {
			t.Fatalf("program fails the kernel's check: %v", err)
		}
		if err := checkKernel(p.Insns); err != nil {
			t.Fatalf("program fails the kernel's check: %v", err)
		}
		verdicts := map[uint32]bool{
			ret(sc.DefaultAction, sc.DefaultErrnoRet):    true,
			unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS): true,
			retBadArch: true,
		}
		var values []uint64
		var names []string
		for _, s := range sc.Syscalls {
			verdicts[ret(s.Action, s.ErrnoRet)] = true
			names = append(names, s.Names...)
			for _, a := range s.Args {
				values = append(values, a.Value, a.Value+1, a.Value-1, a.ValueTwo)
			}
		}
		for _, d := range fuzzInputs(names, values) {
			v, _, err := runBPF(p.Insns, d)
			if err != nil {
				t.Fatalf("%+v: %v", d, err)
			}
			if !verdicts[v] {
				t.Fatalf("%+v: verdict %#x, not one the profile gives", d, v)
			}
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var q Program
		if err := json.Unmarshal(b, &q); err != nil || !slices.Equal(q.Insns, p.Insns) || q.Flags != p.Flags || q.Notify != p.Notify {
			t.Fatalf("the program does not survive its JSON: %v", err)
		}
	})
}

// fuzzInputs are the syscalls put to a fuzzed program: the named ones on
// each ABI of the host, numbers at the edges, with argument values the
// profile compares (capped, so that a run stays short).
func fuzzInputs(names []string, values []uint64) []seccompData {
	type abi struct {
		audit uint32
		table int
	}
	abis := []abi{{unix.AUDIT_ARCH_X86_64, tabX86_64}, {unix.AUDIT_ARCH_I386, tabX86}, {unix.AUDIT_ARCH_X86_64, tabX32}, {unix.AUDIT_ARCH_AARCH64, tabAARCH64}}
	nrs := map[uint32][]uint32{}
	for _, a := range abis {
		nrs[a.audit] = append(nrs[a.audit], 0, 1, i386Socketcall, i386IPC, 511, 0xffffffff, x32SyscallBit, x32SyscallBit+600, 0x80000000)
		for i, n := range names {
			if i >= 32 {
				break
			}
			if e := lookup(n); e != nil && e.nr[a.table] >= 0 {
				nrs[a.audit] = append(nrs[a.audit], uint32(e.nr[a.table]))
			}
		}
	}
	if len(values) > 16 {
		values = values[:16]
	}
	argsets := [][6]uint64{{}, {^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}}
	for _, v := range values {
		argsets = append(argsets, [6]uint64{v, v, v, v, v, v}, [6]uint64{1, v, 0, v, 0, v})
	}
	var out []seccompData
	for audit, ns := range nrs {
		for _, nr := range ns {
			for _, args := range argsets {
				out = append(out, seccompData{nr: nr, arch: audit, args: args})
			}
		}
	}
	return out
}

// fuzzProfile reads bytes as a profile: the default action, the
// architectures, then rules (name, action, errno, conditions), each field
// from the next bytes. Indexes run a little past the valid choices, so that
// invalid names, actions, operators and argument indexes come too.
func fuzzProfile(b []byte) specs.LinuxSeccomp {
	next := func() byte {
		if len(b) == 0 {
			return 0
		}
		c := b[0]
		b = b[1:]
		return c
	}
	u64 := func() uint64 {
		var buf [8]byte
		n := copy(buf[:], b)
		b = b[n:]
		return binary.LittleEndian.Uint64(buf[:])
	}
	acts := []specs.LinuxSeccompAction{specs.ActKill, specs.ActKillProcess, specs.ActKillThread, specs.ActTrap,
		specs.ActErrno, specs.ActTrace, specs.ActAllow, specs.ActLog, specs.ActNotify, "SCMP_ACT_BOGUS"}
	ops := []specs.LinuxSeccompOperator{specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual, specs.OpEqualTo,
		specs.OpGreaterEqual, specs.OpGreaterThan, specs.OpMaskedEqual, ""}
	arches := []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32, specs.ArchAARCH64, specs.ArchARM, specs.ArchS390X, "SCMP_ARCH_BOGUS"}
	errno := func(c byte) *uint {
		if c&0x80 == 0 {
			return nil
		}
		e := uint(c&0x7f) * 40 // up to 5080: past MAX_ERRNO too
		return &e
	}
	var sc specs.LinuxSeccomp
	c := next()
	sc.DefaultAction = acts[int(c)%len(acts)]
	sc.DefaultErrnoRet = errno(next())
	for i, m := 0, next(); i < len(arches); i++ {
		if m&(1<<i) != 0 {
			sc.Architectures = append(sc.Architectures, arches[i])
		}
	}
	if c&0x40 != 0 {
		sc.ListenerPath = "/run/agent.sock"
	}
	for len(b) > 0 && len(sc.Syscalls) < 64 {
		var r specs.LinuxSyscall
		for n := next()%3 + 1; n > 0; n-- {
			i := int(binary.LittleEndian.Uint16([]byte{next(), next()})) % (len(syscallTable) + 8)
			if i < len(syscallTable) {
				r.Names = append(r.Names, syscallTable[i].name)
			} else {
				r.Names = append(r.Names, []string{"", "nosuchcall", "socket", "shmget", "accept", "semop", "socketcall", "ipc"}[i-len(syscallTable)])
			}
		}
		c := next()
		r.Action = acts[int(c&0x0f)%len(acts)]
		r.ErrnoRet = errno(next())
		for n := c >> 4 % 4; n > 0; n-- {
			a := next()
			r.Args = append(r.Args, specs.LinuxSeccompArg{Index: uint(a & 7), Op: ops[int(a>>3)%len(ops)], Value: u64(), ValueTwo: u64()})
		}
		sc.Syscalls = append(sc.Syscalls, r)
	}
	return sc
}
