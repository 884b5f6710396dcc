package e2e

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// tryProcSysfsMounts tries a fresh procfs and a fresh sysfs on /mnt and
// prints, one line each, "proc mounted" or "proc refused".
const tryProcSysfsMounts = `for fs in proc sysfs; do if mount -t $fs $fs /mnt 2>/dev/null; then echo "$fs mounted"; umount /mnt; else echo "$fs refused"; fi; done`

// TestNoPivotHostProcSysfsGone: with --no-pivot the host's mounts stay in
// the container's mount namespace under the moved rootfs. A whole procfs or
// sysfs among them lets a user namespace made inside the container mount a
// fresh, unmasked procfs or a read-write sysfs (the kernel's
// mount_too_revealing check passes when one is fully visible). runc 1.5.3's
// msMoveRoot detaches them, or covers them when they are locked into the
// container's own user namespace; so does Carapace, and the mounts are
// refused, as after pivot_root.
func TestNoPivotHostProcSysfsGone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		userns bool
		flags  []string
	}{
		{"no-pivot", false, []string{"--no-pivot"}},
		{"no-pivot with a user namespace", true, []string{"--no-pivot"}},
		{"pivot_root", false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			// CAP_SETFCAP: mapping root in a new user namespace needs it.
			p := c.Spec.Process.Capabilities
			for _, set := range []*[]string{&p.Bounding, &p.Effective, &p.Permitted} {
				*set = append(*set, "CAP_SETFCAP")
			}
			if tc.userns {
				c.Spec.Linux.Namespaces = append(c.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
				c.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
				c.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
				c.removeMount("/sys/fs/cgroup")
			}
			c.Spec.Process.Args = []string{"unshare", "-Urmpfn", "sh", "-c", tryProcSysfsMounts}
			r := c.Run(tc.flags...)
			if !r.ok() {
				t.Fatalf("run: %s", r)
			}
			if got, want := strings.Join(lines(r.Stdout), "; "), "proc refused; sysfs refused"; got != want {
				t.Errorf("fresh procfs and sysfs from a user namespace inside the container: %q, want %q (a whole host procfs or sysfs is left in the mount namespace)", got, want)
			}
		})
	}
}

// TestNoPivotOwnProcSys: with the host's procfs and sysfs gone, a
// --no-pivot container still has its own: /proc of its pid namespace, /sys
// of its network namespace, and ".." from / stays in the rootfs.
func TestNoPivotOwnProcSys(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.Spec.Process.Args = []string{"sh", "-c", `cat /proc/1/comm; ls /sys/class/net; cd /..; cat e2e-rootfs-marker; awk '$5=="/proc"||$5=="/sys"{print $4, $5, $9}' /proc/self/mountinfo`}
	r := c.Run("--no-pivot")
	if !r.ok() {
		t.Fatalf("run --no-pivot: %s", r)
	}
	want := []string{"sh", "lo", "inside the container rootfs", "/ /proc proc", "/ /sys sysfs"}
	got := lines(r.Stdout)
	if len(got) != len(want) {
		t.Fatalf("pid 1, /sys/class/net, /.. marker and /proc, /sys mounts:\n%s\nwant:\n%s", r.Stdout, strings.Join(want, "\n"))
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("line %d: %q, want %q", i, got[i], want[i])
		}
	}
}
