package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/tests/internal/testenv"
)

// The AppArmor tests need a kernel with AppArmor enabled, its securityfs
// and apparmor_parser: the LSM leg (tests/vm/lsm.sh, `make test-lsm`) has
// them; elsewhere they skip, and TestLSMUnavailable checks the error
// instead.

func appArmorEnabled() bool {
	b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && len(b) > 0 && b[0] == 'Y'
}

func requireAppArmor(t *testing.T) string {
	t.Helper()
	requireCarapace(t)
	if !appArmorEnabled() {
		t.Skip("AppArmor is not enabled on this host")
	}
	if _, err := os.Stat("/sys/kernel/security/apparmor/.replace"); err != nil {
		t.Skip("no AppArmor securityfs (/sys/kernel/security/apparmor)")
	}
	parser, err := exec.LookPath("apparmor_parser")
	if err != nil {
		t.Skip("no apparmor_parser to load test profiles")
	}
	return parser
}

// loadProfile loads an AppArmor profile named name+random whose rules are
// body, removes it at the end of the test, and returns its name.
func loadProfile(t *testing.T, name, body string) string {
	t.Helper()
	parser := requireAppArmor(t)
	name += "-" + testenv.RandHex(4)
	text := fmt.Sprintf("@{PROC}=/proc/\n\nprofile %s flags=(attach_disconnected,mediate_deleted) {\n%s}\n",
		name, strings.ReplaceAll(body, "@NAME@", name))
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := hostOutput(parser, "-r", "-K", path); err != nil {
		t.Fatalf("load profile %s: %v %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := hostOutput(parser, "-R", "-K", path); err != nil {
			t.Errorf("remove profile %s: %v %s", name, err, out)
		}
	})
	return name
}

// denyShmProfile allows what a container does, except writing files
// named /dev/shm/denied*, which a plain container may do.
const denyShmProfile = `  file,
  capability,
  network,
  signal,
  ptrace,
  unix,
  umount,
  deny /dev/shm/denied* w,
`

// dockerDefaultRules are the rules of docker's default container profile
// (moby's profiles/apparmor template), as docker renders them on a host
// without /etc/apparmor.d/tunables (no abstractions; @{PROC} defined
// above) and with an unconfined daemon.
const dockerDefaultRules = `  network,
  capability,
  file,
  umount,
  signal (receive) peer=unconfined,
  signal (receive) peer=runc,
  signal (receive) peer=crun,
  signal (send,receive) peer=@NAME@,
  deny @{PROC}/* w,
  deny @{PROC}/{[^1-9],[^1-9][^0-9],[^1-9s][^0-9y][^0-9s],[^1-9][^0-9][^0-9][^0-9/]*}/** w,
  deny @{PROC}/sys/[^k]** w,
  deny @{PROC}/sys/kernel/{?,??,[^s][^h][^m]**} w,
  deny @{PROC}/sysrq-trigger rwklx,
  deny @{PROC}/kcore rwklx,
  deny mount,
  deny /sys/[^f]*/** wklx,
  deny /sys/f[^s]*/** wklx,
  deny /sys/fs/[^c]*/** wklx,
  deny /sys/fs/c[^g]*/** wklx,
  deny /sys/fs/cg[^r]*/** wklx,
  deny /sys/firmware/** rwklx,
  deny /sys/devices/virtual/powercap/** rwklx,
  deny /sys/kernel/security/** rwklx,
  ptrace (trace,read,tracedby,readby) peer=@NAME@,
`

// shmProbe prints the process's AppArmor label, then whether it can write
// an allowed and a denied file.
const shmProbe = `cat /proc/self/attr/current
echo x > /dev/shm/allowed && echo allowed-written
echo x > /dev/shm/denied 2>/dev/null && echo denied-written || echo denied-refused
`

// TestAppArmorProfile: process.apparmorProfile confines the container's
// process from its exec: it runs in the profile (as it and the host see
// it), and what the profile denies fails inside.
func TestAppArmorProfile(t *testing.T) {
	t.Parallel()
	name := loadProfile(t, "carapace-e2e", denyShmProfile)

	c := newContainer(t)
	c.Spec.Process.ApparmorProfile = name
	out := c.Sh(shmProbe)
	want := name + " (enforce)\nallowed-written\ndenied-refused\n"
	if out != want {
		t.Errorf("in the profile's container:\n%s\nwant:\n%s", out, want)
	}

	// The same container without the profile may write the file: the
	// refusal above is the profile's.
	plain := newContainer(t)
	if out := plain.Sh(shmProbe); out != "unconfined\nallowed-written\ndenied-written\n" {
		t.Errorf("without the profile:\n%s", out)
	}
}

