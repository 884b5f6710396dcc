// Package cgroups finds the host's cgroup hierarchies (v1, v2 or hybrid)
// and places a container in its cgroup in each of them.
package cgroups

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/carapace-oci/carapace/libcarapace/mountinfo"
)

// Hierarchy is one mounted cgroup hierarchy.
type Hierarchy struct {
	Mountpoint  string   // e.g. /sys/fs/cgroup/memory
	Root        string   // the cgroup the mount shows as its root
	V2          bool     // cgroup2
	Controllers []string // v1: the controllers (and name=...) bound to it
}

// Name is how the hierarchy is told apart in /proc/<pid>/cgroup: the
// comma-joined controllers for v1, "" for v2.
func (h Hierarchy) Name() string { return strings.Join(h.Controllers, ",") }

// Mode is the host's cgroup layout.
type Mode int

const (
	ModeNone   Mode = iota
	ModeV1          // only v1 hierarchies
	ModeHybrid      // v1 controllers plus a cgroup2 mount
	ModeV2          // a single cgroup2 hierarchy
)

func (m Mode) String() string {
	return [...]string{"none", "v1", "hybrid", "v2"}[m]
}

// Hierarchies reads the cgroup mounts from /proc/self/mountinfo, one per
// hierarchy (the first mount of each).
func Hierarchies() ([]Hierarchy, error) {
	ms, err := mountinfo.Self()
	if err != nil {
		return nil, err
	}
	return hierarchies(ms), nil
}

func hierarchies(ms []mountinfo.Mount) []Hierarchy {
	var hs []Hierarchy
	seen := map[string]bool{}
	for _, m := range ms {
		if m.FSType != "cgroup" && m.FSType != "cgroup2" || m.SuperOptions == "" {
			continue // not a cgroup, or a line cut short
		}
		h := Hierarchy{Mountpoint: m.Point, Root: m.Root, V2: m.FSType == "cgroup2"}
		if !h.V2 {
			for _, o := range strings.Split(m.SuperOptions, ",") {
				switch o {
				case "rw", "ro", "xattr", "noprefix", "clone_children", "cpuset_v2_mode", "favordynmods":
				default:
					if strings.HasPrefix(o, "release_agent=") {
						continue
					}
					h.Controllers = append(h.Controllers, o)
				}
			}
		}
		key := m.FSType + ":" + h.Name()
		if seen[key] {
			continue
		}
		seen[key] = true
		hs = append(hs, h)
	}
	return hs
}

// DetectMode classifies a set of hierarchies.
func DetectMode(hs []Hierarchy) Mode {
	var v1, v2 bool
	for _, h := range hs {
		if h.V2 {
			v2 = true
		} else {
			v1 = true
		}
	}
	switch {
	case v1 && v2:
		return ModeHybrid
	case v1:
		return ModeV1
	case v2:
		return ModeV2
	}
	return ModeNone
}

// ProcCgroups parses /proc/<pid>/cgroup into hierarchy name -> path ("" is
// the v2 hierarchy).
func ProcCgroups(pid string) (map[string]string, error) {
	b, err := os.ReadFile(filepath.Join("/proc", pid, "cgroup"))
	if err != nil {
		return nil, err
	}
	return parseProcCgroups(b), nil
}

// parseProcCgroups reads /proc/<pid>/cgroup text ("id:controllers:path"
// lines); lines of another shape are skipped.
func parseProcCgroups(b []byte) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		m[parts[1]] = parts[2]
	}
	return m
}
