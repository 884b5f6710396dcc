package seccomp

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// maxErrno is the kernel's MAX_ERRNO: it caps SECCOMP_RET_ERRNO's data.
const maxErrno = 4095

// Offsets in struct seccomp_data.
const (
	offNr   = 0
	offArch = 4
	offArgs = 16 // args[6], u64 each; little-endian hosts only (all the supported ones)
)

// retBadArch is returned for a syscall of an architecture the filter does
// not handle. libseccomp's default "bad arch" action is SCMP_ACT_KILL (the
// thread); we kill the process, as a thread silently gone would leave it
// broken rather than stopped.
const retBadArch = unix.SECCOMP_RET_KILL_PROCESS

// permissive are the default actions that let a syscall run: with them,
// syscalls newer than the profile run too, and get no ENOSYS (runc's
// patchbpf isAllowAction; trace, because a tracer handles new syscalls).
var permissive = map[specs.LinuxSeccompAction]bool{specs.ActAllow: true, specs.ActLog: true, specs.ActTrace: true}

// Validate checks linux.seccomp without compiling it: every name is known,
// every value in range. Errors name the field.
func Validate(sc *specs.LinuxSeccomp) error {
	if sc == nil {
		return nil
	}
	if err := checkAction("linux.seccomp.defaultAction", "linux.seccomp.defaultErrnoRet", sc.DefaultAction, sc.DefaultErrnoRet); err != nil {
		return err
	}
	if sc.DefaultAction == specs.ActNotify {
		// As runc: a default of notify would send every syscall of the
		// container, and of the runtime until the exec, to the agent.
		return fieldErr("linux.seccomp.defaultAction", "%q: not allowed as the default action", sc.DefaultAction)
	}
	for i, a := range sc.Architectures {
		if _, ok := archs[a]; !ok && !foreignArchs[a] {
			return fieldErr(fmt.Sprintf("linux.seccomp.architectures[%d]", i), "%q: unknown architecture", a)
		}
	}
	for i, f := range sc.Flags {
		if _, ok := filterFlags[f]; !ok {
			return fieldErr(fmt.Sprintf("linux.seccomp.flags[%d]", i), "%q: unknown flag", f)
		}
	}
	notify := false
	for i, s := range sc.Syscalls {
		field := fmt.Sprintf("linux.seccomp.syscalls[%d]", i)
		if len(s.Names) == 0 {
			return fieldErr(field+".names", "empty")
		}
		for j, n := range s.Names {
			if n == "" {
				return fieldErr(fmt.Sprintf("%s.names[%d]", field, j), "empty")
			}
			if s.Action == specs.ActNotify && n == "write" {
				// The runtime itself writes after the filter is loaded
				// (errors, the exec fifo): it would wait on the agent.
				return fieldErr(fmt.Sprintf("%s.names[%d]", field, j), "%q: SCMP_ACT_NOTIFY is not allowed for write", n)
			}
		}
		if err := checkAction(field+".action", field+".errnoRet", s.Action, s.ErrnoRet); err != nil {
			return err
		}
		notify = notify || s.Action == specs.ActNotify
		for j, a := range s.Args {
			af := fmt.Sprintf("%s.args[%d]", field, j)
			if !operators[a.Op] {
				return fieldErr(af+".op", "%q: unknown operator", a.Op)
			}
			if a.Index > 5 {
				return fieldErr(af+".index", "%d: out of range (a syscall has arguments 0 to 5)", a.Index)
			}
		}
	}
	if notify {
		if sc.ListenerPath == "" {
			return fieldErr("linux.seccomp.listenerPath", "required when SCMP_ACT_NOTIFY is used")
		}
		if !filepath.IsAbs(sc.ListenerPath) {
			return fieldErr("linux.seccomp.listenerPath", "%q: not an absolute path", sc.ListenerPath)
		}
	}
	return nil
}