// TestAppArmorExec: exec'd processes are confined: by the container's
// profile by default, by --apparmor's or the process JSON's when given;
// the host sees init in the profile.
func TestAppArmorExec(t *testing.T) {
	t.Parallel()
	name := loadProfile(t, "carapace-e2e", denyShmProfile)
	other := loadProfile(t, "carapace-e2e-other", denyShmProfile)
	c, pid := startSleeper(t, func(c *Container) { c.Spec.Process.ApparmorProfile = name })

	if got := strings.TrimSpace(readFileString(fmt.Sprintf("/proc/%d/attr/current", pid))); got != name+" (enforce)" {
		t.Errorf("the host sees init in %q, want %q", got, name+" (enforce)")
	}
	want := name + " (enforce)\nallowed-written\ndenied-refused\n"
	if out := c.mustExecSh(t, nil, shmProbe); out != want {
		t.Errorf("exec:\n%s\nwant:\n%s", out, want)
	}
	if out := c.mustExecSh(t, []string{"--apparmor", other}, "cat /proc/self/attr/current"); out != other+" (enforce)\n" {
		t.Errorf("exec --apparmor %s: %q", other, out)
	}
	p := specs.Process{
		Args: []string{"cat", "/proc/self/attr/current"}, Cwd: "/",
		Env: []string{"PATH=/bin:/usr/bin"}, ApparmorProfile: other,
	}
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(c.HostDir, "process.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := c.execIn([]string{"--process", path}); !r.ok() || r.Stdout != other+" (enforce)\n" {
		t.Errorf("exec --process with apparmorProfile %s: %s", other, r)
	}

	// A profile that is not loaded: a clear error, no process left.
	r := c.execIn([]string{"--apparmor", "carapace-not-loaded"}, "true")
	if !r.failed() || !strings.Contains(r.Stderr, `process.apparmorProfile "carapace-not-loaded": the profile is not loaded`) {
		t.Errorf("exec --apparmor with a profile that is not loaded: %s", r)
	}
	if pids := c.psJSON(); len(pids) != 1 || pids[0] != pid {
		t.Errorf("ps after the failed exec = %v, want only the init %d", pids, pid)
	}
}

// TestAppArmorStartContainerHook: a startContainer hook runs confined by
// the container's profile, as with runc (which applies the profile before
// running the hooks): init asks for the profile on its thread during
// create, and the hook, forked from that thread, enters it at its execve.
func TestAppArmorStartContainerHook(t *testing.T) {
	t.Parallel()
	name := loadProfile(t, "carapace-e2e", denyShmProfile)
	c, _ := startSleeper(t, func(c *Container) {
		c.Spec.Process.ApparmorProfile = name
		c.Spec.Hooks = &specs.Hooks{StartContainer: []specs.Hook{hookProbe}}
	})
	want := name + " (enforce)\nallowed-written\ndenied-refused\n"
	if out := c.mustExecSh(t, nil, "cat /dev/shm/hook"); out != want {
		t.Errorf("the startContainer hook saw:\n%s\nwant:\n%s", out, want)
	}
}

// hookProbe is a startContainer hook that writes shmProbe's output to
// /dev/shm/hook, in the container.
var hookProbe = specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "{ " + shmProbe + "} > /dev/shm/hook"}}

// TestAppArmorNotLoaded: create fails, naming the field and the profile,
// and leaves nothing behind.
func TestAppArmorNotLoaded(t *testing.T) {
	t.Parallel()
	requireAppArmor(t)
	runBadInput(t, badInput{
		name: "apparmor-not-loaded",
		want: `process.apparmorProfile "carapace-not-loaded": the profile is not loaded on this host`,
		spec: func(c *Container) { c.Spec.Process.ApparmorProfile = "carapace-not-loaded" },
	})
}

