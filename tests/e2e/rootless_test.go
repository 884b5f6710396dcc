package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/carapace-oci/carapace/tests/internal/testenv"
)

// The rootless tests run the runtime as an unprivileged user the suite
// makes (once per machine; it stays): rootlessUser has subordinate ids in
// /etc/subuid and /etc/subgid, noSubidsUser has none.
const (
	rootlessUser = "carapace-rl"
	noSubidsUser = "carapace-nosub"
)

// unprivUser is a user the tests run the runtime as.
type unprivUser struct {
	name     string
	uid, gid uint32
	// subStart and subCount are its first range in /etc/subuid (and the
	// same in /etc/subgid); zero without one.
	subStart, subCount uint32
}

var (
	usersMu sync.Mutex
	users   = map[string]*unprivUser{}
)

// needUser makes (or finds) a test user; withSubids gives it 65536
// subordinate uids and gids when it has none.
func needUser(t *testing.T, name string, withSubids bool) *unprivUser {
	t.Helper()
	usersMu.Lock()
	defer usersMu.Unlock()
	if u := users[name]; u != nil {
		return u
	}
	if _, err := user.Lookup(name); err != nil {
		args := []string{"-M", "-d", "/nonexistent", "-s", "/usr/sbin/nologin"}
		if !withSubids {
			args = append(args, "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0")
		}
		// Started tracked: the suite is a subreaper, which would reap an
		// untracked child before exec.Cmd waits for it.
		if _, err := hostOutput("useradd", append(args, name)...); err != nil {
			t.Skipf("cannot make test user %s: %v", name, err)
		}
	}
	pw, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(pw.Uid)
	gid, _ := strconv.Atoi(pw.Gid)
	u := &unprivUser{name: name, uid: uint32(uid), gid: uint32(gid)}
	start, count := subRange(t, "/etc/subuid", name)
	gstart, gcount := subRange(t, "/etc/subgid", name)
	if withSubids && (count < 65536 || gcount < 65536 || start != gstart) {
		// Far above what useradd hands out (100000 + 65536 per user).
		start, count = 3000000, 65536
		for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
			appendLine(t, f, fmt.Sprintf("%s:%d:%d", name, start, count))
		}
	}
	if !withSubids && count > 0 {
		t.Fatalf("%s has subordinate ids in /etc/subuid; the test needs a user without", name)
	}
	u.subStart, u.subCount = start, count
	if withSubids {
		if _, err := exec.LookPath("newuidmap"); err != nil {
			t.Skip("newuidmap is not installed (Debian's uidmap package; scripts/install-deps.sh)")
		}
	}
	users[name] = u
	return u
}

// subRange returns name's last range in a subordinate id file.
func subRange(t *testing.T, file, name string) (uint32, uint32) {
	f, err := os.Open(file)
	if os.IsNotExist(err) {
		return 0, 0
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var start, count uint32
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), ":")
		if len(p) == 3 && p[0] == name {
			s, _ := strconv.ParseUint(p[1], 10, 32)
			c, _ := strconv.ParseUint(p[2], 10, 32)
			start, count = uint32(s), uint32(c)
		}
	}
	return start, count
}

func appendLine(t *testing.T, file, line string) {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(line + "\n"); err != nil {
		t.Fatal(err)
	}
}

// rootless turns c into a container of u: its state lives under u's
// XDG_RUNTIME_DIR (c.Root is where the runtime puts it without --root),
// and the runtime runs as u.
type rootlessContainer struct {
	*Container
	u   *unprivUser
	xdg string
}

