package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// badInput is one row of TestBadInput: a broken bundle or command line.
//
// For config.json errors, want is Carapace's error format
// `config.json: <json field path>: <reason>` up to and including the field
// path, and the colon after it when the path is exact: array elements as
// [i], map keys after a dot (linux.sysctl.vm.swappiness). Problems found
// only when acting on the rootfs or the kernel name the array element
// (`config.json: mounts[7]`), whatever follows it. For CLI-level rows want
// is the offending value (id, signal, verb).
type badInput struct {
	name string
	want string
	// spec mutates the default spec (and may change the rootfs).
	spec func(c *Container)
	// json edits the generic JSON document after spec (for values the Go
	// types cannot hold).
	json func(m map[string]any)
	// file replaces config.json after it is written (or removes it).
	file func(c *Container)
	// args are the runtime's arguments after `--root R`; default
	// `create --bundle B ID`.
	args func(c *Container) []string
	// existing: a valid container with this id is created first; the row
	// must not disturb it.
	existing bool
}

// Default spec indexes the rows refer to: namespaces pid(0) network(1)
// ipc(2) uts(3) mount(4); mounts /proc(0) /dev(1) /dev/pts(2) /dev/shm(3)
// /dev/mqueue(4) /sys(5) /sys/fs/cgroup(6), so an added mount is mounts[7].
var badInputs = []badInput{
	// ---- the bundle and config.json as a file
	{name: "broken-json", want: "config.json: ",
		file: func(c *Container) { c.writeConfig(`{"ociVersion": "1.0.2", "process": {`) }},
	{name: "empty-file", want: "config.json: ",
		file: func(c *Container) { c.writeConfig("") }},
	{name: "json-array", want: "config.json: ",
		file: func(c *Container) { c.writeConfig("[]") }},
	{name: "missing-config", want: "config.json",
		file: func(c *Container) { _ = os.Remove(filepath.Join(c.Bundle, "config.json")) }},
	{name: "nonexistent-bundle", want: "/nonexistent/e2e-bundle",
		args: func(c *Container) []string { return []string{"create", "--bundle", "/nonexistent/e2e-bundle", c.ID} }},
	{name: "wrong-json-type-args", want: "config.json: process.args:",
		json: func(m map[string]any) { setJSON(m, "sh", "process", "args") }},
	{name: "ociVersion-2.0.0", want: "config.json: ociVersion:",
		spec: func(c *Container) { c.Spec.Version = "2.0.0" }},
	{name: "ociVersion-empty", want: "config.json: ociVersion:",
		spec: func(c *Container) { c.Spec.Version = "" }},
	{name: "ociVersion-garbage", want: "config.json: ociVersion:",
		spec: func(c *Container) { c.Spec.Version = "banana" }},

	// ---- root
	{name: "missing-root", want: "config.json: root:",
		spec: func(c *Container) { c.Spec.Root = nil }},
	{name: "root-path-missing-dir", want: "config.json: root.path:",
		spec: func(c *Container) { c.Spec.Root.Path = "no-such-rootfs" }},
	{name: "root-path-empty", want: "config.json: root.path:",
		spec: func(c *Container) { c.Spec.Root.Path = "" }},
	{name: "root-path-is-a-file", want: "config.json: root.path:",
		spec: func(c *Container) { c.Spec.Root.Path = "config.json" }},

	// ---- process
	{name: "process-missing", want: "config.json: process:",
		spec: func(c *Container) { c.Spec.Process = nil }},
	{name: "args-empty", want: "config.json: process.args:",
		spec: func(c *Container) { c.Spec.Process.Args = []string{} }},
	{name: "cwd-relative", want: "config.json: process.cwd:",
		spec: func(c *Container) { c.Spec.Process.Cwd = "tmp" }},
	{name: "cwd-empty", want: "config.json: process.cwd:",
		spec: func(c *Container) { c.Spec.Process.Cwd = "" }},
	{name: "env-without-equals", want: "config.json: process.env[2]:",
		spec: func(c *Container) { c.Spec.Process.Env = append(c.Spec.Process.Env, "NOEQUALS") }},
	{name: "rlimit-unknown-type", want: "config.json: process.rlimits[0].type:",
		spec: func(c *Container) {
			c.Spec.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_FOO", Soft: 1, Hard: 1}}
		}},
	{name: "rlimit-soft-above-hard", want: "config.json: process.rlimits[0]",
		spec: func(c *Container) {
			c.Spec.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 2048, Hard: 1024}}
		}},
	{name: "rlimit-duplicate", want: "config.json: process.rlimits[1].type:",
		spec: func(c *Container) {
			c.Spec.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 1024}, {Type: "RLIMIT_NOFILE", Soft: 512, Hard: 512}}
		}},
	{name: "rlimit-hard-above-host", want: "process.rlimits[0]", // EPERM: root lacks CAP_SYS_RESOURCE here
		spec: func(c *Container) {
			c.Spec.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 1 << 30}}
		}},
	{name: "oomScoreAdj-1001", want: "config.json: process.oomScoreAdj:",
		spec: func(c *Container) { c.Spec.Process.OOMScoreAdj = ptr(1001) }},
	{name: "oomScoreAdj--1001", want: "config.json: process.oomScoreAdj:",
		spec: func(c *Container) { c.Spec.Process.OOMScoreAdj = ptr(-1001) }},
	{name: "ioPriority-unknown-class", want: "config.json: process.ioPriority.class:",
		spec: func(c *Container) {
			c.Spec.Process.IOPriority = &specs.LinuxIOPriority{Class: "IOPRIO_CLASS_FOO", Priority: 0}
		}},
	{name: "scheduler-unknown-policy", want: "config.json: process.scheduler.policy:",
		spec: func(c *Container) { c.Spec.Process.Scheduler = &specs.Scheduler{Policy: "SCHED_FOO"} }},

	// ---- namespaces and id mappings
	// Without a mount namespace, what needs one is refused, not skipped
	// and not done on the host's mounts (issue 9).
	{name: "no-mount-namespace-with-mounts", want: "config.json: mounts:",
		spec: func(c *Container) { c.removeNamespace(specs.MountNamespace) }},
	{name: "no-mount-namespace-with-masked-paths", want: "config.json: linux.maskedPaths:",
		spec: func(c *Container) { c.removeNamespace(specs.MountNamespace); c.Spec.Mounts = nil }},
	{name: "no-mount-namespace-with-readonly-paths", want: "config.json: linux.readonlyPaths:",
		spec: func(c *Container) {
			c.removeNamespace(specs.MountNamespace)
			c.Spec.Mounts, c.Spec.Linux.MaskedPaths = nil, nil
		}},
	{name: "no-mount-namespace-with-readonly-root", want: "config.json: root.readonly:",
		spec: func(c *Container) {
			c.removeNamespace(specs.MountNamespace)
			c.Spec.Mounts, c.Spec.Linux.MaskedPaths, c.Spec.Linux.ReadonlyPaths = nil, nil, nil
			c.Spec.Root.Readonly = true
		}},
	{name: "namespace-unknown-type", want: "config.json: linux.namespaces[5].type:",
		spec: func(c *Container) {
			c.Spec.Linux.Namespaces = append(c.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: "foo"})
		}},
	{name: "namespace-duplicate-type", want: "config.json: linux.namespaces[5].type:",
		spec: func(c *Container) {
			c.Spec.Linux.Namespaces = append(c.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.PIDNamespace})
		}},
	{name: "namespace-path-missing", want: "config.json: linux.namespaces[1].path:",
		spec: func(c *Container) { c.Spec.Linux.Namespaces[1].Path = "/nonexistent/e2e-netns" }},
	{name: "namespace-path-relative", want: "config.json: linux.namespaces[1].path:",
		spec: func(c *Container) { c.Spec.Linux.Namespaces[1].Path = "proc/1/ns/net" }},
	{name: "namespace-path-of-another-type", want: "config.json: linux.namespaces[1].path:",
		spec: func(c *Container) { c.Spec.Linux.Namespaces[1].Path = "/proc/1/ns/uts" }},
	{name: "userns-path-with-mappings", want: "config.json: linux.uidMappings:",
		spec: func(c *Container) {
			c.Spec.Linux.Namespaces = append(c.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace, Path: "/proc/1/ns/user"})
			c.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
			c.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		}},
	{name: "mappings-without-userns", want: "config.json: linux.uidMappings:",
		spec: func(c *Container) {
			c.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
			c.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		}},
	{name: "uid-mapping-size-zero", want: "config.json: linux.uidMappings[0].size:",
		spec: func(c *Container) {
			c.userNS()
			c.Spec.Linux.UIDMappings[0].Size = 0
		}},
	{name: "uid-mappings-overlap", want: "config.json: linux.uidMappings[1]",
		spec: func(c *Container) {
			c.userNS()
			c.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 1000}, {ContainerID: 500, HostID: 300000, Size: 1000}}
		}},
	{name: "gid-mapping-overflow", want: "config.json: linux.gidMappings[0]",
		spec: func(c *Container) {
			c.userNS()
			c.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 4294967295, Size: 10}}
		}},
	{name: "uid-mapping-negative", want: "config.json: linux.uidMappings[0].hostID:",
		spec: func(c *Container) { c.userNS() },
		json: func(m map[string]any) { setJSON(m, -1, "linux", "uidMappings", 0, "hostID") }},
	{name: "userns-uid-not-mapped", want: "config.json: process.user.uid:",
		spec: func(c *Container) {
			c.userNS()
			c.Spec.Process.User.UID = 70000
		}},
	{name: "timeOffsets-without-timens", want: "config.json: linux.timeOffsets:",
		spec: func(c *Container) {
			c.Spec.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 10}}
		}},
	{name: "timeOffsets-unknown-clock", want: "config.json: linux.timeOffsets.realtime:",
		spec: func(c *Container) {
			c.Spec.Linux.Namespaces = append(c.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			c.Spec.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"realtime": {Secs: 10}}
		}},
	{name: "hostname-without-uts", want: "config.json: hostname:",
		spec: func(c *Container) { c.removeNamespace(specs.UTSNamespace) }},
	{name: "domainname-without-uts", want: "config.json: domainname:",
		spec: func(c *Container) {
			c.removeNamespace(specs.UTSNamespace)
			c.Spec.Hostname = ""
			c.Spec.Domainname = "e2e.example"
		}},

	// ---- mounts
	{name: "mount-destination-dotdot", want: "config.json: mounts[7].destination:",
		spec: func(c *Container) { c.addTmpfs("/mnt/../../etc") }},
	{name: "mount-empty-destination", want: "config.json: mounts[7].destination:",
		spec: func(c *Container) { c.addTmpfs("") }},
	{name: "bind-source-missing", want: "config.json: mounts[7].source:",
		spec: func(c *Container) { c.addBind("/nonexistent/e2e-source", "/mnt/x", false) }},
	{name: "mount-no-type-no-bind", want: "config.json: mounts[7].type:",
		spec: func(c *Container) {
			c.Spec.Mounts = append(c.Spec.Mounts, specs.Mount{Destination: "/mnt/x", Source: "tmpfs"})
		}},
	{name: "mount-unknown-fs-type", want: "config.json: mounts[7]", // found when mounting
		spec: func(c *Container) {
			c.Spec.Mounts = append(c.Spec.Mounts, specs.Mount{Destination: "/mnt/x", Type: "e2efs", Source: "none"})
		}},
	{name: "mount-destination-symlink-to-host-root", want: "config.json: mounts[7]", // found in the rootfs
		spec: func(c *Container) {
			c.replaceWithSymlink("mnt", "/")
			c.addTmpfs("/mnt")
		}},
	{name: "bind-over-proc-self-attr", want: "config.json: mounts[7].destination:",
		spec: func(c *Container) { c.addBind(c.HostDir, "/proc/self/attr", false) }},
	{name: "symlinked-proc", want: "config.json: mounts[0]", // found in the rootfs
		spec: func(c *Container) { c.replaceWithSymlink("proc", "tmp") }},
	{name: "symlinked-sys", want: "config.json: mounts[5]", // found in the rootfs
		spec: func(c *Container) { c.replaceWithSymlink("sys", "/tmp") }},
	{name: "maskedPaths-relative", want: "config.json: linux.maskedPaths[0]:",
		spec: func(c *Container) { c.Spec.Linux.MaskedPaths = []string{"proc/kcore"} }},
	{name: "readonlyPaths-relative", want: "config.json: linux.readonlyPaths[0]:",
		spec: func(c *Container) { c.Spec.Linux.ReadonlyPaths = []string{"proc/sys"} }},

	// ---- devices, sysctl, hooks, seccomp, personality
	{name: "device-invalid-type", want: "config.json: linux.devices[0].type:",
		spec: func(c *Container) {
			c.Spec.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/e2e-x", Type: "x", Major: 1, Minor: 3}}
		}},
	{name: "device-cgroup-access-a", want: `config.json: linux.resources.devices[1].access "rwa":`,
		spec: func(c *Container) {
			c.resources().Devices = []specs.LinuxDeviceCgroup{{Access: "rwm"}, {Allow: true, Type: "c", Access: "rwa"}}
		}},
	{name: "device-relative-path", want: "config.json: linux.devices[0].path:",
		spec: func(c *Container) {
			c.Spec.Linux.Devices = []specs.LinuxDevice{{Path: "dev/e2e-x", Type: "c", Major: 1, Minor: 3}}
		}},
	{name: "sysctl-not-namespaced", want: "config.json: linux.sysctl.vm.swappiness:",
		spec: func(c *Container) { c.Spec.Linux.Sysctl = map[string]string{"vm.swappiness": "10"} }},
	{name: "sysctl-net-without-netns", want: "config.json: linux.sysctl.net.ipv4.ip_forward:",
		spec: func(c *Container) {
			c.removeNamespace(specs.NetworkNamespace)
			c.Spec.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		}},
	{name: "sysctl-ipc-without-ipcns", want: "config.json: linux.sysctl.kernel.shmmax:",
		spec: func(c *Container) {
			c.removeNamespace(specs.IPCNamespace)
			c.Spec.Linux.Sysctl = map[string]string{"kernel.shmmax": "65536"}
		}},
	{name: "hook-relative-path", want: "config.json: hooks.createRuntime[0].path:",
		spec: func(c *Container) { c.Spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "bin/true"}}} }},
	{name: "hook-missing-binary", want: "hooks.createRuntime[0]",
		spec: func(c *Container) {
			c.Spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/no/such/e2e-hook"}}}
		}},
	{name: "hook-zero-timeout", want: "config.json: hooks.createRuntime[0].timeout:",
		spec: func(c *Container) {
			c.Spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/true", Timeout: ptr(0)}}}
		}},
	{name: "hook-negative-timeout", want: "config.json: hooks.poststart[0].timeout:",
		spec: func(c *Container) {
			c.Spec.Hooks = &specs.Hooks{Poststart: []specs.Hook{{Path: "/bin/true", Timeout: ptr(-1)}}}
		}},
	{name: "seccomp-unknown-action", want: "config.json: linux.seccomp.defaultAction:",
		spec: func(c *Container) { c.Spec.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_FOO"} }},
	{name: "seccomp-unknown-rule-action", want: `config.json: linux.seccomp.syscalls[1].action: "SCMP_ACT_FOO": unknown action`,
		spec: func(c *Container) {
			c.Spec.Linux.Seccomp = badSeccomp(func(sc *specs.LinuxSeccomp) { sc.Syscalls[1].Action = "SCMP_ACT_FOO" })
		}},
	{name: "seccomp-unknown-arch", want: `config.json: linux.seccomp.architectures[1]: "SCMP_ARCH_VAX": unknown architecture`,
		spec: func(c *Container) {
			c.Spec.Linux.Seccomp = badSeccomp(func(sc *specs.LinuxSeccomp) { sc.Architectures = append(sc.Architectures, "SCMP_ARCH_VAX") })
		}},
	{name: "seccomp-unknown-op", want: `config.json: linux.seccomp.syscalls[1].args[0].op: "SCMP_CMP_FOO": unknown operator`,
		spec: func(c *Container) {
			c.Spec.Linux.Seccomp = badSeccomp(func(sc *specs.LinuxSeccomp) { sc.Syscalls[1].Args[0].Op = "SCMP_CMP_FOO" })
		}},
	{name: "seccomp-arg-index", want: `config.json: linux.seccomp.syscalls[1].args[0].index: 6: out of range`,
		spec: func(c *Container) {
			c.Spec.Linux.Seccomp = badSeccomp(func(sc *specs.LinuxSeccomp) { sc.Syscalls[1].Args[0].Index = 6 })
		}},
	{name: "seccomp-unknown-flag", want: `config.json: linux.seccomp.flags[0]: "SECCOMP_FILTER_FLAG_FOO": unknown flag`,
		spec: func(c *Container) {
			c.Spec.Linux.Seccomp = badSeccomp(func(sc *specs.LinuxSeccomp) { sc.Flags = []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_FOO"} })
		}},
	{name: "seccomp-errnoRet-on-allow", want: `config.json: linux.seccomp.syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE`,
		spec: func(c *Container) {
			c.Spec.Linux.Seccomp = badSeccomp(func(sc *specs.LinuxSeccomp) { sc.Syscalls[0].ErrnoRet = ptr(uint(1)) })
		}},
	{name: "seccomp-conflicting-rules", want: `config.json: linux.seccomp.syscalls[2]: `,
		spec: func(c *Container) {
			c.Spec.Linux.Seccomp = badSeccomp(func(sc *specs.LinuxSeccomp) {
				sc.Syscalls = append(sc.Syscalls, sc.Syscalls[1])
				sc.Syscalls[2].Action = specs.ActKillProcess
			})
		}},
	{name: "seccomp-program-too-long", want: `config.json: linux.seccomp: the filter has `,
		spec: func(c *Container) {
			c.Spec.Linux.Seccomp = badSeccomp(func(sc *specs.LinuxSeccomp) {
				for v := range 1200 {
					sc.Syscalls = append(sc.Syscalls, specs.LinuxSyscall{Names: []string{"ioctl"}, Action: specs.ActAllow,
						Args: []specs.LinuxSeccompArg{{Index: 1, Value: uint64(v) << 32, Op: specs.OpEqualTo}}})
				}
			})
		}},
	{name: "personality-unknown-domain", want: "config.json: linux.personality.domain:",
		spec: func(c *Container) { c.Spec.Linux.Personality = &specs.LinuxPersonality{Domain: "LINUX_FOO"} }},

	// ---- the command line
	{name: "existing-id", want: "", existing: true, // want: the id (filled in)
		args: func(c *Container) []string { return []string{"create", "--bundle", c.Bundle, c.ID} }},
	{name: "id-with-slash", want: "e2e-a/b",
		args: func(c *Container) []string { return []string{"create", "--bundle", c.Bundle, "e2e-a/b"} }},
	{name: "id-dotdot", want: `..`,
		args: func(c *Container) []string { return []string{"create", "--bundle", c.Bundle, ".."} }},
	{name: "id-empty", want: "container id",
		args: func(c *Container) []string { return []string{"create", "--bundle", c.Bundle, ""} }},
	{name: "kill-bad-signal-name", want: "SIGFOO", existing: true,
		args: func(c *Container) []string { return []string{"kill", c.ID, "SIGFOO"} }},
	{name: "kill-bad-signal-number", want: "99", existing: true,
		args: func(c *Container) []string { return []string{"kill", c.ID, "99"} }},
	{name: "kill-missing-container", want: "",
		args: func(c *Container) []string { return []string{"kill", c.ID, "KILL"} }},
	{name: "start-missing-container", want: "",
		args: func(c *Container) []string { return []string{"start", c.ID} }},
	{name: "state-missing-container", want: "",
		args: func(c *Container) []string { return []string{"state", c.ID} }},
	{name: "delete-missing-container", want: "",
		args: func(c *Container) []string { return []string{"delete", c.ID} }},
	{name: "unknown-verb", want: "e2e-frobnicate",
		args: func(c *Container) []string { return []string{"e2e-frobnicate", c.ID} }},
	{name: "unknown-flag", want: "e2e-bogus",
		args: func(c *Container) []string { return []string{"create", "--e2e-bogus", "--bundle", c.Bundle, c.ID} }},
}

// badSeccomp is a valid profile changed by mod: a row's error is then
// about the one field mod broke.
func badSeccomp(mod func(sc *specs.LinuxSeccomp)) *specs.LinuxSeccomp {
	sc := &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Architectures: []specs.Arch{specs.ArchX86_64},
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read", "write", "execve"}, Action: specs.ActAllow},
			{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 8, Op: specs.OpEqualTo}}},
		},
	}
	mod(sc)
	return sc
}

