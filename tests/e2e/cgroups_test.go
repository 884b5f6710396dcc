package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/tests/internal/leaks"
	"github.com/carapace-oci/carapace/tests/internal/testenv"
)

// The cgroup tests find a container's cgroup directories from
// /proc/<init pid>/cgroup and the host's cgroup mounts, never by guessing:
// the runtime's own cgroup need not be the root of a hierarchy.

const mib = 1 << 20

// ---- the host's cgroup hierarchies ---------------------------------------------

// cgHier is one mounted cgroup hierarchy.
type cgHier struct {
	Mountpoint string
	Root       string   // the mount's root inside the hierarchy (mountinfo field 4)
	V2         bool     // a cgroup2 mount
	Ctrls      []string // v1: its controllers and name=..., sorted
}

var v1Controllers = map[string]bool{
	"cpu": true, "cpuacct": true, "cpuset": true, "memory": true, "devices": true,
	"freezer": true, "net_cls": true, "net_prio": true, "blkio": true, "perf_event": true,
	"hugetlb": true, "pids": true, "rdma": true, "misc": true,
}

var (
	hierOnce sync.Once
	hiers    []cgHier
	hierErr  error
)

// cgHierarchies parses /proc/self/mountinfo (first mount of each
// hierarchy wins).
func cgHierarchies() ([]cgHier, error) {
	hierOnce.Do(func() {
		data, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			hierErr = err
			return
		}
		seen := map[string]bool{}
		for _, line := range strings.Split(string(data), "\n") {
			pre, post, ok := strings.Cut(line, " - ")
			if !ok {
				continue
			}
			pf, sf := strings.Fields(pre), strings.Fields(post)
			if len(pf) < 5 || len(sf) < 3 || (sf[0] != "cgroup" && sf[0] != "cgroup2") {
				continue
			}
			h := cgHier{Mountpoint: leaks.UnescapeMountinfo(pf[4]), Root: leaks.UnescapeMountinfo(pf[3]), V2: sf[0] == "cgroup2"}
			if !h.V2 {
				for _, o := range strings.Split(sf[2], ",") {
					if v1Controllers[o] || strings.HasPrefix(o, "name=") {
						h.Ctrls = append(h.Ctrls, o)
					}
				}
				slices.Sort(h.Ctrls)
			}
			key := "v2"
			if !h.V2 {
				key = strings.Join(h.Ctrls, ",")
			}
			if seen[key] {
				continue
			}
			seen[key] = true
			hiers = append(hiers, h)
		}
		if len(hiers) == 0 {
			hierErr = fmt.Errorf("no cgroup hierarchy in /proc/self/mountinfo")
		}
	})
	return hiers, hierErr
}

// cgMode is "v1" (v1 controllers only), "hybrid" (v1 controllers and a
// cgroup2 mount) or "v2" (a single cgroup2 hierarchy).
func cgMode(t *testing.T) string {
	t.Helper()
	hs, err := cgHierarchies()
	if err != nil {
		t.Fatal(err)
	}
	v1, v2 := false, false
	for _, h := range hs {
		if h.V2 {
			v2 = true
		} else if len(h.Ctrls) > 0 && !(len(h.Ctrls) == 1 && strings.HasPrefix(h.Ctrls[0], "name=")) {
			v1 = true
		}
	}
	switch {
	case v1 && v2:
		return "hybrid"
	case v1:
		return "v1"
	default:
		return "v2"
	}
}

func isV2(t *testing.T) bool { t.Helper(); return cgMode(t) == "v2" }

// requireCgroupV1 skips tests of v1 interface files on a cgroup v2 host.
func requireCgroupV1(t *testing.T) {
	t.Helper()
	if isV2(t) {
		t.Skip("checks cgroup v1 interface files; this host has a pure cgroup v2 hierarchy")
	}
}

// v1Mount returns the mount point of the v1 hierarchy holding controller
// ctrl, or "".
func v1Mount(t *testing.T, ctrl string) string {
	t.Helper()
	hs, err := cgHierarchies()
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		if !h.V2 && slices.Contains(h.Ctrls, ctrl) {
			return h.Mountpoint
		}
	}
	return ""
}

// cgDirs maps each controller ("memory", "name=systemd"; "" for the cgroup2
// hierarchy) to a process's cgroup directory in its hierarchy.
type cgDirs map[string]string

// procCgroupDirs reads /proc/<pid>/cgroup and joins each line's path with
// its hierarchy's mount point.
func procCgroupDirs(t *testing.T, pid int) cgDirs {
	t.Helper()
	hs, err := cgHierarchies()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatalf("reading the cgroups of process %d: %v", pid, err)
	}
	d := cgDirs{}
	for _, line := range lines(string(data)) {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		var ctrls []string
		if parts[1] != "" {
			ctrls = strings.Split(parts[1], ",")
			slices.Sort(ctrls)
		}
		for _, h := range hs {
			if h.V2 != (parts[1] == "") || (!h.V2 && !slices.Equal(h.Ctrls, ctrls)) {
				continue
			}
			p := parts[2]
			if h.Root != "/" && (p == h.Root || strings.HasPrefix(p, h.Root+"/")) {
				p = strings.TrimPrefix(p, h.Root)
			}
			dir := filepath.Join(h.Mountpoint, p)
			if h.V2 {
				d[""] = dir
			}
			for _, c := range ctrls {
				d[c] = dir
			}
		}
	}
	if len(d) == 0 {
		t.Fatalf("process %d: no cgroup directory found from %q", pid, data)
	}
	return d
}

// dir returns the directory with controller ctrl's files: on a v2 host the
// single one; on v1 the controller's, or the cgroup2 one when the
// controller is only there (hugetlb on some hybrid hosts).
func (d cgDirs) dir(t *testing.T, ctrl string) string {
	t.Helper()
	if isV2(t) {
		return d[""]
	}
	if dir, ok := d[ctrl]; ok {
		return dir
	}
	if dir, ok := d[""]; ok && hasController(dir, ctrl) {
		return dir
	}
	t.Fatalf("no cgroup directory for controller %s in %v", ctrl, d)
	return ""
}

// all lists the distinct directories.
func (d cgDirs) all() []string {
	var out []string
	for _, dir := range d {
		if !slices.Contains(out, dir) {
			out = append(out, dir)
		}
	}
	slices.Sort(out)
	return out
}

// hasController: the cgroup2 directory's parent offers ctrl, so dir has its
// files.
func hasController(dir, ctrl string) bool {
	data, err := os.ReadFile(filepath.Join(filepath.Dir(dir), "cgroup.subtree_control"))
	return err == nil && slices.Contains(strings.Fields(string(data)), ctrl)
}

// readCg reads a cgroup file, trimmed.
func readCg(t *testing.T, dir, file string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatalf("reading cgroup file: %v", err)
	}
	return strings.TrimSpace(string(data))
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// rootDevice returns the major:minor of the device holding /.
func rootDevice(t *testing.T) (major, minor int64) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat("/", &st); err != nil {
		t.Fatal(err)
	}
	return int64(unix.Major(st.Dev)), int64(unix.Minor(st.Dev))
}

// createForCgroups creates the container (its spec set up by the caller)
// and returns its init pid and cgroup directories.
func (c *Container) createForCgroups() (int, cgDirs) {
	c.t.Helper()
	c.mustCreate()
	pid := c.mustState().Pid
	if pid <= 0 {
		c.t.Fatalf("created container has pid %d", pid)
	}
	return pid, procCgroupDirs(c.t, pid)
}

