package clients

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// criSuite is a private containerd with its CRI plugin on, driven by
// crictl as the kubelet drives it: a runtime handler named carapace (the
// runc v2 shim with the runtime under test as its BinaryName) is the
// default, pods use the host's network (no CNI), their cgroups go under a
// parent named after this test process, and the shim's runtime state
// (options.Root) and every other file live under one directory.
type criSuite struct {
	dir      string
	sock     string
	state    string // containerd's state dir: the shim's bundles live under it
	runcRoot string // the shim's runtime root: <runcRoot>/k8s.io/<id>
	logDir   string // the pods' log_directory
	cgParent string // the pods' cgroup_parent: /<cgParent>/<id> in every hierarchy
	crictlCf string
	logPath  string
	d        *daemon
	ids      []string // every pod and container the suite made
	pod      string   // the scenario's pod, once it runs
}

const (
	// criPauseRef is the sandbox_image: the busybox image with a pid 1
	// that waits forever.
	criPauseRef = "docker.io/library/pause:carapace"
	criNS       = "k8s.io" // the containerd namespace of the CRI plugin
	criHandler  = "carapace"
	criTimeout  = 60 * time.Second
)

// TestCRI runs the runtime under containerd 1.6's CRI plugin, through
// crictl, for the stop path of Kubernetes. The CRI stops a container with
// SIGTERM, then SIGKILL after the grace period, through the shim's kill;
// the shim takes a runtime's kill error as "already gone" only when its
// text is one of runc's (container not running, no such process, os:
// process already finished, does not exist). Any other text makes the
// stop fail with "unknown error after kill", and leaves the container
// RUNNING in the CRI and its pod impossible to remove.
func TestCRI(t *testing.T) {
	// crictl: scripts/install-deps.sh builds it (go install
	// sigs.k8s.io/cri-tools/cmd/crictl@v1.37.0).
	requireTools(t, "containerd", "ctr", "containerd-shim-runc-v2", "umoci", "skopeo", "crictl")
	c := criStart(t)

	t.Run("RunPod", c.testRunPod)
	t.Run("StopIgnoresTERM", c.testStopIgnoresTerm)
	t.Run("StopExited", c.testStopExited)
	t.Run("StopWhileExiting", c.testStopWhileExiting)
	t.Run("RemovePod", c.testRemovePod)
}

func criStart(t *testing.T) *criSuite {
	t.Helper()
	dir := filepath.Join(workDir, "cri")
	c := &criSuite{
		dir:      dir,
		sock:     filepath.Join(dir, "ctd.sock"),
		state:    filepath.Join(dir, "state"),
		runcRoot: filepath.Join(dir, "runc"),
		logDir:   filepath.Join(dir, "logs"),
		cgParent: fmt.Sprintf("carapace-cri%d", os.Getpid()),
		crictlCf: filepath.Join(dir, "crictl.yaml"),
		logPath:  filepath.Join(dir, "containerd.log"),
	}
	if n := len(c.sock + ".ttrpc"); n >= 100 {
		t.Fatalf("socket path %s.ttrpc is %d bytes: too long for a unix socket", c.sock, n)
	}
	cniBin, cniConf := filepath.Join(dir, "cni", "bin"), filepath.Join(dir, "cni", "conf")
	for _, d := range []string{dir, c.runcRoot, c.logDir, cniBin, cniConf} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	pause, err := criPauseImage(filepath.Join(dir, "image"))
	if err != nil {
		t.Fatalf("build the pause image: %v", err)
	}
	// No CNI: the pods use the host's network, and the empty CNI
	// directories only keep the plugin from reading the host's. The
	// streaming server (exec, attach) listens on a free loopback port.
	config := fmt.Sprintf(`version = 2
root = %q
state = %q
[grpc]
  address = %q
[ttrpc]
  address = %q
[debug]
  address = ""
  level = "debug"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = %q
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = %q
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.%s]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.%s.options]
        BinaryName = %q
        Root = %q
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %q
    conf_dir = %q
`, filepath.Join(dir, "root"), c.state, c.sock, c.sock+".ttrpc", filepath.Join(dir, "opt"),
		criPauseRef, criHandler, criHandler, criHandler, runtimeBin, c.runcRoot, cniBin, cniConf)
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	// crictl's own configuration, so that no /etc/crictl.yaml is read;
	// the flags crictl is run with say the same.
	crictlCf := fmt.Sprintf("runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\ntimeout: 30\npull-image-on-create: false\n", c.sock, c.sock)
	if err := os.WriteFile(c.crictlCf, []byte(crictlCf), 0o644); err != nil {
		t.Fatal(err)
	}
	c.d = startDaemon(t, "containerd", c.logPath, socketReady(c.sock), "containerd", "--config", cfg)
	t.Cleanup(func() { c.teardown(t) })

	// Both images are in the CRI's namespace before anything needs them:
	// nothing is ever pulled.
	for _, archive := range []string{image.OCIArchive, pause} {
		if r := run(nil, criTimeout, "ctr", "-a", c.sock, "-n", criNS, "images", "import", archive); r.Code != 0 {
			t.Fatalf("import %s: %s", archive, r)
		}
	}
	for _, ref := range []string{imageRef, criPauseRef} {
		if !eventually(10*time.Second, func() bool { return c.crictl("inspecti", ref).Code == 0 }) {
			t.Fatalf("the CRI does not see %s after the import: %s", ref, c.crictl("inspecti", ref))
		}
	}
	return c
}

