package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/carapace-oci/carapace/tests/internal/leaks"
)

// TestLogFile: --log FILE --log-format F gets a failing create's error as
// the file's last line, appended to what the file held; stderr has it too.
func TestLogFile(t *testing.T) {
	t.Parallel()
	const field = "linux.namespaces[5].type"
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			c.Spec.Linux.Namespaces = append(c.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: "bogus"})
			c.WriteSpec()
			logPath := filepath.Join(c.HostDir, "runtime.log")
			const earlier = "an earlier line of the shim's log\n"
			if err := os.WriteFile(logPath, []byte(earlier), 0o644); err != nil {
				t.Fatal(err)
			}
			before := time.Now().Add(-time.Second)
			r := c.runtime("--log", logPath, "--log-format", format, "create", "--bundle", c.Bundle, c.ID)
			if !r.failed() {
				t.Fatalf("create with a bad namespace type: want a failure: %s", r)
			}
			if !strings.Contains(r.Stderr, field) {
				t.Errorf("stderr does not name %s: %s", field, r)
			}
			log := readFileString(logPath)
			if !strings.HasPrefix(log, earlier) {
				t.Errorf("the log file was not appended to: %q", log)
			}
			ls := lines(strings.TrimPrefix(log, earlier))
			if len(ls) == 0 {
				t.Fatalf("nothing logged to %s; stderr: %s", logPath, r.Stderr)
			}
			last := ls[len(ls)-1]
			switch format {
			case "json":
				var rec map[string]any
				if err := json.Unmarshal([]byte(last), &rec); err != nil {
					t.Fatalf("last log line is not JSON: %v: %q", err, last)
				}
				if rec["level"] != "error" {
					t.Errorf("level = %v, want \"error\": %s", rec["level"], last)
				}
				if msg, _ := rec["msg"].(string); !strings.Contains(msg, field) {
					t.Errorf("msg does not name %s: %s", field, last)
				}
				ts, _ := rec["time"].(string)
				tm, err := time.Parse(time.RFC3339Nano, ts)
				if err != nil {
					t.Errorf("time %q is not an RFC 3339 time: %v", ts, err)
				} else if tm.Before(before) || tm.After(time.Now().Add(time.Second)) {
					t.Errorf("time %v is not the time of the run", tm)
				}
			case "text":
				if strings.HasPrefix(last, "{") {
					t.Errorf("text log line looks like JSON: %q", last)
				}
				for _, want := range []string{"level=error", "msg=", field, "time="} {
					if !strings.Contains(last, want) {
						t.Errorf("text log line lacks %q: %q", want, last)
					}
				}
			}
		})
	}
}

// listEntry is one element of `list --format json`.
type listEntry struct {
	ID     string `json:"id"`
	Pid    int    `json:"pid"`
	Status string `json:"status"`
	Bundle string `json:"bundle"`
}

func (c *Container) list() (table []string, entries []listEntry, quiet []string) {
	c.t.Helper()
	r := c.runtime("list")
	if !r.ok() {
		c.t.Fatalf("list: %s", r)
	}
	table = lines(r.Stdout)
	r = c.runtime("list", "--format", "json")
	if !r.ok() {
		c.t.Fatalf("list --format json: %s", r)
	}
	if err := json.Unmarshal([]byte(r.Stdout), &entries); err != nil {
		c.t.Fatalf("list --format json: %v: %q", err, r.Stdout)
	}
	r = c.runtime("list", "-q")
	if !r.ok() {
		c.t.Fatalf("list -q: %s", r)
	}
	return table, entries, lines(r.Stdout)
}

