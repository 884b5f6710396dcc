package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/tests/internal/leaks"
	"github.com/carapace-oci/carapace/tests/internal/testenv"
)

// cmdTimeout bounds every command the tests run, so that a hung runtime
// fails a test instead of hanging CI.
const cmdTimeout = 30 * time.Second

// requireCarapace skips tests of behaviour that only Carapace promises
// (runc 1.1.5 differs or lacks the feature).
func requireCarapace(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	if isRunc() {
		t.Skip("Carapace-only test (the binary under test is runc)")
	}
}

func isRunc() bool { return filepath.Base(runtimeBin) == "runc" }

// ---- running commands ----------------------------------------------------------

type result struct {
	Args       []string
	Stdout     string
	Stderr     string
	Code       int   // exit code, -1 when it did not exit normally
	Err        error // could not start, or timed out
	StdoutPath string
	StderrPath string
	Elapsed    time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("`%s`: exit %d, err %v (%v)\n--- stdout:\n%s\n--- stderr:\n%s",
		strings.Join(r.Args, " "), r.Code, r.Err, r.Elapsed.Round(time.Millisecond), r.Stdout, r.Stderr)
}

// ok reports whether the command ran and exited 0.
func (r result) ok() bool { return r.Err == nil && r.Code == 0 }

// failed reports whether the command ran and exited non-zero (a timeout is
// not a failure the tests accept).
func (r result) failed() bool { return r.Err == nil && r.Code != 0 }

type cmdOpts struct {
	dir        string        // working directory
	outDir     string        // where the stdout/stderr files go
	env        []string      // added to the environment
	extraFiles []*os.File    // become fds 3, 4, ...
	timeout    time.Duration // default cmdTimeout
	ctx        context.Context
	cred       *syscall.Credential // run as this user (rootless tests)
	// cgroup is a cgroup2 directory the command is born in (clone3
	// CLONE_INTO_CGROUP): a rootless runtime inside its delegated subtree.
	cgroup string
}

var outSeq atomic.Int64

// runCmd runs a command with stdin from /dev/null and stdout/stderr going to
// files (not pipes: a created container inherits them and outlives the
// command, and its output can be read from the files later).
func runCmd(o cmdOpts, name string, args ...string) result {
	res := result{Args: append([]string{name}, args...), Code: -1}
	if o.timeout == 0 {
		o.timeout = cmdTimeout
	}
	parent := o.ctx
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithTimeout(parent, o.timeout)
	defer cancel()
	if o.outDir == "" {
		o.outDir = filepath.Join(globalRoot, "cmd-out")
	}
	n := outSeq.Add(1)
	res.StdoutPath = filepath.Join(o.outDir, fmt.Sprintf("cmd%03d.stdout", n))
	res.StderrPath = filepath.Join(o.outDir, fmt.Sprintf("cmd%03d.stderr", n))
	stdout, err := os.Create(res.StdoutPath)
	if err != nil {
		res.Err = err
		return res
	}
	defer stdout.Close()
	stderr, err := os.Create(res.StderrPath)
	if err != nil {
		res.Err = err
		return res
	}
	defer stderr.Close()
	stdin, err := os.Open(os.DevNull)
	if err != nil {
		res.Err = err
		return res
	}
	defer stdin.Close()

	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.Dir = o.dir
	cmd.Env = append(os.Environ(), o.env...)
	cmd.ExtraFiles = o.extraFiles
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: o.cred}
	if o.cgroup != "" {
		cg, err := os.Open(o.cgroup)
		if err != nil {
			res.Err = err
			return res
		}
		defer cg.Close()
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, int(cg.Fd())
	}
	start := time.Now()
	if err := startTracked(cmd); err != nil {
		res.Err = err
		return res
	}
	_ = waitTracked(cmd)
	res.Elapsed = time.Since(start)
	res.Code = cmd.ProcessState.ExitCode()
	if ctx.Err() != nil {
		res.Err = fmt.Errorf("timed out after %v (killed)", o.timeout)
	}
	res.Stdout = readFileString(res.StdoutPath)
	res.Stderr = readFileString(res.StderrPath)
	return res
}

// hostOutput runs a host command and returns its stdout.
func hostOutput(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := startTracked(cmd); err != nil {
		return "", err
	}
	if err := waitTracked(cmd); err != nil {
		return out.String(), fmt.Errorf("%s %v: %v: %s", name, args, err, errb.String())
	}
	return out.String(), nil
}

func readFileString(path string) string {
	data, _ := os.ReadFile(path)
	return string(data)
}

