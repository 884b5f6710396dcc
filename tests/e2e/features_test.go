package e2e

import (
	"encoding/json"
	"net"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
)

// TestFeatures: `features` describes what the runtime really does: every
// mount option it lists is accepted on a bind mount, and every capability
// and namespace type it lists is accepted in a config.
func TestFeatures(t *testing.T) {
	requireCarapace(t)
	r := runCmd(cmdOpts{}, runtimeBin, "features")
	if !r.ok() {
		t.Fatalf("features: %s", r)
	}
	var f features.Features
	if err := json.Unmarshal([]byte(r.Stdout), &f); err != nil {
		t.Fatalf("features output is not features JSON: %v\n%s", err, r.Stdout)
	}
	if f.OCIVersionMin != "1.0.0" || f.OCIVersionMax != specs.Version || len(f.Hooks) != 6 || f.Linux == nil {
		t.Fatalf("features: %+v", f)
	}
	if len(f.Linux.Namespaces) != 8 || len(f.Linux.Capabilities) < 41 {
		t.Errorf("namespaces %v, %d capabilities", f.Linux.Namespaces, len(f.Linux.Capabilities))
	}
	if cg := f.Linux.Cgroup; cg == nil || cg.Systemd == nil || !*cg.Systemd || cg.V1 == nil || !*cg.V1 || cg.V2 == nil || !*cg.V2 {
		t.Errorf("cgroup: want v1, v2 and the systemd driver: %+v", cg)
	}
	sc := f.Linux.Seccomp
	if sc == nil || sc.Enabled == nil || !*sc.Enabled || len(sc.Actions) < 8 || len(sc.Operators) != 7 ||
		!slices.Contains(sc.Archs, string(nativeSeccompArch())) || !slices.Contains(sc.KnownFlags, "SECCOMP_FILTER_FLAG_LOG") {
		t.Errorf("seccomp: want it enabled, with the actions, operators, flags and this host's architecture: %+v", sc)
	}
	if sc != nil {
		// Every action, operator, architecture and supported flag listed is
		// accepted in a profile. The rules are on syslog, which `true`
		// does not call.
		for _, a := range sc.Actions {
			t.Run("seccomp-action-"+a, func(t *testing.T) {
				t.Parallel()
				runWithProfile(t, &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
					Syscalls: []specs.LinuxSyscall{{Names: []string{"syslog"}, Action: specs.LinuxSeccompAction(a)}}}, a == string(specs.ActNotify))
			})
		}
		for _, op := range sc.Operators {
			t.Run("seccomp-operator-"+op, func(t *testing.T) {
				t.Parallel()
				runWithProfile(t, &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
					Syscalls: []specs.LinuxSyscall{{Names: []string{"syslog"}, Action: specs.ActErrno,
						Args: []specs.LinuxSeccompArg{{Index: 0, Value: 1, ValueTwo: 1, Op: specs.LinuxSeccompOperator(op)}}}}}, false)
			})
		}
		t.Run("seccomp-archs-and-flags", func(t *testing.T) {
			t.Parallel()
			p := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
				Syscalls: []specs.LinuxSyscall{{Names: []string{"syslog"}, Action: specs.ActErrno}}}
			for _, a := range sc.Archs {
				p.Architectures = append(p.Architectures, specs.Arch(a))
			}
			for _, fl := range sc.SupportedFlags {
				p.Flags = append(p.Flags, specs.LinuxSeccompFlag(fl))
			}
			runWithProfile(t, p, false)
		})
	}
	for _, opt := range f.MountOptions {
		t.Run("mount-option-"+opt, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			src := newTestDir(t)
			o := []string{"rbind", opt}
			c.Spec.Mounts = append(c.Spec.Mounts, specs.Mount{Destination: "/mnt/x", Type: "bind", Source: src, Options: o})
			c.Spec.Process.Args = []string{"true"}
			if r := c.Run(); !r.ok() {
				t.Errorf("a bind mount with %v, listed by features, fails: %s", o, r)
			}
		})
	}
	t.Run("all-capabilities", func(t *testing.T) {
		c := newContainer(t)
		c.Spec.Process.Capabilities.Bounding = f.Linux.Capabilities
		c.Spec.Process.Args = []string{"true"}
		if r := c.Run(); !r.ok() {
			t.Errorf("the listed capabilities in the bounding set fail: %s", r)
		}
	})
}

func nativeSeccompArch() specs.Arch {
	return map[string]specs.Arch{"amd64": specs.ArchX86_64, "arm64": specs.ArchAARCH64, "386": specs.ArchX86, "arm": specs.ArchARM}[runtime.GOARCH]
}

// runWithProfile runs `true` under a profile; with listener, a unix socket
// listens at linux.seccomp.listenerPath (SCMP_ACT_NOTIFY needs one).
func runWithProfile(t *testing.T, p *specs.LinuxSeccomp, listener bool) {
	t.Helper()
	c := newContainer(t)
	if listener {
		p.ListenerPath = filepath.Join(c.HostDir, "agent.sock")
		l, err := net.Listen("unix", p.ListenerPath)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go func() {
			// Take the runtime's message and drop it.
			if conn, err := l.Accept(); err == nil {
				buf := make([]byte, 4096)
				conn.Read(buf)
				conn.Close()
			}
		}()
	}
	c.Spec.Linux.Seccomp = p
	c.Spec.Process.Args = []string{"true"}
	if r := c.Run(); !r.ok() {
		t.Errorf("a profile with what features lists fails: %s", r)
	}
}
