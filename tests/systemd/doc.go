// Package systemd holds end-to-end tests of Carapace's systemd cgroup
// driver (--systemd-cgroup) that only a host booted by systemd can run:
// the transient scope and its properties as systemd reports them
// (systemctl show, busctl), Delegate=yes, the cgroup layout in every
// hierarchy, the limits surviving `systemctl daemon-reload` (systemd
// rewrites the files from its properties), no unit and no cgroup left after
// delete, after a failed create and after `delete --force` of a container
// whose create was killed, nested slices, and containerd's runc shim with
// SystemdCgroup on (ctr run --runc-systemd-cgroup) running Carapace.
//
// They need root and systemd as PID 1, and skip otherwise (this project's
// CI hosts are not booted by systemd). CI runs them in a VM that boots
// Debian's systemd, on cgroup v2 and on the hybrid layout, next to the e2e
// suite rerun with CARAPACE_E2E_SYSTEMD=1:
//
//	tests/vm/systemd.sh         # = make test-systemd
//
// CARAPACE_BINARY is the runtime under test (by default ../../bin/carapace).
// The container rootfs is built from /bin/busybox, which must be static
// (systemd.sh puts the host's busybox-static there in the VM).
package systemd
