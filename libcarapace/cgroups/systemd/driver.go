package systemd

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/carapace-oci/carapace/libcarapace/cgroups"
)

// Bus is what the driver asks of systemd. The real one is D-Bus (Connect);
// tests give a fake.
type Bus interface {
	// StartUnit starts a transient unit and waits for its job: an error
	// wrapping ErrUnitExists if a unit of that name is loaded, a *JobError
	// if the job did not end "done".
	StartUnit(name string, props []Property) error
	// StopUnit stops a unit and waits for its job; a unit that is not
	// loaded is already stopped.
	StopUnit(name string) error
	// ResetFailed makes systemd forget a failed unit (no error if the
	// unit is not loaded or not failed).
	ResetFailed(name string) error
	// SetProperties changes a running unit's properties.
	SetProperties(name string, props []Property) error
	// AttachProcesses moves running processes into a unit's cgroup (or
	// its sub-cgroup subcgroup, "" for the unit's own). A user's instance
	// that may not move them itself asks the system instance to, which
	// lets a user move its own processes into its instance's units.
	AttachProcesses(unit, subcgroup string, pids []uint32) error
	// ManagerCgroup is the cgroup of the systemd instance itself, from
	// the hierarchy's root: "/" for the system instance,
	// "/user.slice/user-UID.slice/user@UID.service" for a user's.
	ManagerCgroup() (string, error)
	// Version is systemd's version number, -1 if unknown.
	Version() int
	Close()
}

// ErrUnitExists is a unit of the name already loaded.
var ErrUnitExists = errors.New("a unit of that name is already loaded")

// JobError is a job that ended other than "done" ("failed", "timeout",
// "canceled", "dependency", "skipped").
type JobError struct{ Result string }

func (e *JobError) Error() string { return "the job ended " + e.Result }

// Start makes the container's unit with init (pid) in it and the
// properties of r that systemd can express (props, from Properties), then
// makes the container's directories systemd did not (v1 hierarchies it
// does not manage) and places init there too. The caller then writes the
// rest of the limits to the files (Manager.Set).
//
// A unit of the same name left failed by an earlier container is reset
// and the start tried once more; any failure leaves no unit behind.
func Start(bus Bus, m *cgroups.Manager, id string, pid int, props []Property) error {
	all := append(UnitProperties(m, id, pid), props...)
	err := bus.StartUnit(m.Unit, all)
	if errors.Is(err, ErrUnitExists) {
		bus.ResetFailed(m.Unit)
		err = bus.StartUnit(m.Unit, all)
	}
	if err != nil {
		var je *JobError
		if errors.As(err, &je) {
			// systemd keeps a failed unit loaded until told to forget it.
			bus.ResetFailed(m.Unit)
		}
		return fmt.Errorf("--systemd-cgroup: start unit %s in %s: %w", m.Unit, m.Slice, err)
	}
	if err := m.Create(); err != nil {
		return err
	}
	return m.Apply(pid)
}

// Update sets a live container's unit properties for r, then the caller
// writes r's files. Device rules make systemd rewrite the device
// restriction, during which a running container could be refused devices
// it may use: it is frozen meanwhile (unless paused already), as runc does.
func Update(bus Bus, m *cgroups.Manager, props []Property) error {
	if len(props) == 0 {
		return nil
	}
	if slices.ContainsFunc(props, func(p Property) bool { return p.Name == "DeviceAllow" }) && !m.Frozen() {
		if err := m.Freeze(true); err == nil {
			defer m.Freeze(false)
		}
	}
	if err := bus.SetProperties(m.Unit, props); err != nil {
		return fmt.Errorf("--systemd-cgroup: set properties of unit %s: %w", m.Unit, err)
	}
	return nil
}

// Stop stops the container's unit (systemd kills what is left in it and
// removes its cgroups) and resets it if it failed, then removes what the
// container made itself. Nothing of the unit remains.
func Stop(bus Bus, m *cgroups.Manager) error {
	var errs []error
	if err := bus.StopUnit(m.Unit); err != nil {
		var je *JobError
		if !errors.As(err, &je) {
			errs = append(errs, fmt.Errorf("--systemd-cgroup: stop unit %s: %w", m.Unit, err))
		}
	}
	bus.ResetFailed(m.Unit)
	if err := m.Destroy(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Props computes the properties of r for this container's unit, and the
// resources to write to the files (Properties).
func Props(bus Bus, m *cgroups.Manager, r *specs.LinuxResources) ([]Property, *specs.LinuxResources, error) {
	return Properties(r, m.Mode, bus.Version())
}

// Attach moves pid into the container's unit, or its sub-cgroup sub
// (relative), through systemd: for an exec'd process of a rootless
// container whose runtime runs outside the user instance's cgroup, where
// cgroup v2 lets the user write to neither the container's cgroup.procs
// (it would need write access to the common ancestor) nor clone3 into it.
func Attach(bus Bus, m *cgroups.Manager, sub string, pid int) error {
	if sub != "" && !strings.HasPrefix(sub, "/") {
		sub = "/" + sub
	}
	if err := bus.AttachProcesses(m.Unit, sub, []uint32{uint32(pid)}); err != nil {
		return fmt.Errorf("--systemd-cgroup: attach process %d to unit %s: %w", pid, m.Unit, err)
	}
	return nil
}
