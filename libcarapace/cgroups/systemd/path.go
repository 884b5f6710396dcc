// Package systemd is the systemd cgroup driver (--systemd-cgroup): the
// container's cgroup is a transient scope unit that systemd makes with the
// container's init in it, delegated to the container, with the limits
// systemd can express as unit properties; the rest is written to the
// unit's cgroup files by package cgroups, which also does every
// file-based operation (freeze, pids, kill, stats) on the unit's
// directories.
//
// It only talks to systemd through Bus, so that the order of work at
// create, update and delete is unit-tested with a fake one.
package systemd

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/carapace-oci/carapace/libcarapace/cgroups"
)

// ErrNotRunning is what --systemd-cgroup gets on a host that systemd did
// not boot.
var ErrNotRunning = errors.New("systemd is not running on this host (no /run/systemd/system)")

// Available reports whether systemd is the host's init, as sd_booted(3)
// tells: /run/systemd/system is a directory.
func Available() bool {
	fi, err := os.Lstat("/run/systemd/system")
	return err == nil && fi.IsDir()
}

// DefaultSlice holds the containers whose cgroupsPath names no slice;
// UserDefaultSlice holds them in a user's instance (runc's defaults).
const (
	DefaultSlice     = "system.slice"
	UserDefaultSlice = "user.slice"
)

// ParsePath reads linux.cgroupsPath as runc's systemd driver does:
// "slice:prefix:name" is the unit "prefix-name.scope" in slice (the
// default slice when empty), or, when name is itself a slice, that slice.
// An empty path is "system.slice:carapace:<id>".
func ParsePath(cgroupsPath, id string) (slice, unit string, err error) {
	return parsePath(cgroupsPath, id, DefaultSlice)
}

func parsePath(cgroupsPath, id, defaultSlice string) (slice, unit string, err error) {
	if cgroupsPath == "" {
		return defaultSlice, "carapace-" + id + ".scope", nil
	}
	parts := strings.Split(cgroupsPath, ":")
	if len(parts) != 3 {
		return "", "", fmt.Errorf("linux.cgroupsPath %q: with --systemd-cgroup it must be \"slice:prefix:name\" (e.g. \"system.slice:docker:<id>\")", cgroupsPath)
	}
	slice, prefix, name := parts[0], parts[1], parts[2]
	if slice == "" {
		slice = defaultSlice
	}
	if _, err := ExpandSlice(slice); err != nil {
		return "", "", fmt.Errorf("linux.cgroupsPath %q: %w", cgroupsPath, err)
	}
	if name == "" {
		return "", "", fmt.Errorf("linux.cgroupsPath %q: the name (after the second colon) is empty", cgroupsPath)
	}
	if strings.HasSuffix(name, ".slice") {
		// A slice of its own (kubelet's pod slices), parented by slice.
		if _, err := ExpandSlice(name); err != nil {
			return "", "", fmt.Errorf("linux.cgroupsPath %q: %w", cgroupsPath, err)
		}
		unit = name
	} else {
		unit = prefix + "-" + name + ".scope"
		if prefix == "" {
			unit = name + ".scope"
		}
	}
	if strings.ContainsAny(unit, "/\\") || unit == ".scope" {
		return "", "", fmt.Errorf("linux.cgroupsPath %q: %q is not a unit name", cgroupsPath, unit)
	}
	return slice, unit, nil
}

// ExpandSlice gives the cgroup path of a slice unit: systemd nests slices
// by their dashes, so "a-b-c.slice" is /a.slice/a-b.slice/a-b-c.slice, and
// "-.slice" is the root.
func ExpandSlice(slice string) (string, error) {
	name, ok := strings.CutSuffix(slice, ".slice")
	if !ok || name == "" || strings.Contains(slice, "/") {
		return "", fmt.Errorf("slice %q: not a slice unit name (NAME.slice, no \"/\")", slice)
	}
	if name == "-" {
		return "/", nil
	}
	var p, prefix strings.Builder
	for _, c := range strings.Split(name, "-") {
		if c == "" {
			return "", fmt.Errorf("slice %q: empty component between dashes", slice)
		}
		p.WriteString("/" + prefix.String() + c + ".slice")
		prefix.WriteString(c + "-")
	}
	return p.String(), nil
}

// UnitPath is the unit's cgroup path from the hierarchy's root: the
// expanded slice, then the unit (a slice unit is its own expansion).
func UnitPath(slice, unit string) (string, error) {
	if strings.HasSuffix(unit, ".slice") {
		return ExpandSlice(unit)
	}
	s, err := ExpandSlice(slice)
	if err != nil {
		return "", err
	}
	return path.Join(s, unit), nil
}

// NewManager is the container's cgroup under the systemd driver: the
// unit's directory in every hierarchy (systemd's v1 layout has the same
// path in each controller's hierarchy), with the unit recorded so that
// later verbs find it.
func NewManager(cgroupsPath, id string) (*cgroups.Manager, error) {
	slice, unit, err := ParsePath(cgroupsPath, id)
	if err != nil {
		return nil, err
	}
	p, err := UnitPath(slice, unit)
	if err != nil {
		return nil, fmt.Errorf("linux.cgroupsPath %q: %w", cgroupsPath, err)
	}
	m, err := cgroups.NewManager(p, id)
	if err != nil {
		return nil, err
	}
	m.Unit, m.Slice = unit, slice
	return m, nil
}

// NewUserManager is NewManager for a rootless container under the
// caller's systemd user instance (bus): its slices are the instance's
// own, under the instance's cgroup (user@UID.service), which systemd
// delegates to the user; the default slice is user.slice, as runc's. Only
// on cgroup v2: systemd delegates no v1 hierarchy to a user's instance.
func NewUserManager(bus Bus, cgroupsPath, id string) (*cgroups.Manager, error) {
	slice, unit, err := parsePath(cgroupsPath, id, UserDefaultSlice)
	if err != nil {
		return nil, err
	}
	p, err := UnitPath(slice, unit)
	if err != nil {
		return nil, fmt.Errorf("linux.cgroupsPath %q: %w", cgroupsPath, err)
	}
	top, err := bus.ManagerCgroup()
	if err != nil {
		return nil, fmt.Errorf("--systemd-cgroup (rootless): the user instance's cgroup: %w", err)
	}
	if !path.IsAbs(top) {
		return nil, fmt.Errorf("--systemd-cgroup (rootless): the user instance's cgroup is %q, not a path", top)
	}
	m, err := cgroups.NewManager(path.Join(top, p), id)
	if err != nil {
		return nil, err
	}
	if m.Mode != cgroups.ModeV2 {
		return nil, errors.New("--systemd-cgroup with --rootless needs cgroup v2: systemd delegates no cgroup v1 hierarchy to a user's instance (use the cgroupfs driver, or boot with systemd.unified_cgroup_hierarchy=1)")
	}
	m.Unit, m.Slice, m.UserManager = unit, slice, true
	return m, nil
}
