package container

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/cgroups"
	"github.com/carapace-oci/carapace/libcarapace/cgroups/systemd"
	"github.com/carapace-oci/carapace/libcarapace/faultpoint"
	"github.com/carapace-oci/carapace/libcarapace/hooks"
	"github.com/carapace-oci/carapace/libcarapace/ipc"
	"github.com/carapace-oci/carapace/libcarapace/notify"
	"github.com/carapace-oci/carapace/libcarapace/state"
)

// Start releases a created container's init, which execs the process.
func (r *Runtime) Start(id string) error {
	unlock, err := r.Store.Lock(id)
	if err != nil {
		return err
	}
	defer unlock()
	st, err := r.Load(id)
	if err != nil {
		return err
	}
	if s := r.Store.Status(st); s != state.Created {
		return fmt.Errorf("container %q is %s: only a created container can be started", id, s)
	}
	faultpoint.Hit("start:locked")
	return r.start(st)
}

// openInit returns a pidfd on the container's init, checked against the
// recorded start time so that a recycled pid is never taken for it. A gone
// init is ErrNotRunning.
func openInit(st *state.State) (int, error) {
	pidfd, err := unix.PidfdOpen(st.Pid, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return -1, fmt.Errorf("container %q: %w", st.ID, ErrNotRunning)
		}
		return -1, fmt.Errorf("pidfd_open %d: %w", st.Pid, err)
	}
	if !state.Alive(st.Pid, st.StartTime) {
		unix.Close(pidfd)
		return -1, fmt.Errorf("container %q: %w", st.ID, ErrNotRunning)
	}
	return pidfd, nil
}

func (r *Runtime) start(st *state.State) error {
	pidfd, err := openInit(st)
	if err != nil {
		return err
	}
	defer unix.Close(pidfd)
	var nl *notify.Listener
	if st.NotifySocket != "" {
		// Bound before the process runs, so no notification is lost.
		if nl, err = notify.Listen(r.Store.Dir(st.ID)); err != nil {
			return err
		}
		defer nl.Close()
	}
	stuck := func() error { return nil }
	if st.Cgroup != nil {
		stuck = st.Cgroup.CheckThawed
	}
	// Refused before the fifo is opened: init would exec the process
	// whenever it is thawed, started by nobody.
	if err := stuck(); err != nil {
		return fmt.Errorf("container %q: cannot start: %w", st.ID, err)
	}
	out, err := readFifo(r.Store.FifoPath(st.ID), pidfd, stuck)
	if err != nil {
		return fmt.Errorf("container %q: %w", st.ID, err)
	}
	faultpoint.Hit("start:released")
	os.Remove(r.Store.FifoPath(st.ID))
	if msg := strings.TrimSpace(string(out[1:])); msg != "" {
		return fmt.Errorf("start container %q: %s", st.ID, msg)
	}
	if err := r.runPoststart(st); err != nil {
		return err
	}
	faultpoint.Hit("start:poststart-ran")
	if nl != nil {
		// As runc: start returns when the container says it is ready.
		if err := nl.WaitReady(pidfd, st.Pid, st.NotifySocket); err != nil {
			return fmt.Errorf("container %q: sd_notify: %w", st.ID, err)
		}
	}
	return nil
}

// readFifo releases init and reads what it says until the exec closes its
// end. The fifo is opened without blocking, which already lets init's
// blocked open for writing complete; a dead init shows as an exited pidfd
// with nothing ever written. An init that neither answers nor dies is
// asked about through stuck (its cgroup frozen), whose error ends the wait.
func readFifo(path string, pidfd int, stuck func() error) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open exec fifo: %w", err)
	}
	defer unix.Close(fd)
	var out []byte
	buf := make([]byte, 4096)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(pidfd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, int(ipc.WatchInterval.Milliseconds()))
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			return nil, fmt.Errorf("poll exec fifo: %w", err)
		}
		if n == 0 {
			if err := stuck(); err != nil {
				return nil, fmt.Errorf("init cannot start the process: %w", err)
			}
			continue
		}
		if fds[0].Revents != 0 {
			n, err := unix.Read(fd, buf)
			switch {
			case err == unix.EAGAIN || err == unix.EINTR:
				continue
			case err != nil:
				return nil, fmt.Errorf("read exec fifo: %w", err)
			case n == 0:
				if len(out) == 0 {
					return nil, errors.New("init exited before start")
				}
				return out, nil
			}
			out = append(out, buf[:n]...)
			// Once init is past the fifo, only its end closing matters.
			fds = fds[:1]
			continue
		}
		if len(fds) > 1 && fds[1].Revents != 0 {
			return nil, errors.New("init exited before start")
		}
	}
}

