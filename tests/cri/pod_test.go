package cri

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/carapace-oci/carapace/tests/internal/harness"
)

// CRI namespace modes (runtime.v1.NamespaceMode).
const (
	nsPod       = 0
	nsContainer = 1
	nsNode      = 2
)

// podSpec is what a test asks of a pod.
type podSpec struct {
	HostNetwork bool   // the node's network (here the test's netns), not CNI
	SharePID    bool   // one pid namespace for the pod (pid POD), pause as its pid 1
	Hostname    string // default: the pod's name
	Handler     string // default: carapace
}

// pod is a pod the test runs, on the node.
type pod struct {
	c       *node
	ID      string
	Name    string
	spec    podSpec
	cfgPath string
	netns   string // its network namespace's mount (CNI pods)
	ids     []string
	removed bool
}

// runPod runs a pod that t's cleanup removes (and checks gone).
func (c *node) runPod(t *testing.T, spec podSpec) *pod {
	t.Helper()
	p := c.newPod(t, spec)
	t.Cleanup(func() { p.remove(t, true) })
	return p
}

// newPod runs a pod (crictl runp) with its handler, and checks that the
// CRI reports it ready.
func (c *node) newPod(t *testing.T, spec podSpec) *pod {
	t.Helper()
	if spec.Handler == "" {
		spec.Handler = criHandler
	}
	p := &pod{c: c, Name: c.name("pod"), spec: spec}
	if spec.Hostname == "" && !spec.HostNetwork {
		spec.Hostname = p.Name
		p.spec.Hostname = p.Name
	}
	p.cfgPath = c.writeJSON(t, p.Name+".json", p.config())
	r := c.crictl("runp", "--runtime", spec.Handler, p.cfgPath)
	if r.Code != 0 {
		t.Fatalf("runp: %s\ncontainerd's errors:\n%s", r, c.daemonErrors(""))
	}
	p.ID = strings.TrimSpace(r.Stdout)
	c.track(p.ID)
	st := p.inspect(t)
	if st.Status.State != "SANDBOX_READY" {
		t.Fatalf("the pod is %q after runp", st.Status.State)
	}
	for _, ns := range st.Info.RuntimeSpec.Linux.Namespaces {
		if ns.Type == "network" {
			p.netns = ns.Path
		}
	}
	return p
}

// config is the pod's sandbox config for crictl: its logs and cgroups
// where the suite looks for them, and a DNS config as the kubelet always
// gives one (containerd then writes the pod's resolv.conf instead of
// copying the node's, which a VM may not have).
func (p *pod) config() map[string]any {
	nsOpts := p.nsOptions()
	cfg := map[string]any{
		"metadata": map[string]any{
			"name": p.Name, "namespace": "carapace-cri", "uid": p.c.cgParent + "-" + p.Name, "attempt": 0,
		},
		"log_directory": filepath.Join(p.c.logDir, p.Name),
		"dns_config":    map[string]any{"servers": []string{"10.233.0.1"}, "searches": []string{"carapace-cri.svc"}},
		"linux": map[string]any{
			"cgroup_parent":    p.c.cgroupParent(p.Name),
			"security_context": map[string]any{"namespace_options": nsOpts},
		},
	}
	if p.spec.Hostname != "" {
		cfg["hostname"] = p.spec.Hostname
	}
	return cfg
}

func (p *pod) nsOptions() map[string]any {
	net, pid := nsPod, nsContainer
	if p.spec.HostNetwork {
		net = nsNode
	}
	if p.spec.SharePID {
		pid = nsPod
	}
	return map[string]any{"network": net, "pid": pid, "ipc": nsPod}
}

