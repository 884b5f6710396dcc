package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Tests of the process and linux fields that set kernel attributes of the
// container's processes: process.ioPriority, process.scheduler,
// linux.personality, process.execCPUAffinity, linux.memoryPolicy, and the
// refusal of LSM fields this host cannot apply. The values are read from
// inside the container (the kernel's view of the process), with a small
// static probe for what busybox cannot show.

// probeSource is a static helper for the container: it prints what a
// syscall returns for the calling process.
const probeSource = `package main

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: probe ioprio|personality|affinity|mempolicy")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "ioprio":
		const whoProcess = 1
		r, _, e := syscall.RawSyscall(syscall.SYS_IOPRIO_GET, whoProcess, 0, 0)
		if e != 0 {
			fail(e)
		}
		fmt.Println(int(r))
	case "personality":
		r, _, e := syscall.RawSyscall(syscall.SYS_PERSONALITY, 0xffffffff, 0, 0)
		if e != 0 {
			fail(e)
		}
		fmt.Println(uint32(r))
	case "affinity":
		var set [128]uint64
		_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, 0, unsafe.Sizeof(set), uintptr(unsafe.Pointer(&set[0])))
		if e != 0 {
			fail(e)
		}
		sep := ""
		for i := 0; i < len(set)*64; i++ {
			if set[i/64]&(1<<(i%64)) != 0 {
				fmt.Print(sep, i)
				sep = ","
			}
		}
		fmt.Println()
	case "mempolicy":
		var mode int32
		var mask [16]uint64
		_, _, e := syscall.RawSyscall6(syscall.SYS_GET_MEMPOLICY, uintptr(unsafe.Pointer(&mode)),
			uintptr(unsafe.Pointer(&mask[0])), uintptr(len(mask)*64), 0, 0, 0)
		if e != 0 {
			fail(e)
		}
		fmt.Printf("%d %x\n", mode, mask[0])
	default:
		fmt.Fprintln(os.Stderr, "unknown probe", os.Args[1])
		os.Exit(2)
	}
}

func fail(e syscall.Errno) {
	fmt.Fprintln(os.Stderr, e.Error())
	os.Exit(1)
}
`

var probeProgram = &staticProgram{name: "probe", source: probeSource}

// addProbe installs the probe as /bin/probe in the container's rootfs.
func (c *Container) addProbe() {
	c.t.Helper()
	c.writeRootfsFile("bin/probe", string(probeProgram.binary(c.t)), 0o755)
}

// procStat holds the scheduling fields of a /proc/<pid>/stat line.
type procStat struct {
	priority, nice, rtPriority, policy int
}

// parseProcStat reads fields 18 (priority), 19 (nice), 40 (rt_priority)
// and 41 (policy) of a /proc/<pid>/stat line (proc(5) numbering).
func parseProcStat(t *testing.T, line string) procStat {
	t.Helper()
	i := strings.LastIndex(line, ")")
	if i < 0 {
		t.Fatalf("not a /proc/pid/stat line: %q", line)
	}
	f := strings.Fields(line[i+1:]) // f[0] is field 3 (state)
	field := func(n int) int {
		if n-3 >= len(f) {
			t.Fatalf("/proc/pid/stat has no field %d: %q", n, line)
		}
		v, err := strconv.Atoi(f[n-3])
		if err != nil {
			t.Fatalf("/proc/pid/stat field %d: %v", n, err)
		}
		return v
	}
	return procStat{priority: field(18), nice: field(19), rtPriority: field(40), policy: field(41)}
}

// ---- process.ioPriority ------------------------------------------------------------

func TestIOPriority(t *testing.T) {
	requireCarapace(t)
	t.Parallel()
	for _, tc := range []struct {
		class specs.IOPriorityClass
		prio  int
		want  int
	}{
		{specs.IOPRIO_CLASS_BE, 4, 2<<13 | 4},
		{specs.IOPRIO_CLASS_BE, 0, 2<<13 | 0},
		{specs.IOPRIO_CLASS_IDLE, 0, 3 << 13},
		{specs.IOPRIO_CLASS_RT, 3, 1<<13 | 3}, // needs privilege: applied before the caps drop
	} {
		t.Run(fmt.Sprintf("%s-%d", tc.class, tc.prio), func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			c.addProbe()
			c.Spec.Process.IOPriority = &specs.LinuxIOPriority{Class: tc.class, Priority: tc.prio}
			c.Spec.Process.Args = []string{"probe", "ioprio"}
			got := strings.TrimSpace(c.mustRun().Stdout)
			if got != strconv.Itoa(tc.want) {
				t.Errorf("ioprio_get(IOPRIO_WHO_PROCESS, 0) = %s, want %d (class %d, data %d)", got, tc.want, tc.want>>13, tc.want&0x1fff)
			}
		})
	}
}

