package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/cgroups"
	"github.com/carapace-oci/carapace/libcarapace/cgroups/systemd"
	"github.com/carapace-oci/carapace/libcarapace/faultpoint"
	"github.com/carapace-oci/carapace/libcarapace/state"
)

// loadWithCgroup loads a container that must have a cgroup.
func (r *Runtime) loadWithCgroup(id string) (*state.State, error) {
	st, err := r.Load(id)
	if err != nil {
		return nil, err
	}
	if st.Cgroup == nil {
		return nil, fmt.Errorf("container %q has no cgroup: %w", id, errNoCgroup)
	}
	return st, nil
}

// lockedWithCgroup runs f on a container that has a cgroup, holding its lock.
func (r *Runtime) lockedWithCgroup(id string, f func(*state.State) error) error {
	unlock, err := r.Store.Lock(id)
	if err != nil {
		return err
	}
	defer unlock()
	st, err := r.loadWithCgroup(id)
	if err != nil {
		return err
	}
	return f(st)
}

// Pause freezes every process of a running container.
func (r *Runtime) Pause(id string) error {
	return r.lockedWithCgroup(id, func(st *state.State) error {
		if s := r.Store.Status(st); s != state.Running && s != state.Created {
			return fmt.Errorf("container %q is %s: only a running container can be paused", id, s)
		}
		faultpoint.Hit("pause:locked")
		return st.Cgroup.Freeze(true)
	})
}

// Resume thaws a paused container.
func (r *Runtime) Resume(id string) error {
	return r.lockedWithCgroup(id, func(st *state.State) error {
		if s := r.Store.Status(st); s != state.Paused {
			return fmt.Errorf("container %q is %s: only a paused container can be resumed", id, s)
		}
		return st.Cgroup.Freeze(false)
	})
}

// Pids lists the host pids of a container's processes: those in its
// cgroup, also once init has exited (none, or what is left of a container
// without a pid namespace of its own), as runc's ps does.
func (r *Runtime) Pids(id string) ([]int, error) {
	st, err := r.Load(id)
	if err != nil {
		return nil, err
	}
	return r.pids(st)
}

// errNoCgroup explains a container without a cgroup.
var errNoCgroup = errors.New("it was created rootless on a cgroup tree not delegated to its user (delegate one, writable by that user, for pause, resume, update and stats)")

// pids lists a container's processes: those in its cgroup, or without one
// (rootless) those in its own pid namespace, which holds every process of
// the container and nothing else.
func (r *Runtime) pids(st *state.State) ([]int, error) {
	if st.Cgroup != nil {
		return st.Cgroup.Pids()
	}
	if st.SharedPidNS {
		return nil, fmt.Errorf("container %q has no cgroup and no pid namespace of its own: its processes cannot be told from the host's", st.ID)
	}
	if r.Store.Status(st) == state.Stopped {
		return nil, nil
	}
	return pidnsMembers(st.Pid)
}

// Update changes a live container's resource limits. The update is merged
// with the limits in force (see cgroups.Merge), and the merged limits are
// kept for the next update.
func (r *Runtime) Update(id string, res *specs.LinuxResources) error {
	return r.lockedWithCgroup(id, func(st *state.State) error {
		if r.Store.Status(st) == state.Stopped {
			return fmt.Errorf("container %q: %w", id, ErrNotRunning)
		}
		faultpoint.Hit("update:locked")
		write, merged := cgroups.Merge(st.Resources, res)
		if err := checkBeforeUpdate(st.Cgroup, res, merged); err != nil {
			return err
		}
		// Device rules are only changed when given, and then completed as
		// at create: the defaults and the container's linux.devices stay.
		if res.Devices != nil {
			write.Devices = cgroups.DeviceRules(res.Devices, st.Devices)
		}
		if st.Cgroup.Unit != "" {
			// The unit's properties first, checked as the files will be:
			// systemd would otherwise write back its own values over ours.
			bus, err := systemd.Connect(st.Cgroup.UserManager)
			if err != nil {
				return err
			}
			defer bus.Close()
			props, w, err := systemd.Props(bus, st.Cgroup, write)
			if err != nil {
				return err
			}
			if err := st.Cgroup.Check(w); err != nil {
				return err
			}
			if err := systemd.Update(bus, st.Cgroup, props); err != nil {
				return err
			}
			write = w
		}
		if err := st.Cgroup.Set(write); err != nil {
			return err
		}
		faultpoint.Hit("update:written")
		st.Resources = merged
		return r.Store.Save(st)
	})
}

