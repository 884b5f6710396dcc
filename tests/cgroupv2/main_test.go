package cgroupv2

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/tests/internal/leaks"
	"github.com/carapace-oci/carapace/tests/internal/subreaper"
	"github.com/carapace-oci/carapace/tests/internal/testenv"
)

// cgroupMount is where the (single, v2) hierarchy is mounted.
const cgroupMount = "/sys/fs/cgroup"

// cmdTimeout bounds every runtime command: the VM is emulated (TCG), so it
// is generous, but a hung runtime still fails a test instead of the run.
const cmdTimeout = 60 * time.Second

var (
	// notV2 says why this is not a pure cgroup v2 host ("" when it is).
	notV2 string
	// skipReason, when set, makes every container test skip.
	skipReason string
	// runtimeBin is the absolute path of the runtime under test.
	runtimeBin string
	// globalRoot holds every test's bundles and state roots.
	globalRoot string
	// rootfsDir is the busybox rootfs, shared read-only by all containers.
	rootfsDir string
	// ownCgroup is this test process's cgroup (relative paths start there).
	ownCgroup string

	idsMu  sync.Mutex
	allIDs []string
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	notV2 = pureV2()
	if notV2 != "" {
		skipReason = "not a pure cgroup v2 host: " + notV2 +
			"; these tests run in a VM with a pure v2 hierarchy: tests/vm/cgroupv2.sh"
		return m.Run()
	}
	bin, skip, err := testenv.Prepare("cgroup v2")
	if err != nil {
		fmt.Fprintf(os.Stderr, "cgroupv2: %v\n", err)
		return 1
	}
	runtimeBin = bin
	if skip != "" {
		skipReason = skip
		return m.Run()
	}
	own, err := procCgroup("self")
	if err != nil {
		fmt.Fprintf(os.Stderr, "cgroupv2: own cgroup: %v\n", err)
		return 1
	}
	ownCgroup = own

	// In the VM, PID 1 is a shell that does not reap orphans: orphaned
	// container processes must be re-parented to us, and reaped by us.
	if err := subreaper.Become(); err != nil {
		fmt.Fprintf(os.Stderr, "cgroupv2: PR_SET_CHILD_SUBREAPER: %v\n", err)
		return 1
	}

	globalRoot, err = os.MkdirTemp("", "carapace-v2-")
	if err == nil {
		err = os.Chmod(globalRoot, 0o755)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "cgroupv2: %v\n", err)
		return 1
	}
	if err := copyRuntimeFrom9p(); err != nil {
		fmt.Fprintf(os.Stderr, "cgroupv2: %v\n", err)
		_ = os.RemoveAll(globalRoot)
		return 1
	}
	rootfsDir = filepath.Join(globalRoot, "rootfs")
	if err := buildRootfs(rootfsDir); err != nil {
		fmt.Fprintf(os.Stderr, "cgroupv2: building the busybox rootfs: %v\n", err)
		_ = os.RemoveAll(globalRoot)
		return 1
	}

	code := m.Run()

	// (e) nothing left behind: no cgroup named after a test container
	// anywhere in the hierarchy, no container process, no orphan.
	ids := testIDs()
	if leaks := globalLeaks(ids); len(leaks) > 0 {
		fmt.Fprintf(os.Stderr, "cgroupv2: LEAK CHECK FAILED: the run left %d thing(s) behind:\n", len(leaks))
		for _, l := range leaks {
			fmt.Fprintf(os.Stderr, "  - %s\n", l)
		}
		code = 1
		reclaim(ids)
	} else {
		fmt.Printf("cgroupv2: leak check passed: no cgroup under %s named after any of the %d test containers, no container process left\n",
			cgroupMount, len(ids))
	}
	if mps := leaks.MountPointsUnder(globalRoot); len(mps) > 0 {
		fmt.Fprintf(os.Stderr, "cgroupv2: not removing %s, still mounted under it: %v\n", globalRoot, mps)
		return 1
	}
	if err := os.RemoveAll(globalRoot); err != nil {
		fmt.Fprintf(os.Stderr, "cgroupv2: removing %s: %v\n", globalRoot, err)
		code = 1
	}
	return code
}