// runPoststart runs after the process was exec'd. A failing hook is an
// error that stops the container, as runtime-spec 1.3 says ("generate an
// error, stop the container") and runc 1.5 does: the later hooks do not
// run, and what the container runs is killed.
func (r *Runtime) runPoststart(st *state.State) error {
	// The process may be gone already; the hooks still see the container
	// as it was when they were due: running, with its pid.
	oci := r.Store.OCI(st)
	oci.Status, oci.Pid = specs.StateRunning, st.Pid
	err := hooks.Run(st.Hooks, hooks.Poststart, oci)
	if err == nil {
		return nil
	}
	if kerr := r.killAll(st, unix.SIGKILL); kerr != nil && !errors.Is(kerr, ErrNotRunning) {
		r.Log.Warn("stopping the container after a failed poststart hook", "id", st.ID, "error", kerr)
	}
	return fmt.Errorf("start container %q: %w", st.ID, err)
}

// ErrNotRunning is returned for signals to a stopped container. Its text
// is runc's, which containerd's shim matches after a kill to tell an
// already-finished process from a failure (checkKillError in containerd's
// pkg/process): any other text fails a CRI stop of an exited container.
var ErrNotRunning = errors.New("container not running")

// Kill sends a signal to the container's init, or with all to every
// process in its cgroup.
func (r *Runtime) Kill(id string, sig unix.Signal, all bool) error {
	st, err := r.Load(id)
	var half *HalfCreatedError
	if errors.As(err, &half) {
		half.Kill = true
	}
	if err != nil {
		return err
	}
	if sig == unix.SIGKILL && st.SharedPidNS && st.Cgroup != nil {
		// Without a pid namespace of its own, the container's processes
		// do not die with init: SIGKILL goes to every one of them, as
		// with runc, also when init is already gone.
		if pids, _ := st.Cgroup.Pids(); len(pids) > 0 {
			return r.killAll(st, sig)
		}
	}
	if r.Store.Status(st) == state.Stopped {
		return fmt.Errorf("container %q: %w", id, ErrNotRunning)
	}
	if all {
		return r.killAll(st, sig)
	}
	if err := signalInit(st, sig); err != nil {
		return err
	}
	if sig == unix.SIGKILL {
		thawForKill(st.Cgroup)
	}
	return nil
}

// thawForKill thaws a paused container's cgroup after a SIGKILL, as runc
// does: a task frozen by the v1 freezer does not die until it is thawed
// (on cgroup v2 a fatal signal gets through the freezer). Only SIGKILL:
// other signals leave a paused container paused.
func thawForKill(cg *cgroups.Manager) {
	if cg != nil && cg.Frozen() {
		cg.Freeze(false)
	}
}

// signalInit signals init through a checked pidfd.
func signalInit(st *state.State, sig unix.Signal) error {
	pidfd, err := openInit(st)
	if err != nil {
		return err
	}
	defer unix.Close(pidfd)
	if err := unix.PidfdSendSignal(pidfd, sig, nil, 0); err != nil {
		return fmt.Errorf("signal container %q: %w", st.ID, err)
	}
	return nil
}

