package cri

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestSystemdScope: under the systemd cgroup driver (SystemdCgroup =
// true) each sandbox and container of a pod is a transient scope unit
// cri-containerd-<id>.scope, active, with Delegate=yes, in the pod's
// slice, and its process is in that scope's cgroup in every hierarchy;
// once the pod is removed no unit and no cgroup of it is left. For the
// handler under test, and runc's for comparison (where a hierarchy the
// process is not in is only logged).
func TestSystemdScope(t *testing.T) {
	c := requireNode(t)
	if !c.opts.SystemdCgroup {
		t.Skipf("the node runs the cgroupfs driver (%s=1 runs the suite under systemd's)", systemdEnv)
	}
	for _, h := range []string{criHandler, runcHandler} {
		t.Run(h, func(t *testing.T) {
			p := c.runPod(t, podSpec{Handler: h})
			id := p.sleeper(t, "scoped")
			slice := c.podSlice(p.Name)
			for _, x := range []struct{ what, id string }{{"sandbox", p.ID}, {"container", id}} {
				unit := scopeUnit(x.id)
				want := map[string]string{
					"LoadState": "loaded", "ActiveState": "active", "Transient": "yes", "Delegate": "yes",
					"Slice": slice, "ControlGroup": "/" + c.cgParent + "/" + slice + "/" + unit,
				}
				var keys []string
				for k := range want {
					keys = append(keys, k)
				}
				got := unitProps(t, unit, keys...)
				for _, k := range keys {
					if got[k] != want[k] {
						t.Errorf("the %s's unit %s: %s=%q, want %q", x.what, unit, k, got[k], want[k])
					}
				}
				pid := c.taskPid(t, x.id, x.what == "sandbox")
				cg := readFile(fmt.Sprintf("/proc/%d/cgroup", pid))
				for _, l := range strings.Split(strings.TrimSpace(cg), "\n") {
					if f := strings.SplitN(l, ":", 3); len(f) != 3 || f[2] != want["ControlGroup"] {
						// The runc handler is a comparison: Debian's
						// runc 1.1.5 leaves hierarchies it does not
						// know (misc) at the root; noted, not failed.
						report := t.Errorf
						if h == runcHandler && c.opts.Runtime != runcBinary {
							report = t.Logf
						}
						report("%s: the %s's process %d is not in its scope's cgroup %s in every hierarchy:\n%s", h, x.what, pid, want["ControlGroup"], cg)
						break
					}
				}
			}
			p.remove(t, true)
			for _, x := range []string{p.ID, id} {
				if st := unitProps(t, scopeUnit(x), "LoadState")["LoadState"]; st != "not-found" {
					t.Errorf("%s after the pod's removal: LoadState=%s, want not-found", scopeUnit(x), st)
				}
			}
		})
	}
}

// taskPid is the pid of a running container's process (crictl inspect)
// or of a sandbox's pause process (crictl inspectp).
func (c *node) taskPid(t *testing.T, id string, sandbox bool) int {
	t.Helper()
	verb := "inspect"
	if sandbox {
		verb = "inspectp"
	}
	r := c.crictl(verb, "-o", "json", id)
	var out struct {
		Info struct {
			Pid int `json:"pid"`
		} `json:"info"`
	}
	if r.Code != 0 {
		t.Fatalf("%s: %s", verb, r)
	}
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil || out.Info.Pid <= 0 {
		t.Fatalf("%s: no pid (%v): %s", verb, err, r.Stdout)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", out.Info.Pid)); err != nil {
		t.Fatalf("the %s's process %d: %v", id, out.Info.Pid, err)
	}
	return out.Info.Pid
}
