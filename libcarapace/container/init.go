package container

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/console"
	"github.com/carapace-oci/carapace/libcarapace/faultpoint"
	"github.com/carapace-oci/carapace/libcarapace/hooks"
	"github.com/carapace-oci/carapace/libcarapace/internal/flat"
	"github.com/carapace-oci/carapace/libcarapace/internal/timerslack"
	"github.com/carapace-oci/carapace/libcarapace/ipc"
	"github.com/carapace-oci/carapace/libcarapace/lsm"
	"github.com/carapace-oci/carapace/libcarapace/process"
	"github.com/carapace-oci/carapace/libcarapace/procfs"
	"github.com/carapace-oci/carapace/libcarapace/rootfs"
	"github.com/carapace-oci/carapace/libcarapace/seccomp"
)

// IsInit reports whether this process was started as a container's init.
func IsInit() bool { return os.Getenv(initEnv) != "" }

// Init is the container's init: the runtime re-executed inside the new
// namespaces. It sets the container up as the runtime tells it, waits on
// the exec fifo for start, then execs the user's process. It never returns.
//
// It runs from the main package's init(), on the main thread, which it
// keeps: namespaces unshared here and credentials set with raw syscalls
// belong to this thread, and it is the one that execs.
func Init() {
	runtime.LockOSThread()
	// This thread execs the container's process: it gets the caller's
	// timer slack, not the runtime's.
	timerslack.Restore()
	conn, fds := childStart(initEnv, 1)
	fifoFD := fds[0]
	fifo, err := setup(conn, fifoFD)
	if err != nil {
		conn.SendError(err)
		os.Exit(1)
	}
	// Only the fifo links init to the runtime now; errors go there.
	if err := fifo.exec(); err != nil {
		fifo.fail(err)
	}
}

// childStart is the first thing a spawned child does (see spawn): read
// its descriptors from the role variable (the sync socket, the sealed
// binary, then extra more), close the binary, which was only needed to
// exec this process, and mark the rest close-on-exec.
func childStart(role string, extra int) (*ipc.Conn, []int) {
	parts := strings.Split(os.Getenv(role), ",")
	os.Unsetenv(role)
	fds := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || len(parts) != 2+extra {
			fmt.Fprintln(os.Stderr, "carapace: bad", role)
			os.Exit(1)
		}
		fds[i] = n
	}
	unix.Close(fds[1])
	unix.CloseOnExec(fds[0])
	for _, fd := range fds[2:] {
		unix.CloseOnExec(fd)
	}
	return ipc.NewConn(os.NewFile(uintptr(fds[0]), "sync")), fds[2:]
}

// waitingInit is init after setup: parked on the fifo until start.
type waitingInit struct {
	cfg   *InitConfig
	spec  *specs.Spec
	argv0 string
	env   []string
	// procfd is init's own procfs (see setup), fifoFD the exec fifo's
	// O_PATH descriptor, until the fifo is open for writing as fifoOut.
	procfd  int
	fifoFD  int
	fifoOut *os.File
	// filter is linux.seccomp, compiled; nil without one.
	filter *seccomp.Program
	loaded bool
	// listener is the filter's SCMP_ACT_NOTIFY descriptor until it is
	// handed to the runtime, else -1.
	listener int
}

// seccompListener: init or exec helper → runtime, the listener descriptor
// of a filter that uses SCMP_ACT_NOTIFY, for linux.seccomp.listenerPath.
const seccompListener ipc.Kind = "seccomp-listener"

