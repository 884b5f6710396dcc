package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// One test (or more) per container-runtime CVE class of
// shared/notes/runtime-cves.md that security_test.go, escape_test.go,
// exec_test.go and terminal_test.go do not already cover; docs/security.md
// maps every CVE to its tests. Each is a hostile bundle, image or race
// against the real binary and checks, with guardHost, that the host is
// untouched, and that the container sees what it should.

// cveIterations is how many times the racing tests race:
// CARAPACE_E2E_CVE_ITERATIONS, 40 by default (about 20 s for the mount
// races on a 2-core machine).
func cveIterations() int {
	if n, err := strconv.Atoi(os.Getenv("CARAPACE_E2E_CVE_ITERATIONS")); err == nil && n > 0 {
		return n
	}
	return 40
}

// hostGuard is what a hostile container must not change on the host: the
// runtime's binary, and the host dirs its symlinks point at (their
// recursive listing, and the host's mounts under them).
type hostGuard struct {
	t      *testing.T
	binSum string
	dirs   map[string][]string
}

// guardHost records the runtime binary's sha256 and, for each dir (made
// if missing, with a sentinel file in it), its listing; check compares,
// and runs again when the test ends.
func guardHost(t *testing.T, dirs ...string) *hostGuard {
	t.Helper()
	g := &hostGuard{t: t, binSum: fileSHA256(t, runtimeBin), dirs: map[string][]string{}}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "sentinel"), []byte("sentinel\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		g.dirs[d] = dirEntries(t, d)
	}
	t.Cleanup(func() { g.check("at the end of the test") })
	return g
}

// check reports whether the host is as guardHost found it.
func (g *hostGuard) check(when string) bool {
	g.t.Helper()
	ok := true
	if s := fileSHA256(g.t, runtimeBin); s != g.binSum {
		g.t.Errorf("%s: THE RUNTIME BINARY %s WAS MODIFIED: sha256 %s -> %s", when, runtimeBin, g.binSum, s)
		ok = false
	}
	for d, before := range g.dirs {
		if after := dirEntries(g.t, d); !slices.Equal(before, after) {
			g.t.Errorf("%s: the host dir %s changed: %v -> %v", when, d, before, after)
			ok = false
		}
		if m := mountsUnder(d); len(m) > 0 {
			g.t.Errorf("%s: mounted on the host under %s: %v", when, d, m)
			ok = false
		}
	}
	return ok
}

// swapper exchanges each pair of paths with renameat2(RENAME_EXCHANGE) in
// a loop, as a second container sharing a volume would, until stop, which
// returns how many exchanges were made.
func swapper(pairs [][2]string) (stop func() int64) {
	var done atomic.Bool
	var n atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !done.Load() {
			for _, p := range pairs {
				if unix.Renameat2(unix.AT_FDCWD, p[0], unix.AT_FDCWD, p[1], unix.RENAME_EXCHANGE) == nil {
					n.Add(1)
				}
			}
		}
	}()
	return func() int64 {
		done.Store(true)
		wg.Wait()
		return n.Load()
	}
}

// swapRace is the loop of a racing CVE test: n times, a fresh container
// of c is made by verb while a swapper exchanges pairs. A result other
// than success or a refusal (an exit status) fails the test; a success
// goes to ok. After each try the container is deleted, nothing of it may
// be left and the host must be untouched (g), then after runs (if set).
// The loop ends at the first failure.
type swapRace struct {
	pairs [][2]string
	n     int
	verb  func(i int, k *Container) result
	ok    func(when string, k *Container, r result)
	after func(when string)
}

// run returns the exchanges made and the successes, and fails the test
// if the swapper never exchanged anything: it could not have told.
func (s swapRace) run(t *testing.T, c *Container, g *hostGuard) (swaps int64, succeeded int) {
	t.Helper()
	for i := range s.n {
		k := raceContainer(c, i)
		stop := swapper(s.pairs)
		r := s.verb(i, k)
		swaps += stop()
		when := fmt.Sprintf("iteration %d", i)
		switch {
		case r.Err != nil:
			t.Fatalf("%s: %s", when, r)
		case r.ok():
			succeeded++
			s.ok(when, k, r)
		}
		k.runtime("delete", "--force", k.ID)
		k.checkNoLeftovers(when)
		if s.after != nil {
			s.after(when)
		}
		if !g.check(when) || t.Failed() {
			break
		}
	}
	if swaps == 0 {
		t.Errorf("the swapper never exchanged anything: the test cannot tell")
	}
	return swaps, succeeded
}

