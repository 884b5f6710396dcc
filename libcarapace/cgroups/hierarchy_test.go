package cgroups

import (
	"encoding/json"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/mountinfo"
)

// Real mountinfo lines and variants of them.
const (
	// This machine's hybrid layout.
	mountinfoHybrid = `22 1 0:21 / / rw,relatime - ext4 /dev/vda rw
30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
37 30 0:34 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`
	// systemd's hybrid layout: co-mounted controllers, optional fields.
	mountinfoSystemdHybrid = `25 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
26 25 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
27 26 0:24 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755
28 27 0:25 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate
29 27 0:26 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,name=systemd
33 27 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,cpu,cpuacct
34 27 0:31 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,net_cls,net_prio
35 25 0:30 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,memory
36 27 0:33 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:17 master:3 - cgroup cgroup rw,cpuset,clone_children
37 27 0:34 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,pids,release_agent=/usr/lib/agent
`
	mountinfoV2 = `24 1 253:0 / / rw,relatime shared:1 - xfs /dev/mapper/root rw
31 24 0:27 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`
	mountinfoV1 = `24 1 253:0 / / rw,relatime - xfs /dev/mapper/root rw
30 24 0:27 / /sys/fs/cgroup rw - tmpfs tmpfs rw
31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpuacct,cpu
32 30 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup ro,memory
33 30 0:30 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,noprefix,cpuset_v2_mode,cpuset
`
	// The memory hierarchy shown twice, and cgroup2 twice: the first wins.
	mountinfoDup = `34 25 0:30 /kubepods /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
35 25 0:30 / /mnt/memory rw - cgroup cgroup rw,memory
36 25 0:31 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
37 25 0:31 /sub /mnt/unified rw - cgroup2 none rw
38 25 0:32 / /mnt/other-memory rw - cgroup cgroup rw,memory,xattr
`
	mountinfoEscaped = `40 25 0:30 / /mnt/my\040cgroups/memory rw - cgroup cgroup rw,memory
41 25 0:31 /a\040b /mnt/tab\011here rw - cgroup2 cgroup2 rw
42 25 0:32 / /mnt/back\134slash rw - cgroup cgroup rw,pids
43 25 0:33 / /mnt/end\040 rw - cgroup cgroup rw,devices
44 25 0:34 / /mnt/bad\9x rw - cgroup cgroup rw,freezer
`
	mountinfoJunk = `garbage
1 2 3 - cgroup
31 30 0:28 / /sys/fs/cgroup/cpu rw - cgroup
32 30 0:29 / /sys/fs/cgroup/x rw - cgroupfs cgroup rw,cpu

33 30 0:30 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
`
)

func v1(mp string, ctrls ...string) Hierarchy {
	return Hierarchy{Mountpoint: mp, Root: "/", Controllers: ctrls}
}
func v2(mp string) Hierarchy { return Hierarchy{Mountpoint: mp, Root: "/", V2: true} }