func setup(conn *ipc.Conn, fifoFD int) (*waitingInit, error) {
	msg, fds, err := conn.Expect(ipc.Bootstrap)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	var cfg InitConfig
	if err := flat.Unmarshal(msg.Flat, &cfg); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	if len(fds) != len(cfg.IDMapped) {
		return nil, fmt.Errorf("bootstrap: %d idmapped mount trees for %d idmapped mounts", len(fds), len(cfg.IDMapped))
	}
	idmapped := make(map[int]int, len(fds))
	for k, i := range cfg.IDMapped {
		idmapped[i] = fds[k]
	}
	spec := cfg.Spec
	if spec == nil {
		return nil, errors.New("bootstrap: no spec")
	}
	if spec.Linux == nil {
		spec.Linux = &specs.Linux{}
	}
	w := &waitingInit{cfg: &cfg, spec: spec, filter: cfg.Seccomp, listener: -1, procfd: -1}
	faultpoint.Hit("init:bootstrapped")

	// The exec fifo is reopened for writing at the end, through a procfs
	// of init's own, made now while init is privileged: the container's
	// /proc is whatever its mounts make it, and the host's would give a
	// way out through /proc/1/root to anything that reached init's fds.
	// Init is non-dumpable (nsenter) until it execs, so nothing of the
	// container reaches them.
	if w.procfd, err = procfs.Open(); err != nil {
		return nil, err
	}
	w.fifoFD = fifoFD
	p := spec.Process
	if cfg.NewCgroupNS {
		// Only now: the runtime has put init in its cgroup, which becomes
		// the namespace's root.
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return nil, fmt.Errorf("new cgroup namespace: %w", err)
		}
	}
	if p.SelinuxLabel != "" && !cfg.NoNewKeyring {
		// The session keyring made next gets the process's label.
		if err := lsm.SetSELinuxKeyCreate(w.procfd, p.SelinuxLabel); err != nil {
			return nil, fmt.Errorf("process.selinuxLabel %q: keyring label: %w", p.SelinuxLabel, err)
		}
	}
	if !cfg.NoNewKeyring {
		// Each container gets its own session keyring instead of the
		// caller's; kernels or seccomp policies without keyrings are fine.
		if _, err := unix.KeyctlJoinSessionKeyring("_ses." + cfg.ID); err != nil &&
			!errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EPERM) && !errors.Is(err, unix.EACCES) {
			return nil, fmt.Errorf("join session keyring: %w", err)
		}
	}

	fs := &rootfs.Setup{
		Spec: spec, Rootfs: cfg.Rootfs, BundleDir: cfg.Bundle,
		UserNS: cfg.UserNS, NoPivot: cfg.NoPivot, CgroupNS: cfg.CgroupNS,
		MountLabel: cfg.MountLabel, CgroupV2Dir: cfg.CgroupV2Dir, IDMapped: idmapped,
	}
	if cfg.MountNS {
		if err := fs.Prepare(); err != nil {
			return nil, err
		}
	}
	faultpoint.Hit("init:mounts-prepared")
	if len(hooks.Of(spec.Hooks, hooks.Prestart))+len(hooks.Of(spec.Hooks, hooks.CreateRuntime)) > 0 {
		if err := conn.Send(ipc.Message{Kind: ipc.RunHooks}); err != nil {
			return nil, err
		}
		if _, _, err := conn.Expect(ipc.HooksDone); err != nil {
			return nil, err
		}
	}
	if len(hooks.Of(spec.Hooks, hooks.CreateContainer)) > 0 {
		// Before pivot_root the image's /etc/passwd is not at
		// /etc/passwd: a HOME the config lacks is "/" here.
		env := w.processEnv(func() string { return "/" })
		if err := hooks.RunIn(spec.Hooks, hooks.CreateContainer, cfg.State, env, cfg.Bundle); err != nil {
			return nil, err
		}
	}
	if cfg.MountNS {
		if err := fs.Enter(); err != nil {
			return nil, err
		}
	} else if err := unix.Chroot(cfg.Rootfs); err != nil {
		return nil, fmt.Errorf("chroot %s: %w", cfg.Rootfs, err)
	}
	faultpoint.Hit("init:pivoted")
	if cfg.UTSNS {
		if err := setHostnames(spec); err != nil {
			return nil, err
		}
	}
	if err := rootfs.SetSysctls(spec.Linux.Sysctl); err != nil {
		return nil, err
	}
	if p.Terminal {
		master, err := console.Setup(p.ConsoleSize, true)
		if err != nil {
			return nil, fmt.Errorf("process.terminal: %w", err)
		}
		if cfg.ClearONLCR {
			if err := console.ClearONLCR(master); err != nil {
				master.Close()
				return nil, err
			}
		}
		err = conn.Send(ipc.Message{Kind: ipc.Console}, int(master.Fd()))
		master.Close()
		if err != nil {
			return nil, err
		}
	}
	if cfg.MountNS {
		if err := rootfs.Finish(spec, cfg.MountLabel); err != nil {
			return nil, err
		}
	}
	if err := w.dropPrivileges(); err != nil {
		return nil, err
	}
	if err := w.sendListener(conn); err != nil {
		return nil, err
	}
	faultpoint.Hit("init:ready")
	if err := conn.Send(ipc.Message{Kind: ipc.Ready}); err != nil {
		return nil, err
	}
	conn.Close()
	return w, nil
}