func (c *Container) resources() *specs.LinuxResources {
	if c.Spec.Linux.Resources == nil {
		c.Spec.Linux.Resources = &specs.LinuxResources{}
	}
	return c.Spec.Linux.Resources
}

// ---- commands in the background and with stdin --------------------------------

// bgProc is a runtime command left running (events).
type bgProc struct {
	cmd     *exec.Cmd
	outPath string
	errPath string
	done    chan struct{}
	code    int
}

func (c *Container) runtimeBackground(args ...string) *bgProc {
	c.t.Helper()
	n := outSeq.Add(1)
	p := &bgProc{
		outPath: filepath.Join(c.Dir, fmt.Sprintf("bg%03d.stdout", n)),
		errPath: filepath.Join(c.Dir, fmt.Sprintf("bg%03d.stderr", n)),
		done:    make(chan struct{}),
		code:    -1,
	}
	stdout, err := os.Create(p.outPath)
	if err != nil {
		c.t.Fatal(err)
	}
	defer stdout.Close()
	stderr, err := os.Create(p.errPath)
	if err != nil {
		c.t.Fatal(err)
	}
	defer stderr.Close()
	p.cmd = exec.Command(runtimeBin, runtimeArgs(c.Root, args...)...)
	p.cmd.Dir = c.Dir
	p.cmd.Stdout, p.cmd.Stderr = stdout, stderr
	if err := startTracked(p.cmd); err != nil {
		c.t.Fatal(err)
	}
	go func() {
		_ = waitTracked(p.cmd)
		p.code = p.cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	// Registered after newContainer's cleanup, so it runs first.
	c.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func (p *bgProc) stdout() string { return readFileString(p.outPath) }
func (p *bgProc) stderr() string { return readFileString(p.errPath) }

// wait waits for the command to exit; false on timeout.
func (p *bgProc) wait(timeout time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// runtimeStdin runs the runtime with stdin fed from a string.
func (c *Container) runtimeStdin(stdin string, args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	full := runtimeArgs(c.Root, args...)
	res := result{Args: append([]string{runtimeBin}, full...), Code: -1}
	cmd := exec.CommandContext(ctx, runtimeBin, full...)
	cmd.Dir = c.Dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := startTracked(cmd); err != nil {
		res.Err = err
		return res
	}
	_ = waitTracked(cmd)
	res.Elapsed = time.Since(start)
	res.Code = cmd.ProcessState.ExitCode()
	if ctx.Err() != nil {
		res.Err = fmt.Errorf("timed out after %v (killed)", cmdTimeout)
	}
	res.Stdout, res.Stderr = out.String(), errb.String()
	return res
}

// ---- 1. every resource field is written ---------------------------------------

type resourceRow struct {
	name string
	// skip returns why the host cannot take the row ("" when it can).
	skip  func(t *testing.T) string
	set   func(t *testing.T, r *specs.LinuxResources)
	check func(t *testing.T, d cgDirs)
}

// wantCg compares a cgroup file's content.
func wantCg(t *testing.T, dir, file, want string) {
	t.Helper()
	if got := readCg(t, dir, file); got != want {
		t.Errorf("%s: got %q, want %q", filepath.Join(dir, file), got, want)
	}
}

func wantCgContains(t *testing.T, dir, file string, wants ...string) {
	t.Helper()
	got := readCg(t, dir, file)
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: %q does not contain %q", filepath.Join(dir, file), got, w)
		}
	}
}

func v1Only(t *testing.T) string {
	if isV2(t) {
		return "a cgroup v1 only setting (v2 has no such file)"
	}
	return ""
}

func hostFileMissing(paths ...string) string {
	for _, p := range paths {
		if fileExists(p) {
			return ""
		}
	}
	return "this host has none of " + strings.Join(paths, ", ")
}

// roundPage is what the kernel stores for a memory limit: whole pages.
func roundPage(v int64) string {
	ps := int64(os.Getpagesize())
	return strconv.FormatInt(v/ps*ps, 10)
}

func resourceRows() []resourceRow {
	const memLimit = 64*mib + 1000 // not page aligned
	return []resourceRow{
		{
			name: "memory-limit",
			set: func(t *testing.T, r *specs.LinuxResources) {
				r.Memory = &specs.LinuxMemory{Limit: ptr(int64(memLimit))}
			},
			check: func(t *testing.T, d cgDirs) {
				if isV2(t) {
					wantCg(t, d.dir(t, "memory"), "memory.max", roundPage(memLimit))
				} else {
					wantCg(t, d.dir(t, "memory"), "memory.limit_in_bytes", roundPage(memLimit))
				}
			},
		},
		{
			name: "memory-reservation",
			set: func(t *testing.T, r *specs.LinuxResources) {
				r.Memory = &specs.LinuxMemory{Limit: ptr(int64(64 * mib)), Reservation: ptr(int64(48 * mib))}
			},
			check: func(t *testing.T, d cgDirs) {
				if isV2(t) {
					wantCg(t, d.dir(t, "memory"), "memory.low", strconv.Itoa(48*mib))
				} else {
					wantCg(t, d.dir(t, "memory"), "memory.soft_limit_in_bytes", strconv.Itoa(48*mib))
				}
			},
		},
		{
			name: "memory-swap",
			skip: func(t *testing.T) string {
				if isV2(t) {
					return ""
				}
				return hostFileMissing(filepath.Join(v1Mount(t, "memory"), "memory.memsw.limit_in_bytes"))
			},
			set: func(t *testing.T, r *specs.LinuxResources) {
				r.Memory = &specs.LinuxMemory{Limit: ptr(int64(64 * mib)), Swap: ptr(int64(96 * mib))}
			},
			check: func(t *testing.T, d cgDirs) {
				if isV2(t) {
					// v2 limits the swap alone: memory+swap minus memory.
					wantCg(t, d.dir(t, "memory"), "memory.swap.max", strconv.Itoa(32*mib))
				} else {
					wantCg(t, d.dir(t, "memory"), "memory.limit_in_bytes", strconv.Itoa(64*mib))
					wantCg(t, d.dir(t, "memory"), "memory.memsw.limit_in_bytes", strconv.Itoa(96*mib))
				}
			},
		},
		{
			name: "memory-swappiness",
			skip: v1Only,
			set: func(t *testing.T, r *specs.LinuxResources) {
				r.Memory = &specs.LinuxMemory{Swappiness: ptr(uint64(30))}
			},
			check: func(t *testing.T, d cgDirs) { wantCg(t, d.dir(t, "memory"), "memory.swappiness", "30") },
		},
		{
			name: "memory-disableOOMKiller",
			skip: v1Only,
			set: func(t *testing.T, r *specs.LinuxResources) {
				r.Memory = &specs.LinuxMemory{DisableOOMKiller: ptr(true)}
			},
			check: func(t *testing.T, d cgDirs) {
				wantCgContains(t, d.dir(t, "memory"), "memory.oom_control", "oom_kill_disable 1")
			},
		},
		{
			name: "cpu-shares",
			set:  func(t *testing.T, r *specs.LinuxResources) { r.CPU = &specs.LinuxCPU{Shares: ptr(uint64(512))} },
			check: func(t *testing.T, d cgDirs) {
				if isV2(t) {
					// runc 1.3+'s quadratic mapping (1024 -> 100).
					wantCg(t, d.dir(t, "cpu"), "cpu.weight", "59")
				} else {
					wantCg(t, d.dir(t, "cpu"), "cpu.shares", "512")
				}
			},
		},
		{
			name: "cpu-quota-period",
			set: func(t *testing.T, r *specs.LinuxResources) {
				r.CPU = &specs.LinuxCPU{Quota: ptr(int64(20000)), Period: ptr(uint64(50000))}
			},
			check: func(t *testing.T, d cgDirs) {
				if isV2(t) {
					wantCg(t, d.dir(t, "cpu"), "cpu.max", "20000 50000")
				} else {
					wantCg(t, d.dir(t, "cpu"), "cpu.cfs_quota_us", "20000")
					wantCg(t, d.dir(t, "cpu"), "cpu.cfs_period_us", "50000")
				}
			},
		},
		{
			name: "cpu-burst",
			skip: func(t *testing.T) string {
				if isV2(t) {
					return ""
				}
				return hostFileMissing(filepath.Join(v1Mount(t, "cpu"), "cpu.cfs_burst_us"))
			},
			set: func(t *testing.T, r *specs.LinuxResources) {
				r.CPU = &specs.LinuxCPU{Quota: ptr(int64(20000)), Period: ptr(uint64(50000)), Burst: ptr(uint64(10000))}
			},
			check: func(t *testing.T, d cgDirs) {
				if isV2(t) {
					wantCg(t, d.dir(t, "cpu"), "cpu.max.burst", "10000")
				} else {
					wantCg(t, d.dir(t, "cpu"), "cpu.cfs_burst_us", "10000")
				}
			},
		},
		{
			name: "cpuset",
			set:  func(t *testing.T, r *specs.LinuxResources) { r.CPU = &specs.LinuxCPU{Cpus: "0", Mems: "0"} },
			check: func(t *testing.T, d cgDirs) {
				wantCg(t, d.dir(t, "cpuset"), "cpuset.cpus", "0")
				wantCg(t, d.dir(t, "cpuset"), "cpuset.mems", "0")
			},
		},
		{
			name:  "pids-limit",
			set:   func(t *testing.T, r *specs.LinuxResources) { r.Pids = &specs.LinuxPids{Limit: ptr(int64(42))} },
			check: func(t *testing.T, d cgDirs) { wantCg(t, d.dir(t, "pids"), "pids.max", "42") },
		},
		{
			name: "blkio-weight",
			skip: func(t *testing.T) string {
				if s := v1Only(t); s != "" {
					return s
				}
				m := v1Mount(t, "blkio")
				return hostFileMissing(filepath.Join(m, "blkio.weight"), filepath.Join(m, "blkio.bfq.weight"))
			},
			set: func(t *testing.T, r *specs.LinuxResources) { r.BlockIO = &specs.LinuxBlockIO{Weight: ptr(uint16(300))} },
			check: func(t *testing.T, d cgDirs) {
				dir := d.dir(t, "blkio")
				if fileExists(filepath.Join(dir, "blkio.weight")) {
					wantCg(t, dir, "blkio.weight", "300")
				} else {
					wantCgContains(t, dir, "blkio.bfq.weight", "300")
				}
			},
		},
		{
			name: "blkio-throttle",
			skip: func(t *testing.T) string {
				if major, _ := rootDevice(t); major == 0 {
					return "/ is not on a block device"
				}
				return ""
			},
			set: func(t *testing.T, r *specs.LinuxResources) {
				major, minor := rootDevice(t)
				r.BlockIO = &specs.LinuxBlockIO{
					ThrottleReadBpsDevice:   []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: major, Minor: minor}, Rate: 1048576}},
					ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: major, Minor: minor}, Rate: 500}},
				}
			},
			check: func(t *testing.T, d cgDirs) {
				major, minor := rootDevice(t)
				dev := fmt.Sprintf("%d:%d", major, minor)
				if isV2(t) {
					wantCgContains(t, d.dir(t, "io"), "io.max", dev+" ", "rbps=1048576", "wiops=500")
				} else {
					wantCgContains(t, d.dir(t, "blkio"), "blkio.throttle.read_bps_device", dev+" 1048576")
					wantCgContains(t, d.dir(t, "blkio"), "blkio.throttle.write_iops_device", dev+" 500")
				}
			},
		},
		{
			name: "devices",
			skip: v1Only, // v2 device rules are an eBPF program, not a file
			set: func(t *testing.T, r *specs.LinuxResources) {
				r.Devices = []specs.LinuxDeviceCgroup{
					{Allow: false, Access: "rwm"},
					{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(3)), Access: "rwm"},
				}
			},
			check: func(t *testing.T, d cgDirs) {
				got := lines(readCg(t, d.dir(t, "devices"), "devices.list"))
				if !slices.Contains(got, "c 1:3 rwm") {
					t.Errorf("devices.list %q lacks c 1:3 rwm", got)
				}
				if slices.Contains(got, "a *:* rwm") {
					t.Errorf("devices.list %q still allows everything", got)
				}
			},
		},
		{
			name: "hugetlb",
			skip: func(t *testing.T) string {
				if !fileExists("/sys/kernel/mm/hugepages/hugepages-2048kB") {
					return "this host has no 2 MiB huge pages"
				}
				if isV2(t) || v1Mount(t, "hugetlb") != "" {
					return ""
				}
				hs, _ := cgHierarchies()
				for _, h := range hs {
					if h.V2 && fileExists(filepath.Join(h.Mountpoint, "cgroup.controllers")) &&
						slices.Contains(strings.Fields(readFileString(filepath.Join(h.Mountpoint, "cgroup.controllers"))), "hugetlb") {
						return ""
					}
				}
				return "this host has no hugetlb controller"
			},
			set: func(t *testing.T, r *specs.LinuxResources) {
				r.HugepageLimits = []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 * mib}}
			},
			check: func(t *testing.T, d cgDirs) {
				dir := d.dir(t, "hugetlb")
				if fileExists(filepath.Join(dir, "hugetlb.2MB.limit_in_bytes")) {
					wantCg(t, dir, "hugetlb.2MB.limit_in_bytes", strconv.Itoa(4*mib))
				} else {
					wantCg(t, dir, "hugetlb.2MB.max", strconv.Itoa(4*mib))
				}
			},
		},
	}
}

