#!/usr/bin/env bash
# tests/vm/systemd-selftest.sh - check the systemd VM of `run-in-vm.sh --systemd`
# in each cgroup layout (`make vm-systemd-selftest`).
#
#   tests/vm/systemd-selftest.sh [MODE...]       MODE: v2 v1 hybrid (default: all three)
#
# For each MODE it boots the VM once and checks, inside: PID 1 is systemd,
# /run/systemd/system exists, the system is running (or degraded), the system
# bus answers (busctl), a transient scope with Delegate=yes starts (systemd-run
# --scope, i.e. StartTransientUnit over dbus), the command runs in
# carapace-vm-run.service, the cgroup layout is MODE's, and containerd and runc
# are there (containerd is started with systemctl). The harness's own contract
# is checked at the same time: -e reaches the command, stdout and stderr arrive
# separately, and the command's exit status (42 when all is well) is the
# script's. Prints the time to boot to the command and of the whole run.
# Environment: CARAPACE_VM_TIMEOUT (seconds per boot, default 300), and
# run-in-vm.sh's (CARAPACE_VM_MEM, CARAPACE_VM_CPUS, ...).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
timeout_s=${CARAPACE_VM_TIMEOUT:-300}
modes=("$@")
((${#modes[@]})) || modes=(v2 v1 hybrid)
for m in "${modes[@]}"; do
	case $m in v1 | v2 | hybrid) ;; *)
		echo "systemd-selftest.sh: unknown mode $m (want v2, v1 or hybrid)" >&2
		exit 2
		;;
	esac
done

work=$(mktemp -d "${TMPDIR:-/tmp}/carapace-vm-systemd.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Runs inside the VM (dash, as root, cwd = $work). Every check prints one
# "ok"/"FAIL" line; exits 42 if all passed, 1 otherwise.
cat >"$work/check.sh" <<'EOF'
#!/bin/sh
started=$(cut -d' ' -f1 /proc/uptime)
fails=0
ok() { echo "ok   $*"; }
no() { echo "FAIL $*"; fails=$((fails + 1)); }
check() { # DESCRIPTION COMMAND...
	d=$1; shift
	if out=$("$@" 2>&1); then ok "$d"; else no "$d: $(echo "$out" | tail -n 3 | tr '\n' ' ')"; fi
}
fstype() { stat -fc %T "$1" 2>/dev/null; }

echo "the command started ${started}s after the kernel booted"
echo "to stderr" >&2
[ "$SELFTEST_MODE" = "$EXPECT_MODE" ] && ok "-e passes the environment" || no "-e: SELFTEST_MODE=$SELFTEST_MODE"
[ "$(pwd)" = "$WORKDIR" ] && ok "cwd is the shared DIR" || no "cwd is $(pwd), not $WORKDIR"
[ -f check.sh ] && ok "DIR is shared" || no "DIR is not shared"

[ "$(cat /proc/1/comm)" = systemd ] && ok "PID 1 is systemd ($(readlink /proc/1/exe))" || no "PID 1 is $(cat /proc/1/comm)"
[ -d /run/systemd/system ] && ok "/run/systemd/system exists" || no "no /run/systemd/system"
state=$(timeout 120 systemctl is-system-running --wait 2>&1)
case $state in
running) ok "systemctl is-system-running: $state" ;;
degraded) ok "systemctl is-system-running: $state (failed: $(systemctl --failed --no-legend --plain | cut -d' ' -f1 | tr '\n' ' '))" ;;
*) no "systemctl is-system-running: $state" ;;
esac
check "busctl status (the system bus)" busctl status
v=$(busctl get-property org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager Version 2>&1) &&
	ok "systemd over dbus: Version $v" || no "Manager.Version over dbus: $v"
grep -q '/carapace-vm-run.service$' /proc/self/cgroup && ok "the command runs in carapace-vm-run.service" ||
	no "the command's cgroup: $(cat /proc/self/cgroup | tr '\n' ' ')"
check "systemd-run --scope -p Delegate=yes true" systemd-run --quiet --scope -p Delegate=yes true
cg=$(systemd-run --quiet --scope -p Delegate=yes --unit=selftest-scope cat /proc/self/cgroup 2>&1)
case $cg in
*/selftest-scope.scope*) ok "a transient scope gets its own cgroup" ;;
*) no "transient scope cgroup: $cg" ;;
esac

