package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestJoinEveryNamespaceByPath joins, one type at a time, a namespace given
// by linux.namespaces[].path (issue 10, item 7), as runc 1.5.3 does for
// every type: the container's process is in the namespace of that path
// and the rest of its setup (mounts above all) still works. The cgroup row
// failed with "open_tree /sys/fs/cgroup/...": the container's cgroup paths
// were read in the joined namespace, relative to its root, and looked up
// in the host's hierarchy.
func TestJoinEveryNamespaceByPath(t *testing.T) {
	t.Parallel()
	userns := func(c *Container) {
		c.Spec.Linux.Namespaces = append(c.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		c.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		c.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		// The v1 hierarchies cannot be mounted from a user namespace
		// without a cgroup namespace.
		c.removeMount("/sys/fs/cgroup")
	}
	rows := []struct {
		typ specs.LinuxNamespaceType
		// owner prepares the sleeper whose namespace is joined.
		owner func(c *Container)
		// joiner prepares the container that joins it.
		joiner func(c *Container)
	}{
		{typ: specs.NetworkNamespace},
		{typ: specs.IPCNamespace},
		{typ: specs.UTSNamespace, joiner: func(c *Container) { c.Spec.Hostname = "" }},
		{typ: specs.PIDNamespace},
		{typ: specs.CgroupNamespace, owner: func(c *Container) {
			c.Spec.Linux.Namespaces = append(c.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
		}},
		{typ: specs.TimeNamespace, owner: func(c *Container) {
			c.Spec.Linux.Namespaces = append(c.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			c.Spec.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 86400}}
		}},
		{typ: specs.UserNamespace, owner: userns, joiner: func(c *Container) { c.removeMount("/sys/fs/cgroup") }},
	}
	for _, row := range rows {
		t.Run(string(row.typ), func(t *testing.T) {
			t.Parallel()
			if row.typ == specs.TimeNamespace {
				requireCarapace(t) // runc 1.1.5 has no time namespaces
			}
			_, pid := startSleeper(t, row.owner)
			nsPath := fmt.Sprintf("/proc/%d/ns/%s", pid, nsFile(row.typ))
			want, err := os.Readlink(nsPath)
			if err != nil {
				t.Fatal(err)
			}
			c := newContainer(t)
			if row.joiner != nil {
				row.joiner(c)
			}
			c.setNamespace(row.typ, nsPath)
			r := c.ShResult(nsScript)
			if !r.ok() {
				t.Fatalf("joining %s: %v", nsPath, r)
			}
			got := parseNS(t, r.Stdout)
			if got[nsFile(row.typ)] != want {
				t.Errorf("%s namespace inside = %q, want the joined %q", row.typ, got[nsFile(row.typ)], want)
			}
		})
	}
	// A mount namespace is joined with the rootfs as seen in it: a host
	// process's namespace (the bundle is visible there), not another
	// container's, whose root is its own rootfs.
	t.Run("mount", func(t *testing.T) {
		t.Parallel()
		cmd := exec.Command("unshare", "--mount", "--propagation", "slave", "sleep", "1000")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
		host, err := os.Readlink("/proc/self/ns/mnt")
		if err != nil {
			t.Fatal(err)
		}
		nsPath := fmt.Sprintf("/proc/%d/ns/mnt", cmd.Process.Pid)
		var want string
		waitFor(t, 5*time.Second, "unshare to enter its mount namespace", func() bool {
			want, _ = os.Readlink(nsPath)
			return want != "" && want != host
		})
		c := newContainer(t)
		c.setNamespace(specs.MountNamespace, nsPath)
		got := parseNS(t, c.Sh(nsScript))
		if got["mnt"] != want {
			t.Errorf("mnt namespace inside = %q, want the joined %q", got["mnt"], want)
		}
	})
}