func (c *Container) checkList(when, status string, pid int) {
	c.t.Helper()
	table, entries, quiet := c.list()
	if len(table) != 2 || !strings.HasPrefix(table[0], "ID") {
		c.t.Errorf("%s: list: want a header and one row: %q", when, table)
	} else {
		f := strings.Fields(table[1])
		if len(f) < 4 || f[0] != c.ID || f[1] != strconv.Itoa(pid) || f[2] != status || f[3] != c.Bundle {
			c.t.Errorf("%s: list row %q: want id %s, pid %d, status %s, bundle %s", when, table[1], c.ID, pid, status, c.Bundle)
		}
	}
	want := listEntry{ID: c.ID, Pid: pid, Status: status, Bundle: c.Bundle}
	if len(entries) != 1 || entries[0] != want {
		c.t.Errorf("%s: list --format json = %+v, want [%+v]", when, entries, want)
	}
	if len(quiet) != 1 || quiet[0] != c.ID {
		c.t.Errorf("%s: list -q = %q, want [%s]", when, quiet, c.ID)
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	if _, entries, quiet := c.list(); len(entries) != 0 || len(quiet) != 0 {
		t.Fatalf("list of an empty root: %+v %q", entries, quiet)
	}
	c.Spec.Process.Args = []string{"sleep", "100"}
	c.mustCreate()
	s := c.mustState()
	c.checkList("after create", "created", s.Pid)
	c.mustStart()
	c.checkList("after start", "running", s.Pid)
	if r := c.Kill("KILL"); !r.ok() {
		t.Fatalf("kill: %s", r)
	}
	c.waitStatus("stopped", 10*time.Second)
	c.checkList("after kill", "stopped", 0)
	if r := c.Delete(false); !r.ok() {
		t.Fatalf("delete: %s", r)
	}
	if _, entries, quiet := c.list(); len(entries) != 0 || len(quiet) != 0 {
		t.Errorf("list after delete: %+v %q", entries, quiet)
	}
}

// runAs runs the runtime as another user (for spec --rootless).
func runAs(t *testing.T, uid, gid uint32, dir string, args ...string) result {
	t.Helper()
	cmd := exec.Command(runtimeBin, args...)
	cmd.Dir = dir
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	res := result{Args: append([]string{runtimeBin}, args...), Code: -1}
	if err := startTracked(cmd); err != nil {
		res.Err = err
		return res
	}
	_ = waitTracked(cmd)
	res.Code = cmd.ProcessState.ExitCode()
	res.Stdout, res.Stderr = out.String(), errb.String()
	return res
}

func loadSpec(t *testing.T, path string) *specs.Spec {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &s
}

// TestSpec: the default config.json is one the runtime accepts, with no
// inheritable (nor ambient) capabilities (CVE-2022-29162) and
// noNewPrivileges; spec does not overwrite a config.json.
func TestSpec(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	cfg := filepath.Join(c.Bundle, "config.json")
	// The default bundle is the working directory.
	if r := c.runtimeOpts(cmdOpts{dir: c.Bundle}, "spec"); !r.ok() {
		t.Fatalf("spec: %s", r)
	}
	s := loadSpec(t, cfg)
	if s.Process == nil || s.Process.Capabilities == nil || s.Linux == nil || s.Root == nil {
		t.Fatalf("default spec lacks process, capabilities, root or linux: %+v", s)
	}
	if inh := s.Process.Capabilities.Inheritable; len(inh) != 0 {
		t.Errorf("default spec has inheritable capabilities %v (CVE-2022-29162)", inh)
	}
	if amb := s.Process.Capabilities.Ambient; len(amb) != 0 {
		t.Errorf("default spec has ambient capabilities %v", amb)
	}
	if !s.Process.NoNewPrivileges {
		t.Error("default spec: noNewPrivileges is not true")
	}
	if s.Root.Path != "rootfs" {
		t.Errorf("default root.path = %q, want rootfs", s.Root.Path)
	}
	if s.Linux.UIDMappings != nil || specHasNamespace(s, specs.UserNamespace) {
		t.Errorf("default (not rootless) spec has a user namespace: %+v", s.Linux)
	}

	// spec refuses to overwrite it, with --bundle too.
	sum := fileSHA256(t, cfg)
	for _, args := range [][]string{{"spec"}, {"spec", "--bundle", c.Bundle}} {
		if r := c.runtimeOpts(cmdOpts{dir: c.Bundle}, args...); !r.failed() {
			t.Errorf("%v over an existing config.json: want a failure: %s", args, r)
		}
	}
	if fileSHA256(t, cfg) != sum {
		t.Error("spec changed the existing config.json")
	}

	// The runtime accepts it (the rootfs at "rootfs" is the template's
	// copy), with terminal off and args `true`.
	s.Root.Path = c.Rootfs
	s.Process.Terminal = false
	s.Process.Args = []string{"true"}
	c.Spec = s
	c.mustRun()
	// And inside, the process has what the spec said.
	out := c.Sh(`grep -E '^(CapInh|CapAmb|NoNewPrivs):' /proc/self/status`)
	for _, want := range []string{"CapInh:\t0000000000000000", "CapAmb:\t0000000000000000", "NoNewPrivs:\t1"} {
		if !strings.Contains(out, want) {
			t.Errorf("the default spec's process: /proc/self/status lacks %q:\n%s", want, out)
		}
	}
}

func specHasNamespace(s *specs.Spec, typ specs.LinuxNamespaceType) bool {
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == typ {
			return true
		}
	}
	return false
}

