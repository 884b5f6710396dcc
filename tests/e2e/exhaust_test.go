package e2e

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Exhaustion: a resource the runtime needs runs out. Each case gives a
// clear error naming the resource, a non-zero exit, and leaves nothing.

// shRuntime runs the runtime from `sh -c`, after setup (shell commands),
// so that it inherits what they set (a cgroup, an rlimit).
func (c *Container) shRuntime(setup string, args ...string) result {
	cmd := setup + "; exec " + runtimeBin
	for _, a := range runtimeArgs(c.Root, args...) {
		cmd += " '" + a + "'"
	}
	return runCmd(cmdOpts{dir: c.Dir, outDir: c.Dir}, "/bin/sh", "-c", cmd)
}

// requireClear requires a clear failure saying one of want, with no panic
// of our own.
func requireClear(t *testing.T, when string, r result, want ...string) {
	t.Helper()
	if !r.failed() {
		t.Errorf("%s: want a failure: %s", when, r)
		return
	}
	for _, w := range want {
		if strings.Contains(r.Stderr, w) {
			return
		}
	}
	t.Errorf("%s: the error says none of %q: %s", when, want, r)
}

// TestExhaustFullRoot: --root on a full file system. Filled to leave 0 to
// 3 pages free, create fails at the first record it cannot write, saying
// so, and leaves nothing in the root; or, with room, succeeds.
func TestExhaustFullRoot(t *testing.T) {
	c := newRaceBundle(t)
	// Outside c.Dir: the leak check counts mounts under it.
	c.Root = filepath.Join(t.TempDir(), "tiny")
	if err := os.Mkdir(c.Root, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", c.Root, "tmpfs", 0, "size=64k,mode=0700"); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(c.Root, unix.MNT_DETACH)
	fill := filepath.Join(t.TempDir(), "fill")
	if err := os.Mkdir(fill, 0o700); err != nil {
		t.Fatal(err)
	}
	// The filler lives beside the state root: the leak check wants the
	// root empty. A bind of the same tmpfs shares its space.
	if err := unix.Mount(c.Root, fill, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(fill, unix.MNT_DETACH)
	page := make([]byte, 4096)
	failed := 0
	for free := 0; free <= 3; free++ {
		k := raceContainer(c, free)
		f, err := os.Create(filepath.Join(fill, "fill"))
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < 16-free; n++ {
			f.Write(page)
		}
		f.Close()
		r := k.runtime("create", "--bundle", k.Bundle, k.ID)
		when := strconv.Itoa(free) + " pages free"
		if r.ok() {
			if rd := k.runtime("delete", "--force", k.ID); !rd.ok() {
				t.Errorf("%s: delete --force: %s", when, rd)
			}
		} else {
			failed++
			requireClear(t, when+": create", r, "no space left on device")
		}
		os.Remove(filepath.Join(fill, "fill"))
		k.checkNoLeftovers(when)
	}
	if failed == 0 {
		t.Error("no create failed: the file system was never full")
	}
}

// TestExhaustReadOnlyRoot: a read-only --root (or one under a read-only
// directory) fails create, naming the state root and the reason.
func TestExhaustReadOnlyRoot(t *testing.T) {
	c := newRaceBundle(t)
	ro := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(ro, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", ro, "tmpfs", unix.MS_RDONLY, "mode=0700"); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(ro, unix.MNT_DETACH)
	for _, root := range []string{ro, filepath.Join(ro, "state")} {
		k := *c
		k.Root = root
		r := k.runtime("create", "--bundle", k.Bundle, k.ID)
		requireClear(t, "create in "+root, r, "state root "+root)
		requireClear(t, "create in "+root, r, "read-only file system")
		k.Root = c.Root
		k.checkNoLeftovers("create in " + root)
	}
}

// TestExhaustMissingRoot: a missing --root is made by create, as runc's
// (libcontainer.New makes it with MkdirAll).
func TestExhaustMissingRoot(t *testing.T) {
	c := newRaceBundle(t)
	c.Root = filepath.Join(c.Dir, "missing", "deeper")
	if r := c.runtime("create", "--bundle", c.Bundle, c.ID); !r.ok() {
		t.Fatalf("create with a missing --root: %s", r)
	}
	if s := c.mustState(); s.Status != "created" {
		t.Errorf("state: %+v", s)
	}
}

// pidsCgroup is a new pids cgroup (v1 pids hierarchy or cgroup2 with the
// pids controller) for the runtime to run in, or "" when there is none.
func pidsCgroup(t *testing.T, name string) string {
	t.Helper()
	for _, base := range []string{"/sys/fs/cgroup/pids", "/sys/fs/cgroup"} {
		if _, err := os.Stat(filepath.Join(base, "pids.max")); err == nil || base == "/sys/fs/cgroup/pids" {
			if _, err := os.Stat(filepath.Join(base, "cgroup.procs")); err != nil {
				continue
			}
			if base == "/sys/fs/cgroup" {
				b, _ := os.ReadFile(filepath.Join(base, "cgroup.subtree_control"))
				if !strings.Contains(string(b), "pids") {
					continue
				}
			}
			dir := filepath.Join(base, name)
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(dir) })
			return dir
		}
	}
	return ""
}

// TestExhaustPidsLimit: the runtime runs in a cgroup whose pids.max is
// reached on the way, from 1 to 12. Below a handful, the Go runtime itself
// cannot start its threads and aborts (its own message, before anything
// is made); above, init cannot, and create says that init died in setup
// and names the pids limit (it used to say "container init: connection
// reset by peer"). Each leaves nothing.
func TestExhaustPidsLimit(t *testing.T) {
	c := newRaceBundle(t)
	skipUnderSystemd(t, "the runtime runs in a cgroupfs cgroup of its own")
	dir := pidsCgroup(t, c.ID)
	if dir == "" {
		t.Skip("no pids controller")
	}
	named := 0
	for limit := 1; limit <= 12; limit++ {
		k := raceContainer(c, limit)
		if err := os.WriteFile(filepath.Join(dir, "pids.max"), []byte(strconv.Itoa(limit)), 0o644); err != nil {
			t.Fatal(err)
		}
		r := k.shRuntime("echo $$ > "+filepath.Join(dir, "cgroup.procs"), "create", "--bundle", k.Bundle, k.ID)
		when := "pids.max " + strconv.Itoa(limit)
		switch {
		case r.ok():
			k.runtime("delete", "--force", k.ID)
		case strings.Contains(r.Stderr, "start container init: resource temporarily unavailable"):
			named++
			requireClear(t, when, r, "pids limit of cgroup "+dir)
		case strings.Contains(r.Stderr, "pids limit of cgroup "+dir):
			named++
			requireClear(t, when, r, "container init exited with status 2 during setup")
		default:
			requireClear(t, when, r, "pthread_create failed: Resource temporarily unavailable", "fork: Resource temporarily unavailable", "can't fork")
			if strings.Contains(r.Stderr, `carapace:`) {
				t.Errorf("%s: an error of the runtime's own that does not name the pids limit: %s", when, r)
			}
		}
		k.checkNoLeftovers(when)
	}
	if named == 0 {
		t.Error("at no limit did create name the pids limit")
	}
}

// TestExhaustNoFile: the runtime with a tiny hard RLIMIT_NOFILE (the
// soft one it raises itself, as every Go program). It fails before it
// makes anything, saying which file it could not open or which rlimit
// of the config it cannot give.
func TestExhaustNoFile(t *testing.T) {
	c := newRaceBundle(t)
	for _, n := range []int{3, 4, 8, 16, 32} {
		k := raceContainer(c, n)
		r := k.shRuntime("ulimit -n "+strconv.Itoa(n), "create", "--bundle", k.Bundle, k.ID)
		when := "RLIMIT_NOFILE " + strconv.Itoa(n)
		if r.ok() {
			k.runtime("delete", "--force", k.ID)
		} else {
			requireClear(t, when, r, "too many open files", "RLIMIT_NOFILE", "eventfd failed")
		}
		k.checkNoLeftovers(when)
	}
}

// memoryCgroup is a new memory cgroup (v1 memory hierarchy or cgroup2 with
// the memory controller) for the runtime to run in, or "" when there is
// none, and the name of its limit file.
func memoryCgroup(t *testing.T, name string) (dir, limitFile string) {
	t.Helper()
	base, limitFile := "/sys/fs/cgroup/memory", "memory.limit_in_bytes"
	if _, err := os.Stat(filepath.Join(base, limitFile)); err != nil {
		base, limitFile = "/sys/fs/cgroup", "memory.max"
		b, _ := os.ReadFile(filepath.Join(base, "cgroup.subtree_control"))
		if !strings.Contains(string(b), "memory") {
			return "", ""
		}
	}
	dir = filepath.Join(base, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(dir) })
	return dir, limitFile
}