func checkAction(field, errnoField string, act specs.LinuxSeccompAction, errnoRet *uint) error {
	if _, ok := actionRet[act]; !ok {
		return fieldErr(field, "%q: unknown action", act)
	}
	if errnoRet == nil {
		return nil
	}
	switch act {
	case specs.ActErrno:
		if *errnoRet > maxErrno {
			return fieldErr(errnoField, "%d: out of range (0 to %d)", *errnoRet, maxErrno)
		}
	case specs.ActTrace:
		if *errnoRet > unix.SECCOMP_RET_DATA {
			return fieldErr(errnoField, "%d: out of range (0 to %d)", *errnoRet, unix.SECCOMP_RET_DATA)
		}
	default:
		// The spec: the runtime MUST fail when the action takes no errno.
		return fieldErr(errnoField, "only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one, not %s", act)
	}
	return nil
}

// ret is the filter's return value for an action: errnoRet (EPERM when
// unset, as runc) goes in the data of ERRNO and TRACE.
func ret(act specs.LinuxSeccompAction, errnoRet *uint) uint32 {
	r := actionRet[act]
	if act == specs.ActErrno || act == specs.ActTrace {
		e := uint32(unix.EPERM)
		if errnoRet != nil {
			e = uint32(*errnoRet)
		}
		r |= e & unix.SECCOMP_RET_DATA
	}
	return r
}

// Compile turns a profile into a filter for this host. log (may be nil)
// gets debug messages about names that are skipped.
//
// The program: check seccomp_data.arch against each architecture of the
// filter (anything else gets retBadArch); per architecture, a binary search
// on the syscall number over sorted ranges, whose leaves return an action
// or run the argument checks of one syscall. A syscall costs about
// log2(ranges) comparisons, not one per syscall of the profile.
//
// Several rules for one syscall (precedence): as libseccomp merges them,
//   - a rule whose action is the default action is dropped (libseccomp
//     refuses it and runc skips it), so it overrides nothing;
//   - a rule without args decides for the syscall and overrides every rule
//     with args, before or after it; of several, the first one wins
//     (libseccomp keeps the existing one and ignores later ones);
//   - rules with args are tried in libseccomp's order (see condOrder), not
//     the profile's, and the first whose conditions all hold decides; none
//     holding gives the default action. Two of them with the same
//     conditions and different actions are an error, as libseccomp's
//     EEXIST.
//
// Conditions of one rule are ANDed, except when two of them test the same
// argument: libseccomp cannot AND those, so runc adds such a rule once per
// condition, which ORs them all, and the profiles written for runc (two EQ
// values for one argument) mean that. Carapace does the same.
//
// On i386, socket(2) and the SysV IPC calls can also be made through the
// socketcall(2) and ipc(2) multiplexers, so a rule for one of them is also
// a rule for its multiplexer with arg0 the call number (see muxRule), as
// libseccomp does: without it, socketcall(SYS_SOCKET, ...) would dodge a
// rule on socket.
//
// Like runc, unless the default action lets syscalls run (allow, log,
// trace), syscalls numbered above every syscall the profile names for an
// architecture return ENOSYS instead of the default action: they are newer
// than the profile, and ENOSYS makes libc fall back (clone3 → clone)
// instead of failing on a permission error, or being killed.
func Compile(sc *specs.LinuxSeccomp, log *slog.Logger) (*Program, error) {
	if err := Validate(sc); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	native, ok := nativeArch()
	if !ok {
		return nil, fieldErr("linux.seccomp", "not supported on this architecture")
	}
	names := []specs.Arch{native}
	for _, a := range sc.Architectures {
		if a == native || slices.Contains(names, a) {
			continue
		}
		if slices.Contains(companions[native], a) {
			names = append(names, a)
		} else {
			log.Debug("linux.seccomp: architecture cannot run on this host, left out of the filter", "arch", a, "native", native)
		}
	}
	c := &compiler{
		defRet: ret(sc.DefaultAction, sc.DefaultErrnoRet),
		enosys: !permissive[sc.DefaultAction],
	}
	for _, n := range names {
		c.archs = append(c.archs, &archRules{name: n, info: archs[n], max: -1, maxAll: -1, rules: map[uint32]*sysRules{}})
	}
	for i, s := range sc.Syscalls {
		r := ret(s.Action, s.ErrnoRet)
		args := slices.Clone(s.Args)
		sort.SliceStable(args, func(a, b int) bool { return args[a].Index < args[b].Index })
		argSets := [][]specs.LinuxSeccompArg{args}
		for j := 1; j < len(args); j++ {
			if args[j].Index == args[j-1].Index {
				argSets = argSets[:0]
				for _, a := range s.Args {
					argSets = append(argSets, []specs.LinuxSeccompArg{a})
				}
				break
			}
		}
		for _, name := range s.Names {
			e := lookup(name)
			known := false
			for _, a := range c.archs {
				if mux, ok := muxCalls[name]; ok && a.name == specs.ArchX86 {
					known = true
					if r != c.defRet {
						for _, set := range argSets {
							if err := a.add(mux.nr, rule{index: i, ret: r, args: muxRule(mux, set)}); err != nil {
								return nil, err
							}
						}
					}
				}
				if e == nil || e.nr[a.info.table] < 0 {
					continue
				}
				known = true
				nr := uint32(e.nr[a.info.table])
				if a.info.legacy == 0 || nr < a.info.legacy {
					a.max = max(a.max, int64(nr))
				}
				a.maxAll = max(a.maxAll, int64(nr))
				if r == c.defRet {
					continue
				}
				for _, set := range argSets {
					if err := a.add(nr, rule{index: i, ret: r, args: set}); err != nil {
						return nil, err
					}
				}
			}
			if !known {
				// Profiles list syscalls newer than this build, or of
				// other architectures: not an error.
				log.Debug("linux.seccomp: syscall unknown on the filter's architectures, skipped",
					"field", fmt.Sprintf("linux.seccomp.syscalls[%d]", i), "name", name)
			}
		}
	}
	insns, err := c.program()
	if err != nil {
		return nil, fieldErr("linux.seccomp", "%v", err)
	}
	p := &Program{Insns: insns}
	for _, f := range sc.Flags {
		p.Flags |= filterFlags[f]
	}
	p.Notify = sc.DefaultAction == specs.ActNotify
	for _, s := range sc.Syscalls {
		p.Notify = p.Notify || s.Action == specs.ActNotify
	}
	return p, nil
}