// TestAppArmorDockerDefault: docker's default profile confines the
// container: with CAP_SYS_ADMIN, mount is refused by the profile (and
// allowed without it).
func TestAppArmorDockerDefault(t *testing.T) {
	t.Parallel()
	name := loadProfile(t, "carapace-docker-default", dockerDefaultRules)
	probe := `cat /proc/self/attr/current
mkdir /dev/shm/m && mount -t tmpfs t /dev/shm/m 2>/dev/null && echo mounted || echo mount-refused
`
	withSysAdmin := func(c *Container) {
		caps := c.Spec.Process.Capabilities
		caps.Bounding = append(caps.Bounding, "CAP_SYS_ADMIN")
		caps.Effective = append(caps.Effective, "CAP_SYS_ADMIN")
		caps.Permitted = append(caps.Permitted, "CAP_SYS_ADMIN")
	}
	c := newContainer(t)
	withSysAdmin(c)
	c.Spec.Process.ApparmorProfile = name
	out := c.Sh(probe)
	if out != name+" (enforce)\nmount-refused\n" {
		t.Errorf("in docker's default profile:\n%s", out)
	}

	plain := newContainer(t)
	withSysAdmin(plain)
	if out := plain.Sh(probe); out != "unconfined\nmounted\n" {
		t.Errorf("without the profile:\n%s", out)
	}
}

// TestAppArmorProcCovered: the profile is written through the runtime's
// own procfs, not the container's /proc (CVE-2019-16884): with a tmpfs
// the container mounted over its /proc before an exec, the exec'd process
// is still confined (a write to the container's /proc would land in the
// tmpfs and confine nothing). Init writes it through a procfs it made
// before any of the container's mounts, and a config cannot put anything
// but procfs at /proc.
func TestAppArmorProcCovered(t *testing.T) {
	t.Parallel()
	name := loadProfile(t, "carapace-e2e", denyShmProfile)
	probe := `echo x > /dev/shm/denied 2>/dev/null && echo denied-written || echo denied-refused`

	e, _ := startSleeper(t, func(c *Container) {
		caps := c.Spec.Process.Capabilities
		caps.Bounding = append(caps.Bounding, "CAP_SYS_ADMIN")
		caps.Effective = append(caps.Effective, "CAP_SYS_ADMIN")
		caps.Permitted = append(caps.Permitted, "CAP_SYS_ADMIN")
	})
	// Files where a runtime writing through the container's /proc would
	// write, successfully.
	e.mustExecSh(t, nil, `mount -t tmpfs t /proc && for d in self thread-self; do
	mkdir -p /proc/$d/attr/apparmor && touch /proc/$d/attr/apparmor/exec /proc/$d/attr/exec; done`)
	if out := e.mustExecSh(t, []string{"--apparmor", name}, probe); out != "denied-refused\n" {
		t.Errorf("exec after the container covered its /proc: %q, want denied-refused", out)
	}
}

// ---- SELinux -----------------------------------------------------------------------

// The SELinux tests need a kernel with SELinux enabled and a policy that
// knows the container_t and container_file_t types with MLS categories
// (podman's labels): the LSM leg boots one (tests/vm/lsm.sh,
// tests/vm/selinux-policy.sh).

const (
	podmanProcessLabel = "system_u:system_r:container_t:s0:c1,c2"
	podmanMountLabel   = "system_u:object_r:container_file_t:s0:c1,c2"
)

func requireSELinux(t *testing.T) {
	t.Helper()
	requireCarapace(t)
	if _, err := os.Stat("/sys/fs/selinux/enforce"); err != nil {
		t.Skip("SELinux is not enabled on this host")
	}
}