// TestExhaustMemoryLimit: linux.resources.memory.limit too small for init
// to set the container up, from 64 KiB to 4 MiB. The limit is in place
// before init joins its cgroup, so the OOM killer kills init on the way;
// create says so, naming the limit (it used to say only "container init
// was killed by SIGKILL during setup"), and leaves nothing. runc 1.5.3
// sets no minimum either (libcontainer/configs/validate has none); it
// says "container init was OOM-killed (memory limit too low?)".
func TestExhaustMemoryLimit(t *testing.T) {
	c := newRaceBundle(t)
	named := 0
	for _, kib := range []int64{64, 256, 512, 1024, 2048, 4096} {
		k := raceContainer(c, int(kib))
		k.resources().Memory = &specs.LinuxMemory{Limit: ptr(kib << 10)}
		k.WriteSpec()
		r := k.runtime("create", "--bundle", k.Bundle, k.ID)
		when := "memory limit " + strconv.FormatInt(kib, 10) + " KiB"
		if r.ok() {
			k.runtime("delete", "--force", k.ID)
		} else {
			named++
			requireClear(t, when, r, "the memory limit of cgroup ")
			requireClear(t, when, r, "from linux.resources.memory.limit) is too low: the OOM killer killed ")
		}
		k.checkNoLeftovers(when)
	}
	if named == 0 {
		t.Error("no limit was too low for init: the test tested nothing")
	}
}

