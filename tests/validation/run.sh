#!/usr/bin/env bash
# Runs the opencontainers/runtime-tools validation suite against an OCI
# runtime and summarises its TAP output. See README.md beside this file.
set -euo pipefail

readonly MODULE=github.com/opencontainers/runtime-tools
# The 2025-05-23 commit is the comparable suite (runtime-spec 1.1.0 configs);
# see /work/shared/notes/validation-baseline.md.
readonly DEFAULT_VERSION=v0.9.1-0.20250523060157-0ea5ed0382a2

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
self=$here/$(basename "${BASH_SOURCE[0]}")

usage() {
	cat <<EOF
usage: ${0##*/} [-r RUNTIME_BINARY] [-v VERSION] [-t TIMEOUT_SECS] [-o OUTDIR]
                [-e EXPECTED_FAILURES_FILE] [-k] [-s] [PROGRAM...]

  -r  runtime binary to validate (default: \$RUNTIME)
  -v  runtime-tools pseudo-version (default: $DEFAULT_VERSION)
  -t  per-program timeout in seconds (default: 60)
  -o  directory for <program>.tap/.err and summary.tsv (default: a new temp dir)
  -e  allow-list of programs expected to fail (default: expected-failures.txt here)
  -k  keep each program's scratch directory
  -s  strict: exit 1 if a program not in the allow-list does not fully pass
  PROGRAM...  run only these validation programs (default: all)
EOF
}

die() { echo "run.sh: $*" >&2; exit 2; }

runtime=${RUNTIME:-}
version=$DEFAULT_VERSION
timeout_secs=60
outdir=
allow_file=$here/expected-failures.txt
keep=0
strict=0
while getopts ':r:v:t:o:e:ksh' opt; do
	case $opt in
	r) runtime=$OPTARG ;;
	v) version=$OPTARG ;;
	t) timeout_secs=$OPTARG ;;
	o) outdir=$OPTARG ;;
	e) allow_file=$OPTARG ;;
	k) keep=1 ;;
	s) strict=1 ;;
	h) usage; exit 0 ;;
	:) usage >&2; die "-$OPTARG needs an argument" ;;
	*) usage >&2; die "unknown option -$OPTARG" ;;
	esac
done
shift $((OPTIND - 1))
selected=("$@")

