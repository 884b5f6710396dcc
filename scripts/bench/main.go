// Command bench measures OCI runtimes side by side: carapace, crun and
// runc, on one busybox bundle, with every sample round visiting every
// runtime in turn so that the machine's drift hits all of them alike.
//
// It is run by scripts/bench.sh, which puts it in a private mount and pid
// namespace (it is pid 1 there, so the containers' init processes are
// reparented to it and it can wait for them like a shim does).
//
// Figures, each a median and p90 over the samples, with the ratio of the
// medians to crun's:
//
//   - cpu/run: perf stat task-clock of `run /bin/true`, every process of
//     the run (perf counts the whole process tree it starts);
//   - wall/run: the wall time of `run /bin/true`, without perf;
//   - wall/cswd: create, start, wait for the init to exit, delete: the
//     calls a shim (containerd-shim, conmon) makes;
//   - wall/state and wall/exec: `state` and `exec /bin/true` on a running
//     container;
//   - rss/create: peak RSS of the create process and of every process it
//     waited for (wait4's rusage: the kernel keeps the maximum over the
//     reaped descendants), taken by GNU time, which forks the runtime
//     with a copy of its own small memory; rss/init: VmHWM of the
//     container's init read from /proc while it waits for start;
//     rss/sum: both;
//   - runs/s at 8 and 32 parallel: 50 runs, 8 or 32 at a time (higher is
//     better, so is the ratio);
//   - cpu/run with 0, 50 and 200 extra tmpfs mounts, and the slope per
//     mount in microseconds from the 0 and 200 medians.
//
// A runtime argument may carry environment variables for every command
// of that runtime, after "@": bin/carapace@CARAPACE_EXPERIMENT_ONESTART=1
// measures the same binary with a switch on, as a runtime of its own
// named after the variable and a value other than 1 (carapace-onestart,
// carapace-onestart+unsealed), without a wrapper
// script's extra exec.
//
// Binaries compared against each other should reach the page cache the
// same way (all built in place, or all copied with cat > or cp): how the
// file was written changes how many page faults running it takes (a file
// the linker wrote faulted about 50 times less per start than a cp'd
// copy of it, here).
//
// With -ci it checks the ratios of the first runtime (carapace) to crun
// against the -max limits and exits 1 when one is over.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
)

var (
	samples     = flag.Int("n", 15, "sample rounds for the sequential figures")
	tputRounds  = flag.Int("t", 3, "rounds of the throughput batches (0: skip)")
	profileRuns = flag.Int("profile", 0, "instead of the figures: record this many runs of each runtime with perf and print where their CPU time goes")
	mountSizes  = flag.String("mounts", "0,50,200", "extra tmpfs mounts per bundle for the per-mount figure (empty: skip)")
	busybox     = flag.String("busybox", "/bin/busybox", "static busybox for the bundles' rootfs")
	ciMode      = flag.Bool("ci", false, "check the first runtime's ratios to crun against -max and exit 1 when over")
	maxRatios   = flag.String("max", "cpu/run=2.5,wall/run=2.5,wall/cswd=2.5,rss/sum=4", "limits for -ci: metric=ratio to crun, comma separated")
)

type runtime struct {
	path string
	name string
	root string
	env  []string // added to the environment of every command
}

// metric holds one figure's samples per runtime.
type metric struct {
	name   string
	unit   string
	higher bool // higher is better (throughput)
	vals   map[string][]float64
}

type bench struct {
	work     string
	rts      []runtime
	metrics  []*metric
	byName   map[string]*metric
	errLog   *os.File
	seq      int
	bundles  map[string]string // kind -> bundle dir
	mountKey []string
}

func main() {
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: bench [flags] runtime-binary ...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Args()); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