// TestCgroupResourcesWritten: each linux.resources field lands in its
// cgroup file of the created container.
func TestCgroupResourcesWritten(t *testing.T) {
	t.Parallel()
	for _, row := range resourceRows() {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			if row.skip != nil {
				if why := row.skip(t); why != "" {
					t.Skip(why)
				}
			}
			c.Spec.Process.Args = []string{"sleep", "100"}
			r := c.resources()
			devs := r.Devices
			row.set(t, r)
			if r.Devices == nil {
				r.Devices = devs
			}
			_, d := c.createForCgroups()
			row.check(t, d)
		})
	}
}

// ---- 2. enforcement ---------------------------------------------------------

// memoryHog doubles a shell string until the OOM killer strikes.
const memoryHog = `x=0123456789; while true; do x=$x$x; done`

func (c *Container) limitMemoryNoSwap(limit int64) {
	c.t.Helper()
	m := &specs.LinuxMemory{Limit: ptr(limit)}
	memsw := true
	if !isV2(c.t) {
		memsw = fileExists(filepath.Join(v1Mount(c.t, "memory"), "memory.memsw.limit_in_bytes"))
	}
	if memsw {
		m.Swap = ptr(limit)
	}
	c.resources().Memory = m
}

// eventLine is one line of `events`.
type eventLine struct {
	Type string          `json:"type"`
	ID   string          `json:"id"`
	Data json.RawMessage `json:"data"`
}