type rule struct {
	index int // in linux.seccomp.syscalls
	ret   uint32
	args  []specs.LinuxSeccompArg // sorted by index
}

// sysRules are the rules of one syscall on one architecture.
type sysRules struct {
	uncond *rule
	conds  []rule
}

type archRules struct {
	name   specs.Arch
	info   archInfo
	max    int64 // the highest number the profile names, -1 for none, legacy block left out
	maxAll int64 // the same, legacy block included
	rules  map[uint32]*sysRules
}

func (a *archRules) add(nr uint32, r rule) error {
	s := a.rules[nr]
	if s == nil {
		s = &sysRules{}
		a.rules[nr] = s
	}
	switch {
	case s.uncond != nil:
		// Decided already.
	case len(r.args) == 0:
		s.uncond = &r
		s.conds = nil
	default:
		for _, o := range s.conds {
			if slices.Equal(o.args, r.args) {
				if o.ret != r.ret {
					return fieldErr(fmt.Sprintf("linux.seccomp.syscalls[%d]", r.index),
						"syscall %d on %s has the same conditions as syscalls[%d] and another action", nr, a.name, o.index)
				}
				return nil
			}
		}
		s.conds = append(s.conds, r)
	}
	return nil
}

type compiler struct {
	asm
	defRet uint32
	enosys bool
	archs  []*archRules
	cur    *archRules // whose tree is being emitted
}

