#!/usr/bin/env bash
# Wall time of `docker run --rm busybox true` with each runtime under the
# same private dockerd: what a docker user waits for, the runtime's share
# included (create, start, delete through containerd's shim).
#
# usage: scripts/bench-docker.sh [-n RUNS]
# Runs in a private mount and pid namespace (the namespace's init reaps the
# shims; /sys/fs/cgroup/unified is hidden so crun runs on this hybrid host).
# The runs of the runtimes are interleaved, so load changes hit them alike.
set -euo pipefail
n=20
while getopts n: o; do case $o in n) n=$OPTARG ;; *) exit 2 ;; esac; done
cd "$(dirname "$0")/.."
root=$PWD
if [[ ${CARAPACE_BENCH_INNER:-} != 1 ]]; then
	for tool in dockerd docker umoci skopeo; do
		command -v $tool >/dev/null || { echo "bench-docker: $tool is needed (scripts/install-deps.sh)" >&2; exit 1; }
	done
	exec unshare --mount --pid --fork --mount-proc env CARAPACE_BENCH_INNER=1 "$0" -n "$n"
fi
mount --make-rprivate /
umount /sys/fs/cgroup/unified 2>/dev/null || true
work=$(mktemp -d /tmp/carapace-benchdk.XXXXXX)
dockerd_pid=
cleanup() {
	if [[ -n $dockerd_pid ]]; then
		local d=(command docker -H "unix://$work/docker.sock")
		"${d[@]}" rm -f $("${d[@]}" ps -aq) >/dev/null 2>&1 || true
		kill "$dockerd_pid" 2>/dev/null && wait "$dockerd_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

# The image: busybox-static, made an image by umoci, a docker archive by skopeo.
umoci init --layout "$work/oci" >/dev/null
umoci new --image "$work/oci:latest" >/dev/null
umoci unpack --image "$work/oci:latest" "$work/unpacked" >/dev/null
mkdir -p "$work/unpacked/rootfs/bin"
cp /bin/busybox "$work/unpacked/rootfs/bin/"
ln -s busybox "$work/unpacked/rootfs/bin/true"
umoci repack --image "$work/oci:latest" "$work/unpacked" >/dev/null
skopeo copy -q "oci:$work/oci:latest" "docker-archive:$work/busybox.tar:busybox:bench" >/dev/null

runtimes=(carapace runc)
args=(--add-runtime "carapace=$root/bin/carapace")
if command -v crun >/dev/null; then
	runtimes+=(crun)
	args+=(--add-runtime "crun=$(command -v crun)")
fi
echo '{}' >"$work/daemon.json"
dockerd --data-root "$work/data" --exec-root "$work/exec" --pidfile "$work/docker.pid" \
	-H "unix://$work/docker.sock" --config-file "$work/daemon.json" --bridge=none \
	--iptables=false --ip-masq=false --storage-driver vfs "${args[@]}" >"$work/dockerd.log" 2>&1 &
dockerd_pid=$!
docker() { command docker -H "unix://$work/docker.sock" "$@"; }
for _ in $(seq 100); do docker version >/dev/null 2>&1 && break; sleep 0.2; done
docker load -q -i "$work/busybox.tar" >/dev/null

# One warm-up run each, then n interleaved rounds.
for rt in "${runtimes[@]}"; do docker run --rm --runtime "$rt" busybox:bench true; done
for _ in $(seq "$n"); do
	for rt in "${runtimes[@]}"; do
		start=$(date +%s%N)
		docker run --rm --runtime "$rt" busybox:bench true
		echo "$rt $((($(date +%s%N) - start) / 1000))" >>"$work/times"
	done
done
echo "docker run --rm busybox true, $n runs each, wall ms (median / mean / min):"
for rt in "${runtimes[@]}"; do
	awk -v rt="$rt" '$1 == rt {print $2 / 1000}' "$work/times" | sort -n |
		awk -v rt="$rt" '{v[NR] = $1; s += $1} END {printf "  %-9s %7.1f / %7.1f / %7.1f\n", rt, v[int((NR + 1) / 2)], s / NR, v[1]}'
done