// ---- process.scheduler ---------------------------------------------------------------

func TestScheduler(t *testing.T) {
	requireCarapace(t)
	t.Parallel()
	for _, tc := range []struct {
		name  string
		sched specs.Scheduler
		want  procStat
	}{
		{"batch-nice5", specs.Scheduler{Policy: "SCHED_BATCH", Nice: 5}, procStat{priority: 25, nice: 5, rtPriority: 0, policy: 3}},
		{"idle", specs.Scheduler{Policy: "SCHED_IDLE"}, procStat{priority: 20, nice: 0, rtPriority: 0, policy: 5}},
		{"other-nice-minus5", specs.Scheduler{Policy: "SCHED_OTHER", Nice: -5}, procStat{priority: 15, nice: -5, rtPriority: 0, policy: 0}},
		// Real-time needs CAP_SYS_NICE, which the default spec's process
		// lacks: the runtime sets it before dropping capabilities.
		{"fifo-10", specs.Scheduler{Policy: "SCHED_FIFO", Priority: 10}, procStat{priority: -11, nice: 0, rtPriority: 10, policy: 1}},
		{"rr-1", specs.Scheduler{Policy: "SCHED_RR", Priority: 1}, procStat{priority: -2, nice: 0, rtPriority: 1, policy: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			sched := tc.sched
			c.Spec.Process.Scheduler = &sched
			if sched.Priority > 0 && rtGroupSched() {
				// The container's cpu cgroup starts with no real-time
				// budget (cpu.rt_runtime_us 0): give it some.
				c.Spec.Linux.Resources.CPU = &specs.LinuxCPU{RealtimeRuntime: ptr(int64(10000))}
			}
			c.Spec.Process.Args = []string{"cat", "/proc/self/stat"}
			r := c.Run()
			if !r.ok() {
				t.Fatalf("run: %s", r)
			}
			if got := parseProcStat(t, r.Stdout); got != tc.want {
				t.Errorf("/proc/self/stat scheduling fields = %+v, want %+v\n%s", got, tc.want, r.Stdout)
			}
		})
	}
	// Without a real-time budget in its cgroup, a real-time policy cannot
	// be set: create fails naming the field.
	t.Run("fifo-without-rt-budget", func(t *testing.T) {
		t.Parallel()
		if !rtGroupSched() {
			t.Skip("no cgroup v1 real-time group scheduling on this host")
		}
		runBadInput(t, badInput{name: "fifo-without-rt-budget", want: "process.scheduler", spec: func(c *Container) {
			c.Spec.Process.Scheduler = &specs.Scheduler{Policy: "SCHED_FIFO", Priority: 10}
		}})
	})
	// An exec'd process gets the same scheduling as the init.
	t.Run("exec", func(t *testing.T) {
		t.Parallel()
		c, initPid := startSleeper(t, func(c *Container) {
			c.Spec.Process.Scheduler = &specs.Scheduler{Policy: "SCHED_BATCH", Nice: 7}
		})
		want := procStat{priority: 27, nice: 7, policy: 3}
		if got := parseProcStat(t, readFileString(fmt.Sprintf("/proc/%d/stat", initPid))); got != want {
			t.Errorf("the init's scheduling fields = %+v, want %+v", got, want)
		}
		r := c.execIn(nil, "cat", "/proc/self/stat")
		if !r.ok() {
			t.Fatalf("exec: %s", r)
		}
		if got := parseProcStat(t, r.Stdout); got != want {
			t.Errorf("the exec'd process's scheduling fields = %+v, want %+v", got, want)
		}
	})
}

// rtGroupSched reports whether new cpu cgroups start without real-time
// budget: cgroup v1's cpu controller with CONFIG_RT_GROUP_SCHED.
func rtGroupSched() bool {
	_, err := os.Stat("/sys/fs/cgroup/cpu/cpu.rt_runtime_us")
	return err == nil
}

