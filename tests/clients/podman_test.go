package clients

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/tests/internal/harness"
)

// pmTimeout bounds one podman command, so that a hung conmon or runtime
// fails its subtest instead of the whole run.
const pmTimeout = 60 * time.Second

var pmIDPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// pmSuite is podman with everything private. podman has no daemon: its
// "daemon" here is its configuration, storage, lock files, event log and
// exit directory, all under dir, chosen by CONTAINERS_CONF and
// CONTAINERS_STORAGE_CONF. conmon passes that environment on to the
// `podman container cleanup` it runs when a container exits, so the
// cleanup works on the same private state.
type pmSuite struct {
	dir string
	// env selects the main containers.conf, whose runtime_supports_json
	// names the runtime: podman then passes it --log-format=json --log.
	env []string
	// noJSON selects a containers.conf that does not name it: podman
	// passes no global flags and shows the runtime's stderr on failure.
	noJSON []string
	// stateDir is the runtime's default state directory: podman never
	// passes --root, so conmon's and podman's calls must agree on it.
	stateDir string
}

func TestPodman(t *testing.T) {
	requireTools(t, "podman", "conmon", "script")
	s := pmSetup(t)

	t.Run("PrivateConfig", s.testPrivateConfig)
	t.Run("RunOutputExitCode", s.testRunOutputExitCode)
	t.Run("Seccomp", s.testSeccomp)
	t.Run("EnvCwdHostname", s.testEnvCwdHostname)
	t.Run("User", s.testUser)
	t.Run("ReadOnlyRootfs", s.testReadOnlyRootfs)
	t.Run("BindAndTmpfsMounts", s.testMounts)
	t.Run("DetachedExec", s.testDetachedExec)
	t.Run("ExecTTY", s.testExecTTY)
	t.Run("ExecDetached", s.testExecDetached)
	t.Run("Top", s.testTop)
	t.Run("PauseUnpause", s.testPauseUnpause)
	t.Run("StopGraceful", s.testStopGraceful)
	t.Run("StopIgnoringTERM", s.testStopIgnoringTERM)
	t.Run("KillAndRm", s.testKillAndRm)
	t.Run("RmForceRunning", s.testRmForceRunning)
	t.Run("RunTTY", s.testRunTTY)
	t.Run("InteractiveTTY", s.testInteractiveTTY)
	t.Run("Limits", s.testLimits)
	t.Run("PidsLimitEnforced", s.testPidsLimitEnforced)
	t.Run("OOMKill", s.testOOMKill)
	t.Run("PidHostStopKillAll", s.testPidHostStopKillAll)
	t.Run("StartRestartStopped", s.testStartRestartStopped)
	t.Run("RestartRunning", s.testRestartRunning)
	t.Run("FailedCreateLeavesNothing", s.testFailedCreate)
	t.Run("MissingCommandInPath", s.testMissingCommandInPath)
	t.Run("MissingCommandAbsolutePath", s.testMissingCommandAbsolute)
	t.Run("WithoutJSONLogFlags", s.testWithoutJSONLog)
	t.Run("NothingLeftBehind", s.testNothingLeftBehind)
}

// pmSetup writes the private configuration, registers the teardown and
// loads the image.
func pmSetup(t *testing.T) *pmSuite {
	t.Helper()
	// Short: conmon's attach socket lives at <tmpdir>/socket/<64-hex id>/attach.
	dir := filepath.Join(workDir, "pm")
	s := &pmSuite{dir: dir, stateDir: "/run/carapace"} // Carapace's state.DefaultRoot
	if filepath.Base(runtimeBin) == "runc" {
		s.stateDir = "/run/runc"
	}
	for _, d := range []string{"tmp", "graph", "run", "cni", "host"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { s.teardown(t) })

	storage := filepath.Join(dir, "storage.conf")
	mainConf := filepath.Join(dir, "containers.conf")
	noJSONConf := filepath.Join(dir, "containers-nojson.conf")
	files := map[string]string{
		storage: fmt.Sprintf("[storage]\ndriver = \"vfs\"\ngraphroot = %q\nrunroot = %q\n",
			filepath.Join(dir, "graph"), filepath.Join(dir, "run")),
		// "runc" is listed too so that the comparison run with runc gets
		// the same flags; the other file lists neither runtime.
		mainConf:   pmContainersConf(dir, `"carapace", "runc", "crun"`),
		noJSONConf: pmContainersConf(dir, `"crun"`),
	}
	for name, content := range files {
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s.env = []string{"CONTAINERS_CONF=" + mainConf, "CONTAINERS_STORAGE_CONF=" + storage}
	s.noJSON = []string{"CONTAINERS_CONF=" + noJSONConf, "CONTAINERS_STORAGE_CONF=" + storage}

	r := pmOK(t, s.podman("load", "-i", image.OCIArchive))
	if !strings.Contains(r.Stdout+r.Stderr, "Loaded image: "+imageRef) {
		t.Fatalf("podman load did not report %s:\n%s", imageRef, r)
	}
	return s
}

// pmContainersConf is a containers.conf with everything under dir.
//
// The ulimits are capped because podman's defaults for root (nofile
// 1048576, nproc 4194304) are above this machine's hard limits (open files
// 20000; podman runs itself, conmon and so the runtime with nproc 32768),
// and root here lacks CAP_SYS_RESOURCE: any runtime's create fails with
// EPERM raising a hard limit.
//
// lock_type "file" keeps the locks in tmp_dir rather than in the
// machine-wide /dev/shm/libpod_lock.
func pmContainersConf(dir, supportsJSON string) string {
	return fmt.Sprintf(`[containers]
netns = "none"
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[network]
network_backend = "cni"
network_config_dir = "%[1]s/cni"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
lock_type = "file"
tmp_dir = "%[1]s/tmp"
runtime_supports_json = [%[2]s]
`, dir, supportsJSON)
}

// teardown removes every container and image, waits for the conmons and
// cleanup processes to go, and removes the directory.
func (s *pmSuite) teardown(t *testing.T) {
	// Without its configuration podman would work on the machine's storage:
	// nothing of ours to remove there.
	if s.env != nil {
		if r := s.podman("rm", "--all", "--force", "--time", "0"); r.Code != 0 {
			t.Errorf("teardown: %s", r)
		}
		if r := s.podman("rmi", "--all", "--force"); r.Code != 0 {
			t.Errorf("teardown: %s", r)
		}
	}
	var left []string
	harness.Eventually(15*time.Second, func() bool {
		left = pmProcessesMentioning(s.dir)
		return len(left) == 0
	})
	if len(left) > 0 {
		t.Errorf("teardown: processes still use %s:\n  %s", s.dir, strings.Join(left, "\n  "))
	}
	if mi, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		for _, line := range strings.Split(string(mi), "\n") {
			if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], s.dir) {
				t.Errorf("teardown: still mounted: %s", f[4])
			}
		}
	}
	if err := os.RemoveAll(s.dir); err != nil {
		t.Errorf("teardown: %v", err)
	}
}

