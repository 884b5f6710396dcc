package container

import (
	"fmt"
	"os"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/carapace-oci/carapace/libcarapace/cgroups"
	"github.com/carapace-oci/carapace/libcarapace/cgroups/systemd"
	"github.com/carapace-oci/carapace/libcarapace/check"
	"github.com/carapace-oci/carapace/libcarapace/config"
	"github.com/carapace-oci/carapace/libcarapace/kernel"
	"github.com/carapace-oci/carapace/libcarapace/namespaces"
	"github.com/carapace-oci/carapace/libcarapace/process"
	"github.com/carapace-oci/carapace/libcarapace/seccomp"
)

// CheckBundle runs a bundle through what create decides before it starts
// anything, with create's own functions, and makes nothing: each setting
// this host cannot honour is one error, worded as create's. Where create
// stops at the first, this goes on to the next decision; a config.json
// that does not load ends the check, as nothing after can be judged.
//
// What create only learns by acting (a seccomp flag at load, a namespace
// at clone, a cgroup file at write) is
// tried here on the host instead: the seccomp flags the kernel accepts,
// each new namespace in a throwaway child, the cgroup files in a
// throwaway cgroup (cgroups.Manager.Probe).
func (r *Runtime) CheckBundle(bundle string) (*config.Bundle, []error) {
	var errs []error
	if r.SystemdCgroup && !systemd.Available() {
		errs = append(errs, fmt.Errorf("--systemd-cgroup: %w", systemd.ErrNotRunning))
	}
	if err := kernel.Check(); err != nil {
		errs = append(errs, err)
	}
	b, err := config.Load(bundle)
	if err != nil {
		return nil, append(errs, err)
	}
	spec := b.Spec
	if err := process.CheckRlimits(spec.Process.Rlimits); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", config.Name, err))
	}
	if err := checkLSM(spec.Process, spec.Linux.MountLabel); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", config.Name, err))
	}
	if sc := spec.Linux.Seccomp; sc != nil {
		if _, err := seccomp.Compile(sc, r.Log); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", config.Name, err))
		}
		supported := seccomp.SupportedFlags()
		for i, f := range sc.Flags {
			if !slices.Contains(supported, string(f)) {
				errs = append(errs, fmt.Errorf("%s: linux.seccomp.flags[%d]: %q: this kernel does not accept the flag (seccomp(2) EINVAL when init loads the filter)", config.Name, i, f))
			}
		}
	}
	plan := namespaces.NewPlan(spec.Linux.Namespaces)
	for i, ns := range spec.Linux.Namespaces {
		if !plan.IsNew(ns.Type) {
			continue
		}
		flag, _ := namespaces.CloneFlag(ns.Type)
		if err := check.TryClone(flag); err != nil {
			errs = append(errs, fmt.Errorf("%s: linux.namespaces[%d].type %q: this host cannot make one: %w", config.Name, i, ns.Type, err))
		}
	}
	errs = append(errs, r.checkCgroups(spec)...)
	return b, errs
}

// checkCgroups is create's cgroup decisions without the writes.
func (r *Runtime) checkCgroups(spec *specs.Spec) []error {
	var cg *cgroups.Manager
	var err error
	id := "check-" + fmt.Sprint(os.Getpid())
	var bus systemd.Bus
	switch {
	case r.SystemdCgroup && r.Rootless:
		// The unit's place is the user instance's to say.
		if !systemd.Available() {
			return nil // reported first: nothing of the unit can be judged
		}
		if bus, err = systemd.Connect(true); err != nil {
			return []error{err}
		}
		defer bus.Close()
		cg, err = systemd.NewUserManager(bus, spec.Linux.CgroupsPath, id)
	case r.SystemdCgroup:
		cg, err = systemd.NewManager(spec.Linux.CgroupsPath, id)
	default:
		cg, err = cgroups.NewManager(spec.Linux.CgroupsPath, id)
	}
	if err != nil {
		return []error{fmt.Errorf("%s: %w", config.Name, err)}
	}
	if err := cg.CheckReusable(); err != nil {
		return []error{fmt.Errorf("%s: linux.cgroupsPath: %w", config.Name, err)}
	}
	res := cgroupResources(spec)
	if cg.Unit != "" {
		if bus == nil {
			if !systemd.Available() {
				return nil // reported first: nothing of the unit can be judged
			}
			if bus, err = systemd.Connect(false); err != nil {
				return []error{err}
			}
			defer bus.Close()
		}
		if _, res, err = systemd.Props(bus, cg, res); err != nil {
			return []error{fmt.Errorf("%s: %w", config.Name, err)}
		}
	}
	var errs []error
	for _, err := range cg.Probe(res) {
		errs = append(errs, fmt.Errorf("%s: %w", config.Name, err))
	}
	return errs
}
