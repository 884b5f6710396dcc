package cri

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/carapace-oci/carapace/tests/internal/harness"
	"github.com/carapace-oci/carapace/tests/internal/ociregistry"
)

// The node's fixed names.
const (
	criNS       = "k8s.io" // the containerd namespace of the CRI plugin
	criHandler  = "carapace"
	runcHandler = "runc"
	runcBinary  = "/usr/sbin/runc"
	criTimeout  = 60 * time.Second
	// podSubnet is the CNI bridge's: a private range the test's network
	// namespace has to itself.
	podSubnet = "10.233.0.0/24"
	podBridge = "cri0"
	cniBinDir = "/usr/lib/cni"
)

// nodeOptions are what a node is started with.
type nodeOptions struct {
	// Runtime is the binary behind the handler "carapace".
	Runtime string
	// SystemdCgroup is the runc shim's option for both handlers: the
	// runtime's cgroups through systemd (a leg in the VM booted by
	// systemd), instead of cgroupfs.
	SystemdCgroup bool
	// Images are served by the node's registries; nil is Images().
	Images []ociregistry.Image
}

// node is a private containerd with its CRI plugin, as a kubelet's node
// has it: runtime handlers "carapace" (the runc v2 shim with the runtime
// under test as its BinaryName, the default) and "runc", CNI pod
// networking, registry mirrors pointing the public image names at
// registries on 127.0.0.1. Every file of it is under dir; the pods'
// cgroups go under a parent named after this test process.
type node struct {
	opts      nodeOptions
	dir       string
	Sock      string // the CRI endpoint (unix socket path)
	state     string // containerd's state dir: the shims' bundles, the pods' netns mounts
	roots     map[string]string
	logDir    string // the pods' log_directory parent
	cgParent  string // the node's parent cgroup of every pod (cgroups_test.go)
	crictlCf  string
	logPath   string
	netName   string // the CNI network's name
	ipamDir   string // host-local's allocations
	d         *harness.Daemon
	registry  *ociregistry.Set
	images    []ociregistry.Image
	mu        sync.Mutex
	ids       []string // every pod and container made, for the leak checks
	seq       int
	handlers  []string
	ConfigTom string // containerd's configuration file
}

// startNode starts containerd and pulls every image through its CRI, so
// that the registries and mirrors are known to work before any test.
func startNode(opts nodeOptions) (_ *node, err error) {
	for _, tool := range []string{"containerd", "containerd-shim-runc-v2", "crictl", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("%s is not installed (scripts/install-deps.sh installs it): %w", tool, err)
		}
	}
	for _, plugin := range []string{"bridge", "host-local", "portmap", "loopback"} {
		if _, err := os.Stat(filepath.Join(cniBinDir, plugin)); err != nil {
			return nil, fmt.Errorf("CNI plugin %s: %w (apt-get install containernetworking-plugins)", plugin, err)
		}
	}
	dir, err := os.MkdirTemp("", "carapace-cri-")
	if err != nil {
		return nil, err
	}
	cgParent := fmt.Sprintf("carapace-cri%d", os.Getpid())
	if opts.SystemdCgroup {
		if _, err := os.Stat("/run/systemd/system"); err != nil {
			return nil, fmt.Errorf("%s=1 asks for the systemd cgroup driver, but systemd did not boot this machine (no /run/systemd/system)", systemdEnv)
		}
		// No dash: the node's slice sits in the root slice.
		cgParent = fmt.Sprintf("carapacecri%d.slice", os.Getpid())
	}
	c := &node{
		opts:     opts,
		dir:      dir,
		Sock:     filepath.Join(dir, "ctd.sock"),
		state:    filepath.Join(dir, "state"),
		roots:    map[string]string{criHandler: filepath.Join(dir, "rt", criHandler), runcHandler: filepath.Join(dir, "rt", runcHandler)},
		logDir:   filepath.Join(dir, "logs"),
		cgParent: cgParent,
		crictlCf: filepath.Join(dir, "crictl.yaml"),
		logPath:  filepath.Join(dir, "containerd.log"),
		netName:  fmt.Sprintf("carapace-cri%d", os.Getpid()),
		ipamDir:  filepath.Join(dir, "cni", "ipam"),
		handlers: []string{criHandler, runcHandler},
	}
	defer func() {
		if err != nil {
			if leaks := c.shutdown(); len(leaks) > 0 {
				err = fmt.Errorf("%w\nleft behind:\n  %s", err, joinLines(leaks))
			}
		}
	}()
	if n := len(c.Sock + ".ttrpc"); n >= 100 {
		return c, fmt.Errorf("socket path %s.ttrpc is %d bytes: too long for a unix socket", c.Sock, n)
	}
	if err := os.Chmod(dir, 0o711); err != nil {
		return c, err
	}
	cniConf, hostsDir := filepath.Join(dir, "cni", "conf"), filepath.Join(dir, "certs.d")
	for _, d := range []string{c.roots[criHandler], c.roots[runcHandler], c.logDir, cniConf, c.ipamDir, hostsDir} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return c, err
		}
	}
	images := opts.Images
	if images == nil {
		if images, err = Images(filepath.Join(dir, "images")); err != nil {
			return c, fmt.Errorf("build the images: %w", err)
		}
	}
	if c.registry, err = ociregistry.Start(images); err != nil {
		return c, fmt.Errorf("serve the images: %w", err)
	}
	if err := c.registry.WriteHostsDir(hostsDir); err != nil {
		return c, err
	}
	if err := os.WriteFile(filepath.Join(cniConf, "10-"+c.netName+".conflist"), c.cniConfig(), 0o644); err != nil {
		return c, err
	}
	c.ConfigTom = filepath.Join(dir, "config.toml")
	if err := os.WriteFile(c.ConfigTom, []byte(c.containerdConfig(cniConf, hostsDir)), 0o644); err != nil {
		return c, err
	}
	// crictl's own configuration, so that no /etc/crictl.yaml is read;
	// the flags crictl is run with say the same.
	crictlCf := fmt.Sprintf("runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\ntimeout: 30\npull-image-on-create: false\n", c.Sock, c.Sock)
	if err := os.WriteFile(c.crictlCf, []byte(crictlCf), 0o644); err != nil {
		return c, err
	}
	if c.d, err = harness.StartDaemon("containerd", c.logPath, harness.SocketReady(c.Sock), "containerd", "--config", c.ConfigTom); err != nil {
		return c, err
	}
	c.images = images
	if err := c.pullAll(); err != nil {
		return c, err
	}
	return c, nil
}

