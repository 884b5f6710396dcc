package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/tests/internal/leaks"
	"github.com/carapace-oci/carapace/tests/internal/testenv"
)

// ---- mountinfo -----------------------------------------------------------------

// mountinfoEntry is one line of /proc/PID/mountinfo.
type mountinfoEntry struct {
	Root, Point string
	Opts        []string // per-mount options (ro, nosuid, relatime, ...)
	Optional    []string // shared:N, master:N, propagate_from:N, unbindable
	FSType      string
	Source      string
	SuperOpts   []string
	Line        string
}

func parseMountinfoLine(l string) mountinfoEntry {
	e := mountinfoEntry{Line: l}
	before, after, ok := strings.Cut(l, " - ")
	f := strings.Fields(before)
	if !ok || len(f) < 6 {
		return e
	}
	e.Root, e.Point = leaks.UnescapeMountinfo(f[3]), leaks.UnescapeMountinfo(f[4])
	e.Opts = strings.Split(f[5], ",")
	e.Optional = f[6:]
	if a := strings.Fields(after); len(a) >= 3 {
		e.FSType, e.Source, e.SuperOpts = a[0], leaks.UnescapeMountinfo(a[1]), strings.Split(a[2], ",")
	}
	return e
}

// mountinfoAt returns the top mount at mp in a mountinfo dump.
func mountinfoAt(out, mp string) (mountinfoEntry, bool) {
	var e mountinfoEntry
	found := false
	for _, l := range lines(out) {
		if m := parseMountinfoLine(l); m.Point == mp {
			e, found = m, true
		}
	}
	return e, found
}

func (m mountinfoEntry) hasOpt(o string) bool {
	for _, x := range m.Opts {
		if x == o {
			return true
		}
	}
	return false
}

func (m mountinfoEntry) hasSuperOpt(o string) bool {
	for _, x := range m.SuperOpts {
		if x == o {
			return true
		}
	}
	return false
}

// tag returns the value of an optional field ("shared" → "12"), and
// whether the field is there ("unbindable" has no value).
func (m mountinfoEntry) tag(name string) (string, bool) {
	for _, o := range m.Optional {
		if o == name {
			return "", true
		}
		if k, v, ok := strings.Cut(o, ":"); ok && k == name {
			return v, true
		}
	}
	return "", false
}

// hostSharedBind bind-mounts dir onto itself on the host and makes it a
// shared mount (the host's mounts are private here, which would make
// slave propagation invisible); it returns the peer group. The mount is
// removed at the end of the test (before the leak checks).
func hostSharedBind(t *testing.T, dir string) string {
	t.Helper()
	if err := unix.Mount(dir, dir, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind %s: %v", dir, err)
	}
	t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
	if err := unix.Mount("", dir, "", unix.MS_SHARED, ""); err != nil {
		t.Fatalf("make %s shared: %v", dir, err)
	}
	m, ok := mountinfoAt(readFileString("/proc/self/mountinfo"), dir)
	if !ok {
		t.Fatalf("%s is not in the host's mountinfo", dir)
	}
	group, ok := m.tag("shared")
	if !ok {
		t.Fatalf("%s is not shared on the host: %s", dir, m.Line)
	}
	return group
}

// ---- tests -----------------------------------------------------------------------

func TestDomainname(t *testing.T) {
	t.Parallel()
	hostDomain := readFileString("/proc/sys/kernel/domainname")
	c := newContainer(t)
	c.Spec.Domainname = "e2e.example.org"
	out := c.Sh(`cat /proc/sys/kernel/domainname; hostname`)
	if got := lines(out); len(got) != 2 || got[0] != "e2e.example.org" || got[1] != "carapace" {
		t.Errorf("domainname and hostname in the container = %q, want e2e.example.org, carapace", got)
	}
	if got := readFileString("/proc/sys/kernel/domainname"); got != hostDomain {
		t.Errorf("the host's domainname changed: %q, was %q", got, hostDomain)
	}
}