// checkBeforeUpdate refuses, when the update asks for it, memory limits at
// or below the current usage, as runc does: on cgroup v2 only, where the
// kernel would OOM-kill to meet them (v1 refuses such a limit itself, with
// EBUSY), and for the merged memory and memory+swap limits.
func checkBeforeUpdate(cg *cgroups.Manager, upd, merged *specs.LinuxResources) error {
	if cg.Mode != cgroups.ModeV2 || upd.Memory == nil || upd.Memory.CheckBeforeUpdate == nil ||
		!*upd.Memory.CheckBeforeUpdate || merged.Memory == nil {
		return nil
	}
	s, err := cg.Stats()
	if err != nil {
		return nil // best effort, as runc's: no usage to compare with
	}
	usage := s.Memory.Usage.Usage
	for _, l := range []struct {
		field string
		v     *int64
	}{{"memory.swap", merged.Memory.Swap}, {"memory.limit", merged.Memory.Limit}} {
		if l.v != nil && *l.v > 0 && uint64(*l.v) <= usage {
			return fmt.Errorf("linux.resources.%s: %d is not above the current usage %d (checkBeforeUpdate)", l.field, *l.v, usage)
		}
	}
	return nil
}

// Event is one line of `events`, in runc's shape.
type Event struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data any    `json:"data,omitempty"`
}

// Events writes a stats event every interval and an oom event whenever the
// OOM killer strikes, until the container stops. With statsOnce it writes
// one stats event and returns.
func (r *Runtime) Events(id string, interval time.Duration, statsOnce bool, w io.Writer) error {
	st, err := r.loadWithCgroup(id)
	if err != nil {
		return err
	}
	if r.Store.Status(st) == state.Stopped {
		return fmt.Errorf("container %q: %w", id, ErrNotRunning)
	}
	enc := json.NewEncoder(w)
	emitStats := func() error {
		s, err := st.Cgroup.Stats()
		if err != nil {
			return err
		}
		return enc.Encode(Event{Type: "stats", ID: id, Data: s})
	}
	if statsOnce {
		return emitStats()
	}
	if interval <= 0 {
		return errors.New("events: --interval must be positive")
	}
	// OOM kills are looked for as the kernel reports them (see
	// cgroups.OOMWatch) and when init exits, at least every 100 ms; stats
	// come at the interval. Each OOM is reported once, seen as a rise of
	// the kill counter or (v1) as the kernel's notification, whichever
	// counts more: the counter goes with the cgroup, which may be removed
	// before it is read (then the kernel's log tells whether init was
	// OOM-killed).
	base := st.Cgroup.OOMKills()
	var kills, notified, reported uint64
	watch, err := st.Cgroup.WatchOOM()
	if err != nil {
		r.Log.Debug("events: no memory event watch, polling", "id", id, "error", err)
		watch = nil
	} else {
		defer watch.Close()
	}
	klog := openOOMLog()
	defer klog.close()
	initfd, err := openInit(st)
	if err != nil {
		return err
	}
	defer unix.Close(initfd)
	poll := min(interval, 100*time.Millisecond)
	next := time.Now()
	for {
		alive := state.Alive(st.Pid, st.StartTime)
		if !alive && watch != nil {
			// What the kernel notified before init went counts too.
			n, err := watch.Wait(0, -1)
			if err != nil {
				return err
			}
			notified += n
		}
		n, err := st.Cgroup.OOMKillCount()
		if n > base+kills {
			kills = n - base
		}
		if !alive && err != nil && reported == 0 && klog.killed(st.Pid) {
			// init is gone, and its cgroup (systemd's scope) before
			// init's OOM kill could be read: the kernel's log still
			// tells. Only when nothing was reported: a kill already
			// counted would be told twice.
			kills++
		}
		for ; reported < max(kills, notified); reported++ {
			if err := enc.Encode(Event{Type: "oom", ID: id}); err != nil {
				return err
			}
		}
		if !alive {
			return nil
		}
		if !time.Now().Before(next) {
			if err := emitStats(); err != nil {
				return err
			}
			next = time.Now().Add(interval)
		}
		if watch == nil {
			time.Sleep(poll)
			continue
		}
		woke, err := watch.Wait(poll, initfd)
		if err != nil {
			return err
		}
		notified += woke
	}
}