// dropPrivileges becomes the spec's user with the spec's capabilities,
// enters the cwd and finds the program, so that every failure of these is
// reported by create rather than by start.
func (w *waitingInit) dropPrivileges() error {
	p := w.spec.Process
	// These may need privileges (CAP_SYS_NICE for real-time policies) that
	// the process is about to lose.
	if per := w.spec.Linux.Personality; per != nil {
		if err := process.SetPersonality(per); err != nil {
			return err
		}
	}
	if p.IOPriority != nil {
		if err := process.SetIOPriority(p.IOPriority); err != nil {
			return err
		}
	}
	if p.Scheduler != nil {
		if err := process.SetScheduler(p.Scheduler); err != nil {
			return err
		}
	}
	if mp := w.spec.Linux.MemoryPolicy; mp != nil {
		if err := process.SetMemoryPolicy(mp); err != nil {
			return err
		}
	}
	// Still root with every capability, on the thread that will execve.
	if err := w.applyLSM(); err != nil {
		return err
	}
	caps := process.CapsFromSpec(p.Capabilities)
	if err := process.DropBounding(caps.Bounding); err != nil {
		return err
	}
	if err := process.ChownStdio(p.User.UID); err != nil {
		return err
	}
	// The cwd is entered while still root, as runc does, so that a cwd
	// the process's user cannot search still works; where root is refused
	// (root-squashed NFS) it is tried again as the user.
	cwdErr := process.Chdir(p.Cwd)
	if cwdErr != nil && !errors.Is(cwdErr, unix.EACCES) && !errors.Is(cwdErr, unix.EPERM) {
		return cwdErr
	}
	if err := process.SetUser(p.User); err != nil {
		return err
	}
	if cwdErr != nil {
		if err := process.Chdir(p.Cwd); err != nil {
			return err
		}
	}
	if !p.NoNewPrivileges && w.filter != nil {
		// Without no_new_privs, seccomp(2) wants CAP_SYS_ADMIN, which the
		// capabilities below take away: the filter goes in now, and what
		// follows runs under it (see loadSeccomp).
		if err := raiseEffective(); err != nil {
			return err
		}
		if err := w.loadSeccomp(); err != nil {
			return err
		}
	}
	if err := caps.Apply(); err != nil {
		return fmt.Errorf("process.capabilities: %w", err)
	}
	if p.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("process.noNewPrivileges: %w", err)
		}
		if w.filter != nil && w.filter.Notify {
			// The listener must reach the runtime, over the sync socket
			// that closes at ready: with SCMP_ACT_NOTIFY the filter goes
			// in now, as runc always does with no_new_privs.
			if err := w.loadSeccomp(); err != nil {
				return err
			}
		}
	}
	w.env = w.processEnv(func() string { return passwdHome(p.User.UID) })
	argv0, err := process.LookPath(p.Args[0], w.env)
	if err != nil {
		return err
	}
	w.argv0 = argv0
	return nil
}

// applyLSM asks the kernel to confine the process at its execve: the
// AppArmor profile and the SELinux context are written to this thread's
// exec attributes through init's private procfs (see package lsm). It
// runs during create, so a profile that is not loaded or a label the
// policy rejects fails create; what init runs before its execve (the
// startContainer hooks) runs confined, as with runc.
func (w *waitingInit) applyLSM() error {
	p := w.spec.Process
	if p.ApparmorProfile != "" {
		if err := lsm.SetAppArmorExec(w.procfd, p.ApparmorProfile); err != nil {
			if errors.Is(err, lsm.ErrNotLoaded) {
				return fmt.Errorf("process.apparmorProfile %q: the profile is not loaded on this host (apparmor_parser loads it)", p.ApparmorProfile)
			}
			return fmt.Errorf("process.apparmorProfile %q: %w", p.ApparmorProfile, err)
		}
	}
	if p.SelinuxLabel != "" {
		if err := lsm.SetSELinuxExec(w.procfd, p.SelinuxLabel); err != nil {
			return fmt.Errorf("process.selinuxLabel %q: %w", p.SelinuxLabel, err)
		}
	}
	return nil
}