case $EXPECT_MODE in
v2)
	[ "$(fstype /sys/fs/cgroup)" = cgroup2fs ] && ok "v2: /sys/fs/cgroup is cgroup2" || no "v2: /sys/fs/cgroup is $(fstype /sys/fs/cgroup)"
	grep -q ' cgroup ' /proc/self/mounts && no "v2: a v1 hierarchy is mounted" || ok "v2: no v1 hierarchy mounted"
	c=$(cat /sys/fs/cgroup/cgroup.subtree_control)
	echo " $c " | grep -q ' memory .*pids ' && ok "v2: root subtree_control: $c" || no "v2: root subtree_control: $c"
	;;
v1 | hybrid)
	[ "$(fstype /sys/fs/cgroup)" = tmpfs ] && ok "$EXPECT_MODE: /sys/fs/cgroup is a tmpfs" || no "$EXPECT_MODE: /sys/fs/cgroup is $(fstype /sys/fs/cgroup)"
	missing=
	for c in memory pids cpu,cpuacct devices freezer; do
		[ "$(fstype /sys/fs/cgroup/$c)" = cgroupfs ] || missing="$missing $c"
	done
	[ -z "$missing" ] && ok "$EXPECT_MODE: v1 hierarchies: $(ls /sys/fs/cgroup | tr '\n' ' ')" ||
		no "$EXPECT_MODE: not v1 hierarchies:$missing"
	if [ "$EXPECT_MODE" = hybrid ]; then
		[ "$(fstype /sys/fs/cgroup/unified)" = cgroup2fs ] && ok "hybrid: cgroup2 at /sys/fs/cgroup/unified" || no "hybrid: no cgroup2 at /sys/fs/cgroup/unified"
		[ "$(fstype /sys/fs/cgroup/systemd)" = cgroupfs ] && ok "hybrid: name=systemd v1 hierarchy" || no "hybrid: /sys/fs/cgroup/systemd is $(fstype /sys/fs/cgroup/systemd)"
	else
		grep -q ' cgroup2 ' /proc/self/mounts && no "v1: a cgroup2 hierarchy is mounted" || ok "v1: no cgroup2 mounted"
		grep -q '^0::' /proc/self/cgroup && no "v1: /proc/self/cgroup has a v2 line" || ok "v1: name=systemd tracks the processes"
		[ "$(fstype /sys/fs/cgroup/systemd)" = cgroupfs ] && ok "v1: name=systemd v1 hierarchy" || no "v1: /sys/fs/cgroup/systemd is $(fstype /sys/fs/cgroup/systemd)"
	fi
	;;
esac

check "runc is installed" runc --version
check "systemctl start containerd" timeout 120 systemctl start containerd
check "ctr version (containerd answers)" timeout 60 ctr version
echo "systemd-analyze: $(systemd-analyze time 2>&1 | head -n 1)"
echo "checks done $(cut -d' ' -f1 /proc/uptime)s after boot"
[ $fails = 0 ] && exit 42
exit 1
EOF
chmod +x "$work/check.sh"

total=0 failed=()
for m in "${modes[@]}"; do
	echo "=== systemd VM, cgroup $m" >&2
	t0=$(date +%s.%N)
	set +e
	"$here/run-in-vm.sh" --systemd --cgroup "$m" -t "$timeout_s" \
		-e SELFTEST_MODE="$m" -e EXPECT_MODE="$m" -e WORKDIR="$work" \
		"$work" "$work/check.sh" >"$work/out" 2>"$work/err"
	rc=$?
	set -e
	t=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	cat "$work/out"
	grep -v '^to stderr$' "$work/err" >&2 || true
	why=
	((rc == 42)) || why="exit status $rc, want 42"
	grep -q '^FAIL' "$work/out" && why="${why:+$why; }$(grep -c '^FAIL' "$work/out") checks failed"
	grep -qx 'to stderr' "$work/err" || why="${why:+$why; }stderr did not arrive"
	grep -q '^to stderr' "$work/out" && why="${why:+$why; }stderr arrived on stdout"
	if [[ -n $why ]]; then
		echo "=== FAIL cgroup $m (${t}s): $why" >&2
		failed+=("$m")
	else
		echo "=== PASS cgroup $m: $(sed -n 's/^the command started \(.*\) after.*/boot to command \1/p' "$work/out"), whole run ${t}s" >&2
	fi
	total=$((total + 1))
done
echo "systemd-selftest.sh: $((total - ${#failed[@]})) of $total modes passed${failed[*]:+; failed: ${failed[*]}}" >&2
((${#failed[@]} == 0))
