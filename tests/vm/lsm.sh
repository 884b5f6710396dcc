#!/usr/bin/env bash
# tests/vm/lsm.sh - the LSM leg (`make test-lsm`): the end-to-end tests of
# AppArmor profiles and SELinux labels in throwaway VMs with Debian's kernel:
# one boot with AppArmor (enabled by default, as on Ubuntu and Debian hosts),
# one with SELinux (lsm=...,selinux) and a small policy (selinux-policy.sh)
# loaded and enforcing, and a third like it with the hybrid cgroup layout
# (TestSELinuxCgroupV1). This host's kernel has no LSM: there the same tests
# skip and TestLSMUnavailable checks the clear errors.
#
#   tests/vm/lsm.sh [TEST-BINARY-FLAG...]     e.g. -test.run 'AppArmorExec|SELinuxLabels'
#
# 1. builds bin/carapace with `make build` if it is missing (CARAPACE_BINARY=PATH
#    tests that binary instead; it must be static),
# 2. installs apparmor on this host if apparmor_parser is missing (the package
#    enables nothing on a kernel without AppArmor; the VM runs the host's
#    /usr/sbin/apparmor_parser through run-in-vm.sh --host-usr),
# 3. builds the e2e test binary (static) and the policy, runs the LSM tests in the VMs.
#
# Environment: GO, CARAPACE_VM_TIMEOUT (seconds, default 300), CARAPACE_VM_MEM /
# CARAPACE_VM_CPUS (see run-in-vm.sh).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"

GO=${GO:-go}
if ! command -v "$GO" >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
	export PATH=/usr/local/go/bin:$PATH
fi
timeout_s=${CARAPACE_VM_TIMEOUT:-300}
t0=$(date +%s.%N)
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1fs", b - a }'; }

bin=${CARAPACE_BINARY:-$repo/bin/carapace}
if [[ -z ${CARAPACE_BINARY:-} && ! -x $bin ]]; then
	echo "lsm.sh: $bin missing: make build" >&2
	make -C "$repo" build GO="$GO" >&2
fi
[[ -x $bin ]] || { echo "lsm.sh: no runtime binary at $bin" >&2; exit 2; }
if [[ ! -x /usr/sbin/apparmor_parser ]]; then
	echo "lsm.sh: installing apparmor (for apparmor_parser)" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends apparmor >&2 ||
		{ apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends apparmor >&2; }
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/carapace-lsm.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$bin" "$work/carapace"
CGO_ENABLED=0 "$GO" test -c -o "$work/e2e.test" ./tests/e2e
"$here/selinux-policy.sh" "$work/policy.33"
# The extra flags, quoted for the VM's shell: a -test.run pattern may hold "|".
flags=${*@Q}
# Two boots: Debian's kernel enables AppArmor by default, SELinux only when
# asked for (lsm=...,selinux), with the leg's policy loaded and enforcing.
{
	echo '#!/bin/sh'
	echo 'set -e'
	# The tests skip without the LSM: fail here instead, or the leg would
	# pass having checked nothing.
	echo 'test "$(cat /sys/module/apparmor/parameters/enabled)" = Y || { echo "lsm.sh: AppArmor is not enabled in the VM" >&2; exit 1; }'
	echo "exec \"$work/e2e.test\" -test.v -test.count=1 -test.timeout $((timeout_s / 2 - 30))s ${flags:-"-test.run 'AppArmor|LSM'"}"
} >"$work/apparmor.sh"
{
	echo '#!/bin/sh'
	echo 'set -e'
	echo 'grep -qw selinux /sys/kernel/security/lsm || { echo "lsm.sh: SELinux is not enabled in the VM" >&2; exit 1; }'
	echo 'grep -q selinuxfs /proc/mounts || mount -t selinuxfs selinuxfs /sys/fs/selinux'
	echo "cat \"$work/policy.33\" > /sys/fs/selinux/load"
	echo 'echo 1 > /sys/fs/selinux/enforce'
	echo 'echo "lsm.sh: SELinux policy loaded, enforce=$(cat /sys/fs/selinux/enforce)" >&2'
	echo "exec \"$work/e2e.test\" -test.v -test.count=1 -test.timeout $((timeout_s / 2 - 30))s ${flags:-"-test.run 'SELinux|LSM'"}"
} >"$work/selinux.sh"
chmod +x "$work/apparmor.sh" "$work/selinux.sh"
echo "lsm.sh: built the runtime, the test binary and the SELinux policy ($(elapsed)); booting the VMs" >&2

set +e
"$here/run-in-vm.sh" -t "$((timeout_s / 2))" --host-usr -e CARAPACE_BINARY="$work/carapace" "$work" "$work/apparmor.sh" |
	tee "$work/out"
rc=${PIPESTATUS[0]}
"$here/run-in-vm.sh" -t "$((timeout_s / 2))" -e CARAPACE_BINARY="$work/carapace" \
	--append "lsm=lockdown,capability,landlock,yama,selinux,bpf" "$work" "$work/selinux.sh" |
	tee -a "$work/out"
rc2=${PIPESTATUS[0]}
((rc == 0)) && rc=$rc2
# A third, with the hybrid cgroup layout, for what the v1 layout adds (the
# /sys/fs/cgroup tmpfs): its tests skip on pure v2.
if (($# == 0)) || [[ $* == *SELinux* ]]; then
	sed -i "s/-test.run 'SELinux|LSM'/-test.run 'SELinuxCgroupV1'/" "$work/selinux.sh"
	"$here/run-in-vm.sh" -t "$((timeout_s / 2))" -e CARAPACE_BINARY="$work/carapace" --cgroup hybrid \
		--append "lsm=lockdown,capability,landlock,yama,selinux,bpf" "$work" "$work/selinux.sh" |
		tee -a "$work/out"
	rc3=${PIPESTATUS[0]}
	((rc == 0)) && rc=$rc3
fi
set -e

pass=$(grep -c '^--- PASS' "$work/out" || true)
fail=$(grep -c '^--- FAIL' "$work/out" || true)
skip=$(grep -c '^--- SKIP' "$work/out" || true)
echo "lsm.sh: $pass passed, $fail failed, $skip skipped; exit $rc; $(elapsed) in all" >&2
if ((fail > 0)); then
	echo "lsm.sh: failed: $(sed -n 's/^--- FAIL: \([^ ]*\).*/\1/p' "$work/out" | tr '\n' ' ')" >&2
fi
# TestSELinuxCgroupV1 skips on pure v2 (the second boot) but must run in
# the third.
if (($# == 0 && rc == 0 && skip > 0)) && grep -E '^--- SKIP: Test(AppArmor|SELinux)' "$work/out" | grep -qv 'TestSELinuxCgroupV1'; then
	echo "lsm.sh: LSM tests skipped in the VM" >&2
	rc=1
fi
if (($# == 0 && rc == 0)) && ! grep -q '^--- PASS: TestSELinuxCgroupV1' "$work/out"; then
	echo "lsm.sh: TestSELinuxCgroupV1 did not run in the hybrid VM" >&2
	rc=1
fi
exit "$rc"
