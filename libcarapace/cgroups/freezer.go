package cgroups

import (
	"fmt"
	"strings"
	"time"

	"github.com/carapace-oci/carapace/libcarapace/faultpoint"
)

// Freeze stops (or with false, resumes) every process in the cgroup, and
// waits until the kernel says it is done.
func (m *Manager) Freeze(freeze bool) error {
	if dir := m.V2Dir(); m.Mode == ModeV2 {
		v, want := "0", "frozen 0"
		if freeze {
			v, want = "1", "frozen 1"
		}
		if err := writeFile(dir, "cgroup.freeze", v); err != nil {
			return err
		}
		faultpoint.Hit("cgroups:freeze-written")
		return waitFor(func() bool {
			ev, err := readFile(dir, "cgroup.events")
			return err == nil && strings.Contains(ev, want)
		})
	}
	dir, ok := m.Dir("freezer")
	if !ok {
		return fmt.Errorf("this host has no freezer cgroup controller")
	}
	v := "THAWED"
	if freeze {
		v = "FROZEN"
	}
	// A freeze can stall while a task is in the middle of something;
	// writing the state again nudges it along.
	return waitFor(func() bool {
		if err := writeFile(dir, "freezer.state", v); err != nil {
			return false
		}
		faultpoint.Hit("cgroups:freeze-written")
		got, err := readFile(dir, "freezer.state")
		return err == nil && got == v
	})
}

// Frozen reports whether the cgroup is frozen (or freezing).
func (m *Manager) Frozen() bool {
	if m.Mode == ModeV2 {
		v, err := readFile(m.V2Dir(), "cgroup.freeze")
		return err == nil && v == "1"
	}
	dir, ok := m.Dir("freezer")
	if !ok {
		return false
	}
	v, err := readFile(dir, "freezer.state")
	return err == nil && (v == "FROZEN" || v == "FREEZING")
}

// CheckThawed fails when the container's cgroup is frozen, by its own
// freezer or an ancestor's (v1 freezer.state and v2 cgroup.events show
// both; cgroup.freeze only its own): a process in it cannot go on, and a
// runtime waiting for one would wait for ever. A cgroup not made yet is
// not frozen.
func (m *Manager) CheckThawed() error {
	if m.Mode == ModeV2 {
		dir := m.V2Dir()
		if dir == "" {
			return nil
		}
		ev, err := readFile(dir, "cgroup.events")
		if err == nil && strings.Contains("\n"+ev+"\n", "\nfrozen 1\n") {
			return fmt.Errorf("cgroup %s is frozen (cgroup.events: frozen 1; by its own cgroup.freeze or an ancestor's)", dir)
		}
		return nil
	}
	dir, ok := m.Dir("freezer")
	if !ok {
		return nil
	}
	if v, err := readFile(dir, "freezer.state"); err == nil && v != "THAWED" {
		return fmt.Errorf("cgroup %s is %s (by its own freezer or an ancestor's)", dir, v)
	}
	return nil
}

func waitFor(done func() bool) error {
	deadline := time.Now().Add(5 * time.Second)
	for delay := 100 * time.Microsecond; ; delay *= 2 {
		if done() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroup freezer did not settle within 5s")
		}
		time.Sleep(min(delay, 50*time.Millisecond))
	}
}

// Kill signals every process of the cgroup at once where the kernel can
// (cgroup.kill, v2, SIGKILL only); it reports false when it cannot.
func (m *Manager) Kill() bool {
	if dir := m.V2Dir(); m.Mode == ModeV2 {
		return writeFile(dir, "cgroup.kill", "1") == nil
	}
	return false
}