// podmanArgv is the command line of a podman command, run in the suite's
// directory: conmon inherits podman's working directory and, on an OOM kill
// under cgroup v1, creates a file named "oom" there, which would otherwise
// land in the source tree.
func (s *pmSuite) podmanArgv(args ...string) []string {
	return append([]string{"-C", s.dir, "podman", "--runtime", runtimeBin, "--tmpdir", filepath.Join(s.dir, "tmp")}, args...)
}

func (s *pmSuite) podman(args ...string) harness.Result { return s.podmanWith(s.env, args...) }

func (s *pmSuite) podmanWith(env []string, args ...string) harness.Result {
	return harness.Run(env, pmTimeout, "env", s.podmanArgv(args...)...)
}

// podmanTTY runs podman with a pty as its terminal, input typed into it.
func (s *pmSuite) podmanTTY(input string, args ...string) harness.Result {
	return harness.RunTTY(s.env, pmTimeout, input, "env", s.podmanArgv(args...)...)
}

// pmOK fails the test unless the command exited 0.
func pmOK(t *testing.T, r harness.Result) harness.Result {
	t.Helper()
	if r.Code != 0 {
		t.Fatalf("%s", r)
	}
	return r
}

// pmCode fails the test unless the command exited with code.
func pmCode(t *testing.T, r harness.Result, code int) harness.Result {
	t.Helper()
	if r.Code != code {
		t.Fatalf("want exit %d, got:\n%s", code, r)
	}
	return r
}

// runDetached starts a detached container named name, removed at the end
// of the test, and returns its id.
func (s *pmSuite) runDetached(t *testing.T, name string, args ...string) string {
	t.Helper()
	s.removeAtEnd(t, name)
	r := pmOK(t, s.podman(append([]string{"run", "-d", "--name", name}, args...)...))
	id := strings.TrimSpace(r.Stdout)
	if !pmIDPattern.MatchString(id) {
		t.Fatalf("podman run -d printed %q, not a container id:\n%s", id, r)
	}
	return id
}

func (s *pmSuite) removeAtEnd(t *testing.T, names ...string) {
	t.Cleanup(func() {
		s.podman(append([]string{"rm", "--force", "--ignore", "--time", "0"}, names...)...)
	})
}

func (s *pmSuite) inspect(t *testing.T, name, format string) string {
	t.Helper()
	return strings.TrimSpace(pmOK(t, s.podman("inspect", "--format", format, name)).Stdout)
}

// hostDir makes a directory for bind mounts, under the suite's directory.
func (s *pmSuite) hostDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp(filepath.Join(s.dir, "host"), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o777); err != nil {
		t.Fatal(err)
	}
	return d
}

// pmReadFile is a file's trimmed content, or "" if it cannot be read.
func pmReadFile(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}

// pmProcessesMentioning lists the processes whose command line contains s.
func pmProcessesMentioning(s string) []string {
	var found []string
	procs, _ := os.ReadDir("/proc")
	self := strconv.Itoa(os.Getpid())
	for _, p := range procs {
		if _, err := strconv.Atoi(p.Name()); err != nil || p.Name() == self {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", p.Name(), "cmdline"))
		if strings.Contains(string(cmdline), s) {
			found = append(found, p.Name()+": "+strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " ")))
		}
	}
	return found
}

// pmPidsOf is the host pids in a container's cgroup.
func pmPidsOf(t *testing.T, id string) []string {
	t.Helper()
	return strings.Fields(cgroupFile(t, "pids", "libpod-"+id, "cgroup.procs"))
}

// pmAlive reports whether a host pid is still a live process of the
// container id (a pid reused by another process does not count).
func pmAlive(pid, id string) bool {
	b, err := os.ReadFile("/proc/" + pid + "/cgroup")
	if err != nil || !strings.Contains(string(b), id) {
		return false
	}
	st := pmReadFile("/proc/" + pid + "/stat")
	if i := strings.LastIndexByte(st, ')'); i > 0 && len(st) > i+2 {
		return st[i+2] != 'Z'
	}
	return true
}

// assertGone checks that the runtime's state, the cgroups and the conmon
// of container id are gone, polling briefly: podman's cleanup of an exited
// container runs asynchronously, from conmon.
func (s *pmSuite) assertGone(t *testing.T, id string) {
	t.Helper()
	var left []string
	harness.Eventually(10*time.Second, func() bool {
		left = left[:0]
		if _, err := os.Lstat(filepath.Join(s.stateDir, id)); !os.IsNotExist(err) {
			left = append(left, "runtime state: "+filepath.Join(s.stateDir, id))
		}
		left = append(left, harness.CgroupLeaks("libpod-"+id)...)
		for _, p := range pmProcessesMentioning(id) {
			left = append(left, "process "+p)
		}
		return len(left) == 0
	})
	if len(left) > 0 {
		t.Errorf("left behind by container %.12s:\n  %s", id, strings.Join(left, "\n  "))
	}
}

// pmMounts parses /proc/mounts as printed in a container: mount point to
// "fstype options".
func pmMounts(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 4 {
			m[f[1]] = f[2] + " " + f[3]
		}
	}
	return m
}

func pmHasOption(fstypeOpts, opt string) bool {
	_, opts, _ := strings.Cut(fstypeOpts, " ")
	for _, o := range strings.Split(opts, ",") {
		if o == opt {
			return true
		}
	}
	return false
}

