package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestHostname(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.Spec.Hostname = "e2e-host-name"
	if got := strings.TrimSpace(c.Sh("hostname; cat /proc/sys/kernel/hostname")); got != "e2e-host-name\ne2e-host-name" {
		t.Fatalf("hostname inside = %q, want e2e-host-name twice", got)
	}
}

func TestPIDNamespaceInit(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	if got := strings.TrimSpace(c.Sh("echo $$")); got != "1" {
		t.Fatalf("the container process has pid %q in its namespace, want 1", got)
	}
}

func TestNetNamespaceOnlyLoopback(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	out := c.Sh("cat /proc/net/dev; echo ---; ls /sys/class/net")
	dev, sys, _ := strings.Cut(out, "---")
	var ifaces []string
	for _, l := range lines(dev) {
		if name, _, ok := strings.Cut(l, ":"); ok && !strings.Contains(name, "|") {
			ifaces = append(ifaces, strings.TrimSpace(name))
		}
	}
	if strings.Join(ifaces, ",") != "lo" {
		t.Errorf("/proc/net/dev lists %v, want only lo", ifaces)
	}
	if strings.TrimSpace(sys) != "lo" {
		t.Errorf("/sys/class/net lists %q, want only lo", sys)
	}
}

// nsScript prints "<type> <link>" for each namespace of the process.
const nsScript = `for n in pid net ipc uts mnt cgroup user time; do echo "$n $(readlink /proc/self/ns/$n)"; done`

func parseNS(t *testing.T, out string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, l := range lines(out) {
		k, v, _ := strings.Cut(l, " ")
		m[k] = v
	}
	return m
}

