package rootfs

import (
	"reflect"
	"testing"

	"github.com/carapace-oci/carapace/libcarapace/mountinfo"
)

func TestRevealingMounts(t *testing.T) {
	const mi = `21 26 0:20 / /proc rw,relatime - proc proc rw
22 26 0:21 / /sys rw,relatime - sysfs sysfs rw
23 22 0:22 / /sys/fs/cgroup ro - tmpfs tmpfs ro
30 26 0:20 /sys /mnt/procsys rw - proc proc rw
31 26 0:40 / /b/rootfs rw - ext4 /dev/vda rw
32 31 0:41 / /b/rootfs/proc rw - proc proc rw
33 31 0:42 / /b/rootfs/sys ro - sysfs sysfs ro
34 26 0:43 / /b/rootfs2/proc rw - proc proc rw
35 26 0:44 / /my\040dir/sys rw - sysfs sysfs rw
36 26 0:45 / /b/rootfs rw - proc proc rw
`
	got := revealingMounts(mountinfo.Parse([]byte(mi)), "/b/rootfs")
	want := []hostMount{
		{"/proc", "proc"},
		{"/sys", "sysfs"},
		// /mnt/procsys: a subdirectory of a procfs, not the whole of it.
		// Under /b/rootfs: the container's own.
		{"/b/rootfs2/proc", "proc"}, // a sibling, not under the rootfs
		{"/my dir/sys", "sysfs"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("revealingMounts = %q\nwant %q", got, want)
	}
}