// ---- linux.personality -----------------------------------------------------------------

func TestPersonality(t *testing.T) {
	requireCarapace(t)
	t.Parallel()
	for _, tc := range []struct {
		domain  specs.LinuxPersonalityDomain
		want    uint32
		machine string
	}{
		{specs.PerLinux32, 0x0008, "i686"},
		{specs.PerLinux, 0x0000, ""}, // the host's machine
	} {
		t.Run(string(tc.domain), func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			c.addProbe()
			c.Spec.Linux.Personality = &specs.LinuxPersonality{Domain: tc.domain}
			out := lines(c.Sh(`probe personality; uname -m`))
			if len(out) != 2 {
				t.Fatalf("output %q, want the personality and the machine", out)
			}
			per, err := strconv.ParseUint(out[0], 10, 32)
			if err != nil {
				t.Fatalf("probe personality printed %q", out[0])
			}
			if per&0xff != uint64(tc.want) {
				t.Errorf("personality(0xffffffff) = %#x, want domain %#x", per, tc.want)
			}
			host, err := hostOutput("uname", "-m")
			if err != nil {
				t.Fatal(err)
			}
			machine := strings.TrimSpace(host)
			if tc.domain == specs.PerLinux32 {
				if machine != "x86_64" {
					t.Logf("host machine %s: not checking uname -m under LINUX32", machine)
					return
				}
				machine = tc.machine
			}
			if out[1] != machine {
				t.Errorf("uname -m = %q, want %q", out[1], machine)
			}
		})
	}
}

// ---- process.execCPUAffinity --------------------------------------------------------------

func TestExecCPUAffinity(t *testing.T) {
	requireCarapace(t)
	t.Parallel()
	hostCPUs := statusField(readFileString("/proc/self/status"), "Cpus_allowed_list")
	if hostCPUs != "0-1" && !strings.HasPrefix(hostCPUs, "0-") {
		t.Skipf("needs CPUs 0 and 1 (the tests may run on %s)", hostCPUs)
	}
	for _, tc := range []struct {
		name     string
		aff      specs.CPUAffinity
		wantExec string
	}{
		{"initial-and-final", specs.CPUAffinity{Initial: "0", Final: "1"}, "1"},
		{"initial-only", specs.CPUAffinity{Initial: "0"}, "0"},
		{"final-only", specs.CPUAffinity{Final: "1"}, "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, initPid := startSleeper(t, func(c *Container) {
				aff := tc.aff
				c.Spec.Process.ExecCPUAffinity = &aff
			})
			// It is for exec'd processes only: the init keeps the host's CPUs.
			if got := statusField(readFileString(fmt.Sprintf("/proc/%d/status", initPid)), "Cpus_allowed_list"); got != hostCPUs {
				t.Errorf("the init's Cpus_allowed_list = %q, want %q (execCPUAffinity is not for the init)", got, hostCPUs)
			}
			pidFile := filepath.Join(c.HostDir, "exec.pid")
			if r := c.execIn([]string{"--detach", "--pid-file", pidFile}, "sleep", "1000"); !r.ok() {
				t.Fatalf("exec --detach: %s", r)
			}
			pid := readPidFile(t, pidFile)
			if got := statusField(readFileString(fmt.Sprintf("/proc/%d/status", pid)), "Cpus_allowed_list"); got != tc.wantExec {
				t.Errorf("the exec'd process's Cpus_allowed_list = %q, want %q", got, tc.wantExec)
			}
			// Seen from inside too.
			r := c.execIn(nil, "cat", "/proc/self/status")
			if !r.ok() {
				t.Fatalf("exec: %s", r)
			}
			if got := statusField(r.Stdout, "Cpus_allowed_list"); got != tc.wantExec {
				t.Errorf("exec cat /proc/self/status: Cpus_allowed_list = %q, want %q", got, tc.wantExec)
			}
		})
	}
}

// ---- linux.memoryPolicy -------------------------------------------------------------------