func (s *pmSuite) testPrivateConfig(t *testing.T) {
	r := pmOK(t, s.podman("info", "--format",
		"{{.Host.OCIRuntime.Path}}|{{.Host.CgroupManager}}|{{.Store.GraphDriverName}}|{{.Store.GraphRoot}}|{{.Store.RunRoot}}\n{{.Host.OCIRuntime.Version}}"))
	first, version, _ := strings.Cut(r.Stdout, "\n")
	want := strings.Join([]string{runtimeBin, "cgroupfs", "vfs", filepath.Join(s.dir, "graph"), filepath.Join(s.dir, "run")}, "|")
	if first != want {
		t.Errorf("podman info: got %q, want %q", first, want)
	}
	// podman info runs `<runtime> --version` and shows it.
	v := pmOK(t, harness.Run(nil, pmTimeout, runtimeBin, "--version"))
	vFirst, _, _ := strings.Cut(v.Stdout, "\n")
	if vFirst == "" || !strings.Contains(version, vFirst) {
		t.Errorf("podman info shows runtime version %q, the runtime says %q", version, vFirst)
	}
	r = pmOK(t, s.podman("images", "--format", "{{.Repository}}:{{.Tag}}"))
	if !strings.Contains(r.Stdout, imageRef) {
		t.Errorf("podman images does not list %s:\n%s", imageRef, r.Stdout)
	}
}

func (s *pmSuite) testRunOutputExitCode(t *testing.T) {
	r := pmCode(t, s.podman("run", "--rm", "--name", "pm-exit3", imageRef, "sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3"), 3)
	if r.Stdout != "to-stdout\n" {
		t.Errorf("stdout %q, want %q", r.Stdout, "to-stdout\n")
	}
	if !strings.Contains(r.Stderr, "to-stderr") {
		t.Errorf("stderr %q lacks the container's stderr", r.Stderr)
	}
	pmOK(t, s.podman("run", "--rm", "--name", "pm-exit0", imageRef, "true"))
	pmCode(t, s.podman("run", "--rm", "--name", "pm-exit1", imageRef, "false"), 1)
	// --rm removed it.
	pmCode(t, s.podman("container", "exists", "pm-exit3"), 1)
}

// testSeccomp: podman's default profile is loaded, and unconfined loads
// none.
func (s *pmSuite) testSeccomp(t *testing.T) {
	r := pmOK(t, s.podman("run", "--rm", "--name", "pm-seccomp", imageRef, "sh", "-c", "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status"))
	if !strings.Contains(r.Stdout, "Seccomp:\t2") {
		t.Errorf("podman's default seccomp profile is not loaded: %s", r)
	}
	r = pmOK(t, s.podman("run", "--rm", "--name", "pm-unconfined", "--security-opt", "seccomp=unconfined", imageRef, "grep", "^Seccomp:", "/proc/self/status"))
	if !strings.Contains(r.Stdout, "Seccomp:\t0") {
		t.Errorf("seccomp=unconfined still loads a filter: %s", r)
	}
}

func (s *pmSuite) testEnvCwdHostname(t *testing.T) {
	r := pmOK(t, s.podman("run", "--rm", "--name", "pm-env", "-e", "FOO=bar", "-e", "SPACED=a b c",
		"-w", "/tmp", "-h", "pm-host", imageRef, "sh", "-c",
		`echo "FOO=$FOO"; echo "SPACED=$SPACED"; echo "PATH=$PATH"; echo "PWD=$(pwd)"; `+
			`echo "HOSTNAME=$(hostname)"; echo "UTS=$(cat /proc/sys/kernel/hostname)"; `+
			`echo "IFACES=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\n' ' ')"`))
	for _, want := range []string{
		"FOO=bar", "SPACED=a b c",
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", // from the image config
		"PWD=/tmp", "HOSTNAME=pm-host", "UTS=pm-host",
		"IFACES=lo ", // netns "none": a private network namespace with loopback only
	} {
		if !strings.Contains(r.Stdout, want+"\n") {
			t.Errorf("missing %q in:\n%s", want, r.Stdout)
		}
	}
	// Without -w and -h: the image's working directory, and a hostname that
	// is the container id's prefix, not the host's.
	r = pmOK(t, s.podman("run", "--name", "pm-env2", imageRef, "sh", "-c", "pwd; hostname"))
	s.removeAtEnd(t, "pm-env2")
	id := s.inspect(t, "pm-env2", "{{.Id}}")
	if want := "/\n" + id[:12] + "\n"; r.Stdout != want {
		t.Errorf("got %q, want %q", r.Stdout, want)
	}
}

func (s *pmSuite) testUser(t *testing.T) {
	status := `id -u; id -g; grep -E '^(Uid|Gid|Groups):' /proc/self/status`
	cases := []struct {
		args []string
		want []string
	}{
		// app's groups come from the image's /etc/group (audio lists app).
		{[]string{"-u", "app"}, []string{"1000", "1000", "Uid:\t1000\t1000\t1000\t1000", "Gid:\t1000\t1000\t1000\t1000", "Groups:\t29 1000"}},
		{[]string{"-u", "1000:1000"}, []string{"1000", "1000", "Uid:\t1000\t1000\t1000\t1000", "Groups:\t1000"}},
		{[]string{"-u", "1000:1000", "--group-add", "audio"}, []string{"1000", "1000", "Groups:\t29 1000"}},
		{[]string{"-u", "0:29"}, []string{"0", "29", "Uid:\t0\t0\t0\t0", "Gid:\t29\t29\t29\t29"}},
	}
	for i, c := range cases {
		args := append([]string{"run", "--rm", "--name", fmt.Sprintf("pm-user%d", i)}, c.args...)
		r := pmOK(t, s.podman(append(args, imageRef, "sh", "-c", status)...))
		lines := strings.Split(strings.TrimRight(r.Stdout, "\n"), "\n")
		for _, w := range c.want {
			found := false
			for _, l := range lines {
				found = found || strings.TrimRight(l, " ") == w
			}
			if !found {
				t.Errorf("%v: missing line %q in:\n%s", c.args, w, r.Stdout)
			}
		}
	}
	// A file the user creates is owned by it, as seen from the host.
	h := s.hostDir(t)
	pmOK(t, s.podman("run", "--rm", "--name", "pm-user-file", "-u", "app", "-v", h+":/h", imageRef, "touch", "/h/mine"))
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(h, "mine"), &st); err != nil {
		t.Fatal(err)
	} else if st.Uid != 1000 || st.Gid != 1000 {
		t.Errorf("file created as app is owned by %d:%d on the host, want 1000:1000", st.Uid, st.Gid)
	}
}

