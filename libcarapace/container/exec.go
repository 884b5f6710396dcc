package container

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/cgroups"
	"github.com/carapace-oci/carapace/libcarapace/cgroups/systemd"
	"github.com/carapace-oci/carapace/libcarapace/config"
	"github.com/carapace-oci/carapace/libcarapace/console"
	"github.com/carapace-oci/carapace/libcarapace/faultpoint"
	"github.com/carapace-oci/carapace/libcarapace/internal/flat"
	"github.com/carapace-oci/carapace/libcarapace/internal/timerslack"
	"github.com/carapace-oci/carapace/libcarapace/ipc"
	"github.com/carapace-oci/carapace/libcarapace/namespaces"
	"github.com/carapace-oci/carapace/libcarapace/process"
	"github.com/carapace-oci/carapace/libcarapace/procfs"
	"github.com/carapace-oci/carapace/libcarapace/seccomp"
	"github.com/carapace-oci/carapace/libcarapace/state"
)

// execEnv names the variable that tells the re-executed runtime it is the
// helper of an exec, and where its descriptors are.
const execEnv = "_CARAPACE_EXEC"

// IsExec reports whether this process was started as an exec helper.
func IsExec() bool { return os.Getenv(execEnv) != "" }

// ExecConfig is the bootstrap message of an exec helper.
type ExecConfig struct {
	Process     specs.Process `json:"process"`
	PreserveFDs int           `json:"preserveFds,omitempty"`
	// WaitToExec: after ready, wait for the runtime to move the helper
	// into the (frozen) cgroup before exec, so a paused container's exec
	// runs only on resume.
	WaitToExec bool `json:"waitToExec,omitempty"`
	// Seccomp is the container's linux.seccomp, compiled by the runtime.
	Seccomp *seccomp.Program `json:"seccomp,omitempty"`
	// ClearONLCR: the runtime proxies the pty itself (no console socket).
	ClearONLCR bool `json:"clearOnlcr,omitempty"`
	// The container's linux.personality and linux.memoryPolicy.
	Personality  *specs.LinuxPersonality  `json:"personality,omitempty"`
	MemoryPolicy *specs.LinuxMemoryPolicy `json:"memoryPolicy,omitempty"`
}

// ExecOptions are exec's flags, with the process already resolved.
type ExecOptions struct {
	ID            string
	Process       *specs.Process
	Detach        bool
	PidFile       string
	ConsoleSocket string
	PreserveFDs   int
	IgnorePaused  bool
	// SubCgroups are --cgroup's: one "path" for every hierarchy, or
	// "controller[,controller]:path" per v1 controller.
	SubCgroups  []string
	PidfdSocket string // receives a pidfd of the process
}

// Exec runs a new process in a running container: it joins every
// namespace of the container's init, its cgroup and root, with the
// process's own credentials. Detached, it returns once the process runs;
// otherwise it waits and returns the exit status (128+N for a signal N).
func (r *Runtime) Exec(o ExecOptions) (int, error) {
	var st *state.State
	code, err := r.exec(o, &st)
	if err != nil && st != nil && !errors.As(err, new(stoppedError)) && !state.Alive(st.Pid, st.StartTime) {
		// Exec does not hold the container's lock (its process may run
		// for ever): a kill or delete meanwhile stops the container under
		// it, and the error met on the way (a closed socket, a cgroup
		// gone) would not say so.
		err = fmt.Errorf("container %q stopped while exec set its process up: cannot exec in it (%w)", o.ID, err)
	}
	return code, err
}

// stoppedError is exec's error for a container found stopped.
type stoppedError struct{ id string }

func (e stoppedError) Error() string {
	return fmt.Sprintf("container %q is stopped: cannot exec in it", e.id)
}