func run(paths []string) error {
	// Orphaned container inits come to us even when we are not pid 1.
	const prSetChildSubreaper = 36
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); e != 0 {
		return fmt.Errorf("prctl(PR_SET_CHILD_SUBREAPER): %w", e)
	}
	work, err := os.MkdirTemp("", "carapace-bench.")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	b := &bench{work: work, byName: map[string]*metric{}, bundles: map[string]string{}}
	if b.errLog, err = os.Create(filepath.Join(work, "stderr.log")); err != nil {
		return err
	}
	for _, arg := range paths {
		p, envs, _ := strings.Cut(arg, "@")
		abs, err := exec.LookPath(p)
		if err != nil {
			return err
		}
		// Commands run in the bundles' directories.
		if abs, err = filepath.Abs(abs); err != nil {
			return err
		}
		name := filepath.Base(abs)
		var env []string
		if envs != "" {
			env = strings.Split(envs, "@")
			for _, kv := range env {
				k, v, _ := strings.Cut(kv, "=")
				name += "-" + strings.ToLower(k[strings.LastIndex(k, "_")+1:])
				if v != "1" {
					// Names make container ids: letters, digits and _+.- only.
					name += "+" + strings.Map(func(r rune) rune {
						if strings.ContainsRune("_+.-", r) || unicode.IsLetter(r) || unicode.IsDigit(r) {
							return r
						}
						return '-'
					}, v)
				}
			}
		}
		b.rts = append(b.rts, runtime{path: abs, name: name, root: filepath.Join(work, "state-"+name), env: env})
	}
	if err := b.makeBundles(); err != nil {
		return err
	}
	for _, rt := range b.rts {
		for i := 0; i < 3; i++ { // warm the page cache and the cgroup trees
			if err := b.cmd(rt, "true", "run", b.id(rt)).Run(); err != nil {
				return fmt.Errorf("%s: warm-up run: %w%s", rt.name, err, b.lastErr())
			}
		}
	}
	if *profileRuns > 0 {
		return b.profile(*profileRuns)
	}
	// Sleepers for state and exec.
	sleepers := map[string]string{}
	for _, rt := range b.rts {
		id := b.id(rt)
		if _, err := b.createStart(rt, "sleep", id); err != nil {
			return fmt.Errorf("%s: sleeper: %w", rt.name, err)
		}
		sleepers[rt.name] = id
	}
	defer func() {
		for _, rt := range b.rts {
			b.cmd(rt, "", "delete", "--force", sleepers[rt.name]).Run()
		}
	}()
	for i := 0; i < *samples; i++ {
		for _, rt := range b.rts {
			if err := b.round(rt, sleepers[rt.name]); err != nil {
				return fmt.Errorf("%s: %w%s", rt.name, err, b.lastErr())
			}
		}
		reapAll()
	}
	for i := 0; i < *tputRounds; i++ {
		for _, par := range []int{8, 32} {
			for _, rt := range b.rts {
				d, err := b.batch(rt, 50, par)
				if err != nil {
					return fmt.Errorf("%s: %d runs %d at a time: %w%s", rt.name, 50, par, err, b.lastErr())
				}
				b.add(fmt.Sprintf("runs/s x%d", par), "runs/s", true, rt, 50/d.Seconds())
			}
		}
		reapAll()
	}
	b.report()
	if *ciMode {
		return b.check()
	}
	return nil
}

// round takes one sample of every sequential figure for rt.
func (b *bench) round(rt runtime, sleeper string) error {
	cpu, err := b.perfRun(rt, "true")
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	b.add("cpu/run", "ms", false, rt, cpu)

	t0 := time.Now()
	if err := b.cmd(rt, "true", "run", b.id(rt)).Run(); err != nil {
		return fmt.Errorf("run: %w", err)
	}
	b.add("wall/run", "ms", false, rt, ms(time.Since(t0)))

	t0 = time.Now()
	rss, err := b.createStart(rt, "true", b.id(rt))
	if err != nil {
		return err
	}
	if err := b.waitInit(rss.initPid); err != nil {
		return err
	}
	if err := b.cmd(rt, "", "delete", rss.id).Run(); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	b.add("wall/cswd", "ms", false, rt, ms(time.Since(t0)))
	b.add("rss/create", "MiB", false, rt, rss.create/1024)
	b.add("rss/init", "MiB", false, rt, rss.init/1024)
	b.add("rss/sum", "MiB", false, rt, (rss.create+rss.init)/1024)

	t0 = time.Now()
	if err := b.cmd(rt, "", "state", sleeper).Run(); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	b.add("wall/state", "ms", false, rt, ms(time.Since(t0)))

	t0 = time.Now()
	if err := b.cmd(rt, "", "exec", sleeper, "/bin/true").Run(); err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	b.add("wall/exec", "ms", false, rt, ms(time.Since(t0)))

	for _, k := range b.mountKey {
		cpu, err := b.perfRun(rt, k)
		if err != nil {
			return fmt.Errorf("run with %s: %w", k, err)
		}
		b.add("cpu/run "+k, "ms", false, rt, cpu)
	}
	return nil
}

