package main

// -profile N: where a run's CPU time goes. perf record samples every CPU
// (cpu-clock, one sample per 50 µs of CPU, with call chains) while each
// runtime does N runs of /bin/true; perf script's call chains are then
// sorted, per process of the run, into what the time was spent on. The
// figures are milliseconds of CPU per run.
//
// A runtime's init re-executed from a sealed copy of the binary (a memfd
// or a detached mount) has no file perf can read symbols from; its
// frames are named here from the runtime binary's own symbol table, so
// the binary must not be stripped (scripts/profile.sh builds one that is
// not).

import (
	"bufio"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

const samplePeriodNs = 50000 // perf record -c: one sample per 50 µs of CPU

// The categories, in the order a sample is tested against them: the first
// that matches takes it.
var categories = []struct {
	name  string
	match func(frames []string) bool
}{
	{"page faults", anyFrame("exc_page_fault")},
	{"execve", anyFrame("bprm_execve", "__x64_sys_execve")},
	{"syscalls", anyFrame("do_syscall_64")},
	{"kernel, other", func(f []string) bool { return len(f) > 0 && isKernel(f[0]) }},
	{"encoding/json", anyPrefix("encoding/json.")},
	{"malloc + GC", anyPrefix("runtime.mallocgc", "runtime.gcBgMarkWorker", "runtime.gcStart", "runtime.growslice", "runtime.newobject", "runtime.makeslice")},
	{"stack growth", anyFrame("runtime.morestack")},
	{"runtime start", anyFrame("runtime.rt0_go", "runtime.schedinit", "runtime.mstart", "_rt0_amd64", "__libc_start_main_impl", "_start")},
	{"package init", func(f []string) bool {
		return hasFrame(f, "runtime.doInit1") && !hasPrefix(f, "github.com/carapace-oci/carapace/libcarapace/container.")
	}},
	{"runtime's own", anyPrefix("runtime.")},
	{"the program", func([]string) bool { return true }},
}

func isKernel(frame string) bool { return strings.HasPrefix(frame, "k:") }

func hasFrame(frames []string, names ...string) bool {
	for _, f := range frames {
		f = strings.TrimPrefix(f, "k:")
		for _, n := range names {
			if f == n {
				return true
			}
		}
	}
	return false
}

func hasPrefix(frames []string, prefixes ...string) bool {
	for _, f := range frames {
		for _, p := range prefixes {
			if strings.HasPrefix(f, p) {
				return true
			}
		}
	}
	return false
}

func anyFrame(names ...string) func([]string) bool {
	return func(f []string) bool { return hasFrame(f, names...) }
}

func anyPrefix(prefixes ...string) func([]string) bool {
	return func(f []string) bool { return hasPrefix(f, prefixes...) }
}

// profile records n runs of each runtime and prints the breakdown.
func (b *bench) profile(n int) error {
	for _, rt := range b.rts {
		data := filepath.Join(b.work, rt.name+".perf")
		loop := fmt.Sprintf(`for i in $(seq %d); do "$0" --root "$1" run "p$i" >/dev/null || exit 1; done`, n)
		c := exec.Command("perf", "record", "-q", "-a", "-g", "-e", "cpu-clock", "-c", strconv.Itoa(samplePeriodNs),
			"-o", data, "--", "sh", "-c", loop, rt.path, rt.root)
		c.Env = append(os.Environ(), rt.env...)
		c.Dir = b.bundles["true"]
		c.Stderr = b.errLog
		if err := c.Run(); err != nil {
			return fmt.Errorf("%s: perf record: %w%s", rt.name, err, b.lastErr())
		}
		p, err := readProfile(data, rt.path)
		if err != nil {
			return fmt.Errorf("%s: %w", rt.name, err)
		}
		var cpu []float64
		for i := 0; i < 5; i++ {
			v, err := b.perfRun(rt, "true")
			if err != nil {
				return fmt.Errorf("%s: %w%s", rt.name, err, b.lastErr())
			}
			cpu = append(cpu, v)
		}
		p.print(os.Stdout, rt.name, n, percentile(cpu, 0.5))
	}
	return nil
}

type profile struct {
	// samples[process][category], syscalls[process][name] and
	// leaves[process][function] count samples; leaves only of the
	// categories of user space that are not named after a function.
	samples  map[string]map[string]int
	syscalls map[string]map[string]int
	leaves   map[string]map[string]int
}

// readProfile reads the perf data through perf script.
func readProfile(data, binary string) (*profile, error) {
	syms, err := loadSymbols(binary)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("perf", "script", "-i", data, "-F", "comm,ip,sym,dso")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &profile{samples: map[string]map[string]int{}, syscalls: map[string]map[string]int{}, leaves: map[string]map[string]int{}}
	p.parse(out, processClass(binary), syms)
	return p, cmd.Wait()
}

// processClass names the process a sample's comm belongs to: the
// runtime's CLI (comm is the binary's name, cut to 15 bytes), its init
// re-executed through a descriptor (comm is the descriptor's number),
// or the container's /bin/true; "" for the shell loop and the rest of
// the machine.
func processClass(binary string) func(comm string) string {
	cli := filepath.Base(binary)
	if len(cli) > 15 {
		cli = cli[:15]
	}
	return func(comm string) string {
		switch {
		case comm == cli:
			return "runtime CLI"
		case comm == "true":
			return "container"
		case comm != "" && strings.Trim(comm, "0123456789") == "":
			return "runtime init"
		}
		return ""
	}
}

func (p *profile) parse(r io.Reader, class func(string) string, syms *symbols) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var proc string
	var frames []string
	flush := func() {
		if proc != "" {
			p.add(proc, frames)
		}
		proc, frames = "", frames[:0]
	}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
			flush()
		case line[0] != ' ' && line[0] != '\t':
			flush()
			proc = class(strings.TrimSpace(line))
		case proc != "":
			frames = append(frames, frameName(line, syms))
		}
	}
	flush()
}