// pullAll pulls every image the node serves through the CRI: the
// mirrors are what the kubelet's pulls go through too (the sandbox
// image is pulled by runp itself when missing).
func (c *node) pullAll() error {
	for _, im := range c.images {
		if r := c.crictl("pull", im.Ref); r.Code != 0 {
			return fmt.Errorf("pull %s through the mirrors: %s\ncontainerd's errors:\n%s", im.Ref, r, c.daemonErrors(""))
		}
	}
	return nil
}

// cniConfig is the pods' network: a bridge with the gateway on the test's
// network namespace side, addresses from host-local (its allocations
// under the node's directory, not /var/lib/cni), and portmap for
// hostPorts. containerd brings up each pod's lo itself (the loopback
// plugin, from the same bin_dir).
func (c *node) cniConfig() []byte {
	b, _ := json.MarshalIndent(map[string]any{
		"cniVersion": "0.4.0",
		"name":       c.netName,
		"plugins": []any{
			map[string]any{
				"type": "bridge", "bridge": podBridge, "isGateway": true, "ipMasq": false, "hairpinMode": true,
				"ipam": map[string]any{
					"type":    "host-local",
					"ranges":  [][]map[string]string{{{"subnet": podSubnet}}},
					"routes":  []map[string]string{{"dst": "0.0.0.0/0"}},
					"dataDir": c.ipamDir,
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}, "", "  ")
	return b
}

// containerdConfig is containerd 1.6's configuration (version 2): its own
// root, state and sockets; the CRI plugin with the sandbox image by its
// public name, restrict_oom_score_adj (root here lacks CAP_SYS_RESOURCE,
// so the sandbox's oom_score_adj of -998 fails for any runtime without
// it), the stream server (exec, attach, port-forward) on a free loopback
// port, the pods' netns mounts under the state directory, the handlers,
// CNI, and the registry hosts directory. Under the systemd driver
// (SystemdCgroup) the handlers' runc options say SystemdCgroup = true, as
// on a kubelet node with cgroupDriver: systemd; the CRI plugin's own
// systemd_cgroup stays false: it is the deprecated switch of the v1 shim
// (io.containerd.runtime.v1.linux), which no handler here uses.
func (c *node) containerdConfig(cniConf, hostsDir string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `version = 2
root = %q
state = %q
[grpc]
  address = %q
[ttrpc]
  address = %q
[debug]
  address = ""
  level = "debug"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = %q
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.9"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  netns_mounts_under_state_dir = true
  systemd_cgroup = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = %q
`, filepath.Join(c.dir, "root"), c.state, c.Sock, c.Sock+".ttrpc", filepath.Join(c.dir, "opt"), criHandler)
	binaries := map[string]string{criHandler: c.opts.Runtime, runcHandler: runcBinary}
	for _, h := range c.handlers {
		fmt.Fprintf(&b, `    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.%s]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.%s.options]
        BinaryName = %q
        Root = %q
        SystemdCgroup = %t
`, h, h, binaries[h], c.roots[h], c.opts.SystemdCgroup)
	}
	fmt.Fprintf(&b, `  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %q
    conf_dir = %q
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = %q
`, cniBinDir, cniConf, hostsDir)
	return b.String()
}

// crictl runs crictl against the private containerd, never the host's.
func (c *node) crictl(args ...string) harness.Result {
	return harness.Run(nil, criTimeout, "crictl", c.crictlArgs(args...)...)
}

func (c *node) crictlArgs(args ...string) []string {
	return append([]string{
		"--config", c.crictlCf,
		"--runtime-endpoint", "unix://" + c.Sock, "--image-endpoint", "unix://" + c.Sock,
		"--timeout", "30s"}, args...)
}

// track records a pod or container id for the leak checks.
func (c *node) track(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ids = append(c.ids, id)
}

// name is a name no pod or file of the node has yet.
func (c *node) name(prefix string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	return fmt.Sprintf("%s-%d", prefix, c.seq)
}

// shutdown removes whatever pods are left, stops containerd, and returns
// what is left: pods or containers in the CRI, runtime state under the
// handlers' roots, processes and mounts (the pods' netns) under the
// node's directory, the pods' cgroups, host-local allocations and CNI
// result caches. What a failed run left is then killed and removed, so
// that it does not outlive the test.
func (c *node) shutdown() []string {
	var leaks []string
	if c.d != nil {
		for _, list := range [][]string{{"pods", "-q"}, {"ps", "-a", "-q"}} {
			if r := c.crictl(list...); r.Code != 0 {
				leaks = append(leaks, "crictl: "+r.String())
			} else if ids := strings.Fields(r.Stdout); len(ids) > 0 {
				leaks = append(leaks, fmt.Sprintf("crictl %s: %v", strings.Join(list, " "), ids))
			}
		}
		if len(leaks) > 0 {
			if r := c.crictl("rmp", "-f", "-a"); r.Code != 0 {
				leaks = append(leaks, "crictl rmp -f -a: "+r.String())
			}
		}
		if err := c.d.Stop(); err != nil {
			leaks = append(leaks, err.Error())
		}
		// The shim's kill errors that containerd did not take for
		// "already gone" fail a stop, or the handling of an exit.
		for _, l := range strings.Split(readFile(c.logPath), "\n") {
			if strings.Contains(l, "unknown error after kill") {
				leaks = append(leaks, "containerd did not recognise the runtime's kill error: "+l)
				break
			}
		}
		if len(leaks) > 0 {
			leaks = append(leaks, "containerd's error lines:\n"+c.daemonErrors(""))
		}
	}
	if c.registry != nil {
		c.registry.Close()
	}
	found := harness.LeaksUnder(c.dir)
	leaks = append(leaks, found...)
	for _, h := range c.handlers {
		if left := c.runtimeState(h); len(left) > 0 {
			leaks = append(leaks, fmt.Sprintf("runtime state under the %s handler's root %s: %v", h, c.roots[h], left))
		}
	}
	leaks = append(leaks, c.cgroupLeaks(c.ids...)...)
	if left, _ := filepath.Glob("/var/lib/cni/results/" + c.netName + "-*"); len(left) > 0 {
		leaks = append(leaks, fmt.Sprintf("CNI result caches: %v", left))
	}
	if left, _ := filepath.Glob(filepath.Join(c.ipamDir, c.netName, "10.*")); len(left) > 0 {
		leaks = append(leaks, fmt.Sprintf("host-local allocations: %v", left))
	}
	c.forceCleanup(found)
	if c.opts.SystemdCgroup {
		// Each pod's slice was stopped with the pod: one left is a
		// leak. Then the node's slice goes.
		if u := listUnits(strings.TrimSuffix(c.cgParent, ".slice") + "-*"); len(u) > 0 {
			leaks = append(leaks, fmt.Sprintf("systemd units in the node's slice: %v", u))
		}
		if r := harness.Run(nil, criTimeout, "systemctl", "stop", c.cgParent); r.Code != 0 {
			leaks = append(leaks, fmt.Sprintf("systemctl stop %s: %s", c.cgParent, r))
		}
	}
	// The parent cgroups were made by the runtime (or systemd) for the
	// pods; runc leaves them, as it leaves any parent it creates.
	for _, d := range c.cgroupTree() {
		if err := syscall.Rmdir(d); err != nil {
			leaks = append(leaks, fmt.Sprintf("cgroup %s: %v", d, err))
		}
	}
	for _, f := range []string{"/var/lib/cni/results/" + c.netName + "-*"} {
		left, _ := filepath.Glob(f)
		for _, l := range left {
			_ = os.Remove(l)
		}
	}
	if err := os.RemoveAll(c.dir); err != nil {
		leaks = append(leaks, fmt.Sprintf("remove %s: %v", c.dir, err))
	}
	return leaks
}

// forceCleanup kills, each by its pid, what a failed run left running
// (the processes in the pods' cgroups, then the shims named in leaks),
// and removes its cgroups and mounts. The test process, their subreaper,
// reaps them.
func (c *node) forceCleanup(leaks []string) {
	for _, d := range c.cgroupTree() {
		b, _ := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	for _, l := range leaks {
		var pid int
		if _, err := fmt.Sscanf(l, "process %d:", &pid); err == nil && pid > 1 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	// A killed shim leaves its socket, named in its bundle, under
	// /run/containerd/s.
	addrs, _ := filepath.Glob(filepath.Join(c.bundle("*"), "address"))
	for _, a := range addrs {
		b, _ := os.ReadFile(a)
		if sock := strings.TrimPrefix(strings.TrimSpace(string(b)), "unix://"); strings.HasPrefix(sock, "/run/containerd/s/") {
			_ = os.Remove(sock)
		}
	}
	harness.Eventually(10*time.Second, func() bool {
		for _, d := range c.cgroupTree() {
			if b, _ := os.ReadFile(filepath.Join(d, "cgroup.procs")); len(strings.TrimSpace(string(b))) > 0 {
				return false
			}
		}
		return true
	})
	if c.opts.SystemdCgroup {
		_ = harness.Run(nil, criTimeout, "systemctl", "stop", c.cgParent)
	}
	for _, d := range c.cgroupTree() {
		_ = syscall.Rmdir(d)
	}
	if mi, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		lines := strings.Split(string(mi), "\n")
		// Innermost first: a later line is mounted on top of an earlier one.
		for i := len(lines) - 1; i >= 0; i-- {
			if f := strings.Fields(lines[i]); len(f) > 4 && strings.HasPrefix(f[4], c.dir) {
				_ = syscall.Unmount(f[4], syscall.MNT_DETACH)
			}
		}
	}
}

// daemonErrors returns containerd's error lines that name id (any with
// id ""), the last ten: why a stop or an exit failed on its side.
func (c *node) daemonErrors(id string) string {
	var lines []string
	for _, l := range strings.Split(readFile(c.logPath), "\n") {
		if strings.Contains(l, "level=error") && strings.Contains(l, id) {
			lines = append(lines, l)
		}
	}
	return harness.Tail(strings.Join(lines, "\n"), 10)
}

// runtimeState lists the containers a handler's runtime has state for
// under the shim's root.
func (c *node) runtimeState(handler string) []string {
	var names []string
	left, _ := os.ReadDir(filepath.Join(c.roots[handler], criNS))
	for _, e := range left {
		names = append(names, e.Name())
	}
	return names
}

func (c *node) bundle(id string) string {
	return filepath.Join(c.state, "io.containerd.runtime.v2.task", criNS, id)
}

// writeJSON writes a pod or container config for crictl.
func (c *node) writeJSON(t *testing.T, name string, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(c.dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkGone checks that a removed pod's or container's runtime state,
// bundle and cgroups went with it.
func (c *node) checkGone(t *testing.T, id string) {
	t.Helper()
	var left []string
	if !harness.Eventually(10*time.Second, func() bool {
		left = left[:0]
		for _, h := range c.handlers {
			if slices.Contains(c.runtimeState(h), id) {
				left = append(left, "runtime state of the "+h+" handler")
			}
		}
		if _, err := os.Stat(c.bundle(id)); err == nil {
			left = append(left, "bundle "+c.bundle(id))
		}
		left = append(left, c.cgroupLeaks(id)...)
		return len(left) == 0
	}) {
		t.Errorf("left behind by %s: %v", id, left)
	}
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func joinLines(l []string) string { return strings.Join(l, "\n  ") }