// pureV2 returns "" on a pure cgroup v2 host, else what the host has.
func pureV2() string {
	var st unix.Statfs_t
	if err := unix.Statfs(cgroupMount, &st); err != nil {
		return fmt.Sprintf("statfs %s: %v", cgroupMount, err)
	}
	var v1 []string
	if data, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			_, post, ok := strings.Cut(line, " - ")
			if f := strings.Fields(post); ok && len(f) > 0 && f[0] == "cgroup" {
				v1 = append(v1, strings.Fields(line)[4])
			}
		}
	}
	if st.Type != unix.CGROUP2_SUPER_MAGIC {
		what := fmt.Sprintf("%s is not cgroup2 (fs magic %#x)", cgroupMount, st.Type)
		if st.Type == unix.TMPFS_MAGIC {
			what = cgroupMount + " is a tmpfs"
		}
		if len(v1) > 0 {
			what += fmt.Sprintf(" with %d cgroup v1 hierarchies", len(v1))
		}
		var u unix.Statfs_t
		if unix.Statfs(cgroupMount+"/unified", &u) == nil && u.Type == unix.CGROUP2_SUPER_MAGIC {
			what += " and cgroup2 at " + cgroupMount + "/unified (hybrid)"
		}
		return what
	}
	if len(v1) > 0 {
		return fmt.Sprintf("cgroup v1 hierarchies are mounted too (%s)", strings.Join(v1, ", "))
	}
	return ""
}

// copyRuntimeFrom9p copies the runtime binary into globalRoot when it is on
// a 9p share (as in the VM): every exec of a binary on 9p reads it again,
// and that made each runtime command about 5x slower under emulation.
func copyRuntimeFrom9p() error {
	if fsTypeOf(runtimeBin) != "9p" {
		return nil
	}
	data, err := os.ReadFile(runtimeBin)
	if err != nil {
		return err
	}
	dst := filepath.Join(globalRoot, "bin", filepath.Base(runtimeBin))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		return err
	}
	fmt.Printf("cgroupv2: runtime under test: %s (%d bytes), copied to %s (off the 9p share)\n", runtimeBin, len(data), dst)
	runtimeBin = dst
	return nil
}

// fsTypeOf returns the type of the mount that holds path, from mountinfo
// (statfs will not do: 9p reports the type of the host's file system).
func fsTypeOf(path string) string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	best, typ := -1, ""
	for _, line := range strings.Split(string(data), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if !ok || len(pf) < 5 || len(qf) < 1 {
			continue
		}
		mp := pf[4]
		if (path == mp || mp == "/" || strings.HasPrefix(path, mp+"/")) && len(mp) >= best {
			best, typ = len(mp), qf[0]
		}
	}
	return typ
}

// procCgroup returns the v2 cgroup path ("0::PATH") of a process, as seen
// from our cgroup namespace.
func procCgroup(pid string) (string, error) {
	data, err := os.ReadFile(filepath.Join("/proc", pid, "cgroup"))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("/proc/%s/cgroup has no cgroup v2 line: %q", pid, data)
}

// ---- subreaper --------------------------------------------------------------

// startTracked and waitTracked keep the reaper off the tests' own children.
func startTracked(cmd *exec.Cmd) error { return subreaper.Start(cmd) }

func waitTracked(cmd *exec.Cmd) error { return subreaper.Wait(cmd) }

// ---- rootfs -----------------------------------------------------------------

// ---- running the runtime ----------------------------------------------------

type result struct {
	Args    []string
	Stdout  string
	Stderr  string
	Code    int   // exit code, -1 when it did not exit normally
	Err     error // could not start, or timed out
	Elapsed time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("`%s`: exit %d, err %v (%v)\n--- stdout:\n%s\n--- stderr:\n%s",
		strings.Join(r.Args, " "), r.Code, r.Err, r.Elapsed.Round(time.Millisecond), r.Stdout, r.Stderr)
}

func (r result) ok() bool { return r.Err == nil && r.Code == 0 }

var outSeq atomic.Int64