func TestMemoryPolicy(t *testing.T) {
	requireCarapace(t)
	t.Parallel()
	if _, err := os.Stat("/proc/self/numa_maps"); err != nil {
		t.Skip("the kernel has no NUMA support (no /proc/self/numa_maps)")
	}
	if _, err := os.Stat("/sys/devices/system/node/node0"); err != nil {
		t.Skip("no NUMA node 0")
	}
	// Every mode and flag of runtime-spec 1.3 that one node allows, as the
	// kernel shows it in numa_maps (mpol_to_str).
	weighted := true
	if _, err := os.Stat("/sys/kernel/mm/mempolicy/weighted_interleave"); err != nil {
		weighted = false // before Linux 6.9
	}
	for _, tc := range []struct {
		name     string
		mode     specs.MemoryPolicyModeType
		nodes    string
		flags    []specs.MemoryPolicyFlagType
		wantMaps string
	}{
		{"bind", specs.MpolBind, "0", nil, "bind:0"},
		{"interleave", specs.MpolInterleave, "0", nil, "interleave:0"},
		{"preferred", specs.MpolPreferred, "0", nil, "prefer:0"},
		// MPOL_PREFERRED without nodes is the local node.
		{"preferred-no-nodes", specs.MpolPreferred, "", nil, "local"},
		{"preferred-many", specs.MpolPreferredMany, "0", nil, "prefer (many):0"},
		{"weighted-interleave", specs.MpolWeightedInterleave, "0", nil, "weighted interleave:0"},
		{"local", specs.MpolLocal, "", nil, "local"},
		{"default", specs.MpolDefault, "", nil, "default"},
		{"bind-numa-balancing", specs.MpolBind, "0", []specs.MemoryPolicyFlagType{specs.MpolFNumaBalancing}, "bind=balancing:0"},
		{"bind-static-nodes", specs.MpolBind, "0", []specs.MemoryPolicyFlagType{specs.MpolFStaticNodes}, "bind=static:0"},
		{"interleave-relative-nodes", specs.MpolInterleave, "0", []specs.MemoryPolicyFlagType{specs.MpolFRelativeNodes}, "interleave=relative:0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.mode == specs.MpolWeightedInterleave && !weighted {
				t.Skip("the kernel has no MPOL_WEIGHTED_INTERLEAVE")
			}
			_, initPid := startSleeper(t, func(c *Container) {
				c.Spec.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: tc.mode, Nodes: tc.nodes, Flags: tc.flags}
			})
			maps := readFileString(fmt.Sprintf("/proc/%d/numa_maps", initPid))
			ls := lines(maps)
			if len(ls) == 0 {
				t.Fatalf("/proc/%d/numa_maps is empty", initPid)
			}
			for _, l := range ls {
				// "<address> <policy> <details...>"; a policy may hold a space.
				if _, rest, _ := strings.Cut(l, " "); !strings.HasPrefix(rest+" ", tc.wantMaps+" ") {
					t.Errorf("/proc/%d/numa_maps line %q: policy is not %q", initPid, l, tc.wantMaps)
					break
				}
			}
		})
	}
	// What only the kernel refuses fails create, naming the field.
	t.Run("kernel-refuses", func(t *testing.T) {
		t.Parallel()
		for _, mp := range []*specs.LinuxMemoryPolicy{
			// MPOL_F_NUMA_BALANCING goes with MPOL_BIND (and, since 6.x,
			// MPOL_PREFERRED_MANY) only.
			{Mode: specs.MpolInterleave, Nodes: "0", Flags: []specs.MemoryPolicyFlagType{specs.MpolFNumaBalancing}},
			{Mode: specs.MpolBind, Nodes: "0", Flags: []specs.MemoryPolicyFlagType{specs.MpolFStaticNodes, specs.MpolFRelativeNodes}},
			{Mode: specs.MpolBind, Nodes: "4000"}, // no such node
		} {
			c := newContainer(t)
			c.Spec.Process.Args = []string{"true"}
			c.Spec.Linux.MemoryPolicy = mp
			r := c.Create()
			if r.ok() {
				t.Errorf("create with %+v succeeded, want the kernel's refusal", *mp)
				continue
			}
			if !strings.Contains(r.Stderr, "linux.memoryPolicy") || !strings.Contains(r.Stderr, "invalid argument") ||
				!strings.Contains(r.Stderr, fmt.Sprint(mp.Flags)) {
				t.Errorf("create with %+v: error does not name linux.memoryPolicy, its flags and EINVAL: %s", *mp, r)
			}
			c.checkNoLeftovers("after the failed create")
		}
	})
	// The policy is the init's, seen through get_mempolicy from inside.
	t.Run("get_mempolicy", func(t *testing.T) {
		t.Parallel()
		c := newContainer(t)
		c.addProbe()
		c.Spec.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0"}
		c.Spec.Process.Args = []string{"probe", "mempolicy"}
		if got := strings.TrimSpace(c.mustRun().Stdout); got != "2 1" {
			t.Errorf("get_mempolicy = %q, want mode 2 (MPOL_BIND) and mask 1 (node 0)", got)
		}
	})
}