func (r *Runtime) killAll(st *state.State, sig unix.Signal) error {
	cg := st.Cgroup
	if cg == nil {
		// Rootless without a cgroup: the pid namespace holds them all.
		pids, err := r.pids(st)
		if err != nil || len(pids) == 0 {
			return signalInit(st, sig)
		}
		return signalEach(pids, sig)
	}
	if sig == unix.SIGKILL && cg.Kill() {
		return nil
	}
	// Frozen, nothing in the cgroup can fork a process the loop misses. A
	// paused container stays paused, as with runc; only SIGKILL thaws it,
	// as with runc, since under the v1 freezer a frozen process dies
	// only once thawed.
	if paused := cg.Frozen(); !paused {
		if cg.Freeze(true) == nil {
			defer cg.Freeze(false)
		}
	} else if sig == unix.SIGKILL {
		defer cg.Freeze(false)
	}
	pids, err := cg.Pids()
	if err != nil || len(pids) == 0 {
		return signalInit(st, sig)
	}
	return signalEach(pids, sig)
}

func signalEach(pids []int, sig unix.Signal) error {
	for _, pid := range pids {
		if err := unix.Kill(pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("signal pid %d: %w", pid, err)
		}
	}
	return nil
}

// Delete removes a stopped container, or with force any container, killing
// what runs in it. What a create killed half-way left is a stopped
// container: delete removes what its record names. When the container's
// cgroup cannot be removed, its state is kept, so that delete can be run
// again once the cgroup is free.
func (r *Runtime) Delete(id string, force bool) error {
	// What a runtime killed before it claimed an id, or after it gave it
	// up, goes with any delete.
	defer r.Store.Sweep()
	unlock, err := r.Store.Lock(id)
	var locked *state.LockedError
	if force && errors.As(err, &locked) && r.killStuckCreate(id, locked.Holder) {
		unlock, err = r.Store.Lock(id)
	}
	if err != nil {
		if force && errors.Is(err, state.ErrNotExist) {
			return nil
		}
		return err
	}
	defer unlock()
	st, err := r.Store.Load(id)
	if errors.Is(err, state.ErrNotExist) {
		// No state, and (the lock is ours) no create at work: one that
		// died before it saved the state.
		if st, err = r.Store.Unsaved(id); err == nil {
			return r.removeHalfCreated(st)
		}
		if force && errors.Is(err, state.ErrNotExist) {
			return nil
		}
	}
	if err != nil {
		return err
	}
	faultpoint.Hit("delete:locked")
	status := r.Store.Status(st)
	if status != state.Stopped {
		if !force {
			return fmt.Errorf("container %q is %s: stop it first or use --force", id, status)
		}
		if err := r.stop(st); err != nil {
			return err
		}
		faultpoint.Hit("delete:killed")
	}
	return r.destroy(st)
}

// killStuckCreate SIGKILLs the create recorded in the container's
// create.json when it is the holder of the lock that delete --force could
// not take (stopped, or not done within state.LockWait), and reports
// whether it is gone. A create killed at any point is recoverable by
// design: delete then removes what its record names. Any other holder (a
// start, an update) is left alone.
func (r *Runtime) killStuckCreate(id string, h state.Holder) bool {
	p, err := r.Store.LoadProgress(id)
	if err != nil || p == nil || p.Creator <= 0 || p.Creator != h.Pid {
		return false
	}
	pidfd, err := unix.PidfdOpen(p.Creator, 0)
	if err != nil {
		return false
	}
	defer unix.Close(pidfd)
	// Checked after the pidfd is open: the pid is the create's, not a
	// recycled one, for as long as the pidfd is.
	if !state.Alive(p.Creator, p.CreatorStart) {
		return false
	}
	if r.Log != nil {
		r.Log.Warn(fmt.Sprintf("create (pid %d) holds the container's lock and is %s: killing it", p.Creator, stuckHow(h)), "id", id)
	}
	if err := unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0); err != nil {
		return false
	}
	return waitGone(pidfd, 10*time.Second)
}

func stuckHow(h state.Holder) string {
	if h.Stopped {
		return "stopped"
	}
	return "not done in " + state.LockWait.String()
}