// TestSELinuxLabels: podman's process.selinuxLabel and linux.mountLabel:
// the process runs in its context (seen inside and from the host), and the
// container's tmpfs, devpts, shm and mqueue mounts carry the mount label.
func TestSELinuxLabels(t *testing.T) {
	t.Parallel()
	requireSELinux(t)
	c, pid := startSleeper(t, func(c *Container) {
		c.Spec.Process.SelinuxLabel = podmanProcessLabel
		c.Spec.Linux.MountLabel = podmanMountLabel
	})
	if got := strings.TrimRight(readFileString(fmt.Sprintf("/proc/%d/attr/current", pid)), "\x00\n"); got != podmanProcessLabel {
		t.Errorf("the host sees init in %q, want %q", got, podmanProcessLabel)
	}
	hostView := readFileString(fmt.Sprintf("/proc/%d/mountinfo", pid))
	inside := c.mustExecSh(t, nil, "cat /proc/self/attr/current; echo; cat /proc/self/mountinfo")
	if first := strings.TrimRight(lines(inside)[0], "\x00"); first != podmanProcessLabel {
		t.Errorf("exec sees itself in %q, want %q", first, podmanProcessLabel)
	}
	ctx := `context="` + podmanMountLabel + `"`
	for name, mi := range map[string]string{"host": hostView, "container": inside} {
		for _, dst := range []string{"/dev", "/dev/pts", "/dev/shm"} {
			found := false
			for _, l := range lines(mi) {
				if f := strings.Fields(l); len(f) > 4 && f[4] == dst {
					found = true
					if !strings.Contains(l, ctx) {
						t.Errorf("%s view: %s lacks %s: %s", name, dst, ctx, l)
					}
				}
			}
			if !found {
				t.Errorf("%s view: no %s mount", name, dst)
			}
		}
	}
	// mqueue takes no context= option: its root carries the label.
	buf := make([]byte, 256)
	n, err := syscall.Getxattr(fmt.Sprintf("/proc/%d/root/dev/mqueue", pid), "security.selinux", buf)
	if err != nil || strings.TrimRight(string(buf[:n]), "\x00") != podmanMountLabel {
		t.Errorf("/dev/mqueue's label: %q (%v), want %q", buf[:max(n, 0)], err, podmanMountLabel)
	}
	other := "system_u:system_r:container_t:s0:c3,c4"
	if out := c.mustExecSh(t, []string{"--process-label", other}, "cat /proc/self/attr/current"); strings.TrimRight(out, "\x00\n") != other {
		t.Errorf("exec --process-label %s: %q", other, out)
	}
}

// TestSELinuxCgroupV1: on a v1 or hybrid host the container's
// /sys/fs/cgroup is a tmpfs holding the hierarchies, which carries
// linux.mountLabel, as runc's does (mountCgroupV1 mounts it as any tmpfs);
// the hierarchies keep the kernel's labels. The LSM leg boots a hybrid VM
// for it.
func TestSELinuxCgroupV1(t *testing.T) {
	t.Parallel()
	requireSELinux(t)
	var st syscall.Statfs_t
	if err := syscall.Statfs("/sys/fs/cgroup", &st); err != nil || st.Type != unix.TMPFS_MAGIC {
		t.Skip("/sys/fs/cgroup is not a v1 or hybrid layout's tmpfs here")
	}
	c, pid := startSleeper(t, func(c *Container) {
		c.Spec.Process.SelinuxLabel = podmanProcessLabel
		c.Spec.Linux.MountLabel = podmanMountLabel
	})
	ctx := `context="` + podmanMountLabel + `"`
	for name, mi := range map[string]string{
		"host":      readFileString(fmt.Sprintf("/proc/%d/mountinfo", pid)),
		"container": c.mustExecSh(t, nil, "cat /proc/self/mountinfo"),
	} {
		found := false
		for _, l := range lines(mi) {
			if f := strings.Fields(l); len(f) > 4 && f[4] == "/sys/fs/cgroup" {
				found = true
				if !strings.Contains(l, " tmpfs ") || !strings.Contains(l, ctx) {
					t.Errorf("%s view: /sys/fs/cgroup is not a tmpfs with %s: %s", name, ctx, l)
				}
			}
		}
		if !found {
			t.Errorf("%s view: no /sys/fs/cgroup mount", name)
		}
	}
	if got := hostLabel(t, pid, "/sys/fs/cgroup"); got != podmanMountLabel {
		t.Errorf("host: /sys/fs/cgroup is labelled %q, want %q", got, podmanMountLabel)
	}
}

// TestSELinuxBadLabel: a context the policy rejects fails create, naming
// the field and the label, and leaves nothing behind.
func TestSELinuxBadLabel(t *testing.T) {
	t.Parallel()
	requireSELinux(t)
	bad := "system_u:system_r:carapace_no_such_t:s0"
	for _, row := range []badInput{
		{name: "process", want: `process.selinuxLabel "` + bad + `": the loaded SELinux policy rejects this context`,
			spec: func(c *Container) { c.Spec.Process.SelinuxLabel = bad }},
		{name: "mount", want: `linux.mountLabel "` + bad + `": the loaded SELinux policy rejects this context`,
			spec: func(c *Container) { c.Spec.Linux.MountLabel = bad }},
	} {
		t.Run(row.name, func(t *testing.T) { runBadInput(t, row) })
	}
}

// maskedDir is the masked directory TestSELinuxMaskedPaths adds.
const maskedDir = "/carapace-masked"