func newRootless(t *testing.T, u *unprivUser) *rootlessContainer {
	t.Helper()
	requireCarapace(t)
	c := newContainer(t)
	rc := &rootlessContainer{Container: c, u: u, xdg: filepath.Join(c.Dir, "xdg")}
	if err := os.Mkdir(rc.xdg, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(rc.xdg, int(u.uid), int(u.gid)); err != nil {
		t.Fatal(err)
	}
	// Where the runtime puts state for a caller that is not root.
	os.Remove(c.Root)
	c.Root = filepath.Join(rc.xdg, "carapace")
	// The bundle's spec is what `spec --rootless` writes for u.
	specDir := filepath.Join(c.Dir, "spec")
	if err := os.Mkdir(specDir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chown(specDir, int(u.uid), int(u.gid))
	if r := rc.as(cmdOpts{dir: specDir}, "spec", "--rootless"); !r.ok() {
		t.Fatalf("spec --rootless: %s", r)
	}
	data, err := os.ReadFile(filepath.Join(specDir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	s.Process.Terminal = false
	s.Root.Path = "rootfs"
	c.Spec = &s
	return rc
}

// as runs the runtime as the container's user, without --root.
func (rc *rootlessContainer) as(o cmdOpts, args ...string) result {
	if o.dir == "" {
		o.dir = rc.Dir
	}
	if o.outDir == "" {
		o.outDir = rc.Dir
	}
	o.cred = &syscall.Credential{Uid: rc.u.uid, Gid: rc.u.gid, Groups: []uint32{}}
	o.env = append(o.env, "XDG_RUNTIME_DIR="+rc.xdg, "USER="+rc.u.name, "HOME=/nonexistent")
	return runCmd(o, runtimeBin, args...)
}

func (rc *rootlessContainer) run(extra ...string) result {
	rc.WriteSpec()
	return rc.as(cmdOpts{}, append(append([]string{"run", "--bundle", rc.Bundle}, extra...), rc.ID)...)
}

// TestRootlessLifecycle: an unprivileged user runs a busybox bundle made
// from `spec --rootless` as is: create, start, exec (in the container's
// user namespace), ps, kill, delete, with its state under
// $XDG_RUNTIME_DIR/carapace and no cgroup (the tree is not its to write).
func TestRootlessLifecycle(t *testing.T) {
	u := needUser(t, rootlessUser, true)
	rc := newRootless(t, u)
	rc.Spec.Process.Args = []string{"sleep", "300"}
	rc.WriteSpec()
	r := rc.as(cmdOpts{}, "create", "--bundle", rc.Bundle, rc.ID)
	rc.created = r
	if !r.ok() {
		t.Fatalf("rootless create: %s", r)
	}
	if _, err := os.Stat(filepath.Join(rc.xdg, "carapace", rc.ID, "state.json")); err != nil {
		t.Errorf("state is not under $XDG_RUNTIME_DIR/carapace: %v", err)
	}
	if r := rc.as(cmdOpts{}, "start", rc.ID); !r.ok() {
		t.Fatalf("rootless start: %s", r)
	}
	r = rc.as(cmdOpts{}, "state", rc.ID)
	var st State
	if !r.ok() || json.Unmarshal([]byte(r.Stdout), &st) != nil || st.Status != "running" {
		t.Fatalf("state: %+v %s", st, r)
	}
	// On the host, init runs as the user.
	status := readFileString(fmt.Sprintf("/proc/%d/status", st.Pid))
	if f := strings.Fields(statusField(status, "Uid")); len(f) == 0 || f[0] != strconv.Itoa(int(u.uid)) {
		t.Errorf("init's host uid is %v, want %d", f, u.uid)
	}
	r = rc.as(cmdOpts{}, "exec", rc.ID, "sh", "-c", "id -u; cat /proc/self/uid_map; readlink /proc/self/ns/user; readlink /proc/1/ns/user")
	if !r.ok() {
		t.Fatalf("rootless exec: %s", r)
	}
	out := lines(r.Stdout)
	if len(out) != 4 || out[0] != "0" || strings.Join(strings.Fields(out[1]), " ") != fmt.Sprintf("0 %d 1", u.uid) || out[2] != out[3] {
		t.Errorf("exec: want root of the container's user namespace (0 %d 1), in init's; got %q", u.uid, out)
	}
	r = rc.as(cmdOpts{}, "ps", "--format", "json", rc.ID)
	var pids []int
	if !r.ok() || json.Unmarshal([]byte(r.Stdout), &pids) != nil || len(pids) != 1 || pids[0] != st.Pid {
		t.Errorf("ps --format json: want [%d]: %s", st.Pid, r)
	}
	if r := rc.as(cmdOpts{}, "kill", rc.ID, "KILL"); !r.ok() {
		t.Fatalf("rootless kill: %s", r)
	}
	waitFor(t, 10*time.Second, "the container to stop", func() bool {
		r := rc.as(cmdOpts{}, "state", rc.ID)
		return r.ok() && strings.Contains(r.Stdout, `"stopped"`)
	})
	if r := rc.as(cmdOpts{}, "delete", rc.ID); !r.ok() {
		t.Fatalf("rootless delete: %s", r)
	}
	rc.checkNoLeftovers("after rootless delete")
}

// TestRootlessRun: run in the foreground, the exit status passed on, and
// every file the runtime made for it owned by the user.
func TestRootlessRun(t *testing.T) {
	u := needUser(t, rootlessUser, true)
	rc := newRootless(t, u)
	rc.Spec.Process.Args = []string{"sh", "-c", "id -u; exit 7"}
	r := rc.run()
	if r.Code != 7 || strings.TrimSpace(r.Stdout) != "0" {
		t.Fatalf("rootless run: want exit 7 and uid 0: %s", r)
	}
	var fi syscall.Stat_t
	if err := syscall.Stat(filepath.Join(rc.xdg, "carapace"), &fi); err != nil || fi.Uid != u.uid {
		t.Errorf("state root: owner %d (%v), want %d", fi.Uid, err, u.uid)
	}
	rc.checkNoLeftovers("after rootless run")
}

// TestRootlessResourcesNotDelegated: a limit that cannot be applied (the
// cgroup tree is not the user's) is a clear error naming the field, and
// nothing is left behind.
func TestRootlessResourcesNotDelegated(t *testing.T) {
	u := needUser(t, rootlessUser, true)
	rc := newRootless(t, u)
	rc.Spec.Process.Args = []string{"true"}
	rc.Spec.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(64 << 20))}}
	r := rc.run()
	if !r.failed() || !strings.Contains(r.Stderr, "linux.resources.memory.limit") || !strings.Contains(r.Stderr, "not delegated") {
		t.Fatalf("want an error naming linux.resources.memory.limit and the undelegated cgroup: %s", r)
	}
	rc.checkNoLeftovers("after the refused create")
}

// TestRootlessDelegatedCgroup: a cgroup delegated to the user (its
// directories chowned to it) is used: the limit is applied, and pause,
// resume and ps go through it.
func TestRootlessDelegatedCgroup(t *testing.T) {
	u := needUser(t, rootlessUser, true)
	rc := newRootless(t, u)
	parent := "carapace-deleg-" + testenv.RandHex(4)
	var made []string
	for _, ctrl := range []string{"memory", "freezer", "pids"} {
		d := filepath.Join("/sys/fs/cgroup", ctrl, parent)
		if _, err := os.Stat(filepath.Dir(d)); err != nil {
			t.Skipf("no v1 %s hierarchy on this host (the cgroup v2 leg covers a delegated v2 tree)", ctrl)
		}
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		made = append(made, d)
		for _, f := range []string{"", "cgroup.procs", "tasks"} {
			os.Chown(filepath.Join(d, f), int(u.uid), int(u.gid))
		}
	}
	t.Cleanup(func() {
		for _, d := range made {
			rmdirRetry(d)
		}
	})
	rc.Spec.Linux.CgroupsPath = "/" + parent + "/" + rc.ID
	rc.Spec.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(64 << 20))}}
	rc.Spec.Process.Args = []string{"sleep", "300"}
	rc.WriteSpec()
	if r := rc.as(cmdOpts{}, "run", "-d", "--bundle", rc.Bundle, rc.ID); !r.ok() {
		t.Fatalf("rootless run -d: %s", r)
	}
	memDir := filepath.Join("/sys/fs/cgroup/memory", parent, rc.ID)
	if v := strings.TrimSpace(readFileString(filepath.Join(memDir, "memory.limit_in_bytes"))); v != strconv.Itoa(64<<20) {
		t.Errorf("memory.limit_in_bytes in the delegated cgroup = %q, want %d", v, 64<<20)
	}
	if r := rc.as(cmdOpts{}, "pause", rc.ID); !r.ok() {
		t.Fatalf("rootless pause: %s", r)
	}
	if r := rc.as(cmdOpts{}, "state", rc.ID); !strings.Contains(r.Stdout, `"paused"`) {
		t.Errorf("state after pause: %s", r)
	}
	if r := rc.as(cmdOpts{}, "resume", rc.ID); !r.ok() {
		t.Fatalf("rootless resume: %s", r)
	}
	r := rc.as(cmdOpts{}, "ps", "--format", "json", rc.ID)
	if !r.ok() || strings.TrimSpace(r.Stdout) == "[]" {
		t.Errorf("ps: %s", r)
	}
	if r := rc.as(cmdOpts{}, "delete", "--force", rc.ID); !r.ok() {
		t.Fatalf("rootless delete --force: %s", r)
	}
	if _, err := os.Stat(memDir); !os.IsNotExist(err) {
		t.Errorf("the container's cgroup %s is still there after delete: %v", memDir, err)
	}
}