// TestBadInput is the table of inputs Carapace must refuse with a precise
// error and without leaving anything behind. It is not parallel with the
// other tests, so that it can also check that no mount appeared anywhere.
func TestBadInput(t *testing.T) {
	requireCarapace(t)
	before := mountinfoLines()
	t.Run("rows", func(t *testing.T) {
		for _, row := range badInputs {
			t.Run(row.name, func(t *testing.T) {
				t.Parallel()
				runBadInput(t, row)
			})
		}
	})
	for l := range mountinfoLines() {
		if !before[l] && !strings.Contains(l, globalRoot) {
			t.Errorf("a mount appeared during the bad-input rows: %s", l)
		}
	}
}

func runBadInput(t *testing.T, row badInput) {
	c := newContainer(t)
	c.Spec.Process.Args = []string{"true"}
	if row.existing {
		c.Spec.Process.Args = []string{"sleep", "100"}
		c.mustCreate()
	}
	want := row.want
	if want == "" {
		want = c.ID
	}
	if row.spec != nil {
		row.spec(c)
	}
	c.WriteSpec()
	if row.json != nil {
		path := filepath.Join(c.Bundle, "config.json")
		var m map[string]any
		if err := json.Unmarshal([]byte(readFileString(path)), &m); err != nil {
			t.Fatal(err)
		}
		row.json(m)
		data, err := json.MarshalIndent(m, "", "\t")
		if err != nil {
			t.Fatal(err)
		}
		c.writeConfig(string(data))
	}
	if row.file != nil {
		row.file(c)
	}
	args := []string{"create", "--bundle", c.Bundle, c.ID}
	if row.args != nil {
		args = row.args(c)
	}
	var pid int
	if row.existing {
		pid = c.mustState().Pid
	}
	topBefore := topEntries(c.Dir)

	r := c.runtime(args...)
	switch {
	case r.Err != nil:
		t.Errorf("%s", r)
	case r.Code == 0:
		t.Errorf("want a non-zero exit: %s", r)
		if !row.existing {
			// It created a container: remove it before the leak check.
			_ = c.Delete(true)
		}
	case !strings.Contains(r.Stderr, want):
		t.Errorf("stderr lacks %q: %s", want, r)
	}

	if row.existing {
		if s := c.mustState(); s.Status != "created" || s.Pid != pid {
			t.Errorf("the failed command disturbed the existing container: %+v (pid was %d)", s, pid)
		}
		if r := c.Delete(true); !r.ok() {
			t.Errorf("delete --force: %s", r)
		}
	}
	for name := range topEntries(c.Dir) {
		if !topBefore[name] {
			t.Errorf("the failed command created %s", filepath.Join(c.Dir, name))
		}
	}
	c.checkNoLeftovers("after the failed command")
}