func parseEvents(t *testing.T, out string) []eventLine {
	t.Helper()
	var evs []eventLine
	for _, l := range lines(out) {
		var e eventLine
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Errorf("events: line is not JSON: %v: %q", err, l)
			continue
		}
		evs = append(evs, e)
	}
	return evs
}

// TestCgroupMemoryOOM: a hog in a 32 MiB container (no swap) is killed by
// the OOM killer: run exits 137, and events reports it.
func TestCgroupMemoryOOM(t *testing.T) {
	t.Parallel()
	t.Run("run-exit-status", func(t *testing.T) {
		t.Parallel()
		c := newContainer(t)
		c.limitMemoryNoSwap(32 * mib)
		c.Spec.Process.Args = []string{"sh", "-c", memoryHog}
		r := c.Run()
		if r.Err != nil || r.Code != 137 {
			t.Fatalf("a memory hog under a 32 MiB limit: want exit 137 (SIGKILL by the OOM killer): %s", r)
		}
	})
	t.Run("events", func(t *testing.T) {
		t.Parallel()
		c := newContainer(t)
		c.limitMemoryNoSwap(32 * mib)
		c.Spec.Process.Args = []string{"sh", "-c", memoryHog}
		c.mustCreate()
		ev := c.runtimeBackground("events", "--interval", "1s", c.ID)
		// The first stats line shows that events is watching.
		waitFor(t, 10*time.Second, "the first stats event", func() bool {
			return strings.Contains(ev.stdout(), `"stats"`) || !isRunning(ev)
		})
		if !isRunning(ev) {
			t.Fatalf("events exited early (%d): stdout %q stderr %q", ev.code, ev.stdout(), ev.stderr())
		}
		c.mustStart()
		if !ev.wait(20 * time.Second) {
			t.Fatalf("events did not exit when the container stopped; state %+v; stdout %q", c.mustState(), ev.stdout())
		}
		if ev.code != 0 {
			t.Errorf("events exited %d: %s", ev.code, ev.stderr())
		}
		c.waitStatus("stopped", 5*time.Second)
		evs := parseEvents(t, ev.stdout())
		ooms := 0
		for _, e := range evs {
			if e.ID != c.ID {
				t.Errorf("event for id %q, want %q: %+v", e.ID, c.ID, e)
			}
			if e.Type == "oom" {
				ooms++
			}
		}
		if ooms == 0 {
			t.Errorf("events reported no oom event; stdout:\n%s\nstderr: %s", ev.stdout(), ev.stderr())
		}
	})
}

// The oom event of an OOM kill that ends the container reaches events even
// when the container's cgroup goes right after: engines delete a container
// as soon as its init has exited, and the systemd driver's scope is removed
// by systemd tens of milliseconds after it empties (issue 11). events must
// read the kill counter when the kernel reports it, not at its next poll.
func TestCgroupMemoryOOMDeletedAtExit(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.limitMemoryNoSwap(32 * mib)
	c.Spec.Process.Args = []string{"sh", "-c", memoryHog}
	c.mustCreate()
	pid := c.mustState().Pid
	ev := c.runtimeBackground("events", "--interval", "1s", c.ID)
	waitFor(t, 10*time.Second, "the first stats event", func() bool {
		return strings.Contains(ev.stdout(), `"stats"`) || !isRunning(ev)
	})
	if !isRunning(ev) {
		t.Fatalf("events exited early (%d): stdout %q stderr %q", ev.code, ev.stdout(), ev.stderr())
	}
	c.mustStart()
	// As an engine does: delete the container (its cgroup) once init is
	// gone, without waiting for anything else.
	for !leaks.IsZombie(pid) {
		time.Sleep(time.Millisecond)
	}
	if r := c.Delete(true); !r.ok() {
		t.Fatalf("delete --force: %s", r)
	}
	if !ev.wait(20 * time.Second) {
		t.Fatalf("events did not exit when the container stopped; stdout %q", ev.stdout())
	}
	ooms := 0
	for _, e := range parseEvents(t, ev.stdout()) {
		if e.Type == "oom" {
			ooms++
		}
	}
	if ooms == 0 {
		t.Errorf("events reported no oom event for the OOM kill of init; stdout:\n%s\nstderr: %s", ev.stdout(), ev.stderr())
	}
}

func isRunning(p *bgProc) bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// TestCgroupPidsLimit: with pids.max 10, forks beyond it fail and the
// cgroup never holds more than 10 processes.
func TestCgroupPidsLimit(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.resources().Pids = &specs.LinuxPids{Limit: ptr(int64(10))}
	c.Spec.Process.Args = []string{"sh", "-c", `for i in $(seq 30); do sleep 2 & done; wait`}
	pid, d := c.createForCgroups()
	dir := d.dir(t, "pids")
	wantCg(t, dir, "pids.max", "10")
	c.mustStart()
	maxSeen := 0
	deadline := time.Now().Add(15 * time.Second)
	for !leaks.IsZombie(pid) {
		if v, err := strconv.Atoi(strings.TrimSpace(readFileString(filepath.Join(dir, "pids.current")))); err == nil && v > maxSeen {
			maxSeen = v
		}
		if time.Now().After(deadline) {
			t.Fatalf("the container did not stop: %+v", c.mustState())
		}
		time.Sleep(time.Millisecond)
	}
	c.waitStatus("stopped", 10*time.Second)
	if maxSeen > 10 {
		t.Errorf("pids.current reached %d, above the limit 10", maxSeen)
	}
	if peak := strings.TrimSpace(readFileString(filepath.Join(dir, "pids.peak"))); peak != "" {
		t.Logf("pids.peak = %s", peak)
		if v, err := strconv.Atoi(peak); err != nil || v > 10 {
			t.Errorf("pids.peak = %q, want at most 10", peak)
		}
	}
	out := c.ErrOutput() + c.Output()
	if !strings.Contains(out, "can't fork") && !strings.Contains(out, "Resource temporarily unavailable") {
		t.Errorf("no fork failure reported by the shell; output:\n%s", out)
	}
	t.Logf("pids.current peaked at %d (sampled)", maxSeen)
}

