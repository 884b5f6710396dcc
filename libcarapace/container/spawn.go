package container

import (
	"fmt"
	"os"
	"runtime"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/cgroups"
	"github.com/carapace-oci/carapace/libcarapace/ipc"
	"github.com/carapace-oci/carapace/libcarapace/namespaces"
	"github.com/carapace-oci/carapace/libcarapace/nsenter"
	"github.com/carapace-oci/carapace/libcarapace/sealexe"
)

// spawn starts the runtime's binary, sealed, as a process inside a
// container: its init (create) or the helper that becomes an exec'd
// process. New namespaces are clone flags; namespaces joined by path are
// entered on a locked thread first, which the child inherits (that thread
// is then thrown away); user and time namespaces, which only a
// single-threaded process can join, are left to the nsenter constructor in
// the child.
type spawn struct {
	role        string      // the environment variable naming the child's role
	stdio       [3]*os.File // nil: ours
	keep        int         // fds 3.. passed through unchanged (preserved, LISTEN_FDS)
	extra       []*os.File  // more fds for the child, after its sync socket and binary
	parent      *ipc.Conn
	child       *ipc.Conn
	joins       []namespaces.Join
	newFlags    uintptr
	uidMaps     []syscall.SysProcIDMap
	gidMaps     []syscall.SysProcIDMap
	cgroup      *cgroups.Manager // v2: the child is born in it
	cgroupDir   string           // v2: the directory, when not the manager's own
	nondumpable bool             // from its first instruction (exec)
}

// start forks the child and returns its pid and whether it was born in its
// cgroup (otherwise the caller must move it in).
func (sp *spawn) start() (pid int, inCgroup bool, err error) {
	exe, err := sealexe.Open()
	if err != nil {
		return 0, false, err
	}
	defer exe.Close()

	files := make([]uintptr, 0, 8+sp.keep)
	for i, f := range sp.stdio {
		if f == nil {
			f = []*os.File{os.Stdin, os.Stdout, os.Stderr}[i]
		}
		files = append(files, f.Fd())
	}
	for i := 0; i < sp.keep; i++ {
		files = append(files, uintptr(3+i))
	}
	syncFD := len(files)
	files = append(files, sp.child.File().Fd(), exe.Fd())
	roleVal := fmt.Sprintf("%d,%d", syncFD, syncFD+1)
	for _, f := range sp.extra {
		roleVal += fmt.Sprintf(",%d", len(files))
		files = append(files, f.Fd())
	}
	// The child lives a few milliseconds on one thread of work: one P and
	// no garbage collector keep the Go runtime from starting helpers.
	env := []string{sp.role + "=" + roleVal, "GOMAXPROCS=1", "GOGC=off"}

	sys := &syscall.SysProcAttr{Cloneflags: sp.newFlags}
	if sp.cgroup != nil && sp.cgroup.Mode == cgroups.ModeV2 {
		// Born in its cgroup (clone3 CLONE_INTO_CGROUP): no window in which
		// it runs outside its limits, and no cgroup.procs write.
		d := sp.cgroupDir
		if d == "" {
			d = sp.cgroup.V2Dir()
		}
		dir, err := os.Open(d)
		if err != nil {
			return 0, false, fmt.Errorf("open cgroup: %w", err)
		}
		defer dir.Close()
		sys.UseCgroupFD, sys.CgroupFD = true, int(dir.Fd())
	}
	if sp.uidMaps != nil {
		sys.UidMappings, sys.GidMappings = sp.uidMaps, sp.gidMaps
		sys.GidMappingsEnableSetgroups = true
		// The child is the namespace's root once the maps are written; it
		// would otherwise keep host ids the namespace does not map.
		sys.Credential = &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true}
	}

	threadJoins, childJoins := splitJoins(sp.joins)
	forks := false
	if len(childJoins) > 0 || sp.nondumpable {
		if !nsenter.Supported {
			if len(childJoins) > 0 {
				return 0, false, fmt.Errorf("linux.namespaces: joining a %s namespace by path needs a carapace built with cgo", childJoins[0].Type)
			}
		} else {
			var unshare uintptr
			if hasUserJoin(childJoins) {
				// Namespaces made after joining the user namespace belong
				// to it; made by clone, they would belong to the host's.
				unshare = sys.Cloneflags
				sys.Cloneflags = 0
				forks = unshare&unix.CLONE_NEWPID != 0
			}
			flags := 0
			if sp.nondumpable {
				flags |= 1
			}
			spec := fmt.Sprintf("%d;%d;%d;", syncFD, unshare, flags)
			for i, j := range childJoins {
				f, err := os.Open(j.Path)
				if err != nil {
					return 0, false, fmt.Errorf("linux.namespaces: %s path: %w", j.Type, err)
				}
				defer f.Close()
				if i > 0 {
					spec += ","
				}
				spec += fmt.Sprintf("%d:%d", len(files), j.Flag)
				files = append(files, f.Fd())
			}
			env = append(env, "_CARAPACE_NSENTER="+spec)
		}
	}
	// syscall.ForkExec rather than os.StartProcess: the latter probes
	// pidfd support with an extra fork on first use.
	attr := &syscall.ProcAttr{Env: env, Files: files, Sys: sys}
	path := fmt.Sprintf("/proc/self/fd/%d", syncFD+1)
	args := []string{"carapace", "init"}
	fork := func() (int, error) {
		pid, err := syscall.ForkExec(path, args, attr)
		if err == unix.ENOSYS && sys.UseCgroupFD {
			// No clone3 (Linux < 5.7): fork, then move the child in.
			sys.UseCgroupFD = false
			pid, err = syscall.ForkExec(path, args, attr)
		}
		return pid, err
	}
	if len(threadJoins) == 0 {
		pid, err = fork()
	} else {
		type result struct {
			pid int
			err error
		}
		ch := make(chan result, 1)
		go func() {
			// Never unlocked: the thread's namespaces are the container's
			// now, and Go ends a locked thread when its goroutine returns.
			runtime.LockOSThread()
			if err := joinNamespaces(threadJoins); err != nil {
				ch <- result{err: err}
				return
			}
			pid, err := fork()
			ch <- result{pid, err}
		}()
		res := <-ch
		pid, err = res.pid, res.err
	}
	inCgroup = sys.UseCgroupFD
	if err != nil || !forks {
		return pid, inCgroup, err
	}
	// nsenter forked the child into the new pid namespace; the first
	// process only reports its pid.
	m, _, err := sp.parent.Expect(ipc.Pid)
	unix.Wait4(pid, nil, 0, nil)
	if err != nil {
		return 0, false, err
	}
	return m.Pid, inCgroup, nil
}