// topEntries lists a dir's entries, leaving out the harness's output files.
func topEntries(dir string) map[string]bool {
	m := map[string]bool{}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "cmd") {
			m[e.Name()] = true
		}
	}
	return m
}

func mountinfoLines() map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(readFileString("/proc/self/mountinfo"), "\n") {
		if l != "" {
			m[l] = true
		}
	}
	return m
}

func (c *Container) writeConfig(content string) {
	c.t.Helper()
	if err := os.WriteFile(filepath.Join(c.Bundle, "config.json"), []byte(content), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

func (c *Container) userNS() {
	c.Spec.Linux.Namespaces = append(c.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	c.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	c.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	c.removeMount("/sys/fs/cgroup")
}

func (c *Container) addTmpfs(dst string) {
	c.Spec.Mounts = append(c.Spec.Mounts, specs.Mount{Destination: dst, Type: "tmpfs", Source: "tmpfs"})
}

// replaceWithSymlink replaces rootfs/<rel> with a symlink to target.
func (c *Container) replaceWithSymlink(rel, target string) {
	c.t.Helper()
	p := filepath.Join(c.Rootfs, rel)
	if err := os.RemoveAll(p); err != nil {
		c.t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		c.t.Fatal(err)
	}
}

// setJSON sets a value in a generic JSON document; path elements are
// object keys (string) or array indexes (int).
func setJSON(doc map[string]any, value any, path ...any) {
	var cur any = doc
	for i, p := range path {
		last := i == len(path)-1
		switch k := p.(type) {
		case string:
			m := cur.(map[string]any)
			if last {
				m[k] = value
				return
			}
			cur = m[k]
		case int:
			a := cur.([]any)
			if last {
				a[k] = value
				return
			}
			cur = a[k]
		}
	}
}