func (s *pmSuite) testReadOnlyRootfs(t *testing.T) {
	script := `touch /newfile; echo "touch=$?"; cat /proc/mounts; echo x > /tmp/x && echo tmp-writable`
	r := pmOK(t, s.podman("run", "--rm", "--name", "pm-ro", "--read-only", imageRef, "sh", "-c", script))
	if !strings.Contains(r.Stdout, "touch=1\n") || !strings.Contains(r.Stderr, "Read-only file system") {
		t.Errorf("writing to a read-only rootfs did not fail with EROFS:\n%s", r)
	}
	m := pmMounts(r.Stdout)
	if !pmHasOption(m["/"], "ro") {
		t.Errorf("/ is mounted %q, want ro", m["/"])
	}
	// podman's read_only_tmpfs: /tmp stays writable.
	if !strings.Contains(r.Stdout, "tmp-writable\n") || !strings.HasPrefix(m["/tmp"], "tmpfs ") {
		t.Errorf("/tmp is not a writable tmpfs under --read-only (%q):\n%s", m["/tmp"], r)
	}
	// The same without --read-only writes: the check above is not vacuous.
	r = pmOK(t, s.podman("run", "--rm", "--name", "pm-rw", imageRef, "sh", "-c", script))
	if !strings.Contains(r.Stdout, "touch=0\n") || !pmHasOption(pmMounts(r.Stdout)["/"], "rw") {
		t.Errorf("rootfs not writable without --read-only:\n%s", r)
	}
}

func (s *pmSuite) testMounts(t *testing.T) {
	h := s.hostDir(t)
	if err := os.WriteFile(filepath.Join(h, "f"), []byte("from-host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := pmOK(t, s.podman("run", "--rm", "--name", "pm-mounts",
		"-v", h+":/mnt/rw", "-v", h+":/mnt/ro:ro", "--tmpfs", "/scratch:size=1m,mode=1770",
		imageRef, "sh", "-c",
		`cat /mnt/rw/f; echo from-ctr > /mnt/rw/new; echo x > /mnt/ro/denied; echo "ro=$?"; `+
			`echo s > /scratch/s && echo scratch-writable; echo "mode=$(stat -c %a /scratch)"; cat /proc/mounts`))
	for _, want := range []string{"from-host\n", "ro=1\n", "scratch-writable\n", "mode=1770\n"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("missing %q in:\n%s", want, r)
		}
	}
	if !strings.Contains(r.Stderr, "Read-only file system") {
		t.Errorf("writing to the :ro bind did not fail with EROFS:\n%s", r.Stderr)
	}
	m := pmMounts(r.Stdout)
	if !pmHasOption(m["/mnt/rw"], "rw") || !pmHasOption(m["/mnt/ro"], "ro") {
		t.Errorf("bind mounts: /mnt/rw %q, /mnt/ro %q", m["/mnt/rw"], m["/mnt/ro"])
	}
	if !strings.HasPrefix(m["/scratch"], "tmpfs ") || !pmHasOption(m["/scratch"], "size=1024k") || !pmHasOption(m["/scratch"], "mode=1770") {
		t.Errorf("/scratch is %q, want tmpfs size=1024k mode=1770", m["/scratch"])
	}
	if got := pmReadFile(filepath.Join(h, "new")); got != "from-ctr" {
		t.Errorf("host sees %q in the file the container wrote, want from-ctr", got)
	}
	if _, err := os.Stat(filepath.Join(h, "denied")); !os.IsNotExist(err) {
		t.Errorf("the write through the :ro bind reached the host (%v)", err)
	}
}

func (s *pmSuite) testDetachedExec(t *testing.T) {
	id := s.runDetached(t, "pm-exec", imageRef, "sh", "-c", `trap "exit 0" TERM; while :; do sleep 0.1; done`)
	if got := s.inspect(t, "pm-exec", "{{.Id}} {{.State.Running}}"); got != id+" true" {
		t.Fatalf("inspect: %q, want %q", got, id+" true")
	}
	// While it runs, the runtime keeps its state in its default directory.
	if _, err := os.Stat(filepath.Join(s.stateDir, id)); err != nil {
		t.Errorf("no runtime state for a running container: %v", err)
	}
	r := pmCode(t, s.podman("exec", "pm-exec", "sh", "-c", `echo "out-$((20+22))"; echo err >&2; exit 4`), 4)
	if r.Stdout != "out-42\n" || !strings.Contains(r.Stderr, "err") {
		t.Errorf("exec output:\n%s", r)
	}
	r = pmOK(t, s.podman("exec", "-e", "X=y", "-w", "/tmp", "-u", "app", "pm-exec", "sh", "-c",
		`echo "$X $(pwd) $(id -u) $(tty)"; tr '\0' ' ' < /proc/1/cmdline`))
	if want := "y /tmp 1000 not a tty\n"; !strings.HasPrefix(r.Stdout, want) {
		t.Errorf("exec -e -w -u: got %q, want prefix %q", r.Stdout, want)
	}
	// The exec joined the container's pid namespace: its pid 1 is the init.
	if !strings.Contains(r.Stdout, "while :; do sleep 0.1; done") {
		t.Errorf("exec does not see the container's init as pid 1:\n%s", r.Stdout)
	}
	pmCode(t, s.podman("exec", "pm-exec", "nosuchcmd-pm"), 127)
}

func (s *pmSuite) testExecTTY(t *testing.T) {
	s.runDetached(t, "pm-exectty", imageRef, "sh", "-c", `trap "exit 0" TERM; while :; do sleep 0.1; done`)
	r := s.podmanTTY("", "exec", "-t", "pm-exectty", "sh", "-c", `tty; [ -t 1 ] && echo stdout-is-tty; exit 6`)
	if r.Code != 6 || !strings.Contains(r.Stdout, "/dev/pts/") || !strings.Contains(r.Stdout, "stdout-is-tty") {
		t.Errorf("exec -t: want a pty and exit 6, got:\n%s", r)
	}
}

func (s *pmSuite) testExecDetached(t *testing.T) {
	s.runDetached(t, "pm-execd", imageRef, "sh", "-c", `trap "exit 0" TERM; while :; do sleep 0.1; done`)
	// Were exec -d to wait for its process, it would time out.
	r := pmOK(t, s.podman("exec", "-d", "pm-execd", "sh", "-c", `echo started > /tmp/execd; exec sleep 4242`))
	if !pmIDPattern.MatchString(strings.TrimSpace(r.Stdout)) {
		t.Errorf("exec -d printed %q, not an exec session id", r.Stdout)
	}
	var out string
	if !harness.Eventually(10*time.Second, func() bool {
		out = s.podman("exec", "pm-execd", "sh", "-c", `cat /tmp/execd; ps -o args`).Stdout
		return strings.Contains(out, "started") && strings.Contains(out, "sleep 4242")
	}) {
		t.Errorf("the detached exec's process did not run:\n%s", out)
	}
}