// criPauseImage makes the sandbox image from the busybox one: its
// entrypoint sleeps forever (the CRI stops a sandbox with SIGKILL).
func criPauseImage(dir string) (string, error) {
	img := filepath.Join(dir, "oci") + ":pause"
	archive := filepath.Join(dir, "pause-oci.tar")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	steps := [][]string{
		{"skopeo", "copy", "oci-archive:" + image.OCIArchive, "oci:" + img},
		{"umoci", "config", "--image", img, "--clear", "config.cmd",
			"--config.entrypoint", "sleep", "--config.entrypoint", "2147483647"},
		{"skopeo", "copy", "oci:" + img, "oci-archive:" + archive + ":" + criPauseRef},
	}
	for _, s := range steps {
		if r := run(nil, 2*time.Minute, s[0], s[1:]...); r.Code != 0 {
			return "", errors.New(r.String())
		}
	}
	return archive, os.RemoveAll(filepath.Join(dir, "oci"))
}

// crictl runs crictl against the private containerd, never the host's.
func (c *criSuite) crictl(args ...string) result {
	return run(nil, criTimeout, "crictl", append([]string{
		"--config", c.crictlCf,
		"--runtime-endpoint", "unix://" + c.sock, "--image-endpoint", "unix://" + c.sock,
		"--timeout", "30s"}, args...)...)
}

// teardown removes whatever pods are left, stops containerd by its pid,
// and checks that nothing is left: processes and mounts under the suite's
// directory, the runtime's state, the pods' and containers' cgroups. What
// a failed run left is then killed and removed, so that it does not
// outlive the test.
func (c *criSuite) teardown(t *testing.T) {
	if r := c.crictl("pods", "-q"); r.Code == 0 && strings.TrimSpace(r.Stdout) != "" {
		t.Errorf("teardown: pods left: %s", strings.Fields(r.Stdout))
		if r := c.crictl("rmp", "-f", "-a"); r.Code != 0 {
			t.Errorf("teardown: %s", r)
		}
	}
	c.d.stop(t)
	// The shim's kill errors that containerd did not take for "already
	// gone" fail a stop, or the handling of an exit, whichever asked.
	for _, l := range strings.Split(criRead(c.logPath), "\n") {
		if strings.Contains(l, "unknown error after kill") {
			t.Errorf("containerd did not recognise the runtime's kill error: %s", l)
			break
		}
	}
	if t.Failed() {
		t.Logf("containerd's log (%s), its error lines:\n%s", c.logPath, c.daemonErrors(""))
	}
	leaks := leaksUnder(c.dir)
	for _, l := range leaks {
		t.Errorf("left behind: %s", l)
	}
	if left := c.runtimeState(); len(left) > 0 {
		t.Errorf("runtime state left under the shim's root %s: %v", c.runcRoot, left)
	}
	for _, l := range cgroupLeaks(c.ids...) {
		t.Errorf("left behind: %s", l)
	}
	c.forceCleanup(leaks)
	// The parent cgroups were made by the runtime for the pods; runc
	// leaves them, as it leaves any parent it creates.
	for _, d := range c.cgroupDirs("") {
		if err := syscall.Rmdir(d); err != nil {
			t.Errorf("cgroup %s: %v", d, err)
		}
	}
	if err := os.RemoveAll(c.dir); err != nil {
		t.Errorf("remove %s: %v", c.dir, err)
	}
}