// TestExhaustCallerMemory: the runtime runs in a memory cgroup whose limit
// (1 to 6 MiB) is reached during create; the container's cgroup is made
// under it. The OOM killer kills the biggest process: the runtime itself
// (killed, it can say nothing: a non-zero exit, and delete --force removes
// what it made), or init, which create then names with the limit. Either
// way, after delete --force nothing is left.
func TestExhaustCallerMemory(t *testing.T) {
	c := newRaceBundle(t)
	skipUnderSystemd(t, "the runtime runs in a cgroupfs cgroup of its own")
	dir, limitFile := memoryCgroup(t, c.ID)
	if dir == "" {
		t.Skip("no memory controller")
	}
	failed := 0
	for kib := 1 << 10; kib <= 6<<10; kib += 256 {
		k := raceContainer(c, kib)
		if err := os.WriteFile(filepath.Join(dir, limitFile), []byte(strconv.Itoa(kib<<10)), 0o644); err != nil {
			t.Fatal(err)
		}
		r := k.shRuntime("echo $$ > "+filepath.Join(dir, "cgroup.procs"), "create", "--bundle", k.Bundle, k.ID)
		when := limitFile + " " + strconv.Itoa(kib) + " KiB"
		switch {
		case r.ok():
		case r.Code == -1:
			// Killed: no word of its own, by definition.
			failed++
		default:
			failed++
			requireClear(t, when, r, "the memory limit of cgroup "+dir, "out of memory")
		}
		if rd := k.runtime("delete", "--force", k.ID); !rd.ok() {
			t.Errorf("%s: delete --force: %s", when, rd)
		}
		k.checkNoLeftovers(when)
	}
	if failed == 0 {
		t.Error("at no limit did create fail: the test tested nothing")
	}
}