// TestRootfsPropagation: linux.rootfsPropagation shows in the optional
// fields of / in the container's mountinfo. The rootfs is made a shared
// mount on the host, so that "slave" has a master to show.
func TestRootfsPropagation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		prop string
		want string // "shared", "master", "unbindable" or "" for private
	}{
		{"", "master"}, // runc's default: rslave
		{"private", ""},
		{"rprivate", ""},
		{"slave", "master"},
		{"rslave", "master"},
		{"shared", "shared"},
		{"rshared", "shared"},
		{"unbindable", "unbindable"},
		{"runbindable", "unbindable"},
	} {
		name := tc.prop
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			hostGroup := hostSharedBind(t, c.Rootfs)
			c.Spec.Linux.RootfsPropagation = tc.prop
			out := c.Sh(`cat /proc/self/mountinfo`)
			root, ok := mountinfoAt(out, "/")
			if !ok {
				t.Fatalf("no / in the container's mountinfo:\n%s", out)
			}
			shared, isShared := root.tag("shared")
			master, isSlave := root.tag("master")
			_, isUnbindable := root.tag("unbindable")
			switch tc.want {
			case "":
				if isShared || isSlave || isUnbindable {
					t.Errorf("rootfsPropagation %q: / is not private: %s", tc.prop, root.Line)
				}
			case "master":
				if !isSlave || master != hostGroup || isShared {
					t.Errorf("rootfsPropagation %q: / should be a slave of the host's peer group %s (master:%s), not shared: %s", tc.prop, hostGroup, hostGroup, root.Line)
				}
			case "shared":
				if !isShared {
					t.Errorf("rootfsPropagation %q: / is not shared: %s", tc.prop, root.Line)
				}
				if shared == hostGroup {
					t.Errorf("rootfsPropagation %q: / is a peer of the host's mount (shared:%s): mounts in the container would reach the host: %s", tc.prop, hostGroup, root.Line)
				}
			case "unbindable":
				if !isUnbindable || isShared {
					t.Errorf("rootfsPropagation %q: / is not unbindable: %s", tc.prop, root.Line)
				}
			}
		})
	}
}