// ---- per-test directories and containers ----------------------------------------

var nameCleaner = strings.NewReplacer("/", "-", " ", "_", ":", "_", "#", "_", "(", "", ")", "", ",", "_", "=", "_", "'", "", "\"", "")

func shortName(t *testing.T, max int) string {
	n := nameCleaner.Replace(strings.TrimPrefix(t.Name(), "Test"))
	var b strings.Builder
	for _, r := range n {
		if r < 128 && (r == '-' || r == '_' || r == '.' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')) {
			b.WriteRune(r)
		}
	}
	n = b.String()
	if len(n) > max {
		n = n[len(n)-max:]
	}
	return strings.Trim(n, "-._")
}

// newTestDir makes a scratch dir under the run's root. It is removed at the
// end of the test, unless something is still mounted under it, which fails
// the test (and is unmounted, so that the removal cannot reach host files).
func newTestDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp(globalRoot, shortName(t, 40)+"-")
	if err != nil {
		t.Fatal(err)
	}
	// Traversable by the mapped root of user-namespaced containers.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if mps := leaks.MountPointsUnder(dir); len(mps) > 0 {
			t.Errorf("leak: still mounted under %s at the end of the test: %v", dir, mps)
			for _, mp := range mps {
				_ = unix.Unmount(mp, unix.MNT_DETACH)
			}
		}
		if err := safeRemoveAll(dir); err != nil {
			t.Errorf("removing %s: %v", dir, err)
		}
	})
	return dir
}

// Container is one container of a test: its own state root, bundle and id.
type Container struct {
	t       *testing.T
	ID      string
	Dir     string // scratch dir holding everything below
	Root    string // the runtime's --root
	Bundle  string
	Rootfs  string
	HostDir string // a scratch dir on the host, for bind mounts and logs
	Spec    *specs.Spec

	created result // the last create: the container's stdio are its files
}

