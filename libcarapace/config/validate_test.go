package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/carapace-oci/carapace/libcarapace/config"
)

// newBundle returns a bundle in a fresh temp dir holding an empty rootfs
// directory, with the default (non-rootless) spec and no terminal.
func newBundle(t *testing.T) *config.Bundle {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := config.Default(false, 0, 0)
	s.Process.Terminal = false
	return &config.Bundle{Dir: dir, Spec: s}
}

func intp(i int) *int { return &i }

func addNS(s *specs.Spec, nss ...specs.LinuxNamespace) {
	s.Linux.Namespaces = append(s.Linux.Namespaces, nss...)
}

func dropNS(s *specs.Spec, t specs.LinuxNamespaceType) {
	var out []specs.LinuxNamespace
	for _, ns := range s.Linux.Namespaces {
		if ns.Type != t {
			out = append(out, ns)
		}
	}
	s.Linux.Namespaces = out
}

func userNS(s *specs.Spec) {
	addNS(s, specs.LinuxNamespace{Type: specs.UserNamespace})
	s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
}

func addMount(s *specs.Spec, m specs.Mount) { s.Mounts = append(s.Mounts, m) }

func TestValidate(t *testing.T) {
	type mut func(t *testing.T, b *config.Bundle)
	version := func(v string) mut {
		return func(_ *testing.T, b *config.Bundle) { b.Spec.Version = v }
	}
	caps := func(set string) mut {
		return func(_ *testing.T, b *config.Bundle) {
			c := b.Spec.Process.Capabilities
			bad := []string{"CAP_KILL", "CAP_BOGUS"}
			switch set {
			case "bounding":
				c.Bounding = bad
			case "effective":
				c.Effective = bad
			case "inheritable":
				c.Inheritable = bad
			case "permitted":
				c.Permitted = bad
			case "ambient":
				c.Ambient = bad
			}
		}
	}
	sysctl := func(k string, drop specs.LinuxNamespaceType) mut {
		return func(_ *testing.T, b *config.Bundle) {
			if drop != "" {
				dropNS(b.Spec, drop)
			}
			b.Spec.Linux.Sysctl = map[string]string{k: "1"}
		}
	}
	mount := func(m specs.Mount) mut {
		return func(_ *testing.T, b *config.Bundle) { addMount(b.Spec, m) }
	}
	mempolicy := func(mode specs.MemoryPolicyModeType, nodes string) mut {
		return func(_ *testing.T, b *config.Bundle) {
			b.Spec.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: mode, Nodes: nodes}
		}
	}
	bindSrc := t.TempDir()
	const lxcfsErr = "mounts under /proc are not allowed"

	tests := []struct {
		name   string
		mutate mut
		want   string // "" means valid
	}{
		{"default", func(*testing.T, *config.Bundle) {}, ""},
		{"rootless default", func(_ *testing.T, b *config.Bundle) {
			b.Spec = config.Default(true, 1000, 1000)
			b.Spec.Process.Terminal = false
		}, ""},

		// ociVersion
		{"intelRdt refused", func(_ *testing.T, b *config.Bundle) {
			b.Spec.Linux.IntelRdt = &specs.LinuxIntelRdt{ClosID: "c1"}
		}, "config.json: linux.intelRdt: Intel RDT (resctrl) is not supported yet"},
		{"version 1.0.0", version("1.0.0"), ""},
		{"version 1.0.2-dev", version("1.0.2-dev"), ""},
		{"version 1.2.0", version("1.2.0"), ""},
		{"version 1.3.0", version("1.3.0"), ""},
		{"version 1.1.0+build", version("1.1.0+build.5"), ""},
		{"version 2.0.0", version("2.0.0"), `config.json: ociVersion: unsupported version "2.0.0"`},
		{"version 1.4.0", version("1.4.0"), `config.json: ociVersion: unsupported version "1.4.0"`},
		{"version 0.9.0", version("0.9.0"), `config.json: ociVersion: unsupported version "0.9.0"`},
		{"version abc", version("abc"), `config.json: ociVersion: "abc" is not a semantic version`},
		{"version 1.0", version("1.0"), `config.json: ociVersion: "1.0" is not a semantic version`},
		{"version 1.x.0", version("1.x.0"), `config.json: ociVersion: "1.x.0" is not a semantic version`},
		{"version empty", version(""), "config.json: ociVersion: missing"},

		// root
		{"root missing", func(_ *testing.T, b *config.Bundle) { b.Spec.Root = nil }, "config.json: root: missing"},
		{"root empty path", func(_ *testing.T, b *config.Bundle) { b.Spec.Root.Path = "" }, "config.json: root.path: empty"},
		{"root absolute", func(_ *testing.T, b *config.Bundle) { b.Spec.Root.Path = filepath.Join(b.Dir, "rootfs") }, ""},
		{"root relative nested", func(t *testing.T, b *config.Bundle) {
			if err := os.MkdirAll(filepath.Join(b.Dir, "a", "b"), 0o755); err != nil {
				t.Fatal(err)
			}
			b.Spec.Root.Path = "a/b"
		}, ""},
		{"root not a dir", func(t *testing.T, b *config.Bundle) {
			if err := os.WriteFile(filepath.Join(b.Dir, "file"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			b.Spec.Root.Path = "file"
		}, `config.json: root.path: "file" is not a directory`},
		{"root missing dir", func(_ *testing.T, b *config.Bundle) { b.Spec.Root.Path = "nope" }, `config.json: root.path: "nope" does not exist`},
		{"root resolved against bundle, not cwd", func(_ *testing.T, b *config.Bundle) {
			// "." from the bundle is the bundle dir itself: valid.
			b.Spec.Root.Path = "."
		}, ""},

		// linux.memoryPolicy: nodes required or refused by mode
		{"mempolicy bind without nodes", mempolicy(specs.MpolBind, ""), "config.json: linux.memoryPolicy.nodes: mode MPOL_BIND needs at least one node"},
		{"mempolicy interleave without nodes", mempolicy(specs.MpolInterleave, ""), "linux.memoryPolicy.nodes: mode MPOL_INTERLEAVE needs"},
		{"mempolicy weighted interleave without nodes", mempolicy(specs.MpolWeightedInterleave, ""), "linux.memoryPolicy.nodes: mode MPOL_WEIGHTED_INTERLEAVE needs"},
		{"mempolicy preferred many without nodes", mempolicy(specs.MpolPreferredMany, ""), "linux.memoryPolicy.nodes: mode MPOL_PREFERRED_MANY needs"},
		{"mempolicy default with nodes", mempolicy(specs.MpolDefault, "0"), `config.json: linux.memoryPolicy.nodes: "0": mode MPOL_DEFAULT takes no nodes`},
		{"mempolicy local with nodes", mempolicy(specs.MpolLocal, "0-1"), `linux.memoryPolicy.nodes: "0-1": mode MPOL_LOCAL takes no nodes`},
		{"mempolicy default", mempolicy(specs.MpolDefault, ""), ""},
		{"mempolicy local", mempolicy(specs.MpolLocal, ""), ""},
		{"mempolicy preferred without nodes", mempolicy(specs.MpolPreferred, ""), ""},
		{"mempolicy preferred", mempolicy(specs.MpolPreferred, "0"), ""},
		{"mempolicy bind", mempolicy(specs.MpolBind, "0"), ""},
		{"mempolicy weighted interleave", mempolicy(specs.MpolWeightedInterleave, "0,1"), ""},

		// process
		{"process nil", func(_ *testing.T, b *config.Bundle) { b.Spec.Process = nil }, "config.json: process: missing"},
		{"args empty", func(_ *testing.T, b *config.Bundle) { b.Spec.Process.Args = nil }, "config.json: process.args: empty"},
		{"args[0] empty", func(_ *testing.T, b *config.Bundle) { b.Spec.Process.Args = []string{""} }, "config.json: process.args: empty"},
		{"cwd empty", func(_ *testing.T, b *config.Bundle) { b.Spec.Process.Cwd = "" }, "config.json: process.cwd: empty"},
		{"cwd relative", func(_ *testing.T, b *config.Bundle) { b.Spec.Process.Cwd = "tmp" }, `config.json: process.cwd: "tmp" is not an absolute path`},
		{"env no =", func(_ *testing.T, b *config.Bundle) { b.Spec.Process.Env = append(b.Spec.Process.Env, "FOO") },
			`config.json: process.env[2]: "FOO" is not of the form NAME=VALUE`},
		{"env =value", func(_ *testing.T, b *config.Bundle) { b.Spec.Process.Env = []string{"=x"} },
			`config.json: process.env[0]: "=x" is not of the form NAME=VALUE`},
		{"env empty value ok", func(_ *testing.T, b *config.Bundle) { b.Spec.Process.Env = []string{"A=", "B==c"} }, ""},
		{"rlimit unknown", func(_ *testing.T, b *config.Bundle) {
			b.Spec.Process.Rlimits = append(b.Spec.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_FOO", Soft: 1, Hard: 1})
		}, `config.json: process.rlimits[1].type: unknown rlimit "RLIMIT_FOO"`},
		{"rlimit duplicate", func(_ *testing.T, b *config.Bundle) {
			b.Spec.Process.Rlimits = append(b.Spec.Process.Rlimits,
				specs.POSIXRlimit{Type: "RLIMIT_CORE", Soft: 0, Hard: 0},
				specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Soft: 10, Hard: 10})
		}, "config.json: process.rlimits[2].type: RLIMIT_NOFILE already set by process.rlimits[0]"},
		{"rlimit soft > hard", func(_ *testing.T, b *config.Bundle) {
			b.Spec.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NPROC", Soft: 20, Hard: 10}}
		}, "config.json: process.rlimits[0]: soft limit 20 is above the hard limit 10"},
		{"cap unknown bounding (warned)", caps("bounding"), ""},
		{"cap unknown effective (warned)", caps("effective"), ""},
		{"cap unknown inheritable (warned)", caps("inheritable"), ""},
		{"cap unknown permitted (warned)", caps("permitted"), ""},
		{"cap unknown ambient (warned)", caps("ambient"), ""},
		{"cap lowercase (warned)", func(_ *testing.T, b *config.Bundle) { b.Spec.Process.Capabilities.Bounding = []string{"cap_kill"} }, ""},
		{"oomScoreAdj -1000", func(_ *testing.T, b *config.Bundle) { b.Spec.Process.OOMScoreAdj = intp(-1000) }, ""},
		{"oomScoreAdj 1000", func(_ *testing.T, b *config.Bundle) { b.Spec.Process.OOMScoreAdj = intp(1000) }, ""},
		{"oomScoreAdj 1001", func(_ *testing.T, b *config.Bundle) { b.Spec.Process.OOMScoreAdj = intp(1001) },
			"config.json: process.oomScoreAdj: 1001 is outside -1000..1000"},
		{"oomScoreAdj -1001", func(_ *testing.T, b *config.Bundle) { b.Spec.Process.OOMScoreAdj = intp(-1001) },
			"config.json: process.oomScoreAdj: -1001 is outside -1000..1000"},
		{"consoleSize without terminal", func(_ *testing.T, b *config.Bundle) {
			b.Spec.Process.ConsoleSize = &specs.Box{Height: 24, Width: 80}
		}, "config.json: process.consoleSize: set without process.terminal"},
		{"consoleSize with terminal", func(_ *testing.T, b *config.Bundle) {
			b.Spec.Process.Terminal = true
			b.Spec.Process.ConsoleSize = &specs.Box{Height: 24, Width: 80}
		}, ""},

		// namespaces
		{"ns unknown type", func(_ *testing.T, b *config.Bundle) {
			b.Spec.Linux.Namespaces[2].Type = "foo"
		}, `config.json: linux.namespaces[2].type: "foo": unknown namespace type`},
		{"ns duplicate", func(_ *testing.T, b *config.Bundle) { addNS(b.Spec, specs.LinuxNamespace{Type: specs.PIDNamespace}) },
			`config.json: linux.namespaces[6].type: "pid": duplicate, already given by linux.namespaces[0]`},
		{"ns relative path", func(_ *testing.T, b *config.Bundle) { b.Spec.Linux.Namespaces[1].Path = "proc/1/ns/net" },
			`config.json: linux.namespaces[1].path: "proc/1/ns/net" is not an absolute path`},
		{"ns missing path", func(_ *testing.T, b *config.Bundle) { b.Spec.Linux.Namespaces[1].Path = "/nonexistent/ns/net" },
			`config.json: linux.namespaces[1].path: "/nonexistent/ns/net": no such file or directory`},
		{"ns join by path", func(_ *testing.T, b *config.Bundle) { b.Spec.Linux.Namespaces[1].Path = "/proc/self/ns/net" }, ""},
		{"time ns", func(_ *testing.T, b *config.Bundle) { addNS(b.Spec, specs.LinuxNamespace{Type: specs.TimeNamespace}) }, ""},
		{"user ns with mappings", func(_ *testing.T, b *config.Bundle) { userNS(b.Spec) }, ""},
		{"user ns without uid mappings", func(_ *testing.T, b *config.Bundle) {
			userNS(b.Spec)
			b.Spec.Linux.UIDMappings = nil
		}, "config.json: linux.uidMappings: a new user namespace needs uid mappings"},
		{"user ns without gid mappings", func(_ *testing.T, b *config.Bundle) {
			userNS(b.Spec)
			b.Spec.Linux.GIDMappings = nil
		}, "config.json: linux.gidMappings: a new user namespace needs gid mappings"},
		{"mappings without user ns", func(_ *testing.T, b *config.Bundle) {
			userNS(b.Spec)
			dropNS(b.Spec, specs.UserNamespace)
		}, "config.json: linux.uidMappings: mappings given without a user namespace"},
		{"gid mappings only without user ns", func(_ *testing.T, b *config.Bundle) {
			b.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1, Size: 1}}
		}, "config.json: linux.uidMappings: mappings given without a user namespace"},
		{"mappings with joined user ns", func(_ *testing.T, b *config.Bundle) {
			userNS(b.Spec)
			b.Spec.Linux.Namespaces[len(b.Spec.Linux.Namespaces)-1].Path = "/proc/self/ns/user"
		}, "config.json: linux.uidMappings: mappings given for a user namespace joined by path"},
		// mount namespace: what needs one (issue 9)
		{"no mount ns with mounts", func(_ *testing.T, b *config.Bundle) {
			dropNS(b.Spec, specs.MountNamespace)
		}, `config.json: mounts: 7 mount(s) given: needs a mount namespace of the container's own`},
		{"no mount ns with masked paths", func(_ *testing.T, b *config.Bundle) {
			dropNS(b.Spec, specs.MountNamespace)
			b.Spec.Mounts = nil
		}, `config.json: linux.maskedPaths: needs a mount namespace of the container's own`},
		{"no mount ns with readonly paths", func(_ *testing.T, b *config.Bundle) {
			dropNS(b.Spec, specs.MountNamespace)
			b.Spec.Mounts, b.Spec.Linux.MaskedPaths = nil, nil
		}, `config.json: linux.readonlyPaths: needs a mount namespace of the container's own`},
		{"no mount ns with readonly root", func(_ *testing.T, b *config.Bundle) {
			dropNS(b.Spec, specs.MountNamespace)
			b.Spec.Mounts, b.Spec.Linux.MaskedPaths, b.Spec.Linux.ReadonlyPaths = nil, nil, nil
			b.Spec.Root.Readonly = true
		}, `config.json: root.readonly: needs a mount namespace of the container's own`},
		{"no mount ns, nothing that needs one", func(_ *testing.T, b *config.Bundle) {
			dropNS(b.Spec, specs.MountNamespace)
			b.Spec.Mounts, b.Spec.Linux.MaskedPaths, b.Spec.Linux.ReadonlyPaths = nil, nil, nil
			b.Spec.Root.Readonly = false
		}, ""},
		{"joined mount ns from a new user ns", func(_ *testing.T, b *config.Bundle) {
			userNS(b.Spec)
			dropNS(b.Spec, specs.MountNamespace)
			addNS(b.Spec, specs.LinuxNamespace{Type: specs.MountNamespace, Path: "/proc/self/ns/mnt"})
		}, `: "/proc/self/ns/mnt": a mount namespace joined by path cannot be entered from a new user namespace`},
		{"joined user ns without mappings", func(_ *testing.T, b *config.Bundle) {
			addNS(b.Spec, specs.LinuxNamespace{Type: specs.UserNamespace, Path: "/proc/self/ns/user"})
		}, ""},
		{"mapping size zero", func(_ *testing.T, b *config.Bundle) {
			userNS(b.Spec)
			b.Spec.Linux.UIDMappings = append(b.Spec.Linux.UIDMappings, specs.LinuxIDMapping{ContainerID: 70000, HostID: 1, Size: 0})
		}, "config.json: linux.uidMappings[1].size: zero"},
		{"mapping overflow", func(_ *testing.T, b *config.Bundle) {
			userNS(b.Spec)
			b.Spec.Linux.GIDMappings[0].HostID = 1<<32 - 10
		}, "config.json: linux.gidMappings[0]: range overflows 32-bit ids"},
		{"devpts gid= unmapped in the new user ns", func(_ *testing.T, b *config.Bundle) {
			userNS(b.Spec)
			b.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}
		}, `config.json: mounts[2].options: "gid=5" (devpts on /dev/pts): gid 5 is not mapped by linux.gidMappings`},
		{"tmpfs uid= unmapped in the new user ns", func(_ *testing.T, b *config.Bundle) {
			userNS(b.Spec)
			addMount(b.Spec, specs.Mount{Destination: "/mnt", Type: "tmpfs", Source: "tmpfs", Options: []string{"uid=70000"}})
		}, `config.json: mounts[7].options: "uid=70000" (tmpfs on /mnt): uid 70000 is not mapped by linux.uidMappings`},
		{"gid= mapped in the new user ns", func(_ *testing.T, b *config.Bundle) { userNS(b.Spec) }, ""},
		{"gid= without a user ns", func(_ *testing.T, b *config.Bundle) {}, ""},
		{"spec --rootless validates", func(_ *testing.T, b *config.Bundle) {
			b.Spec = config.Default(true, 1000, 1000)
			b.Spec.Process.Terminal = false
		}, ""},

		// uts
		{"hostname without uts", func(_ *testing.T, b *config.Bundle) { dropNS(b.Spec, specs.UTSNamespace) },
			"config.json: hostname: set without a uts namespace"},
		{"domainname without uts", func(_ *testing.T, b *config.Bundle) {
			dropNS(b.Spec, specs.UTSNamespace)
			b.Spec.Hostname = ""
			b.Spec.Domainname = "example.org"
		}, "config.json: domainname: set without a uts namespace"},
		{"no names without uts", func(_ *testing.T, b *config.Bundle) {
			dropNS(b.Spec, specs.UTSNamespace)
			b.Spec.Hostname = ""
		}, ""},
		{"hostname with joined uts", func(_ *testing.T, b *config.Bundle) {
			b.Spec.Linux.Namespaces[3].Path = "/proc/self/ns/uts"
			b.Spec.Domainname = "example.org"
		}, ""},

		// time offsets
		{"timeOffsets valid", func(_ *testing.T, b *config.Bundle) {
			addNS(b.Spec, specs.LinuxNamespace{Type: specs.TimeNamespace})
			b.Spec.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: -5, Nanosecs: 999999999}, "boottime": {Secs: 10}}
		}, ""},
		{"timeOffsets without time ns", func(_ *testing.T, b *config.Bundle) {
			b.Spec.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 1}}
		}, "config.json: linux.timeOffsets: set without a new time namespace"},
		{"timeOffsets with joined time ns", func(_ *testing.T, b *config.Bundle) {
			addNS(b.Spec, specs.LinuxNamespace{Type: specs.TimeNamespace, Path: "/proc/self/ns/time"})
			b.Spec.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 1}}
		}, "config.json: linux.timeOffsets: set without a new time namespace"},
		{"timeOffsets bad clock", func(_ *testing.T, b *config.Bundle) {
			addNS(b.Spec, specs.LinuxNamespace{Type: specs.TimeNamespace})
			b.Spec.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"realtime": {Secs: 1}}
		}, "config.json: linux.timeOffsets.realtime: unknown clock"},
		{"timeOffsets nanosecs 1e9", func(_ *testing.T, b *config.Bundle) {
			addNS(b.Spec, specs.LinuxNamespace{Type: specs.TimeNamespace})
			b.Spec.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Nanosecs: 1e9}}
		}, "config.json: linux.timeOffsets.boottime.nanosecs: 1000000000 is not below one second"},

		// sysctl
		{"sysctl ipc kernel.shmmax", sysctl("kernel.shmmax", ""), ""},
		{"sysctl ipc fs.mqueue", sysctl("fs.mqueue.msg_max", ""), ""},
		{"sysctl net", sysctl("net.ipv4.ip_forward", ""), ""},
		{"sysctl net slashes", sysctl("net/ipv4/ip_forward", ""), ""},
		{"sysctl uts", sysctl("kernel.domainname", ""), ""},
		{"sysctl ipc without ipc ns", sysctl("kernel.msgmax", specs.IPCNamespace),
			"config.json: linux.sysctl.kernel.msgmax: needs a ipc namespace of the container's own"},
		{"sysctl net without net ns", sysctl("net.ipv4.ip_forward", specs.NetworkNamespace),
			"config.json: linux.sysctl.net.ipv4.ip_forward: needs a network namespace of the container's own"},
		{"sysctl uts without uts ns", func(_ *testing.T, b *config.Bundle) {
			dropNS(b.Spec, specs.UTSNamespace)
			b.Spec.Hostname = ""
			b.Spec.Linux.Sysctl = map[string]string{"kernel.hostname": "x"}
		}, "config.json: linux.sysctl.kernel.hostname: needs a uts namespace of the container's own"},
		{"sysctl net with joined net ns", func(_ *testing.T, b *config.Bundle) {
			b.Spec.Linux.Namespaces[1].Path = "/proc/self/ns/net"
			b.Spec.Linux.Sysctl = map[string]string{"net.core.somaxconn": "1024"}
		}, ""},
		{"sysctl vm.swappiness", sysctl("vm.swappiness", ""),
			"config.json: linux.sysctl.vm.swappiness: not a namespaced sysctl"},
		{"sysctl kernel.sysrq", sysctl("kernel.sysrq", ""),
			"config.json: linux.sysctl.kernel.sysrq: not a namespaced sysctl"},
		{"sysctl net prefix without dot", sysctl("netfoo", ""), "config.json: linux.sysctl.netfoo: not a namespaced sysctl"},
		{"sysctl dotdot", sysctl("net..ipv4", ""), "config.json: linux.sysctl.net..ipv4: invalid name"},
		{"sysctl slash dotdot", sysctl("net/../../vm/swappiness", ""), "config.json: linux.sysctl.net/../../vm/swappiness: invalid name"},
		{"sysctl leading slash", sysctl("/net/ipv4/ip_forward", ""), "config.json: linux.sysctl./net/ipv4/ip_forward: invalid name"},

		// mounts
		{"mount relative destination", mount(specs.Mount{Destination: "tmp", Type: "tmpfs", Source: "tmpfs"}),
			`config.json: mounts[7].destination: "tmp" is not an absolute path`},
		{"mount empty destination", mount(specs.Mount{Type: "tmpfs", Source: "tmpfs"}),
			"config.json: mounts[7].destination: empty"},
		{"mount dotdot destination", mount(specs.Mount{Destination: "/tmp/../etc", Type: "tmpfs", Source: "tmpfs"}),
			`config.json: mounts[7].destination: "/tmp/../etc" contains ".."`},
		{"mount root destination", mount(specs.Mount{Destination: "/", Type: "tmpfs", Source: "tmpfs"}),
			"config.json: mounts[7].destination: cannot mount over the container's root"},
		{"mount root destination unclean", mount(specs.Mount{Destination: "//./", Type: "tmpfs", Source: "tmpfs"}),
			"config.json: mounts[7].destination: cannot mount over the container's root"},
		{"tmpfs on /proc", func(_ *testing.T, b *config.Bundle) { b.Spec.Mounts[0].Type = "tmpfs" },
			`config.json: mounts[0].destination: only a proc filesystem may be mounted on /proc (type is "tmpfs")`},
		{"bind on /proc/", mount(specs.Mount{Destination: "/proc/", Type: "bind", Source: bindSrc}),
			`config.json: mounts[7].destination: only a proc filesystem may be mounted on /proc (type is "bind")`},
		{"tmpfs under /proc", mount(specs.Mount{Destination: "/proc/sys", Type: "tmpfs", Source: "tmpfs"}),
			`config.json: mounts[7].destination: "/proc/sys": ` + lxcfsErr},
		{"bind on /proc/self", mount(specs.Mount{Destination: "/proc/self", Type: "bind", Source: bindSrc}),
			`config.json: mounts[7].destination: "/proc/self": ` + lxcfsErr},
		{"tmpfs on lxcfs file", mount(specs.Mount{Destination: "/proc/meminfo", Type: "tmpfs", Source: "tmpfs"}),
			`config.json: mounts[7].destination: "/proc/meminfo": ` + lxcfsErr},
		// runc's checkProcMount: a procfs bound on /proc is a proc
		// filesystem, with or without a pid namespace.
		{"procfs bound on /proc", func(_ *testing.T, b *config.Bundle) {
			b.Spec.Mounts[0] = specs.Mount{Destination: "/proc", Type: "bind", Source: "/proc", Options: []string{"rbind"}}
			dropNS(b.Spec, specs.PIDNamespace)
		}, ""},
		{"bind over ns_last_pid", mount(specs.Mount{Destination: "/proc/sys/kernel/ns_last_pid", Type: "bind", Source: "/proc/sys/kernel/ns_last_pid"}), ""},
		{"bind source inside the rootfs made by an earlier mount", func(_ *testing.T, b *config.Bundle) {
			addMount(b.Spec, specs.Mount{Destination: "/b", Type: "bind", Source: filepath.Join(b.Dir, "rootfs", "made-by-a-tmpfs")})
		}, ""},
		{"bind over /proc/meminfo", mount(specs.Mount{Destination: "/proc/meminfo", Type: "bind", Source: "/proc/meminfo"}), ""},
		{"rbind option over /proc/uptime", mount(specs.Mount{Destination: "/proc/uptime", Type: "none", Source: "/proc/uptime", Options: []string{"rbind", "ro"}}), ""},
		{"bind over /proc/loadavg/ unclean", mount(specs.Mount{Destination: "/proc//loadavg/", Options: []string{"bind"}, Source: "/proc/loadavg"}), ""},
		{"bind without source", mount(specs.Mount{Destination: "/mnt", Type: "bind"}),
			"config.json: mounts[7].source: missing for a bind mount"},
		{"bind option without source", mount(specs.Mount{Destination: "/mnt", Options: []string{"rbind"}}),
			"config.json: mounts[7].source: missing for a bind mount"},
		{"bind missing source", mount(specs.Mount{Destination: "/mnt", Type: "bind", Source: "/nonexistent-carapace-src"}),
			`config.json: mounts[7].source: "/nonexistent-carapace-src": no such file or directory`},
		{"bind relative source resolved against bundle", func(t *testing.T, b *config.Bundle) {
			if err := os.WriteFile(filepath.Join(b.Dir, "hostfile"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			addMount(b.Spec, specs.Mount{Destination: "/mnt/f", Type: "bind", Source: "hostfile"})
		}, ""},
		{"bind relative source missing in bundle", func(t *testing.T, b *config.Bundle) {
			// The file exists in the test's cwd but not in the bundle.
			if _, err := os.Stat("validate_test.go"); err != nil {
				t.Skip("cwd is not the package directory")
			}
			addMount(b.Spec, specs.Mount{Destination: "/mnt/f", Type: "bind", Source: "validate_test.go"})
		}, `config.json: mounts[7].source: "validate_test.go": no such file or directory`},
		{"bind absolute source", mount(specs.Mount{Destination: "/mnt", Type: "bind", Source: bindSrc, Options: []string{"rbind", "ro"}}), ""},
		{"missing type", mount(specs.Mount{Destination: "/mnt", Source: "tmpfs"}),
			"config.json: mounts[7].type: missing (only bind mounts may omit it)"},
		{"missing type with bind option", mount(specs.Mount{Destination: "/mnt", Source: bindSrc, Options: []string{"bind"}}), ""},
		{"empty option", mount(specs.Mount{Destination: "/mnt", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", ""}}),
			"config.json: mounts[7].options[1]: empty option"},
		{"idmapped mount", mount(specs.Mount{Destination: "/mnt", Type: "bind", Source: bindSrc, Options: []string{"idmap"},
			UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}},
			GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}}), ""},
		{"idmapped mount without gid maps", mount(specs.Mount{Destination: "/mnt", Type: "bind", Source: bindSrc,
			UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}}),
			"config.json: mounts[7].gidMappings: missing: uidMappings must come with gidMappings"},
		{"idmapped tmpfs", mount(specs.Mount{Destination: "/mnt", Type: "tmpfs", Source: "tmpfs", Options: []string{"ridmap"}}),
			`config.json: mounts[7]: idmapped mount of type "tmpfs": only bind mounts can be idmapped`},
		{"idmap without maps nor user ns", mount(specs.Mount{Destination: "/mnt", Type: "bind", Source: bindSrc, Options: []string{"idmap"}}),
			"config.json: mounts[7].options: idmap/ridmap without uidMappings and gidMappings needs a new user namespace whose maps to use"},
		{"idmap with the container's maps", func(t *testing.T, b *config.Bundle) {
			userNS(b.Spec)
			addMount(b.Spec, specs.Mount{Destination: "/mnt", Type: "bind", Source: bindSrc, Options: []string{"rbind", "ridmap"}})
		}, ""},
		{"idmapped mount overflow", mount(specs.Mount{Destination: "/mnt", Type: "bind", Source: bindSrc, Options: []string{"idmap"},
			UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}},
			GIDMappings: []specs.LinuxIDMapping{{ContainerID: 1<<32 - 5, HostID: 1000, Size: 10}}}),
			"config.json: mounts[7].gidMappings[0]: range overflows 32-bit ids"},

		// devices
		{"device valid", func(_ *testing.T, b *config.Bundle) {
			b.Spec.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}, {Path: "/dev/pipe", Type: "p"}}
		}, ""},
		{"device bad type", func(_ *testing.T, b *config.Bundle) {
			b.Spec.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/fuse", Type: "x", Major: 10, Minor: 229}}
		}, `config.json: linux.devices[0].type: "x": unknown device type`},
		{"device not under /dev", func(_ *testing.T, b *config.Bundle) {
			b.Spec.Linux.Devices = []specs.LinuxDevice{{Path: "/etc/fuse", Type: "c", Major: 10, Minor: 229}}
		}, `config.json: linux.devices[0].path: "/etc/fuse" is not under /dev`},
		{"device is /dev", func(_ *testing.T, b *config.Bundle) {
			b.Spec.Linux.Devices = []specs.LinuxDevice{{Path: "/dev", Type: "c", Major: 1, Minor: 3}}
		}, `config.json: linux.devices[0].path: "/dev" is not under /dev`},
		{"device relative", func(_ *testing.T, b *config.Bundle) {
			b.Spec.Linux.Devices = []specs.LinuxDevice{{Path: "dev/fuse", Type: "c", Major: 10, Minor: 229}}
		}, `config.json: linux.devices[0].path: "dev/fuse" is not an absolute path`},
		{"device dotdot", func(_ *testing.T, b *config.Bundle) {
			b.Spec.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/../etc/x", Type: "c", Major: 10, Minor: 229}}
		}, `config.json: linux.devices[0].path: "/dev/../etc/x" contains ".."`},
		{"device negative major", func(_ *testing.T, b *config.Bundle) {
			b.Spec.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/null", Type: "c", Major: 1, Minor: 3}, {Path: "/dev/x", Type: "b", Major: -1, Minor: 0}}
		}, "config.json: linux.devices[1]: negative major or minor number"},
		{"device negative minor", func(_ *testing.T, b *config.Bundle) {
			b.Spec.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "u", Major: 1, Minor: -3}}
		}, "config.json: linux.devices[0]: negative major or minor number"},

		// hooks
		{"hooks valid", func(_ *testing.T, b *config.Bundle) {
			b.Spec.Hooks = &specs.Hooks{Poststart: []specs.Hook{{Path: "/bin/true", Timeout: intp(5)}}}
		}, ""},
		{"hook relative path", func(_ *testing.T, b *config.Bundle) {
			b.Spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/true"}, {Path: "true"}}}
		}, `config.json: hooks.createRuntime[1].path: "true" is not an absolute path`},
		{"hook empty path", func(_ *testing.T, b *config.Bundle) {
			b.Spec.Hooks = &specs.Hooks{Poststop: []specs.Hook{{}}}
		}, `config.json: hooks.poststop[0].path: "" is not an absolute path`},
		{"hook zero timeout", func(_ *testing.T, b *config.Bundle) {
			b.Spec.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/true", Timeout: intp(0)}}}
		}, "config.json: hooks.startContainer[0].timeout: 0 is not a positive number of seconds"},
		{"hook negative timeout", func(_ *testing.T, b *config.Bundle) {
			b.Spec.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "/bin/true", Timeout: intp(-3)}}}
		}, "config.json: hooks.prestart[0].timeout: -3 is not a positive number of seconds"},

		// masked / readonly paths, propagation
		{"masked relative", func(_ *testing.T, b *config.Bundle) {
			b.Spec.Linux.MaskedPaths = append(b.Spec.Linux.MaskedPaths, "proc/kcore")
		},
			`config.json: linux.maskedPaths[11]: "proc/kcore" is not an absolute path`},
		{"masked dotdot", func(_ *testing.T, b *config.Bundle) { b.Spec.Linux.MaskedPaths = []string{"/proc/../etc"} },
			`config.json: linux.maskedPaths[0]: "/proc/../etc" contains ".."`},
		{"readonly relative", func(_ *testing.T, b *config.Bundle) { b.Spec.Linux.ReadonlyPaths = []string{"/proc/sys", "sys"} },
			`config.json: linux.readonlyPaths[1]: "sys" is not an absolute path`},
		{"readonly empty", func(_ *testing.T, b *config.Bundle) { b.Spec.Linux.ReadonlyPaths = []string{""} },
			"config.json: linux.readonlyPaths[0]: empty"},
		{"propagation rslave", func(_ *testing.T, b *config.Bundle) { b.Spec.Linux.RootfsPropagation = "rslave" }, ""},
		{"propagation unknown", func(_ *testing.T, b *config.Bundle) { b.Spec.Linux.RootfsPropagation = "rfoo" },
			`config.json: linux.rootfsPropagation: "rfoo": unknown propagation`},
		{"linux nil", func(_ *testing.T, b *config.Bundle) {
			b.Spec.Linux = nil
			b.Spec.Hostname = ""
		}, "config.json: mounts: 7 mount(s) given: needs a mount namespace"},
		{"linux nil, no mounts", func(_ *testing.T, b *config.Bundle) {
			b.Spec.Linux = nil
			b.Spec.Hostname = ""
			b.Spec.Mounts = nil
			b.Spec.Root.Readonly = false
		}, ""},
	}
	if len(tests) < 40 {
		t.Fatalf("only %d rows", len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t)
			tc.mutate(t, b)
			err := config.Validate(b)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v, want valid", err)
				}
				if b.Rootfs == "" || !filepath.IsAbs(b.Rootfs) {
					t.Errorf("Rootfs = %q, want an absolute path", b.Rootfs)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: nil, want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate: %q\n  want substring %q", err, tc.want)
			}
			var fe *config.FieldError
			if !errors.As(err, &fe) {
				t.Errorf("error %T is not a *config.FieldError", err)
			}
		})
	}
}

