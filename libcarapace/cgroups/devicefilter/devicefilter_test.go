package devicefilter

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ---------------------------------------------------------------------------
// Rule helpers and the reference evaluator.

func num(n int64) *int64 { return &n }

// dev builds a rule; major or minor -2 (star) stands for nil, other
// negative numbers (wildcards too) are kept.
func dev(allow bool, typ string, major, minor int64, access string) specs.LinuxDeviceCgroup {
	r := specs.LinuxDeviceCgroup{Allow: allow, Type: typ, Access: access}
	if major != -2 {
		r.Major = num(major)
	}
	if minor != -2 {
		r.Minor = num(minor)
	}
	return r
}

func allow(typ string, major, minor int64, access string) specs.LinuxDeviceCgroup {
	return dev(true, typ, major, minor, access)
}

func deny(typ string, major, minor int64, access string) specs.LinuxDeviceCgroup {
	return dev(false, typ, major, minor, access)
}

const star = -2 // nil major/minor

// allowed is the reference semantics: for every requested access bit the
// last rule that matches the device and names the bit decides; a request
// naming no bit is decided by the last rule that matches the device. Without
// a deciding rule access is denied.
func allowed(rules []specs.LinuxDeviceCgroup, typ byte, major, minor int64, access string) bool {
	matchDev := func(r specs.LinuxDeviceCgroup) bool {
		if r.Type != "" && r.Type != "a" && r.Type[0] != typ {
			return false
		}
		if r.Major != nil && *r.Major >= 0 && *r.Major != major {
			return false
		}
		if r.Minor != nil && *r.Minor >= 0 && *r.Minor != minor {
			return false
		}
		return true
	}
	if access == "" {
		for i := len(rules) - 1; i >= 0; i-- {
			if matchDev(rules[i]) {
				return rules[i].Allow
			}
		}
		return false
	}
	for _, bit := range access {
		decided := false
		for i := len(rules) - 1; i >= 0; i-- {
			r := rules[i]
			ra := r.Access
			if ra == "" {
				ra = "rwm"
			}
			if matchDev(r) && strings.ContainsRune(ra, bit) {
				if !r.Allow {
					return false
				}
				decided = true
				break
			}
		}
		if !decided {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------------------
// A small interpreter for the instructions Program emits, so that the
// compiled program can be checked against the reference without a kernel
// (BPF_PROG_TEST_RUN does not support cgroup-device programs).

func accessBits(access string) uint32 {
	var a uint32
	for _, c := range access {
		switch c {
		case 'm':
			a |= accMknod
		case 'r':
			a |= accRead
		case 'w':
			a |= accWrite
		}
	}
	return a
}

func devType(typ byte) uint32 {
	if typ == 'b' {
		return devBlock
	}
	return devChar
}

// decode reads the program back from the bytes the kernel is given, with
// cilium/ebpf/asm (a decoder written by others: the tests only link it).
func decode(t testing.TB, p Insns) asm.Instructions {
	t.Helper()
	var bo binary.ByteOrder = binary.LittleEndian
	if bigEndian {
		bo = binary.BigEndian
	}
	var insns asm.Instructions
	r := bytes.NewReader(p.Marshal())
	for r.Len() > 0 {
		var ins asm.Instruction
		if err := ins.Unmarshal(r, bo, "linux"); err != nil {
			t.Fatalf("decode: %v\n%v", err, p)
		}
		insns = append(insns, ins)
	}
	if len(insns) != len(p) {
		t.Fatalf("decoded %d instructions of %d", len(insns), len(p))
	}
	return insns
}

// run interprets the program, as the kernel would run it, for one request.
func run(t testing.TB, p Insns, typ byte, major, minor int64, access string) bool {
	t.Helper()
	insns := decode(t, p)
	ctx := [3]uint32{accessBits(access)<<16 | devType(typ), uint32(major), uint32(minor)}
	var regs [11]uint64
	var set [11]bool
	set[asm.R1] = true
	get := func(r asm.Register) uint64 {
		if r > asm.R10 || !set[r] {
			t.Fatalf("read of uninitialised register %v\n%v", r, insns)
		}
		return regs[r]
	}
	put := func(r asm.Register, v uint64) {
		if r == asm.R1 || r >= asm.R10 {
			t.Fatalf("write to %v\n%v", r, insns)
		}
		regs[r], set[r] = v, true
	}
	for pc := 0; ; {
		if pc < 0 || pc >= len(insns) {
			t.Fatalf("pc %d out of the program\n%v", pc, insns)
		}
		ins := insns[pc]
		op := ins.OpCode
		cls := op.Class()
		next := pc + 1
		switch {
		case cls == asm.LdXClass:
			if op.Mode() != asm.MemMode || op.Size() != asm.Word || ins.Src != asm.R1 ||
				ins.Offset < 0 || ins.Offset > 8 || ins.Offset%4 != 0 {
				t.Fatalf("unsupported load %v", ins)
			}
			put(ins.Dst, uint64(ctx[ins.Offset/4]))
		case cls.IsALU():
			src := uint64(ins.Constant)
			if op.Source() == asm.RegSource {
				src = get(ins.Src)
			}
			var dst uint64
			if op.ALUOp() != asm.Mov {
				dst = get(ins.Dst)
			}
			var v uint64
			switch op.ALUOp() {
			case asm.Mov:
				v = src
			case asm.And:
				v = dst & src
			case asm.RSh:
				if cls == asm.ALUClass {
					v = uint64(uint32(dst) >> (src & 31))
				} else {
					v = dst >> (src & 63)
				}
			default:
				t.Fatalf("unsupported ALU instruction %v", ins)
			}
			if cls == asm.ALUClass {
				v = uint64(uint32(v))
			}
			put(ins.Dst, v)
		case cls.IsJump():
			jop := op.JumpOp()
			if jop == asm.Exit {
				return get(asm.R0) != 0
			}
			target := pc + 1 + int(ins.Offset)
			if target <= pc {
				t.Fatalf("backward jump %v", ins)
			}
			if jop == asm.Ja {
				next = target
				break
			}
			if op.Source() != asm.ImmSource {
				t.Fatalf("unsupported jump %v", ins)
			}
			a, b := get(ins.Dst), uint64(ins.Constant)
			if cls == asm.Jump32Class {
				a, b = uint64(uint32(a)), uint64(uint32(b))
			}
			var taken bool
			switch jop {
			case asm.JEq:
				taken = a == b
			case asm.JNE:
				taken = a != b
			case asm.JSet:
				taken = a&b != 0
			default:
				t.Fatalf("unsupported jump %v", ins)
			}
			if taken {
				next = target
			}
		default:
			t.Fatalf("unsupported instruction %v", ins)
		}
		pc = next
	}
}

// ---------------------------------------------------------------------------
// Rule semantics.

type check struct {
	typ          byte
	major, minor int64
	access       string
	want         bool
}

// dockerDefault is the device rule set Docker (and runc's spec) generate
// for a non-privileged container.
var dockerDefault = []specs.LinuxDeviceCgroup{
	deny("a", star, star, "rwm"),
	allow("c", star, star, "m"),
	allow("b", star, star, "m"),
	allow("c", 1, 3, "rwm"),      // null
	allow("c", 1, 5, "rwm"),      // zero
	allow("c", 1, 7, "rwm"),      // full
	allow("c", 1, 8, "rwm"),      // random
	allow("c", 1, 9, "rwm"),      // urandom
	allow("c", 5, 0, "rwm"),      // tty
	allow("c", 5, 1, "rwm"),      // console
	allow("c", 5, 2, "rwm"),      // ptmx
	allow("c", 136, star, "rwm"), // pts
	allow("c", 10, 200, "rwm"),   // tun
}

var semanticsTests = []struct {
	name   string
	rules  []specs.LinuxDeviceCgroup
	checks []check
}{
	{"empty rules deny all", nil, []check{
		{'c', 1, 3, "rw", false}, {'c', 1, 3, "r", false}, {'b', 8, 0, "m", false}, {'c', 1, 3, "", false},
	}},
	{"deny all then allow null", []specs.LinuxDeviceCgroup{
		deny("a", star, star, "rwm"), allow("c", 1, 3, "rwm"),
	}, []check{
		{'c', 1, 3, "rw", true}, {'c', 1, 3, "rwm", true}, {'c', 1, 3, "m", true}, {'c', 1, 3, "", true},
		{'c', 1, 5, "r", false}, {'c', 1, 5, "", false}, {'b', 1, 3, "r", false},
	}},
	{"allow all", []specs.LinuxDeviceCgroup{allow("a", star, star, "rwm")}, []check{
		{'c', 1, 3, "rw", true}, {'b', 8, 0, "rwm", true}, {'c', 4095, 1048575, "m", true}, {'b', 0, 0, "", true},
	}},
	{"type empty is all, access empty is rwm", []specs.LinuxDeviceCgroup{allow("", star, star, "")}, []check{
		{'c', 1, 3, "rwm", true}, {'b', 8, 0, "rwm", true},
	}},
	{"deny write after allow all", []specs.LinuxDeviceCgroup{
		allow("a", star, star, "rwm"), deny("c", 1, 3, "w"),
	}, []check{
		{'c', 1, 3, "r", true}, {'c', 1, 3, "w", false}, {'c', 1, 3, "rw", false}, {'c', 1, 3, "m", true},
		{'c', 1, 3, "", false}, {'c', 1, 5, "rw", true}, {'b', 1, 3, "w", true},
	}},
	{"allow all after deny write", []specs.LinuxDeviceCgroup{
		deny("c", 1, 3, "w"), allow("a", star, star, "rwm"),
	}, []check{
		{'c', 1, 3, "w", true}, {'c', 1, 3, "rw", true},
	}},
	{"deny all after allows", []specs.LinuxDeviceCgroup{
		allow("c", 1, 3, "rwm"), allow("a", star, star, "rwm"), deny("a", star, star, "rwm"),
	}, []check{
		{'c', 1, 3, "r", false}, {'b', 8, 0, "r", false},
	}},
	{"wildcard minor", []specs.LinuxDeviceCgroup{allow("c", 136, star, "rw")}, []check{
		{'c', 136, 0, "rw", true}, {'c', 136, 1048575, "r", true}, {'c', 136, 0, "m", false},
		{'c', 137, 0, "r", false}, {'b', 136, 0, "r", false},
	}},
	{"explicit -1 wildcards", []specs.LinuxDeviceCgroup{allow("b", -1, 7, "r"), allow("c", 4, -1, "w")}, []check{
		{'b', 8, 7, "r", true}, {'b', 259, 7, "r", true}, {'b', 8, 6, "r", false}, {'b', 8, 7, "w", false},
		{'c', 4, 64, "w", true}, {'c', 4, 64, "r", false}, {'c', 5, 64, "w", false},
	}},
	{"negative numbers are wildcards", []specs.LinuxDeviceCgroup{{Allow: true, Type: "c", Major: num(-5), Minor: num(math.MinInt64), Access: "r"}}, []check{
		{'c', 1, 3, "r", true}, {'c', 99, 0, "r", true}, {'c', 1, 3, "w", false},
	}},
	{"wildcard major", []specs.LinuxDeviceCgroup{allow("c", star, 3, "r")}, []check{
		{'c', 1, 3, "r", true}, {'c', 99, 3, "r", true}, {'c', 1, 4, "r", false},
	}},
	{"mknod only", []specs.LinuxDeviceCgroup{allow("c", star, star, "m"), allow("b", star, star, "m")}, []check{
		{'c', 1, 3, "m", true}, {'b', 8, 0, "m", true}, {'c', 1, 3, "r", false}, {'c', 1, 3, "rm", false},
		{'b', 8, 0, "w", false},
	}},
	{"block vs char", []specs.LinuxDeviceCgroup{allow("b", 8, 0, "rw"), deny("c", 8, 0, "rw")}, []check{
		{'b', 8, 0, "rw", true}, {'c', 8, 0, "r", false}, {'c', 8, 0, "", false}, {'b', 8, 0, "", true},
	}},
	{"split access bits combine", []specs.LinuxDeviceCgroup{allow("c", 1, 3, "r"), allow("c", 1, 3, "w")}, []check{
		{'c', 1, 3, "rw", true}, {'c', 1, 3, "m", false}, {'c', 1, 3, "rwm", false},
	}},
	{"last match wins", []specs.LinuxDeviceCgroup{
		allow("c", 1, 3, "rwm"), deny("c", 1, star, "rw"), allow("c", 1, 5, "r"),
	}, []check{
		{'c', 1, 3, "r", false}, {'c', 1, 3, "m", true}, {'c', 1, 5, "r", true}, {'c', 1, 5, "rw", false},
		{'c', 1, 5, "", true}, {'c', 1, 3, "", false},
	}},
	{"last match wins reversed", []specs.LinuxDeviceCgroup{
		allow("c", 1, 5, "r"), deny("c", 1, star, "rw"), allow("c", 1, 3, "rwm"),
	}, []check{
		{'c', 1, 3, "rw", true}, {'c', 1, 5, "r", false}, {'c', 1, 5, "m", false},
	}},
	{"deny read beats earlier allow for rw", []specs.LinuxDeviceCgroup{
		allow("c", 1, 3, "rw"), deny("c", 1, 3, "r"),
	}, []check{
		{'c', 1, 3, "w", true}, {'c', 1, 3, "r", false}, {'c', 1, 3, "rw", false},
	}},
	{"huge device numbers", []specs.LinuxDeviceCgroup{allow("c", math.MaxUint32, math.MaxInt32+1, "r")}, []check{
		{'c', math.MaxUint32, math.MaxInt32 + 1, "r", true}, {'c', 1, math.MaxInt32 + 1, "r", false},
	}},
	{"docker default", dockerDefault, []check{
		{'c', 1, 3, "rw", true}, {'c', 136, 4, "rw", true}, {'c', 10, 200, "rw", true}, {'c', 10, 229, "rw", false},
		{'b', 8, 0, "m", true}, {'b', 8, 0, "r", false}, {'c', 4, 1, "m", true}, {'c', 4, 1, "rw", false},
		{'c', 4, 1, "", true}, {'b', 8, 0, "", true},
	}},
}

// requests is a grid of requests around the numbers the tests use.
func requests() []check {
	var reqs []check
	for _, typ := range []byte{'b', 'c'} {
		for _, major := range []int64{0, 1, 5, 8, 136, math.MaxUint32} {
			for _, minor := range []int64{0, 3, 5, 7, math.MaxInt32 + 1} {
				for _, access := range []string{"", "m", "r", "w", "rm", "wm", "rw", "rwm"} {
					reqs = append(reqs, check{typ: typ, major: major, minor: minor, access: access})
				}
			}
		}
	}
	return reqs
}

func TestSemantics(t *testing.T) {
	for _, tt := range semanticsTests {
		t.Run(tt.name, func(t *testing.T) {
			insns, err := Program(tt.rules)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.checks {
				if got := allowed(tt.rules, c.typ, c.major, c.minor, c.access); got != c.want {
					t.Errorf("reference: %c %d:%d %q = %v, want %v", c.typ, c.major, c.minor, c.access, got, c.want)
				}
				if got := run(t, insns, c.typ, c.major, c.minor, c.access); got != c.want {
					t.Errorf("program: %c %d:%d %q = %v, want %v\n%v", c.typ, c.major, c.minor, c.access, got, c.want, insns)
				}
			}
			for _, c := range requests() {
				want := allowed(tt.rules, c.typ, c.major, c.minor, c.access)
				if got := run(t, insns, c.typ, c.major, c.minor, c.access); got != want {
					t.Fatalf("program: %c %d:%d %q = %v, reference says %v\n%v", c.typ, c.major, c.minor, c.access, got, want, insns)
				}
			}
		})
	}
}

// randomRules returns up to 8 rules over a small universe of devices.
func randomRules(rng *rand.Rand) []specs.LinuxDeviceCgroup {
	types := []string{"", "a", "b", "c", "c"}
	nums := []int64{star, -1, 1, 5, 1, 5, 0}
	accesses := []string{"", "r", "w", "m", "rw", "rm", "wm", "rwm", "rwm", "mwr"}
	rules := make([]specs.LinuxDeviceCgroup, rng.IntN(9))
	for i := range rules {
		rules[i] = dev(rng.IntN(2) == 0, types[rng.IntN(len(types))],
			nums[rng.IntN(len(nums))], nums[rng.IntN(len(nums))], accesses[rng.IntN(len(accesses))])
	}
	return rules
}

// TestRandomRules checks the compiled program against the reference for
// random rule sets over a small universe of devices.
func TestRandomRules(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 3000; n++ {
		rules := randomRules(rng)
		insns, err := Program(rules)
		if err != nil {
			t.Fatal(err)
		}
		for _, typ := range []byte{'b', 'c'} {
			for _, major := range []int64{0, 1, 5} {
				for _, minor := range []int64{0, 1, 5} {
					for a := range 8 {
						access := ""
						for i, c := range "mrw" {
							if a&(1<<i) != 0 {
								access += string(c)
							}
						}
						want := allowed(rules, typ, major, minor, access)
						if got := run(t, insns, typ, major, minor, access); got != want {
							t.Fatalf("rules %+v: %c %d:%d %q = %v, reference says %v\n%v",
								rules, typ, major, minor, access, got, want, insns)
						}
					}
				}
			}
		}
	}
}

func TestProgramShape(t *testing.T) {
	for _, tt := range []struct {
		name  string
		rules []specs.LinuxDeviceCgroup
		want  int
	}{
		{"empty", nil, 2},
		{"deny all", []specs.LinuxDeviceCgroup{deny("a", star, star, "rwm")}, 2},
		{"allow all", []specs.LinuxDeviceCgroup{allow("a", star, star, "rwm")}, 2},
		{"shadowed by allow all", []specs.LinuxDeviceCgroup{deny("c", 1, 3, "rwm"), allow("", -1, -1, "")}, 2},
		{"shadowed by deny all", []specs.LinuxDeviceCgroup{allow("c", 1, 3, "rwm"), deny("a", star, star, "")}, 2},
		{"deny only", []specs.LinuxDeviceCgroup{deny("c", 1, 3, "rwm"), deny("b", star, star, "w")}, 2},
		{"leading denies dropped", []specs.LinuxDeviceCgroup{deny("c", 1, 3, "w"), deny("b", star, star, "w"), allow("c", star, star, "m")}, 13},
	} {
		insns, err := Program(tt.rules)
		if err != nil {
			t.Fatal(err)
		}
		if len(insns) != tt.want {
			t.Errorf("%s: %d instructions, want %d\n%v", tt.name, len(insns), tt.want, insns)
		}
	}
	insns, err := Program(dockerDefault)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("docker default rules (%d): %d instructions\n%v", len(dockerDefault), len(insns), insns)
}

func TestInvalidRules(t *testing.T) {
	for _, r := range []specs.LinuxDeviceCgroup{
		{Allow: true, Type: "p"},
		{Allow: true, Type: "cc"},
		{Allow: true, Type: "c", Access: "rwx"},
		{Allow: true, Type: "c", Minor: num(math.MaxUint32 + 1)},
	} {
		if _, err := Program([]specs.LinuxDeviceCgroup{allow("c", 1, 3, ""), r}); err == nil || !strings.Contains(err.Error(), "device rule 1") {
			t.Errorf("%+v: error %v, want one naming rule 1", r, err)
		}
	}
	if _, err := Program(make([]specs.LinuxDeviceCgroup, 0)); err != nil {
		t.Error(err)
	}
	many := make([]specs.LinuxDeviceCgroup, 7000)
	for i := range many {
		many[i] = allow("c", int64(i), int64(i), "r")
	}
	if _, err := Program(many); err == nil {
		t.Error("7000 rules compiled, want an error")
	}
}

// ---------------------------------------------------------------------------
// Kernel tests.

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

// TestVerifier loads the programs of the semantics table and of random
// rule sets into the kernel.
func TestVerifier(t *testing.T) {
	requireRoot(t)
	tests := slices.Clone(semanticsTests)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 200 {
		tests = append(tests, struct {
			name   string
			rules  []specs.LinuxDeviceCgroup
			checks []check
		}{name: fmt.Sprintf("random %d", i), rules: randomRules(rng)})
	}
	for _, tt := range tests {
		insns, err := Program(tt.rules)
		if err != nil {
			t.Fatal(err)
		}
		prog, err := load(insns)
		if err != nil {
			t.Fatalf("%s: %v\n%v", tt.name, err, insns)
		}
		unix.Close(prog)
	}
}

// TestLoadInterrupted loads programs while their thread is signalled
// without pause, as the Go runtime's preemption (SIGURG) does: a verifier
// run that a signal interrupts fails with EAGAIN, which load must retry.
func TestLoadInterrupted(t *testing.T) {
	requireRoot(t)
	insns, err := Program(dockerDefault)
	if err != nil {
		t.Fatal(err)
	}
	tids := make(chan int)
	done := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tids <- unix.Gettid()
		for range 300 {
			fd, err := load(insns)
			if err != nil {
				errc <- err
				close(done)
				return
			}
			unix.Close(fd)
		}
		errc <- nil
		close(done)
	}()
	tid := <-tids
	for sent := 0; ; sent++ {
		select {
		case <-done:
			if err := <-errc; err != nil {
				t.Fatalf("load under signals (%d sent): %v", sent, err)
			}
			return
		default:
			unix.Tgkill(os.Getpid(), tid, unix.SIGURG)
		}
	}
}

// cgroup2Root returns a cgroup v2 mount point: /sys/fs/cgroup on a unified
// host, /sys/fs/cgroup/unified on a hybrid one.
func cgroup2Root(t *testing.T) string {
	for _, p := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		var st unix.Statfs_t
		if unix.Statfs(p, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			return p
		}
	}
	t.Skip("no cgroup v2 mount")
	return ""
}

// testCgroup creates a cgroup v2 directory that is removed at the end of
// the test.
func testCgroup(t *testing.T) string {
	requireRoot(t)
	dir := filepath.Join(cgroup2Root(t), fmt.Sprintf("carapace-devicefilter-test-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var err error
		for range 50 {
			if err = unix.Rmdir(dir); err == nil || !errors.Is(err, unix.EBUSY) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			t.Errorf("remove %s: %v", dir, err)
		}
	})
	return dir
}

const childEnv = "CARAPACE_DEVICEFILTER_TEST_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		childMain(dir)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// childOps are the device accesses the child tries, in its output order.
var childOps = []string{"null_rw", "zero_r", "zero_w", "zero_rw", "full_r", "mknod_null", "mknod_zero", "mknod_full"}

// childMain runs in a process inside the test cgroup: it tries device
// accesses and prints "op=ok" or "op=ERRNO" for each.
func childMain(dir string) {
	open := func(path string, flags int) error {
		fd, err := unix.Open(path, flags|unix.O_CLOEXEC, 0)
		if err == nil {
			unix.Close(fd)
		}
		return err
	}
	mknod := func(name string, major, minor uint32) error {
		path := filepath.Join(dir, name)
		err := unix.Mknod(path, unix.S_IFCHR|0o600, int(unix.Mkdev(major, minor)))
		if err == nil {
			unix.Unlink(path)
		}
		return err
	}
	results := map[string]error{
		"null_rw":    open("/dev/null", unix.O_RDWR),
		"zero_r":     open("/dev/zero", unix.O_RDONLY),
		"zero_w":     open("/dev/zero", unix.O_WRONLY),
		"zero_rw":    open("/dev/zero", unix.O_RDWR),
		"full_r":     open("/dev/full", unix.O_RDONLY),
		"mknod_null": mknod("null", 1, 3),
		"mknod_zero": mknod("zero", 1, 5),
		"mknod_full": mknod("full", 1, 7),
	}
	for _, op := range childOps {
		res := "ok"
		if err := results[op]; err != nil {
			var errno syscall.Errno
			if errors.As(err, &errno) {
				res = unix.ErrnoName(errno)
			} else {
				res = err.Error()
			}
		}
		fmt.Printf("%s=%s\n", op, res)
	}
}

// runChild runs the child in the cgroup dirPath and returns its results.
func runChild(t *testing.T, dirPath string) map[string]string {
	t.Helper()
	fd, err := unix.Open(dirPath, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+t.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, stderr.Bytes())
	}
	res := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			res[k] = v
		}
	}
	return res
}

