package systemd

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
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/carapace-oci/carapace/tests/internal/leaks"
	"github.com/carapace-oci/carapace/tests/internal/testenv"
)

// cmdTimeout bounds every command: the VM is emulated (TCG), so it is
// generous, but a hung runtime still fails a test instead of the run.
const cmdTimeout = 90 * time.Second

// unitPrefix is the middle part of the tests' cgroupsPaths
// (system.slice:carapace-sd:<id>), so their scopes are
// carapace-sd-<id>.scope.
const unitPrefix = "carapace-sd"

var (
	// skipReason, when set, makes every test skip.
	skipReason string
	// runtimeBin is the absolute path of the runtime under test.
	runtimeBin string
	// globalRoot holds every test's bundles and state roots.
	globalRoot string
	// rootfsDir is the busybox rootfs, shared read-only by all containers.
	rootfsDir string

	idsMu  sync.Mutex
	allIDs []string
)

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	if fi, err := os.Stat("/run/systemd/system"); err != nil || !fi.IsDir() {
		skipReason = "systemd does not run this host (no /run/systemd/system); these tests run in a VM booted by systemd: tests/vm/systemd.sh"
		return m.Run()
	}
	bin, skip, err := testenv.Prepare("systemd driver")
	if err != nil {
		fmt.Fprintf(os.Stderr, "systemd: %v\n", err)
		return 1
	}
	runtimeBin = bin
	if skip != "" {
		skipReason = skip
		return m.Run()
	}
	globalRoot, err = os.MkdirTemp("", "carapace-sd-")
	if err == nil {
		err = os.Chmod(globalRoot, 0o755)
	}
	if err == nil {
		rootfsDir = filepath.Join(globalRoot, "rootfs")
		err = testenv.Rootfs{
			Dirs: []string{"bin", "etc", "tmp", "root", "proc", "sys", "dev"},
			Files: map[string]string{
				"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
				"etc/group":  "root:x:0:\nnogroup:x:65534:\n",
			},
			LinkTarget: "busybox",
		}.Build(rootfsDir, exec.Command("/bin/busybox", "--list").Output)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "systemd: preparing %s: %v\n", globalRoot, err)
		return 1
	}

	code := m.Run()

	if l := globalLeaks(); len(l) > 0 {
		fmt.Fprintf(os.Stderr, "systemd: LEAK CHECK FAILED: the run left %d thing(s) behind:\n  - %s\n", len(l), strings.Join(l, "\n  - "))
		code = 1
	} else {
		fmt.Printf("systemd: leak check passed: no unit, cgroup or process of the %d test containers\n", len(testIDs()))
	}
	if mps := leaks.MountPointsUnder(globalRoot); len(mps) > 0 {
		fmt.Fprintf(os.Stderr, "systemd: not removing %s, still mounted under it: %v\n", globalRoot, mps)
		return 1
	}
	if err := os.RemoveAll(globalRoot); err != nil {
		fmt.Fprintf(os.Stderr, "systemd: removing %s: %v\n", globalRoot, err)
		code = 1
	}
	return code
}

// ---- commands ------------------------------------------------------------------

type result struct {
	Args           []string
	Stdout, Stderr string
	Code           int // -1 when it did not exit normally
	Err            error
}

func (r result) String() string {
	return fmt.Sprintf("`%s`: exit %d, err %v\n--- stdout:\n%s\n--- stderr:\n%s",
		strings.Join(r.Args, " "), r.Code, r.Err, r.Stdout, r.Stderr)
}

func (r result) ok() bool { return r.Err == nil && r.Code == 0 }

// run runs a command with its stdout and stderr in files (a container
// created by it keeps them open), and returns what they got.
func run(dir string, name string, args ...string) result {
	res := result{Args: append([]string{name}, args...), Code: -1}
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	out, err := os.CreateTemp(dir, "out-")
	if err != nil {
		res.Err = err
		return res
	}
	defer out.Close()
	errf, err := os.CreateTemp(dir, "err-")
	if err != nil {
		res.Err = err
		return res
	}
	defer errf.Close()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, errf
	err = cmd.Run()
	if cmd.ProcessState != nil {
		res.Code = cmd.ProcessState.ExitCode()
	}
	if ctx.Err() != nil {
		res.Err = fmt.Errorf("timed out after %v", cmdTimeout)
	} else if res.Code == -1 {
		res.Err = err
	}
	o, _ := os.ReadFile(out.Name())
	e, _ := os.ReadFile(errf.Name())
	res.Stdout, res.Stderr = string(o), string(e)
	return res
}

// output runs a host command and returns its stdout, failing the test on
// a non-zero exit.
func output(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// ---- containers -----------------------------------------------------------------

type container struct {
	t      *testing.T
	ID     string
	Dir    string
	Root   string
	Bundle string
	Spec   *specs.Spec
}

// newContainer prepares a container in system.slice (its scope
// carapace-sd-<id>.scope), deleted with --force at the end of the test,
// which then checks that no unit, cgroup or process of it is left.
func newContainer(t *testing.T) *container {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	dir, err := os.MkdirTemp(globalRoot, "c-")
	if err != nil {
		t.Fatal(err)
	}
	c := &container{
		t:      t,
		ID:     "sd-" + testenv.RandHex(4),
		Dir:    dir,
		Root:   filepath.Join(dir, "state"),
		Bundle: filepath.Join(dir, "bundle"),
		Spec:   testenv.DefaultSpec(rootfsDir),
	}
	c.Spec.Root.Readonly = true
	c.Spec.Linux.CgroupsPath = "system.slice:" + unitPrefix + ":" + c.ID
	for _, d := range []string{c.Root, c.Bundle} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	idsMu.Lock()
	allIDs = append(allIDs, c.ID)
	idsMu.Unlock()
	t.Cleanup(func() {
		if r := c.runtime("delete", "--force", c.ID); !r.ok() {
			t.Errorf("cleanup: delete --force: %s", r)
		}
		c.checkGone("after delete --force")
	})
	return c
}

// unit is the container's scope, from the default cgroupsPath.
func (c *container) unit() string { return unitPrefix + "-" + c.ID + ".scope" }

func (c *container) runtime(args ...string) result {
	return run(c.Dir, runtimeBin, append([]string{"--systemd-cgroup", "--root", c.Root}, args...)...)
}

func (c *container) writeSpec() {
	c.t.Helper()
	data, err := json.MarshalIndent(c.Spec, "", "\t")
	if err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.Bundle, "config.json"), data, 0o644); err != nil {
		c.t.Fatal(err)
	}
}

