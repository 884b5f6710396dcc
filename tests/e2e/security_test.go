package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Tests of the container-runtime CVE classes (see
// shared/notes/runtime-cves.md). They are Carapace-only: runc 1.1.5 is
// vulnerable to some of them, and a vulnerable runtime can damage the host
// (the CVE-2019-5736 test appends to the runtime binary if it can).

// TestCVE2019_5736_InitExeIsNotHostBinary: the runtime's init process, which
// is pid 1 of a created container, must not be executing the host binary
// itself (runc re-execs from a sealed memfd).
func TestCVE2019_5736_InitExeIsNotHostBinary(t *testing.T) {
	t.Parallel()
	requireCarapace(t)
	c := newContainer(t)
	c.Spec.Process.Args = []string{"true"}
	c.mustCreate()
	pid := c.mustState().Pid
	f, err := os.Open(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		t.Fatalf("opening the init's exe: %v", err)
	}
	defer f.Close()
	var exe, host syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &exe); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Stat(runtimeBin, &host); err != nil {
		t.Fatal(err)
	}
	var fs unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &fs); err != nil {
		t.Fatal(err)
	}
	readOnlyMount := fs.Flags&unix.ST_RDONLY != 0
	seals, sealErr := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
	t.Logf("init exe: dev %d ino %d (host binary: dev %d ino %d), read-only mount %v, F_GET_SEALS = %#x, %v",
		exe.Dev, exe.Ino, host.Dev, host.Ino, readOnlyMount, seals, sealErr)
	// Acceptable: a sealed memfd copy (runc >= 1.1.12, 1.2), or the host
	// binary through a read-only bind mount (runc 1.1's bindfd), or some
	// other copy. Not acceptable: the host binary on a writable mount.
	if exe.Dev == host.Dev && exe.Ino == host.Ino && !readOnlyMount {
		t.Fatalf("the container's init (pid %d) executes the host binary %s on a writable mount: "+
			"the container can write it through /proc/%d/exe once it stops executing", pid, runtimeBin, pid)
	}
	if sealErr == nil {
		want := unix.F_SEAL_WRITE | unix.F_SEAL_GROW | unix.F_SEAL_SHRINK | unix.F_SEAL_SEAL
		if seals&want != want {
			t.Errorf("the init's exe is a memfd with seals %#x, want at least %#x", seals, want)
		}
	}
}

// TestCVE2019_5736_OverwriteRuntime: container processes try to write the
// runtime binary through /proc/self/exe and /proc/<runtime init>/exe; the
// host binary's hash must not change.
func TestCVE2019_5736_OverwriteRuntime(t *testing.T) {
	t.Parallel()
	requireCarapace(t)
	guardRuntimeBinary(t)

	t.Run("shebang-proc-self-exe", func(t *testing.T) {
		c := newContainer(t)
		c.writeRootfsFile("entry", "#!/proc/self/exe\n", 0o755)
		c.Spec.Process.Args = []string{"/entry"}
		r := c.Run()
		t.Logf("run of a #!/proc/self/exe entrypoint: %s", r)
	})

	t.Run("write-through-runtime-init", func(t *testing.T) {
		// Container a is created: its pid 1 is the runtime's init.
		// Container b joins a's pid namespace and attacks pid 1.
		a := newContainer(t)
		a.Spec.Process.Args = []string{"sleep", "1000"}
		a.mustCreate()
		pid := a.mustState().Pid

		b := newContainer(t)
		b.Spec.Root.Readonly = false
		b.addBind(b.HostDir, "/sync", false)
		b.setNamespace(specs.PIDNamespace, fmt.Sprintf("/proc/%d/ns/pid", pid))
		b.Spec.Process.Args = []string{"sh", "-c", `
echo "pid1 exe: $(readlink /proc/1/exe)"
(echo x >> /proc/1/exe) 2>&1 && echo "WROTE /proc/1/exe"
(echo x >> /proc/self/exe) 2>&1 && echo "WROTE /proc/self/exe"
if ( : < /proc/1/exe ) 2>/dev/null; then exec 3< /proc/1/exe; echo held-fd; else echo "cannot open /proc/1/exe"; fi
(echo x >> /proc/self/fd/3) 2>&1 && echo "WROTE fd3 early"
touch /sync/held
i=0
while [ ! -e /sync/go ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
(echo x >> /proc/self/fd/3) 2>&1 && echo "WROTE fd3 late"
echo done`}
		b.mustCreate()
		b.mustStart()
		waitFor(t, 10*time.Second, "container b to hold the init's exe", func() bool {
			_, err := os.Stat(filepath.Join(b.HostDir, "held"))
			return err == nil || strings.Contains(b.Output(), "done")
		})
		// The runtime init of a execs the user process: the file that b
		// holds is no longer being executed there.
		a.mustStart()
		if err := os.WriteFile(filepath.Join(b.HostDir, "go"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 15*time.Second, "container b to finish", func() bool { return strings.Contains(b.Output(), "done") })
		out := b.Output() + b.ErrOutput()
		t.Logf("attacker output:\n%s", out)
		if strings.Contains(out, "WROTE") {
			t.Errorf("a container process could write the runtime's executable:\n%s", out)
		}
	})
}

// cwdCheck tells, from inside, whether the cwd is inside the rootfs: going
// up from it must reach the container's root (which has the marker file).
const cwdCheck = `cd ../../../../../../../../../../.. 2>/dev/null
if [ -e e2e-rootfs-marker ]; then echo CWD-INSIDE; else echo CWD-OUTSIDE; ls; fi`

// TestCVE2024_21626_CwdFd: process.cwd=/proc/self/fd/N must not give the
// container a cwd on the host through a leaked fd.
func TestCVE2024_21626_CwdFd(t *testing.T) {
	t.Parallel()
	requireCarapace(t)
	for n := 3; n <= 10; n++ {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			c.Spec.Process.Cwd = fmt.Sprintf("/proc/self/fd/%d", n)
			r := c.ShResult(cwdCheck)
			if r.Err != nil {
				t.Fatal(r)
			}
			if r.Code == 0 && !strings.Contains(r.Stdout, "CWD-INSIDE") {
				t.Fatalf("cwd /proc/self/fd/%d is outside the container's rootfs: %s", n, r)
			}
		})
	}
}