func (s *pmSuite) testTop(t *testing.T) {
	id := s.runDetached(t, "pm-top", imageRef, "sh", "-c", `sleep 4711 & exec sleep 4712`)
	var r harness.Result
	if !harness.Eventually(10*time.Second, func() bool {
		r = s.podman("top", "pm-top")
		return r.Code == 0 && strings.Contains(r.Stdout, "sleep 4711")
	}) {
		t.Fatalf("podman top does not show the background process:\n%s", r)
	}
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if h := strings.Fields(lines[0]); len(h) < 3 || h[0] != "USER" || h[1] != "PID" {
		t.Errorf("podman top header %q", lines[0])
	}
	var initShown bool
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		initShown = initShown || (len(f) > 2 && f[1] == "1" && strings.Contains(l, "sleep 4712"))
	}
	if !initShown {
		t.Errorf("podman top does not show sleep 4712 as pid 1:\n%s", r.Stdout)
	}
	// The host pids podman reports are the ones in the container's cgroup.
	r = pmOK(t, s.podman("top", "pm-top", "hpid", "args"))
	cg := pmPidsOf(t, id)
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(r.Stdout), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) > 0 && strings.Contains(l, "sleep 471") {
			n++
			if !slices.Contains(cg, f[0]) {
				t.Errorf("host pid %s from podman top is not in the container's cgroup %v", f[0], cg)
			}
		}
	}
	if n != 2 {
		t.Errorf("podman top hpid shows %d sleeps, want 2:\n%s", n, r.Stdout)
	}
}

func (s *pmSuite) testPauseUnpause(t *testing.T) {
	h := s.hostDir(t)
	counter := filepath.Join(h, "n")
	id := s.runDetached(t, "pm-pause", "-v", h+":/h", imageRef, "sh", "-c",
		`trap "exit 0" TERM; i=0; while :; do i=$((i+1)); echo $i > /h/n.tmp; mv /h/n.tmp /h/n; sleep 0.05; done`)
	if !harness.Eventually(10*time.Second, func() bool { return pmReadFile(counter) != "" }) {
		t.Fatal("the container's counter never appeared")
	}
	pmOK(t, s.podman("pause", "pm-pause"))
	if ps := pmOK(t, s.podman("ps", "--all", "--format", "{{.Names}} {{.Status}}")).Stdout; !strings.Contains(ps, "pm-pause Paused\n") {
		t.Errorf("podman ps does not show pm-pause Paused:\n%s", ps)
	}
	if got := s.inspect(t, "pm-pause", "{{.State.Status}}"); got != "paused" {
		t.Errorf("inspect status %q, want paused", got)
	}
	if got := cgroupFile(t, "freezer", "libpod-"+id, "freezer.state"); got != "FROZEN" {
		t.Errorf("host freezer.state %q, want FROZEN", got)
	}
	before := pmReadFile(counter)
	time.Sleep(400 * time.Millisecond)
	if after := pmReadFile(counter); after != before {
		t.Errorf("the paused container kept counting: %s then %s", before, after)
	}
	pmOK(t, s.podman("unpause", "pm-pause"))
	if got := cgroupFile(t, "freezer", "libpod-"+id, "freezer.state"); got != "THAWED" {
		t.Errorf("host freezer.state after unpause %q, want THAWED", got)
	}
	if !harness.Eventually(5*time.Second, func() bool { return pmReadFile(counter) != before }) {
		t.Errorf("the container did not resume counting after unpause (still %s)", before)
	}
	if got := s.inspect(t, "pm-pause", "{{.State.Status}}"); got != "running" {
		t.Errorf("inspect status after unpause %q, want running", got)
	}
}