// escapeLink is a relative symlink target from dir (in the rootfs) that
// climbs out of the rootfs to the host path target.
func escapeLink(dir, target string) string {
	return strings.Repeat("../", strings.Count(dir, "/")+1) + strings.TrimPrefix(target, "/")
}

// ---- CVE-2021-30465 and CVE-2024-45310: racing mount destinations ----------------

const racedMounts = 50

// raceMountDestinations creates a container with racedMounts tmpfs mounts
// at /mnt/d<N>[/sub/deep] while a swapper exchanges every /mnt/d<N> (a
// directory) with /mnt/l<N> (a symlink to a host dir), cveIterations
// times. A mount resolved by path lands on the host dir (outside the
// rootfs, so it is gone after pivot_root) or, with deep, mkdir creates
// sub/ there. Every mount must be in the container and the host dir
// untouched, or create must fail.
func raceMountDestinations(t *testing.T, deep bool) {
	c := newContainer(t)
	target := filepath.Join(c.HostDir, "target")
	g := guardHost(t, target)
	var pairs [][2]string
	suffix := ""
	if deep {
		suffix = "/sub/deep"
	}
	c.Spec.Process.Args = []string{"sleep", "1000"}
	for n := 0; n < racedMounts; n++ {
		d := filepath.Join(c.Rootfs, "mnt", fmt.Sprintf("d%d", n))
		l := filepath.Join(c.Rootfs, "mnt", fmt.Sprintf("l%d", n))
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		link := target
		if n%2 == 1 {
			link = escapeLink("/mnt/l", target)
		}
		if err := os.Symlink(link, l); err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, [2]string{d, l})
		c.Spec.Mounts = append(c.Spec.Mounts, specs.Mount{
			Destination: fmt.Sprintf("/mnt/d%d%s", n, suffix), Type: "tmpfs",
			Source: fmt.Sprintf("e2e-race-%d", n), Options: []string{"size=64k"}})
	}
	c.WriteSpec()
	swaps, created := swapRace{
		pairs: pairs,
		n:     cveIterations(),
		verb: func(_ int, k *Container) result {
			return k.runtime("create", "--bundle", k.Bundle, k.ID)
		},
		ok: func(when string, k *Container, _ result) {
			mi := readFileString(fmt.Sprintf("/proc/%d/mountinfo", k.mustState().Pid))
			for n := 0; n < racedMounts; n++ {
				src := fmt.Sprintf(" e2e-race-%d ", n)
				if !strings.Contains(mi, src) {
					t.Errorf("%s: the tmpfs of mounts[%d] is not in the container: it went through the swapped symlink\n%s", when, n, mi)
				}
			}
		},
	}.run(t, c, g)
	t.Logf("%d iterations, %d created (the others refused a swapped destination), %d exchanges", cveIterations(), created, swaps)
}

// TestCVE2021_30465_MountDestinationRace: mount destinations exchanged
// with symlinks out of the rootfs during create.
func TestCVE2021_30465_MountDestinationRace(t *testing.T) {
	requireCarapace(t)
	raceMountDestinations(t, false)
}

// TestCVE2024_45310_MkdirRace: missing mount destinations created while a
// parent is exchanged with a symlink to a host dir: no new inode on the
// host.
func TestCVE2024_45310_MkdirRace(t *testing.T) {
	requireCarapace(t)
	raceMountDestinations(t, true)
}

// ---- CVE-2025-31133: masked paths while /dev/null is swapped ------------------------