// TestCgroupDevicesEnforced: with deny-all plus the defaults, /dev/null
// works, a linux.devices node (c 1:9 at /dev/myrand) is readable, and a
// node made inside the container for another device (c 1:1, /dev/mem)
// cannot be opened. (A node of the root disk would be a better probe, but
// some sandboxes refuse block device opens to the host's root as well.)
func TestCgroupDevicesEnforced(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	if isV2(t) {
		t.Log("cgroup v2: device rules are an eBPF program")
	}
	caps := append(append([]string(nil), defaultCaps...), "CAP_MKNOD")
	pc := c.Spec.Process.Capabilities
	pc.Bounding, pc.Effective, pc.Permitted = caps, caps, caps
	mode := os.FileMode(0o666)
	c.Spec.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/myrand", Type: "c", Major: 1, Minor: 9, FileMode: &mode}}
	out := c.Sh(`cat /dev/null && echo "null: read ok"
echo x > /dev/null && echo "null: write ok"
echo "rand: $(head -c 16 /dev/myrand | wc -c)"
mknod /dev/mymem c 1 1 && echo "mem: mknod ok"
head -c 1 /dev/mymem 2>&1 >/dev/null | sed 's/^/mem: /'; echo "mem: done"
`)
	for _, want := range []string{"null: read ok", "null: write ok", "rand: 16", "mem: mknod ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	var msgs []string
	for _, l := range lines(out) {
		if strings.HasPrefix(l, "mem: ") && l != "mem: done" && l != "mem: mknod ok" {
			msgs = append(msgs, l)
		}
	}
	if !strings.Contains(strings.Join(msgs, "\n"), "Operation not permitted") {
		t.Errorf("reading a c 1:1 node made in the container: want \"Operation not permitted\", got %q\n%s", msgs, out)
	}
}

// TestCgroupTinyMemoryLimit: the runtime's own work in the container's
// cgroup fits in a few MiB.
// TestCgroupTinyMemoryLimit: init (a Go process) fits in a 4 MiB cgroup,
// where runc's does not. (3 MiB passes on v1, where init joins after its
// exec, but is charged from birth on v2 and is then borderline.)
func TestCgroupTinyMemoryLimit(t *testing.T) {
	t.Parallel()
	for _, n := range []int64{4} {
		t.Run(fmt.Sprintf("%dMiB", n), func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			c.limitMemoryNoSwap(n * mib)
			c.Spec.Process.Args = []string{"true"}
			if r := c.Run(); !r.ok() {
				t.Fatalf("`true` under a %d MiB memory limit: want exit 0: %s", n, r)
			}
		})
	}
}

// ---- 3. verbs ------------------------------------------------------------------

// ctxtSwitches is the voluntary + involuntary context switch count.
func ctxtSwitches(pid int) (int, string) {
	status := readFileString(fmt.Sprintf("/proc/%d/status", pid))
	v, _ := strconv.Atoi(statusField(status, "voluntary_ctxt_switches"))
	n, _ := strconv.Atoi(statusField(status, "nonvoluntary_ctxt_switches"))
	return v + n, statusField(status, "State")
}

// TestPauseResume: pause freezes every process (state "paused", the
// freezer says so, a counter stops), resume thaws them; pause and resume in
// the wrong state fail. Not parallel: it checks timing.
func TestPauseResume(t *testing.T) {
	c := newContainer(t)
	c.addBind(c.HostDir, "/host", false)
	counter := filepath.Join(c.HostDir, "counter")
	c.Spec.Process.Args = []string{"sh", "-c", `sleep 1000 & i=0; while true; do i=$((i+1)); echo $i > /host/counter; usleep 20000; done`}
	pid, d := c.createForCgroups()
	c.mustStart()
	read := func() string { return strings.TrimSpace(readFileString(counter)) }
	waitFor(t, 10*time.Second, "the counter to start", func() bool { return read() != "" && read() != "1" })

	if r := c.runtime("resume", c.ID); !r.failed() {
		t.Errorf("resume of a running container: want a failure: %s", r)
	}

	if r := c.runtime("pause", c.ID); !r.ok() {
		t.Fatalf("pause: %s", r)
	}
	if s := c.mustState(); s.Status != "paused" {
		t.Errorf("state after pause: %q, want paused", s.Status)
	}
	if isV2(t) {
		wantCgContains(t, d.dir(t, "freezer"), "cgroup.events", "frozen 1")
	} else {
		wantCg(t, d.dir(t, "freezer"), "freezer.state", "FROZEN")
		// A task frozen by the v1 freezer shows as D.
		if _, st := ctxtSwitches(pid); !strings.HasPrefix(st, "D") {
			t.Errorf("/proc/%d/status State of the paused init: %q, want D (frozen)", pid, st)
		}
	}
	before := read()
	sw1, _ := ctxtSwitches(pid)
	time.Sleep(400 * time.Millisecond)
	if after := read(); after != before {
		t.Errorf("the counter moved while paused: %s -> %s", before, after)
	}
	if sw2, st := ctxtSwitches(pid); sw2 != sw1 {
		t.Errorf("the paused init was scheduled: context switches %d -> %d (state %s)", sw1, sw2, st)
	}
	if r := c.runtime("pause", c.ID); !r.failed() {
		t.Errorf("pause of a paused container: want a failure: %s", r)
	}

	if r := c.runtime("resume", c.ID); !r.ok() {
		t.Fatalf("resume: %s", r)
	}
	if s := c.mustState(); s.Status != "running" {
		t.Errorf("state after resume: %q, want running", s.Status)
	}
	if isV2(t) {
		wantCgContains(t, d.dir(t, "freezer"), "cgroup.events", "frozen 0")
	} else {
		wantCg(t, d.dir(t, "freezer"), "freezer.state", "THAWED")
	}
	resumedAt := read()
	waitFor(t, 5*time.Second, "the counter to move after resume", func() bool { return read() != resumedAt })
	if r := c.runtime("resume", c.ID); !r.failed() {
		t.Errorf("resume of a resumed (running) container: want a failure: %s", r)
	}

	if r := c.Kill("KILL"); !r.ok() {
		t.Fatalf("kill: %s", r)
	}
	c.waitStatus("stopped", 10*time.Second)
	if r := c.runtime("pause", c.ID); !r.failed() {
		t.Errorf("pause of a stopped container: want a failure: %s", r)
	}
	if r := c.runtime("resume", c.ID); !r.failed() {
		t.Errorf("resume of a stopped container: want a failure: %s", r)
	}
}

// childPids lists the live children of pid.
func childPids(pid int) []int {
	var kids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		s := readFileString(fmt.Sprintf("/proc/%d/stat", p))
		i := strings.LastIndexByte(s, ')')
		if i < 0 || i+2 >= len(s) {
			continue
		}
		f := strings.Fields(s[i+2:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) && f[0] != "Z" {
			kids = append(kids, p)
		}
	}
	return kids
}

func (c *Container) psJSON() []int {
	c.t.Helper()
	r := c.runtime("ps", "--format", "json", c.ID)
	if !r.ok() {
		c.t.Fatalf("ps --format json: %s", r)
	}
	var pids []int
	if err := json.Unmarshal([]byte(r.Stdout), &pids); err != nil {
		c.t.Fatalf("ps --format json: not a JSON array of pids: %v: %q", err, r.Stdout)
	}
	return pids
}

// TestPs: ps --format json lists the host pids of init and its child; the
// table has ps's header and their rows.
func TestPs(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.Spec.Process.Args = []string{"sh", "-c", "sleep 1000 & wait"}
	c.mustCreate()
	pid := c.mustState().Pid
	c.mustStart()
	var kids []int
	waitFor(t, 10*time.Second, "init's child", func() bool { kids = childPids(pid); return len(kids) == 1 })
	pids := c.psJSON()
	for _, want := range []int{pid, kids[0]} {
		if !slices.Contains(pids, want) {
			t.Errorf("ps --format json = %v: lacks %d (init %d, child %d)", pids, want, pid, kids[0])
		}
	}
	if len(pids) != 2 {
		t.Errorf("ps --format json = %v: want exactly init %d and child %d", pids, pid, kids[0])
	}

	r := c.runtime("ps", c.ID)
	if !r.ok() {
		t.Fatalf("ps: %s", r)
	}
	ls := lines(r.Stdout)
	if len(ls) == 0 {
		t.Fatalf("ps: no output: %s", r)
	}
	col := slices.Index(strings.Fields(ls[0]), "PID")
	if col < 0 {
		t.Fatalf("ps: the header has no PID column: %q", ls[0])
	}
	var rows []int
	for _, l := range ls[1:] {
		if f := strings.Fields(l); len(f) > col {
			if p, err := strconv.Atoi(f[col]); err == nil {
				rows = append(rows, p)
			}
		}
	}
	slices.Sort(rows)
	want := []int{pid, kids[0]}
	slices.Sort(want)
	if !slices.Equal(rows, want) {
		t.Errorf("ps table rows have pids %v, want %v:\n%s", rows, want, r.Stdout)
	}

	if r := c.Kill("KILL"); !r.ok() {
		t.Fatalf("kill: %s", r)
	}
	c.waitStatus("stopped", 10*time.Second)
	if r := c.runtime("ps", "--format", "json", c.ID); r.ok() && strings.TrimSpace(r.Stdout) != "[]" {
		t.Errorf("ps of a stopped container: want a failure or [], got %s", r)
	}
}

