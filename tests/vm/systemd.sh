#!/usr/bin/env bash
# tests/vm/systemd.sh - the systemd cgroup driver's leg (`make test-systemd`):
# in a VM booted by Debian's systemd (run-in-vm.sh --systemd), once on
# cgroup v2 and once on the hybrid layout, it runs
#   - tests/systemd: the scope and Delegate=yes (systemctl show, busctl,
#     systemctl status), the properties and files of each resource field at
#     create and update and after daemon-reload, no unit/cgroup left after
#     delete, a failed create and delete --force of a killed create, nested
#     slices, and containerd's shim with --runc-systemd-cgroup running
#     Carapace from an imported image;
#   - tests/e2e with CARAPACE_E2E_SYSTEMD=1 (every runtime command with
#     --systemd-cgroup, every container in system.slice:carapace-e2e:<id>):
#     the cgroup tests (fields written, OOM -> 137 and an oom event, pids,
#     devices, pause/resume, update, events, ps, kill --all, exec joining the
#     cgroup); the full pattern on v2, three tests on hybrid;
#   - tests/cri with CARAPACE_CRI_SYSTEMD=1: a private containerd 1.6 with
#     its CRI plugin and SystemdCgroup = true in the handlers' runc options,
#     pods in slices as the kubelet's systemd driver gives them, every
#     sandbox and container in its cri-containerd-<id>.scope, driven by
#     crictl (the host's, copied in), a CNI bridge (the image's
#     containernetworking-plugins); a subset of the suite (see cri_v2).
#
#   tests/vm/systemd.sh [MODE...]        MODE: v2 hybrid v1 (default: v2 hybrid)
#
# Hybrid rather than pure v1 for the second boot: it has the v1 controllers
# (the driver's v1 code: MemoryLimit, CPUShares, BlockIOWeight, the
# hierarchies systemd does not manage made by the driver) and, in addition,
# the cgroup2 hierarchy systemd tracks the scope in; it is what systemd
# distributions that still run v1 controllers boot by default (Debian 10/11,
# Ubuntu 20.04). `tests/vm/systemd.sh v1` runs the same set on pure v1.
#
# Exits non-zero if any boot failed. Environment: CARAPACE_BINARY (a static
# runtime binary; default bin/carapace, built if missing), GO,
# CARAPACE_VM_TIMEOUT (seconds per boot, default 1200), CARAPACE_VM_LEGS
# (which of "systemd e2e cri" to run; default all three),
# CARAPACE_VM_RUNTIME (the runtime's path inside the VM instead of the one
# copied in: /usr/sbin/runc runs the legs against the image's runc 1.1.5,
# to compare), and run-in-vm.sh's.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"

GO=${GO:-go}
if ! command -v "$GO" >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
	export PATH=/usr/local/go/bin:$PATH