// TestCVE2025_31133_DevNullRace: the rootfs's own /dev (no /dev tmpfs);
// while create runs, /dev/null is exchanged with a symlink to a procfs file
// and with a regular file. The masked files must read empty and refuse
// writes, the sysctl must be the config's, nothing on the host changes.
func TestCVE2025_31133_DevNullRace(t *testing.T) {
	requireCarapace(t)
	c := newContainer(t)
	hostDir := filepath.Join(c.HostDir, "target")
	g := guardHost(t, hostDir)
	c.Spec.Root.Readonly = false
	c.Spec.Linux.Sysctl = map[string]string{"kernel.domainname": "e2e-domain"}
	c.removeMount("/dev")
	c.writeRootfsFile("dev/fake", "FAKE-NULL\n", 0o644)
	for name, to := range map[string]string{
		"evil-proc": "/proc/sys/kernel/domainname",
		"evil-host": filepath.Join(hostDir, "sentinel"),
	} {
		if err := os.Symlink(to, filepath.Join(c.Rootfs, "dev", name)); err != nil {
			t.Fatal(err)
		}
	}
	null := filepath.Join(c.Rootfs, "dev/null")
	pairs := [][2]string{{null, filepath.Join(c.Rootfs, "dev/evil-proc")}, {null, filepath.Join(c.Rootfs, "dev/fake")},
		{null, filepath.Join(c.Rootfs, "dev/evil-host")}}
	// No redirection to /dev/null in the script: it may be anything.
	c.Spec.Process.Args = []string{"sh", "-c", `for p in /proc/keys /proc/timer_list; do
	echo "$p=[$(cat $p)] $(stat -c '%F,%t,%T' $p)"
	(echo pwned > $p) 2>&1
done
echo "domain=$(cat /proc/sys/kernel/domainname)"`}
	c.WriteSpec()
	swaps, ran := swapRace{
		pairs: pairs,
		n:     cveIterations(),
		verb: func(_ int, k *Container) result {
			return k.runtime("run", "--bundle", k.Bundle, k.ID)
		},
		ok: func(when string, _ *Container, r result) {
			// Masked files are the null device (a write to them is
			// discarded, as runc's are).
			for _, want := range []string{"/proc/keys=[] character special file,1,3", "/proc/timer_list=[] character special file,1,3", "domain=e2e-domain"} {
				if !strings.Contains(r.Stdout, want) {
					t.Errorf("%s: a masked path was bound from a swapped /dev/null: output lacks %q: %s", when, want, r)
				}
			}
		},
	}.run(t, c, g)
	for _, p := range []string{"dev/fake", "dev/evil-proc", "dev/evil-host", "dev/null"} {
		if fi, err := os.Lstat(filepath.Join(c.Rootfs, p)); err == nil && fi.Mode().IsRegular() {
			if got := readFileString(filepath.Join(c.Rootfs, p)); got != "FAKE-NULL\n" {
				t.Errorf("the image's regular file (now at %s) was written: %q", p, got)
			}
		}
	}
	t.Logf("%d iterations, %d ran, %d exchanges", cveIterations(), ran, swaps)
}

// ---- CVE-2025-52565: /dev/console while /dev/console and /dev/pts are swapped ------