// podStatus is what crictl inspectp reports of a pod.
type podStatus struct {
	Status struct {
		State   string `json:"state"`
		Network struct {
			IP string `json:"ip"`
		} `json:"network"`
	} `json:"status"`
	Info struct {
		RuntimeSpec struct {
			Linux struct {
				Namespaces []struct {
					Type string `json:"type"`
					Path string `json:"path"`
				} `json:"namespaces"`
			} `json:"linux"`
		} `json:"runtimeSpec"`
	} `json:"info"`
}

func (p *pod) inspect(t *testing.T) podStatus {
	t.Helper()
	r := p.c.crictl("inspectp", "-o", "json", p.ID)
	var st podStatus
	if r.Code != 0 {
		t.Fatalf("inspectp: %s", r)
	}
	if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil {
		t.Fatalf("inspectp: %v\n%s", err, r.Stdout)
	}
	return st
}

// containerSpec is what a test asks of a container.
type containerSpec struct {
	Image     string // default busybox
	Cmd       []string
	Attempt   int
	Stdin     bool
	StdinOnce bool
	TTY       bool
	Resources map[string]any // linux.resources (LinuxContainerResources)
}

// create creates a container in the pod and returns its id.
func (p *pod) create(t *testing.T, name string, cs containerSpec) string {
	t.Helper()
	if cs.Image == "" {
		cs.Image = busyboxRef
	}
	linux := map[string]any{
		"security_context": map[string]any{"namespace_options": p.nsOptions()},
	}
	if cs.Resources != nil {
		linux["resources"] = cs.Resources
	}
	cfg := p.c.writeJSON(t, fmt.Sprintf("%s-%s-%d.json", p.Name, name, cs.Attempt), map[string]any{
		"metadata":   map[string]any{"name": name, "attempt": cs.Attempt},
		"image":      map[string]any{"image": cs.Image},
		"command":    cs.Cmd,
		"log_path":   fmt.Sprintf("%s-%d.log", name, cs.Attempt),
		"stdin":      cs.Stdin,
		"stdin_once": cs.StdinOnce,
		"tty":        cs.TTY,
		"linux":      linux,
	})
	r := p.c.crictl("create", "--no-pull", p.ID, cfg, p.cfgPath)
	if r.Code != 0 {
		t.Fatalf("create %s: %s\ncontainerd's errors:\n%s", name, r, p.c.daemonErrors(""))
	}
	id := strings.TrimSpace(r.Stdout)
	p.c.track(id)
	p.ids = append(p.ids, id)
	return id
}

// run creates and starts a container in the pod and returns its id.
func (p *pod) run(t *testing.T, name string, cs containerSpec) string {
	t.Helper()
	id := p.create(t, name, cs)
	if r := p.c.crictl("start", id); r.Code != 0 {
		t.Fatalf("start %s: %s\ncontainerd's errors about it:\n%s", name, r, p.c.daemonErrors(id))
	}
	return id
}

// sleeper runs a container whose process sleeps until stopped.
func (p *pod) sleeper(t *testing.T, name string) string {
	t.Helper()
	return p.run(t, name, containerSpec{Cmd: []string{"sleep", "3600"}})
}

// exec runs a command in a container (crictl exec --sync) and fails the
// test unless it exits 0; it returns the command's stdout without the
// trailing newlines (crictl adds its own).
func (c *node) exec(t *testing.T, id string, cmd ...string) string {
	t.Helper()
	r := c.crictl(append([]string{"exec", "--sync", id}, cmd...)...)
	if r.Code != 0 {
		t.Fatalf("exec in %s: %s\ncontainerd's errors about it:\n%s", id, r, c.daemonErrors(id))
	}
	return strings.TrimRight(r.Stdout, "\n")
}