// exec waits for start, runs the startContainer hooks and execs the
// process. It returns only on failure.
func (w *waitingInit) exec() error {
	// Blocks until start opens the fifo for reading.
	fd, err := procfs.ReopenFD(w.procfd, w.fifoFD, unix.O_WRONLY)
	unix.Close(w.procfd)
	unix.Close(w.fifoFD)
	if err != nil {
		return fmt.Errorf("open exec fifo: %w", err)
	}
	w.fifoOut = os.NewFile(uintptr(fd), "exec.fifo")
	// One byte tells start that init is past the fifo; the write end closes
	// on exec, which start sees as EOF.
	if _, err := w.fifoOut.Write([]byte{'0'}); err != nil {
		return fmt.Errorf("write exec fifo: %w", err)
	}
	if len(hooks.Of(w.spec.Hooks, hooks.StartContainer)) > 0 {
		// The hooks run in the container as its process would: with its
		// environment and, as with runc, under its seccomp filter (with
		// no_new_privs it is otherwise loaded last, below).
		if w.spec.Process.NoNewPrivileges {
			if err := w.loadSeccomp(); err != nil {
				return err
			}
		}
		if err := hooks.RunIn(w.spec.Hooks, hooks.StartContainer, w.cfg.State, w.env, ""); err != nil {
			return err
		}
	}
	if err := process.SetRlimits(w.spec.Process.Rlimits); err != nil {
		return err
	}
	// Nothing of the runtime's may reach the process: every descriptor
	// above the preserved ones closes at exec, inherited or not
	// (CVE-2024-21626).
	if err := markCloseOnExec(3 + w.cfg.PreserveFDs); err != nil {
		return err
	}
	if w.spec.Process.NoNewPrivileges {
		if err := w.loadSeccomp(); err != nil {
			return err
		}
	}
	err = syscall.Exec(w.argv0, w.spec.Process.Args, w.env)
	return fmt.Errorf("exec %s: %w", w.argv0, err)
}

// loadSeccomp installs the container's filter, if it has one.
//
// When: with process.noNewPrivileges, as the very last step before
// execve, so that the profile constrains the user's program and nothing of
// the runtime's (only execve itself, and on its failure the report of the
// error, run under it). Without it, the kernel requires CAP_SYS_ADMIN to
// load a filter, so it is loaded in dropPrivileges after the user switch
// and the cwd check (a profile may deny getcwd: runtime-tools'
// linux_seccomp does), with the permitted capabilities made effective again
// for it, and before the capability sets are applied. After it, the runtime
// only makes syscalls that typical profiles (docker's, podman's) allow:
// capset, prctl, stat and access for the program lookup, sendmsg on the
// sync socket, write on the exec fifo, prlimit64, sched_setaffinity,
// close_range (or fcntl, see markCloseOnExec), execve, Go's own (futex,
// mmap, rt_sig*, clone for threads), and fork and exec of startContainer
// hooks, which run under the filter as with runc. Everything else (mounts,
// pivot_root, sysctl, namespaces, keyring, personality, scheduler,
// credentials) happened before.
//
// Threads: Go runs several, and a filter is per thread; execve keeps only
// the calling thread's. This goroutine is locked to the main thread since
// Init (or ExecInit) started, credentials and no_new_privs are set on this
// thread, and it is the one that calls execve: loading on it is enough,
// and the program gets exactly the profile. Other threads of the runtime
// (the Go scheduler's, the exec fifo opener) stay unfiltered until execve
// ends them; none of them runs code of the container. A profile asking for
// SECCOMP_FILTER_FLAG_TSYNC gets the filter on all of them at once.
func (w *waitingInit) loadSeccomp() error {
	if w.filter == nil || w.loaded {
		return nil
	}
	fd, err := w.filter.Load()
	if err != nil {
		return err
	}
	w.loaded, w.listener = true, fd
	return nil
}

// raiseEffective makes the permitted capabilities effective again: the
// switch to a non-root user cleared the effective set (PR_SET_KEEPCAPS
// keeps only the permitted one), and loading a filter without
// no_new_privs needs CAP_SYS_ADMIN. Caps.Apply sets the final sets right
// after.
func raiseEffective() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("linux.seccomp: capget: %w", err)
	}
	data[0].Effective, data[1].Effective = data[0].Permitted, data[1].Permitted
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("linux.seccomp: raise CAP_SYS_ADMIN to load the filter: %w", err)
	}
	return nil
}

