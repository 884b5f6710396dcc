#!/usr/bin/env bash
# CPU time of `run` of /bin/true with and without --systemd-cgroup, for
# carapace and runc (Debian's 1.1.5 in the image), in the VM booted by
# systemd on cgroup v2 (tests/vm/run-in-vm.sh --systemd).
#
# usage: scripts/bench-systemd.sh [-n RUNS] [-m v2|hybrid|v1]   (default 20, v2)
#
# Per run: user+sys of the runtime's process tree (bash's `time`: the
# runtime and every child it waited for, the container's init among them),
# and the CPU that systemd (PID 1) spent meanwhile (utime+stime of
# /proc/1/stat: the scope's start and stop, over D-Bus). Medians of RUNS,
# the four variants interleaved so that drift hits them alike, after two
# warm-up runs each. CARAPACE_BINARY: the runtime (default bin/carapace,
# static as `make build` makes it).
set -euo pipefail
n=20 mode=v2
while getopts n:m: o; do case $o in n) n=$OPTARG ;; m) mode=$OPTARG ;; *) exit 2 ;; esac; done
cd "$(dirname "$0")/.."
repo=$PWD

if [[ ${CARAPACE_BENCH_INNER:-} != 1 ]]; then
	bin=${CARAPACE_BINARY:-$repo/bin/carapace}
	[[ -x $bin ]] || make build >&2
	if ldd /bin/busybox >/dev/null 2>&1; then
		echo "bench-systemd: /bin/busybox must be static (busybox-static)" >&2
		exit 2
	fi
	work=$(mktemp -d "${TMPDIR:-/tmp}/carapace-bench-sd.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	cp "$bin" "$work/carapace"
	cp /bin/busybox "$work/busybox"
	cp "$0" "$work/bench.sh"
	exec tests/vm/run-in-vm.sh --systemd --cgroup "$mode" -t 900 \
		-e CARAPACE_BENCH_INNER=1 -e WORK="$work" "$work" bash "$work/bench.sh" -n "$n" -m "$mode"
fi

# In the VM (as root, in carapace-vm-run.service).
cp "$WORK/carapace" /usr/local/sbin/carapace
# Two bundles on one rootfs: the cgroupfs driver's cgroup must be outside
# carapace-vm-run.service, which holds processes (cgroup v2 lets no
# controller be enabled below a cgroup with processes): an absolute path
# under the root. The systemd driver's is the default system.slice scope.
b=/tmp/bench
mkdir -p $b/rootfs/bin
cp "$WORK/busybox" $b/rootfs/bin/busybox
ln -s busybox $b/rootfs/bin/true
carapace spec --bundle $b
sed -i -e 's/"terminal": true/"terminal": false/' -e 's|"sh"$|"/bin/true"|' -e 's|"path": "rootfs"|"path": "/tmp/bench/rootfs"|' $b/config.json
mkdir -p $b/fs $b/sd
cp $b/config.json $b/sd/config.json
sed -e 's|"linux": {|"linux": { "cgroupsPath": "/carapace-bench",|' $b/config.json >$b/fs/config.json
variants=("carapace" "carapace --systemd-cgroup" "runc" "runc --systemd-cgroup")
bundles=(fs sd fs sd)
pid1_ticks() { awk '{print $14 + $15}' /proc/1/stat; }
hz=$(getconf CLK_TCK)
TIMEFORMAT='%3U %3S'
one() { # VARIANT-INDEX ID
	local v=${variants[$1]} t0 t1 cpu
	t0=$(pid1_ticks)
	# shellcheck disable=SC2086
	# A failed run would be measured as a fast one: stop instead.
	if ! cpu=$({ time $v --root /run/bench-$1 run --bundle "$b/${bundles[$1]}" "$2" >/dev/null 2>"$b/err"; } 2>&1); then
		echo "bench-systemd: $v run failed: $(cat "$b/err")" >&2
		exit 1
	fi
	t1=$(pid1_ticks)
	echo "$cpu $((t1 - t0))"
}
echo "$(uname -r), systemd $(systemctl --version | head -n 1 | cut -d' ' -f2), cgroup $(stat -fc %T /sys/fs/cgroup), $(nproc) vCPUs; $(carapace --version | head -n 1); $(runc --version | head -n 1)"
for i in 0 1 2 3; do for w in 1 2; do one $i warm$w >/dev/null; done; done
for r in $(seq 1 "$n"); do
	for i in 0 1 2 3; do one $i "r$r" >>$b/samples-$i; done
done
# PID 1's ticks are 10 ms each: its mean per run, not a median.
med() { sort -n | awk '{a[NR] = $1} END {printf "%d %d-%d", a[int((NR + 1) / 2)], a[1], a[NR]}'; }
printf '%-26s %-22s %s\n' "run /bin/true, $n runs" "user+sys ms (min-max)" "systemd (PID 1) ms/run"
for i in 0 1 2 3; do
	f=$b/samples-$i
	cpu=$(awk '{printf "%.0f\n", ($1 + $2) * 1000}' $f | med)
	pid1=$(awk -v hz="$hz" '{t += $3} END {printf "%.1f", t * 1000 / hz / NR}' $f)
	printf '%-26s %-22s %s\n' "${variants[$i]}" "$cpu" "$pid1"
done