// TestBindMountOptions: one container with a bind mount per row; each
// row's options show in its mountinfo line and in what writes do.
func TestBindMountOptions(t *testing.T) {
	t.Parallel()
	c := newContainer(t)

	plain := filepath.Join(c.HostDir, "plain")
	// A tree with a submount, for the recursive options.
	tree := filepath.Join(c.HostDir, "tree")
	// A shared source, for the propagation options.
	shared := filepath.Join(c.HostDir, "shared")
	for _, d := range []string{plain, filepath.Join(tree, "sub"), shared} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mount("tmpfs", filepath.Join(tree, "sub"), "tmpfs", 0, "size=1m,mode=755"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Unmount(filepath.Join(tree, "sub"), unix.MNT_DETACH) })
	hostSharedBind(t, shared)

	type row struct {
		name    string
		src     string
		opts    []string
		check   func(t *testing.T, top, sub mountinfoEntry, writes map[string]bool)
		withSub bool   // the source has a submount at sub
		bug     string // a known runtime bug: the row is skipped
	}
	writable := func(w map[string]bool, p string) bool { return w[p] }
	rows := []row{
		{name: "ro", src: plain, opts: []string{"bind", "ro"}, check: func(t *testing.T, top, _ mountinfoEntry, w map[string]bool) {
			if !top.hasOpt("ro") || writable(w, "/mnt/ro") {
				t.Errorf("bind,ro: want a read-only mount, no write: %s (writes %v)", top.Line, w)
			}
		}},
		{name: "rw", src: plain, opts: []string{"rbind", "rw"}, check: func(t *testing.T, top, _ mountinfoEntry, w map[string]bool) {
			if !top.hasOpt("rw") || !writable(w, "/mnt/rw") {
				t.Errorf("rbind,rw: want a writable mount: %s (writes %v)", top.Line, w)
			}
		}},
		{name: "rro", src: tree, withSub: true, opts: []string{"rbind", "rro"}, check: func(t *testing.T, top, sub mountinfoEntry, w map[string]bool) {
			if !top.hasOpt("ro") || writable(w, "/mnt/rro") {
				t.Errorf("rbind,rro: the top is not read-only: %s (writes %v)", top.Line, w)
			}
			if !sub.hasOpt("ro") || writable(w, "/mnt/rro/sub") {
				t.Errorf("rbind,rro: the submount is not read-only: %s (writes %v)", sub.Line, w)
			}
		}},
		{name: "ro-rbind", src: tree, withSub: true, opts: []string{"rbind", "ro"}, check: func(t *testing.T, top, sub mountinfoEntry, w map[string]bool) {
			if !top.hasOpt("ro") || writable(w, "/mnt/ro-rbind") {
				t.Errorf("rbind,ro: the top is not read-only: %s (writes %v)", top.Line, w)
			}
			if sub.Line == "" {
				t.Errorf("rbind: the submount was not carried along")
			}
		}},
		{name: "nosuid-nodev-noexec", src: plain, opts: []string{"rbind", "nosuid", "nodev", "noexec"}, check: func(t *testing.T, top, _ mountinfoEntry, _ map[string]bool) {
			for _, o := range []string{"nosuid", "nodev", "noexec"} {
				if !top.hasOpt(o) {
					t.Errorf("%s missing: %s", o, top.Line)
				}
			}
		}},
		{name: "noatime", src: plain, opts: []string{"rbind", "noatime"}, check: func(t *testing.T, top, _ mountinfoEntry, _ map[string]bool) {
			if !top.hasOpt("noatime") || top.hasOpt("relatime") {
				t.Errorf("want noatime: %s", top.Line)
			}
		}},
		{name: "relatime", src: plain, opts: []string{"rbind", "relatime"}, check: func(t *testing.T, top, _ mountinfoEntry, _ map[string]bool) {
			if !top.hasOpt("relatime") || top.hasOpt("noatime") {
				t.Errorf("want relatime: %s", top.Line)
			}
		}},
		{name: "strictatime", src: plain, opts: []string{"rbind", "strictatime"}, check: func(t *testing.T, top, _ mountinfoEntry, _ map[string]bool) {
			// The host's mount is relatime; strict atime shows as neither.
			if top.hasOpt("relatime") || top.hasOpt("noatime") {
				t.Errorf("want strictatime (neither relatime nor noatime): %s", top.Line)
			}
		}},
		{name: "rshared", src: shared, opts: []string{"rbind", "rshared"}, check: func(t *testing.T, top, _ mountinfoEntry, _ map[string]bool) {
			if _, ok := top.tag("shared"); !ok {
				t.Errorf("want shared:N: %s", top.Line)
			}
		}},
		{name: "rslave", src: shared, opts: []string{"rbind", "rslave"}, check: func(t *testing.T, top, _ mountinfoEntry, _ map[string]bool) {
			_, slave := top.tag("master")
			_, sh := top.tag("shared")
			if !slave || sh {
				t.Errorf("want master:N and no shared:N: %s", top.Line)
			}
		}},
		{name: "private", src: shared, opts: []string{"rbind", "private"}, check: func(t *testing.T, top, _ mountinfoEntry, _ map[string]bool) {
			_, slave := top.tag("master")
			_, sh := top.tag("shared")
			if slave || sh {
				t.Errorf("want no optional fields: %s", top.Line)
			}
		}},
	}
	var script strings.Builder
	for _, r := range rows {
		dst := "/mnt/" + r.name
		c.Spec.Mounts = append(c.Spec.Mounts, specs.Mount{Destination: dst, Type: "bind", Source: r.src, Options: r.opts})
		dirs := []string{dst}
		if r.withSub {
			dirs = append(dirs, dst+"/sub")
		}
		for _, d := range dirs {
			script.WriteString(`touch ` + d + `/.w 2>/dev/null && rm ` + d + `/.w && echo "writable ` + d + `"` + "\n")
		}
	}
	script.WriteString("echo ---; cat /proc/self/mountinfo\n")
	out := c.Sh(script.String())
	head, mi, _ := strings.Cut(out, "---")
	writes := map[string]bool{}
	for _, l := range lines(head) {
		if p, ok := strings.CutPrefix(l, "writable "); ok {
			writes[p] = true
		}
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			if r.bug != "" {
				t.Skip(r.bug)
			}
			top, ok := mountinfoAt(mi, "/mnt/"+r.name)
			if !ok {
				t.Fatalf("/mnt/%s is not mounted:\n%s", r.name, mi)
			}
			sub, _ := mountinfoAt(mi, "/mnt/"+r.name+"/sub")
			r.check(t, top, sub, writes)
		})
	}
	// Nothing the container did shows on the host's side.
	if l := dirEntries(t, plain); len(l) != 0 {
		t.Errorf("the host dir holds %v after the run", l)
	}
}

