package container

import (
	"fmt"
	"os"
	"runtime"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/cgroups"
	"github.com/carapace-oci/carapace/libcarapace/faultpoint"
	"github.com/carapace-oci/carapace/libcarapace/internal/timerslack"
	"github.com/carapace-oci/carapace/libcarapace/ipc"
	"github.com/carapace-oci/carapace/libcarapace/namespaces"
	"github.com/carapace-oci/carapace/libcarapace/sealexe"
)

// spawn starts the runtime's binary, sealed, as a process inside a
// container: its init (create) or the helper that becomes an exec'd
// process.
//
// The binary is exec'd from the host's mount namespace, through a
// descriptor opened there: no path the container can reach decides what
// runs (issue 9: a container that mounted over its /proc made an exec
// helper run its file as host root). New namespaces are clone flags;
// pid, network, IPC, UTS and cgroup namespaces joined by path are entered
// on a locked thread first, which the child inherits (that thread is then
// thrown away): none of them changes how a path resolves. User, time and
// mount namespaces are joined by the nsenter constructor in the child,
// once the binary runs: the first two need a single-threaded process, the
// last changes the root. Every namespace is opened before any is joined.
type spawn struct {
	role     string      // the environment variable naming the child's role
	stdio    [3]*os.File // nil: ours
	keep     int         // fds 3.. passed through unchanged (preserved, LISTEN_FDS)
	extra    []*os.File  // more fds for the child, after its sync socket and binary
	parent   *ipc.Conn
	child    *ipc.Conn
	joins    []namespaces.Join
	newFlags uintptr
	// childFlags are namespaces the child makes itself (nsenter), after
	// the clone's: a new time namespace, with its offsets (timeOffsets,
	// as /proc/self/timens_offsets takes them) written before a process
	// is in it, and then the pid namespace, so that init, forked by
	// nsenter after both, is born in them and is pid 1.
	childFlags  uintptr
	timeOffsets string
	uidMaps     []syscall.SysProcIDMap
	gidMaps     []syscall.SysProcIDMap
	// newUser, for a caller that is not root, are the maps of a new user
	// namespace made before the child (namespaces.NewUserNS), which the
	// child then joins: the kernel lets such a caller write only its own
	// ids at clone time.
	newUser *userMaps
	cgroup  *cgroups.Manager // v2: the child is born in it
	// cgroupDir is the v2 directory, when not the manager's own.
	cgroupDir string
	// cgroupMayRefuse: the kernel may refuse to clone the child into its
	// cgroup (a rootless caller outside the cgroup's delegated subtree:
	// cgroup v2 wants write access to their common ancestor); the child
	// is then forked where the caller is, for the caller to move it by
	// other means (systemd).
	cgroupMayRefuse bool
}

// userMaps are a new user namespace's maps, as the spec gives them.
type userMaps struct{ uid, gid []specs.LinuxIDMapping }

// joinFile is a namespace to join, opened.
type joinFile struct {
	namespaces.Join
	f *os.File
}

// openJoins opens every namespace to join, in the caller's (the host's)
// mount namespace.
func openJoins(joins []namespaces.Join) ([]joinFile, error) {
	out := make([]joinFile, 0, len(joins))
	for _, j := range joins {
		f, err := os.Open(j.Path)
		if err != nil {
			closeJoins(out)
			return nil, fmt.Errorf("linux.namespaces: %s path: %w", j.Type, err)
		}
		out = append(out, joinFile{j, f})
	}
	return out, nil
}

func closeJoins(js []joinFile) {
	for _, j := range js {
		j.f.Close()
	}
}

// start forks the child and returns its pid and whether it was born in its
// cgroup (otherwise the caller must move it in). opened are the joins,
// already open (exec opens them under a check of init), or nil.
//
// The child may run on every CPU, not on the runtime's own affinity (a
// taskset of whoever started the runtime): only the container's cpuset
// cgroup and process.execCPUAffinity limit it, as with runc.
func (sp *spawn) start(opened []joinFile) (int, bool, error) {
	pid, inCgroup, err := sp.fork(opened)
	if err != nil {
		return pid, inCgroup, err
	}
	var all unix.CPUSet
	for i := 0; i < len(all)*64; i++ {
		all.Set(i)
	}
	if err := unix.SchedSetaffinity(pid, &all); err != nil {
		unix.Kill(pid, unix.SIGKILL)
		unix.Wait4(pid, nil, 0, nil)
		return 0, false, fmt.Errorf("reset CPU affinity: %w", err)
	}
	return pid, inCgroup, nil
}