func newContainer(t *testing.T) *Container {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	dir := newTestDir(t)
	c := &Container{
		t:       t,
		ID:      "e2e-" + shortName(t, 24) + "-" + testenv.RandHex(3),
		Dir:     dir,
		Root:    filepath.Join(dir, "state"),
		Bundle:  filepath.Join(dir, "bundle"),
		HostDir: filepath.Join(dir, "host"),
		Spec:    defaultSpec(),
	}
	c.ID = strings.ReplaceAll(c.ID, "--", "-")
	if systemdCgroup {
		c.Spec.Linux.CgroupsPath = systemdSlice + ":" + systemdPrefix + ":" + c.ID
	}
	c.Rootfs = filepath.Join(c.Bundle, "rootfs")
	for _, d := range []string{c.Root, c.Bundle, c.HostDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := copyTree(templateDir, c.Rootfs); err != nil {
		t.Fatal(err)
	}
	registerID(c.ID)
	t.Cleanup(c.cleanup)
	return c
}

// cleanup force-deletes the container and checks that nothing is left.
func (c *Container) cleanup() {
	r := c.runtime("delete", "--force", c.ID)
	if !r.ok() {
		c.t.Errorf("cleanup: delete --force failed: %s", r)
	}
	c.checkNoLeftovers("after delete --force")
}

// leftovers lists what the container left behind: state dir entries, mounts
// naming its dir, cgroup dirs named after its id, live processes.
func (c *Container) leftovers() []string {
	var l []string
	if ents, err := os.ReadDir(c.Root); err == nil {
		for _, e := range ents {
			l = append(l, "state root entry: "+filepath.Join(c.Root, e.Name()))
		}
	}
	l = append(l, mountsUnder(c.Dir)...)
	l = append(l, cgroupDirsNamed(c.ID)...)
	l = append(l, procsOf([]string{c.Dir}, []string{c.ID})...)
	if systemdCgroup {
		l = append(l, systemdUnitsNamed(c.ID)...)
	}
	return l
}

// systemdUnitsNamed lists the units systemd still knows (loaded, active or
// failed) whose name contains id: a unit can outlive its cgroup.
func systemdUnitsNamed(id string) []string {
	out, err := hostOutput("systemctl", "list-units", "--all", "--plain", "--no-legend", "--no-pager", "*"+id+"*")
	if err != nil {
		return []string{fmt.Sprintf("systemctl list-units: %v", err)}
	}
	var l []string
	for _, line := range lines(out) {
		if strings.TrimSpace(line) != "" {
			l = append(l, "systemd unit: "+strings.TrimSpace(line))
		}
	}
	return l
}

// runtimeArgs is the command line of the runtime with state root root:
// the global flags of the run (--systemd-cgroup), --root, then args.
func runtimeArgs(root string, args ...string) []string {
	full := append(append([]string(nil), globalFlags...), "--root", root)
	return append(full, args...)
}

// cgroupName is the last element of the container's cgroup: its id, or
// under the systemd driver its scope.
func (c *Container) cgroupName() string {
	if systemdCgroup && c.Spec.Linux.CgroupsPath == systemdSlice+":"+systemdPrefix+":"+c.ID {
		return systemdPrefix + "-" + c.ID + ".scope"
	}
	return c.ID
}

// skipUnderSystemd skips a test that sets its own cgroupfs cgroupsPath, or
// checks the cgroupfs driver alone, when the run is under the systemd driver.
func skipUnderSystemd(t *testing.T, why string) {
	t.Helper()
	if systemdCgroup {
		t.Skip("under --systemd-cgroup (CARAPACE_E2E_SYSTEMD=1): " + why)
	}
}

func (c *Container) checkNoLeftovers(when string) {
	c.t.Helper()
	var l []string
	deadline := time.Now().Add(5 * time.Second)
	for {
		l = c.leftovers()
		if len(l) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(l) > 0 {
		c.t.Errorf("%s: container %s left behind:\n  %s", when, c.ID, strings.Join(l, "\n  "))
		reclaimIDs([]string{c.ID}, []string{c.Dir})
	}
}

// WriteSpec writes c.Spec to the bundle's config.json.
func (c *Container) WriteSpec() {
	c.t.Helper()
	data, err := json.MarshalIndent(c.Spec, "", "\t")
	if err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.Bundle, "config.json"), data, 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// runtime runs `<bin> --root <root> args...`.
func (c *Container) runtime(args ...string) result {
	return c.runtimeOpts(cmdOpts{}, args...)
}

func (c *Container) runtimeOpts(o cmdOpts, args ...string) result {
	if o.dir == "" {
		o.dir = c.Dir
	}
	if o.outDir == "" {
		o.outDir = c.Dir
	}
	return runCmd(o, runtimeBin, runtimeArgs(c.Root, args...)...)
}

// Run writes the spec and runs the container to completion
// (`run --bundle B [extra...] ID`).
func (c *Container) Run(extra ...string) result {
	return c.RunOpts(cmdOpts{}, extra...)
}

func (c *Container) RunOpts(o cmdOpts, extra ...string) result {
	c.WriteSpec()
	args := append([]string{"run", "--bundle", c.Bundle}, extra...)
	return c.runtimeOpts(o, append(args, c.ID)...)
}

// RunAsync starts Run in the background; the returned func waits for it.
func (c *Container) RunAsync(extra ...string) func() result {
	c.WriteSpec()
	args := append([]string{"run", "--bundle", c.Bundle}, extra...)
	args = append(args, c.ID)
	ch := make(chan result, 1)
	go func() { ch <- c.runtime(args...) }()
	return func() result { return <-ch }
}

// mustRun runs the container and requires exit status 0.
func (c *Container) mustRun(extra ...string) result {
	c.t.Helper()
	r := c.Run(extra...)
	if !r.ok() {
		c.t.Fatalf("run failed: %s", r)
	}
	return r
}

// Sh runs `sh -c script` as the container process and returns its stdout;
// the script must exit 0.
func (c *Container) Sh(script string) string {
	c.t.Helper()
	c.Spec.Process.Args = []string{"sh", "-c", script}
	return c.mustRun().Stdout
}

// ShResult is Sh without the exit status check.
func (c *Container) ShResult(script string) result {
	c.Spec.Process.Args = []string{"sh", "-c", script}
	return c.Run()
}

// Create writes the spec and runs `create --bundle B [extra...] ID`.
func (c *Container) Create(extra ...string) result {
	c.WriteSpec()
	args := append([]string{"create", "--bundle", c.Bundle}, extra...)
	c.created = c.runtime(append(args, c.ID)...)
	return c.created
}

func (c *Container) mustCreate(extra ...string) {
	c.t.Helper()
	if r := c.Create(extra...); !r.ok() {
		c.t.Fatalf("create failed: %s", r)
	}
}

func (c *Container) Start() result { return c.runtime("start", c.ID) }

func (c *Container) mustStart() {
	c.t.Helper()
	if r := c.Start(); !r.ok() {
		c.t.Fatalf("start failed: %s", r)
	}
}

func (c *Container) Kill(sig string) result { return c.runtime("kill", c.ID, sig) }

func (c *Container) Delete(force bool) result {
	if force {
		return c.runtime("delete", "--force", c.ID)
	}
	return c.runtime("delete", c.ID)
}

// Output is what the created container wrote to its stdout so far.
func (c *Container) Output() string { return readFileString(c.created.StdoutPath) }

// ErrOutput is what the created container (and create) wrote to stderr.
func (c *Container) ErrOutput() string { return readFileString(c.created.StderrPath) }

// State is the runtime's `state` output.
type State struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Status      string            `json:"status"`
	Pid         int               `json:"pid"`
	Bundle      string            `json:"bundle"`
	Annotations map[string]string `json:"annotations"`
}

func (c *Container) State() (State, result) {
	r := c.runtime("state", c.ID)
	var s State
	if r.ok() {
		if err := json.Unmarshal([]byte(r.Stdout), &s); err != nil {
			r.Err = fmt.Errorf("parsing state JSON: %v", err)
		}
	}
	return s, r
}

func (c *Container) mustState() State {
	c.t.Helper()
	s, r := c.State()
	if !r.ok() {
		c.t.Fatalf("state failed: %s", r)
	}
	return s
}

// waitStatus polls state until it reports want.
func (c *Container) waitStatus(want string, timeout time.Duration) State {
	c.t.Helper()
	var s State
	var r result
	deadline := time.Now().Add(timeout)
	for {
		s, r = c.State()
		if r.ok() && s.Status == want {
			return s
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("container status is not %q after %v: last state %+v, %s", want, timeout, s, r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitFor polls cond until it returns true.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// addBind adds a bind mount of a host dir (rw unless ro).
func (c *Container) addBind(src, dst string, ro bool) {
	opts := []string{"rbind"}
	if ro {
		opts = append(opts, "ro")
	}
	c.Spec.Mounts = append(c.Spec.Mounts, specs.Mount{Destination: dst, Type: "bind", Source: src, Options: opts})
}

// nsIndex returns the index of the namespace of type typ, or -1.
func (c *Container) nsIndex(typ specs.LinuxNamespaceType) int {
	for i, ns := range c.Spec.Linux.Namespaces {
		if ns.Type == typ {
			return i
		}
	}
	return -1
}

func (c *Container) removeNamespace(typ specs.LinuxNamespaceType) {
	if i := c.nsIndex(typ); i >= 0 {
		c.Spec.Linux.Namespaces = append(c.Spec.Linux.Namespaces[:i], c.Spec.Linux.Namespaces[i+1:]...)
	}
}

func (c *Container) setNamespace(typ specs.LinuxNamespaceType, path string) {
	if i := c.nsIndex(typ); i >= 0 {
		c.Spec.Linux.Namespaces[i].Path = path
		return
	}
	c.Spec.Linux.Namespaces = append(c.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: typ, Path: path})
}

func (c *Container) removeMount(dst string) {
	var ms []specs.Mount
	for _, m := range c.Spec.Mounts {
		if m.Destination != dst {
			ms = append(ms, m)
		}
	}
	c.Spec.Mounts = ms
}

// writeRootfsFile writes a file into the rootfs.
func (c *Container) writeRootfsFile(rel, content string, mode os.FileMode) {
	c.t.Helper()
	p := filepath.Join(c.Rootfs, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		c.t.Fatal(err)
	}
}

// killAllAndDelete signals every process with kill --all KILL, waits for
// all of pids to be gone and the container stopped, deletes it and checks
// nothing is left.
func (c *Container) killAllAndDelete(pids []int) {
	c.t.Helper()
	if r := c.runtime("kill", "--all", c.ID, "KILL"); !r.ok() {
		c.t.Fatalf("kill --all: %s", r)
	}
	waitFor(c.t, 10*time.Second, "every process of the container to be gone", func() bool {
		for _, p := range pids {
			if !leaks.IsZombie(p) {
				return false
			}
		}
		return true
	})
	c.waitStatus("stopped", 10*time.Second)
	if r := c.Delete(false); !r.ok() {
		c.t.Fatalf("delete: %s", r)
	}
	c.checkNoLeftovers("after delete")
}

// editState rewrites the container's state.json through edit (on its
// generic JSON) and returns the original bytes, to restore it.
func (c *Container) editState(edit func(doc map[string]any)) []byte {
	c.t.Helper()
	path := filepath.Join(c.Root, c.ID, "state.json")
	orig, err := os.ReadFile(path)
	if err != nil {
		c.t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(orig, &doc); err != nil {
		c.t.Fatal(err)
	}
	edit(doc)
	edited, _ := json.Marshal(doc)
	if err := os.WriteFile(path, edited, 0o600); err != nil {
		c.t.Fatal(err)
	}
	return orig
}

// restoreState puts back what editState returned.
func (c *Container) restoreState(orig []byte) {
	c.t.Helper()
	if err := os.WriteFile(filepath.Join(c.Root, c.ID, "state.json"), orig, 0o600); err != nil {
		c.t.Fatal(err)
	}
}

// guardRuntimeBinary fails the test if the runtime's binary changes
// during it (a container reached it).
func guardRuntimeBinary(t *testing.T) {
	t.Helper()
	before := fileSHA256(t, runtimeBin)
	t.Cleanup(func() {
		if after := fileSHA256(t, runtimeBin); after != before {
			t.Errorf("THE RUNTIME BINARY %s WAS MODIFIED by a container: sha256 %s -> %s", runtimeBin, before, after)
		}
	})
}

// ---- the default spec -------------------------------------------------------

var defaultCaps = testenv.DefaultCaps

// defaultSpec is what `runc spec` produces, with terminal false.
func defaultSpec() *specs.Spec { return testenv.DefaultSpec("rootfs") }

// ---- small helpers ------------------------------------------------------------

var capNumbers = map[string]uint{
	"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3,
	"CAP_FSETID": 4, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8,
	"CAP_LINUX_IMMUTABLE": 9, "CAP_NET_BIND_SERVICE": 10, "CAP_NET_BROADCAST": 11,
	"CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13, "CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15,
	"CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17, "CAP_SYS_CHROOT": 18, "CAP_SYS_PTRACE": 19,
	"CAP_SYS_PACCT": 20, "CAP_SYS_ADMIN": 21, "CAP_SYS_BOOT": 22, "CAP_SYS_NICE": 23,
	"CAP_SYS_RESOURCE": 24, "CAP_SYS_TIME": 25, "CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27,
	"CAP_LEASE": 28, "CAP_AUDIT_WRITE": 29, "CAP_AUDIT_CONTROL": 30, "CAP_SETFCAP": 31,
	"CAP_MAC_OVERRIDE": 32, "CAP_MAC_ADMIN": 33, "CAP_SYSLOG": 34, "CAP_WAKE_ALARM": 35,
	"CAP_BLOCK_SUSPEND": 36, "CAP_AUDIT_READ": 37, "CAP_PERFMON": 38, "CAP_BPF": 39,
	"CAP_CHECKPOINT_RESTORE": 40,
}

func capMask(t *testing.T, names []string) uint64 {
	t.Helper()
	var m uint64
	for _, n := range names {
		bit, ok := capNumbers[n]
		if !ok {
			t.Fatalf("unknown capability %q", n)
		}
		m |= 1 << bit
	}
	return m
}

// statusField returns a field of a /proc/<pid>/status dump.
func statusField(status, field string) string {
	for _, line := range strings.Split(status, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == field {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func parseHex(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		t.Fatalf("parsing %q as hex: %v", s, err)
	}
	return v
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// dirEntries lists a host dir (names only), for "untouched" checks.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// lines splits output into trimmed non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// staticProgram is a small Go program (static, no cgo) the suite builds once
// per run, under the harness's cmd-out dir, to install in containers: what
// busybox cannot do (sd_notify, raw syscalls).
type staticProgram struct {
	name, source string

	once sync.Once
	bin  []byte
	err  error
}

// binary returns the built program, or skips the test when the Go
// toolchain cannot build it.
func (p *staticProgram) binary(t *testing.T) []byte {
	t.Helper()
	p.once.Do(func() {
		dir, err := os.MkdirTemp(filepath.Join(globalRoot, "cmd-out"), p.name+"-")
		if err != nil {
			p.err = err
			return
		}
		for name, content := range map[string]string{"main.go": p.source, "go.mod": "module " + p.name + "\ngo 1.21\n"} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				p.err = err
				return
			}
		}
		cmd := exec.Command("go", "build", "-o", p.name, ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		err = startTracked(cmd)
		if err == nil {
			err = waitTracked(cmd)
		}
		if err != nil {
			p.err = fmt.Errorf("%v\n%s", err, out.String())
			return
		}
		p.bin, p.err = os.ReadFile(filepath.Join(dir, p.name))
	})
	if p.err != nil {
		t.Skipf("cannot build %s: %v", p.name, p.err)
	}
	return p.bin
}