func hasUserJoin(joins []namespaces.Join) bool {
	for _, j := range joins {
		if j.Type == specs.UserNamespace {
			return true
		}
	}
	return false
}

// splitJoins separates the joins a locked Go thread can make from those
// only a single-threaded process can (user and time).
func splitJoins(joins []namespaces.Join) (thread, child []namespaces.Join) {
	for _, j := range joins {
		switch j.Type {
		case specs.UserNamespace:
			child = append([]namespaces.Join{j}, child...)
		case specs.TimeNamespace:
			child = append(child, j)
		default:
			thread = append(thread, j)
		}
	}
	return thread, child
}

func joinNamespaces(joins []namespaces.Join) error {
	// Every path is opened before any namespace is joined: a joined mount
	// or pid namespace would change what /proc/<pid>/ns/... names. The
	// mount namespace goes last, as it also changes the root.
	fds := make([]int, len(joins))
	for i := range fds {
		fds[i] = -1
	}
	defer func() {
		for _, fd := range fds {
			if fd >= 0 {
				unix.Close(fd)
			}
		}
	}()
	mnt := -1
	for i, j := range joins {
		fd, err := unix.Open(j.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("linux.namespaces: %s path %s: %w", j.Type, j.Path, err)
		}
		fds[i] = fd
		if j.Type == specs.MountNamespace {
			mnt = i
		}
	}
	for i, j := range joins {
		if i == mnt {
			continue
		}
		if err := unix.Setns(fds[i], int(j.Flag)); err != nil {
			return fmt.Errorf("linux.namespaces: join %s namespace %s: %w", j.Type, j.Path, err)
		}
	}
	if mnt >= 0 {
		// setns into a mount namespace needs a thread whose filesystem
		// context is not shared with the others.
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			return fmt.Errorf("unshare filesystem context: %w", err)
		}
		if err := unix.Setns(fds[mnt], unix.CLONE_NEWNS); err != nil {
			return fmt.Errorf("linux.namespaces: join mount namespace %s: %w", joins[mnt].Path, err)
		}
	}
	return nil
}
