package clients

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/carapace-oci/carapace/tests/internal/harness"
)

// The docker suite runs a private dockerd (docker.io 20.10) that starts its
// own containerd under its exec root; every container goes through
// containerd-shim-runc-v2 to the runtime under test.
const (
	// dockerRuntime is the name the runtime under test is registered under
	// with --add-runtime; every container of the suite asks for it.
	dockerRuntime = "carapace"
	// dockerJSONRuntime is the same binary registered through daemon.json
	// "runtimes" and made the daemon's "default-runtime".
	dockerJSONRuntime = "carapace-json"
	// dockerBoundedRuntime is a wrapper for --privileged: see
	// dockerWriteBoundedWrapper.
	dockerBoundedRuntime = "carapace-bounded"
	dockerNamePrefix     = "carapace-dk-"
)

// dockerImage is imageRef as docker load names it.
var dockerImage = strings.TrimPrefix(imageRef, "docker.io/library/")

// dockerCapNames are the capabilities by number, as docker's lists name
// them (without CAP_).
var dockerCapNames = strings.Fields(`CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER
	FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE
	NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO
	SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE
	SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP
	MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON
	BPF CHECKPOINT_RESTORE`)

// dockerDefaultCaps is the set docker 20.10 gives a container by default.
var dockerDefaultCaps = dockerCapMask("CHOWN", "DAC_OVERRIDE", "FSETID",
	"FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID", "SETFCAP", "SETPCAP",
	"NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE")

func dockerCapIndex(name string) int {
	for i, c := range dockerCapNames {
		if c == name {
			return i
		}
	}
	panic("unknown capability " + name)
}

func dockerCapMask(names ...string) uint64 {
	var m uint64
	for _, n := range names {
		m |= 1 << dockerCapIndex(n)
	}
	return m
}

type dockerSuite struct {
	dir      string // everything of the suite: daemon state, binds, cidfiles
	sock     string
	execRoot string
	cli      string
	env      []string
	cidfiles []string // one per docker run: how --rm containers' ids are known
	hostBnd  uint64   // this process's capability bounding set
}

func TestDocker(t *testing.T) {
	requireTools(t, "dockerd", "docker", "script")
	s := dockerStartSuite(t)
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, *dockerSuite)
	}{
		{"run_output_exit_code", testDockerRunExitCode},
		{"env_cwd", testDockerEnvCwd},
		{"user_groups", testDockerUser},
		{"hostname", testDockerHostname},
		{"read_only_rootfs", testDockerReadOnly},
		{"bind_and_tmpfs_mounts", testDockerMounts},
		{"detached_exec", testDockerExec},
		{"top", testDockerTop},
		{"pause_unpause", testDockerPause},
		{"stop", testDockerStop},
		{"kill_rm", testDockerKill},
		{"rm_force_running", testDockerRmForce},
		{"restart_and_start_again", testDockerRestart},
		{"run_tty", testDockerRunTTY},
		{"interactive_session", testDockerInteractive},
		{"limits_on_host", testDockerLimits},
		{"pids_limit_enforced", testDockerPidsEnforced},
		{"oom_kill_137", testDockerOOM},
		{"update", testDockerUpdate},
		{"stats", testDockerStats},
		{"run_rm_loop", testDockerRmLoop},
		{"failing_create", testDockerFailingCreate},
		{"capabilities", testDockerCaps},
		{"privileged", testDockerPrivileged},
		{"no_new_privileges", testDockerNoNewPrivs},
		{"sysctl_oom_score_rlimit", testDockerSysctlEtc},
		{"init", testDockerInit},
		{"seccomp_default_profile", testDockerSeccomp},
		{"daemon_json_default_runtime", testDockerDaemonJSON},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, s) })
	}
}