// sendListener hands the filter's listener, if any, to the runtime, which
// passes it on to linux.seccomp.listenerPath.
func (w *waitingInit) sendListener(conn *ipc.Conn) error {
	if w.listener < 0 {
		return nil
	}
	err := conn.Send(ipc.Message{Kind: seccompListener}, w.listener)
	unix.Close(w.listener)
	w.listener = -1
	return err
}

// markCloseOnExec makes every descriptor from first on close-on-exec.
// close_range does it in one call, but a seccomp filter loaded before it
// (without no_new_privs) may refuse it: runtime-tools' default profile and
// older docker ones predate it; kernels before 5.9 lack it. Then the open
// descriptors are found with poll, which flags closed ones POLLNVAL, and
// each gets FD_CLOEXEC, with syscalls every profile allows. Never through
// /proc/self/fd: inside the container it lists what the container wants.
func markCloseOnExec(first int) error {
	crErr := unix.CloseRange(uint(first), ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	if crErr == nil {
		return nil
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("close descriptors: close_range: %v; getrlimit: %w", crErr, err)
	}
	// Descriptors above the soft limit may have been opened under a
	// higher one; the hard limit bounds them all.
	end := lim.Max
	const chunk = 1024
	pfds := make([]unix.PollFd, chunk)
	for base := uint64(first); base < end; base += chunk {
		n := min(uint64(chunk), end-base)
		for i := range pfds[:n] {
			pfds[i] = unix.PollFd{Fd: int32(base + uint64(i))}
		}
		if _, err := unix.Poll(pfds[:n], 0); err != nil {
			return fmt.Errorf("close descriptors: close_range: %v; poll: %w", crErr, err)
		}
		for _, p := range pfds[:n] {
			if p.Revents&unix.POLLNVAL != 0 {
				continue
			}
			if _, err := unix.FcntlInt(uintptr(p.Fd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil && err != unix.EBADF {
				return fmt.Errorf("close descriptors: fd %d: %w", p.Fd, err)
			}
		}
	}
	return nil
}

// fail reports a failure after create has returned: start reads it from the
// fifo.
func (w *waitingInit) fail(err error) {
	if w.fifoOut != nil {
		fmt.Fprint(w.fifoOut, err.Error())
	}
	os.Exit(1)
}

// timensOffsets is linux.timeOffsets as /proc/<pid>/timens_offsets takes
// them, one "clock secs nanosecs" line each, in a fixed order.
func timensOffsets(offsets map[string]specs.LinuxTimeOffset) string {
	var b strings.Builder
	for _, clock := range sortedKeys(offsets) {
		off := offsets[clock]
		fmt.Fprintf(&b, "%s %d %d\n", clock, off.Secs, off.Nanosecs)
	}
	return b.String()
}

func setHostnames(spec *specs.Spec) error {
	if spec.Hostname != "" {
		if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
			return fmt.Errorf("hostname %q: %w", spec.Hostname, err)
		}
	}
	if spec.Domainname != "" {
		if err := unix.Setdomainname([]byte(spec.Domainname)); err != nil {
			return fmt.Errorf("domainname %q: %w", spec.Domainname, err)
		}
	}
	return nil
}

// processEnv is the process's environment: process.env and the runtime's
// additions (LISTEN_FDS), each once, with HOME from home when unset.
func (w *waitingInit) processEnv(home func() string) []string {
	env := w.spec.Process.Env
	return process.Environ(append(env[:len(env):len(env)], w.cfg.ExtraEnv...), home)
}

// passwdHome is uid's home directory in the container's /etc/passwd, or
// "/" without one.
func passwdHome(uid uint32) string {
	// Non-blocking, and a regular file only: the image may have put a
	// fifo or a device there, which must not stall create or exec.
	fd, err := unix.Open("/etc/passwd", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return "/"
	}
	f := os.NewFile(uintptr(fd), "/etc/passwd")
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return "/"
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) >= 6 && fields[2] == strconv.FormatUint(uint64(uid), 10) && fields[5] != "" {
			return fields[5]
		}
	}
	return "/"
}