func (s *pmSuite) testStopGraceful(t *testing.T) {
	id := s.runDetached(t, "pm-stop", imageRef, "sh", "-c", `trap "exit 3" TERM; while :; do sleep 0.1; done`)
	start := time.Now()
	r := pmOK(t, s.podman("stop", "--time", "20", "pm-stop"))
	if d := time.Since(start); d > 10*time.Second || strings.Contains(r.Stderr, "SIGKILL") {
		t.Errorf("stop of a container that exits on SIGTERM took %v:\n%s", d, r)
	}
	if got := s.inspect(t, "pm-stop", "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 3" {
		t.Errorf("after stop: %q, want exited 3 (the TERM trap's code)", got)
	}
	s.assertGone(t, id)
}

func (s *pmSuite) testStopIgnoringTERM(t *testing.T) {
	id := s.runDetached(t, "pm-stopkill", imageRef, "sh", "-c", `trap "" TERM; while :; do sleep 0.1; done`)
	pid := s.inspect(t, "pm-stopkill", "{{.State.Pid}}")
	start := time.Now()
	r := pmOK(t, s.podman("stop", "--time", "1", "pm-stopkill"))
	d := time.Since(start)
	if !strings.Contains(r.Stderr, "resorting to SIGKILL") || d < time.Second {
		t.Errorf("stop did not fall back to SIGKILL after 1 s (took %v):\n%s", d, r)
	}
	if got := s.inspect(t, "pm-stopkill", "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 137" {
		t.Errorf("after stop: %q, want exited 137", got)
	}
	if pmAlive(pid, id) {
		t.Errorf("init (host pid %s) still alive after stop", pid)
	}
	s.assertGone(t, id)
}

func (s *pmSuite) testKillAndRm(t *testing.T) {
	h := s.hostDir(t)
	s.runDetached(t, "pm-kill", "-v", h+":/h", imageRef, "sh", "-c",
		`trap "echo got-usr1 > /h/sig; exit 9" USR1; touch /h/ready; while :; do sleep 0.1; done`)
	if !harness.Eventually(10*time.Second, func() bool { _, err := os.Stat(filepath.Join(h, "ready")); return err == nil }) {
		t.Fatal("the container did not get ready")
	}
	pmOK(t, s.podman("kill", "--signal", "USR1", "pm-kill"))
	if r := pmOK(t, s.podman("wait", "pm-kill")); strings.TrimSpace(r.Stdout) != "9" {
		t.Errorf("podman wait after SIGUSR1: %q, want 9", r.Stdout)
	}
	if got := pmReadFile(filepath.Join(h, "sig")); got != "got-usr1" {
		t.Errorf("the container's USR1 trap wrote %q", got)
	}

	id := s.runDetached(t, "pm-kill9", imageRef, "sleep", "1000")
	pid := s.inspect(t, "pm-kill9", "{{.State.Pid}}")
	pmOK(t, s.podman("kill", "pm-kill9"))
	if r := pmOK(t, s.podman("wait", "pm-kill9")); strings.TrimSpace(r.Stdout) != "137" {
		t.Errorf("podman wait after kill: %q, want 137", r.Stdout)
	}
	if pmAlive(pid, id) {
		t.Errorf("init (host pid %s) alive after podman kill", pid)
	}
	pmOK(t, s.podman("rm", "pm-kill", "pm-kill9"))
	for _, n := range []string{"pm-kill", "pm-kill9"} {
		pmCode(t, s.podman("container", "exists", n), 1)
	}
	s.assertGone(t, id)
}

func (s *pmSuite) testRmForceRunning(t *testing.T) {
	id := s.runDetached(t, "pm-rmf", imageRef, "sh", "-c", `trap "exit 0" TERM; while :; do sleep 0.1; done`)
	pid := s.inspect(t, "pm-rmf", "{{.State.Pid}}")
	// Without --force podman refuses: the container is running.
	if r := s.podman("rm", "pm-rmf"); r.Code == 0 || !strings.Contains(r.Stderr, "running") {
		t.Errorf("rm of a running container without -f:\n%s", r)
	}
	pmOK(t, s.podman("rm", "--force", "pm-rmf"))
	pmCode(t, s.podman("container", "exists", "pm-rmf"), 1)
	if pmAlive(pid, id) {
		t.Errorf("init (host pid %s) alive after rm -f", pid)
	}
	s.assertGone(t, id)
}

func (s *pmSuite) testRunTTY(t *testing.T) {
	r := s.podmanTTY("", "run", "--rm", "-t", "--name", "pm-tty", imageRef, "sh", "-c",
		`tty; [ -t 0 ] && echo stdin-is-tty; [ -t 1 ] && echo stdout-is-tty; exit 4`)
	if r.Code != 4 {
		t.Errorf("run -t: want exit 4:\n%s", r)
	}
	for _, want := range []string{"/dev/pts/", "stdin-is-tty", "stdout-is-tty"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("run -t: missing %q:\n%s", want, r)
		}
	}
	// The container's pty turns \n into \r\n: the output went through it.
	if !strings.Contains(r.Stdout, "stdin-is-tty\r\n") {
		t.Errorf("run -t output did not pass through a pty: %q", r.Stdout)
	}
}

func (s *pmSuite) testInteractiveTTY(t *testing.T) {
	// What is typed is echoed back by the terminals, so the checks look for
	// what only the shell's evaluation prints.
	input := "echo hello-$((6*7))\ntty\nexit 5\n"
	r := s.podmanTTY(input, "run", "--rm", "-it", "--name", "pm-it", imageRef, "sh")
	if r.Code != 5 {
		t.Errorf("interactive session: want exit 5:\n%s", r)
	}
	for _, want := range []string{"hello-42", "/dev/pts/"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("interactive session: missing %q:\n%s", want, r)
		}
	}
}

func (s *pmSuite) testLimits(t *testing.T) {
	id := s.runDetached(t, "pm-limits", "-m", "64m", "--memory-swap", "96m", "--pids-limit", "42",
		"--cpus", "0.5", "--cpu-shares", "512", imageRef, "sleep", "1000")
	for _, c := range []struct{ controller, file, want string }{
		{"memory", "memory.limit_in_bytes", "67108864"},
		{"memory", "memory.memsw.limit_in_bytes", "100663296"},
		{"pids", "pids.max", "42"},
		{"cpu", "cpu.cfs_quota_us", "50000"},
		{"cpu", "cpu.cfs_period_us", "100000"},
		{"cpu", "cpu.shares", "512"},
	} {
		if got := cgroupFile(t, c.controller, "libpod-"+id, c.file); got != c.want {
			t.Errorf("host %s/%s = %s, want %s", c.controller, c.file, got, c.want)
		}
	}
	pid := s.inspect(t, "pm-limits", "{{.State.Pid}}")
	for _, controller := range []string{"memory", "pids", "cpu"} {
		if procs := strings.Fields(cgroupFile(t, controller, "libpod-"+id, "cgroup.procs")); !slices.Contains(procs, pid) {
			t.Errorf("init (host pid %s) is not in its %s cgroup (%v)", pid, controller, procs)
		}
	}
	r := pmOK(t, s.podman("exec", "pm-limits", "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/pids/pids.max"))
	if r.Stdout != "67108864\n42\n" {
		t.Errorf("the container sees limits %q, want 67108864 and 42", r.Stdout)
	}
}

func (s *pmSuite) testPidsLimitEnforced(t *testing.T) {
	r := s.podman("run", "--rm", "--name", "pm-pids", "--pids-limit", "8", imageRef, "sh", "-c",
		`for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 5 & done; echo spawned`)
	if !strings.Contains(r.Stderr, "can't fork") {
		t.Errorf("12 children under --pids-limit 8 did not fail to fork:\n%s", r)
	}
}

func (s *pmSuite) testOOMKill(t *testing.T) {
	hog := `x=0123456789abcdef; while :; do x=$x$x; done`
	// The hog is pid 1: the container's exit status is the OOM kill's.
	start := time.Now()
	pmCode(t, s.podman("run", "--rm", "--name", "pm-oom", "-m", "32m", "--memory-swap", "32m", imageRef, "sh", "-c", hog), 137)
	t.Logf("OOM-killed container exited after %v", time.Since(start))

	// The same in an exec: the host's cgroup counts the OOM kill, and the
	// container's init survives it.
	id := s.runDetached(t, "pm-oom2", "-m", "32m", "--memory-swap", "32m", imageRef, "sleep", "1000")
	if got := cgroupFile(t, "memory", "libpod-"+id, "memory.oom_control"); !strings.Contains(got, "oom_kill 0") {
		t.Fatalf("memory.oom_control before: %q", got)
	}
	pmCode(t, s.podman("exec", "pm-oom2", "sh", "-c", hog), 137)
	if got := cgroupFile(t, "memory", "libpod-"+id, "memory.oom_control"); !strings.Contains(got, "oom_kill 1") {
		t.Errorf("memory.oom_control after: %q, want oom_kill 1", got)
	}
	if got := s.inspect(t, "pm-oom2", "{{.State.Status}}"); got != "running" {
		t.Errorf("container status %q after its exec was OOM-killed, want running", got)
	}
}