func (r *Runtime) exec(o ExecOptions, loaded **state.State) (int, error) {
	if err := checkPassedFDs(o.PreserveFDs, 0); err != nil {
		return 1, err
	}
	// Held until the process runs: a delete meanwhile waits, then kills
	// it, instead of removing the container under exec's setup.
	unlock, err := r.Store.LockShared(o.ID)
	if err != nil {
		return 1, err
	}
	locked := true
	release := func() {
		if locked {
			unlock()
			locked = false
		}
	}
	defer release()
	st, err := r.Load(o.ID)
	if err != nil {
		return 1, err
	}
	*loaded = st
	status := r.Store.Status(st)
	switch {
	case status == state.Stopped:
		return 1, stoppedError{o.ID}
	case status == state.Paused && !o.IgnorePaused:
		return 1, fmt.Errorf("container %q is paused: resume it first, or use --ignore-paused", o.ID)
	}
	// In a frozen cgroup the helper could not even set up: it joins the
	// cgroup only when ready, and its exec happens on resume.
	paused := status == state.Paused
	p := o.Process
	if len(p.Args) == 0 {
		return 1, errors.New("exec: no command given")
	}
	if p.Cwd == "" {
		p.Cwd = "/"
	}
	if !filepath.IsAbs(p.Cwd) {
		return 1, fmt.Errorf("process.cwd %q is not an absolute path", p.Cwd)
	}
	if err := checkLSM(p, ""); err != nil {
		return 1, err
	}
	for _, u := range process.UnknownCapabilities(p.Capabilities) {
		r.Log.Warn(u+": ignored", "id", o.ID)
	}
	if p.Terminal && o.ConsoleSocket == "" && o.Detach {
		return 1, errors.New("exec: --tty with --detach needs --console-socket to receive the pty master")
	}
	if err := process.CheckRlimits(p.Rlimits); err != nil {
		return 1, err
	}
	// The process gets the container's filter, compiled before anything
	// is started.
	var filter *seccomp.Program
	if st.Seccomp != nil {
		if filter, err = seccomp.Compile(st.Seccomp, r.Log); err != nil {
			return 1, fmt.Errorf("container %q: %w", o.ID, err)
		}
	}

	var subs map[string]string
	if st.Cgroup != nil && len(o.SubCgroups) > 0 {
		if subs, err = subCgroups(st.Cgroup, o.SubCgroups); err != nil {
			return 1, err
		}
	}
	joins, err := openContainerNamespaces(st)
	if err != nil {
		return 1, err
	}
	parent, child, err := ipc.Pair()
	if err != nil {
		closeJoins(joins)
		return 1, err
	}
	defer parent.Close()
	sp := spawn{
		role: execEnv, keep: o.PreserveFDs, parent: parent, child: child,
		cgroup: st.Cgroup,
		// A rootless caller outside the container's delegated subtree
		// (or its systemd instance's): execCgroup moves the process in
		// by other means, or leaves it where the caller is.
		cgroupMayRefuse: st.Cgroup != nil && (st.Cgroup.UserManager || st.Cgroup.Rootless),
	}
	if paused {
		sp.cgroup = nil
	}
	if rel, ok := subs[""]; ok && st.Cgroup.Mode == cgroups.ModeV2 {
		sp.cgroupDir = filepath.Join(st.Cgroup.V2Dir(), rel)
	}
	if st.Cgroup != nil && !paused {
		// Paused (with --ignore-paused), the helper joins the cgroup only
		// once ready; otherwise a freeze meanwhile would hold exec for
		// ever.
		parent.Watch = func() error {
			if err := st.Cgroup.CheckThawed(); err != nil {
				return fmt.Errorf("exec: the process cannot go on: %w", err)
			}
			return nil
		}
	}
	// The child holds the namespaces now; ours close at once.
	pid, inCgroup, err := sp.start(joins)
	child.Close()
	closeJoins(joins)
	if err != nil {
		return 1, err
	}
	fail := func(err error) (int, error) {
		unix.Kill(pid, unix.SIGKILL)
		unix.Wait4(pid, nil, 0, nil)
		return 1, err
	}
	faultpoint.Hit("exec:helper-spawned")
	if err := process.RaiseRlimits(pid, p.Rlimits); err != nil {
		return fail(err)
	}
	if p.OOMScoreAdj != nil {
		if err := process.SetOOMScoreAdj(pid, *p.OOMScoreAdj); err != nil {
			return fail(err)
		}
	}
	if a := p.ExecCPUAffinity; a != nil && a.Initial != "" {
		// The process joins the container on these CPUs; final, if
		// given, is set just before it execs.
		if err := process.SetAffinity(pid, a.Initial); err != nil {
			return fail(fmt.Errorf("process.execCPUAffinity.initial %q: %w", a.Initial, err))
		}
	}
	if st.Cgroup != nil && !inCgroup && !paused {
		if err := r.execCgroup(o.ID, st.Cgroup, o.SubCgroups, subs, pid); err != nil {
			return fail(err)
		}
	}
	// Flat, not JSON, as init's (see InitConfig).
	payload, err := flat.Marshal(&ExecConfig{
		Process: *p, PreserveFDs: o.PreserveFDs, WaitToExec: paused, Seccomp: filter, ClearONLCR: o.ConsoleSocket == "",
		Personality: st.Personality, MemoryPolicy: st.MemoryPolicy,
	})
	if err != nil {
		return fail(fmt.Errorf("bootstrap: %w", err))
	}
	if err := parent.Send(ipc.Message{Kind: ipc.Bootstrap, Flat: payload}); err != nil {
		return fail(err)
	}
	faultpoint.Hit("exec:bootstrap-sent")
	var master *os.File
	for done := false; !done; {
		m, fds, err := parent.Recv()
		switch {
		case errors.Is(err, io.EOF):
			return fail(errors.New("exec: the process helper exited during setup"))
		case err != nil:
			return fail(err)
		case m.Kind == ipc.Error:
			return fail(errors.New(m.Error))
		case m.Kind == ipc.Console && len(fds) == 1:
			master = os.NewFile(uintptr(fds[0]), "/dev/ptmx")
			if ws, err := unix.IoctlGetWinsize(int(os.Stdin.Fd()), unix.TIOCGWINSZ); err == nil && o.ConsoleSocket == "" {
				// Sized before the process runs: it may ask at once.
				unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, ws)
			}
			if o.ConsoleSocket != "" {
				err := console.SendMaster(o.ConsoleSocket, master)
				master.Close()
				master = nil
				if err != nil {
					return fail(err)
				}
			}
		case m.Kind == seccompListener && len(fds) == 1:
			err := seccomp.SendListener(st.Seccomp, pid, specs.State{
				Version: st.OCIVersion, ID: st.ID, Status: specs.StateRunning, Pid: st.Pid,
				Bundle: st.Bundle, Annotations: st.Annotations,
			}, fds[0])
			unix.Close(fds[0])
			if err != nil {
				return fail(fmt.Errorf("%s: %w", config.Name, err))
			}
		case m.Kind == ipc.Ready:
			done = true
		default:
			return fail(fmt.Errorf("exec: unexpected message %q", m.Kind))
		}
	}
	if paused {
		if err := r.execCgroup(o.ID, st.Cgroup, o.SubCgroups, subs, pid); err != nil {
			return fail(err)
		}
		if err := parent.Send(ipc.Message{Kind: ipc.Proceed}); err != nil {
			return fail(err)
		}
	} else if m, _, err := parent.Recv(); err == nil && m.Kind == ipc.Error {
		// The helper's end closes when its exec succeeds; a failed exec
		// sends the reason first.
		return fail(errors.New(m.Error))
	}
	if o.PidFile != "" {
		if err := writePidFile(o.PidFile, pid); err != nil {
			return fail(err)
		}
	}
	if o.PidfdSocket != "" {
		if err := sendPidfd(o.PidfdSocket, pid); err != nil {
			return fail(err)
		}
	}
	faultpoint.Hit("exec:started")
	release()
	if o.Detach {
		return 0, nil
	}
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs, forwarded...)
	if master != nil {
		restore := proxyTerminal(master)
		defer restore()
	}
	go forwardSignals(sigs, pid, master)
	return waitInit(pid), nil
}

