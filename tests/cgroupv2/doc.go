// Package cgroupv2 holds end-to-end tests of Carapace on a pure cgroup v2
// host: real containers, their cgroups under /sys/fs/cgroup, the v2 resource
// files (memory.max, pids.max, cpu.max, cpu.weight) and their enforcement.
//
// They need root and a pure cgroup v2 hierarchy, and skip otherwise (so
// `go test ./...` on a v1 or hybrid machine just skips them). CI runs them in
// a throwaway VM booted with a pure v2 hierarchy:
//
//	tests/vm/cgroupv2.sh        # builds bin/carapace and the test binary, boots the VM
//
// or by hand:
//
//	CGO_ENABLED=0 go test -c -o /tmp/cgroupv2.test ./tests/cgroupv2
//	tests/vm/run-in-vm.sh -t 300 -e CARAPACE_BINARY=$PWD/bin/carapace . /tmp/... -test.v
//
// (the test binary must be under the shared directory, which is mounted at
// the same path inside the VM). CARAPACE_BINARY is the runtime under test;
// by default ../../bin/carapace. The container rootfs is built from the
// static /bin/busybox of the machine the tests run on (the VM's initramfs
// has Debian's busybox-static there).
package cgroupv2