// TestCVE2025_52565_ConsoleRace: terminal:true with the rootfs's own /dev;
// while create runs, /dev/console (a regular file of the image) is
// exchanged with a symlink to a host file and /dev/pts with a directory of
// symlinks 0..9 to the rootfs's /etc/hostname. The pty must be bound in
// the container's /dev and nowhere else, the host file and /etc/hostname
// untouched (see checkConsoleRace).
func TestCVE2025_52565_ConsoleRace(t *testing.T) {
	requireCarapace(t)
	c := newContainer(t)
	hostDir := filepath.Join(c.HostDir, "target")
	g := guardHost(t, hostDir)
	hostFile := filepath.Join(hostDir, "sentinel")
	c.Spec.Root.Readonly = false
	c.Spec.Process.Terminal = true
	c.removeMount("/dev")
	dev := filepath.Join(c.Rootfs, "dev")
	if err := os.MkdirAll(filepath.Join(dev, "pts"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dev, "pts-evil"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		if err := os.Symlink("/etc/hostname", filepath.Join(dev, "pts-evil", fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	c.writeRootfsFile("dev/console", "", 0o644)
	if err := os.Symlink(hostFile, filepath.Join(dev, "console-evil")); err != nil {
		t.Fatal(err)
	}
	pairs := [][2]string{{filepath.Join(dev, "console"), filepath.Join(dev, "console-evil")},
		{filepath.Join(dev, "pts"), filepath.Join(dev, "pts-evil")}}
	rootfsHostname := filepath.Join(c.Rootfs, "etc/hostname")
	c.Spec.Process.Args = []string{"sh", "-c", consoleRaceCheck}
	c.WriteSpec()
	moved := 0
	n := max(cveIterations()/2, 1) // each iteration is create, start and a pty read
	var sock *consoleSocket        // the try's, made by verb for ok
	swaps, ran := swapRace{
		pairs: pairs,
		n:     n,
		verb: func(i int, k *Container) result {
			sockDir := filepath.Join(k.Dir, fmt.Sprintf("console-%d", i))
			if err := os.Mkdir(sockDir, 0o755); err != nil {
				t.Fatal(err)
			}
			sock = newConsoleSocket(t, sockDir)
			return k.runtime("create", "--bundle", k.Bundle, "--console-socket", sock.Path, k.ID)
		},
		ok: func(when string, k *Container, _ result) {
			msg := sock.receive(10 * time.Second)
			if msg.err != nil {
				t.Fatalf("%s: console socket: %v", when, msg.err)
			}
			k.mustStart()
			out, err := readPty(msg.master, 15*time.Second)
			msg.master.Close()
			if err != nil {
				t.Fatalf("%s: reading the pty: %v (%q)", when, err, out)
			}
			m, err := checkConsoleRace(out)
			if err != nil {
				t.Errorf("%s: %v:\n%s", when, err, out)
			}
			if m {
				moved++
			}
		},
		after: func(when string) {
			if got := readFileString(rootfsHostname); got != "template\n" {
				t.Errorf("%s: the rootfs's /etc/hostname changed: %q", when, got)
			}
		},
	}.run(t, c, g)
	t.Logf("%d iterations, %d created, %d of them with the pty bind moved to /dev/console-evil by a later exchange, %d exchanges", n, ran, moved, swaps)
}

// consoleRaceCheck prints, from inside the container, what /dev/console
// and /dev/console-evil (the name the swapper exchanges it with) are, what
// /etc/hostname is, and where a single pty of a devpts is bind-mounted
// (a devpts mount whose root is not the instance's root).
const consoleRaceCheck = `for f in console console-evil; do echo "$f=$(stat -c %F,%t /dev/$f)"; done
echo "hostname-file=$(stat -c %F /etc/hostname)"
awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i+1) == "devpts" && $4 != "/") print "pty-mount=" $5; break } }' /proc/self/mountinfo`

// checkConsoleRace judges consoleRaceCheck's output: exactly one pty bind,
// at /dev/console, and a pty there, and /etc/hostname still a regular file.
// moved reports the bind found at /dev/console-evil.
//
// The bind may also be at /dev/console-evil: a mount is attached to the
// dentry it was made on, and a rename from the host's mount namespace,
// where the container's mounts are not mountpoints, moves it with the
// dentry (RENAME_EXCHANGE does not detach it). The swapper keeps
// exchanging until create returns, so after the bind, an odd number of
// exchanges leaves the pty, still on the file the runtime made in the
// container's /dev, under the other name; no runtime can prevent that
// (runc neither). Anywhere else (a symlink's target: the host file, or
// /etc/hostname through /dev/pts/N) is the CVE.
func checkConsoleRace(out string) (moved bool, err error) {
	if strings.TrimSpace(out) == "" {
		return false, errors.New("nothing was read from the pty")
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var binds []string
	for _, l := range lines {
		if m, ok := strings.CutPrefix(l, "pty-mount="); ok {
			binds = append(binds, m)
		}
	}
	if !slices.Contains(lines, "hostname-file=regular file") {
		return false, errors.New("/etc/hostname is no longer the image's regular file")
	}
	if len(binds) != 1 {
		return false, fmt.Errorf("want one pty bind mount, at /dev/console, got %q", binds)
	}
	switch binds[0] {
	case "/dev/console", "/dev/console-evil":
	default:
		return false, fmt.Errorf("the pty is bound at %s, not /dev/console", binds[0])
	}
	if want := path.Base(binds[0]) + "=character special file,88"; !slices.Contains(lines, want) {
		return false, fmt.Errorf("%s is not the container's pty (want %q)", binds[0], want)
	}
	return binds[0] != "/dev/console", nil
}

// TestCheckConsoleRace: checkConsoleRace accepts the pty bound at
// /dev/console or moved with its dentry to /dev/console-evil, and refuses
// what a runtime that binds by path (CVE-2025-52565) leaves.
func TestCheckConsoleRace(t *testing.T) {
	t.Parallel()
	const ok = "console=character special file,88\nconsole-evil=regular empty file,0\nhostname-file=regular file\npty-mount=/dev/console\n"
	for _, tc := range []struct {
		name, out string
		moved     bool
		err       string
	}{
		{name: "bound", out: ok},
		{name: "moved", moved: true, out: "console=symbolic link,0\nconsole-evil=character special file,88\nhostname-file=regular file\npty-mount=/dev/console-evil\n"},
		{name: "nothing read", out: "", err: "nothing was read"},
		// /dev/pts/N a symlink to /etc/hostname when bound by path: the
		// file is bound over /dev/console, no pty bind at all.
		{name: "hostname over console", out: "console=regular file,0\nconsole-evil=symbolic link,0\nhostname-file=regular file\n", err: "want one pty bind mount"},
		// /dev/console a symlink followed: the pty over its target.
		{name: "pty over hostname", out: "console=symbolic link,0\nconsole-evil=regular empty file,0\nhostname-file=character special file\npty-mount=/etc/hostname\n", err: "/etc/hostname is no longer"},
		{name: "pty elsewhere", out: "console=regular empty file,0\nconsole-evil=symbolic link,0\nhostname-file=regular file\npty-mount=/tmp/x\n", err: "bound at /tmp/x"},
		{name: "two binds", out: ok + "pty-mount=/dev/console-evil\n", err: "want one pty bind mount"},
		{name: "bind on a non-pty", out: "console=regular empty file,0\nconsole-evil=symbolic link,0\nhostname-file=regular file\npty-mount=/dev/console\n", err: "is not the container's pty"},
	} {
		moved, err := checkConsoleRace(tc.out)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.err)
		case err == nil && moved != tc.moved:
			t.Errorf("%s: moved %v, want %v", tc.name, moved, tc.moved)
		}
	}
}

// ---- CVE-2024-21626: leaked fds as cwd, every fd number -------------------------

// fdCheck prints where the cwd is (see cwdCheck) and the descriptors of
// the shell (listed by ls from outside it).
const fdCheck = `echo "fds=$(ls /proc/$$/fd | tr '\n' ' ')"
cd ../../../../../../../../../../.. 2>/dev/null
if [ -e e2e-rootfs-marker ]; then echo CWD-INSIDE; else echo CWD-OUTSIDE; ls; fi`

// checkCwdFd judges one process started with cwd /proc/self/fd/N: refused,
// or its cwd inside the rootfs and no descriptor but 0-2.
func checkCwdFd(t *testing.T, what string, r result) {
	t.Helper()
	switch {
	case r.Err != nil:
		t.Errorf("%s: %s", what, r)
	case r.failed():
		// Refused (the fd is not open, or not a directory): safe.
	case !strings.Contains(r.Stdout, "CWD-INSIDE"):
		t.Errorf("%s: the cwd is outside the container's rootfs: %s", what, r)
	case !strings.Contains(r.Stdout, "fds=0 1 2 \n"):
		t.Errorf("%s: the process has descriptors beyond 0-2: %s", what, r)
	}
}

// TestCVE2024_21626_CwdEveryFd: process.cwd=/proc/self/fd/N for N in
// 3..32, by run and by run -d, and exec --cwd and exec --process with that
// cwd into a running container.
func TestCVE2024_21626_CwdEveryFd(t *testing.T) {
	t.Parallel()
	requireCarapace(t)
	g := guardHost(t)
	const last = 32
	t.Run("run", func(t *testing.T) {
		t.Parallel()
		c := newContainer(t)
		c.Spec.Process.Args = []string{"sh", "-c", fdCheck}
		for n := 3; n <= last; n++ {
			c.Spec.Process.Cwd = fmt.Sprintf("/proc/self/fd/%d", n)
			checkCwdFd(t, "run, cwd "+c.Spec.Process.Cwd, c.Run())
			c.runtime("delete", "--force", c.ID)
		}
	})
	t.Run("run-d", func(t *testing.T) {
		t.Parallel()
		c := newContainer(t)
		c.addBind(c.HostDir, "/host", false)
		for n := 3; n <= last; n++ {
			c.Spec.Process.Cwd = fmt.Sprintf("/proc/self/fd/%d", n)
			out := fmt.Sprintf("/host/out-%d", n)
			c.Spec.Process.Args = []string{"sh", "-c", "{ " + fdCheck + "\n} > " + out + ".tmp 2>&1; mv " + out + ".tmp " + out}
			r := c.Run("-d")
			if r.ok() {
				p := filepath.Join(c.HostDir, filepath.Base(out))
				waitFor(t, cmdTimeout, "the run -d container's output", func() bool { _, err := os.Stat(p); return err == nil })
				r.Stdout = readFileString(p)
			}
			checkCwdFd(t, "run -d, cwd "+c.Spec.Process.Cwd, r)
			c.runtime("delete", "--force", c.ID)
		}
	})
	t.Run("exec", func(t *testing.T) {
		t.Parallel()
		c, _ := startSleeper(t, nil)
		for n := 3; n <= last; n++ {
			cwd := fmt.Sprintf("/proc/self/fd/%d", n)
			checkCwdFd(t, "exec --cwd "+cwd, c.execIn([]string{"--cwd", cwd}, "sh", "-c", fdCheck))
			p := *c.Spec.Process
			p.Cwd = cwd
			p.Args = []string{"sh", "-c", fdCheck}
			data, err := json.Marshal(&p)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(c.HostDir, fmt.Sprintf("process-%d.json", n))
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			checkCwdFd(t, "exec --process, cwd "+cwd, c.execIn([]string{"--process", path}))
		}
	})
	g.check("after the runs and execs")
}

// ---- CVE-2019-5736 through exec and run -d ----------------------------------------

// TestCVE2019_5736_ExecOverwrite: while execs come and go (a
// #!/proc/self/exe script among them), a process of the container keeps
// trying to write /proc/<pid>/exe of every new pid, and holds one open to
// write it after the execs are done. The runtime binary must not change.
func TestCVE2019_5736_ExecOverwrite(t *testing.T) {
	t.Parallel()
	requireCarapace(t)
	g := guardHost(t)
	c := newContainer(t)
	c.addBind(c.HostDir, "/host", false)
	c.writeRootfsFile("entry", "#!/proc/self/exe\n", 0o755)
	c.Spec.Process.Args = []string{"sh", "-c", `exec 2>/dev/null; held=0
while [ ! -e /host/stop ]; do
  for p in /proc/[0-9]*; do
    case $p in /proc/1|/proc/$$) continue;; esac
    (echo x >> $p/exe) && echo "WROTE $p $(readlink $p/exe)" >> /host/wrote
    if [ $held = 0 ] && ( : < $p/exe ); then exec 3< $p/exe && held=1 && readlink $p/exe >> /host/held; fi
  done
done
(echo x >> /proc/self/fd/3) && echo "WROTE the held exe" >> /host/wrote
echo done > /host/done`}
	r := c.Run("-d")
	if !r.ok() {
		t.Fatalf("run -d: %s", r)
	}
	for i := 0; i < 20; i++ {
		if r := c.execIn(nil, "/entry"); r.Err != nil {
			t.Fatalf("exec /entry: %s", r)
		}
		if r := c.execIn([]string{"-d"}, "true"); r.Err != nil {
			t.Fatalf("exec -d: %s", r)
		}
	}
	if err := os.WriteFile(filepath.Join(c.HostDir, "stop"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, cmdTimeout, "the attacker to finish", func() bool {
		_, err := os.Stat(filepath.Join(c.HostDir, "done"))
		return err == nil
	})
	t.Logf("the attacker held: %q", readFileString(filepath.Join(c.HostDir, "held")))
	if w := readFileString(filepath.Join(c.HostDir, "wrote")); w != "" {
		t.Errorf("a container process wrote an executable of another process:\n%s", w)
	}
	g.check("after the execs")
}

// ---- CVE-2019-16884 and CVE-2025-52881: mounts over /proc --------------------------

// TestCVE2019_16884_ProcDestinations: a bind mount of a container-
// controlled directory (with fake attr and sysctl files) at /proc or
// below it, directly or through a symlink in the image that resolves
// there, would catch the runtime's LSM and sysctl writes, and covers what
// confines the container. Create must refuse it (as runc, which checks the
// resolved destination), and the fake files stay unchanged.
func TestCVE2019_16884_ProcDestinations(t *testing.T) {
	t.Parallel()
	requireCarapace(t)
	for _, tc := range []struct {
		name, dst string
		link      string // a symlink at /mnt/p in the image pointing at this
		sysctl    bool   // with a kernel.shmmax sysctl the runtime writes
	}{
		{name: "proc", dst: "/proc"},
		{name: "proc-self-attr", dst: "/proc/self/attr"},
		{name: "proc-thread-self", dst: "/proc/thread-self"},
		{name: "proc-sys-kernel", dst: "/proc/sys/kernel"},
		{name: "proc-sys", dst: "/proc/sys"},
		{name: "via-symlink-proc-sys-sysctl", dst: "/mnt/p/kernel", link: "/proc/sys", sysctl: true},
		{name: "via-symlink-proc-sys", dst: "/mnt/p/kernel", link: "/proc/sys"},
		{name: "via-relative-symlink-proc-sys", dst: "/mnt/p/kernel", link: "../proc/sys"},
		{name: "via-symlink-proc-self", dst: "/mnt/p/attr", link: "/proc/self"},
		{name: "via-symlink-proc", dst: "/mnt/p/sys", link: "/proc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			fake := filepath.Join(c.HostDir, "fake")
			g := guardHost(t, fake)
			for _, f := range []string{"shmmax", "current", "exec", "self/attr/exec", "sys/kernel/shmmax"} {
				if err := os.MkdirAll(filepath.Join(fake, filepath.Dir(f)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(fake, f), []byte("FAKE\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			g.dirs[fake] = dirEntries(t, fake)
			sums := map[string]string{}
			_ = filepath.WalkDir(fake, func(p string, d os.DirEntry, _ error) error {
				if d != nil && !d.IsDir() {
					sums[p] = readFileString(p)
				}
				return nil
			})
			if tc.link != "" {
				if err := os.Symlink(tc.link, filepath.Join(c.Rootfs, "mnt/p")); err != nil {
					t.Fatal(err)
				}
			}
			c.addBind(fake, tc.dst, false)
			if tc.sysctl {
				c.Spec.Linux.Sysctl = map[string]string{"kernel.shmmax": "123456789"}
			}
			c.Spec.Process.Args = []string{"true"}
			r := c.Create()
			switch {
			case r.Err != nil:
				t.Fatal(r)
			case !r.failed():
				t.Errorf("create with a mount over %s: want a refusal: %s", tc.dst, r)
			case !strings.Contains(r.Stderr, "/proc"):
				t.Errorf("the error does not say /proc: %s", r)
			}
			for p, before := range sums {
				if got := readFileString(p); got != before {
					t.Errorf("the runtime wrote the fake %s: %q", p, got)
				}
			}
		})
	}
}

// ---- CVE-2023-28642: AppArmor and a symlinked /proc ---------------------------------

// TestCVE2023_28642_SymlinkedProcAppArmor: a rootfs whose /proc is a
// symlink to a directory of fake attr files must be refused also when the
// config asks for an AppArmor profile (where AppArmor is enabled, a loaded
// one: tests/vm/lsm.sh; here the field alone fails create), and the fake
// files stay unwritten.
func TestCVE2023_28642_SymlinkedProcAppArmor(t *testing.T) {
	t.Parallel()
	requireCarapace(t)
	for _, to := range []string{"fakeproc", "/fakeproc", "host"} {
		t.Run(strings.ReplaceAll(to, "/", "absolute-"), func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			hostFake := filepath.Join(c.HostDir, "fakeproc")
			g := guardHost(t, hostFake)
			target := to
			if to == "host" {
				target = hostFake
			}
			for _, dir := range []string{filepath.Join(c.Rootfs, "fakeproc"), hostFake} {
				for _, f := range []string{"self/attr/exec", "self/attr/apparmor/exec", "thread-self/attr/apparmor/exec"} {
					p := filepath.Join(dir, f)
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(p, nil, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			g.dirs[hostFake] = dirEntries(t, hostFake)
			proc := filepath.Join(c.Rootfs, "proc")
			if err := os.Remove(proc); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, proc); err != nil {
				t.Fatal(err)
			}
			c.Spec.Process.ApparmorProfile = "e2e-cve-2023-28642"
			if appArmorEnabled() {
				c.Spec.Process.ApparmorProfile = loadProfile(t, "carapace-e2e-28642", "  file,\n  capability,\n  network,\n  mount,\n  umount,\n  signal,\n  ptrace,\n  pivot_root,\n")
			}
			c.Spec.Process.Args = []string{"true"}
			if r := c.Create(); !r.failed() {
				t.Errorf("create with a symlinked /proc and an AppArmor profile: want a failure: %s", r)
			}
			for _, dir := range []string{filepath.Join(c.Rootfs, "fakeproc"), hostFake} {
				_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, _ error) error {
					if d != nil && !d.IsDir() && d.Name() != "sentinel" && readFileString(p) != "" {
						t.Errorf("the runtime wrote the fake attr file %s: %q", p, readFileString(p))
					}
					return nil
				})
			}
		})
	}
}

// ---- CVE-2023-25809: rootless without a cgroup namespace ----------------------------

// TestCVE2023_25809_RootlessCgroupReadOnly: a rootless container without a
// cgroup namespace must not be able to write its (or the host's) cgroup
// files: /sys/fs/cgroup is read-only.
func TestCVE2023_25809_RootlessCgroupReadOnly(t *testing.T) {
	u := needUser(t, rootlessUser, true)
	rc := newRootless(t, u)
	rc.removeNamespace(specs.CgroupNamespace)
	rc.Spec.Process.Args = []string{"sh", "-c", `for f in /sys/fs/cgroup/cgroup.procs /sys/fs/cgroup/*/cgroup.procs /sys/fs/cgroup/*/*/cgroup.procs; do
	[ -e "$f" ] || continue
	echo "tried $f"
	(echo $$ > "$f") 2>/dev/null && echo "WROTE $f"
done
mkdir /sys/fs/cgroup/e2e-x 2>/dev/null && echo "MKDIR"
mkdir /sys/fs/cgroup/memory/e2e-x 2>/dev/null && echo "MKDIR memory"
grep ' /sys/fs/cgroup' /proc/self/mountinfo`}
	r := rc.run()
	if !r.ok() {
		t.Fatalf("rootless run: %s", r)
	}
	t.Logf("%s", r.Stdout)
	if strings.Contains(r.Stdout, "WROTE") || strings.Contains(r.Stdout, "MKDIR") {
		t.Errorf("a rootless container without a cgroup namespace wrote the cgroup tree: %s", r)
	}
	// What the container sees at each mount point is the last mount there
	// (the rbind of the host's /sys may leave covered ones below).
	top := map[string]mountinfoEntry{}
	for _, l := range lines(r.Stdout) {
		if m := parseMountinfoLine(l); strings.HasPrefix(m.Point, "/sys/fs/cgroup") {
			top[m.Point] = m
		}
	}
	if len(top) == 0 {
		t.Errorf("no mount at /sys/fs/cgroup: %s", r)
	}
	for mp, m := range top {
		if !m.hasOpt("ro") {
			t.Errorf("%s is mounted read-write: %s", mp, m.Line)
		}
	}
}