func expectChild(t *testing.T, dirPath string, want map[string]string) {
	t.Helper()
	got := runChild(t, dirPath)
	for _, op := range childOps {
		if got[op] != want[op] {
			t.Errorf("%s: %s, want %s", op, got[op], want[op])
		}
	}
}

// ourPrograms counts the device programs attached to dirPath, and those of
// them named by this package.
func ourPrograms(t *testing.T, dirPath string) (total, ours int) {
	t.Helper()
	fd, err := openDir(dirPath)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	all, err := attached(fd, false)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(all)
	mine, err := attached(fd, true)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(mine)
	// The count as cilium/ebpf's query, written by others, sees it.
	res, err := link.QueryPrograms(link.QueryOptions{Target: fd, Attach: ebpf.AttachCGroupDevice})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Programs) != len(all) {
		t.Fatalf("attached: %d programs, cilium/ebpf's query: %d", len(all), len(res.Programs))
	}
	return len(all), len(mine)
}

func TestAttachKernel(t *testing.T) {
	dir := testCgroup(t)

	rules := []specs.LinuxDeviceCgroup{
		deny("a", star, star, "rwm"),
		allow("c", 1, 3, "rwm"),
		allow("c", 1, 5, "r"),
	}
	if err := Attach(dir, rules); err != nil {
		t.Fatal(err)
	}
	if total, ours := ourPrograms(t, dir); total != 1 || ours != 1 {
		t.Fatalf("after Attach: %d programs, %d ours; want 1, 1", total, ours)
	}
	expectChild(t, dir, map[string]string{
		"null_rw": "ok", "zero_r": "ok", "zero_w": "EPERM", "zero_rw": "EPERM", "full_r": "EPERM",
		"mknod_null": "ok", "mknod_zero": "EPERM", "mknod_full": "EPERM",
	})

	// update: the new program replaces the old one.
	rules = append(rules, allow("c", 1, 7, "r"))
	if err := Attach(dir, rules); err != nil {
		t.Fatal(err)
	}
	if total, ours := ourPrograms(t, dir); total != 1 || ours != 1 {
		t.Fatalf("after second Attach: %d programs, %d ours; want 1, 1", total, ours)
	}
	expectChild(t, dir, map[string]string{
		"null_rw": "ok", "zero_r": "ok", "zero_w": "EPERM", "zero_rw": "EPERM", "full_r": "ok",
		"mknod_null": "ok", "mknod_zero": "EPERM", "mknod_full": "EPERM",
	})

	// A program of someone else's (allowing everything) stays attached
	// while ours is replaced, and both apply.
	foreignProg, err := Program([]specs.LinuxDeviceCgroup{allow("a", star, star, "rwm"), deny("c", 1, 3, "m")})
	if err != nil {
		t.Fatal(err)
	}
	// Loaded by cilium/ebpf, as another runtime's would be.
	foreignInsns := decode(t, foreignProg)
	foreign, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type: ebpf.CGroupDevice, Name: "foreign", License: "Apache", Instructions: foreignInsns,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer foreign.Close()
	fd, err := openDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := rawAttach(fd, foreign); err != nil {
		t.Fatal(err)
	}
	if err := Attach(dir, []specs.LinuxDeviceCgroup{allow("a", star, star, "rwm"), deny("c", 1, 5, "w")}); err != nil {
		t.Fatal(err)
	}
	if total, ours := ourPrograms(t, dir); total != 2 || ours != 1 {
		t.Fatalf("with a foreign program: %d programs, %d ours; want 2, 1", total, ours)
	}
	expectChild(t, dir, map[string]string{
		"null_rw": "ok", "zero_r": "ok", "zero_w": "EPERM", "zero_rw": "EPERM", "full_r": "ok",
		"mknod_null": "EPERM", "mknod_zero": "ok", "mknod_full": "ok",
	})

	// Two programs of ours (as a crash between attaching a new one and
	// detaching the old one could leave) are both replaced.
	for range 2 {
		p, err := ebpf.NewProgram(&ebpf.ProgramSpec{
			Type: ebpf.CGroupDevice, Name: programName, License: "Apache", Instructions: foreignInsns,
		})
		if err != nil {
			t.Fatal(err)
		}
		err = rawAttach(fd, p)
		p.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if total, ours := ourPrograms(t, dir); total != 4 || ours != 3 {
		t.Fatalf("with extra programs: %d programs, %d ours; want 4, 3", total, ours)
	}
	if err := Attach(dir, []specs.LinuxDeviceCgroup{allow("a", star, star, "rwm"), deny("c", 1, 5, "w")}); err != nil {
		t.Fatal(err)
	}
	if total, ours := ourPrograms(t, dir); total != 2 || ours != 1 {
		t.Fatalf("after replacing several: %d programs, %d ours; want 2, 1", total, ours)
	}
	expectChild(t, dir, map[string]string{
		"null_rw": "ok", "zero_r": "ok", "zero_w": "EPERM", "zero_rw": "EPERM", "full_r": "ok",
		"mknod_null": "EPERM", "mknod_zero": "ok", "mknod_full": "ok",
	})

	// Detach removes every device program.
	if err := Detach(dir); err != nil {
		t.Fatal(err)
	}
	if total, _ := ourPrograms(t, dir); total != 0 {
		t.Fatalf("after Detach: %d programs, want 0", total)
	}
	expectChild(t, dir, map[string]string{
		"null_rw": "ok", "zero_r": "ok", "zero_w": "ok", "zero_rw": "ok", "full_r": "ok",
		"mknod_null": "ok", "mknod_zero": "ok", "mknod_full": "ok",
	})

	// Detach and Attach again after Detach work.
	if err := Detach(dir); err != nil {
		t.Fatal(err)
	}
	if err := Attach(dir, nil); err != nil {
		t.Fatal(err)
	}
	expectChild(t, dir, map[string]string{
		"null_rw": "EPERM", "zero_r": "EPERM", "zero_w": "EPERM", "zero_rw": "EPERM", "full_r": "EPERM",
		"mknod_null": "EPERM", "mknod_zero": "EPERM", "mknod_full": "EPERM",
	})
}

func TestAttachErrors(t *testing.T) {
	requireRoot(t)
	err := Attach("/nonexistent/cgroup", nil)
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/cgroup") || !errors.Is(err, unix.ENOENT) {
		t.Errorf("Attach to a missing directory: %v", err)
	}
	err = Attach(t.TempDir(), []specs.LinuxDeviceCgroup{{Type: "x"}})
	if err == nil || !strings.Contains(err.Error(), `invalid device type "x"`) {
		t.Errorf("Attach with an invalid rule: %v", err)
	}
	// Not a cgroup v2 directory.
	err = Attach(t.TempDir(), nil)
	if err == nil || !strings.Contains(err.Error(), "attach device filter") {
		t.Errorf("Attach to a plain directory: %v", err)
	}
	if err := Detach(t.TempDir()); err == nil {
		t.Error("Detach from a plain directory succeeded")
	}

	// Without privileges, loading fails. Capabilities are per thread:
	// drop them on a locked thread that dies with its goroutine.
	dir := testCgroup(t)
	errc := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			errc <- err
			return
		}
		for i := range data {
			data[i].Effective = 0
		}
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			errc <- err
			return
		}
		errc <- Attach(dir, nil)
	}()
	err = <-errc
	if err == nil || !strings.HasPrefix(err.Error(), "load device filter: ") || !errors.Is(err, unix.EPERM) {
		t.Errorf("unprivileged Attach: %v, want load device filter: ... operation not permitted", err)
	}
	t.Logf("unprivileged Attach: %v", err)
	if total, _ := ourPrograms(t, dir); total != 0 {
		t.Errorf("%d programs attached after a failed Attach", total)
	}
}

func rawAttach(dirFD int, prog *ebpf.Program) error {
	return link.RawAttachProgram(link.RawAttachProgramOptions{
		Target:  dirFD,
		Program: prog,
		Attach:  ebpf.AttachCGroupDevice,
		Flags:   unix.BPF_F_ALLOW_MULTI,
	})
}