// interval is a range of syscall numbers with one outcome: a return value,
// or the argument checks of one syscall (sys).
type interval struct {
	lo, hi uint32
	ret    uint32
	sys    *sysRules
}

func (c *compiler) program() ([]unix.SockFilter, error) {
	c.ld(offArch)
	// One entry per audit arch: x86_64 and x32 share theirs.
	type entry struct {
		l         label
		main, x32 *archRules
	}
	var entries []*entry
	byAudit := map[uint32]*entry{}
	for _, a := range c.archs {
		e := byAudit[a.info.audit]
		if e == nil {
			e = &entry{l: c.newLabel()}
			byAudit[a.info.audit] = e
			entries = append(entries, e)
		}
		if a.info.x32 {
			e.x32 = a
		} else {
			e.main = a
		}
	}
	for _, e := range entries {
		audit := e.main
		if audit == nil {
			audit = e.x32
		}
		c.jmpOrNext(opJeq, audit.info.audit, e.l, true)
	}
	c.ret(retBadArch)
	for _, e := range entries {
		c.place(e.l)
		c.ld(offNr)
		if e.main == nil {
			// x32 without x86_64: cannot be, x86_64 is native whenever x32
			// is in the filter.
			return nil, fmt.Errorf("internal error: x32 without x86_64")
		}
		if e.main.name == specs.ArchX86_64 {
			// The x32 ABI shares x86_64's audit arch and sets
			// __X32_SYSCALL_BIT in the number. -1 (a syscall a tracer
			// skipped, or syscall(-1)) stays x86_64's.
			main := c.newLabel()
			c.jmpOrNext(opJeq, 0xffffffff, main, true)
			if e.x32 != nil {
				x32 := c.newLabel()
				c.jmpOrNext(opJge, x32SyscallBit, x32, true)
				c.place(main)
				c.tree(c.intervals(e.main))
				c.place(x32)
				c.tree(c.intervals(e.x32))
				continue
			}
			// Without x32 in the filter, its syscalls are of a bad arch.
			bad := c.newLabel()
			c.jmp(opJge, x32SyscallBit, bad, main)
			c.place(bad)
			c.ret(retBadArch)
			c.place(main)
		}
		c.tree(c.intervals(e.main))
	}
	return c.assemble()
}

// intervals partitions the 32-bit syscall numbers for one architecture.
func (c *compiler) intervals(a *archRules) []interval {
	c.cur = a
	nrs := make([]uint32, 0, len(a.rules))
	for nr := range a.rules {
		nrs = append(nrs, nr)
	}
	slices.Sort(nrs)
	var out []interval
	add := func(iv interval) {
		if n := len(out); n > 0 && iv.sys == nil && out[n-1].sys == nil && out[n-1].ret == iv.ret && out[n-1].hi+1 == iv.lo {
			out[n-1].hi = iv.hi
			return
		}
		out = append(out, iv)
	}
	// In the legacy block (x32's 512-547, arm's private numbers) the limit
	// is the highest number the profile names, legacy ones included, as
	// runc's; below it, the highest of the others.
	var gap func(lo, hi uint32)
	gap = func(lo, hi uint32) {
		limit := a.max
		if l := a.info.legacy; l != 0 {
			if lo < l && hi >= l {
				gap(lo, l-1)
				gap(l, hi)
				return
			}
			if lo >= l {
				limit = a.maxAll
			}
		}
		if c.enosys && limit >= 0 && int64(hi) > limit {
			if int64(lo) <= limit {
				add(interval{lo: lo, hi: uint32(limit), ret: c.defRet})
				lo = uint32(limit) + 1
			}
			add(interval{lo: lo, hi: hi, ret: unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)})
			return
		}
		add(interval{lo: lo, hi: hi, ret: c.defRet})
	}
	next := uint64(0)
	for _, nr := range nrs {
		if uint64(nr) > next {
			gap(uint32(next), nr-1)
		}
		s := a.rules[nr]
		switch {
		case s.uncond != nil:
			add(interval{lo: nr, hi: nr, ret: s.uncond.ret})
		case len(s.conds) > 0:
			add(interval{lo: nr, hi: nr, sys: s})
		default:
			add(interval{lo: nr, hi: nr, ret: c.defRet})
		}
		next = uint64(nr) + 1
	}
	if next <= 0xffffffff {
		gap(uint32(next), 0xffffffff)
	}
	return out
}