fi
timeout_s=${CARAPACE_VM_TIMEOUT:-1200}
legs=${CARAPACE_VM_LEGS:-systemd e2e cri}
vm_env=(-e "LEGS=$legs")
[[ -n ${CARAPACE_VM_RUNTIME:-} ]] && vm_env+=(-e "RUNTIME=$CARAPACE_VM_RUNTIME")
modes=("$@")
((${#modes[@]})) || modes=(v2 hybrid)
for m in "${modes[@]}"; do
	case $m in v1 | v2 | hybrid) ;; *)
		echo "systemd.sh: unknown mode $m (want v2, hybrid or v1)" >&2
		exit 2
		;;
	esac
done
t0=$(date +%s.%N)
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1fs", b - a }'; }

bin=${CARAPACE_BINARY:-$repo/bin/carapace}
if [[ -z ${CARAPACE_BINARY:-} && ! -x $bin ]]; then
	echo "systemd.sh: $bin missing: make build" >&2
	make -C "$repo" build GO="$GO" >&2
fi
[[ -x $bin ]] || { echo "systemd.sh: no runtime binary at $bin" >&2; exit 2; }
# The image's busybox is Debian's dynamic one: the containers' rootfs gets
# this host's busybox-static instead.
if ldd /bin/busybox >/dev/null 2>&1; then
	echo "systemd.sh: /bin/busybox is not static (apt-get install busybox-static)" >&2
	exit 2
fi
# The CRI suite drives containerd with the host's crictl (the image has
# none; it needs only libc, which the image has), and the C programs of
# its images (testdata/*.c: pause, ...) are built here: the image has no
# gcc.
crictl=$(command -v crictl) || { echo "systemd.sh: no crictl (scripts/install-deps.sh installs it)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/carapace-systemd.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$bin" "$work/carapace"
cp /bin/busybox "$work/busybox"
CGO_ENABLED=0 "$GO" test -c -o "$work/systemd.test" ./tests/systemd
CGO_ENABLED=0 "$GO" test -c -o "$work/e2e.test" ./tests/e2e
CGO_ENABLED=0 "$GO" test -c -o "$work/cri.test" ./tests/cri
cp "$crictl" "$work/crictl"
mkdir "$work/prebuilt"
for c in tests/cri/testdata/*.c; do
	b=${c##*/}
	gcc -static -O2 -Wall -o "$work/prebuilt/${b%.c}" "$c"
done

# The e2e tests rerun under the driver: on v2 every cgroup test; on hybrid
# (and v1), to keep the leg short, only what differs there: the oom event
# (v1's eventfd) and delete --force of a killed create (the v1 directories
# the driver made), exec joining the cgroup of every controller. v2 also
# runs rootless --systemd-cgroup (the user's instance) and carapace check.
e2e_v2='Cgroup|Pause|Update|Events|Ps|ExecNamespaces|ExecUnderDeviceRules|DevicesNoRules|DefaultDevicesAllowTun|DeleteForceAfterKilledCreate|RootlessSystemdUserScope|TestCheck'
e2e_v1='CgroupMemoryOOM|DeleteForceAfterKilledCreate|ExecCgroupPerController'
# The CRI suite under SystemdCgroup = true. Under TCG each pod costs 20-40
# s (the shim, the pause sandbox, CNI, a scope per sandbox and container,
# on an emulated CPU, on a loaded host): the whole suite would take 10 min
# or more a boot, so the leg runs what goes through the cgroup driver:
# TestCRI's pod run, stop with a grace period (an init that ignores TERM:
# SIGKILL after 2 s), stop of an exited container, logs, and the pod's
# stop and removal; exec (joins the scope: sync, stdin, tty); stats (the
# shim reads the scope's cgroup); update of CPU and memory (the files in
# the scope); OOMKilled (the shim's OOM watch on the scope); and the
# scopes themselves (TestSystemdScope: transient, Delegate=yes, in the
# pod's slice, the process in it, nothing left after removal; both
# handlers). Each pod's removal checks that its scopes, cgroups and slice
# are gone. On hybrid, what v1 changes: the scope in every v1 hierarchy,
# the v1 files, stats, the v1 OOM eventfd. The rest of the suite
# (namespaces, CNI, port-forward, attach, restart, the stop race, the
# TERM handler's own exit) does not depend on the cgroup driver and runs
# on the host (make cri). The second level of the pattern names the
# subtests that run (a test without subtests is not filtered by it).
cri_v2='^(TestCRI|TestExec|TestStats|TestUpdate|TestOOMKilled|TestSystemdScope)$/^(RunPod|StopIgnoresTERM|StopExited|RemovePod|Sync|Stdin|TTY|carapace|runc)$'
cri_v1='^(TestStats|TestUpdate|TestOOMKilled|TestSystemdScope)$'
# Each of the three test binaries gets a third of the boot's time (the e2e
# leg alone took more than 210 s on a host loaded to 11).
tmo="$((timeout_s > 60 ? (timeout_s - 60) / 3 : timeout_s))s"
cri_tmo=$tmo

# Runs inside the VM (dash, as root, cwd = $work, in
# carapace-vm-run.service with Delegate=yes).
cat >"$work/run.sh" <<EOF2
#!/bin/sh
rc=0
# The image's root is a throwaway snapshot: the runtime off the 9p share,
# and a static busybox for the containers' rootfs.
cp "$work/busybox" /bin/busybox
cp "$work/carapace" /usr/local/sbin/carapace
cp "$work/crictl" /usr/local/bin/crictl
export CARAPACE_BINARY=\${RUNTIME:-/usr/local/sbin/carapace}
case \$MODE in v2) pat='$e2e_v2' cri='$cri_v2' ;; *) pat='$e2e_v1' cri='$cri_v1' ;; esac
case " \$LEGS " in *" systemd "*)
	"$work/systemd.test" -test.v -test.count=1 -test.timeout $tmo || rc=1 ;;