// frameName names one call-chain line of perf script: "ip sym (dso)".
// Kernel frames get a "k:" prefix.
func frameName(line string, syms *symbols) string {
	f := strings.Fields(line)
	if len(f) < 2 {
		return "?"
	}
	ip, sym := f[0], f[1]
	dso := strings.Trim(f[len(f)-1], "()")
	if strings.Contains(dso, "kernel") {
		return "k:" + sym
	}
	if sym == "[unknown]" {
		if a, err := strconv.ParseUint(ip, 16, 64); err == nil {
			if name := syms.lookup(a); name != "" {
				sym = name
			}
		}
	}
	return strings.TrimSuffix(sym, ".abi0")
}

func (p *profile) add(proc string, frames []string) {
	if p.samples[proc] == nil {
		p.samples[proc] = map[string]int{}
		p.syscalls[proc] = map[string]int{}
		p.leaves[proc] = map[string]int{}
	}
	for _, c := range categories {
		if !c.match(frames) {
			continue
		}
		p.samples[proc][c.name]++
		switch c.name {
		case "syscalls":
			p.syscalls[proc][syscallName(frames)]++
		case "runtime's own", "the program":
			if len(frames) > 0 {
				p.leaves[proc][frames[0]]++
			}
		}
		return
	}
}

// syscallName is the kernel's entry function of the system call, the
// frame called by do_syscall_64.
func syscallName(frames []string) string {
	for i, f := range frames {
		if f == "k:do_syscall_64" && i > 0 {
			name := strings.TrimPrefix(frames[i-1], "k:")
			for _, p := range []string{"__x64_sys_", "__do_sys_", "ksys_", "__se_sys_"} {
				name = strings.TrimPrefix(name, p)
			}
			return name
		}
	}
	return "?"
}

// print prints the breakdown in milliseconds per run, scaled so that the
// total is cpuPerRun (perf stat's task-clock of a run, taken without
// call-chain sampling, which slows what it samples).
func (p *profile) print(w io.Writer, rt string, runs int, cpuPerRun float64) {
	procs := []string{"runtime CLI", "runtime init", "container"}
	all := 0
	for _, pr := range procs {
		for _, v := range p.samples[pr] {
			all += v
		}
	}
	ms := func(samples int) float64 { return float64(samples) / float64(max(all, 1)) * cpuPerRun }
	fmt.Fprintf(w, "\n%s: CPU of a run, %.2f ms (perf stat), by process and by what it was spent on, in ms (from %d runs sampled)\n", rt, cpuPerRun, runs)
	fmt.Fprintf(w, "%-16s", "")
	for _, pr := range procs {
		fmt.Fprintf(w, "%14s", pr)
	}
	fmt.Fprintf(w, "%10s\n", "all")
	total := map[string]int{}
	for _, c := range categories {
		fmt.Fprintf(w, "%-16s", c.name)
		sum := 0
		for _, pr := range procs {
			v := p.samples[pr][c.name]
			sum += v
			total[pr] += v
			fmt.Fprintf(w, "%14.2f", ms(v))
		}
		fmt.Fprintf(w, "%10.2f\n", ms(sum))
	}
	fmt.Fprintf(w, "%-16s", "total")
	for _, pr := range procs {
		fmt.Fprintf(w, "%14.2f", ms(total[pr]))
	}
	fmt.Fprintf(w, "%10.2f\n", ms(all))
	top := func(what, pr string, counts map[string]int) {
		type kv struct {
			k string
			v int
		}
		var kvs []kv
		for k, v := range counts {
			kvs = append(kvs, kv{k, v})
		}
		sort.Slice(kvs, func(i, j int) bool { return kvs[i].v > kvs[j].v || kvs[i].v == kvs[j].v && kvs[i].k < kvs[j].k })
		var parts []string
		for _, t := range kvs[:min(len(kvs), 8)] {
			parts = append(parts, fmt.Sprintf("%s %.2f", t.k, ms(t.v)))
		}
		if len(parts) > 0 {
			fmt.Fprintf(w, "%s of the %s: %s\n", what, pr, strings.Join(parts, ", "))
		}
	}
	for _, pr := range procs[:2] {
		top("syscalls", pr, p.syscalls[pr])
		top("functions (runtime's own, the program)", pr, p.leaves[pr])
	}
}

// symbols maps the addresses perf reports relative to the start of the
// binary's mapping (file offsets) to function names.
type symbols struct {
	addrs []uint64
	names []string
	// offsetToVaddr converts perf's file-relative address.
	delta uint64
}

func loadSymbols(binary string) (*symbols, error) {
	s := &symbols{}
	f, err := elf.Open(binary)
	if err != nil {
		// Not an ELF file we can read (a wrapper script): no names.
		return s, nil
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 {
			s.delta = p.Vaddr - p.Off
			break
		}
	}
	syms, err := f.Symbols()
	if err != nil {
		return s, nil // stripped: perf names what it can
	}
	sort.Slice(syms, func(i, j int) bool { return syms[i].Value < syms[j].Value })
	for _, sym := range syms {
		if elf.ST_TYPE(sym.Info) == elf.STT_FUNC && sym.Value != 0 {
			s.addrs = append(s.addrs, sym.Value)
			s.names = append(s.names, sym.Name)
		}
	}
	return s, nil
}

func (s *symbols) lookup(rel uint64) string {
	a := rel + s.delta
	i := sort.Search(len(s.addrs), func(i int) bool { return s.addrs[i] > a }) - 1
	if i < 0 {
		return ""
	}
	return s.names[i]
}