// updateFiles reads the memory limit, pids limit and cpu quota of a
// container's cgroup.
func updateFiles(t *testing.T, d cgDirs) (mem, pids, quota string) {
	t.Helper()
	if isV2(t) {
		q, _, _ := strings.Cut(readCg(t, d.dir(t, "cpu"), "cpu.max"), " ")
		return readCg(t, d.dir(t, "memory"), "memory.max"), readCg(t, d.dir(t, "pids"), "pids.max"), q
	}
	return readCg(t, d.dir(t, "memory"), "memory.limit_in_bytes"),
		readCg(t, d.dir(t, "pids"), "pids.max"),
		readCg(t, d.dir(t, "cpu"), "cpu.cfs_quota_us")
}

// TestUpdate: update changes a running container's limits, from flags and
// from LinuxResources JSON on stdin; bad values fail naming the flag and
// change nothing.
func TestUpdate(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.Spec.Process.Args = []string{"sleep", "1000"}
	res := c.resources()
	res.Memory = &specs.LinuxMemory{Limit: ptr(int64(64 * mib))}
	res.Pids = &specs.LinuxPids{Limit: ptr(int64(100))}
	res.CPU = &specs.LinuxCPU{Quota: ptr(int64(10000)), Period: ptr(uint64(100000))}
	_, d := c.createForCgroups()
	c.mustStart()
	check := func(when string, mem, pids, quota string) {
		t.Helper()
		gm, gp, gq := updateFiles(t, d)
		if gm != mem || gp != pids || gq != quota {
			t.Errorf("%s: memory %s, pids %s, cpu quota %s; want %s, %s, %s", when, gm, gp, gq, mem, pids, quota)
		}
	}
	check("after create", strconv.Itoa(64*mib), "100", "10000")

	if r := c.runtime("update", "--memory", "128m", "--pids-limit", "50", "--cpu-quota", "50000", c.ID); !r.ok() {
		t.Fatalf("update: %s", r)
	}
	check("after update --memory 128m --pids-limit 50 --cpu-quota 50000", strconv.Itoa(128*mib), "50", "50000")

	js := fmt.Sprintf(`{"memory":{"limit":%d},"pids":{"limit":77},"cpu":{"quota":30000,"period":100000}}`, 96*mib)
	if r := c.runtimeStdin(js, "update", "--resources", "-", c.ID); !r.ok() {
		t.Fatalf("update --resources - : %s", r)
	}
	check("after update --resources -", strconv.Itoa(96*mib), "77", "30000")

	for _, bad := range [][]string{
		{"--memory", "lots"},
		{"--pids-limit", "many"},
		{"--cpu-quota", "1.5x"},
		{"--cpu-shares", "-3"},
	} {
		r := c.runtime(append(append([]string{"update"}, bad...), c.ID)...)
		if !r.failed() {
			t.Errorf("update %v: want a failure: %s", bad, r)
		} else if !strings.Contains(r.Stderr, bad[0]) {
			t.Errorf("update %v: the error does not name %s: %s", bad, bad[0], r)
		}
	}
	if r := c.runtimeStdin(`{"memory":`, "update", "--resources", "-", c.ID); !r.failed() {
		t.Errorf("update --resources - with broken JSON: want a failure: %s", r)
	} else if !strings.Contains(r.Stderr, "--resources") {
		t.Errorf("update --resources - with broken JSON: the error does not name --resources: %s", r)
	}
	check("after failed updates", strconv.Itoa(96*mib), "77", "30000")

	// --memory-swap is memory+swap: memsw on v1, the difference on v2. The
	// second step raises the limit above the current memory+swap limit, so
	// the swap limit has to be written first.
	swapFile := "memory.memsw.limit_in_bytes"
	if isV2(t) {
		swapFile = "memory.swap.max"
	}
	if !fileExists(filepath.Join(d.dir(t, "memory"), swapFile)) {
		t.Logf("no %s (no swap accounting): not testing --memory-swap", swapFile)
		return
	}
	for _, step := range []struct{ mem, swap int64 }{{128, 128}, {192, 256}, {64, 64}} {
		r := c.runtime("update", "--memory", fmt.Sprintf("%dm", step.mem), "--memory-swap", fmt.Sprintf("%dm", step.swap), c.ID)
		if !r.ok() {
			t.Errorf("update --memory %dm --memory-swap %dm: %s", step.mem, step.swap, r)
			continue
		}
		mem, _, _ := updateFiles(t, d)
		want := strconv.FormatInt(step.swap*mib, 10)
		if isV2(t) {
			want = strconv.FormatInt((step.swap-step.mem)*mib, 10)
		}
		if got := readCg(t, d.dir(t, "memory"), swapFile); mem != strconv.FormatInt(step.mem*mib, 10) || got != want {
			t.Errorf("after update --memory %dm --memory-swap %dm: memory limit %s, %s %s; want %d, %s",
				step.mem, step.swap, mem, swapFile, got, step.mem*mib, want)
		}
	}
}

// statsEvent is the part of a stats event the tests look at.
type statsEvent struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data struct {
		CPU    map[string]any `json:"cpu"`
		Memory struct {
			Usage struct {
				Limit uint64 `json:"limit"`
				Usage uint64 `json:"usage"`
			} `json:"usage"`
		} `json:"memory"`
		Pids struct {
			Current uint64 `json:"current"`
			Limit   uint64 `json:"limit"`
		} `json:"pids"`
	} `json:"data"`
}

// TestEventsStats: events --stats prints one stats line with the
// container's limits and usage.
func TestEventsStats(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.Spec.Process.Args = []string{"sh", "-c", "sleep 1000 & wait"}
	res := c.resources()
	res.Memory = &specs.LinuxMemory{Limit: ptr(int64(48 * mib))}
	res.Pids = &specs.LinuxPids{Limit: ptr(int64(64))}
	c.mustCreate()
	c.mustStart()
	r := c.runtime("events", "--stats", c.ID)
	if !r.ok() {
		t.Fatalf("events --stats: %s", r)
	}
	ls := lines(r.Stdout)
	if len(ls) != 1 {
		t.Fatalf("events --stats: want one line, got %d: %q", len(ls), r.Stdout)
	}
	var ev statsEvent
	if err := json.Unmarshal([]byte(ls[0]), &ev); err != nil {
		t.Fatalf("events --stats: %v: %q", err, ls[0])
	}
	if ev.Type != "stats" || ev.ID != c.ID {
		t.Errorf("type %q id %q, want stats and %s: %s", ev.Type, ev.ID, c.ID, ls[0])
	}
	if ev.Data.Memory.Usage.Limit != 48*mib {
		t.Errorf("data.memory.usage.limit = %d, want %d: %s", ev.Data.Memory.Usage.Limit, 48*mib, ls[0])
	}
	if ev.Data.Memory.Usage.Usage == 0 {
		t.Errorf("data.memory.usage.usage = 0: %s", ls[0])
	}
	if ev.Data.Pids.Current < 1 {
		t.Errorf("data.pids.current = %d, want >= 1: %s", ev.Data.Pids.Current, ls[0])
	}
	if ev.Data.Pids.Limit != 64 {
		t.Errorf("data.pids.limit = %d, want 64: %s", ev.Data.Pids.Limit, ls[0])
	}
	if ev.Data.CPU == nil {
		t.Errorf("no data.cpu: %s", ls[0])
	}
}