// runIn runs a command with stdin from /dev/null and stdout/stderr going to
// files in dir (not pipes: a created container inherits them and outlives
// the command).
func runIn(dir string, name string, args ...string) result {
	res := result{Args: append([]string{name}, args...), Code: -1}
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	n := outSeq.Add(1)
	outPath := filepath.Join(dir, fmt.Sprintf("cmd%03d.stdout", n))
	errPath := filepath.Join(dir, fmt.Sprintf("cmd%03d.stderr", n))
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for _, p := range []string{outPath, errPath} {
		f, err := os.Create(p)
		if err != nil {
			res.Err = err
			return res
		}
		files = append(files, f)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = files[0], files[1]
	cmd.Dir = dir
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
	out, _ := os.ReadFile(outPath)
	errOut, _ := os.ReadFile(errPath)
	res.Stdout, res.Stderr = string(out), string(errOut)
	return res
}

// ---- containers --------------------------------------------------------------

// ctr is one container of a test: its own state root, bundle and id.
type ctr struct {
	t      *testing.T
	ID     string
	Dir    string // scratch dir: state root, bundle, command output
	Root   string // the runtime's --root
	Bundle string
	Spec   *specs.Spec
}

func requireSetup(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

// newCtr makes a container whose process is args (in the busybox rootfs,
// with a cgroup namespace, as `carapace spec` would have it but without a
// terminal). It is force-deleted at the end of the test, and the test fails
// if anything of it is left (its cgroup first of all).
func newCtr(t *testing.T, args ...string) *ctr {
	t.Helper()
	requireSetup(t)
	name := strings.ToLower(strings.TrimPrefix(t.Name(), "Test"))
	name = strings.Map(func(r rune) rune {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			return r
		}
		return '-'
	}, name)
	if len(name) > 24 {
		name = name[:24]
	}
	dir, err := os.MkdirTemp(globalRoot, name+"-")
	if err != nil {
		t.Fatal(err)
	}
	c := &ctr{
		t:      t,
		ID:     "v2-" + strings.Trim(name, "-") + "-" + testenv.RandHex(3),
		Dir:    dir,
		Root:   filepath.Join(dir, "state"),
		Bundle: filepath.Join(dir, "bundle"),
		Spec:   defaultSpec(args...),
	}
	for _, d := range []string{c.Root, c.Bundle} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	idsMu.Lock()
	allIDs = append(allIDs, c.ID)
	idsMu.Unlock()
	t.Cleanup(c.cleanup)
	return c
}

func (c *ctr) cleanup() {
	if r := c.runtime("delete", "--force", c.ID); !r.ok() {
		c.t.Errorf("cleanup: delete --force: %s", r)
	}
	var left []string
	deadline := time.Now().Add(5 * time.Second)
	for {
		left = leaks.CgroupDirsNamed(cgroupMount, c.ID)
		if ents, _ := os.ReadDir(c.Root); len(ents) > 0 {
			left = append(left, fmt.Sprintf("%d entries in the state root %s", len(ents), c.Root))
		}
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(left) > 0 {
		c.t.Errorf("leak: container %s left behind after delete:\n  %s", c.ID, strings.Join(left, "\n  "))
		reclaim([]string{c.ID})
	}
	if mps := leaks.MountPointsUnder(c.Dir); len(mps) > 0 {
		c.t.Errorf("leak: still mounted under %s: %v", c.Dir, mps)
		return
	}
	_ = os.RemoveAll(c.Dir)
}

func (c *ctr) writeSpec() {
	c.t.Helper()
	data, err := json.MarshalIndent(c.Spec, "", "\t")
	if err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.Bundle, "config.json"), data, 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// runtime runs `<runtime> --root <root> [global...] args...`.
func (c *ctr) runtime(args ...string) result {
	return runIn(c.Dir, runtimeBin, append([]string{"--root", c.Root}, args...)...)
}

// run writes the spec and runs the container to completion.
func (c *ctr) run(global ...string) result {
	c.writeSpec()
	args := append(append([]string(nil), global...), "run", "--bundle", c.Bundle, c.ID)
	return c.runtime(args...)
}

// create writes the spec and creates the container (its process waits for
// start), failing the test if that fails.
func (c *ctr) create() {
	c.t.Helper()
	c.writeSpec()
	if r := c.runtime("create", "--bundle", c.Bundle, c.ID); !r.ok() {
		c.t.Fatalf("create failed: %s", r)
	}
}

type state struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Pid    int    `json:"pid"`
}

func (c *ctr) state() (state, result) {
	r := c.runtime("state", c.ID)
	var s state
	if r.ok() {
		if err := json.Unmarshal([]byte(r.Stdout), &s); err != nil {
			r.Err = fmt.Errorf("parsing state JSON: %v", err)
		}
	}
	return s, r
}

func (c *ctr) waitStatus(want string) state {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s, r := c.state()
		if r.ok() && s.Status == want {
			return s
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("container status is not %q after 20s: last state %+v, %s", want, s, r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cgroupDir is the host directory of the cgroup of the container's init,
// found from /proc/<pid>/cgroup.
func (c *ctr) cgroupDir(pid int) string {
	c.t.Helper()
	p, err := procCgroup(fmt.Sprint(pid))
	if err != nil {
		c.t.Fatalf("cgroup of the container's init: %v", err)
	}
	if p == ownCgroup {
		c.t.Fatalf("the container's init (pid %d) is still in the runtime's cgroup %s", pid, p)
	}
	return filepath.Join(cgroupMount, p)
}

// createdCgroup creates the container and returns its cgroup directory.
func (c *ctr) createdCgroup() string {
	c.t.Helper()
	c.create()
	s, r := c.state()
	if !r.ok() || s.Pid <= 0 {
		c.t.Fatalf("state after create: %+v, %s", s, r)
	}
	return c.cgroupDir(s.Pid)
}

// maskedDirs are the directories among the default linux.maskedPaths.
// Masking directories once failed on kernels before 6.x (cloning a
// detached tmpfs): TestDefaultSpecMaskedDirs keeps that in view.
var maskedDirs = []string{"/proc/acpi", "/proc/asound", "/proc/scsi", "/sys/firmware"}

// defaultSpec is `runc spec`'s configuration (testenv.DefaultSpec) on the
// shared rootfs, with a cgroup namespace as `carapace spec` has it, running
// args (default sh).
func defaultSpec(args ...string) *specs.Spec {
	s := testenv.DefaultSpec(rootfsDir)
	if len(args) > 0 {
		s.Process.Args = args
	}
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	return s
}

func ptr[T any](v T) *T { return &v }

// ---- leak checks -------------------------------------------------------------

func testIDs() []string {
	idsMu.Lock()
	defer idsMu.Unlock()
	return append([]string(nil), allIDs...)
}

// procsIn returns the live processes whose cgroup path names one of ids.
func procsIn(ids []string) map[int]string {
	found := map[int]string{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil || pid == os.Getpid() {
			continue
		}
		cg, err := procCgroup(e.Name())
		if err != nil {
			continue
		}
		for _, id := range ids {
			if strings.Contains(cg, "/"+id) && !leaks.IsZombie(pid) {
				cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
				found[pid] = fmt.Sprintf("process %d (%s) in cgroup %s", pid,
					strings.TrimSpace(string(bytes.ReplaceAll(cmd, []byte{0}, []byte{' '}))), cg)
			}
		}
	}
	return found
}

func globalLeaks(ids []string) []string {
	var left []string
	deadline := time.Now().Add(5 * time.Second)
	for {
		left = leaks.CgroupDirsNamed(cgroupMount, ids...)
		for _, p := range procsIn(ids) {
			left = append(left, p)
		}
		ents, _ := os.ReadDir(globalRoot)
		for _, e := range ents {
			if e.Name() != "rootfs" && e.Name() != "bin" {
				left = append(left, "test dir not cleaned up: "+filepath.Join(globalRoot, e.Name()))
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// reclaim kills what is left of containers and removes their cgroups, so
// that a buggy runtime does not spoil the following tests.
func reclaim(ids []string) {
	var pids []int
	for pid := range procsIn(ids) {
		pids = append(pids, pid)
	}
	leaks.Reclaim(cgroupMount, pids, ids)
}

// ---- small helpers ------------------------------------------------------------

func readCgroupFile(t *testing.T, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("reading %s: %v", name, err)
	}
	return strings.TrimSpace(string(data))
}

func buildRootfs(dir string) error {
	return testenv.Rootfs{
		Dirs: []string{"bin", "proc", "sys", "dev", "tmp", "etc", "root"},
		Files: map[string]string{
			"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
			"etc/group":  "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n",
		},
		LinkTarget: "busybox",
	}.Build(dir, func() ([]byte, error) {
		// Through startTracked, else the reaper may take its exit status.
		var out bytes.Buffer
		cmd := exec.Command("/bin/busybox", "--list")
		cmd.Stdout = &out
		err := startTracked(cmd)
		if err == nil {
			err = waitTracked(cmd)
		}
		return out.Bytes(), err
	})
}