// TestCVE2019_19921_SymlinkedProcSys: a rootfs whose /proc or /sys is a
// symlink must be refused.
func TestCVE2019_19921_SymlinkedProcSys(t *testing.T) {
	t.Parallel()
	requireCarapace(t)
	for _, tc := range []struct {
		name, dir string
		target    func(c *Container) string
	}{
		{"proc-absolute-host", "proc", func(c *Container) string { return filepath.Join(c.HostDir, "target") }},
		{"proc-relative-inside", "proc", func(c *Container) string { return "tmp" }},
		{"proc-relative-escaping", "proc", func(c *Container) string { return "../../host/target" }},
		{"sys-absolute-host", "sys", func(c *Container) string { return filepath.Join(c.HostDir, "target") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			target := filepath.Join(c.HostDir, "target")
			if err := os.Mkdir(target, 0o755); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(c.Rootfs, tc.dir)
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(tc.target(c), p); err != nil {
				t.Fatal(err)
			}
			c.Spec.Process.Args = []string{"true"}
			if r := c.Create(); !r.failed() {
				t.Errorf("create with a symlinked /%s should fail: %s", tc.dir, r)
			}
			if l := dirEntries(t, target); len(l) > 0 {
				t.Errorf("the host dir behind the symlink was written: %v", l)
			}
		})
	}
}