func TestParseMountinfo(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Hierarchy
		mode Mode
	}{
		{"hybrid (this machine)", mountinfoHybrid, []Hierarchy{
			v1("/sys/fs/cgroup/cpu", "cpu"),
			v1("/sys/fs/cgroup/cpuacct", "cpuacct"),
			v1("/sys/fs/cgroup/cpuset", "cpuset"),
			v1("/sys/fs/cgroup/memory", "memory"),
			v1("/sys/fs/cgroup/devices", "devices"),
			v1("/sys/fs/cgroup/freezer", "freezer"),
			v1("/sys/fs/cgroup/blkio", "blkio"),
			v1("/sys/fs/cgroup/pids", "pids"),
			v1("/sys/fs/cgroup/systemd", "name=systemd"),
			v2("/sys/fs/cgroup/unified"),
		}, ModeHybrid},
		{"hybrid (systemd, co-mounted)", mountinfoSystemdHybrid, []Hierarchy{
			v2("/sys/fs/cgroup/unified"),
			v1("/sys/fs/cgroup/systemd", "name=systemd"),
			v1("/sys/fs/cgroup/cpu,cpuacct", "cpu", "cpuacct"),
			v1("/sys/fs/cgroup/net_cls,net_prio", "net_cls", "net_prio"),
			v1("/sys/fs/cgroup/memory", "memory"),
			v1("/sys/fs/cgroup/cpuset", "cpuset"),
			v1("/sys/fs/cgroup/pids", "pids"),
		}, ModeHybrid},
		{"pure v2", mountinfoV2, []Hierarchy{v2("/sys/fs/cgroup")}, ModeV2},
		{"v1 only", mountinfoV1, []Hierarchy{
			v1("/sys/fs/cgroup/cpu,cpuacct", "cpuacct", "cpu"),
			v1("/sys/fs/cgroup/memory", "memory"),
			v1("/sys/fs/cgroup/cpuset", "cpuset"),
		}, ModeV1},
		{"duplicates: first wins", mountinfoDup, []Hierarchy{
			{Mountpoint: "/sys/fs/cgroup/memory", Root: "/kubepods", Controllers: []string{"memory"}},
			v2("/sys/fs/cgroup/unified"),
		}, ModeHybrid},
		{"escaped", mountinfoEscaped, []Hierarchy{
			v1("/mnt/my cgroups/memory", "memory"),
			{Mountpoint: "/mnt/tab\there", Root: "/a b", V2: true},
			v1(`/mnt/back\slash`, "pids"),
			v1("/mnt/end ", "devices"),
			v1(`/mnt/bad\9x`, "freezer"),
		}, ModeHybrid},
		{"junk lines skipped", mountinfoJunk, []Hierarchy{v1("/sys/fs/cgroup/pids", "pids")}, ModeV1},
		{"no cgroups", "22 1 0:21 / / rw - ext4 /dev/vda rw\n", nil, ModeNone},
		{"empty", "", nil, ModeNone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := hierarchies(mountinfo.Parse([]byte(tc.in)))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("hierarchies =\n%s\nwant\n%s", dump(got), dump(tc.want))
			}
			if m := DetectMode(got); m != tc.mode {
				t.Errorf("DetectMode = %v, want %v", m, tc.mode)
			}
		})
	}
}

func dump(hs []Hierarchy) string {
	var b strings.Builder
	for _, h := range hs {
		b.WriteString("  ")
		j, _ := json.Marshal(h)
		b.Write(j)
		b.WriteString("\n")
	}
	return b.String()
}

func TestHierarchyName(t *testing.T) {
	tests := []struct {
		h    Hierarchy
		want string
	}{
		{v2("/sys/fs/cgroup"), ""},
		{v1("/x", "memory"), "memory"},
		{v1("/x", "cpu", "cpuacct"), "cpu,cpuacct"},
		{v1("/x", "name=systemd"), "name=systemd"},
	}
	for _, tc := range tests {
		if got := tc.h.Name(); got != tc.want {
			t.Errorf("%+v.Name() = %q, want %q", tc.h, got, tc.want)
		}
	}
}

func TestDetectMode(t *testing.T) {
	tests := []struct {
		hs   []Hierarchy
		want Mode
		str  string
	}{
		{nil, ModeNone, "none"},
		{[]Hierarchy{v1("/a", "memory")}, ModeV1, "v1"},
		{[]Hierarchy{v1("/a", "memory"), v1("/b", "pids")}, ModeV1, "v1"},
		{[]Hierarchy{v2("/a")}, ModeV2, "v2"},
		{[]Hierarchy{v2("/a"), v1("/b", "name=systemd")}, ModeHybrid, "hybrid"},
		{[]Hierarchy{v1("/b", "memory"), v2("/a")}, ModeHybrid, "hybrid"},
	}
	for _, tc := range tests {
		got := DetectMode(tc.hs)
		if got != tc.want || got.String() != tc.str {
			t.Errorf("DetectMode(%v) = %v (%q), want %v (%q)", tc.hs, got, got.String(), tc.want, tc.str)
		}
	}
}

// TestHostHierarchies reads this machine's real mountinfo and own cgroups.
func TestHostHierarchies(t *testing.T) {
	hs, err := Hierarchies()
	if err != nil {
		t.Fatal(err)
	}
	own, err := ProcCgroups("self")
	if err != nil {
		t.Fatal(err)
	}
	if DetectMode(hs) == ModeNone {
		t.Skip("no cgroup mounts")
	}
	seen := map[string]bool{}
	for _, h := range hs {
		if !path.IsAbs(h.Mountpoint) || !path.IsAbs(h.Root) {
			t.Errorf("hierarchy %+v: relative paths", h)
		}
		if h.V2 != (len(h.Controllers) == 0) {
			t.Errorf("hierarchy %+v: v2 must have no controllers, v1 some", h)
		}
		key := h.Name()
		if h.V2 {
			key = "v2"
		}
		if seen[key] {
			t.Errorf("hierarchy %q listed twice", key)
		}
		seen[key] = true
		if _, ok := own[h.Name()]; !ok {
			t.Errorf("hierarchy %q (%s) not in /proc/self/cgroup %v", h.Name(), h.Mountpoint, own)
		}
	}
}