// TestSELinuxMaskedPaths: the read-only tmpfs over a masked directory
// carries linux.mountLabel (context=), as runc's does (maskDir): seen in
// the mount table from the host and from inside, and as the label of the
// directory's root both ways.
func TestSELinuxMaskedPaths(t *testing.T) {
	t.Parallel()
	requireSELinux(t)
	c, pid := startSleeper(t, func(c *Container) {
		c.Spec.Process.SelinuxLabel = podmanProcessLabel
		c.Spec.Linux.MountLabel = podmanMountLabel
		if err := os.Mkdir(filepath.Join(c.Rootfs, maskedDir), 0o755); err != nil {
			t.Fatal(err)
		}
		c.Spec.Linux.MaskedPaths = append(c.Spec.Linux.MaskedPaths, maskedDir)
		installXattrTool(t, c)
	})
	ctx := `context="` + podmanMountLabel + `"`
	views := map[string]string{
		"host":      readFileString(fmt.Sprintf("/proc/%d/mountinfo", pid)),
		"container": c.mustExecSh(t, nil, "cat /proc/self/mountinfo"),
	}
	for name, mi := range views {
		found := false
		for _, l := range lines(mi) {
			if f := strings.Fields(l); len(f) > 4 && f[4] == maskedDir {
				found = true
				if !strings.Contains(l, ctx) || !strings.Contains(l, " tmpfs ") {
					t.Errorf("%s view: the masked %s is not a tmpfs with %s: %s", name, maskedDir, ctx, l)
				}
			}
		}
		if !found {
			t.Errorf("%s view: %s is not masked", name, maskedDir)
		}
	}
	if got := hostLabel(t, pid, maskedDir); got != podmanMountLabel {
		t.Errorf("host: %s is labelled %q, want %q", maskedDir, got, podmanMountLabel)
	}
	if got := insideLabels(t, c, nil, maskedDir)[maskedDir]; got != podmanMountLabel {
		t.Errorf("container: %s is labelled %q, want %q", maskedDir, got, podmanMountLabel)
	}
}

// TestSELinuxCreatedFiles: the files the runtime creates in the
// container's /dev (default and configured nodes, the fd/stdio and ptmx
// links, the shm, mqueue and pts mount points) carry linux.mountLabel, as
// with runc: they are made on the /dev tmpfs, whose context= labels every
// file on it. runc 1.5.3 sets no fscreate label and relabels nothing it
// creates, so a directory the runtime makes in the image (a mount point's
// missing parent) takes the label the policy gives a new file there, that
// of its parent directory here; Carapace does the same. Checked from the
// host (/proc/<pid>/root) and from inside.
func TestSELinuxCreatedFiles(t *testing.T) {
	t.Parallel()
	requireSELinux(t)
	devs := []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
		"/dev/carapace-null", "/dev/ptmx", "/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr",
		"/dev/shm", "/dev/mqueue", "/dev/pts", "/dev/pts/ptmx"}
	made := []string{"/carapace-made", "/carapace-made/sub"}
	c, pid := startSleeper(t, func(c *Container) {
		c.Spec.Process.SelinuxLabel = podmanProcessLabel
		c.Spec.Linux.MountLabel = podmanMountLabel
		c.Spec.Linux.Devices = append(c.Spec.Linux.Devices, specs.LinuxDevice{
			Path: "/dev/carapace-null", Type: "c", Major: 1, Minor: 3, FileMode: ptr(os.FileMode(0o666))})
		// A tmpfs whose destination's parents the image lacks.
		c.Spec.Mounts = append(c.Spec.Mounts, specs.Mount{Destination: "/carapace-made/sub/tmp", Type: "tmpfs", Source: "tmpfs"})
		installXattrTool(t, c)
	})
	rootLabel := hostLabel(t, pid, "/")
	inside := insideLabels(t, c, nil, append(append([]string{"/"}, devs...), made...)...)
	want := map[string]string{}
	for _, p := range devs {
		want[p] = podmanMountLabel
	}
	for _, p := range made {
		want[p] = rootLabel
	}
	for _, p := range append(devs, made...) {
		if got := hostLabel(t, pid, p); got != want[p] {
			t.Errorf("host: %s is labelled %q, want %q", p, got, want[p])
		}
		if got := inside[p]; got != want[p] {
			t.Errorf("container: %s is labelled %q, want %q", p, got, want[p])
		}
	}
	if inside["/"] != rootLabel {
		t.Errorf("container: / is labelled %q, the host sees %q", inside["/"], rootLabel)
	}
}