// timeBin is GNU time (Debian's time package), for rss/create.
const timeBin = "/usr/bin/time"

type createFigures struct {
	id           string
	initPid      int
	create, init float64 // KiB
}

// createStart creates and starts a container from the bundle kind,
// recording the peak RSS of create's process tree and of the init.
func (b *bench) createStart(rt runtime, kind, id string) (createFigures, error) {
	f := createFigures{id: id}
	pidFile := filepath.Join(b.work, id+".pid")
	rssFile := filepath.Join(b.work, id+".rss")
	// Through GNU time, which forks the runtime with a copy of its own
	// small memory: ru_maxrss survives execve, and a child this Go
	// process starts (clone with CLONE_VM|CLONE_VFORK) would carry the
	// bench's own peak RSS into the figure.
	c := b.cmd(rt, kind, "create", "--pid-file", pidFile, id)
	c.Args = append([]string{timeBin, "-f", "%M", "-o", rssFile, c.Path}, c.Args[1:]...)
	c.Path = timeBin
	if err := c.Run(); err != nil {
		return f, fmt.Errorf("create: %w", err)
	}
	rss, err := os.ReadFile(rssFile)
	if err != nil {
		return f, err
	}
	os.Remove(rssFile)
	if f.create, err = strconv.ParseFloat(strings.TrimSpace(string(rss)), 64); err != nil {
		return f, fmt.Errorf("%s: %w", timeBin, err)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return f, err
	}
	os.Remove(pidFile)
	if f.initPid, err = strconv.Atoi(strings.TrimSpace(string(data))); err != nil {
		return f, fmt.Errorf("pid file: %w", err)
	}
	f.init = vmHWM(f.initPid)
	if err := b.cmd(rt, "", "start", id).Run(); err != nil {
		return f, fmt.Errorf("start: %w", err)
	}
	return f, nil
}

// waitInit waits for a container's init, reparented to us when create
// exited, as a shim does.
func (b *bench) waitInit(pid int) error {
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("wait for init %d: %w", pid, err)
		}
		return nil
	}
}

// reapAll reaps whatever other orphans came to us (intermediate
// processes of the runtimes); only between rounds, when no exec.Cmd is
// waiting.
func reapAll() {
	var ws syscall.WaitStatus
	for {
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}

func vmHWM(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return n
		}
	}
	return 0
}

// perfRun runs /bin/true from the bundle kind under perf stat and returns
// the task-clock of every process of the run, in ms.
func (b *bench) perfRun(rt runtime, kind string) (float64, error) {
	out := filepath.Join(b.work, "perf.out")
	c := exec.Command("perf", "stat", "-x,", "-e", "task-clock", "-o", out, "--",
		rt.path, "--root", rt.root, "run", b.id(rt))
	c.Env = append(os.Environ(), rt.env...)
	c.Dir = b.bundles[kind]
	c.Stderr = b.errLog
	if err := c.Run(); err != nil {
		return 0, err
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Split(l, ","); len(f) > 2 && strings.Contains(l, "task-clock") {
			return strconv.ParseFloat(f[0], 64)
		}
	}
	return 0, fmt.Errorf("no task-clock in perf output: %q", data)
}

