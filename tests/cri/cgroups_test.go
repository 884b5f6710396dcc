package cri

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/carapace-oci/carapace/tests/internal/harness"
)

// The pods' cgroups, as the kubelet lays them out under each cgroup
// driver.
//
// cgroupfs (the default): every pod's cgroup_parent is /<cgParent>, and
// containerd gives each sandbox and container the cgroupsPath
// /<cgParent>/<id>.
//
// systemd (CARAPACE_CRI_SYSTEMD=1, SystemdCgroup = true): cgParent is a
// slice of the node ("carapacecri<pid>.slice", like the kubelet's
// kubepods.slice) and each pod has a slice of its own in it, given as
// cgroup_parent by its full path, as the kubelet does
// ("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid>.slice"):
// "/carapacecri<pid>.slice/carapacecri<pid>-<pod>.slice". containerd's
// CRI turns a parent whose base name ends in ".slice" into the
// cgroupsPath "<base>:cri-containerd:<id>", so every sandbox and
// container is the transient unit cri-containerd-<id>.scope in its pod's
// slice, at /<cgParent>/<pod slice>/cri-containerd-<id>.scope in every
// hierarchy. The kubelet makes and removes the pod slices; here systemd
// makes one when the first scope starts in it, and the pod's removal
// stops it.

// systemdEnv runs the suite under the systemd cgroup driver.
const systemdEnv = "CARAPACE_CRI_SYSTEMD"

// scopePrefix is the prefix containerd's CRI gives every unit.
const scopePrefix = "cri-containerd"

func scopeUnit(id string) string { return scopePrefix + "-" + id + ".scope" }

// podSlice is a pod's slice unit (systemd driver): the node's slice name
// then the pod's name, without the dashes that would make systemd nest
// it deeper.
func (c *node) podSlice(podName string) string {
	return strings.TrimSuffix(c.cgParent, ".slice") + "-" + strings.ReplaceAll(podName, "-", "_") + ".slice"
}

// cgroupParent is a pod's cgroup_parent as the kubelet gives it.
func (c *node) cgroupParent(podName string) string {
	if c.opts.SystemdCgroup {
		return "/" + c.cgParent + "/" + c.podSlice(podName)
	}
	return "/" + c.cgParent
}

// cgroupPatterns are glob patterns of a sandbox's or container's cgroup,
// relative to a hierarchy's root.
func (c *node) cgroupPatterns(id string) []string {
	if c.opts.SystemdCgroup {
		return []string{filepath.Join(c.cgParent, "*", scopeUnit(id))}
	}
	return []string{filepath.Join(c.cgParent, id)}
}

// hierarchies are the mounted cgroup hierarchies' roots: each v1
// controller's, the v2 one (on hybrid /sys/fs/cgroup/unified), or
// /sys/fs/cgroup itself on pure v2.
func hierarchies() []string {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return []string{"/sys/fs/cgroup"}
	}
	var roots []string
	entries, _ := os.ReadDir("/sys/fs/cgroup")
	for _, e := range entries {
		p := filepath.Join("/sys/fs/cgroup", e.Name())
		if fi, err := os.Lstat(p); err == nil && fi.IsDir() {
			roots = append(roots, p)
		}
	}
	return roots
}

// cgroupFile reads a file of a container's cgroup: v1's file in the
// controller's hierarchy, or v2's in the unified one.
func (c *node) cgroupFile(t *testing.T, controller, id, v1, v2 string) string {
	t.Helper()
	var tried []string
	for _, pat := range c.cgroupPatterns(id) {
		for _, g := range []string{
			filepath.Join("/sys/fs/cgroup", controller, pat, v1),
			filepath.Join("/sys/fs/cgroup", pat, v2),
		} {
			tried = append(tried, g)
			if m, _ := filepath.Glob(g); len(m) == 1 {
				if b, err := os.ReadFile(m[0]); err == nil {
					return strings.TrimSpace(string(b))
				}
			}
		}
	}
	t.Fatalf("no cgroup file of %s: none of %v", id, tried)
	return ""
}

// cgroupLeaks lists what is left of the cgroups of ids: their
// directories where the cgroupfs driver or systemd would have put them
// (and, under systemd, any directory named after their scope), and their
// scope units.
func (c *node) cgroupLeaks(ids ...string) []string {
	leaks := harness.CgroupLeaks(ids...)
	if !c.opts.SystemdCgroup {
		return leaks
	}
	for _, id := range ids {
		unit := scopeUnit(id)
		for _, pat := range []string{"/sys/fs/cgroup/*/*/" + unit, "/sys/fs/cgroup/*/*/*/" + unit, "/sys/fs/cgroup/*/*/*/*/" + unit, "/sys/fs/cgroup/*/" + unit} {
			m, _ := filepath.Glob(pat)
			for _, d := range m {
				leaks = append(leaks, "cgroup: "+d)
			}
		}
		if u := listUnits(unit); len(u) > 0 {
			leaks = append(leaks, fmt.Sprintf("systemd units: %v", u))
		}
	}
	return leaks
}

// listUnits lists the units systemd has loaded (any state) that match
// the pattern.
func listUnits(pattern string) []string {
	r := harness.Run(nil, criTimeout, "systemctl", "list-units", "--all", "--plain", "--no-legend", "--no-pager", pattern)
	var units []string
	for _, l := range strings.Split(r.Stdout, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			units = append(units, strings.Join(f[:min(len(f), 4)], " "))
		}
	}
	if r.Code != 0 {
		units = append(units, "systemctl list-units: "+r.String())
	}
	return units
}

// unitProps reads a unit's properties (systemctl show).
func unitProps(t *testing.T, unit string, props ...string) map[string]string {
	t.Helper()
	r := harness.Run(nil, criTimeout, "systemctl", "show", unit, "-p", strings.Join(props, ","))
	if r.Code != 0 {
		t.Fatalf("systemctl show %s: %s", unit, r)
	}
	m := map[string]string{}
	for _, l := range strings.Split(r.Stdout, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}

// removePodSlice stops a removed pod's slice, as the kubelet does once
// the pod is gone (systemd driver), and checks that it went: no unit,
// and no cgroup left in any hierarchy that the runtime could not remove.
func (c *node) removePodSlice(t *testing.T, podName string) {
	t.Helper()
	if !c.opts.SystemdCgroup {
		return
	}
	slice := c.podSlice(podName)
	if r := harness.Run(nil, criTimeout, "systemctl", "stop", slice); r.Code != 0 {
		t.Errorf("systemctl stop %s: %s", slice, r)
	}
	var left []string
	if !harness.Eventually(10*time.Second, func() bool {
		left = listUnits(slice)
		for _, h := range hierarchies() {
			d := filepath.Join(h, c.cgParent, slice)
			if _, err := os.Stat(d); err == nil {
				// The hierarchies systemd does not manage (v1):
				// the runtime made the pod's slice there, and
				// leaves it, as runc leaves any parent.
				if err := syscall.Rmdir(d); err != nil {
					left = append(left, fmt.Sprintf("cgroup %s: %v", d, err))
				}
			}
		}
		return len(left) == 0
	}) {
		t.Errorf("left of the pod's slice %s after it was stopped: %v", slice, left)
	}
}

// cgroupTree lists every cgroup directory under the node's parent, in
// every hierarchy, children before their parents.
func (c *node) cgroupTree() []string {
	var dirs []string
	for _, h := range hierarchies() {
		root := filepath.Join(h, c.cgParent)
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
	}
	slices.SortFunc(dirs, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	return dirs
}
