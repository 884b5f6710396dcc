#!/usr/bin/env bash
# Benchmarks carapace next to crun and runc (those installed), interleaved:
# CPU per run (perf stat task-clock), run wall, create+start+wait+delete,
# state, exec, peak RSS of create and of init, throughput at 8 and 32
# parallel, per-mount cost. See scripts/bench/main.go for what each figure
# is and how it is taken.
#
# usage: scripts/bench.sh [bench flags: -n N -t N -mounts 0,50,200 -ci ...] [runtime ...]
# Runs in a private mount and pid namespace with /sys/fs/cgroup/unified
# hidden (crun refuses hybrid hosts otherwise); every runtime sees the same.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
if [[ ${CARAPACE_BENCH_INNER:-} != 1 ]]; then
	command -v perf >/dev/null || { echo "bench: perf is needed (apt-get install linux-perf)" >&2; exit 1; }
	export PATH="$PATH:/usr/local/go/bin"
	go build -o bin/bench ./scripts/bench
	exec unshare --mount --pid --fork --mount-proc env CARAPACE_BENCH_INNER=1 "$0" "$@"
fi
mount --make-rprivate /
umount /sys/fs/cgroup/unified 2>/dev/null || true
flags=() runtimes=()
while (($#)); do
	case $1 in
	-ci) flags+=("$1") ;;
	-*) flags+=("$1" "$2"); shift ;;
	*) runtimes+=("$1") ;;
	esac
	shift
done
if ((${#runtimes[@]} == 0)); then
	runtimes=("$root/bin/carapace")
	for r in crun runc; do command -v $r >/dev/null && runtimes+=("$(command -v $r)"); done
fi
exec "$root/bin/bench" "${flags[@]}" "${runtimes[@]}"