// lowerMountMax lowers fs.mount-max for the test's duration to a value far
// above the mount count of every mount namespace of the host (twice the
// largest, at least 2048): filling a private namespace up to it then
// takes seconds, where the default 100000 takes minutes. The limit is
// global but each namespace counts its own mounts: no other namespace
// comes near it. The old value is restored at cleanup; the test must not
// be parallel (none runs beside a non-parallel top-level test).
func lowerMountMax(t *testing.T) int {
	t.Helper()
	const sysctl = "/proc/sys/fs/mount-max"
	old, err := os.ReadFile(sysctl)
	if err != nil {
		t.Skip(err)
	}
	largest := 0
	seen := map[string]bool{}
	tasks, _ := filepath.Glob("/proc/[0-9]*/task/[0-9]*")
	for _, task := range tasks {
		ns, err := os.Readlink(filepath.Join(task, "ns/mnt"))
		if err != nil || seen[ns] {
			continue
		}
		seen[ns] = true
		b, err := os.ReadFile(filepath.Join(task, "mountinfo"))
		if err != nil {
			continue
		}
		largest = max(largest, strings.Count(string(b), "\n"))
	}
	limit := max(2048, 2*largest)
	if cur, err := strconv.Atoi(strings.TrimSpace(string(old))); err == nil && cur <= limit {
		return cur
	}
	if err := os.WriteFile(sysctl, []byte(strconv.Itoa(limit)), 0o644); err != nil {
		t.Skipf("lower fs.mount-max: %v", err)
	}
	t.Cleanup(func() {
		if err := os.WriteFile(sysctl, old, 0o644); err != nil {
			t.Errorf("restore fs.mount-max %s: %v", strings.TrimSpace(string(old)), err)
		}
	})
	t.Logf("fs.mount-max %s -> %d for the test (largest mount namespace: %d mounts in %d)", strings.TrimSpace(string(old)), limit, largest, len(seen))
	return limit
}

// mountCount is the number of mounts in the calling thread's namespace, as
// its mountinfo shows them, read through proc (a descriptor of /proc
// opened before the thread joined a container's namespace, whose /proc is
// the container's).
func mountCount(proc *os.File) int {
	fd, err := unix.Openat(int(proc.Fd()), "thread-self/mountinfo", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	f := os.NewFile(uintptr(fd), "mountinfo")
	defer f.Close()
	b, _ := io.ReadAll(f)
	return strings.Count(string(b), "\n")
}

// mountFiller fills the calling thread's mount namespace with binds of one
// directory, each on a directory of its own (a lookup of each finds one
// mount, where n stacked on one path would walk n-1 others).
type mountFiller struct {
	proc     *os.File
	dir, src string
	targets  []string
	next     int
	full     int // mountCount when the kernel refused one more
}

// fillMountTable fills the calling thread's mount namespace, under dir,
// until the kernel refuses a mount: at fs.mount-max, limit, or a little
// below by mountCount, which leaves out the mounts outside the thread's
// root (some dozens in a container's namespace).
func fillMountTable(proc *os.File, dir string, limit int) (*mountFiller, error) {
	f := &mountFiller{proc: proc, dir: dir, src: filepath.Join(dir, "src")}
	if err := os.Mkdir(f.src, 0o700); err != nil {
		return nil, err
	}
	n := mountCount(proc)
	if n < 0 {
		return nil, errors.New("cannot read the thread's mountinfo")
	}
	for ; ; n++ {
		if n > limit {
			return nil, fmt.Errorf("%d mounts and none refused: fs.mount-max %d is not the limit", n, limit)
		}
		err := f.take()
		if err == unix.ENOSPC && n >= limit-100 {
			f.full = mountCount(proc)
			return f, nil
		}
		if err != nil {
			return nil, fmt.Errorf("fill the mount table (%d of %d): %w", n, limit, err)
		}
	}
}

// take makes one more filler mount.
func (f *mountFiller) take() error {
	d := filepath.Join(f.dir, strconv.Itoa(f.next))
	f.next++
	if err := os.Mkdir(d, 0o700); err != nil {
		return err
	}
	if err := unix.Mount(f.src, d, "", unix.MS_BIND, ""); err != nil {
		return err
	}
	f.targets = append(f.targets, d)
	return nil
}

// room is the number of mounts the namespace has room for.
func (f *mountFiller) room() int { return f.full - mountCount(f.proc) }

// setRoom frees filler mounts, or makes more, until the namespace has room
// for n mounts.
func (f *mountFiller) setRoom(n int) error {
	for f.room() < n {
		if len(f.targets) == 0 {
			return errors.New("no filler mount left to free")
		}
		last := f.targets[len(f.targets)-1]
		f.targets = f.targets[:len(f.targets)-1]
		if err := unix.Unmount(last, 0); err != nil {
			return err
		}
	}
	for f.room() > n {
		if err := f.take(); err != nil {
			return err
		}
	}
	return nil
}

// offMainThread runs f on a locked OS thread other than the process's
// main thread, and lets that thread die with it: f may change the
// thread's namespaces. Go never lets the main thread exit (it parks it),
// so a main thread left in another mount namespace would stay there, and
// /proc/self, which is the main thread's, would show that namespace to
// every later test.
func offMainThread(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		if unix.Gettid() != unix.Getpid() {
			f() // never unlocked: the thread dies with the goroutine
			return
		}
		// On the main thread, held locked here: the goroutine below
		// runs on another one.
		inner := make(chan struct{})
		go func() {
			defer close(inner)
			runtime.LockOSThread() // never unlocked, as above
			f()
		}()
		<-inner
		runtime.UnlockOSThread()
	}()
	<-done
}