// dockerStartSuite starts the private dockerd, loads the image, and
// registers the teardown: every container removed, then the daemon stopped
// by its pid, then its files removed.
func dockerStartSuite(t *testing.T) *dockerSuite {
	dir := filepath.Join(workDir, "dk")
	if err := os.MkdirAll(filepath.Join(dir, "cid"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := &dockerSuite{
		dir:      dir,
		sock:     filepath.Join(dir, "docker.sock"),
		execRoot: filepath.Join(dir, "exec"),
		cli:      dockerClient(),
		env:      []string{"DOCKER_CONFIG=" + filepath.Join(dir, "config")},
	}
	// dockerd's containerd puts its ttrpc socket deepest.
	if deepest := filepath.Join(s.execRoot, "containerd", "containerd.sock.ttrpc"); len(deepest) >= 100 {
		t.Fatalf("socket path %s is %d bytes: too long for a unix socket", deepest, len(deepest))
	}
	var err error
	if s.hostBnd, err = dockerStatusHex(dockerReadFile(t, "/proc/self/status"), "CapBnd"); err != nil {
		t.Fatal(err)
	}
	wrapper := filepath.Join(dir, "carapace-bounded.sh")
	if err := dockerWriteBoundedWrapper(wrapper, s.hostBnd); err != nil {
		t.Fatal(err)
	}
	config, err := json.Marshal(map[string]any{
		"runtimes": map[string]any{
			dockerJSONRuntime:    map[string]string{"path": runtimeBin},
			dockerBoundedRuntime: map[string]string{"path": wrapper},
		},
		"default-runtime": dockerJSONRuntime,
		// Else dockerd writes its trust key to /etc/docker.
		"deprecated-key-path": filepath.Join(dir, "key.json"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "daemon.json"), config, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if leaks := harness.LeaksUnder(dir); len(leaks) > 0 {
			t.Errorf("left behind by dockerd:\n  %s", strings.Join(leaks, "\n  "))
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("removing %s: %v", dir, err)
		}
	})
	d, err := harness.StartDaemon("dockerd", filepath.Join(dir, "dockerd.log"), func() bool {
		return harness.SocketReady(s.sock)() && s.docker("version", "--format", "{{.Server.Version}}").Code == 0
	},
		"dockerd",
		"--data-root", filepath.Join(dir, "data"),
		"--exec-root", s.execRoot,
		"--pidfile", filepath.Join(dir, "docker.pid"),
		"-H", "unix://"+s.sock,
		"--config-file", filepath.Join(dir, "daemon.json"),
		"--bridge=none", "--iptables=false", "--ip-masq=false",
		"--storage-driver", "vfs",
		"--add-runtime", dockerRuntime+"="+runtimeBin,
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Stop(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			out, _ := os.ReadFile(filepath.Join(dir, "dockerd.log"))
			t.Logf("dockerd log (tail):\n%s", harness.Tail(string(out), 30))
		}
	})
	t.Cleanup(func() { s.removeAll(t) })
	r := s.docker("load", "-i", image.DockerArchive)
	if r.Code != 0 || !strings.Contains(r.Stdout, "Loaded image: "+dockerImage) {
		t.Fatalf("docker load: %s", r)
	}
	return s
}

// dockerClient is the client of the docker.io package that dockerd comes
// from: a newer docker on PATH first (/usr/local/bin) talks to this daemon
// too, but its output is not what the suite was written against.
func dockerClient() string {
	if _, err := os.Stat("/usr/bin/docker"); err == nil {
		return "/usr/bin/docker"
	}
	return "docker"
}

// dockerWriteBoundedWrapper writes the runtime used for --privileged. This
// machine's bounding set lacks CAP_SYS_RESOURCE, and docker asks for every
// capability for a privileged container, which no runtime can grant here
// (runc fails with "unable to apply caps: operation not permitted").
// The wrapper strips from config.json what the bounding set lacks, then
// runs the runtime under test, so the rest of privileged mode is tested.
func dockerWriteBoundedWrapper(path string, bnd uint64) error {
	var seds []string
	for i, name := range dockerCapNames {
		if bnd&(1<<i) == 0 {
			c := `"CAP_` + name + `"`
			seds = append(seds, "-e 's/,"+c+"//g' -e 's/"+c+",\\{0,1\\}//g'")
		}
	}
	script := "#!/bin/sh\nprev=\nfor a in \"$@\"; do\n"
	if len(seds) > 0 {
		script += "\tif [ \"$prev\" = --bundle ]; then sed -i " + strings.Join(seds, " ") +
			" \"$a/config.json\" || exit 1; fi\n"
	}
	script += "\tprev=$a\ndone\nexec '" + runtimeBin + "' \"$@\"\n"
	return os.WriteFile(path, []byte(script), 0o755)
}

func (s *dockerSuite) docker(args ...string) harness.Result {
	return harness.Run(s.env, 90*time.Second, s.cli, append([]string{"-H", "unix://" + s.sock}, args...)...)
}

func (s *dockerSuite) dockerTTY(input string, args ...string) harness.Result {
	return harness.RunTTY(s.env, 90*time.Second, input, s.cli, append([]string{"-H", "unix://" + s.sock}, args...)...)
}

// ok runs a docker command that must succeed and returns its stdout.
func (s *dockerSuite) ok(t *testing.T, args ...string) string {
	t.Helper()
	r := s.docker(args...)
	if r.Code != 0 {
		t.Fatalf("%s", r)
	}
	return r.Stdout
}

// cidfile is a fresh --cidfile path: every container's id is known at the
// end, for the leftover check, even for --rm ones.
func (s *dockerSuite) cidfile() string {
	p := filepath.Join(s.dir, "cid", strconv.Itoa(len(s.cidfiles)))
	s.cidfiles = append(s.cidfiles, p)
	return p
}

// runArgs is `docker run` with the runtime under test and a cidfile.
func (s *dockerSuite) runArgs(opts []string, cmd ...string) []string {
	args, _ := s.runArgsWith(dockerRuntime, opts, cmd...)
	return args
}

func (s *dockerSuite) runArgsWith(runtime string, opts []string, cmd ...string) (args []string, cidfile string) {
	cidfile = s.cidfile()
	args = append([]string{"run", "--runtime", runtime, "--cidfile", cidfile}, opts...)
	return append(append(args, dockerImage), cmd...), cidfile
}

// runRm runs a throwaway container in the foreground.
func (s *dockerSuite) runRm(opts []string, cmd ...string) harness.Result {
	return s.docker(s.runArgs(append([]string{"--rm"}, opts...), cmd...)...)
}

// start starts a detached container, removed when the subtest ends.
func (s *dockerSuite) start(t *testing.T, name string, opts []string, cmd ...string) string {
	t.Helper()
	t.Cleanup(func() { s.docker("rm", "-f", name) })
	out := s.ok(t, s.runArgs(append([]string{"-d", "--name", name}, opts...), cmd...)...)
	return strings.TrimSpace(out)
}

func (s *dockerSuite) inspect(t *testing.T, name, format string) string {
	t.Helper()
	return strings.TrimSpace(s.ok(t, "inspect", "-f", format, name))
}

// waitLogs waits until the container's output contains want.
func (s *dockerSuite) waitLogs(t *testing.T, name, want string) {
	t.Helper()
	dockerPoll(t, 15*time.Second, func() (bool, string) {
		r := s.docker("logs", name)
		return strings.Contains(r.Stdout+r.Stderr, want), r.String()
	})
}

// bundle is where containerd keeps the container's bundle (config.json,
// the runtime's log.json, options.json naming the runtime binary).
func (s *dockerSuite) bundle(id string) string {
	return filepath.Join(s.execRoot, "containerd", "daemon", "io.containerd.runtime.v2.task", "moby", id)
}

// leftovers lists what a removed container left: cgroups, the runtime's
// state dir (docker 20.10 gives every runc-shim runtime the root
// <exec-root>/runtime-runc, later ones runtime-<name>), the bundle, and
// processes naming it (a shim, the container's). Removal is complete when
// docker answers, but a shim exits just after, hence the short poll.
func (s *dockerSuite) leftovers(id string) []string {
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := harness.CgroupLeaks(id)
		for _, pattern := range []string{filepath.Join(s.execRoot, "runtime-*", "moby", id), s.bundle(id)} {
			m, _ := filepath.Glob(pattern)
			for _, p := range m {
				left = append(left, "dir: "+p)
			}
		}
		procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
		self := fmt.Sprintf("/proc/%d/", os.Getpid())
		for _, p := range procs {
			if b, err := os.ReadFile(p); err == nil && !strings.HasPrefix(p, self) && strings.Contains(string(b), id) {
				left = append(left, "process: "+strings.ReplaceAll(string(b), "\x00", " "))
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *dockerSuite) cid(t *testing.T, cidfile string) string {
	t.Helper()
	b, err := os.ReadFile(cidfile)
	if err != nil {
		t.Fatalf("docker wrote no cidfile: %v", err)
	}
	return strings.TrimSpace(string(b))
}

// removeAll removes every container, then checks that none left anything.
func (s *dockerSuite) removeAll(t *testing.T) {
	if r := s.docker("ps", "-aq"); r.Code != 0 {
		t.Errorf("%s", r)
	} else if ids := strings.Fields(r.Stdout); len(ids) > 0 {
		if r := s.docker(append([]string{"rm", "-f"}, ids...)...); r.Code != 0 {
			t.Errorf("%s", r)
		}
	}
	for _, f := range s.cidfiles {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if left := s.leftovers(strings.TrimSpace(string(b))); len(left) > 0 {
			t.Errorf("left behind by a removed container:\n  %s", strings.Join(left, "\n  "))
		}
	}
}

// bindDir makes a host directory for a bind mount, inside the suite's dir.
func (s *dockerSuite) bindDir(t *testing.T, name string) string {
	t.Helper()
	d := filepath.Join(s.dir, "binds", name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

func dockerPoll(t *testing.T, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		done, last := cond()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not reached in %v; last:\n%s", timeout, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dockerStatusHex reads a hex field of /proc/<pid>/status.
func dockerStatusHex(status, field string) (uint64, error) {
	v, ok := dockerStatusField(status, field)
	if !ok {
		return 0, fmt.Errorf("no %s in:\n%s", field, status)
	}
	return strconv.ParseUint(v, 16, 64)
}

func dockerStatusField(status, field string) (string, bool) {
	for _, line := range strings.Split(status, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == field {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

func dockerReadFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dockerMountOpts returns the options of the topmost mount at target in a
// /proc/mounts text.
func dockerMountOpts(mounts, target string) (fstype string, opts []string) {
	for _, line := range strings.Split(mounts, "\n") {
		if f := strings.Fields(line); len(f) >= 4 && f[1] == target {
			fstype, opts = f[2], strings.Split(f[3], ",")
		}
	}
	return fstype, opts
}

func dockerHas(list []string, want string) bool {
	for _, x := range list {
		if x == want {
			return true
		}
	}
	return false
}

func testDockerRunExitCode(t *testing.T, s *dockerSuite) {
	r := s.runRm(nil, "sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3")
	if r.Code != 3 || r.Stdout != "to-stdout\n" || !strings.Contains(r.Stderr, "to-stderr") {
		t.Errorf("want exit 3, stdout and stderr apart; got %s", r)
	}
	if r := s.runRm(nil, "true"); r.Code != 0 || r.Stdout != "" {
		t.Errorf("want exit 0, no output; got %s", r)
	}
}

func testDockerEnvCwd(t *testing.T, s *dockerSuite) {
	r := s.runRm([]string{"-e", "GREETING=hello there", "-e", "EMPTY=", "-w", "/home/app"},
		"sh", "-c", `echo "$GREETING|${EMPTY-unset}|$PATH"; pwd`)
	want := "hello there||/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n/home/app\n"
	if r.Code != 0 || r.Stdout != want {
		t.Errorf("want %q; got %s", want, r)
	}
}

func testDockerUser(t *testing.T, s *dockerSuite) {
	status := func(r harness.Result) string {
		t.Helper()
		if r.Code != 0 {
			t.Fatalf("%s", r)
		}
		return r.Stdout
	}
	// By name: uid, gid and the supplementary groups come from the image's
	// passwd and group files, HOME too; a non-root user has no effective
	// capabilities.
	out := status(s.runRm([]string{"-u", "app"}, "sh", "-c", `id; echo "HOME=$HOME"; cat /proc/self/status`))
	if !strings.Contains(out, "uid=1000(app) gid=1000(app)") || !strings.Contains(out, "HOME=/home/app") {
		t.Errorf("-u app: %s", out)
	}
	if g, _ := dockerStatusField(out, "Groups"); g != "29 1000" {
		t.Errorf("-u app: Groups %q, want 29 1000 (audio, app)", g)
	}
	if eff, err := dockerStatusHex(out, "CapEff"); err != nil || eff != 0 {
		t.Errorf("-u app: CapEff %x (%v), want 0", eff, err)
	}
	// By number, with an extra group; what the user creates is owned by it.
	out = status(s.runRm([]string{"-u", "1000:1000", "--group-add", "nogroup"},
		"sh", "-c", `touch /tmp/f; stat -c 'owner=%u:%g' /tmp/f; cat /proc/self/status`))
	if !strings.Contains(out, "owner=1000:1000") {
		t.Errorf("-u 1000:1000: %s", out)
	}
	// A user given by number gets no groups from the group file.
	if g, _ := dockerStatusField(out, "Groups"); g != "1000 65534" {
		t.Errorf("-u 1000:1000 --group-add nogroup: Groups %q, want 1000 65534", g)
	}
	if u, _ := dockerStatusField(out, "Uid"); strings.Join(strings.Fields(u), " ") != "1000 1000 1000 1000" {
		t.Errorf("-u 1000:1000: Uid %q", u)
	}
	// A user the image does not know.
	out = status(s.runRm([]string{"-u", "4242:4343"}, "id"))
	if !strings.HasPrefix(out, "uid=4242 gid=4343") {
		t.Errorf("-u 4242:4343: %s", out)
	}
}

func testDockerHostname(t *testing.T, s *dockerSuite) {
	r := s.runRm([]string{"-h", "carapace-box"}, "sh", "-c", "hostname; uname -n; cat /etc/hostname")
	if r.Code != 0 || r.Stdout != "carapace-box\ncarapace-box\ncarapace-box\n" {
		t.Errorf("-h carapace-box: %s", r)
	}
	// By default the hostname is the short container id.
	args, cidfile := s.runArgsWith(dockerRuntime, []string{"--rm"}, "hostname")
	r = s.docker(args...)
	if r.Code != 0 {
		t.Fatalf("%s", r)
	}
	if id := s.cid(t, cidfile); strings.TrimSpace(r.Stdout) != id[:12] {
		t.Errorf("hostname %q, want %q", r.Stdout, id[:12])
	}
}

func testDockerReadOnly(t *testing.T, s *dockerSuite) {
	script := `touch /probe 2>&1 && echo wrote-root; touch /dev/shm/probe && echo wrote-shm; cat /proc/mounts`
	r := s.runRm([]string{"--read-only"}, "sh", "-c", script)
	if r.Code != 0 {
		t.Fatalf("%s", r)
	}
	if !strings.Contains(r.Stdout, "Read-only file system") || strings.Contains(r.Stdout, "wrote-root") {
		t.Errorf("--read-only: the root is writable: %s", r.Stdout)
	}
	if !strings.Contains(r.Stdout, "wrote-shm") {
		t.Errorf("--read-only: /dev/shm is not writable: %s", r.Stdout)
	}
	if _, opts := dockerMountOpts(r.Stdout, "/"); !dockerHas(opts, "ro") {
		t.Errorf("--read-only: / mounted %v", opts)
	}
	// Without it the same write works: the check above is not vacuous.
	r = s.runRm(nil, "sh", "-c", script)
	if !strings.Contains(r.Stdout, "wrote-root") {
		t.Errorf("without --read-only: %s", r)
	}
}

func testDockerMounts(t *testing.T, s *dockerSuite) {
	rw, ro := s.bindDir(t, "mounts-rw"), s.bindDir(t, "mounts-ro")
	if err := os.WriteFile(filepath.Join(ro, "in"), []byte("from-host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := s.runRm([]string{"-v", rw + ":/mnt/rw", "-v", ro + ":/mnt/ro:ro", "--tmpfs", "/scratch:rw,size=1m,mode=1770"},
		"sh", "-c", `cat /mnt/ro/in; echo from-ctr > /mnt/rw/out; touch /mnt/ro/x 2>&1;
			echo data > /scratch/f && cat /scratch/f; stat -c 'mode=%a' /scratch; cat /proc/mounts`)
	if r.Code != 0 {
		t.Fatalf("%s", r)
	}
	if !strings.Contains(r.Stdout, "from-host\n") {
		t.Errorf("the container does not see the host file: %s", r.Stdout)
	}
	if b, err := os.ReadFile(filepath.Join(rw, "out")); err != nil || string(b) != "from-ctr\n" {
		t.Errorf("the host does not see the container's write: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(ro, "x")); err == nil || !strings.Contains(r.Stdout, "Read-only file system") {
		t.Errorf(":ro bind is writable (stat: %v): %s", err, r.Stdout)
	}
	if _, opts := dockerMountOpts(r.Stdout, "/mnt/ro"); !dockerHas(opts, "ro") {
		t.Errorf("/mnt/ro mounted %v", opts)
	}
	if _, opts := dockerMountOpts(r.Stdout, "/mnt/rw"); !dockerHas(opts, "rw") {
		t.Errorf("/mnt/rw mounted %v", opts)
	}
	fstype, opts := dockerMountOpts(r.Stdout, "/scratch")
	if fstype != "tmpfs" || !dockerHas(opts, "size=1024k") || !strings.Contains(r.Stdout, "data\nmode=1770\n") {
		t.Errorf("--tmpfs /scratch: %s %v; output %s", fstype, opts, r.Stdout)
	}
}

func testDockerExec(t *testing.T, s *dockerSuite) {
	name := dockerNamePrefix + "exec"
	id := s.start(t, name, nil, "sleep", "1000")
	// That it is the binary under test that runs the container.
	var opts struct {
		BinaryName string `json:"binary_name"`
	}
	if err := json.Unmarshal([]byte(dockerReadFile(t, filepath.Join(s.bundle(id), "options.json"))), &opts); err != nil || opts.BinaryName != runtimeBin {
		t.Errorf("the shim runs %q (%v), want %s", opts.BinaryName, err, runtimeBin)
	}

	r := s.docker("exec", name, "sh", "-c", "echo out; echo err >&2; cat /proc/1/cmdline | tr '\\0' ' '; exit 7")
	if r.Code != 7 || r.Stdout != "out\nsleep 1000 " || !strings.Contains(r.Stderr, "err") {
		t.Errorf("exec: want exit 7, out, err, and pid 1 sleeping; got %s", r)
	}
	r = s.docker("exec", "-u", "app", "-w", "/tmp", "-e", "X=exec-env", name, "sh", "-c", `id -u; pwd; echo $X`)
	if r.Code != 0 || r.Stdout != "1000\n/tmp\nexec-env\n" {
		t.Errorf("exec -u -w -e: %s", r)
	}

	r = s.dockerTTY("", "exec", "-t", name, "sh", "-c", "tty; [ -t 0 ] && [ -t 1 ] && echo both-tty; exit 4")
	if r.Code != 4 || !strings.Contains(r.Stdout, "/dev/pts/") || !strings.Contains(r.Stdout, "both-tty") {
		t.Errorf("exec -t: want a pty and exit 4; got %s", r)
	}
	r = s.dockerTTY("echo exec-$((6*7))\nexit 6\n", "exec", "-it", name, "sh")
	if r.Code != 6 || !strings.Contains(r.Stdout, "exec-42") {
		t.Errorf("exec -it: want exec-42 and exit 6; got %s", r)
	}

	// exec -d returns at once; its process goes on in the container.
	start := time.Now()
	s.ok(t, "exec", "-d", name, "sh", "-c", "sleep 0.3; echo detached > /tmp/exec-d")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("exec -d took %v", d)
	}
	dockerPoll(t, 10*time.Second, func() (bool, string) {
		r := s.docker("exec", name, "cat", "/tmp/exec-d")
		return r.Stdout == "detached\n", r.String()
	})
}

func testDockerTop(t *testing.T, s *dockerSuite) {
	name := dockerNamePrefix + "top"
	s.start(t, name, nil, "sleep", "4242")
	pid := s.inspect(t, name, "{{.State.Pid}}")
	s.ok(t, "exec", "-d", name, "sleep", "4343")
	var out string
	dockerPoll(t, 10*time.Second, func() (bool, string) {
		out = s.docker("top", name).Stdout
		return strings.Contains(out, "sleep 4343"), out
	})
	found := false
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 2 && strings.HasSuffix(line, "sleep 4242") {
			found = f[1] == pid
		}
	}
	if !found {
		t.Errorf("docker top does not show pid %s running sleep 4242:\n%s", pid, out)
	}
}

func testDockerPause(t *testing.T, s *dockerSuite) {
	out := s.bindDir(t, "pause")
	name := dockerNamePrefix + "pause"
	id := s.start(t, name, []string{"-v", out + ":/out"},
		"sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /out/n; sleep 0.02; done")
	counter := func() int {
		b, _ := os.ReadFile(filepath.Join(out, "n"))
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return n
	}
	dockerPoll(t, 10*time.Second, func() (bool, string) { return counter() > 0, "counter not started" })

	s.ok(t, "pause", name)
	if st := s.ok(t, "ps", "--filter", "name="+name, "--format", "{{.Status}}"); !strings.Contains(st, "(Paused)") {
		t.Errorf("docker ps: %q, want Paused", st)
	}
	if st := cgroupFile(t, "freezer", id, "freezer.state"); st != "FROZEN" {
		t.Errorf("freezer.state %s", st)
	}
	before := counter()
	time.Sleep(300 * time.Millisecond)
	if after := counter(); after != before {
		t.Errorf("paused, the loop still runs: %d then %d", before, after)
	}
	if r := s.docker("exec", name, "true"); r.Code == 0 || !strings.Contains(r.Stderr, "paused") {
		t.Errorf("exec into a paused container: %s", r)
	}

	s.ok(t, "unpause", name)
	if st := cgroupFile(t, "freezer", id, "freezer.state"); st != "THAWED" {
		t.Errorf("freezer.state after unpause %s", st)
	}
	frozen := counter()
	dockerPoll(t, 10*time.Second, func() (bool, string) {
		return counter() > frozen, fmt.Sprintf("counter still %d", frozen)
	})
	if st := s.ok(t, "ps", "--filter", "name="+name, "--format", "{{.Status}}"); !strings.HasPrefix(st, "Up") || strings.Contains(st, "Paused") {
		t.Errorf("docker ps after unpause: %q", st)
	}
}

func testDockerStop(t *testing.T, s *dockerSuite) {
	// A process that ignores SIGTERM gets SIGKILL after -t.
	stubborn := dockerNamePrefix + "stop-stubborn"
	s.start(t, stubborn, nil, "sh", "-c", `trap "echo got-TERM" TERM; echo ready; while :; do sleep 0.1; done`)
	s.waitLogs(t, stubborn, "ready")
	start := time.Now()
	s.ok(t, "stop", "-t", "2", stubborn)
	if d := time.Since(start); d < 1900*time.Millisecond || d > 15*time.Second {
		t.Errorf("stop -t 2 of a process ignoring SIGTERM took %v", d)
	}
	if got := s.inspect(t, stubborn, "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 137" {
		t.Errorf("after stop: %s, want exited 137", got)
	}
	if logs := s.docker("logs", stubborn); !strings.Contains(logs.Stdout, "got-TERM") {
		t.Errorf("SIGTERM did not come first: %s", logs)
	}

	// One that exits on SIGTERM stops at once with its own status.
	polite := dockerNamePrefix + "stop-polite"
	s.start(t, polite, nil, "sh", "-c", `trap "exit 42" TERM; echo ready; while :; do sleep 0.1; done`)
	s.waitLogs(t, polite, "ready")
	start = time.Now()
	s.ok(t, "stop", "-t", "10", polite)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stop of a process exiting on SIGTERM took %v", d)
	}
	if got := s.inspect(t, polite, "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 42" {
		t.Errorf("after stop: %s, want exited 42", got)
	}
}

func testDockerKill(t *testing.T, s *dockerSuite) {
	name := dockerNamePrefix + "kill"
	id := s.start(t, name, nil, "sh", "-c", `trap "echo got-USR1" USR1; echo ready; while :; do sleep 0.1; done`)
	s.waitLogs(t, name, "ready")
	s.ok(t, "kill", "-s", "USR1", name)
	s.waitLogs(t, name, "got-USR1")
	if st := s.inspect(t, name, "{{.State.Running}}"); st != "true" {
		t.Errorf("after SIGUSR1: running %s", st)
	}
	s.ok(t, "kill", name)
	dockerPoll(t, 10*time.Second, func() (bool, string) {
		st := s.inspect(t, name, "{{.State.Status}} {{.State.ExitCode}}")
		return st == "exited 137", st
	})
	s.ok(t, "rm", name)
	if left := s.leftovers(id); len(left) > 0 {
		t.Errorf("docker rm left:\n  %s", strings.Join(left, "\n  "))
	}
}

func testDockerRmForce(t *testing.T, s *dockerSuite) {
	name := dockerNamePrefix + "rm-force"
	id := s.start(t, name, nil, "sleep", "1000")
	pid := s.inspect(t, name, "{{.State.Pid}}")
	s.ok(t, "rm", "-f", name)
	if r := s.docker("inspect", name); r.Code == 0 {
		t.Errorf("still there after rm -f: %s", r)
	}
	if left := s.leftovers(id); len(left) > 0 {
		t.Errorf("docker rm -f left:\n  %s", strings.Join(left, "\n  "))
	}
	if b, err := os.ReadFile("/proc/" + pid + "/cmdline"); err == nil && strings.HasPrefix(string(b), "sleep\x001000") {
		t.Errorf("the container's process %s still runs", pid)
	}
}

func testDockerRestart(t *testing.T, s *dockerSuite) {
	// docker start of an exited container creates it again on the same id
	// and bundle, after the runtime deleted it.
	once := dockerNamePrefix + "start-again"
	t.Cleanup(func() { s.docker("rm", "-f", once) })
	r := s.docker(s.runArgs([]string{"--name", once}, "sh", "-c", "echo ran; exit 3")...)
	if r.Code != 3 || r.Stdout != "ran\n" {
		t.Fatalf("first run: %s", r)
	}
	r = s.docker("start", "-a", once)
	if r.Code != 3 || r.Stdout != "ran\n" {
		t.Errorf("docker start -a: want ran and exit 3; got %s", r)
	}

	name := dockerNamePrefix + "restart"
	s.start(t, name, nil, "sleep", "1000")
	pid := s.inspect(t, name, "{{.State.Pid}}")
	s.ok(t, "restart", "-t", "1", name)
	if st := s.inspect(t, name, "{{.State.Running}} {{.State.Pid}} {{.RestartCount}}"); !strings.HasPrefix(st, "true ") || strings.Fields(st)[1] == pid {
		t.Errorf("after restart: running, pid, count = %s (pid before %s)", st, pid)
	}
	if r := s.docker("exec", name, "cat", "/proc/1/cmdline"); r.Code != 0 || !strings.HasPrefix(r.Stdout, "sleep") {
		t.Errorf("exec after restart: %s", r)
	}
}

func testDockerRunTTY(t *testing.T, s *dockerSuite) {
	r := s.dockerTTY("", s.runArgs([]string{"--rm", "-t"}, "sh", "-c", "tty; [ -t 0 ] && [ -t 1 ] && echo both-tty; exit 6")...)
	if r.Code != 6 || !strings.Contains(r.Stdout, "/dev/pts/0") || !strings.Contains(r.Stdout, "both-tty") {
		t.Errorf("run -t: want /dev/pts/0 and exit 6; got %s", r)
	}
	// Without -t there is no terminal, even with one around the client.
	r = s.dockerTTY("", s.runArgs([]string{"--rm"}, "sh", "-c", "tty; exit 0")...)
	if !strings.Contains(r.Stdout, "not a tty") {
		t.Errorf("run without -t: %s", r)
	}
}

func testDockerInteractive(t *testing.T, s *dockerSuite) {
	// The typed text shows `$((6*7))`: only the shell's answer shows 42.
	input := "echo hello-$((6*7))\nid -un\ncd /data && cat hello\nexit 5\n"
	r := s.dockerTTY(input, s.runArgs([]string{"--rm", "-it"}, "sh")...)
	for _, want := range []string{"hello-42", "root\r\n", "hello from the image"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("-it session: no %q in the output", want)
		}
	}
	if r.Code != 5 {
		t.Errorf("-it session: want exit 5; got %s", r)
	}
}

func testDockerLimits(t *testing.T, s *dockerSuite) {
	name := dockerNamePrefix + "limits"
	id := s.start(t, name, []string{"-m", "64m", "--memory-swap", "128m", "--pids-limit", "50", "--cpus", "0.5", "--cpu-shares", "512"},
		"sleep", "1000")
	pid := s.inspect(t, name, "{{.State.Pid}}")
	files := []struct{ ctrl, file, want string }{
		{"memory", "memory.limit_in_bytes", "67108864"},
		{"memory", "memory.memsw.limit_in_bytes", "134217728"},
		{"pids", "pids.max", "50"},
		{"cpu", "cpu.cfs_quota_us", "50000"},
		{"cpu", "cpu.cfs_period_us", "100000"},
		{"cpu", "cpu.shares", "512"},
	}
	script := ""
	for _, f := range files {
		if got := cgroupFile(t, f.ctrl, id, f.file); got != f.want {
			t.Errorf("host %s/docker/%s/%s = %s, want %s", f.ctrl, id[:12], f.file, got, f.want)
		}
		script += "cat /sys/fs/cgroup/" + f.ctrl + "/" + f.file + "; "
	}
	for _, ctrl := range []string{"memory", "pids", "cpu", "freezer"} {
		if procs := strings.Fields(cgroupFile(t, ctrl, id, "cgroup.procs")); !dockerHas(procs, pid) {
			t.Errorf("host %s cgroup.procs %v has not the container's pid %s", ctrl, procs, pid)
		}
	}
	// The container sees its own cgroup at /sys/fs/cgroup.
	r := s.docker("exec", name, "sh", "-c", script)
	var want []string
	for _, f := range files {
		want = append(want, f.want)
	}
	if got := strings.Fields(r.Stdout); r.Code != 0 || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("inside: %s; want %v", r, want)
	}
}

func testDockerPidsEnforced(t *testing.T, s *dockerSuite) {
	fork := `for i in $(seq 30); do sleep 1000 & done; echo forked; cat /sys/fs/cgroup/pids/pids.current`
	r := s.runRm([]string{"--pids-limit", "10"}, "sh", "-c", fork)
	if r.Code == 0 || strings.Contains(r.Stdout, "forked") || !strings.Contains(r.Stderr, "can't fork") {
		t.Errorf("--pids-limit 10: 30 forks did not fail: %s", r)
	}
	// 30 sleeps and cat, and sh unless it execs its last command.
	r = s.runRm([]string{"--pids-limit", "50"}, "sh", "-c", fork)
	if r.Code != 0 || (r.Stdout != "forked\n31\n" && r.Stdout != "forked\n32\n") {
		t.Errorf("--pids-limit 50: want 31 or 32 pids; got %s", r)
	}
}

func testDockerOOM(t *testing.T, s *dockerSuite) {
	name := dockerNamePrefix + "oom"
	t.Cleanup(func() { s.docker("rm", "-f", name) })
	r := s.docker(s.runArgs([]string{"--name", name, "-m", "32m", "--memory-swap", "32m"},
		"sh", "-c", "echo started; x=a; while :; do x=$x$x; done")...)
	if r.Code != 137 || r.Stdout != "started\n" {
		t.Errorf("want exit 137 after start; got %s", r)
	}
	if st := s.inspect(t, name, "{{.State.OOMKilled}} {{.State.ExitCode}}"); st != "true 137" {
		t.Errorf("docker inspect: OOMKilled, ExitCode = %s, want true 137", st)
	}
}

func testDockerUpdate(t *testing.T, s *dockerSuite) {
	name := dockerNamePrefix + "update"
	id := s.start(t, name, []string{"-m", "64m", "--memory-swap", "128m", "--pids-limit", "50", "--cpus", "0.5", "--cpu-shares", "512"},
		"sleep", "1000")
	check := func(when string, want map[string]string) {
		t.Helper()
		script := ""
		var keys []string
		for _, k := range []string{"memory/memory.limit_in_bytes", "memory/memory.memsw.limit_in_bytes", "pids/pids.max", "cpu/cpu.cfs_quota_us", "cpu/cpu.shares"} {
			ctrl, file, _ := strings.Cut(k, "/")
			if got := cgroupFile(t, ctrl, id, file); got != want[k] {
				t.Errorf("%s: host %s = %s, want %s", when, k, got, want[k])
			}
			script += "cat /sys/fs/cgroup/" + k + "; "
			keys = append(keys, want[k])
		}
		r := s.docker("exec", name, "sh", "-c", script)
		if got := strings.Join(strings.Fields(r.Stdout), " "); r.Code != 0 || got != strings.Join(keys, " ") {
			t.Errorf("%s: inside %s; want %v", when, r, keys)
		}
	}
	s.ok(t, "update", "--memory", "128m", "--memory-swap", "256m", "--cpus", "1.5", "--pids-limit", "99", "--cpu-shares", "256", name)
	check("after update", map[string]string{
		"memory/memory.limit_in_bytes":       "134217728",
		"memory/memory.memsw.limit_in_bytes": "268435456",
		"pids/pids.max":                      "99",
		"cpu/cpu.cfs_quota_us":               "150000",
		"cpu/cpu.shares":                     "256",
	})
	if m := s.inspect(t, name, "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}}"); m != "134217728 1500000000 99" {
		t.Errorf("docker inspect after update: %s", m)
	}
	// Updating one resource leaves the others as they are.
	s.ok(t, "update", "--cpus", "0.25", name)
	check("after update --cpus", map[string]string{
		"memory/memory.limit_in_bytes":       "134217728",
		"memory/memory.memsw.limit_in_bytes": "268435456",
		"pids/pids.max":                      "99",
		"cpu/cpu.cfs_quota_us":               "25000",
		"cpu/cpu.shares":                     "256",
	})
}

func testDockerStats(t *testing.T, s *dockerSuite) {
	name := dockerNamePrefix + "stats"
	s.start(t, name, []string{"-m", "96m"}, "sleep", "1000")
	r := s.docker("stats", "--no-stream", "--format", "{{.Name}}|{{.MemUsage}}|{{.PIDs}}", name)
	f := strings.Split(strings.TrimSpace(r.Stdout), "|")
	if r.Code != 0 || len(f) != 3 || f[0] != name || !strings.HasSuffix(f[1], " / 96MiB") || f[2] != "1" {
		t.Errorf("docker stats: want %s, memory limit 96MiB, 1 pid; got %s", name, r)
	}
}

func testDockerRmLoop(t *testing.T, s *dockerSuite) {
	var ids []string
	for i := 0; i < 5; i++ {
		args, cidfile := s.runArgsWith(dockerRuntime, []string{"--rm"}, "echo", "run-"+strconv.Itoa(i))
		r := s.docker(args...)
		if r.Code != 0 || r.Stdout != "run-"+strconv.Itoa(i)+"\n" {
			t.Fatalf("run %d: %s", i, r)
		}
		ids = append(ids, s.cid(t, cidfile))
	}
	all := s.ok(t, "ps", "-aq", "--no-trunc")
	for _, id := range ids {
		if strings.Contains(all, id) {
			t.Errorf("docker ps -a still lists %s", id)
		}
		if left := s.leftovers(id); len(left) > 0 {
			t.Errorf("run --rm left:\n  %s", strings.Join(left, "\n  "))
		}
	}
}

func testDockerFailingCreate(t *testing.T, s *dockerSuite) {
	for i, tc := range []struct {
		opts, cmd []string
		causes    []string // in the error shown to the user
	}{
		{nil, []string{"/nonexistent"}, []string{"/nonexistent", "no such file or directory"}},
		{nil, []string{"nosuchcmd"}, []string{"nosuchcmd", "executable file not found in $PATH"}},
		// A failure inside the runtime's container setup.
		{[]string{"--sysctl", "net.ipv4.nonexistent_knob=1"}, []string{"true"}, []string{"nonexistent_knob", "no such file or directory"}},
	} {
		name := dockerNamePrefix + "fail-" + strconv.Itoa(i)
		t.Cleanup(func() { s.docker("rm", "-f", name) })
		args, cidfile := s.runArgsWith(dockerRuntime, append([]string{"--name", name}, tc.opts...), tc.cmd...)
		r := s.docker(args...)
		if r.Code != 127 {
			t.Errorf("want exit 127; got %s", r)
		}
		stateErr := s.inspect(t, name, "{{.State.Error}}")
		for _, cause := range tc.causes {
			if !strings.Contains(r.Stderr, cause) || !strings.Contains(stateErr, cause) {
				t.Errorf("%v: the error does not say %q: %s\nState.Error: %s", tc.cmd, cause, r.Stderr, stateErr)
			}
		}
		if left := s.leftovers(s.cid(t, cidfile)); len(left) > 0 {
			t.Errorf("%v: a failed create left:\n  %s", tc.cmd, strings.Join(left, "\n  "))
		}
	}
}

func testDockerCaps(t *testing.T, s *dockerSuite) {
	// A capability shows in the status and in what the process may do:
	// chown needs CHOWN, changing a link's MTU needs NET_ADMIN.
	script := `chown 1000 /tmp 2>&1 && echo chown-ok; ip link set lo mtu 1300 2>&1 && echo mtu-ok; cat /proc/self/status`
	for _, tc := range []struct {
		opts      []string
		want      uint64
		chown, ip bool
	}{
		{nil, dockerDefaultCaps, true, false},
		{[]string{"--cap-drop", "CHOWN", "--cap-add", "NET_ADMIN"}, dockerDefaultCaps&^dockerCapMask("CHOWN") | dockerCapMask("NET_ADMIN"), false, true},
		{[]string{"--cap-drop", "ALL"}, 0, false, false},
	} {
		r := s.runRm(tc.opts, "sh", "-c", script)
		if r.Code != 0 {
			t.Errorf("%v: %s", tc.opts, r)
			continue
		}
		for _, set := range []string{"CapEff", "CapPrm", "CapBnd"} {
			if got, err := dockerStatusHex(r.Stdout, set); err != nil || got != tc.want {
				t.Errorf("%v: %s %016x (%v), want %016x", tc.opts, set, got, err, tc.want)
			}
		}
		if got := strings.Contains(r.Stdout, "chown-ok"); got != tc.chown {
			t.Errorf("%v: chown allowed %v, want %v: %s", tc.opts, got, tc.chown, r.Stdout)
		}
		if got := strings.Contains(r.Stdout, "mtu-ok"); got != tc.ip {
			t.Errorf("%v: setting the MTU allowed %v, want %v: %s", tc.opts, got, tc.ip, r.Stdout)
		}
	}
}

func testDockerPrivileged(t *testing.T, s *dockerSuite) {
	var dev string
	for _, d := range []string{"/dev/kmsg", "/dev/loop-control", "/dev/mem"} {
		if _, err := os.Stat(d); err == nil {
			dev = d
			break
		}
	}
	args, _ := s.runArgsWith(dockerBoundedRuntime, []string{"--rm", "--privileged"},
		"sh", "-c", "mount -t tmpfs t /tmp && echo mounted; ls "+dev+"; cat /proc/mounts /proc/self/status")
	r := s.docker(args...)
	if r.Code != 0 {
		t.Fatalf("%s", r)
	}
	// Docker 20.10 asks for every capability it knows, up to AUDIT_READ.
	want := s.hostBnd & dockerCapMask(dockerCapNames[:dockerCapIndex("AUDIT_READ")+1]...)
	for _, set := range []string{"CapEff", "CapPrm", "CapBnd"} {
		if got, err := dockerStatusHex(r.Stdout, set); err != nil || got != want {
			t.Errorf("%s %016x (%v), want %016x", set, got, err, want)
		}
	}
	if !strings.Contains(r.Stdout, "mounted\n") {
		t.Errorf("a privileged container cannot mount: %s", r.Stdout)
	}
	if dev != "" && !strings.Contains(r.Stdout, dev+"\n") {
		t.Errorf("the host's %s is not in the container: %s", dev, r)
	}
	if _, opts := dockerMountOpts(r.Stdout, "/sys"); !dockerHas(opts, "rw") {
		t.Errorf("/sys mounted %v, want rw", opts)
	}
	if sc, _ := dockerStatusField(r.Stdout, "Seccomp"); sc != "0" {
		t.Errorf("Seccomp %q, want 0 (unconfined)", sc)
	}
}

func testDockerNoNewPrivs(t *testing.T, s *dockerSuite) {
	for _, tc := range []struct {
		opts []string
		want string
	}{
		{[]string{"--security-opt", "no-new-privileges"}, "1"},
		{nil, "0"},
	} {
		r := s.runRm(tc.opts, "cat", "/proc/self/status")
		if got, _ := dockerStatusField(r.Stdout, "NoNewPrivs"); r.Code != 0 || got != tc.want {
			t.Errorf("%v: NoNewPrivs %q, want %s (%s)", tc.opts, got, tc.want, r)
		}
	}
}

func testDockerSysctlEtc(t *testing.T, s *dockerSuite) {
	r := s.runRm([]string{"--sysctl", "net.ipv4.ping_group_range=0 1000", "--oom-score-adj", "321", "--ulimit", "nofile=1024:2048"},
		"sh", "-c", "cat /proc/sys/net/ipv4/ping_group_range /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/self/oom_score_adj; ulimit -n; ulimit -Hn")
	// ip_unprivileged_port_start 0 is a sysctl docker sets by itself.
	if got := strings.Join(strings.Fields(r.Stdout), " "); r.Code != 0 || got != "0 1000 0 321 1024 2048" {
		t.Errorf("want ping_group_range 0 1000, ip_unprivileged_port_start 0, oom_score_adj 321, nofile 1024:2048; got %s", r)
	}
}

func testDockerInit(t *testing.T, s *dockerSuite) {
	r := s.runRm([]string{"--init"}, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; echo $$")
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, "/sbin/docker-init -- sh -c") || strings.HasSuffix(r.Stdout, "\n1\n") {
		t.Errorf("--init: want docker-init as pid 1 and the command under it; got %s", r)
	}
}

// testDockerSeccomp: docker's default profile is loaded (Seccomp: 2),
// unconfined loads none, and a profile of the user's own takes effect with
// its errno.
func testDockerSeccomp(t *testing.T, s *dockerSuite) {
	name := dockerNamePrefix + "seccomp"
	id := s.start(t, name, nil, "sleep", "1000")
	pid := s.inspect(t, name, "{{.State.Pid}}")
	if mode, _ := dockerStatusField(dockerReadFile(t, "/proc/"+pid+"/status"), "Seccomp"); mode != "2" {
		log, _ := os.ReadFile(filepath.Join(s.bundle(id), "log.json"))
		t.Errorf("docker's default seccomp profile is not applied: Seccomp: %s, want 2 (filter); runtime log:\n%s", mode, log)
	}
	r := s.runRm([]string{"--security-opt", "seccomp=unconfined"}, "sh", "-c", "grep ^Seccomp: /proc/self/status")
	if r.Code != 0 || strings.Fields(r.Stdout)[1] != "0" {
		t.Errorf("seccomp=unconfined: want Seccomp: 0; got %s", r)
	}
	profile := filepath.Join(s.dir, "deny-mkdir.json")
	err := os.WriteFile(profile, []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
		{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	r = s.runRm([]string{"--security-opt", "seccomp=" + profile}, "sh", "-c", "mkdir /tmp/x; echo rc=$?; touch /tmp/y && echo touch-ok")
	if !strings.Contains(r.Stderr+r.Stdout, "Permission denied") || !strings.Contains(r.Stdout, "rc=1") || !strings.Contains(r.Stdout, "touch-ok") {
		t.Errorf("a profile denying mkdir with EACCES: want mkdir refused with 'Permission denied' and touch allowed; got %s", r)
	}
}

func testDockerDaemonJSON(t *testing.T, s *dockerSuite) {
	if got := strings.TrimSpace(s.ok(t, "info", "--format", "{{.DefaultRuntime}}")); got != dockerJSONRuntime {
		t.Errorf("docker info: default runtime %q, want %s", got, dockerJSONRuntime)
	}
	name := dockerNamePrefix + "json-runtime"
	t.Cleanup(func() { s.docker("rm", "-f", name) })
	// No --runtime: the default one from daemon.json.
	out := s.ok(t, "run", "-d", "--name", name, "--cidfile", s.cidfile(), dockerImage, "sleep", "1000")
	id := strings.TrimSpace(out)
	if rt := s.inspect(t, name, "{{.HostConfig.Runtime}}"); rt != dockerJSONRuntime {
		t.Errorf("runtime %q, want %s", rt, dockerJSONRuntime)
	}
	if opts := dockerReadFile(t, filepath.Join(s.bundle(id), "options.json")); !strings.Contains(opts, `"binary_name":"`+runtimeBin+`"`) {
		t.Errorf("the shim does not run %s: %s", runtimeBin, opts)
	}
	if r := s.docker("exec", name, "echo", "via-daemon-json"); r.Code != 0 || r.Stdout != "via-daemon-json\n" {
		t.Errorf("exec: %s", r)
	}
	s.ok(t, "rm", "-f", name)
	if left := s.leftovers(id); len(left) > 0 {
		t.Errorf("rm -f left:\n  %s", strings.Join(left, "\n  "))
	}
}