// ---- bad input ---------------------------------------------------------------------------

// TestSchedIOPrioPersonalityAffinityMemoryPolicyBadInput: invalid values of these fields fail create,
// naming the field, and leave nothing behind.
func TestSchedIOPrioPersonalityAffinityMemoryPolicyBadInput(t *testing.T) {
	requireCarapace(t)
	t.Parallel()
	rows := []badInput{
		{name: "ioprio-class", want: "process.ioPriority.class", spec: func(c *Container) {
			c.Spec.Process.IOPriority = &specs.LinuxIOPriority{Class: "IOPRIO_CLASS_FOO", Priority: 1}
		}},
		{name: "ioprio-priority-8", want: "process.ioPriority.priority", spec: func(c *Container) {
			c.Spec.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 8}
		}},
		{name: "ioprio-priority-negative", want: "process.ioPriority.priority", spec: func(c *Container) {
			c.Spec.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: -1}
		}},
		{name: "sched-policy", want: "process.scheduler.policy", spec: func(c *Container) {
			c.Spec.Process.Scheduler = &specs.Scheduler{Policy: "SCHED_FOO"}
		}},
		{name: "sched-nice-20", want: "process.scheduler.nice", spec: func(c *Container) {
			c.Spec.Process.Scheduler = &specs.Scheduler{Policy: "SCHED_OTHER", Nice: 20}
		}},
		{name: "sched-nice-minus21", want: "process.scheduler.nice", spec: func(c *Container) {
			c.Spec.Process.Scheduler = &specs.Scheduler{Policy: "SCHED_OTHER", Nice: -21}
		}},
		{name: "sched-fifo-priority-0", want: "process.scheduler.priority", spec: func(c *Container) {
			c.Spec.Process.Scheduler = &specs.Scheduler{Policy: "SCHED_FIFO", Priority: 0}
		}},
		{name: "sched-fifo-priority-100", want: "process.scheduler.priority", spec: func(c *Container) {
			c.Spec.Process.Scheduler = &specs.Scheduler{Policy: "SCHED_FIFO", Priority: 100}
		}},
		{name: "sched-flag", want: "process.scheduler.flags[0]", spec: func(c *Container) {
			c.Spec.Process.Scheduler = &specs.Scheduler{Policy: "SCHED_OTHER", Flags: []specs.LinuxSchedulerFlag{"SCHED_FLAG_FOO"}}
		}},
		{name: "personality-linux64", want: "linux.personality.domain", spec: func(c *Container) {
			c.Spec.Linux.Personality = &specs.LinuxPersonality{Domain: "LINUX64"}
		}},
		{name: "affinity-initial", want: "process.execCPUAffinity.initial", spec: func(c *Container) {
			c.Spec.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "a-b"}
		}},
		{name: "affinity-final", want: "process.execCPUAffinity.final", spec: func(c *Container) {
			c.Spec.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "0", Final: "3-1"}
		}},
		{name: "mempolicy-mode", want: "linux.memoryPolicy.mode", spec: func(c *Container) {
			c.Spec.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: "MPOL_FOO", Nodes: "0"}
		}},
		{name: "mempolicy-nodes", want: "linux.memoryPolicy.nodes", spec: func(c *Container) {
			c.Spec.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "x"}
		}},
		{name: "mempolicy-bind-no-nodes", want: "linux.memoryPolicy.nodes: mode MPOL_BIND needs at least one node", spec: func(c *Container) {
			c.Spec.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind}
		}},
		{name: "mempolicy-preferred-many-no-nodes", want: "linux.memoryPolicy.nodes: mode MPOL_PREFERRED_MANY needs at least one node", spec: func(c *Container) {
			c.Spec.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolPreferredMany}
		}},
		{name: "mempolicy-local-nodes", want: `linux.memoryPolicy.nodes: "0": mode MPOL_LOCAL takes no nodes`, spec: func(c *Container) {
			c.Spec.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolLocal, Nodes: "0"}
		}},
		{name: "mempolicy-default-nodes", want: `linux.memoryPolicy.nodes: "0": mode MPOL_DEFAULT takes no nodes`, spec: func(c *Container) {
			c.Spec.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolDefault, Nodes: "0"}
		}},
		{name: "mempolicy-flag", want: "linux.memoryPolicy.flags[0]", spec: func(c *Container) {
			c.Spec.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0", Flags: []specs.MemoryPolicyFlagType{"MPOL_F_FOO"}}
		}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			runBadInput(t, row)
		})
	}
}