// TestCVE2021_30465_MountDestinationSymlink: a mount destination under a
// symlink that points outside the rootfs must be resolved inside the rootfs.
func TestCVE2021_30465_MountDestinationSymlink(t *testing.T) {
	t.Parallel()
	requireCarapace(t)
	for _, tc := range []struct {
		name   string
		target func(c *Container) string
	}{
		{"absolute", func(c *Container) string { return filepath.Join(c.HostDir, "target") }},
		{"relative", func(c *Container) string { return "../../../host/target" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			hostTarget := filepath.Join(c.HostDir, "target")
			src := filepath.Join(c.HostDir, "src")
			for _, d := range []string{hostTarget, src} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(src, "payload"), []byte("payload\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(tc.target(c), filepath.Join(c.Rootfs, "mnt/evil")); err != nil {
				t.Fatal(err)
			}
			c.Spec.Mounts = append(c.Spec.Mounts,
				specs.Mount{Destination: "/mnt/evil/sub/deep", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m"}},
				specs.Mount{Destination: "/mnt/evil/bound", Type: "bind", Source: src, Options: []string{"rbind", "ro"}},
			)
			r := c.ShResult(`echo x > /mnt/evil/sub/deep/written && echo tmpfs-write-ok; cat /mnt/evil/bound/payload; cat /proc/mounts`)
			if r.Err != nil {
				t.Fatal(r)
			}
			if l := dirEntries(t, hostTarget); len(l) > 0 {
				t.Errorf("the mount followed the symlink out of the rootfs: the host dir now has %v (%s)", l, r)
			}
			if r.Code == 0 && !(strings.Contains(r.Stdout, "tmpfs-write-ok") && strings.Contains(r.Stdout, "payload")) {
				t.Errorf("the container ran but its mounts are not there: %s", r)
			}
		})
	}
}

// TestCVE2025_31133_DevNullSymlink: maskedPaths bind the container's
// /dev/null; a rootfs whose /dev/null is a symlink must not turn masking
// into a read-write bind mount of something else.
func TestCVE2025_31133_DevNullSymlink(t *testing.T) {
	t.Parallel()
	requireCarapace(t)
	for _, tc := range []struct {
		name   string
		target func(c *Container) string
	}{
		{"rootfs-file", func(c *Container) string { return "/e2e-fake-null" }},
		{"host-file", func(c *Container) string { return filepath.Join(c.HostDir, "hostfile") }},
		{"procfs-file", func(c *Container) string { return "/proc/sys/kernel/domainname" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			c.Spec.Root.Readonly = false
			c.Spec.Linux.Sysctl = map[string]string{"kernel.domainname": "e2e-domain"}
			c.removeMount("/dev") // use the rootfs's own /dev, where the symlink is
			c.writeRootfsFile("e2e-fake-null", "FAKE-NULL\n", 0o644)
			hostFile := filepath.Join(c.HostDir, "hostfile")
			if err := os.WriteFile(hostFile, []byte("HOST-FILE\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(tc.target(c), filepath.Join(c.Rootfs, "dev/null")); err != nil {
				t.Fatal(err)
			}
			r := c.ShResult(`for p in /proc/keys /proc/timer_list; do
	echo "$p=[$(cat $p 2>/dev/null)]"
	(echo pwned > $p) 2>/dev/null && echo "WROTE $p"
done
echo "domain=$(cat /proc/sys/kernel/domainname)"`)
			if r.Err != nil {
				t.Fatal(r)
			}
			if r.Code == 0 {
				for _, want := range []string{"/proc/keys=[]", "/proc/timer_list=[]", "domain=e2e-domain"} {
					if !strings.Contains(r.Stdout, want) {
						t.Errorf("masked paths bound from a symlinked /dev/null: output lacks %q: %s", want, r)
					}
				}
				if strings.Contains(r.Stdout, "WROTE") {
					t.Errorf("a masked path is writable: %s", r)
				}
			}
			if got := readFileString(hostFile); got != "HOST-FILE\n" {
				t.Errorf("the host file changed: %q", got)
			}
			if got := readFileString(filepath.Join(c.Rootfs, "e2e-fake-null")); got != "FAKE-NULL\n" {
				t.Errorf("the symlink target in the rootfs changed: %q", got)
			}
		})
	}
}

// TestCVE2026_41579_DevSymlink: a rootfs whose /dev is a symlink out of
// the rootfs must not get device nodes created in the host dir.
func TestCVE2026_41579_DevSymlink(t *testing.T) {
	t.Parallel()
	requireCarapace(t)
	for _, tc := range []struct {
		name     string
		target   func(c *Container) string
		devTmpfs bool
	}{
		{"absolute-with-dev-tmpfs", func(c *Container) string { return filepath.Join(c.HostDir, "evil-dev") }, true},
		{"absolute-without-dev-tmpfs", func(c *Container) string { return filepath.Join(c.HostDir, "evil-dev") }, false},
		{"relative-with-dev-tmpfs", func(c *Container) string { return "../../host/evil-dev" }, true},
		{"relative-without-dev-tmpfs", func(c *Container) string { return "../../host/evil-dev" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			evil := filepath.Join(c.HostDir, "evil-dev")
			if err := os.Mkdir(evil, 0o755); err != nil {
				t.Fatal(err)
			}
			dev := filepath.Join(c.Rootfs, "dev")
			if err := os.Remove(dev); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(tc.target(c), dev); err != nil {
				t.Fatal(err)
			}
			if !tc.devTmpfs {
				c.removeMount("/dev")
			}
			r := c.ShResult("ls /dev")
			if r.Err != nil {
				t.Fatal(r)
			}
			if l := dirEntries(t, evil); len(l) > 0 {
				t.Errorf("device setup wrote the host dir behind the /dev symlink: %v (%s)", l, r)
			}
		})
	}
}