// openContainerNamespaces opens the namespaces of the container's init to
// join. Init is pinned by a pidfd checked against its start time before
// the paths under /proc/<pid>/ns are opened, and is checked alive after:
// a pid cannot be reused while its process lives, so the descriptors are
// init's, never those of a process that took its pid.
func openContainerNamespaces(st *state.State) ([]joinFile, error) {
	pidfd, err := openInit(st)
	if errors.Is(err, ErrNotRunning) {
		return nil, stoppedError{st.ID}
	}
	if err != nil {
		return nil, err
	}
	defer unix.Close(pidfd)
	var joins []namespaces.Join
	for _, t := range st.Namespaces {
		flag, ok := namespaces.CloneFlag(t)
		if !ok {
			continue
		}
		joins = append(joins, namespaces.Join{
			Type: t, Flag: flag,
			Path: fmt.Sprintf("/proc/%d/ns/%s", st.Pid, namespaces.ProcName(t)),
		})
	}
	opened, err := openJoins(joins)
	if err != nil {
		return nil, err
	}
	if err := unix.PidfdSendSignal(pidfd, 0, nil, 0); err != nil {
		closeJoins(opened)
		return nil, stoppedError{st.ID}
	}
	return opened, nil
}

// subCgroups resolves --cgroup as runc does: a single "path" is the same
// sub-cgroup in every hierarchy; "controller[,controller]:path" (repeated)
// names the sub-cgroup of each v1 controller, the others staying in the
// container's cgroup. It returns hierarchy key -> directory, or "" -> the
// relative path for a single path.
func subCgroups(m *cgroups.Manager, args []string) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range args {
		ctrls, sub, qualified := strings.Cut(a, ":")
		if !qualified {
			sub = a
		}
		if sub == "" || filepath.IsAbs(sub) || slices.Contains(strings.Split(sub, "/"), "..") {
			return nil, fmt.Errorf("--cgroup %q: must be a relative path inside the container's cgroup", a)
		}
		if !qualified {
			if len(args) != 1 {
				return nil, fmt.Errorf("--cgroup %q: without a controller prefix, only one --cgroup may be given", a)
			}
			d := filepath.Join(m.V2Dir(), sub)
			if m.Mode == cgroups.ModeV2 {
				if _, err := os.Stat(d); err != nil {
					return nil, fmt.Errorf("--cgroup %q: %w", a, err)
				}
			}
			// The relative path: applyExecCgroup joins it in every
			// hierarchy.
			return map[string]string{"": sub}, nil
		}
		for _, c := range strings.Split(ctrls, ",") {
			base, ok := m.Dirs[c]
			if c == "" || !ok {
				return nil, fmt.Errorf("--cgroup %q: no %q controller in the container's cgroups", a, c)
			}
			if _, dup := out[c]; dup {
				return nil, fmt.Errorf("--cgroup %q: controller %s given more than once", a, c)
			}
			d := filepath.Join(base, sub)
			if _, err := os.Stat(d); err != nil {
				return nil, fmt.Errorf("--cgroup %q: %w", a, err)
			}
			out[c] = d
		}
	}
	return out, nil
}