// TestValidateCapabilityWarnings: runtime-spec 1.3 says a capability that
// cannot be mapped "MUST be logged as a warning" and runtimes "SHOULD NOT
// fail": Validate passes and records one warning per such value.
func TestValidateCapabilityWarnings(t *testing.T) {
	b := newBundle(t)
	b.Spec.Process.Capabilities.Bounding = append(b.Spec.Process.Capabilities.Bounding, "CAP_TEST")
	b.Spec.Process.Capabilities.Ambient = []string{"cap_kill", "CAP_SYS_TIME"}
	if err := config.Validate(b); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	want := []string{
		`config.json: process.capabilities.bounding[3]: unknown capability "CAP_TEST": ignored`,
		`config.json: process.capabilities.ambient[0]: unknown capability "cap_kill": ignored`,
		`config.json: process.capabilities.ambient[1]: CAP_SYS_TIME is not in both the permitted and inheritable sets: not raised`,
	}
	if strings.Join(b.Warnings, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings = %q, want %q", b.Warnings, want)
	}
}

// TestValidateErrorIsRepeatable: with several bad entries in a map (sysctl)
// or in execCPUAffinity, the error names the same one every time, the
// first by name, whatever the map's iteration order (FuzzValidate found a
// config whose error changed from one call to the next).
func TestValidateErrorIsRepeatable(t *testing.T) {
	b := newBundle(t)
	b.Spec.Linux.Sysctl = map[string]string{}
	for _, k := range []string{"vm.z", "vm.a", "kernel.sysrq", "fs.file-max", "dev.x", "abi.y", "user.q", "0"} {
		b.Spec.Linux.Sysctl[k] = "1"
	}
	b.Spec.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "x", Final: "y"}
	const want = "config.json: linux.sysctl.0: not a namespaced sysctl: setting it would change the host"
	for i := range 50 {
		if err := config.Validate(b); err == nil || err.Error() != want {
			t.Fatalf("call %d: Validate = %v, want %s", i, err, want)
		}
	}
	b.Spec.Linux.Sysctl = nil
	const wantAffinity = "config.json: process.execCPUAffinity.initial: "
	for i := range 50 {
		if err := config.Validate(b); err == nil || !strings.HasPrefix(err.Error(), wantAffinity) {
			t.Fatalf("call %d: Validate = %v, want %s...", i, err, wantAffinity)
		}
	}
}