// tree emits a binary search over ivs (sorted, covering every number that
// reaches it), with the syscall number in A.
func (c *compiler) tree(ivs []interval) {
	if len(ivs) == 1 {
		c.leaf(ivs[0])
		return
	}
	mid := len(ivs) / 2
	right := c.newLabel()
	c.jmpOrNext(opJge, ivs[mid].lo, right, true)
	c.tree(ivs[:mid])
	c.place(right)
	c.tree(ivs[mid:])
}

func (c *compiler) leaf(iv interval) {
	if iv.sys == nil {
		c.ret(iv.ret)
		return
	}
	conds := iv.sys.conds
	if slices.ContainsFunc(conds, func(r rule) bool { return r.ret != conds[0].ret }) {
		// Which rule decides matters only when they differ; else the
		// profile's order is kept, which puts its likely values (as
		// personality(0) in docker's profile) first.
		conds = slices.Clone(conds)
		slices.SortStableFunc(conds, func(a, b rule) int { return condOrder(a.args, b.args, c.cur.info.args32) })
	}
	for _, r := range conds {
		next := c.newLabel()
		for _, a := range r.args {
			c.cond(a, c.cur.info.args32, next)
		}
		c.ret(r.ret)
		c.place(next)
	}
	c.ret(c.defRet)
}

// cond emits the test of one argument condition: it goes on with the next
// instruction when the condition holds and jumps to fail otherwise.
// seccomp_data holds every argument as 64 bits; BPF compares 32: the high
// words decide unless they are equal, then the low words do (unsigned, as
// libseccomp).
//
// With low (a 32-bit ABI: i386, x32, arm) only the low words are compared:
// the argument's and the value's, whose high word is dropped. That is what
// libseccomp does for these ABIs, and so what profiles written for runc
// mean: a 64-bit -1 (0xffffffffffffffff) in a profile is the 32-bit -1
// (0xffffffff) the program passes. The syscalls of these ABIs take 32-bit
// arguments, so the low word is what the kernel acts on (i386's high words
// are zero; x32's registers are 64-bit, and comparing the high word would
// let a program dodge a rule with bits the syscall ignores).
func (c *compiler) cond(a specs.LinuxSeccompArg, low bool, fail label) {
	if low {
		c.cond32(a, fail)
		return
	}
	lo := uint32(offArgs + 8*a.Index)
	hi := lo + 4
	vh, vl := uint32(a.Value>>32), uint32(a.Value)
	ok := c.newLabel()
	switch a.Op {
	case specs.OpEqualTo, specs.OpMaskedEqual:
		mh, ml := uint32(0xffffffff), uint32(0xffffffff)
		if a.Op == specs.OpMaskedEqual {
			// (arg & value) == valueTwo
			mh, ml = vh, vl
			vh, vl = uint32(a.ValueTwo>>32), uint32(a.ValueTwo)
		}
		if mh == 0 {
			// The high word of arg&mask is 0.
			if vh != 0 {
				c.ja(fail)
				c.place(ok)
				return
			}
		} else {
			c.ld(hi)
			if mh != 0xffffffff {
				c.and(mh)
			}
			c.jmpOrNext(opJeq, vh, fail, false)
		}
		c.ld(lo)
		if ml != 0xffffffff {
			c.and(ml)
		}
		c.jmpOrNext(opJeq, vl, fail, false)
	case specs.OpNotEqual:
		c.ld(hi)
		c.jmpOrNext(opJeq, vh, ok, false)
		c.ld(lo)
		c.jmpOrNext(opJeq, vl, fail, true)
	case specs.OpGreaterThan, specs.OpGreaterEqual:
		c.ld(hi)
		c.jmpOrNext(opJgt, vh, ok, true)
		c.jmpOrNext(opJeq, vh, fail, false)
		c.ld(lo)
		op := uint16(opJgt)
		if a.Op == specs.OpGreaterEqual {
			op = opJge
		}
		c.jmpOrNext(op, vl, fail, false)
	case specs.OpLessThan, specs.OpLessEqual:
		c.ld(hi)
		c.jmpOrNext(opJgt, vh, fail, true)
		c.jmpOrNext(opJeq, vh, ok, false)
		c.ld(lo)
		// a < v  ⟺  !(a >= v);  a <= v  ⟺  !(a > v)
		op := uint16(opJge)
		if a.Op == specs.OpLessEqual {
			op = opJgt
		}
		c.jmpOrNext(op, vl, fail, true)
	}
	c.place(ok)
}