// removeHalfCreated removes what a create that died before the state was
// saved left, from its record: init, the cgroup (with its systemd unit,
// and whatever still runs in it) and the container's directory.
func (r *Runtime) removeHalfCreated(st *state.State) error {
	if p := st.Partial; p != nil && p.Pid > 0 {
		if pidfd, err := unix.PidfdOpen(p.Pid, 0); err == nil {
			if state.Alive(p.Pid, p.StartTime) {
				unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0)
				thawForKill(st.Cgroup)
				waitGone(pidfd, 10*time.Second)
			}
			unix.Close(pidfd)
		}
	}
	if err := r.removeCgroup(st); err != nil {
		return err
	}
	return r.Store.Remove(st.ID)
}

// removeCgroup kills what is left in the container's cgroup and removes
// it. Its error says that the state is kept.
func (r *Runtime) removeCgroup(st *state.State) error {
	m := st.Cgroup
	if m == nil {
		return nil
	}
	if pids, _ := m.Pids(); len(pids) > 0 {
		for _, pid := range pids {
			unix.Kill(pid, unix.SIGKILL)
		}
		thawForKill(m)
	}
	if err := destroyCgroup(m); err != nil {
		return fmt.Errorf("container %q: %w (its state is kept: delete it again once the cgroup is free)", st.ID, err)
	}
	return nil
}

// waitGone waits, at most timeout, for the process behind pidfd to exit.
func waitGone(pidfd int, timeout time.Duration) bool {
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		n, err := unix.Poll(fds, int(left.Milliseconds())+1)
		if err == unix.EINTR {
			continue
		}
		return err == nil && n > 0
	}
}

// stop kills everything in the container and waits for init to go.
func (r *Runtime) stop(st *state.State) error {
	if st.SharedPidNS {
		r.killAll(st, unix.SIGKILL)
	}
	pidfd, err := openInit(st)
	if errors.Is(err, ErrNotRunning) {
		return nil
	}
	if err != nil {
		return err
	}
	defer unix.Close(pidfd)
	if err := unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("kill container %q: %w", st.ID, err)
	}
	thawForKill(st.Cgroup)
	if !waitGone(pidfd, 10*time.Second) {
		return fmt.Errorf("container %q: init (pid %d) did not exit within 10s of SIGKILL", st.ID, st.Pid)
	}
	return nil
}

// destroy releases what a stopped container still holds and runs the
// poststop hooks, whose failure the spec makes a warning. A cgroup that
// cannot be removed fails it before the hooks, with the state kept.
func (r *Runtime) destroy(st *state.State) error {
	if err := r.removeCgroup(st); err != nil {
		return err
	}
	faultpoint.Hit("delete:cgroup-removed")
	oci := r.Store.OCI(st)
	oci.Status, oci.Pid = specs.StateStopped, 0
	hooks.RunAll(st.Hooks, hooks.Poststop, oci, func(err error) {
		r.Log.Warn("poststop hook failed", "id", st.ID, "error", err)
	})
	faultpoint.Hit("delete:poststop-ran")
	return r.Store.Remove(st.ID)
}

// destroyCgroup removes a container's cgroup: under systemd, by stopping
// its unit first (systemd removes the unit's cgroups with it).
func destroyCgroup(m *cgroups.Manager) error {
	if m.Unit == "" {
		return m.Destroy()
	}
	bus, err := systemd.Connect(m.UserManager)
	if err != nil {
		// An empty scope goes by itself; remove what is ours anyway.
		return errors.Join(err, m.Destroy())
	}
	defer bus.Close()
	return systemd.Stop(bus, m)
}

// List returns the state of every container.
func (r *Runtime) List() ([]*state.State, error) {
	ids, err := r.Store.List()
	if err != nil {
		return nil, err
	}
	var out []*state.State
	for _, id := range ids {
		st, err := r.Store.Inspect(id)
		if err != nil {
			// One container's unreadable state does not hide the others.
			if !errors.Is(err, state.ErrNotExist) {
				r.Log.Warn("list: skipping a container", "id", id, "error", err)
			}
			continue
		}
		out = append(out, st)
	}
	return out, nil
}