// remove removes the pod with its containers (crictl rmp -f: the
// kubelet's stop, then remove) and checks that nothing of them is left:
// runtime state, bundles, cgroups, the pod's netns mount.
func (p *pod) remove(t *testing.T, force bool) {
	t.Helper()
	if p.removed {
		return
	}
	p.removed = true
	args := []string{"rmp", p.ID}
	if force {
		args = []string{"rmp", "-f", p.ID}
	}
	if r := p.c.crictl(args...); r.Code != 0 {
		t.Errorf("%s: %s\ncontainerd's errors:\n%s", strings.Join(args, " "), r, p.c.daemonErrors(p.ID))
		return
	}
	for _, id := range append([]string{p.ID}, p.ids...) {
		p.c.checkGone(t, id)
	}
	p.c.removePodSlice(t, p.Name)
	if p.netns != "" {
		if mi := readFile("/proc/self/mountinfo"); strings.Contains(mi, " "+p.netns+" ") {
			t.Errorf("the pod's network namespace is still mounted at %s", p.netns)
		}
	}
}

// criStatus is what crictl inspect reports of a container.
type criStatus struct {
	State    string
	ExitCode int
	Reason   string
	Attempt  int
}

func (c *node) inspect(t *testing.T, id string) criStatus {
	t.Helper()
	r := c.crictl("inspect", "-o", "json", id)
	if r.Code != 0 {
		t.Fatalf("inspect: %s", r)
	}
	var out struct {
		Status struct {
			State    string `json:"state"`
			ExitCode int    `json:"exitCode"`
			Reason   string `json:"reason"`
			Metadata struct {
				Attempt int `json:"attempt"`
			} `json:"metadata"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("inspect: %v\n%s", err, r.Stdout)
	}
	return criStatus{out.Status.State, out.Status.ExitCode, out.Status.Reason, out.Status.Metadata.Attempt}
}

// waitExited waits for a container to exit and returns its status.
func (c *node) waitExited(t *testing.T, id string, timeout time.Duration) criStatus {
	t.Helper()
	var st criStatus
	if !harness.Eventually(timeout, func() bool { st = c.inspect(t, id); return st.State == "CONTAINER_EXITED" }) {
		t.Fatalf("the container is %s after %v; containerd's errors about it:\n%s", st.State, timeout, c.daemonErrors(id))
	}
	return st
}

// stop runs crictl stop and reports its failure with what the runtime's
// kill printed: the text the shim did not recognise.
func (c *node) stop(t *testing.T, id string, grace int) {
	t.Helper()
	start := time.Now()
	r := c.crictl("stop", "-t", fmt.Sprint(grace), id)
	if r.Code != 0 {
		st := c.inspect(t, id)
		t.Fatalf("crictl stop -t %d failed after %v; the CRI now reports the container %s: %s\ncontainerd's errors about it:\n%s",
			grace, time.Since(start).Round(time.Millisecond), st.State, r, c.daemonErrors(id))
	}
}

// checkRuntime checks that a running pod's or container's shim runs the
// handler's runtime with the handler's root.
func (c *node) checkRuntime(t *testing.T, handler, id string) {
	t.Helper()
	var opts struct {
		BinaryName string `json:"binary_name"`
		Root       string `json:"root"`
	}
	b, err := os.ReadFile(filepath.Join(c.bundle(id), "options.json"))
	if err != nil {
		t.Fatalf("the shim's options: %v", err)
	}
	if err := json.Unmarshal(b, &opts); err != nil {
		t.Fatalf("options.json: %v: %s", err, b)
	}
	want := map[string]string{criHandler: c.opts.Runtime, runcHandler: runcBinary}[handler]
	if opts.BinaryName != want || opts.Root != c.roots[handler] {
		t.Errorf("the shim's runtime options are %s, want binary_name %s and root %s", b, want, c.roots[handler])
	}
	if !slices.Contains(c.runtimeState(handler), id) {
		t.Errorf("no runtime state for %s under %s: %v", id, c.roots[handler], c.runtimeState(handler))
	}
	if _, err := os.Stat(filepath.Join("/run/containerd/runc", criNS, id)); err == nil {
		t.Errorf("runtime state for %s under the default root /run/containerd/runc despite Root", id)
	}
}