// execCgroup moves an exec'd process into the container's cgroup
// (applyExecCgroup). A rootless caller may be refused: cgroup v2 lets it
// move a process only between cgroups whose common ancestor it may write,
// and it may run outside the subtree delegated to it. For a unit in the
// user's systemd instance, the instance moves the process then, as runc
// asks it to. Otherwise (a delegated cgroupfs tree, or the instance
// failing too) the process stays in the caller's cgroup with a warning,
// as runc ignores a rootless exec's cgroup join error. args are --cgroup's,
// for the one sub-cgroup systemd can take.
func (r *Runtime) execCgroup(id string, m *cgroups.Manager, args []string, subs map[string]string, pid int) error {
	err := applyExecCgroup(m, subs, pid)
	if err == nil || !(m.Rootless || m.UserManager) || !errors.Is(err, os.ErrPermission) {
		return err
	}
	if m.UserManager {
		sub := ""
		if len(args) == 1 {
			sub = args[0]
		}
		bus, cerr := systemd.Connect(true)
		if cerr == nil {
			cerr = systemd.Attach(bus, m, sub, pid)
			bus.Close()
		}
		if cerr == nil {
			return nil
		}
		err = errors.Join(err, cerr)
	}
	// The error names each cgroup.procs that refused the process.
	r.Log.Warn("exec: rootless: the process stays in the caller's cgroup, not the container's: "+
		strings.ReplaceAll(err.Error(), "\n", "; ")+" ("+cgroups.AncestorHint+")", "id", id)
	return nil
}