func TestTmpfsSizeModeAndMqueue(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.Spec.Mounts = append(c.Spec.Mounts,
		specs.Mount{Destination: "/mnt/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m", "mode=700"}},
		specs.Mount{Destination: "/mnt/mq", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
	)
	out := c.Sh(`stat -c %a /mnt/tmp
dd if=/dev/zero of=/mnt/tmp/big bs=1k count=2048 2>/dev/null; echo "written=$(stat -c %s /mnt/tmp/big)"
echo ---; cat /proc/self/mountinfo`)
	head, mi, _ := strings.Cut(out, "---")
	hl := lines(head)
	if len(hl) < 2 || hl[0] != "700" {
		t.Errorf("mode of the tmpfs = %q, want 700", hl)
	}
	// size=1m caps what can be written.
	if len(hl) >= 2 {
		if n, err := strconv.Atoi(strings.TrimPrefix(hl[1], "written=")); err != nil || n > 1<<20 {
			t.Errorf("wrote %q bytes to a tmpfs of size=1m", hl[1])
		}
	}
	tm, ok := mountinfoAt(mi, "/mnt/tmp")
	if !ok || tm.FSType != "tmpfs" || !tm.hasSuperOpt("size=1024k") || !tm.hasSuperOpt("mode=700") {
		t.Errorf("/mnt/tmp: want a tmpfs with size=1024k,mode=700: %s", tm.Line)
	}
	mq, ok := mountinfoAt(mi, "/mnt/mq")
	if !ok || mq.FSType != "mqueue" {
		t.Errorf("/mnt/mq: want an mqueue mount: %s", mq.Line)
	}
	for _, o := range []string{"nosuid", "noexec", "nodev"} {
		if !mq.hasOpt(o) {
			t.Errorf("/mnt/mq lacks %s: %s", o, mq.Line)
		}
	}
}