// TestPsKillAll: in the host pid namespace, ps lists every process, and
// kill --all kills them all, also while the container is paused.
func TestPsKillAll(t *testing.T) {
	t.Parallel()
	for _, paused := range []bool{false, true} {
		name := "running"
		if paused {
			name = "paused"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			c.removeNamespace(specs.PIDNamespace)
			c.Spec.Process.Args = []string{"sh", "-c", "sleep 1000 & sleep 1000 & wait"}
			c.mustCreate()
			c.mustStart()
			var pids []int
			waitFor(t, 10*time.Second, "three processes in ps", func() bool { pids = c.psJSON(); return len(pids) == 3 })
			if paused {
				if r := c.runtime("pause", c.ID); !r.ok() {
					t.Fatalf("pause: %s", r)
				}
			}
			c.killAllAndDelete(pids)
		})
	}
}

// ---- 4. errors ---------------------------------------------------------------

// TestCgroupResourcesErrors: settings the host cannot honour fail create
// with an error naming them, and leave nothing behind.
func TestCgroupResourcesErrors(t *testing.T) {
	t.Parallel()
	type row struct {
		name   string
		skip   func(t *testing.T) string
		global []string
		set    func(c *Container)
		want   func(t *testing.T) string
	}
	rows := []row{
		{
			name: "unified-on-v1",
			skip: func(t *testing.T) string {
				if isV2(t) {
					return "linux.resources.unified is valid on this cgroup v2 host"
				}
				return ""
			},
			set:  func(c *Container) { c.resources().Unified = map[string]string{"memory.high": "67108864"} },
			want: func(*testing.T) string { return "linux.resources.unified" },
		},
		{
			name: "network-classID",
			skip: func(t *testing.T) string {
				if !isV2(t) && v1Mount(t, "net_cls") != "" {
					return "this host has a net_cls controller"
				}
				return ""
			},
			set: func(c *Container) { c.resources().Network = &specs.LinuxNetwork{ClassID: ptr(uint32(0x100001))} },
			want: func(t *testing.T) string {
				if isV2(t) {
					return "linux.resources.network"
				}
				return "linux.resources.network.classID"
			},
		},
		{
			name: "blockIO-leafWeight",
			skip: func(t *testing.T) string {
				if !isV2(t) && fileExists(filepath.Join(v1Mount(t, "blkio"), "blkio.leaf_weight")) {
					return "this host's blkio controller has leaf weights (CFQ)"
				}
				return ""
			},
			set:  func(c *Container) { c.resources().BlockIO = &specs.LinuxBlockIO{LeafWeight: ptr(uint16(200))} },
			want: func(*testing.T) string { return "linux.resources.blockIO.leafWeight" },
		},
		{
			name:   "systemd-cgroup-flag",
			global: []string{"--systemd-cgroup"},
			set:    func(*Container) {},
			want:   func(*testing.T) string { return "--systemd-cgroup: systemd is not running on this host" },
			skip:   systemdRunSkip,
		},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			requireCarapace(t)
			c := newContainer(t)
			if row.skip != nil {
				if why := row.skip(t); why != "" {
					t.Skip(why)
				}
			}
			c.Spec.Process.Args = []string{"true"}
			row.set(c)
			c.WriteSpec()
			args := append(append([]string(nil), row.global...), "create", "--bundle", c.Bundle, c.ID)
			r := c.runtime(args...)
			if !r.failed() {
				t.Fatalf("create: want a failure: %s", r)
			}
			if want := row.want(t); !strings.Contains(r.Stderr, want) {
				t.Errorf("the error does not mention %q: %s", want, r)
			}
			if ents, _ := os.ReadDir(c.Root); len(ents) > 0 {
				var names []string
				for _, e := range ents {
					names = append(names, e.Name())
				}
				t.Errorf("the failed create left state root entries %v", names)
			}
			if l := cgroupDirsNamed(c.ID); len(l) > 0 {
				t.Errorf("the failed create left cgroup dirs:\n  %s", strings.Join(l, "\n  "))
			}
			if s, r := c.State(); r.ok() {
				t.Errorf("state after a failed create: %+v", s)
			}
		})
	}
}

// systemdRunSkip skips the rows about --systemd-cgroup outside systemd
// when the run is under the driver.
func systemdRunSkip(*testing.T) string {
	if systemdCgroup {
		return "checks --systemd-cgroup without it (the run is under the driver)"
	}
	return ""
}

// TestSystemdCgroupNoSystemd: on a host that systemd did not boot,
// --systemd-cgroup is refused by create and run, whatever the cgroupsPath,
// with exit status 1 and an error that says why, before the container's
// process runs, leaving no state, cgroup or process behind.
func TestSystemdCgroupNoSystemd(t *testing.T) {
	t.Parallel()
	requireCarapace(t)
	if fi, err := os.Stat("/run/systemd/system"); err == nil && fi.IsDir() {
		t.Skip("systemd runs this host")
	}
	const want = "--systemd-cgroup: systemd is not running on this host (no /run/systemd/system)"
	for _, verb := range []string{"create", "run"} {
		for _, path := range []string{"", "system.slice:e2e:", "machine-e2e.slice:carapace:"} {
			t.Run(verb+"/"+strings.TrimSuffix(path, ":"), func(t *testing.T) {
				t.Parallel()
				c := newContainer(t)
				c.Spec.Process.Args = []string{"echo", "container-ran"}
				if path != "" {
					c.Spec.Linux.CgroupsPath = path + c.ID
				}
				c.Spec.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr[int64](64)}}
				c.WriteSpec()
				r := c.runtime("--systemd-cgroup", verb, "--bundle", c.Bundle, c.ID)
				if r.Err != nil || r.Code != 1 {
					t.Fatalf("want exit status 1: %s", r)
				}
				if !strings.Contains(r.Stderr, want) {
					t.Errorf("the error does not say %q: %s", want, r)
				}
				if strings.Contains(r.Stdout, "container-ran") {
					t.Errorf("the container's process ran: %s", r)
				}
				if l := c.leftovers(); len(l) > 0 {
					t.Errorf("left behind:\n  %s", strings.Join(l, "\n  "))
				}
			})
		}
	}
}

// ---- 5. no cgroup directory remains -------------------------------------------

// ownCgroupDirs are the test binary's own cgroup directories (the base of
// relative cgroupsPaths), one per hierarchy.
func ownCgroupDirs(t *testing.T) []string {
	t.Helper()
	return procCgroupDirs(t, os.Getpid()).all()
}