func rmdirRetry(d string) {
	for i := 0; i < 50; i++ {
		if err := syscall.Rmdir(d); err == nil || err == syscall.ENOENT {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRootlessSubordinateIDs: a non-root caller maps several ranges (its
// own id as root, its subordinate ids above) through newuidmap and
// newgidmap; files the container writes on a bind mount are owned on the
// host by the ids they map to.
func TestRootlessSubordinateIDs(t *testing.T) {
	u := needUser(t, rootlessUser, true)
	rc := newRootless(t, u)
	rc.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: u.uid, Size: 1}, {ContainerID: 1, HostID: u.subStart, Size: u.subCount}}
	rc.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: u.gid, Size: 1}, {ContainerID: 1, HostID: u.subStart, Size: u.subCount}}
	// Not rootless-specific: gid 5 is mapped now.
	for i, m := range rc.Spec.Mounts {
		if m.Destination == "/dev/pts" {
			rc.Spec.Mounts[i].Options = append(rc.Spec.Mounts[i].Options, "gid=5")
		}
	}
	vol := filepath.Join(rc.HostDir, "vol")
	if err := os.Mkdir(vol, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chown(vol, int(u.uid), int(u.gid))
	// The rootfs is root's, not the user's: the mount point must exist.
	os.Mkdir(filepath.Join(rc.Rootfs, "vol"), 0o755)
	rc.addBind(vol, "/vol", false)
	caps := rc.Spec.Process.Capabilities
	caps.Bounding = append(caps.Bounding, "CAP_CHOWN")
	caps.Effective = append(caps.Effective, "CAP_CHOWN")
	caps.Permitted = append(caps.Permitted, "CAP_CHOWN")
	rc.Spec.Process.Args = []string{"sh", "-c", "touch /vol/root && touch /vol/e2e && chown 1000:1000 /vol/e2e && cat /proc/self/uid_map /proc/self/gid_map && id -G && stat -c %g /dev/pts/ptmx"}
	r := rc.run()
	if !r.ok() {
		t.Fatalf("rootless run with subordinate ranges: %s", r)
	}
	out := lines(r.Stdout)
	want := []string{
		fmt.Sprintf("0 %d 1", u.uid), fmt.Sprintf("1 %d %d", u.subStart, u.subCount),
		fmt.Sprintf("0 %d 1", u.gid), fmt.Sprintf("1 %d %d", u.subStart, u.subCount),
	}
	for i, w := range want {
		if i >= len(out) || strings.Join(strings.Fields(out[i]), " ") != w {
			t.Fatalf("maps: want %q, got %q", want, out)
		}
	}
	for name, own := range map[string][2]uint32{"root": {u.uid, u.gid}, "e2e": {u.subStart + 999, u.subStart + 999}} {
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(vol, name), &st); err != nil {
			t.Fatal(err)
		}
		if st.Uid != own[0] || st.Gid != own[1] {
			t.Errorf("/vol/%s is %d:%d on the host, want %d:%d", name, st.Uid, st.Gid, own[0], own[1])
		}
	}
}