// TestSELinuxStartContainerHook: a startContainer hook runs in the
// process's context, as with runc (which sets the exec label before
// running the hooks).
func TestSELinuxStartContainerHook(t *testing.T) {
	t.Parallel()
	requireSELinux(t)
	hook := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "cat /proc/self/attr/current > /dev/shm/hook"}}
	c, _ := startSleeper(t, func(c *Container) {
		c.Spec.Process.SelinuxLabel = podmanProcessLabel
		c.Spec.Hooks = &specs.Hooks{StartContainer: []specs.Hook{hook}}
	})
	if out := strings.TrimRight(c.mustExecSh(t, nil, "cat /dev/shm/hook"), "\x00\n"); out != podmanProcessLabel {
		t.Errorf("the startContainer hook ran in %q, want %q", out, podmanProcessLabel)
	}
}

// secretLabel is the type selinux-policy.sh denies container_t every
// file permission on.
const secretLabel = "system_u:object_r:carapace_secret_t:s0"

// TestSELinuxConfined: the policy confines the container, not only labels
// it: a file labelled carapace_secret_t, which the leg's policy lets
// container_t do nothing with, cannot be read in the container with
// podman's label (enforcing), while the same file in a container without
// a label (the runtime's own domain, unconfined by the policy) can.
func TestSELinuxConfined(t *testing.T) {
	t.Parallel()
	requireSELinux(t)
	if b, _ := os.ReadFile("/sys/fs/selinux/enforce"); string(bytes.TrimSpace(b)) != "1" {
		t.Skip("SELinux is permissive: nothing is denied")
	}
	probe := `cat /public; cat /secret 2>/dev/null || echo secret-refused`
	setup := func(c *Container) {
		for name, content := range map[string]string{"public": "public\n", "secret": "s3cret\n"} {
			if err := os.WriteFile(filepath.Join(c.Rootfs, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := syscall.Setxattr(filepath.Join(c.Rootfs, "secret"), "security.selinux", []byte(secretLabel), 0); err != nil {
			t.Fatalf("label the secret %s (does the loaded policy have carapace_secret_t?): %v", secretLabel, err)
		}
	}
	confined := newContainer(t)
	setup(confined)
	confined.Spec.Process.SelinuxLabel = podmanProcessLabel
	confined.Spec.Linux.MountLabel = podmanMountLabel
	if out := confined.Sh(probe); out != "public\nsecret-refused\n" {
		t.Errorf("container_t reading a carapace_secret_t file:\n%s\nwant public, then secret-refused", out)
	}
	plain := newContainer(t)
	setup(plain)
	if out := plain.Sh(probe); out != "public\ns3cret\n" {
		t.Errorf("without a label:\n%s\nwant public, then s3cret", out)
	}
}

// installXattrTool puts the test binary in the container as
// /bin/e2e-xattr, to read labels from inside (printLabels).
func installXattrTool(t *testing.T, c *Container) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := copyFile(self, filepath.Join(c.Rootfs, "bin/e2e-xattr"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// insideLabels reads the SELinux labels of paths from an exec'd process
// in the container (exec flags flags); the test binary must be installed
// (installXattrTool).
func insideLabels(t *testing.T, c *Container, flags []string, paths ...string) map[string]string {
	t.Helper()
	r := c.execIn(append([]string{"--env", helperEnv + "=xattr"}, flags...), append([]string{"/bin/e2e-xattr"}, paths...)...)
	if !r.ok() {
		t.Fatalf("read labels in the container: %s", r)
	}
	got := map[string]string{}
	for _, l := range lines(r.Stdout) {
		if p, label, ok := strings.Cut(l, " "); ok {
			got[p] = label
		}
	}
	return got
}

// hostLabel reads the SELinux label of a path in a container from the
// host, through /proc/<pid>/root (the file itself, not a symlink's
// target).
func hostLabel(t *testing.T, pid int, p string) string {
	t.Helper()
	buf := make([]byte, 512)
	n, err := unix.Lgetxattr(fmt.Sprintf("/proc/%d/root%s", pid, p), "security.selinux", buf)
	if err != nil {
		return "!" + err.Error()
	}
	return strings.TrimRight(string(buf[:n]), "\x00")
}