// TestCgroupColonPathCgroupfs: without --systemd-cgroup, a cgroupsPath
// in systemd's "slice:prefix:name" form is a relative path like any other,
// colons and all, as runc's cgroupfs manager takes it: containerd's CRI
// writes one for a pod whose cgroup parent is a ".slice" whatever the
// runc shim's SystemdCgroup (critest's pods under containerd 1.6 have the
// parent "test.slice"), and runc runs them.
func TestCgroupColonPathCgroupfs(t *testing.T) {
	t.Parallel()
	requireCarapace(t)
	skipUnderSystemd(t, "a slice:prefix:name path is the driver's unit there (tests/systemd)")
	c := newContainer(t)
	own := ownCgroupDirs(t)
	c.Spec.Linux.CgroupsPath = "e2e-test.slice:cri-containerd:" + c.ID
	c.Spec.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr[int64](64)}}
	c.Spec.Process.Args = []string{"sleep", "100"}
	_, d := c.createForCgroups()
	for _, o := range own {
		if p := filepath.Join(o, c.Spec.Linux.CgroupsPath); !fileExists(p) {
			t.Errorf("no cgroup dir %s", p)
		}
	}
	wantCg(t, d.dir(t, "pids"), "pids.max", "64")
	if r := c.Delete(true); !r.ok() {
		t.Fatalf("delete --force: %s", r)
	}
	for _, o := range own {
		if p := filepath.Join(o, c.Spec.Linux.CgroupsPath); fileExists(p) {
			t.Errorf("delete left %s", p)
		}
	}
}

// TestCgroupNestedParents: a relative cgroupsPath with new parents
// "e2e-parent-X/mid/ID" gets them created in every hierarchy and removed on
// delete; a parent that existed before is left alone.
func TestCgroupNestedParents(t *testing.T) {
	t.Parallel()
	skipUnderSystemd(t, "cgroupfs cgroupsPaths (the driver's nested slices: tests/systemd)")
	t.Run("new-parents-removed", func(t *testing.T) {
		t.Parallel()
		requireCarapace(t)
		c := newContainer(t)
		parent := "e2e-parent-" + testenv.RandHex(4)
		registerID(parent) // the suite's leak check looks for it too
		own := ownCgroupDirs(t)
		t.Cleanup(func() {
			// Runs before the container's cleanup: delete it first.
			c.runtime("delete", "--force", c.ID)
			for _, o := range own {
				leaks.RemoveCgroupTree(filepath.Join(o, parent))
			}
		})
		c.Spec.Linux.CgroupsPath = parent + "/mid/" + c.ID
		c.Spec.Process.Args = []string{"sleep", "100"}
		_, d := c.createForCgroups()
		suffix := "/" + c.Spec.Linux.CgroupsPath
		for _, dir := range d.all() {
			if !strings.HasSuffix(dir, suffix) {
				t.Errorf("cgroup dir %s does not end with the cgroupsPath %s", dir, suffix)
			}
		}
		for _, o := range own {
			if !fileExists(filepath.Join(o, parent, "mid", c.ID)) {
				t.Errorf("no cgroup dir %s", filepath.Join(o, parent, "mid", c.ID))
			}
		}
		if r := c.Delete(true); !r.ok() {
			t.Fatalf("delete --force: %s", r)
		}
		for _, o := range own {
			if p := filepath.Join(o, parent); fileExists(p) {
				t.Errorf("delete left the parent it created: %s (holding %v)", p, dirEntries(t, p))
			}
		}
	})
	// The container that made a parent is deleted while a sibling still
	// lives under it (docker's /docker, a pod): delete succeeds, the
	// sibling's cgroup and process are untouched, and the parent stays.
	t.Run("made-parent-shared-with-sibling", func(t *testing.T) {
		t.Parallel()
		requireCarapace(t)
		first, second := newContainer(t), newContainer(t)
		parent := "e2e-shared-" + testenv.RandHex(4)
		registerID(parent)
		own := ownCgroupDirs(t)
		t.Cleanup(func() {
			first.runtime("delete", "--force", first.ID)
			second.runtime("delete", "--force", second.ID)
			for _, o := range own {
				leaks.RemoveCgroupTree(filepath.Join(o, parent))
			}
		})
		for _, c := range []*Container{first, second} {
			c.Spec.Linux.CgroupsPath = parent + "/" + c.ID
			c.Spec.Process.Args = []string{"sleep", "100"}
		}
		first.createForCgroups()
		pid, d := second.createForCgroups()
		if r := first.Delete(true); !r.ok() {
			t.Fatalf("delete --force of the parent's maker while a sibling runs: %s", r)
		}
		for _, dir := range d.all() {
			if !fileExists(dir) {
				t.Errorf("the sibling's cgroup %s was removed", dir)
			}
		}
		for _, o := range own {
			if fileExists(filepath.Join(o, parent, first.ID)) {
				t.Errorf("delete left %s", filepath.Join(o, parent, first.ID))
			}
		}
		if err := unix.Kill(pid, 0); err != nil {
			t.Errorf("the sibling's init %d: %v", pid, err)
		}
		if st := second.mustState(); st.Status != "created" {
			t.Errorf("the sibling is %s, want created", st.Status)
		}
	})
	for _, emptyCpuset := range []bool{false, true} {
		name := "existing-parent-kept"
		if emptyCpuset {
			name = "existing-parent-with-empty-cpuset"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			requireCarapace(t)
			c := newContainer(t)
			testExistingParent(t, c, emptyCpuset)
		})
	}
}

// testExistingParent pre-creates a parent in every hierarchy (with mkdir,
// so a v1 cpuset parent has empty cpus and mems unless filled), runs a
// container under it and checks delete leaves it.
func testExistingParent(t *testing.T, c *Container, emptyCpuset bool) {
	t.Helper()
	parent := "e2e-preparent-" + testenv.RandHex(4)
	registerID(parent)
	own := ownCgroupDirs(t)
	var made []string
	t.Cleanup(func() {
		// Runs before the container's cleanup: delete it first.
		c.runtime("delete", "--force", c.ID)
		for _, p := range made {
			leaks.RemoveCgroupTree(p)
		}
	})
	for _, o := range own {
		p := filepath.Join(o, parent)
		if err := unix.Mkdir(p, 0o755); err != nil {
			t.Fatalf("pre-creating %s: %v", p, err)
		}
		made = append(made, p)
		if emptyCpuset || !fileExists(filepath.Join(p, "cpuset.cpus")) || isV2(t) {
			continue
		}
		// What any cpuset parent that ever held a task has.
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if err := os.WriteFile(filepath.Join(p, f), []byte(readCg(t, o, f)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if emptyCpuset {
		if isV2(t) || v1Mount(t, "cpuset") == "" {
			t.Skip("no v1 cpuset hierarchy")
		}
		if readFileString(filepath.Join(v1Mount(t, "cpuset"), "cgroup.clone_children")) == "1\n" {
			t.Skip("cpuset clone_children is on: new cpusets are not empty")
		}
	}
	c.Spec.Linux.CgroupsPath = parent + "/" + c.ID
	c.Spec.Process.Args = []string{"sleep", "100"}
	_, d := c.createForCgroups()
	for _, dir := range d.all() {
		if filepath.Base(dir) != c.ID || !strings.HasSuffix(filepath.Dir(dir), "/"+parent) {
			t.Errorf("cgroup dir %s is not %s/%s under the runtime's cgroup", dir, parent, c.ID)
		}
	}
	if r := c.Delete(true); !r.ok() {
		t.Fatalf("delete --force: %s", r)
	}
	for _, p := range made {
		if !fileExists(p) {
			t.Errorf("delete removed the pre-existing parent %s", p)
		} else if fileExists(filepath.Join(p, c.ID)) {
			t.Errorf("delete left %s", filepath.Join(p, c.ID))
		}
	}
}