// cond32 is cond on the low words only.
func (c *compiler) cond32(a specs.LinuxSeccompArg, fail label) {
	c.ld(uint32(offArgs + 8*a.Index))
	v := uint32(a.Value)
	switch a.Op {
	case specs.OpEqualTo:
		c.jmpOrNext(opJeq, v, fail, false)
	case specs.OpMaskedEqual:
		if v != 0xffffffff {
			c.and(v)
		}
		c.jmpOrNext(opJeq, uint32(a.ValueTwo), fail, false)
	case specs.OpNotEqual:
		c.jmpOrNext(opJeq, v, fail, true)
	case specs.OpGreaterThan:
		c.jmpOrNext(opJgt, v, fail, false)
	case specs.OpGreaterEqual:
		c.jmpOrNext(opJge, v, fail, false)
	case specs.OpLessThan:
		c.jmpOrNext(opJge, v, fail, true)
	case specs.OpLessEqual:
		c.jmpOrNext(opJgt, v, fail, true)
	}
}

// condOrder orders the conditional rules of one syscall as libseccomp tries
// them, so that when several match, the same one decides (runc's users
// write profiles against that). libseccomp merges the rules of a syscall
// into a tree whose levels are the conditions of each rule in argument
// order, and tries the nodes of a level from the "greatest" (db.c,
// _db_chain_lt and _db_tree_add): the higher argument index first; on one
// argument, EQ, NE and MASKED_EQ before LT and LE, before GT and GE; then
// the greater value first, except for LT and LE, the smaller. Rules are
// compared condition by condition (lowest argument first), and a rule whose
// conditions are the start of another's comes first (libseccomp keeps the
// shorter one). Equal keys keep the profile's order, as libseccomp keeps
// insertion order. So arg1==20 is tried before arg0==10, whatever their
// order in the profile: that is libseccomp's rule, deterministic, and
// independent of the profile's order.
//
// With args32 the value compared is the low word, as the program compares
// it (cond32).
func condOrder(a, b []specs.LinuxSeccompArg, args32 bool) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		if x.Index != y.Index {
			return cmpDesc(x.Index, y.Index)
		}
		if px, py := opPriority(x.Op), opPriority(y.Op); px != py {
			return cmpDesc(px, py)
		}
		vx, vy := x.Value, y.Value
		if x.Op == specs.OpMaskedEqual {
			vx = x.ValueTwo
		}
		if y.Op == specs.OpMaskedEqual {
			vy = y.ValueTwo
		}
		if args32 {
			vx, vy = uint64(uint32(vx)), uint64(uint32(vy))
		}
		if vx != vy {
			if x.Op == specs.OpLessThan || x.Op == specs.OpLessEqual {
				return cmpAsc(vx, vy)
			}
			return cmpDesc(vx, vy)
		}
	}
	return cmpAsc(len(a), len(b))
}