func TestProcCgroupsMissing(t *testing.T) {
	if _, err := ProcCgroups("999999999"); err == nil {
		t.Error("ProcCgroups of a missing pid: no error")
	}
}

func TestNewManager(t *testing.T) {
	hs, err := Hierarchies()
	if err != nil {
		t.Fatal(err)
	}
	own, err := ProcCgroups("self")
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) == 0 {
		t.Skip("no cgroup mounts")
	}
	// Expected directory for a hierarchy whose mount shows root "/" (or the
	// path is under its root).
	under := func(h Hierarchy, p string) string {
		return filepath.Join(h.Mountpoint, strings.TrimPrefix(p, h.Root))
	}
	tests := []struct {
		name, cgroupsPath, id string
		want                  func(h Hierarchy) string
	}{
		{"empty is id under own", "", "ctr1", func(h Hierarchy) string { return under(h, path.Join(own[h.Name()], "ctr1")) }},
		{"relative under own", "a/b", "ctr1", func(h Hierarchy) string { return under(h, path.Join(own[h.Name()], "a/b")) }},
		{"absolute", "/carapace/ctr1", "ctr1", func(h Hierarchy) string { return under(h, "/carapace/ctr1") }},
		{"absolute unclean", "//carapace/./ctr1/", "ctr1", func(h Hierarchy) string { return under(h, "/carapace/ctr1") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewManager(tc.cgroupsPath, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, h := range hs {
				if _, ok := own[h.Name()]; !ok && !path.IsAbs(tc.cgroupsPath) {
					continue
				}
				n++
				if !strings.HasPrefix(own[h.Name()], h.Root) && h.Root != "/" {
					continue // runtime outside the mount's sub-tree: see TestNewManagerSubtree
				}
				if got, want := m.Dirs[h.Name()], tc.want(h); got != want {
					t.Errorf("Dirs[%s] = %q, want %q", h.Name(), got, want)
				}
			}
			if len(m.Dirs) != n || len(m.Created) != 0 {
				t.Errorf("Dirs = %v (want %d), Created = %v", m.Dirs, n, m.Created)
			}
		})
	}

	for _, bad := range []struct{ path, want string }{
		{"../escape", `contains ".."`},
		{"/a/../../b", `contains ".."`},
		{"a/..", `contains ".."`},
	} {
		if _, err := NewManager(bad.path, "ctr1"); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("NewManager(%q) = %v, want error %q", bad.path, err, bad.want)
		}
	}
	// A colon is just a name's, in an absolute path or in a relative
	// one: without --systemd-cgroup, "slice:prefix:name" is a directory
	// under the runtime's own cgroup, as runc's cgroupfs manager has it.
	if _, err := NewManager("/a:b", "ctr1"); err != nil {
		t.Errorf("NewManager(/a:b): %v", err)
	}
	m, err := NewManager("test.slice:cri-containerd:ctr1", "ctr1")
	if err != nil {
		t.Fatalf("NewManager(test.slice:cri-containerd:ctr1): %v", err)
	}
	for name, dir := range m.Dirs {
		if filepath.Base(dir) != "test.slice:cri-containerd:ctr1" {
			t.Errorf("Dirs[%s] = %q, want the path's own directory under the runtime's cgroup", name, dir)
		}
	}
}

// subtreeChild runs in a private mount namespace (see runSubtree): it
// replaces the cgroup mount at CARAPACE_CG_MP by a bind of its
// sub-directory CARAPACE_CG_SUB, so that mountinfo shows root /SUB, and
// prints NewManager's directory there for each path given.
func TestNewManagerSubtreeChild(t *testing.T) {
	mp, sub := os.Getenv("CARAPACE_CG_MP"), os.Getenv("CARAPACE_CG_SUB")
	if mp == "" {
		t.Skip("helper for TestNewManagerSubtree")
	}
	tmp := t.TempDir()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(unix.Mount(filepath.Join(mp, sub), tmp, "", unix.MS_BIND, ""))
	must(unix.Unmount(mp, unix.MNT_DETACH))
	must(unix.Mount(tmp, mp, "", unix.MS_MOVE, ""))
	out := map[string]string{}
	hs, err := Hierarchies()
	must(err)
	name := ""
	for _, h := range hs {
		if h.Mountpoint == mp {
			name = h.Name()
		}
	}
	for _, p := range strings.Split(os.Getenv("CARAPACE_CG_PATHS"), ",") {
		m, err := NewManager(p, "ctr1")
		must(err)
		out[p] = m.Dirs[name]
	}
	for _, h := range hs {
		if h.Mountpoint == mp {
			out["root"] = h.Root
		}
	}
	j, _ := json.Marshal(out)
	os.Stdout.Write(append([]byte("RESULT "), append(j, '\n')...))
}