func (sp *spawn) fork(opened []joinFile) (pid int, inCgroup bool, err error) {
	if opened == nil {
		if opened, err = openJoins(sp.joins); err != nil {
			return 0, false, err
		}
		defer closeJoins(opened)
	}
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
	env = append(env, faultpoint.Env()...)

	sys := &syscall.SysProcAttr{Cloneflags: sp.newFlags}
	var cgDir string
	if sp.cgroup != nil && sp.cgroup.Mode == cgroups.ModeV2 {
		// Born in its cgroup (clone3 CLONE_INTO_CGROUP): no window in which
		// it runs outside its limits, and no cgroup.procs write.
		cgDir = sp.cgroupDir
		if cgDir == "" {
			cgDir = sp.cgroup.V2Dir()
		}
		dir, err := os.Open(cgDir)
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

	if sp.newUser != nil {
		u, err := namespaces.NewUserNS(exe, sp.newUser.uid, sp.newUser.gid)
		if err != nil {
			return 0, false, err
		}
		defer u.Close()
		j := joinFile{namespaces.Join{Type: specs.UserNamespace, Path: "(new)", Flag: unix.CLONE_NEWUSER}, u}
		opened = append([]joinFile{j}, opened...)
		sys.Cloneflags &^= unix.CLONE_NEWUSER
	}

	// A caller that is not root may enter the container's other
	// namespaces only from inside its user namespace, which owns them:
	// the child joins them all, the user namespace first.
	threadJoins, childJoins := splitJoins(opened, os.Geteuid() != 0 && hasUserJoin(opened))
	unshare := sp.childFlags
	if hasUserJoin(childJoins) {
		// Namespaces made after joining the user namespace belong to it;
		// made by clone, they would belong to the host's.
		unshare |= sys.Cloneflags
		sys.Cloneflags = 0
	}
	// Only children enter a new or joined pid namespace, or a new time
	// namespace: nsenter forks once.
	forks := unshare&(unix.CLONE_NEWPID|unix.CLONE_NEWTIME) != 0 || hasJoin(childJoins, specs.PIDNamespace)
	if sp.timeOffsets != "" {
		env = append(env, "_CARAPACE_TIMENS="+sp.timeOffsets)
	}
	// Set, it also makes the child non-dumpable from its first
	// instruction (nsenter.c).
	spec := fmt.Sprintf("%d;%d;", syncFD, unshare)
	for i, j := range childJoins {
		if i > 0 {
			spec += ","
		}
		spec += fmt.Sprintf("%d:%d", len(files), j.Flag)
		files = append(files, j.f.Fd())
	}
	env = append(env, "_CARAPACE_NSENTER="+spec)

	// syscall.ForkExec rather than os.StartProcess: the latter probes
	// pidfd support with an extra fork on first use. The path is looked
	// up in the host's mount namespace: the thread that forks joins none.
	attr := &syscall.ProcAttr{Env: env, Files: files, Sys: sys}
	path := fmt.Sprintf("/proc/self/fd/%d", syncFD+1)
	args := []string{"carapace", "init"}
	fork := func() (pid int, err error) {
		// The child's nsenter.c reads the caller's timer slack from
		// its own: it forks from a thread that has it.
		timerslack.Start(func() error {
			pid, err = syscall.ForkExec(path, args, attr)
			if sys.UseCgroupFD && (err == unix.ENOSYS || sp.cgroupMayRefuse && (err == unix.EACCES || err == unix.EPERM)) {
				// No clone3 (Linux < 5.7), or not allowed: fork,
				// then move the child in.
				sys.UseCgroupFD = false
				pid, err = syscall.ForkExec(path, args, attr)
			}
			return nil
		})
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
	if err == unix.EACCES && sys.UseCgroupFD {
		// The kernel's answer names neither the cgroup nor the rule.
		err = fmt.Errorf("start the process in cgroup %s: %w (%s)", cgDir, err, cgroups.AncestorHint)
	}
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

func hasUserJoin(joins []joinFile) bool { return hasJoin(joins, specs.UserNamespace) }

func hasJoin(joins []joinFile, t specs.LinuxNamespaceType) bool {
	for _, j := range joins {
		if j.Type == t {
			return true
		}
	}
	return false
}

// splitJoins separates the joins a locked Go thread can make from those
// the child's nsenter constructor makes: user (first), cgroup, time, and
// mount (last, as it changes the root).
//
// The cgroup namespace is joined by the child, once born in the
// container's cgroup: with the forking thread in it, clone3 into that
// cgroup fails with ENOENT where cgroup2 is mounted with nsdelegate (as
// systemd mounts it), because the runtime's own cgroup, the source, is
// not below the namespace's root.
//
// With all, every join is the child's (a caller that is not root, whose
// only privilege over the container's namespaces is the user namespace
// that owns them).
func splitJoins(joins []joinFile, all bool) (thread, child []joinFile) {
	var user, cgroup, time, mnt []joinFile
	for _, j := range joins {
		switch j.Type {
		case specs.PIDNamespace, specs.NetworkNamespace, specs.IPCNamespace, specs.UTSNamespace:
			if all {
				cgroup = append(cgroup, j)
			} else {
				thread = append(thread, j)
			}
		case specs.UserNamespace:
			user = append(user, j)
		case specs.CgroupNamespace:
			cgroup = append(cgroup, j)
		case specs.TimeNamespace:
			time = append(time, j)
		case specs.MountNamespace:
			mnt = append(mnt, j)
		default:
			thread = append(thread, j)
		}
	}
	child = append(append(append(append(child, user...), cgroup...), time...), mnt...)
	return thread, child
}

// joinNamespaces enters namespaces that change no path lookup (pid, net,
// ipc, uts) on the calling, locked, thread.
func joinNamespaces(joins []joinFile) error {
	for _, j := range joins {
		if err := unix.Setns(int(j.f.Fd()), int(j.Flag)); err != nil {
			return fmt.Errorf("linux.namespaces: join %s namespace %s: %w", j.Type, j.Path, err)
		}
	}
	return nil
}