esac
case " \$LEGS " in *" e2e "*)
	CARAPACE_E2E_SYSTEMD=1 CARAPACE_E2E_KILL_STEPS=2 "$work/e2e.test" -test.v -test.count=1 -test.timeout $tmo -test.run "\$pat" || rc=1 ;;
esac
case " \$LEGS " in *" cri "*)
	echo "=== the CRI suite, SystemdCgroup = true, \$CARAPACE_BINARY, -test.run \$cri: started \$(date +%T)"
	CARAPACE_CRI_SYSTEMD=1 CARAPACE_CRI_PREBUILT="$work/prebuilt" "$work/cri.test" -test.v -test.count=1 -test.timeout $cri_tmo -test.run "\$cri" || rc=1
	echo "=== the CRI suite: ended \$(date +%T)" ;;
esac
exit \$rc
EOF2
chmod +x "$work/run.sh"
echo "systemd.sh: built the runtime and the test binaries ($(elapsed "$t0"))" >&2

failed=()
for m in "${modes[@]}"; do
	echo "=== systemd.sh: systemd VM, cgroup $m" >&2
	t1=$(date +%s.%N)
	set +e
	"$here/run-in-vm.sh" --systemd --cgroup "$m" -t "$timeout_s" -e MODE="$m" "${vm_env[@]}" "$work" "$work/run.sh" |
		tee "$work/out-$m"
	rc=${PIPESTATUS[0]}
	if ((rc == 124 || rc == 125)); then
		# The emulated VM has been seen to stall, and a boot to fail
		# under load: boot once more rather than fail CI on the emulator.
		echo "systemd.sh: the VM failed (exit $rc) on cgroup $m; booting it once more" >&2
		"$here/run-in-vm.sh" --systemd --cgroup "$m" -t "$timeout_s" -e MODE="$m" "${vm_env[@]}" "$work" "$work/run.sh" |
			tee "$work/out-$m"
		rc=${PIPESTATUS[0]}
	fi
	set -e
	pass=$(grep -c '^--- PASS' "$work/out-$m" || true)
	fail=$(grep -c '^--- FAIL' "$work/out-$m" || true)
	skip=$(grep -c '^--- SKIP' "$work/out-$m" || true)
	echo "=== systemd.sh: cgroup $m: $pass passed, $fail failed, $skip skipped; exit $rc; $(elapsed "$t1")" >&2
	if ((fail > 0)); then
		echo "systemd.sh: cgroup $m: failed: $(sed -n 's/^--- FAIL: \([^ ]*\).*/\1/p' "$work/out-$m" | tr '\n' ' ')" >&2
	fi
	if ((skip > 0)); then
		echo "systemd.sh: cgroup $m: skipped: $(sed -n 's/^--- SKIP: \([^ ]*\).*/\1/p' "$work/out-$m" | tr '\n' ' ')" >&2
	fi
	((rc == 0)) || failed+=("$m")
done
echo "systemd.sh: $((${#modes[@]} - ${#failed[@]})) of ${#modes[@]} boots passed${failed[*]:+; failed: ${failed[*]}}; $(elapsed "$t0") in all" >&2
((${#failed[@]} == 0))