// TestRootlessBadMappings: what a non-root caller may not map is refused
// before anything exists, naming the field and the subordinate id file.
func TestRootlessBadMappings(t *testing.T) {
	u := needUser(t, rootlessUser, true)
	nosub := needUser(t, noSubidsUser, false)
	for _, tc := range []struct {
		name string
		u    *unprivUser
		edit func(s *specs.Spec, u *unprivUser)
		want []string
	}{
		{"beyond its subordinate ids", u, func(s *specs.Spec, u *unprivUser) {
			s.Linux.UIDMappings = append(s.Linux.UIDMappings, specs.LinuxIDMapping{ContainerID: 1, HostID: u.subStart + u.subCount - 10, Size: 100})
		}, []string{"linux.uidMappings[1]", "/etc/subuid"}},
		{"gid of another user", u, func(s *specs.Spec, u *unprivUser) {
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 1}}
		}, []string{"linux.gidMappings[0]", "/etc/subgid"}},
		{"user without subordinate ids", nosub, func(s *specs.Spec, u *unprivUser) {
			s.Linux.UIDMappings = append(s.Linux.UIDMappings, specs.LinuxIDMapping{ContainerID: 1, HostID: 100000, Size: 1000})
		}, []string{"linux.uidMappings[1]", "/etc/subuid", "none"}},
		{"overlapping ranges", u, func(s *specs.Spec, u *unprivUser) {
			s.Linux.UIDMappings = append(s.Linux.UIDMappings, specs.LinuxIDMapping{ContainerID: 0, HostID: u.subStart, Size: 10})
		}, []string{"linux.uidMappings[1]", "overlap"}},
		{"unmapped gid= mount option", u, func(s *specs.Spec, u *unprivUser) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "tmpfs", Source: "tmpfs", Options: []string{"gid=5"}})
		}, []string{"mounts[", "gid=5", "not mapped"}},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			rc := newRootless(t, tc.u)
			rc.Spec.Process.Args = []string{"true"}
			tc.edit(rc.Spec, tc.u)
			r := rc.run()
			if !r.failed() {
				t.Fatalf("want a refusal: %s", r)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.Stderr, w) {
					t.Errorf("error does not name %q: %s", w, r.Stderr)
				}
			}
			rc.checkNoLeftovers("after the refused create")
		})
	}
}