func TestValidateRootfsResolution(t *testing.T) {
	b := newBundle(t)
	if err := config.Validate(b); err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(b.Dir, "rootfs"); b.Rootfs != want {
		t.Errorf("Rootfs = %q, want %q", b.Rootfs, want)
	}

	b = newBundle(t)
	if err := os.MkdirAll(filepath.Join(b.Dir, "x", "y"), 0o755); err != nil {
		t.Fatal(err)
	}
	b.Spec.Root.Path = "x/./y/../y/"
	if err := config.Validate(b); err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(b.Dir, "x", "y"); b.Rootfs != want {
		t.Errorf("Rootfs = %q, want %q (cleaned)", b.Rootfs, want)
	}
}

func TestLoad(t *testing.T) {
	b := newBundle(t)
	raw := []byte(`{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"args":["sh"],"cwd":"/"},` +
		`"linux":{"namespaces":[{"type":"mount"}]}}`)
	if err := os.WriteFile(filepath.Join(b.Dir, config.Name), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := config.Load(b.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Rootfs != filepath.Join(b.Dir, "rootfs") || got.Dir != b.Dir || string(got.Raw) != string(raw) {
		t.Errorf("Load = %+v", got)
	}

	if _, err := config.Load(filepath.Join(b.Dir, "nope")); err == nil || !strings.Contains(err.Error(), "directory does not exist") {
		t.Errorf("Load(missing dir) = %v", err)
	}
	if _, err := config.Load(filepath.Join(b.Dir, config.Name)); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("Load(file) = %v", err)
	}
	if _, err := config.Load(filepath.Join(b.Dir, "rootfs")); err == nil || !strings.Contains(err.Error(), "config.json not found") {
		t.Errorf("Load(no config) = %v", err)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // substrings; nil means success
	}{
		{"minimal", `{"ociVersion":"1.0.0"}`, nil},
		{"null", `null`, nil},
		{"empty", ``, []string{"config.json: empty file"}},
		{"whitespace", " \n\t ", []string{"config.json: empty file"}},
		{"broken", `{"ociVersion": "1.0.0",}`, []string{"config.json: invalid JSON at byte 24"}},
		{"truncated", `{"ociVersion": `, []string{"config.json: invalid JSON"}},
		{"trailing garbage", `{} x`, []string{"config.json: invalid JSON at byte 4"}},
		{"args string", `{"process": {"args": "sh"}}`, []string{"config.json: process.args: expected []string, got JSON string"}},
		{"terminal string", `{"process": {"terminal": "yes"}}`, []string{"process.terminal", "bool"}},
		{"uid negative", `{"process": {"user": {"uid": -1}}}`, []string{"process.user.uid", "uint32"}},
		{"namespace type number", `{"linux": {"namespaces": [{"type": 1}]}}`, []string{"linux.namespaces", "type", "number"}},
		{"top-level array", `[]`, []string{"config.json", "array"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := config.Parse([]byte(tc.in))
			if tc.want == nil {
				if err != nil || s == nil {
					t.Fatalf("Parse = %v, %v", s, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse: no error, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse: %q, want substring %q", err, w)
				}
			}
		})
	}
}