// applyExecCgroup moves an exec'd process into the container's cgroup in
// every hierarchy, or into the sub-cgroups subCgroups found: for a single
// path, in each hierarchy that has it.
func applyExecCgroup(m *cgroups.Manager, subs map[string]string, pid int) error {
	if len(subs) == 0 {
		return m.Apply(pid)
	}
	sm := &cgroups.Manager{Mode: m.Mode, Dirs: map[string]string{}}
	rel, single := subs[""]
	for k, d := range m.Dirs {
		sm.Dirs[k] = d
		if single {
			if _, err := os.Stat(filepath.Join(d, rel)); err == nil {
				sm.Dirs[k] = filepath.Join(d, rel)
			}
		} else if sd, ok := subs[k]; ok {
			sm.Dirs[k] = sd
		}
	}
	return sm.Apply(pid)
}

// ExecInit is the exec helper inside the container: it is already in
// every namespace (root and cwd are the container's), non-dumpable since
// its first instruction. It becomes the process. It never returns.
func ExecInit() {
	runtime.LockOSThread()
	// This thread execs the process: it gets the caller's timer slack,
	// not the runtime's.
	timerslack.Restore()
	conn, _ := childStart(execEnv, 0)
	if err := execSetup(conn); err != nil {
		conn.SendError(err)
		os.Exit(1)
	}
	os.Exit(1)
}

func execSetup(conn *ipc.Conn) error {
	msg, _, err := conn.Expect(ipc.Bootstrap)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	var cfg ExecConfig
	if err := flat.Unmarshal(msg.Flat, &cfg); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	p := cfg.Process
	if p.Terminal {
		master, err := console.Setup(p.ConsoleSize, false)
		if err != nil {
			return fmt.Errorf("process.terminal: %w", err)
		}
		if cfg.ClearONLCR {
			// Before the process can write: see console.ClearONLCR.
			if err := console.ClearONLCR(master); err != nil {
				master.Close()
				return err
			}
		}
		err = conn.Send(ipc.Message{Kind: ipc.Console}, int(master.Fd()))
		master.Close()
		if err != nil {
			return err
		}
	}
	w := &waitingInit{
		cfg:      &InitConfig{PreserveFDs: cfg.PreserveFDs},
		spec:     &specs.Spec{Process: &p, Linux: &specs.Linux{Personality: cfg.Personality, MemoryPolicy: cfg.MemoryPolicy}},
		filter:   cfg.Seccomp,
		listener: -1,
		procfd:   -1,
	}
	if p.ApparmorProfile != "" || p.SelinuxLabel != "" {
		// The attributes are written through a procfs of the helper's
		// own, not the container's /proc (see package lsm).
		if w.procfd, err = procfs.Open(); err != nil {
			return err
		}
	}
	err = w.dropPrivileges()
	if w.procfd >= 0 {
		unix.Close(w.procfd)
	}
	if err != nil {
		return err
	}
	if err := w.sendListener(conn); err != nil {
		return err
	}
	if err := process.SetRlimits(p.Rlimits); err != nil {
		return err
	}
	if a := p.ExecCPUAffinity; a != nil && a.Final != "" {
		if err := process.SetAffinity(0, a.Final); err != nil {
			return fmt.Errorf("process.execCPUAffinity.final %q: %w", a.Final, err)
		}
	}
	if err := conn.Send(ipc.Message{Kind: ipc.Ready}); err != nil {
		return err
	}
	if cfg.WaitToExec {
		// Frozen with the container until it is resumed.
		if _, _, err := conn.Expect(ipc.Proceed); err != nil {
			return err
		}
	}
	if err := markCloseOnExec(3 + cfg.PreserveFDs); err != nil {
		return err
	}
	if p.NoNewPrivileges {
		// Last before execve, as for init (see loadSeccomp); without
		// no_new_privs dropPrivileges loaded it.
		if err := w.loadSeccomp(); err != nil {
			return err
		}
	}
	err = syscall.Exec(w.argv0, p.Args, w.env)
	return fmt.Errorf("exec %s: %w", w.argv0, err)
}