// pickSubtree chooses a v1 hierarchy mounted at its root and an existing
// sub-directory of it: the test's own cgroup there if it is not the root
// (it cannot go away while the test runs), else any directory.
func pickSubtree(t *testing.T) (mp, sub string) {
	t.Helper()
	hs, err := Hierarchies()
	if err != nil {
		t.Fatal(err)
	}
	own, err := ProcCgroups("self")
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		if !h.V2 && h.Root == "/" && own[h.Name()] != "/" && own[h.Name()] != "" {
			return h.Mountpoint, strings.TrimPrefix(own[h.Name()], "/")
		}
	}
	for _, h := range hs {
		if h.V2 || h.Root != "/" {
			continue
		}
		ents, _ := os.ReadDir(h.Mountpoint)
		for _, e := range ents {
			if e.IsDir() {
				return h.Mountpoint, e.Name()
			}
		}
	}
	t.Skip("no v1 hierarchy with a sub-directory")
	return "", ""
}

// runSubtree runs TestNewManagerSubtreeChild in a new mount namespace,
// where the hierarchy at mp shows only its sub-tree sub.
func runSubtree(t *testing.T, mp, sub string, paths ...string) map[string]string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for a mount namespace")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNewManagerSubtreeChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "CARAPACE_CG_MP="+mp, "CARAPACE_CG_SUB="+sub, "CARAPACE_CG_PATHS="+strings.Join(paths, ","))
	cmd.SysProcAttr = &unix.SysProcAttr{Unshareflags: unix.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if j, ok := strings.CutPrefix(line, "RESULT "); ok {
			var dirs map[string]string
			if err := json.Unmarshal([]byte(j), &dirs); err != nil {
				t.Fatal(err)
			}
			if dirs["root"] != "/"+sub {
				t.Fatalf("child saw root %q, want /%s", dirs["root"], sub)
			}
			return dirs
		}
	}
	t.Fatalf("no result from child:\n%s", out)
	return nil
}

func TestNewManagerSubtree(t *testing.T) {
	mp, sub := pickSubtree(t)
	dirs := runSubtree(t, mp, sub, "/"+sub+"/c", "/"+sub, "/elsewhere/c")
	if want := filepath.Join(mp, "c"); dirs["/"+sub+"/c"] != want {
		t.Errorf("path under the mount's root: %q, want %q", dirs["/"+sub+"/c"], want)
	}
	if dirs["/"+sub] != mp {
		t.Errorf("path equal to the mount's root: %q, want %q", dirs["/"+sub], mp)
	}
	if want := filepath.Join(mp, "elsewhere/c"); dirs["/elsewhere/c"] != want {
		t.Errorf("path outside the mount's root: %q, want %q", dirs["/elsewhere/c"], want)
	}
}

func TestNewManagerSubtreePrefix(t *testing.T) {
	mp, sub := pickSubtree(t)
	p := "/" + sub + "X/c"
	dirs := runSubtree(t, mp, sub, p)
	if want := filepath.Join(mp, p); dirs[p] != want {
		t.Errorf("path %s beside the mount's root /%s: %q, want %q", p, sub, dirs[p], want)
	}
}

// TestMissing: the directories Create would make are those missing on the
// way from each mount point to the container's directory, parents first,
// and exactly those Create then makes (a fake tree: plain directories).
func TestMissing(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"pids/existing", "memory/a"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	m := &Manager{Mode: ModeV1,
		Dirs: map[string]string{
			"pids":   filepath.Join(root, "pids/existing/c1"),
			"memory": filepath.Join(root, "memory/a/b/c1"),
		},
		mounts: map[string]string{"pids": filepath.Join(root, "pids"), "memory": filepath.Join(root, "memory")},
	}
	want := []string{
		filepath.Join(root, "memory/a/b"),
		filepath.Join(root, "memory/a/b/c1"),
		filepath.Join(root, "pids/existing/c1"),
	}
	if got := m.Missing(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Missing() = %v, want %v", got, want)
	}
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.Created, want) {
		t.Fatalf("Create made %v, Missing said %v", m.Created, want)
	}
	if got := m.Missing(); len(got) != 0 {
		t.Fatalf("Missing() after Create = %v", got)
	}
}