// rawUID is the user of TestRootlessDelegatedCgroupV2: a bare id, with no
// passwd entry (the cgroup v2 VM has no useradd); its container maps only
// that id, as `spec --rootless` writes.
const rawUID = 2000

// cgroup2Mount returns where the cgroup2 hierarchy is mounted (the whole
// tree on a pure v2 host, /sys/fs/cgroup/unified on a hybrid one) and
// whether the host is pure v2.
func cgroup2Mount() (string, bool) {
	var fs syscall.Statfs_t
	if syscall.Statfs("/sys/fs/cgroup", &fs) == nil && fs.Type == 0x63677270 {
		return "/sys/fs/cgroup", true
	}
	if syscall.Statfs("/sys/fs/cgroup/unified", &fs) == nil && fs.Type == 0x63677270 {
		return "/sys/fs/cgroup/unified", false
	}
	return "", false
}

// TestRootlessDelegatedCgroupV2: a cgroup2 subtree delegated to the user
// (the directory and its cgroup.procs, cgroup.subtree_control and
// cgroup.threads chowned to it, as systemd's Delegate=yes does), with the
// runtime started inside it (cgroup v2 moves a process only for a caller
// that may write the common ancestor of both cgroups): the container's
// cgroup is made under it and takes the limits (pure v2), and an exec from
// inside the subtree joins it. From outside the subtree, create fails
// with an error naming the cgroup and the rule (runc fails too), and an
// exec cannot join the cgroup: the process stays in the caller's cgroup
// with a warning naming it, as runc ignores a rootless exec's join error.
func TestRootlessDelegatedCgroupV2(t *testing.T) {
	// A cgroup of its own at the tree's root is not for a systemd host
	// (the user's instance delegates there: TestRootlessSystemdUserScope).
	skipUnderSystemd(t, "makes its own cgroupfs subtree at the root")
	mnt, pureV2 := cgroup2Mount()
	if mnt == "" {
		t.Skip("no cgroup2 hierarchy on this host")
	}
	u := &unprivUser{name: "carapace-raw", uid: rawUID, gid: rawUID}
	rc := newRootless(t, u)
	name := "carapace-deleg2-" + testenv.RandHex(4)
	parent := filepath.Join(mnt, name)
	inside := filepath.Join(parent, "runtime") // a leaf: parent enables controllers
	for _, d := range []string{parent, inside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"} {
			if err := os.Chown(filepath.Join(d, f), rawUID, rawUID); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Cleanup(func() {
		rmdirRetry(inside)
		rmdirRetry(parent)
	})
	if pureV2 {
		for _, d := range []string{mnt, parent} {
			if err := os.WriteFile(filepath.Join(d, "cgroup.subtree_control"), []byte("+memory +pids"), 0); err != nil {
				t.Fatalf("enable memory and pids in %s: %v", d, err)
			}
		}
		rc.Spec.Linux.Resources = &specs.LinuxResources{
			Memory: &specs.LinuxMemory{Limit: ptr(int64(64 << 20))},
			Pids:   &specs.LinuxPids{Limit: ptr(int64(50))},
		}
	}
	rc.Spec.Linux.CgroupsPath = "/" + name + "/" + rc.ID
	rc.Spec.Process.Args = []string{"sleep", "300"}
	rc.WriteSpec()
	ctr := filepath.Join(parent, rc.ID)
	// From outside the subtree, init cannot be moved in: the error names
	// the cgroup and the rule, and nothing is left behind.
	r := rc.as(cmdOpts{}, "create", "--bundle", rc.Bundle, rc.ID)
	if !r.failed() || !strings.Contains(r.Stderr, ctr) || !strings.Contains(r.Stderr, "common ancestor") {
		t.Errorf("rootless create from outside the delegated subtree: want an error naming %s and the common-ancestor rule: %s", ctr, r)
	}
	rc.checkNoLeftovers("after the refused create")
	in := cmdOpts{cgroup: inside}
	if r := rc.as(in, "run", "-d", "--bundle", rc.Bundle, rc.ID); !r.ok() {
		t.Fatalf("rootless run -d inside the delegated subtree: %s", r)
	}
	t.Cleanup(func() { rc.as(in, "delete", "--force", rc.ID) })
	wantCg := "0::/" + name + "/" + rc.ID
	r = rc.as(in, "state", rc.ID)
	var st State
	if !r.ok() || json.Unmarshal([]byte(r.Stdout), &st) != nil {
		t.Fatalf("state: %s", r)
	}
	if got := v2Line(readFileString(fmt.Sprintf("/proc/%d/cgroup", st.Pid))); got != wantCg {
		t.Errorf("init's cgroup is %q, want %q", got, wantCg)
	}
	if pureV2 {
		for f, want := range map[string]string{"memory.max": strconv.Itoa(64 << 20), "pids.max": "50"} {
			if got := strings.TrimSpace(readFileString(filepath.Join(ctr, f))); got != want {
				t.Errorf("%s of %s = %q, want %s", f, ctr, got, want)
			}
		}
	}
	// In the container's cgroup namespace (`spec --rootless` has one) its
	// cgroup is the root.
	wantExec := wantCg
	if rc.nsIndex(specs.CgroupNamespace) >= 0 {
		wantExec = "0::/"
	}
	r = rc.as(in, "exec", rc.ID, "cat", "/proc/self/cgroup")
	if !r.ok() {
		t.Fatalf("rootless exec inside the delegated subtree: %s", r)
	}
	if got := v2Line(r.Stdout); got != wantExec {
		t.Errorf("exec from inside the subtree: the process's cgroup is %q, want the container's %q", got, wantExec)
	}
	r = rc.as(cmdOpts{}, "exec", rc.ID, "cat", "/proc/self/cgroup")
	if !r.ok() {
		t.Fatalf("rootless exec from outside the delegated subtree: %s", r)
	}
	if got := v2Line(r.Stdout); got == wantExec {
		t.Errorf("exec from outside the subtree: the process is in the container's cgroup %q; the kernel should have refused the move", got)
	}
	if !strings.Contains(r.Stderr, "stays in the caller's cgroup") || !strings.Contains(r.Stderr, ctr) {
		t.Errorf("exec from outside the subtree: want a warning naming %s: %s", ctr, r)
	}
	if r := rc.as(in, "delete", "--force", rc.ID); !r.ok() {
		t.Fatalf("rootless delete --force: %s", r)
	}
	if _, err := os.Stat(ctr); !os.IsNotExist(err) {
		t.Errorf("the container's cgroup %s is still there after delete: %v", ctr, err)
	}
}

// v2Line is the cgroup2 line ("0::path") of a /proc/PID/cgroup.
func v2Line(s string) string {
	for _, l := range lines(s) {
		if strings.HasPrefix(l, "0::") {
			return l
		}
	}
	return ""
}
