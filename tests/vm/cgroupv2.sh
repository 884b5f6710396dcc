#!/usr/bin/env bash
# tests/vm/cgroupv2.sh - run the cgroup v2 end-to-end tests (tests/cgroupv2) in a
# throwaway VM with a pure cgroup v2 hierarchy, as CI does (`make test-v2`).
#
#   tests/vm/cgroupv2.sh [TEST-BINARY-FLAG...]     e.g. -test.run 'Memory|Pids'
#
# 1. builds bin/carapace with `make build` if it is missing (CARAPACE_BINARY=PATH
#    tests that binary instead; it must be static, as `make build` makes it),
# 2. builds the test binary (static: CGO_ENABLED=0 go test -c ./tests/cgroupv2),
# 3. boots the VM (tests/vm/run-in-vm.sh: on first use it installs qemu and caches
#    a Debian kernel) and runs the test binary there as root with -test.v,
# 4. prints the go test output, a summary, and exits with the test binary's status
#    (124: VM timeout, 125: the VM failed).
#
# Only a scratch directory holding the two binaries is shared with the VM; the
# tests build their busybox rootfs in the VM's /tmp (a tmpfs).
# Environment: GO (default go, or /usr/local/go/bin/go), CARAPACE_VM_TIMEOUT
# (seconds, default 900), CARAPACE_VM_MEM / CARAPACE_VM_CPUS (see run-in-vm.sh).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"

GO=${GO:-go}
if ! command -v "$GO" >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
	export PATH=/usr/local/go/bin:$PATH
fi
timeout_s=${CARAPACE_VM_TIMEOUT:-900}
t0=$(date +%s.%N)
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1fs", b - a }'; }

bin=${CARAPACE_BINARY:-$repo/bin/carapace}
if [[ -z ${CARAPACE_BINARY:-} && ! -x $bin ]]; then
	echo "cgroupv2.sh: $bin missing: make build" >&2
	make -C "$repo" build GO="$GO" >&2
fi
[[ -x $bin ]] || { echo "cgroupv2.sh: no runtime binary at $bin" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/carapace-v2.XXXXXX")
trap 'rm -rf "$work"' EXIT
# TestRootlessDelegatedCgroupV2 runs the runtime as an unprivileged uid.
chmod 755 "$work"
cp "$bin" "$work/carapace"
CGO_ENABLED=0 "$GO" test -c -o "$work/cgroupv2.test" ./tests/cgroupv2
# The end-to-end suite's cgroup tests read the files of whichever layout the
# host has: in the VM they cover the v2 driver (eBPF devices, cgroup.freeze,
# update, events) with the same assertions as on v1. The escape tests run
# there too: Debian's kernel hides non-dumpable processes from a container's
# CAP_SYS_ADMIN, which the host's does not, so they assert more there; and
# root has CAP_SYS_RESOURCE there, so raising a hard rlimit is tested. The
# check tests compare `carapace check`'s findings with what create does on v2.
# The mount table test lowers the global fs.mount-max for its duration: in
# the VM nothing else shares it, and the v2 cgroup mount is one mount, not
# one per hierarchy.
CGO_ENABLED=0 "$GO" test -c -o "$work/e2e.test" ./tests/e2e
tmo="$((timeout_s > 60 ? (timeout_s - 30) / 2 : timeout_s))s"
{
	echo '#!/bin/sh'
	echo 'rc=0'
	# Quoted for the VM's shell: a -test.run pattern may hold "|".
	echo "\"$work/cgroupv2.test\" -test.v -test.count=1 -test.timeout $tmo ${*@Q} || rc=1"
	# The kill-create sweep kills at 2+2+4 points, not 4+40+4: the VM is
	# emulated, each kill and its checks take seconds there.
	echo "CARAPACE_E2E_KILL_STEPS=2 \"$work/e2e.test\" -test.v -test.count=1 -test.timeout $tmo -test.run 'Cgroup|Pause|Update|Events|Ps|Escape|CVE2016_9962|ExecIgnoresContainerProc|Rlimit|TestCheck|TestRootlessDelegatedCgroupV2|StateOfHalfCreated|DeleteKeepsState|RefusesFrozen|ExhaustMountTable' || rc=1"
	echo 'exit $rc'
} >"$work/run.sh"
chmod +x "$work/run.sh"
echo "cgroupv2.sh: built the runtime and the test binaries ($(elapsed)); booting the VM" >&2

set +e
"$here/run-in-vm.sh" -t "$timeout_s" -e CARAPACE_BINARY="$work/carapace" "$work" "$work/run.sh" |
	tee "$work/out"
rc=${PIPESTATUS[0]}
if ((rc == 124)); then
	# The emulated VM has been seen to stop making progress (both vCPUs
	# busy, nothing on the console) a few times in a dozen runs; a test
	# that hangs fails on its own -test.timeout well before this. Boot
	# once more rather than fail CI on the emulator.
	echo "cgroupv2.sh: the VM timed out after ${timeout_s}s; booting it once more" >&2
	"$here/run-in-vm.sh" -t "$timeout_s" -e CARAPACE_BINARY="$work/carapace" "$work" "$work/run.sh" |
		tee "$work/out"
	rc=${PIPESTATUS[0]}
fi
set -e

pass=$(grep -c '^--- PASS' "$work/out" || true)
fail=$(grep -c '^--- FAIL' "$work/out" || true)
skip=$(grep -c '^--- SKIP' "$work/out" || true)
echo "cgroupv2.sh: $pass passed, $fail failed, $skip skipped; exit $rc; $(elapsed) in all" >&2
if ((fail > 0)); then
	echo "cgroupv2.sh: failed: $(sed -n 's/^--- FAIL: \([^ ]*\).*/\1/p' "$work/out" | tr '\n' ' ')" >&2
fi
exit "$rc"