func TestSpecRootless(t *testing.T) {
	t.Parallel()
	for _, id := range []uint32{0, 1000} {
		t.Run(fmt.Sprintf("uid-%d", id), func(t *testing.T) {
			t.Parallel()
			dir := newTestDir(t)
			if err := os.Chown(dir, int(id), int(id)); err != nil {
				t.Fatal(err)
			}
			r := runAs(t, id, id, dir, "spec", "--rootless")
			if errors.Is(r.Err, os.ErrPermission) {
				t.Skipf("uid %d cannot run %s: %v", id, runtimeBin, r.Err)
			}
			if !r.ok() {
				t.Fatalf("spec --rootless as %d: %s", id, r)
			}
			s := loadSpec(t, filepath.Join(dir, "config.json"))
			if s.Linux == nil || !specHasNamespace(s, specs.UserNamespace) {
				t.Fatalf("spec --rootless has no user namespace: %+v", s.Linux)
			}
			for name, ms := range map[string][]specs.LinuxIDMapping{"uidMappings": s.Linux.UIDMappings, "gidMappings": s.Linux.GIDMappings} {
				found := false
				for _, m := range ms {
					if m.HostID == id && m.ContainerID == 0 && m.Size >= 1 {
						found = true
					}
				}
				if !found {
					t.Errorf("spec --rootless as %d: %s = %+v, want the caller's id %d mapped to 0", id, name, ms, id)
				}
			}
			if inh := s.Process.Capabilities.Inheritable; len(inh) != 0 {
				t.Errorf("rootless spec has inheritable capabilities %v", inh)
			}
			if !s.Process.NoNewPrivileges {
				t.Error("rootless spec: noNewPrivileges is not true")
			}
		})
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	requireCarapace(t)
	r := runCmd(cmdOpts{}, runtimeBin, "--version")
	if !r.ok() {
		t.Fatalf("--version: %s", r)
	}
	// The shape go-runc's parser needs: three lines, the first split by
	// "version " and the others by ": " into exactly two parts each.
	ls := lines(r.Stdout)
	if len(ls) != 3 {
		t.Fatalf("--version: want 3 lines (go-runc refuses others), got %d: %q", len(ls), r.Stdout)
	}
	for i, want := range []struct{ prefix, sep string }{{"carapace version ", "version "}, {"commit: ", ": "}, {"spec: " + specs.Version, ": "}} {
		if !strings.HasPrefix(ls[i], want.prefix) || len(strings.Split(ls[i], want.sep)) != 2 || strings.HasSuffix(ls[i], " ") {
			t.Errorf("--version line %d: want %q...: %q", i+1, want.prefix, ls[i])
		}
	}
}

// TestKillAllSharedPidNS: without a pid namespace of its own, killing init
// does not take its children along; kill --all must signal every process.
func TestKillAllSharedPidNS(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.removeNamespace(specs.PIDNamespace)
	c.addBind(c.HostDir, "/host", false)
	pidsFile := filepath.Join(c.HostDir, "pids")
	c.Spec.Process.Args = []string{"sh", "-c", `sleep 100 & echo $! >> /host/pids; sleep 100 & echo $! >> /host/pids; echo $$ >> /host/pids; wait`}
	c.mustCreate()
	c.mustStart()
	var pids []int
	waitFor(t, 10*time.Second, "the container to write its pids", func() bool {
		pids = pids[:0]
		for _, l := range lines(readFileString(pidsFile)) {
			if p, err := strconv.Atoi(l); err == nil {
				pids = append(pids, p)
			}
		}
		return len(pids) == 3
	})
	if s := c.mustState(); s.Status != "running" || s.Pid != pids[2] {
		t.Fatalf("state = %+v, want running with pid %d (host pid namespace)", s, pids[2])
	}
	for _, p := range pids {
		if leaks.IsZombie(p) {
			t.Fatalf("process %d of the container is not running", p)
		}
	}
	c.killAllAndDelete(pids)
}

// TestConcurrentCreateDelete: parallel creates of one id, one wins; then
// parallel forced deletes all succeed.
func TestConcurrentCreateDelete(t *testing.T) {
	t.Parallel()
	const n = 8
	c := newContainer(t)
	c.Spec.Process.Args = []string{"sleep", "100"}
	c.WriteSpec()
	run := func(args ...string) []result {
		res := make([]result, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range res {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				res[i] = c.runtime(args...)
			}()
		}
		close(start)
		wg.Wait()
		return res
	}
	ok := 0
	for _, r := range run("create", "--bundle", c.Bundle, c.ID) {
		switch {
		case r.ok():
			ok++
			c.created = r
		case r.failed() && strings.Contains(r.Stderr, "already exists"):
		default:
			t.Errorf("a concurrent create failed otherwise than \"already exists\": %s", r)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent creates of one id succeeded, want 1", ok, n)
	}
	if s := c.mustState(); s.Status != "created" {
		t.Errorf("state after the creates = %+v, want created", s)
	}
	for _, r := range run("delete", "--force", c.ID) {
		if !r.ok() {
			t.Errorf("a concurrent delete --force failed: %s", r)
		}
	}
	if _, r := c.State(); !r.failed() {
		t.Errorf("state after delete: want a failure: %s", r)
	}
	c.checkNoLeftovers("after the concurrent deletes")
}

func TestStateOfStoppedContainer(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.Spec.Process.Args = []string{"true"}
	c.mustCreate()
	c.mustStart()
	s := c.waitStatus("stopped", 10*time.Second)
	if s.Pid != 0 || s.ID != c.ID || s.Bundle != c.Bundle {
		t.Errorf("state of the stopped container = %+v, want pid 0, id %s, bundle %s", s, c.ID, c.Bundle)
	}
	if r := c.Kill("KILL"); !r.failed() {
		t.Errorf("kill of a stopped container: want a failure: %s", r)
	}
	if r := c.Start(); !r.failed() {
		t.Errorf("start of a stopped container: want a failure: %s", r)
	}
	if r := c.Delete(false); !r.ok() {
		t.Fatalf("delete: %s", r)
	}
	if _, r := c.State(); !r.failed() {
		t.Errorf("state after delete: want a failure: %s", r)
	}
	c.checkNoLeftovers("after delete")
}

// TestPidReuseGuard: a pid whose start time differs from the recorded one
// is another process: the container is stopped and its pid left alone.
func TestPidReuseGuard(t *testing.T) {
	t.Parallel()
	requireCarapace(t) // the state file's format is Carapace's
	c := newContainer(t)
	c.Spec.Process.Args = []string{"sleep", "100"}
	c.mustCreate()
	s := c.mustState()
	if s.Status != "created" || s.Pid <= 0 {
		t.Fatalf("state after create = %+v", s)
	}
	orig := c.editState(func(doc map[string]any) {
		st, ok := doc["startTime"].(float64)
		if !ok || st == 0 {
			t.Fatalf("state.json has no startTime: %v", doc)
		}
		doc["startTime"] = st + 12345
	})

	if s := c.mustState(); s.Status != "stopped" || s.Pid != 0 {
		t.Errorf("state with another start time = %+v, want stopped, pid 0", s)
	}
	if _, entries, _ := c.list(); len(entries) != 1 || entries[0].Status != "stopped" {
		t.Errorf("list with another start time = %+v, want stopped", entries)
	}
	if r := c.Kill("KILL"); !r.failed() {
		t.Errorf("kill of a pid with another start time: want a refusal: %s", r)
	}
	if r := c.Start(); !r.failed() {
		t.Errorf("start of a pid with another start time: want a refusal: %s", r)
	}
	if leaks.IsZombie(s.Pid) {
		t.Fatalf("process %d was signalled although its start time did not match", s.Pid)
	}

	c.restoreState(orig)
	if s := c.mustState(); s.Status != "created" {
		t.Errorf("state after restoring state.json = %+v, want created", s)
	}
	if r := c.Delete(true); !r.ok() {
		t.Fatalf("delete --force: %s", r)
	}
	c.checkNoLeftovers("after delete --force")
}

// TestNoPivot: with --no-pivot the rootfs is moved over / and chrooted
// into; the container looks the same from inside.
func TestNoPivot(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	out := c.Sh(`hostname; cat /e2e-rootfs-marker; ls /; echo ---; cat /proc/self/mountinfo`)
	pivot := parseRootView(t, out)

	c2 := newContainer(t)
	c2.Spec.Process.Args = []string{"sh", "-c", `hostname; cat /e2e-rootfs-marker; ls /; echo ---; cat /proc/self/mountinfo`}
	r := c2.Run("--no-pivot")
	if !r.ok() {
		t.Fatalf("run --no-pivot: %s", r)
	}
	noPivot := parseRootView(t, r.Stdout)
	if noPivot.head != pivot.head {
		t.Errorf("--no-pivot: hostname, marker and / listing\n%s\nwant as with pivot_root:\n%s", noPivot.head, pivot.head)
	}
	if noPivot.rootLine == "" {
		t.Fatalf("--no-pivot: no mount at / in mountinfo:\n%s", r.Stdout)
	}
	mi := parseMountinfoLine(noPivot.rootLine)
	if mi.Root != c2.Rootfs {
		t.Errorf("--no-pivot: the mount at / has root %s, want the rootfs %s: %s", mi.Root, c2.Rootfs, noPivot.rootLine)
	}
	if !mi.hasOpt("ro") {
		t.Errorf("--no-pivot: / is not read-only: %s", noPivot.rootLine)
	}
	for _, mp := range []string{"/proc", "/dev", "/sys"} {
		if !noPivot.mounts[mp] {
			t.Errorf("--no-pivot: %s is not mounted", mp)
		}
	}
}

type rootView struct {
	head     string // output before the mountinfo
	rootLine string // the mountinfo line of /
	mounts   map[string]bool
}

func parseRootView(t *testing.T, out string) rootView {
	t.Helper()
	head, mi, ok := strings.Cut(out, "---")
	if !ok {
		t.Fatalf("unexpected output %q", out)
	}
	v := rootView{head: head, mounts: map[string]bool{}}
	if !strings.Contains(head, "carapace\n") || !strings.Contains(head, "inside the container rootfs") {
		t.Errorf("hostname and marker: %q", head)
	}
	for _, l := range lines(mi) {
		f := strings.Fields(l)
		if len(f) < 6 {
			continue
		}
		mp := leaks.UnescapeMountinfo(f[4])
		v.mounts[mp] = true
		if mp == "/" {
			v.rootLine = l // the last one is the top of the stack
		}
	}
	return v
}