// cgroupDirs lists the pods' parent cgroup in every hierarchy (sub "") or
// the cgroups inside it (sub "*").
func (c *criSuite) cgroupDirs(sub string) []string {
	p := filepath.Join(c.cgParent, sub)
	v1, _ := filepath.Glob("/sys/fs/cgroup/*/" + p)
	v2, _ := filepath.Glob("/sys/fs/cgroup/" + p)
	var dirs []string
	for _, d := range append(v1, v2...) {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// forceCleanup kills, each by its pid, what a failed run left running
// (the processes in the pods' cgroups, then the shims named in leaks),
// and removes its cgroups and mounts. The test process, their subreaper,
// reaps them.
func (c *criSuite) forceCleanup(leaks []string) {
	for _, d := range c.cgroupDirs("*") {
		b, _ := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	for _, l := range leaks {
		var pid int
		if _, err := fmt.Sscanf(l, "process %d:", &pid); err == nil && pid > 1 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	// A killed shim leaves its socket, named in its bundle, under
	// /run/containerd/s.
	addrs, _ := filepath.Glob(filepath.Join(c.bundle("*"), "address"))
	for _, a := range addrs {
		b, _ := os.ReadFile(a)
		if sock := strings.TrimPrefix(strings.TrimSpace(string(b)), "unix://"); strings.HasPrefix(sock, "/run/containerd/s/") {
			_ = os.Remove(sock)
		}
	}
	eventually(10*time.Second, func() bool {
		for _, d := range c.cgroupDirs("*") {
			if b, _ := os.ReadFile(filepath.Join(d, "cgroup.procs")); len(strings.TrimSpace(string(b))) > 0 {
				return false
			}
		}
		return true
	})
	for _, d := range c.cgroupDirs("*") {
		_ = syscall.Rmdir(d)
	}
	if mi, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		lines := strings.Split(string(mi), "\n")
		// Innermost first: a later line is mounted on top of an earlier one.
		for i := len(lines) - 1; i >= 0; i-- {
			if f := strings.Fields(lines[i]); len(f) > 4 && strings.HasPrefix(f[4], c.dir) {
				_ = syscall.Unmount(f[4], syscall.MNT_DETACH)
			}
		}
	}
}

// daemonErrors returns containerd's error lines that name id (any with
// id ""), the last ten: why a stop or an exit failed on its side.
func (c *criSuite) daemonErrors(id string) string {
	var lines []string
	for _, l := range strings.Split(criRead(c.logPath), "\n") {
		if strings.Contains(l, "level=error") && strings.Contains(l, id) {
			lines = append(lines, l)
		}
	}
	return tail(strings.Join(lines, "\n"), 10)
}

// runtimeState lists the containers the runtime has state for under the
// shim's root.
func (c *criSuite) runtimeState() []string {
	var names []string
	left, _ := os.ReadDir(filepath.Join(c.runcRoot, criNS))
	for _, e := range left {
		names = append(names, e.Name())
	}
	return names
}

func (c *criSuite) bundle(id string) string {
	return filepath.Join(c.state, "io.containerd.runtime.v2.task", criNS, id)
}

// writeJSON writes a pod or container config for crictl.
func (c *criSuite) writeJSON(t *testing.T, name string, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(c.dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// podConfig is the scenario's pod: the host's network (no CNI), a pid
// namespace of its own per container (the kubelet's default), logs and
// cgroups where the suite looks for them.
func (c *criSuite) podConfig(t *testing.T) string {
	return c.writeJSON(t, "pod.json", map[string]any{
		"metadata": map[string]any{
			"name": "stop", "namespace": "carapace-cri", "uid": c.cgParent, "attempt": 0,
		},
		"log_directory": c.logDir,
		"linux": map[string]any{
			"cgroup_parent": "/" + c.cgParent,
			"security_context": map[string]any{
				"namespace_options": map[string]any{"network": 2, "pid": 1},
			},
		},
	})
}

// createStart creates and starts a container in the scenario's pod and
// returns its id.
func (c *criSuite) createStart(t *testing.T, name string, cmd ...string) string {
	t.Helper()
	if c.pod == "" {
		t.Skip("no pod: RunPod failed")
	}
	cfg := c.writeJSON(t, name+".json", map[string]any{
		"metadata": map[string]any{"name": name},
		"image":    map[string]any{"image": imageRef},
		"command":  cmd,
		"log_path": name + ".log",
		"linux": map[string]any{
			"security_context": map[string]any{
				"namespace_options": map[string]any{"network": 2, "pid": 1},
			},
		},
	})
	r := c.crictl("create", "--no-pull", c.pod, cfg, c.podConfig(t))
	if r.Code != 0 {
		t.Fatalf("create: %s", r)
	}
	id := strings.TrimSpace(r.Stdout)
	c.ids = append(c.ids, id)
	if r := c.crictl("start", id); r.Code != 0 {
		t.Fatalf("start: %s", r)
	}
	return id
}

// criStatus is what crictl inspect reports of a container.
type criStatus struct {
	State    string
	ExitCode int
	Reason   string
}

func (c *criSuite) inspect(t *testing.T, id string) criStatus {
	t.Helper()
	r := c.crictl("inspect", "-o", "json", id)
	if r.Code != 0 {
		t.Fatalf("inspect: %s", r)
	}
	var out struct {
		Status struct {
			State    string `json:"state"`
			ExitCode int    `json:"exitCode"`
			Reason   string `json:"reason"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("inspect: %v\n%s", err, r.Stdout)
	}
	return criStatus{out.Status.State, out.Status.ExitCode, out.Status.Reason}
}

// stop runs crictl stop and reports its failure with what the runtime's
// kill printed: the text the shim did not recognise.
func (c *criSuite) stop(t *testing.T, id string, grace int) {
	t.Helper()
	start := time.Now()
	r := c.crictl("stop", "-t", fmt.Sprint(grace), id)
	if r.Code != 0 {
		st := c.inspect(t, id)
		t.Fatalf("crictl stop -t %d failed after %v; the CRI now reports the container %s: %s\ncontainerd's errors about it:\n%s",
			grace, time.Since(start).Round(time.Millisecond), st.State, r, c.daemonErrors(id))
	}
}

func (c *criSuite) testRunPod(t *testing.T) {
	r := c.crictl("runp", "--runtime", criHandler, c.podConfig(t))
	if r.Code != 0 {
		t.Fatalf("runp: %s", r)
	}
	c.pod = strings.TrimSpace(r.Stdout)
	c.ids = append(c.ids, c.pod)
	r = c.crictl("inspectp", "-o", "json", c.pod)
	var out struct {
		Status struct {
			State string `json:"state"`
		} `json:"status"`
	}
	if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &out) != nil || out.Status.State != "SANDBOX_READY" {
		t.Fatalf("the pod is not ready (%q): %s", out.Status.State, r)
	}
	// The shim runs the sandbox with the runtime under test and the
	// suite's root: its options.json says so, and only the runtime writes
	// state under that root.
	c.checkRuntime(t, c.pod)
}

// checkRuntime checks that a running container's shim runs the runtime
// under test with the suite's root.
func (c *criSuite) checkRuntime(t *testing.T, id string) {
	t.Helper()
	var opts struct {
		BinaryName string `json:"binary_name"`
		Root       string `json:"root"`
	}
	b, err := os.ReadFile(filepath.Join(c.bundle(id), "options.json"))
	if err != nil {
		t.Fatalf("the shim's options: %v", err)
	}
	if err := json.Unmarshal(b, &opts); err != nil {
		t.Fatalf("options.json: %v: %s", err, b)
	}
	if opts.BinaryName != runtimeBin || opts.Root != c.runcRoot {
		t.Errorf("the shim's runtime options are %s, want binary_name %s and root %s", b, runtimeBin, c.runcRoot)
	}
	if !slices.Contains(c.runtimeState(), id) {
		t.Errorf("no runtime state for %s under %s: %v", id, c.runcRoot, c.runtimeState())
	}
	if _, err := os.Stat(filepath.Join("/run/containerd/runc", criNS, id)); err == nil {
		t.Errorf("runtime state for %s under the default root /run/containerd/runc despite Root", id)
	}
}

// A pid 1 with no TERM handler ignores SIGTERM: the CRI's stop sends it,
// waits the grace period, and kills. The stop must succeed and leave the
// container exited, killed.
func (c *criSuite) testStopIgnoresTerm(t *testing.T) {
	id := c.createStart(t, "ignores-term", "sh", "-c", "echo hi; sleep 300")
	if st := c.inspect(t, id); st.State != "CONTAINER_RUNNING" {
		t.Fatalf("after start the container is %s", st.State)
	}
	c.checkRuntime(t, id)
	// hi is in the log once the shell is past it, in its sleep.
	var logs result
	if !eventually(10*time.Second, func() bool {
		logs = c.crictl("logs", id)
		return logs.Code == 0 && strings.TrimSpace(logs.Stdout) == "hi"
	}) {
		t.Fatalf("crictl logs does not show hi: %s", logs)
	}
	start := time.Now()
	c.stop(t, id, 2)
	took := time.Since(start)
	st := c.inspect(t, id)
	if st.State != "CONTAINER_EXITED" {
		t.Fatalf("after a successful stop the CRI reports the container %s", st.State)
	}
	if st.ExitCode != 137 || took < 1500*time.Millisecond {
		t.Errorf("exit code %d (reason %q) after a stop of %v: want 137, a SIGKILL after the 2 s grace period",
			st.ExitCode, st.Reason, took.Round(time.Millisecond))
	}
	if logs := c.crictl("logs", id); logs.Code != 0 || strings.TrimSpace(logs.Stdout) != "hi" {
		t.Errorf("crictl logs after the stop: %s", logs)
	}
	// Left for the pod's removal to remove, as the kubelet leaves it.
}

// A container whose process exited by itself: the stop of it succeeds and
// the exit code stays its own.
func (c *criSuite) testStopExited(t *testing.T) {
	id := c.createStart(t, "exited", "sh", "-c", "exit 3")
	var st criStatus
	if !eventually(10*time.Second, func() bool { st = c.inspect(t, id); return st.State == "CONTAINER_EXITED" }) {
		t.Fatalf("the container that exits is %s after 10 s; containerd's errors about it:\n%s", st.State, c.daemonErrors(id))
	}
	c.stop(t, id, 2)
	if st = c.inspect(t, id); st.State != "CONTAINER_EXITED" || st.ExitCode != 3 {
		t.Errorf("after the stop: %s, exit code %d (reason %q), want CONTAINER_EXITED and 3", st.State, st.ExitCode, st.Reason)
	}
	c.remove(t, id)
}

// A stop that races the process's own exit: the shim may signal a process
// that has just exited, and the runtime's error must read as "already
// gone". Not deterministic; it runs a few times.
func (c *criSuite) testStopWhileExiting(t *testing.T) {
	for i := range 3 {
		id := c.createStart(t, fmt.Sprintf("exiting%d", i), "sh", "-c", "exit 3")
		c.stop(t, id, 2)
		// containerd records the exit from its event stream, which may
		// trail a stop that found the task already gone (as the kubelet
		// does, poll the status); the exit code must stay the process's
		// own, not a kill's 137.
		var st criStatus
		if !eventually(5*time.Second, func() bool { st = c.inspect(t, id); return st.State == "CONTAINER_EXITED" }) || st.ExitCode != 3 {
			t.Errorf("after the stop: %s, exit code %d (reason %q), want CONTAINER_EXITED and 3", st.State, st.ExitCode, st.Reason)
		}
		c.remove(t, id)
	}
}

// remove removes an exited container and checks that its runtime state,
// bundle and cgroups went with it.
func (c *criSuite) remove(t *testing.T, id string) {
	t.Helper()
	if r := c.crictl("rm", id); r.Code != 0 {
		t.Errorf("rm: %s", r)
	}
	c.checkGone(t, id)
}

func (c *criSuite) checkGone(t *testing.T, id string) {
	t.Helper()
	var left []string
	if !eventually(10*time.Second, func() bool {
		left = left[:0]
		if slices.Contains(c.runtimeState(), id) {
			left = append(left, "runtime state")
		}
		if _, err := os.Stat(c.bundle(id)); err == nil {
			left = append(left, "bundle "+c.bundle(id))
		}
		left = append(left, cgroupLeaks(id)...)
		return len(left) == 0
	}) {
		t.Errorf("left behind by %s: %v", id, left)
	}
}

// The pod stops, killing the container still running in it, and goes
// with its containers; nothing of them is left.
func (c *criSuite) testRemovePod(t *testing.T) {
	running := c.createStart(t, "running-at-stopp", "sleep", "300")
	if r := c.crictl("stopp", c.pod); r.Code != 0 {
		t.Fatalf("stopp: %s\ncontainerd's errors:\n%s", r, c.daemonErrors(""))
	}
	if st := c.inspect(t, running); st.State != "CONTAINER_EXITED" || st.ExitCode != 137 {
		t.Errorf("the container running when its pod stopped: %s, exit code %d (reason %q), want CONTAINER_EXITED and 137",
			st.State, st.ExitCode, st.Reason)
	}
	if r := c.crictl("rmp", c.pod); r.Code != 0 {
		t.Fatalf("rmp: %s", r)
	}
	c.pod = ""
	for _, list := range [][]string{{"pods", "-q"}, {"ps", "-a", "-q"}} {
		if r := c.crictl(list...); r.Code != 0 || strings.TrimSpace(r.Stdout) != "" {
			t.Errorf("left after rmp: %s", r)
		}
	}
	for _, id := range c.ids {
		c.checkGone(t, id)
	}
	if left := c.runtimeState(); len(left) > 0 {
		t.Errorf("runtime state left under %s: %v", c.runcRoot, left)
	}
}

func criRead(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