// ---- LSM fields the host cannot apply --------------------------------------------------------

func TestLSMUnavailable(t *testing.T) {
	requireCarapace(t)
	t.Parallel()
	t.Run("apparmor", func(t *testing.T) {
		t.Parallel()
		if b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled"); err == nil && len(b) > 0 && b[0] == 'Y' {
			t.Skip("AppArmor is enabled on this host")
		}
		runBadInput(t, badInput{name: "apparmor", want: `process.apparmorProfile "foo": AppArmor is not enabled on this host`, spec: func(c *Container) {
			c.Spec.Process.ApparmorProfile = "foo"
		}})
	})
	t.Run("selinux", func(t *testing.T) {
		t.Parallel()
		if _, err := os.Stat("/sys/fs/selinux/enforce"); err == nil {
			t.Skip("SELinux is enabled on this host")
		}
		runBadInput(t, badInput{name: "selinux", want: `process.selinuxLabel "system_u:system_r:container_t:s0": SELinux is not enabled on this host`, spec: func(c *Container) {
			c.Spec.Process.SelinuxLabel = "system_u:system_r:container_t:s0"
		}})
	})
	t.Run("mountlabel", func(t *testing.T) {
		t.Parallel()
		if _, err := os.Stat("/sys/fs/selinux/enforce"); err == nil {
			t.Skip("SELinux is enabled on this host")
		}
		// Ignored with a warning, as runc ignores it: engines send it
		// only on SELinux hosts, and runtime-tools' linux_mount_label
		// expects the container to run.
		c := newContainer(t)
		c.Spec.Linux.MountLabel = "system_u:object_r:container_file_t:s0"
		c.Spec.Process.Args = []string{"true"}
		r := c.Run()
		if !r.ok() {
			t.Fatalf("run with linux.mountLabel on a host without SELinux: %s", r)
		}
		if !isRunc() && !strings.Contains(r.Stderr, "linux.mountLabel ignored: SELinux is not enabled on this host") {
			t.Errorf("want a warning that linux.mountLabel is ignored: %s", r)
		}
	})
}

// TestSchedDeadlineWithCpuset: process.scheduler SCHED_DEADLINE with
// linux.resources.cpu.cpus. The kernel grants SCHED_DEADLINE only to a
// task whose affinity spans its root domain, so the policy is set before
// the cpuset confines init, as runc does (scheduler in init, cpuset at
// ready); the process then runs under both.
func TestSchedDeadlineWithCpuset(t *testing.T) {
	requireCarapace(t)
	t.Parallel()
	if runtime.NumCPU() < 2 {
		t.Skip("one CPU: a cpuset cannot be narrower than the root domain")
	}
	c := newContainer(t)
	c.Spec.Process.Scheduler = &specs.Scheduler{
		Policy: specs.SchedDeadline, Runtime: 1_000_000, Deadline: 10_000_000, Period: 10_000_000,
		// A deadline task may not fork otherwise (EAGAIN): sh's children
		// go back to SCHED_OTHER.
		Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagResetOnFork},
	}
	c.Spec.Linux.Resources.CPU = &specs.LinuxCPU{Cpus: "1"}
	out := c.Sh(`grep -E '^policy' /proc/1/sched; grep Cpus_allowed_list /proc/1/status`)
	if f := strings.Fields(out); len(f) < 5 || f[2] != "6" || f[4] != "1" {
		t.Errorf("want the process under policy 6 (SCHED_DEADLINE) on CPU 1 only, got:\n%s", out)
	}
}