// inFullMountNS runs f on a thread of its own, in a new private mount
// namespace (nothing propagates to the host's) whose mount table is full:
// limit mounts. The runtime started from f's thread runs there, and a
// container's mount namespace, a copy of it, starts as full. f sets the
// room there with the filler.
func inFullMountNS(t *testing.T, limit int, f func(*mountFiller)) {
	t.Helper()
	dir := t.TempDir()
	offMainThread(func() {
		if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
			t.Errorf("unshare(CLONE_NEWNS): %v", err)
			return
		}
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			t.Errorf("make / rprivate: %v", err)
			return
		}
		if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "mode=0700"); err != nil {
			t.Errorf("mount tmpfs on %s: %v", dir, err)
			return
		}
		proc, err := os.Open("/proc")
		if err != nil {
			t.Error(err)
			return
		}
		defer proc.Close()
		filler, err := fillMountTable(proc, dir, limit)
		if err != nil {
			t.Error(err)
			return
		}
		f(filler)
	})
}

// mountTableFull is what the runtime says when a mount does not fit.
func mountTableFull(limit int) string {
	return "the mount table is full (fs.mount-max " + strconv.Itoa(limit) + ")"
}

// TestExhaustMountTable: create and run in a mount namespace whose table is
// full or nearly so (0 to 60 mounts free). Each fails at the first mount
// that does not fit, naming it and saying that the mount table is full,
// or succeeds; each leaves nothing, in the host's namespace or the full
// one. It used to say "bind rootfs ... onto itself: no space left on
// device", or "mounts[2] (tmpfs on /dev): mount tmpfs: no space left on
// device", with no word of the limit. exec adds no mount: it succeeds
// from a full namespace, and into a container whose namespace is full.
func TestExhaustMountTable(t *testing.T) {
	c := newRaceBundle(t)
	// The test process's own namespace (its main thread's) stays the
	// host's: the namespaces are entered on threads that die after.
	ns, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if now, _ := os.Readlink("/proc/self/ns/mnt"); now != ns {
			t.Errorf("the test process's mount namespace is %s after the test, %s before", now, ns)
		}
	}()
	limit := lowerMountMax(t)
	named := map[string]int{}
	failed, succeeded := 0, 0
	// A container that runs throughout, for exec, with a state root of
	// its own: the others must leave theirs empty.
	running := raceContainer(c, 1000)
	running.Root = filepath.Join(c.Dir, "running-root")
	mustCreateSleeper(t, running)
	if r := running.runtime("start", running.ID); !r.ok() {
		t.Fatalf("start: %s", r)
	}
	inFullMountNS(t, limit, func(filler *mountFiller) {
		// run makes the same mounts as create: a few steps of it suffice
		// (each create takes seconds in the emulated v2 VM).
		steps := map[string][]int{
			"create": {0, 1, 2, 3, 5, 8, 13, 20, 30, 45, 60},
			"run":    {0, 1, 13, 60},
		}
		for _, verb := range []string{"create", "run"} {
			for _, want := range steps[verb] {
				if err := filler.setRoom(want); err != nil {
					t.Errorf("leave room for %d mounts: %v", want, err)
					return
				}
				k := raceContainer(c, want)
				k.ID += "-" + verb
				registerID(k.ID)
				args := []string{verb, "--bundle", k.Bundle, k.ID}
				if verb == "run" {
					args = []string{verb, "--detach", "--bundle", k.Bundle, k.ID}
				}
				r := k.runtime(args...)
				when := fmt.Sprintf("%s with %d mounts free", verb, want)
				if r.ok() {
					succeeded++
					if rd := k.runtime("delete", "--force", k.ID); !rd.ok() {
						t.Errorf("%s: delete --force: %s", when, rd)
					}
				} else {
					failed++
					requireClear(t, when, r, mountTableFull(limit))
					// The mount that did not fit: the rootfs, mounts[i].
					for _, what := range []string{"rootfs", "mounts["} {
						if strings.Contains(r.Stderr, what) {
							named[what]++
						}
					}
					errLines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
					t.Logf("%s: %s", when, errLines[len(errLines)-1])
				}
				if after := filler.room(); after != want {
					t.Errorf("%s: the runtime's mount namespace had %d mounts free before, %d after", when, want, after)
				}
				k.checkNoLeftovers(when)
			}
		}
		if err := filler.setRoom(0); err != nil {
			t.Errorf("fill the table again: %v", err)
			return
		}
		if r := running.execIn(nil, "true"); !r.ok() {
			t.Errorf("exec from a full mount namespace: %s", r)
		}
		if filler.room() != 0 {
			t.Errorf("exec from a full mount namespace: %d mounts free after, 0 before", filler.room())
		}
	})
	t.Logf("%d failed, %d succeeded; the failures named %v", failed, succeeded, named)
	if failed == 0 || succeeded == 0 {
		t.Errorf("%d failed, %d succeeded: the table was never full, or never had room enough", failed, succeeded)
	}

	// The container's own namespace, full: filled from a thread that
	// joins it (its root is then the container's), under its /dev/shm: the
	// rootfs is read-only.
	pid := running.mustState().Pid
	t.Logf("the container's mount namespace: %d mounts", strings.Count(readFileString(fmt.Sprintf("/proc/%d/mountinfo", pid)), "\n"))
	offMainThread(func() {
		proc, err := os.Open("/proc")
		if err != nil {
			t.Error(err)
			return
		}
		defer proc.Close()
		ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/mnt", pid))
		if err != nil {
			t.Error(err)
			return
		}
		defer ns.Close()
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			t.Errorf("unshare(CLONE_FS): %v", err)
			return
		}
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNS); err != nil {
			t.Errorf("join the container's mount namespace: %v", err)
			return
		}
		if err := os.Mkdir("/dev/shm/fill", 0o700); err != nil {
			t.Error(err)
			return
		}
		if _, err := fillMountTable(proc, "/dev/shm/fill", limit); err != nil {
			t.Error(err)
		}
	})
	if r := running.execIn(nil, "true"); !r.ok() {
		t.Errorf("exec into a container whose mount namespace is full: %s", r)
	}
	if rd := running.runtime("delete", "--force", running.ID); !rd.ok() {
		t.Errorf("delete --force of a container whose mount namespace is full: %s", rd)
	}
	running.checkNoLeftovers("exec with full mount tables")
}