func (c *container) create() result {
	c.writeSpec()
	return c.runtime("create", "--bundle", c.Bundle, c.ID)
}

// startSleeper creates and starts the container running `sleep 1000` and
// returns its init's pid.
func (c *container) startSleeper() int {
	c.t.Helper()
	c.Spec.Process.Args = []string{"sleep", "1000"}
	if r := c.create(); !r.ok() {
		c.t.Fatalf("create: %s", r)
	}
	if r := c.runtime("start", c.ID); !r.ok() {
		c.t.Fatalf("start: %s", r)
	}
	return c.pid()
}

func (c *container) pid() int {
	c.t.Helper()
	r := c.runtime("state", c.ID)
	if !r.ok() {
		c.t.Fatalf("state: %s", r)
	}
	var st struct {
		Pid int `json:"pid"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil || st.Pid <= 0 {
		c.t.Fatalf("state: pid %d, %v: %s", st.Pid, err, r)
	}
	return st.Pid
}

// checkGone fails the test if a unit, cgroup directory or process of the
// container is left (waiting a little: systemd removes a stopped scope
// asynchronously).
func (c *container) checkGone(when string) {
	c.t.Helper()
	var l []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		l = leftovers(c.ID)
		if len(l) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(l) > 0 {
		c.t.Errorf("%s: container %s left behind:\n  %s", when, c.ID, strings.Join(l, "\n  "))
	}
}

// leftovers lists the units systemd knows, the cgroup directories in any
// hierarchy and the processes whose name or cgroup names id.
func leftovers(id string) []string {
	var l []string
	out, err := exec.Command("systemctl", "list-units", "--all", "--plain", "--no-legend", "--no-pager", "*"+id+"*").Output()
	if err != nil {
		l = append(l, fmt.Sprintf("systemctl list-units: %v", err))
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.TrimSpace(line) != "" {
			l = append(l, "unit: "+strings.TrimSpace(line))
		}
	}
	l = append(l, leaks.CgroupDirsNamed("/sys/fs/cgroup", id)...)
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		cg, err := os.ReadFile("/proc/" + e.Name() + "/cgroup")
		if err == nil && strings.Contains(string(cg), id) {
			comm, _ := os.ReadFile("/proc/" + e.Name() + "/comm")
			l = append(l, fmt.Sprintf("process %s (%s) in a cgroup of the container", e.Name(), strings.TrimSpace(string(comm))))
		}
	}
	return l
}

func testIDs() []string {
	idsMu.Lock()
	defer idsMu.Unlock()
	return append([]string(nil), allIDs...)
}

func globalLeaks() []string {
	var l []string
	for _, id := range testIDs() {
		l = append(l, leftovers(id)...)
	}
	return l
}

// ---- systemd ---------------------------------------------------------------------

// show returns a unit's properties (systemctl show -p).
func show(t *testing.T, unit string, props ...string) map[string]string {
	t.Helper()
	args := []string{"show", unit}
	for _, p := range props {
		args = append(args, "-p", p)
	}
	m := map[string]string{}
	for _, line := range strings.Split(output(t, "systemctl", args...), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			if old, dup := m[k]; dup {
				v = old + " " + v
			}
			m[k] = v
		}
	}
	return m
}

// cgroupMode is "v2", "hybrid" or "v1", as systemd booted the VM.
func cgroupMode(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return "v2"
	}
	if _, err := os.Stat("/sys/fs/cgroup/unified/cgroup.controllers"); err == nil {
		return "hybrid"
	}
	return "v1"
}

// procCgroups maps each hierarchy of /proc/<pid>/cgroup ("" for cgroup2,
// else its controllers as listed, "name=systemd") to the path in it.
func procCgroups(t *testing.T, pid int) map[string]string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 {
			m[parts[1]] = parts[2]
		}
	}
	return m
}

// cgroupDir is the directory of the container's cgroup holding ctrl's
// files ("" for the cgroup2 hierarchy of a v2 host), from /proc/pid/cgroup.
func cgroupDir(t *testing.T, pid int, ctrl string) string {
	t.Helper()
	cgs := procCgroups(t, pid)
	if ctrl == "" || cgroupMode(t) == "v2" {
		if cgroupMode(t) == "hybrid" {
			return filepath.Join("/sys/fs/cgroup/unified", cgs[""])
		}
		return filepath.Join("/sys/fs/cgroup", cgs[""])
	}
	for k, p := range cgs {
		for _, c := range strings.Split(k, ",") {
			if c == ctrl {
				return filepath.Join("/sys/fs/cgroup", k, p)
			}
		}
	}
	t.Fatalf("process %d: no cgroup of controller %s in %v", pid, ctrl, cgs)
	return ""
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}