// TestBindFile: a single file bound at a destination that does not exist
// (nested dirs, created inside the rootfs) and over an existing file.
func TestBindFile(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	src := filepath.Join(c.HostDir, "file.conf")
	if err := os.WriteFile(src, []byte("bound file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.Spec.Mounts = append(c.Spec.Mounts,
		specs.Mount{Destination: "/etc/e2e/nested/file.conf", Type: "bind", Source: src, Options: []string{"bind", "ro"}},
		specs.Mount{Destination: "/etc/hostname", Type: "bind", Source: src, Options: []string{"bind", "ro"}},
	)
	out := c.Sh(`cat /etc/e2e/nested/file.conf; cat /etc/hostname; stat -c %F /etc/e2e/nested/file.conf`)
	if got := lines(out); len(got) != 3 || got[0] != "bound file" || got[1] != "bound file" || got[2] != "regular file" {
		t.Errorf("bound files in the container: %q", got)
	}
	fi, err := os.Lstat(filepath.Join(c.Rootfs, "etc/e2e/nested/file.conf"))
	if err != nil || !fi.Mode().IsRegular() {
		t.Errorf("the file destination was not created inside the rootfs: %v %v", fi, err)
	}
	if got := readFileString(filepath.Join(c.Rootfs, "etc/hostname")); got != "template\n" {
		t.Errorf("the rootfs file under the bind changed: %q", got)
	}
	if got := readFileString(src); got != "bound file\n" {
		t.Errorf("the source changed: %q", got)
	}
}

// TestMountDestinationsCreated: missing destination dirs are made, nested,
// inside the rootfs (and nowhere else).
func TestMountDestinationsCreated(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	top := "e2e-created-" + testenv.RandHex(4)
	dstTmpfs := "/" + top + "/a/b/tmpfs"
	dstBind := "/" + top + "/c/d/bind"
	c.addTmpfs(dstTmpfs)
	c.addBind(c.HostDir, dstBind, true)
	out := c.Sh(`cat /proc/self/mountinfo`)
	for _, dst := range []string{dstTmpfs, dstBind} {
		if _, ok := mountinfoAt(out, dst); !ok {
			t.Errorf("%s is not mounted", dst)
		}
		if fi, err := os.Lstat(filepath.Join(c.Rootfs, dst)); err != nil || !fi.IsDir() {
			t.Errorf("%s was not created as a dir in the rootfs: %v %v", dst, fi, err)
		}
	}
	if _, err := os.Lstat("/" + top); err == nil {
		t.Errorf("/%s was created on the host", top)
		_ = os.RemoveAll("/" + top)
	}
}

func TestSysfsReadonly(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	r := c.ShResult(`touch /sys/e2e 2>&1; mkdir /sys/fs/cgroup/e2e 2>&1; echo ---; cat /proc/self/mountinfo`)
	if r.Err != nil {
		t.Fatal(r)
	}
	head, mi, _ := strings.Cut(r.Stdout, "---")
	if strings.Count(head, "Read-only file system") != 2 {
		t.Errorf("writing /sys and /sys/fs/cgroup: want two Read-only file system errors: %q", head)
	}
	sys, ok := mountinfoAt(mi, "/sys")
	if !ok || sys.FSType != "sysfs" || !sys.hasOpt("ro") {
		t.Errorf("/sys: want a read-only sysfs: %s", sys.Line)
	}
	for _, o := range []string{"nosuid", "nodev", "noexec"} {
		if !sys.hasOpt(o) {
			t.Errorf("/sys lacks %s: %s", o, sys.Line)
		}
	}
}

// cgroupView is where a container sees its processes' cgroup: the memory
// hierarchy on cgroup v1 (and hybrid) hosts, the unified one on v2 hosts.
type cgroupView struct {
	dir    string // inside the container
	fstype string
	line   func(l string) bool // the /proc/self/cgroup line of that hierarchy
}

func hostCgroupView() cgroupView {
	if fi, err := os.Stat("/sys/fs/cgroup/memory"); err == nil && fi.IsDir() {
		return cgroupView{"/sys/fs/cgroup/memory", "cgroup", func(l string) bool {
			_, rest, _ := strings.Cut(l, ":")
			ctrl, _, _ := strings.Cut(rest, ":")
			for _, c := range strings.Split(ctrl, ",") {
				if c == "memory" {
					return true
				}
			}
			return false
		}}
	}
	return cgroupView{"/sys/fs/cgroup", "cgroup2", func(l string) bool { return strings.HasPrefix(l, "0::") }}
}

// TestCgroupMount: /sys/fs/cgroup shows the container's own cgroup: its
// cgroup.procs lists only the container's processes, with and without a
// cgroup namespace (and without a pid namespace, where host pids would
// show).
func TestCgroupMount(t *testing.T) {
	t.Parallel()
	view := hostCgroupView()
	for _, tc := range []struct {
		name            string
		cgroupNS, pidNS bool
	}{
		{"cgroupns-pidns", true, true},
		{"cgroupns-host-pidns", true, false},
		{"no-cgroupns-host-pidns", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			if tc.cgroupNS {
				c.Spec.Linux.Namespaces = append(c.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
			}
			if !tc.pidNS {
				c.removeNamespace(specs.PIDNamespace)
			}
			out := c.Sh(`sleep 100 & sleeper=$!
echo "self=$$ sleeper=$sleeper"
cat ` + view.dir + `/cgroup.procs
echo ---; ls -d ` + view.dir + `/*/ 2>/dev/null
echo ---; cat /proc/self/cgroup
echo ---; cat /proc/self/mountinfo
kill $sleeper`)
			parts := strings.Split(out, "---")
			if len(parts) != 4 {
				t.Fatalf("unexpected output %q", out)
			}
			ls := lines(parts[0])
			if len(ls) == 0 {
				t.Fatalf("no output: %q", out)
			}
			var self, sleeper string
			for _, f := range strings.Fields(ls[0]) {
				k, v, _ := strings.Cut(f, "=")
				switch k {
				case "self":
					self = v
				case "sleeper":
					sleeper = v
				}
			}
			procs := ls[1:]
			// sh, sleep and cat are in the cgroup, nothing else.
			known, unknown := 0, 0
			for _, p := range procs {
				if p == self || p == sleeper {
					known++
				} else {
					unknown++
				}
			}
			if known != 2 || unknown > 1 {
				t.Errorf("%s/cgroup.procs = %q: want sh (%s), sleep (%s) and cat only", view.dir, procs, self, sleeper)
			}
			if tc.pidNS && self != "1" {
				t.Errorf("sh is pid %s in a pid namespace", self)
			}
			if sub := lines(parts[1]); len(sub) != 0 {
				t.Errorf("the container sees cgroups other than its own: %q", sub)
			}
			for _, l := range lines(parts[2]) {
				_, rest, _ := strings.Cut(l, ":")
				_, p, _ := strings.Cut(rest, ":")
				if tc.cgroupNS && p != "/" {
					t.Errorf("/proc/self/cgroup line %q: want / in a cgroup namespace", l)
				}
				if !tc.cgroupNS && view.line(l) && !strings.HasSuffix(p, "/"+c.cgroupName()) {
					t.Errorf("/proc/self/cgroup line %q: want the container's cgroup, named after its id", l)
				}
			}
			m, ok := mountinfoAt(parts[3], view.dir)
			if !ok || m.FSType != view.fstype || !m.hasOpt("ro") {
				t.Errorf("%s: want a read-only %s mount: %s", view.dir, view.fstype, m.Line)
			}
		})
	}
}

// TestBidirectionalPropagation: with linux.rootfsPropagation "rshared",
// a bind mount of a host directory that is shared on the host (a
// Kubernetes volume with Bidirectional mount propagation: containerd's
// CRI makes the source rshared and the rootfs propagation rshared) is a
// peer of the host's mount, so a mount the container makes under it
// reaches the host, as with runc (critest's "mount with 'rshared' should
// support propagation from host to container and vice versa"); it stays
// there after the container is gone, as any propagated mount does. With
// the default (rslave), it does not reach the host.
func TestBidirectionalPropagation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rootfsProp, opt string
		toHost          bool
	}{
		{"rshared", "rshared", true},
		{"", "rslave", false},
	} {
		t.Run(tc.opt, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			withSysAdmin(c)
			vol := filepath.Join(c.HostDir, "vol")
			if err := os.MkdirAll(filepath.Join(vol, "from-ctr"), 0o755); err != nil {
				t.Fatal(err)
			}
			hostSharedBind(t, vol)
			ctrMnt := filepath.Join(vol, "from-ctr")
			t.Cleanup(func() { _ = unix.Unmount(ctrMnt, unix.MNT_DETACH) })
			c.Spec.Linux.RootfsPropagation = tc.rootfsProp
			c.Spec.Mounts = append(c.Spec.Mounts, specs.Mount{Destination: "/mnt/vol", Type: "bind", Source: vol, Options: []string{"rbind", tc.opt, "rw"}})
			c.Sh("mount -t tmpfs tmpfs /mnt/vol/from-ctr && touch /mnt/vol/from-ctr/made-in-ctr")
			if got := fileExists(filepath.Join(ctrMnt, "made-in-ctr")); got != tc.toHost {
				t.Errorf("rootfsPropagation %q, mount %s: the container's mount reached the host: %t, want %t", tc.rootfsProp, tc.opt, got, tc.toHost)
			}
		})
	}
}