func hostNS(t *testing.T, typ string) string {
	t.Helper()
	l, err := os.Readlink("/proc/self/ns/" + typ)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestNamespacesNewOrInherited: a namespace listed without a path is new,
// one not listed is the host's.
func TestNamespacesNewOrInherited(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	inside := parseNS(t, c.Sh(nsScript))
	for _, typ := range []string{"pid", "net", "ipc", "uts", "mnt"} {
		if inside[typ] == "" || inside[typ] == hostNS(t, typ) {
			t.Errorf("%s namespace inside is %q, host's is %q: want a new one", typ, inside[typ], hostNS(t, typ))
		}
	}
	for _, typ := range []string{"cgroup", "user", "time"} {
		if inside[typ] != hostNS(t, typ) {
			t.Errorf("%s namespace inside is %q, want the host's %q (not in the spec)", typ, inside[typ], hostNS(t, typ))
		}
	}
}

func TestUserNamespaceMappings(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.Spec.Linux.Namespaces = append(c.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	c.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	c.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	// The cgroup v1 hierarchies cannot be mounted from a user namespace
	// without a cgroup namespace.
	c.removeMount("/sys/fs/cgroup")
	out := c.Sh(`cat /proc/self/uid_map; echo ---; cat /proc/self/gid_map; echo ---; id -u; readlink /proc/self/ns/user`)
	parts := strings.Split(out, "---")
	if len(parts) != 3 {
		t.Fatalf("unexpected output %q", out)
	}
	for i, name := range []string{"uid_map", "gid_map"} {
		if got := strings.Join(strings.Fields(parts[i]), " "); got != "0 100000 65536" {
			t.Errorf("%s = %q, want \"0 100000 65536\"", name, got)
		}
	}
	rest := lines(parts[2])
	if len(rest) != 2 || rest[0] != "0" || rest[1] == hostNS(t, "user") {
		t.Errorf("id -u and user ns = %q: want uid 0 in a new user namespace", rest)
	}
}

func TestCgroupNamespace(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.Spec.Linux.Namespaces = append(c.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	out := c.Sh("cat /proc/self/cgroup")
	ls := lines(out)
	if len(ls) == 0 {
		t.Fatal("empty /proc/self/cgroup")
	}
	for _, l := range ls {
		if !strings.HasSuffix(l, ":/") {
			t.Errorf("/proc/self/cgroup line %q: want the path / in a cgroup namespace", l)
		}
	}
}

func TestTimeNamespaceOffsets(t *testing.T) {
	t.Parallel()
	requireCarapace(t) // runc 1.1.5 has no time namespace support
	c := newContainer(t)
	const off = 1000000
	c.Spec.Linux.Namespaces = append(c.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
	// /proc/uptime reads CLOCK_BOOTTIME, so that is the offset it shows.
	c.Spec.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{
		"monotonic": {Secs: off},
		"boottime":  {Secs: off},
	}
	out := c.Sh("cat /proc/self/timens_offsets; echo ---; cat /proc/uptime")
	offsets, uptime, _ := strings.Cut(out, "---")
	got := map[string]string{}
	for _, l := range lines(offsets) {
		f := strings.Fields(l)
		if len(f) == 3 {
			got[f[0]] = f[1] + " " + f[2]
		}
	}
	want := fmt.Sprintf("%d 0", off)
	if got["monotonic"] != want || got["boottime"] != want {
		t.Errorf("timens_offsets = %q, want monotonic and boottime %q", offsets, want)
	}
	inside := parseUptime(t, uptime)
	host := parseUptime(t, readFileString("/proc/uptime"))
	if d := inside - host; d < off-60 || d > off+60 {
		t.Errorf("uptime inside %.0f, outside %.0f: difference %.0f, want about %d", inside, host, d, off)
	}
}

func parseUptime(t *testing.T, s string) float64 {
	t.Helper()
	f := strings.Fields(s)
	if len(f) == 0 {
		t.Fatalf("bad /proc/uptime %q", s)
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// persistentNetNS creates a network namespace bind-mounted on a file under
// the test's dir, and removes it at the end of the test.
func persistentNetNS(t *testing.T, c *Container) string {
	t.Helper()
	path := filepath.Join(c.HostDir, "netns")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := hostOutput("unshare", "--net="+path, "true"); err != nil {
		t.Fatalf("making a network namespace: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(path, unix.MNT_DETACH); err != nil {
			t.Errorf("unmounting %s: %v", path, err)
		}
	})
	return path
}

func nsLinkOfFile(t *testing.T, typ, path string) string {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s:[%d]", typ, st.Ino)
}

func TestJoinNamespaceByPath(t *testing.T) {
	t.Parallel()
	t.Run("bind-mounted-netns", func(t *testing.T) {
		t.Parallel()
		c := newContainer(t)
		nsPath := persistentNetNS(t, c)
		c.setNamespace(specs.NetworkNamespace, nsPath)
		got := strings.TrimSpace(c.Sh("readlink /proc/self/ns/net"))
		if want := nsLinkOfFile(t, "net", nsPath); got != want {
			t.Fatalf("net namespace inside = %q, want the joined %q", got, want)
		}
	})
	t.Run("another-container", func(t *testing.T) {
		t.Parallel()
		a := newContainer(t)
		a.Spec.Hostname = "sandbox-a"
		a.Spec.Process.Args = []string{"sleep", "1000"}
		a.mustCreate()
		pid := a.mustState().Pid

		b := newContainer(t)
		b.Spec.Hostname = ""
		for _, typ := range []specs.LinuxNamespaceType{specs.NetworkNamespace, specs.UTSNamespace, specs.IPCNamespace} {
			b.setNamespace(typ, fmt.Sprintf("/proc/%d/ns/%s", pid, nsFile(typ)))
		}
		inside := parseNS(t, b.Sh(nsScript+"; echo host $(hostname)"))
		for _, typ := range []string{"net", "uts", "ipc"} {
			want, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, typ))
			if err != nil {
				t.Fatal(err)
			}
			if inside[typ] != want {
				t.Errorf("%s namespace = %q, want container a's %q", typ, inside[typ], want)
			}
		}
		if inside["host"] != "sandbox-a" {
			t.Errorf("hostname in the joined uts namespace = %q, want sandbox-a", inside["host"])
		}
	})
}

func nsFile(typ specs.LinuxNamespaceType) string {
	switch typ {
	case specs.NetworkNamespace:
		return "net"
	case specs.MountNamespace:
		return "mnt"
	default:
		return string(typ)
	}
}
