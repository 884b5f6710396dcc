#!/bin/sh
# kill-probe.sh RUNTIME [STEPS]: the kill -9 probe of TestKillCreateAtAnyMomentLeavesNoCgroup
# (tests/e2e) for any runtime, runc included: create is SIGKILLed at STEPS
# delays spread over the time a whole create takes, then `delete --force`
# runs, and what is left is counted: the state directory, cgroup
# directories named after the container in every hierarchy, processes.
# It reports; it fails on nothing (it is for comparing runtimes).
set -u
rt=${1:?usage: kill-probe.sh RUNTIME [STEPS]}
steps=${2:-40}
work=$(mktemp -d /tmp/kill-probe.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/state bundle=$work/bundle
mkdir -p "$root" "$bundle/rootfs/bin" "$bundle/rootfs/proc" "$bundle/rootfs/dev" "$bundle/rootfs/sys" "$bundle/rootfs/tmp"
cp /bin/busybox "$bundle/rootfs/bin/" && ln -s busybox "$bundle/rootfs/bin/sleep"
(cd "$bundle" && "$rt" spec && sed -i 's/"sh"/"sleep", "1000"/; s/"terminal": true/"terminal": false/' config.json)

now() { date +%s%N; }
t0=$(now); "$rt" --root "$root" create --bundle "$bundle" probe-whole >/dev/null 2>&1
whole=$(( ($(now) - t0) / 1000 )) # µs
"$rt" --root "$root" delete --force probe-whole >/dev/null 2>&1
echo "runtime $rt: a whole create takes ${whole} µs; $steps kills spread over it"
leaky=0 states=0 cgroups=0 procs=0 deletefail=0
i=1
while [ "$i" -le "$steps" ]; do
	id=probe-$i-$$
	delay=$(( whole * i / steps ))
	"$rt" --root "$root" create --bundle "$bundle" "$id" >/dev/null 2>&1 &
	pid=$!
	sleep "$(printf '0.%06d' "$delay")"
	kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	"$rt" --root "$root" delete --force "$id" >/dev/null 2>&1 || deletefail=$((deletefail + 1))
	sleep 0.2
	s=0; [ -e "$root/$id" ] && s=1
	c=$(find /sys/fs/cgroup -maxdepth 4 -type d -name "*$id*" 2>/dev/null | wc -l)
	# [p]robe: the pattern does not match grep's own command line.
	p=$(grep -l -- "[p]${id#p}" /proc/[0-9]*/cmdline 2>/dev/null | wc -l)
	p=$(( p + $(for d in /proc/[0-9]*; do readlink "$d/cwd"; done 2>/dev/null | grep -c "^$bundle") ))
	if [ $((s + c + p)) -gt 0 ]; then
		leaky=$((leaky + 1))
		echo "  kill after ${delay} µs: left state dir $s, cgroup dirs $c, processes $p"
	fi
	states=$((states + s)) cgroups=$((cgroups + c)) procs=$((procs + p))
	# Reclaim, so that the next kill starts clean.
	for d in $(find /sys/fs/cgroup -maxdepth 4 -type d -name "*$id*" 2>/dev/null); do
		for q in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$q" 2>/dev/null; done
	done
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		sleep 0.1
		find /sys/fs/cgroup -maxdepth 4 -depth -type d -name "*$id*" -exec rmdir {} \; 2>/dev/null
		[ -z "$(find /sys/fs/cgroup -maxdepth 4 -type d -name "*$id*" 2>/dev/null)" ] && break
	done
	rm -rf "${root:?}/$id"
	i=$((i + 1))
done
echo "summary: $leaky of $steps kills left something: state dirs $states, cgroup dirs $cgroups, processes $procs; delete --force failed $deletefail times"