[[ -n $runtime ]] || { usage >&2; die "no runtime: pass -r or set RUNTIME"; }
[[ $timeout_secs =~ ^[1-9][0-9]*$ ]] || die "timeout must be a positive integer: $timeout_secs"
# The programs run in scratch dirs and exec $RUNTIME themselves, so it must
# be an absolute path.
if [[ $runtime == */* ]]; then
	runtime=$(realpath -e -- "$runtime") || die "runtime not found: $runtime"
else
	runtime=$(command -v -- "$runtime") || die "runtime not found in PATH: $runtime"
fi
[[ -x $runtime ]] || die "runtime is not executable: $runtime"
[[ -z $allow_file || -r $allow_file ]] || die "cannot read allow-list: $allow_file"

GO=$(command -v go || echo /usr/local/go/bin/go)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/carapace-validation/$version
bindir=$cache/bin
srcdir=$cache/src

suite_is_built() {
	[[ -f $cache/.complete && -f $cache/programs.txt && -x $bindir/runtimetest && -f $srcdir/rootfs-amd64.tar.gz ]] || return 1
	local p
	while read -r p; do [[ -x $bindir/$p ]] || return 1; done <"$cache/programs.txt"
}

# Builds every validation program plus a static runtimetest into $cache,
# once per version. The module's own go.mod drives the build, but its zip
# ships only vendor/modules.txt, hence -mod=mod.
build_suite() {
	suite_is_built && return 0
	[[ -x $GO ]] || die "go toolchain not found"
	mkdir -p "$cache"
	# Two runs sharing a cache must not build into each other's temp dirs.
	exec 9>"$cache/.lock"
	flock 9
	if suite_is_built; then exec 9>&-; return 0; fi

	echo "# building runtime-tools $version in $cache" >&2
	local t0=$SECONDS moddir json=$cache/download.json
	# A throwaway module to download from, so that no enclosing go.mod (or
	# go.work, or GOFLAGS from the caller) is consulted or touched.
	printf 'module carapace-validation-cache\n\ngo 1.21\n' >"$cache/go.mod"
	if ! (cd "$cache" && GOWORK=off GOFLAGS='' "$GO" mod download -json "$MODULE@$version") >"$json"; then
		cat "$json" >&2
		die "cannot download $MODULE@$version"
	fi
	moddir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' "$json")
	[[ -d $moddir ]] || die "no module dir in go mod download output ($json)"

	# The module cache is read-only and go build -mod=mod may write go.sum.
	rm -rf "$cache/src.tmp" "$cache/bin.tmp"
	cp -R "$moddir" "$cache/src.tmp"
	chmod -R u+w "$cache/src.tmp"
	# One go build for all 59 main packages shares compilation of the common
	# dependencies; runtimetest runs inside busybox containers, so static.
	(cd "$cache/src.tmp" &&
		CGO_ENABLED=0 GOWORK=off GOFLAGS='' "$GO" build -mod=mod -buildvcs=false \
			-o "$cache/bin.tmp/" ./validation/... ./cmd/runtimetest) ||
		die "build of $MODULE@$version failed"

	local d n progs=()
	for d in "$cache/src.tmp"/validation/*/; do
		n=$(basename "$d")
		[[ -f $d/$n.go ]] && progs+=("$n")
	done
	((${#progs[@]} > 0)) || die "no validation programs found in $MODULE@$version"
	printf '%s\n' "${progs[@]}" >"$cache/programs.txt"
	rm -rf "$srcdir" "$bindir"
	mv "$cache/src.tmp" "$srcdir"
	mv "$cache/bin.tmp" "$bindir"
	touch "$cache/.complete"
	exec 9>&-
	echo "# built ${#progs[@]} programs + runtimetest in $((SECONDS - t0)) s" >&2
}

# Prints "ok notok skip free_errors" for a TAP file. Only top-level lines
# count (runtimetest's TAP appears there too; indented TAP inside YAML
# diagnostics does not). A YAML block carrying an `error` key that does not
# follow an assertion is how hooks/poststart/... report failure (tap-go
# writes the block as indented JSON). Descriptions span lines ("Refer to:
# ..."), so only TAP syntax, not any line, separates a block from its
# assertion.
tap_counts() {
	awk '
	inyaml {
		if ($0 ~ /^  \.\.\.$/) inyaml = 0
		else if (!attached && $0 ~ /^[ \t]+"?error"?[ \t]*:/) free_err++
		next
	}
	/^  ---$/            { inyaml = 1; attached = (prev == "assert"); next }
	/^not ok([ \t]|$)/   { notok++; prev = "assert"; next }
	/^ok([ \t]|$)/       { if (tolower($0) ~ /^ok[^#]*#[ \t]*skip/) skip++; else ok++
	                       prev = "assert"; next }
	/^TAP version|^[0-9]+\.\.[0-9]+|^Bail out!/ { prev = "other"; next }
	END { printf "%d %d %d %d\n", ok, notok, skip, free_err }
	' "$1"
}

build_suite
mapfile -t all_programs <"$cache/programs.txt"
if ((${#selected[@]} == 0)); then
	selected=("${all_programs[@]}")
else
	for p in "${selected[@]}"; do
		grep -qxF -- "$p" "$cache/programs.txt" || die "no such validation program in $version: $p"
	done
fi

if [[ -z $outdir ]]; then
	outdir=$(mktemp -d "${TMPDIR:-/tmp}/carapace-validation-results.XXXXXX")
fi
mkdir -p "$outdir"
outdir=$(realpath "$outdir")

# Orphaned container processes must be reaped and a timed-out program's
# leftovers killed, and this VM's PID 1 does neither. Re-run ourselves as
# PID 1 of a private pid namespace: bash reaps orphans, `kill -KILL -1` from
# there reaches only this run's processes, and everything dies with us.
if [[ ${_CARAPACE_VALIDATION_PIDNS:-} != 1 ]]; then
	if ((EUID == 0)) && unshare --fork --pid --mount-proc true 2>/dev/null; then
		args=(-r "$runtime" -v "$version" -t "$timeout_secs" -o "$outdir" -e "$allow_file")
		((keep)) && args+=(-k)
		((strict)) && args+=(-s)
		_CARAPACE_VALIDATION_PIDNS=1 exec unshare --fork --pid --mount-proc --kill-child -- \
			bash "$self" "${args[@]}" -- "${selected[@]}"
	fi
	echo "# warning: no private pid namespace (not root or no unshare); orphans are not reaped" >&2
fi
((EUID == 0)) || echo "# warning: not root; most programs need root" >&2

in_pidns=0
(($$ == 1)) && in_pidns=1
reap_leftovers() {
	# Never outside our own namespace: there -1 means every process we may signal.
	if ((in_pidns)); then kill -KILL -1 2>/dev/null || true; fi
}

# A container without its own mount namespace (linux_ns_itype) gets its
# proc/dev/sys mounted in ours, inside the bundle. Unmount whatever is left
# under a scratch dir, deepest first, before deleting it; --one-file-system
# then guarantees rm never descends into something a mount points at.
# leaks_of SCRATCH: what the program left, one per line: container state
# dirs under its runtime root, the cgroup directories (any hierarchy) named
# after them, mounts under the scratch dir.
leaks_of() {
	local id
	for id in $(ls -A "$1/state" 2>/dev/null); do
		echo "state dir: $1/state/$id"
		find /sys/fs/cgroup -mindepth 1 -maxdepth 5 -type d -name "*$id*" 2>/dev/null | sed 's/^/cgroup: /'
	done
	awk -v pfx="$1/" 'index($5, pfx) == 1 { print "mount: " $5 }' /proc/self/mountinfo
}

remove_scratch() {
	local m
	awk -v pfx="$1/" 'index($5, pfx) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
	rm -rf --one-file-system "$1" ||
		echo "run.sh: warning: could not fully remove $1" >&2
}

work=$(mktemp -d "${TMPDIR:-/tmp}/carapace-validation-work.XXXXXX")
# mktemp makes it 0700, which a container's mapped root (user namespace
# programs) could not traverse to reach its bundle.
chmod 0755 "$work"
child=
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
	if [[ -n $child ]]; then kill -TERM "$child" 2>/dev/null || true; fi
	reap_leftovers
	if ((!keep)); then remove_scratch "$work" 2>/dev/null; fi
}
trap cleanup EXIT
trap 'echo "run.sh: interrupted" >&2; exit 130' INT TERM

allowed=()
if [[ -n $allow_file ]]; then
	mapfile -t allowed < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$allow_file")
fi
is_allowed() { local a; for a in "${allowed[@]}"; do [[ $a == "$1" ]] && return 0; done; return 1; }

echo "# runtime $runtime, runtime-tools $version, timeout ${timeout_secs}s, results in $outdir"
printf 'program\tstatus\texit\tseconds\tok\tnotok\tskip\n' >"$outdir/summary.tsv"
total_ok=0 total_fail=0 total_skip=0 passing=0
failed_programs=() passed_programs=() leaky_programs=()
for name in "${selected[@]}"; do
	scratch=$work/$name
	mkdir -p "$scratch/tmp"
	# Copies, not symlinks: the programs copy runtimetest into each bundle.
	cp "$bindir/runtimetest" "$srcdir/rootfs-amd64.tar.gz" "$scratch/"
	# The programs call the runtime without --root: give it one in the
	# scratch dir, so that a program that fails or times out half-way
	# leaves no container state behind in the machine's default root.
	printf '#!/bin/sh\nexec %q --root %q "$@"\n' "$runtime" "$scratch/state" >"$scratch/runtime"
	chmod +x "$scratch/runtime"

	start_us=${EPOCHREALTIME//[!0-9]/}
	# Bundles come from os.MkdirTemp, so TMPDIR keeps them in the scratch dir.
	# Backgrounded + wait so that a signal interrupts us promptly.
	(cd "$scratch" && RUNTIME=$scratch/runtime TMPDIR=$scratch/tmp \
		exec timeout -k 5 "$timeout_secs" "$bindir/$name") \
		</dev/null >"$outdir/$name.tap" 2>"$outdir/$name.err" &
	child=$!
	rc=0
	wait "$child" || rc=$?
	child=
	elapsed_us=$((${EPOCHREALTIME//[!0-9]/} - start_us))
	program_leaks=$(leaks_of "$scratch")
	reap_leftovers
	if ((!keep)); then remove_scratch "$scratch"; fi

	read -r ok notok skip free_err < <(tap_counts "$outdir/$name.tap")
	timed_out=0
	# 124: TERM sufficed; 137: timeout had to follow up with KILL.
	if ((rc == 124)) || ((rc == 137 && elapsed_us >= timeout_secs * 1000000)); then
		timed_out=1
	fi
	# A failure no `not ok` line records still costs one assertion.
	if ((notok == 0)) && ((timed_out || rc != 0 || free_err > 0)); then
		notok=1
	fi
	if ((timed_out)); then
		status=TIMEOUT
	elif ((rc == 0 && notok == 0)); then
		status=ok
	else
		status=FAIL
	fi
	if [[ $status == ok ]]; then
		passing=$((passing + 1))
		passed_programs+=("$name")
	else
		failed_programs+=("$name")
	fi
	total_ok=$((total_ok + ok)) total_fail=$((total_fail + notok)) total_skip=$((total_skip + skip))
	printf '%s: %s  (%d/%d/%d assertions)\n' "$name" "$status" "$ok" "$notok" "$skip"
	if [[ -n $program_leaks ]]; then
		echo "$program_leaks" | sed "s|^|  leak ($name): |"
		# A program that passed owns what is left: its containers were
		# deleted, so anything left is the runtime's.
		[[ $status == ok ]] && leaky_programs+=("$name")
	fi
	printf '%s\t%s\t%d\t%d.%02d\t%d\t%d\t%d\n' "$name" "$status" "$rc" \
		$((elapsed_us / 1000000)) $((elapsed_us % 1000000 / 10000)) "$ok" "$notok" "$skip" \
		>>"$outdir/summary.tsv"
done

unexpected=()
for p in "${failed_programs[@]}"; do
	is_allowed "$p" || unexpected+=("$p")
done
for p in "${passed_programs[@]}"; do
	is_allowed "$p" && echo "unexpected pass: $p (listed in ${allow_file##*/})"
done
for p in "${unexpected[@]}"; do
	echo "unexpected failure: $p"
done
((keep)) && echo "# scratch dirs kept in $work"
echo "validation programs fully passing: $passing of ${#selected[@]}"
echo "validation: $total_ok passed, $total_fail failed, $total_skip skipped"

if ((${#leaky_programs[@]} > 0)); then
	echo "validation: LEAK CHECK FAILED: passing programs left containers behind: ${leaky_programs[*]}"
else
	echo "validation: leak check passed: no passing program left a state dir, cgroup or mount"
fi
if ((strict && (${#unexpected[@]} > 0 || ${#leaky_programs[@]} > 0))); then
	exit 1
fi
exit 0