func (s *pmSuite) testPidHostStopKillAll(t *testing.T) {
	h := s.hostDir(t)
	ready := filepath.Join(h, "ready")
	// Without a pid namespace of its own, the end of init does not end the
	// background shell: only the runtime's `kill --all` reaches it with the
	// SIGTERM podman stop sends, which its trap records. init waits for it,
	// so that podman's cleanup (delete --force, SIGKILL) cannot overtake
	// the trap; if the background shell is not signalled, init never exits
	// and stop has to resort to SIGKILL.
	id := s.runDetached(t, "pm-pidhost", "--pid", "host", "-v", h+":/h", imageRef, "sh", "-c",
		`trap 'wait; exit 0' TERM
(trap 'echo bg-term >> /h/log; exit 0' TERM; touch /h/ready; while :; do sleep 0.1; done) &
while :; do sleep 0.1; done`)
	waitReady := func() []string {
		t.Helper()
		if !harness.Eventually(10*time.Second, func() bool { _, err := os.Stat(ready); return err == nil }) {
			t.Fatal("the background shell did not start")
		}
		return pmPidsOf(t, id)
	}
	allGone := func(pids []string) bool {
		for _, p := range pids {
			if pmAlive(p, id) {
				return false
			}
		}
		return true
	}

	pids := waitReady()
	start := time.Now()
	r := pmOK(t, s.podman("stop", "--time", "5", "pm-pidhost"))
	if d := time.Since(start); d > 4*time.Second || strings.Contains(r.Stderr, "SIGKILL") {
		t.Errorf("stop took %v:\n%s", d, r)
	}
	if got := pmReadFile(filepath.Join(h, "log")); got != "bg-term" {
		t.Errorf("the background shell's TERM trap wrote %q, want bg-term: podman stop's kill --all did not signal it", got)
	}
	if !harness.Eventually(5*time.Second, func() bool { return allGone(pids) }) {
		t.Errorf("processes of the container survived podman stop: %v", pids)
	}
	if got := s.inspect(t, "pm-pidhost", "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 0" {
		t.Errorf("after stop: %q, want exited 0 (init's TERM trap)", got)
	}
	s.assertGone(t, id)

	// Started again (create on the same bundle and id), then killed.
	if err := os.Remove(ready); err != nil {
		t.Fatal(err)
	}
	pmOK(t, s.podman("start", "pm-pidhost"))
	pids = waitReady()
	pmOK(t, s.podman("kill", "pm-pidhost"))
	if r := pmOK(t, s.podman("wait", "pm-pidhost")); strings.TrimSpace(r.Stdout) != "137" {
		t.Errorf("podman wait after kill: %q, want 137", r.Stdout)
	}
	if !harness.Eventually(10*time.Second, func() bool { return allGone(pids) }) {
		t.Errorf("processes of the container survived podman kill: %v", pids)
	}
	s.assertGone(t, id)
}

func (s *pmSuite) testStartRestartStopped(t *testing.T) {
	h := s.hostDir(t)
	runs := filepath.Join(h, "runs")
	s.removeAtEnd(t, "pm-restart")
	pmCode(t, s.podman("run", "--name", "pm-restart", "-v", h+":/h", imageRef, "sh", "-c", `echo run >> /h/runs; echo out; exit 2`), 2)
	id := s.inspect(t, "pm-restart", "{{.Id}}")

	r := pmCode(t, s.podman("start", "--attach", "pm-restart"), 2)
	if r.Stdout != "out\n" {
		t.Errorf("start --attach output %q, want out", r.Stdout)
	}
	pmOK(t, s.podman("restart", "pm-restart"))
	if r := pmOK(t, s.podman("wait", "pm-restart")); strings.TrimSpace(r.Stdout) != "2" {
		t.Errorf("podman wait after restart: %q, want 2", r.Stdout)
	}
	if got := pmReadFile(runs); got != "run\nrun\nrun" {
		t.Errorf("the container ran %q, want three times", got)
	}
	if got := s.inspect(t, "pm-restart", "{{.Id}} {{.State.Status}} {{.State.ExitCode}}"); got != id+" exited 2" {
		t.Errorf("after restart: %q, want %s exited 2", got, id)
	}
	s.assertGone(t, id)
}

func (s *pmSuite) testRestartRunning(t *testing.T) {
	id := s.runDetached(t, "pm-restart2", imageRef, "sh", "-c", `trap "exit 0" TERM; while :; do sleep 0.1; done`)
	pid := s.inspect(t, "pm-restart2", "{{.State.Pid}}")
	pmOK(t, s.podman("restart", "--time", "10", "pm-restart2"))
	if got := s.inspect(t, "pm-restart2", "{{.State.Status}}"); got != "running" {
		t.Fatalf("after restart: %q, want running", got)
	}
	newPid := s.inspect(t, "pm-restart2", "{{.State.Pid}}")
	if newPid == pid || pmAlive(pid, id) {
		t.Errorf("restart did not replace init (pid %s, now %s)", pid, newPid)
	}
	if r := pmOK(t, s.podman("exec", "pm-restart2", "echo", "alive")); r.Stdout != "alive\n" {
		t.Errorf("exec after restart: %q", r.Stdout)
	}
	if _, err := os.Stat(filepath.Join(s.stateDir, id)); err != nil {
		t.Errorf("no runtime state after restart: %v", err)
	}
}

// pmRlimitCause reports whether a failure message names the rlimit that
// could not be set, in either runtime's words.
func pmRlimitCause(stderr string) bool {
	l := strings.ToLower(stderr)
	return strings.Contains(l, "rlimit") && (strings.Contains(l, "operation not permitted") || strings.Contains(l, "cap_sys_resource"))
}

func (s *pmSuite) testFailedCreate(t *testing.T) {
	// An open-files hard limit above the runtime's own cannot be set
	// without CAP_SYS_RESOURCE: the runtime's create fails.
	s.removeAtEnd(t, "pm-badcreate")
	r := pmOK(t, s.podman("create", "--name", "pm-badcreate", "--ulimit", "nofile=30000:30000", imageRef, "true"))
	id := strings.TrimSpace(r.Stdout)
	r = s.podman("start", "pm-badcreate")
	if r.Code == 0 || !pmRlimitCause(r.Stderr) {
		t.Errorf("start with an impossible rlimit: want a failure naming the rlimit:\n%s", r)
	}
	if got := s.inspect(t, "pm-badcreate", "{{.State.Status}}"); got == "running" {
		t.Errorf("container is %s after a failed create", got)
	}
	s.assertGone(t, id)
	pmOK(t, s.podman("rm", "pm-badcreate"))

	cidfile := filepath.Join(s.hostDir(t), "cid")
	r = s.podman("run", "--rm", "--cidfile", cidfile, "--name", "pm-badcreate2", "--ulimit", "nofile=30000:30000", imageRef, "true")
	if r.Code != 126 || !pmRlimitCause(r.Stderr) {
		t.Errorf("run with an impossible rlimit: want exit 126 and a message naming the rlimit:\n%s", r)
	}
	id = pmReadFile(cidfile)
	if !pmIDPattern.MatchString(id) {
		t.Fatalf("cidfile holds %q", id)
	}
	pmCode(t, s.podman("container", "exists", id), 1)
	s.assertGone(t, id)
}

func (s *pmSuite) testMissingCommandInPath(t *testing.T) {
	r := s.podman("run", "--rm", "--name", "pm-nocmd", imageRef, "nosuchcmd-pm")
	// podman run's documented status for a command that cannot be found.
	if r.Code != 127 || !strings.Contains(r.Stderr, "nosuchcmd-pm") || !strings.Contains(r.Stderr, "not found") {
		t.Errorf("want exit 127 and an error naming the command:\n%s", r)
	}
}

func (s *pmSuite) testMissingCommandAbsolute(t *testing.T) {
	cidfile := filepath.Join(s.hostDir(t), "cid")
	r := s.podman("run", "--rm", "--cidfile", cidfile, "--name", "pm-nocmd-abs", imageRef, "/nonexistent/pm")
	if r.Code != 127 || !strings.Contains(r.Stderr, "/nonexistent/pm") || !strings.Contains(r.Stderr, "no such file or directory") {
		t.Errorf("want exit 127 and an error naming the missing file:\n%s", r)
	}
	if id := pmReadFile(cidfile); pmIDPattern.MatchString(id) {
		s.assertGone(t, id)
	}

	// The same through exec, in a running container.
	s.runDetached(t, "pm-nocmd-exec", imageRef, "sleep", "1000")
	r = s.podman("exec", "pm-nocmd-exec", "/nonexistent/pm")
	if r.Code != 127 || !strings.Contains(r.Stderr, "/nonexistent/pm") || !strings.Contains(r.Stderr, "no such file or directory") {
		t.Errorf("exec: want exit 127 and an error naming the missing file:\n%s", r)
	}
}

func (s *pmSuite) testWithoutJSONLog(t *testing.T) {
	pm := func(args ...string) harness.Result { return s.podmanWith(s.noJSON, args...) }
	r := pm("run", "--rm", "--name", "pm-nojson", imageRef, "sh", "-c", "echo no-json; exit 7")
	if r.Code != 7 || r.Stdout != "no-json\n" {
		t.Errorf("run without --log flags: want no-json and exit 7:\n%s", r)
	}

	// With the flags the runtime writes <runroot>/.../userdata/oci-log;
	// without them there is none: the configuration took effect.
	ociLog := func(id string) string {
		return filepath.Join(s.dir, "run", "vfs-containers", id, "userdata", "oci-log")
	}
	s.removeAtEnd(t, "pm-nojson-d", "pm-json-d")
	r = pmOK(t, pm("run", "-d", "--name", "pm-nojson-d", imageRef, "sh", "-c", `trap "exit 0" TERM; while :; do sleep 0.1; done`))
	id := strings.TrimSpace(r.Stdout)
	if _, err := os.Stat(ociLog(id)); !os.IsNotExist(err) {
		t.Errorf("oci-log exists without runtime_supports_json (%v): podman passed --log", err)
	}
	jsonID := s.runDetached(t, "pm-json-d", imageRef, "sleep", "1000")
	if _, err := os.Stat(ociLog(jsonID)); err != nil {
		t.Errorf("no oci-log with runtime_supports_json: %v", err)
	}
	r = pm("exec", "pm-nojson-d", "sh", "-c", "echo exec-no-json; exit 3")
	if r.Code != 3 || r.Stdout != "exec-no-json\n" {
		t.Errorf("exec without --log flags: want exec-no-json and exit 3:\n%s", r)
	}
	pmOK(t, pm("stop", "pm-nojson-d"))

	// The runtime's stderr is the message.
	r = pm("run", "--rm", "--name", "pm-nojson-nocmd", imageRef, "nosuchcmd-pm")
	if r.Code != 127 || !strings.Contains(r.Stderr, "nosuchcmd-pm") || !strings.Contains(r.Stderr, "executable file not found") {
		t.Errorf("missing command without --log flags: want exit 127 and the runtime's error:\n%s", r)
	}
	r = pm("run", "--rm", "--name", "pm-nojson-rlimit", "--ulimit", "nofile=30000:30000", imageRef, "true")
	if r.Code != 126 || !pmRlimitCause(r.Stderr) {
		t.Errorf("impossible rlimit without --log flags: want exit 126 and the runtime's error:\n%s", r)
	}
}

func (s *pmSuite) testNothingLeftBehind(t *testing.T) {
	pmOK(t, s.podman("rm", "--all", "--force", "--time", "0"))
	if r := pmOK(t, s.podman("ps", "--all", "--quiet")); strings.TrimSpace(r.Stdout) != "" {
		t.Errorf("containers left after rm --all:\n%s", r.Stdout)
	}
	// The event log has every container the suite made, --rm ones too.
	r := pmOK(t, s.podman("events", "--stream=false", "--filter", "type=container", "--format", "{{.ID}}"))
	seen := map[string]bool{}
	for _, id := range strings.Fields(r.Stdout) {
		if pmIDPattern.MatchString(id) && !seen[id] {
			seen[id] = true
			s.assertGone(t, id)
		}
	}
	t.Logf("%d containers checked", len(seen))
}
