#!/usr/bin/env bash
# Benchmarks `run` of /bin/true on one busybox bundle: CPU (perf stat
# task-clock, summed over every process of the run) and wall time, for
# carapace and, when installed, runc and crun side by side.
#
# usage: scripts/bench.sh [-n RUNS] [runtime ...]
# Runs in a private mount and pid namespace with /sys/fs/cgroup/unified
# hidden (crun refuses hybrid hosts otherwise); every runtime sees the same.
set -euo pipefail
n=50
while getopts n: o; do case $o in n) n=$OPTARG ;; *) exit 2 ;; esac; done
shift $((OPTIND - 1))
cd "$(dirname "$0")/.."
root=$PWD
if [[ ${CARAPACE_BENCH_INNER:-} != 1 ]]; then
	command -v perf >/dev/null || { echo "bench: perf is needed (apt-get install linux-perf)" >&2; exit 1; }
	exec unshare --mount --pid --fork --mount-proc env CARAPACE_BENCH_INNER=1 "$0" -n "$n" "$@"
fi
mount --make-rprivate /
umount /sys/fs/cgroup/unified 2>/dev/null || true
runtimes=("$@")
if ((${#runtimes[@]} == 0)); then
	runtimes=("$root/bin/carapace")
	for r in runc crun; do command -v $r >/dev/null && runtimes+=("$(command -v $r)"); done
fi
work=$(mktemp -d /tmp/carapace-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bundle/rootfs/bin"
cp /bin/busybox "$work/bundle/rootfs/bin/"
ln -s busybox "$work/bundle/rootfs/bin/true"
"$root/bin/carapace" spec --bundle "$work/bundle"
# ociVersion 1.0.2: the newest that crun 1.8.1 accepts.
sed -i -e 's/"terminal": true/"terminal": false/' -e 's|"sh"$|"/bin/true"|' \
	-e 's/"ociVersion": "[^"]*"/"ociVersion": "1.0.2"/' "$work/bundle/config.json"
cd "$work/bundle"
# One run of one runtime: CPU ms (task-clock of every process of the run).
cpu_of() {
	perf stat -x, -e task-clock -- "$1" --root "$2" run "b$3" 2>&1 >/dev/null |
		awk -F, '/task-clock/ {print $1}'
}
for rt in "${runtimes[@]}"; do
	for i in 1 2 3; do "$rt" --root "$work/state-$(basename "$rt")" run "warm$i" >/dev/null; done
done
# Interleaved, so that the machine's drift hits every runtime alike.
for i in $(seq 1 "$n"); do
	for rt in "${runtimes[@]}"; do
		name=$(basename "$rt")
		t0=$(date +%s%N)
		c=$(cpu_of "$rt" "$work/state-$name" "$i")
		echo "$c $(( ($(date +%s%N) - t0) / 1000 ))" >>"$work/samples-$name"
	done
done
for rt in "${runtimes[@]}"; do
	name=$(basename "$rt")
	cpu=$(sort -n "$work/samples-$name" | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]}')
	wall=$(sort -k2 -n "$work/samples-$name" | awk '{a[NR]=$2} END {printf "%.2f", a[int((NR+1)/2)]/1000}')
	printf '%-10s run /bin/true: cpu %6s ms  wall %6s ms  (median of %d, interleaved)\n' "$name" "$cpu" "$wall" "$n"
done
