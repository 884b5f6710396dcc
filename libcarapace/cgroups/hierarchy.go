// Package cgroups finds the host's cgroup hierarchies (v1, v2 or hybrid)
// and places a container in its cgroup in each of them.
package cgroups

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	return parseMountinfo(b), nil
}

func parseMountinfo(b []byte) []Hierarchy {
	var hs []Hierarchy
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		pf := strings.Fields(pre)
		qf := strings.Fields(post)
		if len(pf) < 5 || len(qf) < 3 {
			continue
		}
		fstype := qf[0]
		if fstype != "cgroup" && fstype != "cgroup2" {
			continue
		}
		h := Hierarchy{Mountpoint: unescape(pf[4]), Root: unescape(pf[3]), V2: fstype == "cgroup2"}
		if !h.V2 {
			for _, o := range strings.Split(qf[2], ",") {
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
		key := fstype + ":" + h.Name()
		if seen[key] {
			continue
		}
		seen[key] = true
		hs = append(hs, h)
	}
	return hs
}

func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var out strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var c byte
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &c); err == nil {
				out.WriteByte(c)
				i += 3
				continue
			}
		}
		out.WriteByte(s[i])
	}
	return out.String()
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
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		m[parts[1]] = parts[2]
	}
	return m, nil
}