// batch runs n containers par at a time and returns the wall time.
func (b *bench) batch(rt runtime, n, par int) (time.Duration, error) {
	ids := make(chan string, n)
	for i := 0; i < n; i++ {
		ids <- b.id(rt)
	}
	close(ids)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	t0 := time.Now()
	for w := 0; w < par; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ids {
				if err := b.cmd(rt, "true", "run", id).Run(); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(t0), first
}

func (b *bench) cmd(rt runtime, kind string, args ...string) *exec.Cmd {
	c := exec.Command(rt.path, append([]string{"--root", rt.root}, args...)...)
	c.Env = append(os.Environ(), rt.env...)
	if kind != "" {
		c.Dir = b.bundles[kind]
	}
	c.Stderr = b.errLog
	return c
}

// id returns a container id unique across runtimes: they share the
// cgroup trees.
func (b *bench) id(rt runtime) string {
	b.seq++
	return fmt.Sprintf("bench-%s-%d", rt.name, b.seq)
}

func (b *bench) lastErr() string {
	data, _ := os.ReadFile(b.errLog.Name())
	s := strings.TrimSpace(string(data))
	if len(s) > 2000 {
		s = s[len(s)-2000:]
	}
	if s == "" {
		return ""
	}
	return "\nstderr of the runtimes:\n" + s
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (b *bench) add(name, unit string, higher bool, rt runtime, v float64) {
	m := b.byName[name]
	if m == nil {
		m = &metric{name: name, unit: unit, higher: higher, vals: map[string][]float64{}}
		b.byName[name] = m
		b.metrics = append(b.metrics, m)
	}
	m.vals[rt.name] = append(m.vals[rt.name], v)
}

// makeBundles writes the bundles: "true" runs /bin/true, "sleep" sleeps,
// "mN" runs /bin/true with N extra tmpfs mounts.
func (b *bench) makeBundles() error {
	base := filepath.Join(b.work, "spec")
	if err := os.MkdirAll(base, 0o755); err != nil {
		return err
	}
	if out, err := exec.Command(b.rts[0].path, "spec", "--bundle", base).CombinedOutput(); err != nil {
		// Any runtime's spec does; the first is carapace by default.
		return fmt.Errorf("%s spec: %w: %s", b.rts[0].name, err, out)
	}
	data, err := os.ReadFile(filepath.Join(base, "config.json"))
	if err != nil {
		return err
	}
	var sizes []int
	if *mountSizes != "" {
		for _, s := range strings.Split(*mountSizes, ",") {
			n, err := strconv.Atoi(s)
			if err != nil {
				return fmt.Errorf("-mounts: %w", err)
			}
			sizes = append(sizes, n)
			b.mountKey = append(b.mountKey, fmt.Sprintf("m%d", n))
		}
	}
	kinds := map[string]func(map[string]any) int{
		"true":  func(s map[string]any) int { proc(s)["args"] = []string{"/bin/true"}; return 0 },
		"sleep": func(s map[string]any) int { proc(s)["args"] = []string{"sleep", "1000000"}; return 0 },
	}
	for _, n := range sizes {
		kinds[fmt.Sprintf("m%d", n)] = func(s map[string]any) int {
			proc(s)["args"] = []string{"/bin/true"}
			mounts, _ := s["mounts"].([]any)
			for i := 0; i < n; i++ {
				mounts = append(mounts, map[string]any{
					"destination": fmt.Sprintf("/m/%d", i), "type": "tmpfs", "source": "tmpfs",
					"options": []string{"nosuid", "nodev", "size=64k"},
				})
			}
			s["mounts"] = mounts
			return n
		}
	}
	for kind, edit := range kinds {
		var s map[string]any
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		// 1.0.2: the newest that crun 1.8.1 accepts.
		s["ociVersion"] = "1.0.2"
		proc(s)["terminal"] = false
		n := edit(s)
		dir := filepath.Join(b.work, "bundle-"+kind)
		if err := os.MkdirAll(filepath.Join(dir, "rootfs", "bin"), 0o755); err != nil {
			return err
		}
		// The mount points exist: the rootfs is read-only.
		for i := 0; i < n; i++ {
			if err := os.MkdirAll(filepath.Join(dir, "rootfs", "m", strconv.Itoa(i)), 0o755); err != nil {
				return err
			}
		}
		if err := copyFile(*busybox, filepath.Join(dir, "rootfs", "bin", "busybox")); err != nil {
			return err
		}
		for _, l := range []string{"true", "sleep", "sh"} {
			if err := os.Symlink("busybox", filepath.Join(dir, "rootfs", "bin", l)); err != nil {
				return err
			}
		}
		out, err := json.MarshalIndent(s, "", "\t")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "config.json"), out, 0o644); err != nil {
			return err
		}
		b.bundles[kind] = dir
	}
	return nil
}