func opPriority(op specs.LinuxSeccompOperator) int {
	switch op {
	case specs.OpEqualTo, specs.OpNotEqual, specs.OpMaskedEqual:
		return 3
	case specs.OpLessThan, specs.OpLessEqual:
		return 2
	}
	return 1
}

func cmpAsc[T uint | uint64 | int](x, y T) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func cmpDesc[T uint | uint64 | int](x, y T) int { return cmpAsc(y, x) }

// muxCall is the multiplexer of an i386 socket or IPC syscall and its call
// number there (linux/net.h SYS_SOCKET..., linux/ipc.h SEMOP...).
type muxCall struct {
	nr   uint32 // socketcall or ipc, on i386
	call uint64
	ipc  bool
}

const (
	i386Socketcall = 102
	i386IPC        = 117
)

var muxCalls = map[string]muxCall{
	"socket": {i386Socketcall, 1, false}, "bind": {i386Socketcall, 2, false}, "connect": {i386Socketcall, 3, false},
	"listen": {i386Socketcall, 4, false}, "accept": {i386Socketcall, 5, false}, "getsockname": {i386Socketcall, 6, false},
	"getpeername": {i386Socketcall, 7, false}, "socketpair": {i386Socketcall, 8, false}, "send": {i386Socketcall, 9, false},
	"recv": {i386Socketcall, 10, false}, "sendto": {i386Socketcall, 11, false}, "recvfrom": {i386Socketcall, 12, false},
	"shutdown": {i386Socketcall, 13, false}, "setsockopt": {i386Socketcall, 14, false}, "getsockopt": {i386Socketcall, 15, false},
	"sendmsg": {i386Socketcall, 16, false}, "recvmsg": {i386Socketcall, 17, false}, "accept4": {i386Socketcall, 18, false},
	"recvmmsg": {i386Socketcall, 19, false}, "sendmmsg": {i386Socketcall, 20, false},

	"semop": {i386IPC, 1, true}, "semget": {i386IPC, 2, true}, "semctl": {i386IPC, 3, true}, "semtimedop": {i386IPC, 4, true},
	"msgsnd": {i386IPC, 11, true}, "msgrcv": {i386IPC, 12, true}, "msgget": {i386IPC, 13, true}, "msgctl": {i386IPC, 14, true},
	"shmat": {i386IPC, 21, true}, "shmdt": {i386IPC, 22, true}, "shmget": {i386IPC, 23, true}, "shmctl": {i386IPC, 24, true},
}

// muxRule is the conditions of a rule for a multiplexed syscall, moved to
// its multiplexer: arg0 is the call number, and a condition the rule had on
// arg0 is dropped. The other conditions stay and test the multiplexer's
// registers, as libseccomp's x86_rule_add does (arch-x86.c: it overwrites
// args[0] of the rule and keeps the rest): the syscall's real arguments are
// in memory, where seccomp cannot read them.
//
// socketcall compares all of arg0 (the kernel refuses a call number out of
// range). ipc(2) takes only the low 16 bits of arg0 as the call and the
// high ones as a version (ksys_ipc), so ipc(SHMGET|1<<16, ...) is shmget:
// Carapace compares the low 16 bits where libseccomp compares the whole
// word, which such a call dodges.
func muxRule(m muxCall, args []specs.LinuxSeccompArg) []specs.LinuxSeccompArg {
	call := specs.LinuxSeccompArg{Index: 0, Value: m.call, Op: specs.OpEqualTo}
	if m.ipc {
		call = specs.LinuxSeccompArg{Index: 0, Value: 0xffff, ValueTwo: m.call, Op: specs.OpMaskedEqual}
	}
	out := []specs.LinuxSeccompArg{call}
	for _, a := range args {
		if a.Index != 0 {
			out = append(out, a)
		}
	}
	return out
}