func proc(s map[string]any) map[string]any {
	p, _ := s["process"].(map[string]any)
	if p == nil {
		p = map[string]any{}
		s["process"] = p
	}
	return p
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o755)
}

func percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	// Nearest rank.
	i := int(p*float64(len(s))+0.999999) - 1
	if i < 0 {
		i = 0
	}
	return s[i]
}

const ref = "crun"

func (b *bench) ratio(m *metric, rt string) (float64, bool) {
	r, ok := m.vals[ref]
	if !ok || len(m.vals[rt]) == 0 {
		return 0, false
	}
	den := percentile(r, 0.5)
	if den == 0 {
		return 0, false
	}
	return percentile(m.vals[rt], 0.5) / den, true
}

func (b *bench) report() {
	fmt.Printf("%-20s %-10s %10s %10s %8s  %s\n", "metric", "runtime", "median", "p90", "x crun", "n")
	for _, m := range b.metrics {
		for _, rt := range b.rts {
			v := m.vals[rt.name]
			if len(v) == 0 {
				continue
			}
			p90 := percentile(v, 0.9)
			if m.higher { // the p90 of the slow side
				p90 = percentile(v, 0.1)
			}
			r := "-"
			if x, ok := b.ratio(m, rt.name); ok {
				r = fmt.Sprintf("%.2f", x)
			}
			fmt.Printf("%-20s %-10s %10.2f %10.2f %8s  %d %s\n", m.name, rt.name, percentile(v, 0.5), p90, r, len(v), m.unit)
		}
	}
	if len(b.mountKey) >= 2 {
		lo, hi := b.mountKey[0], b.mountKey[len(b.mountKey)-1]
		nlo, _ := strconv.Atoi(lo[1:])
		nhi, _ := strconv.Atoi(hi[1:])
		mlo, mhi := b.byName["cpu/run "+lo], b.byName["cpu/run "+hi]
		for _, rt := range b.rts {
			if nhi == nlo || mlo == nil || mhi == nil {
				break
			}
			slope := (percentile(mhi.vals[rt.name], 0.5) - percentile(mlo.vals[rt.name], 0.5)) * 1000 / float64(nhi-nlo)
			fmt.Printf("%-20s %-10s %10.1f us/mount (cpu, medians of %s and %s)\n", "per-mount", rt.name, slope, lo, hi)
		}
	}
}

// check compares the first runtime's median ratios to crun with -max.
func (b *bench) check() error {
	if _, ok := b.byName["cpu/run"].vals[ref]; !ok {
		return fmt.Errorf("-ci needs %s among the runtimes: the limits are ratios to it", ref)
	}
	rt := b.rts[0].name
	var over []string
	for _, kv := range strings.Split(*maxRatios, ",") {
		name, lim, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("-max %q: want metric=ratio", kv)
		}
		limit, err := strconv.ParseFloat(lim, 64)
		if err != nil {
			return fmt.Errorf("-max %q: %w", kv, err)
		}
		m := b.byName[name]
		if m == nil {
			return fmt.Errorf("-max %q: no such metric", kv)
		}
		x, ok := b.ratio(m, rt)
		if !ok {
			return fmt.Errorf("-max %q: no ratio for %s", kv, rt)
		}
		if m.higher {
			x = 1 / x // so that "over the limit" means slower either way
		}
		status := "ok"
		if x > limit {
			status = "OVER"
			over = append(over, fmt.Sprintf("%s %.2fx crun (limit %.2fx)", name, x, limit))
		}
		fmt.Printf("ci: %-12s %s %.2fx crun, limit %.2fx: %s\n", name, rt, x, limit, status)
	}
	if len(over) > 0 {
		return fmt.Errorf("%s regressed against %s: %s", rt, ref, strings.Join(over, "; "))
	}
	return nil
}
