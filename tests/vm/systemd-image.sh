#!/usr/bin/env bash
# tests/vm/systemd-image.sh - build (once) and print the path of the root
# filesystem image that `run-in-vm.sh --systemd` boots: Debian bookworm
# (debootstrap minbase) with systemd as PID 1, dbus, containerd and runc from
# Debian. Only packages and configuration: the unit that runs the host's
# command is installed at boot by run-in-vm.sh's stage 1, so that changing
# the harness does not rebuild the image.
#
#   tests/vm/systemd-image.sh [--rebuild] [-v]
#
# The image is an ext4 file, read-only to its users: QEMU boots it with
# snapshot=on, so every run starts from the same clean tree. It is cached as
# ${CARAPACE_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/carapace-vm}/systemd-bookworm-<hash>.ext4
# where <hash> is that of this file: changing the recipe below makes a new
# image. Images of other recipes are deleted once unused for 3 days, so that
# worktrees on different recipes do not rebuild each other's. The build runs
# under flock on .lock-systemd in the cache (not the kernel's .lock, so that
# a 3-5 minute build does not hold up the plain VM) and needs root
# (debootstrap, mkfs.ext4 -d with owners), network access to the Debian
# mirror (CARAPACE_VM_MIRROR, default http://deb.debian.org/debian), and
# installs debootstrap and e2fsprogs with apt-get when missing.
set -euo pipefail

PROG=${0##*/}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "$PROG: $*" >&2; exit 125; }
REBUILD=0
VERBOSE=0
while (($#)); do
	case $1 in
	--rebuild) REBUILD=1 ;;
	-v | --verbose) VERBOSE=1 ;;
	*) die "usage: $PROG [--rebuild] [-v]" ;;
	esac
	shift
done

SUITE=bookworm
MIRROR=${CARAPACE_VM_MIRROR:-http://deb.debian.org/debian}
# systemd-sysv makes systemd /sbin/init; dbus is the system bus the systemd
# cgroup driver talks to (StartTransientUnit); containerd and runc for the
# client tests; kmod so that systemd's modprobe@ units find modprobe;
# dbus-user-session gives a user's systemd instance (user@UID.service) its
# bus at $XDG_RUNTIME_DIR/bus, which the rootless systemd driver talks to;
# containernetworking-plugins and iptables are the CRI suite's pod network
# (bridge, host-local, portmap) under SystemdCgroup = true.
PACKAGES=systemd-sysv,dbus,containerd,runc,busybox,iproute2,kmod,procps,psmisc,dbus-user-session,containernetworking-plugins,iptables
# Units masked: they would only cost boot time under TCG (each is seconds
# there: the boot to the command went from 30 s to 12 s of userspace) or
# wake up in the middle of a test. The image has no kernel modules (stage 1
# loads what the VM needs from the initramfs), so modprobe@ and modules-load
# have nothing to do; / is mounted read-write by stage 1 and /etc is as
# built (remount-fs, sysusers, the ConditionNeedsUpdate units); no logins.
MASK="getty.target console-getty.service serial-getty@ttyS0.service
  systemd-logind.service systemd-user-sessions.service
  modprobe@.service systemd-modules-load.service proc-sys-fs-binfmt_misc.automount
  systemd-binfmt.service systemd-pstore.service systemd-remount-fs.service
  systemd-sysusers.service ldconfig.service systemd-hwdb-update.service
  systemd-journal-catalog-update.service systemd-update-done.service
  apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer
  e2scrub_reap.service fstrim.timer systemd-tmpfiles-clean.timer
  systemd-networkd-wait-online.service systemd-journal-flush.service
  systemd-update-utmp.service systemd-update-utmp-runlevel.service"

CACHE=${CARAPACE_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/carapace-vm}
hash=$(sha256sum "$here/$PROG" | cut -c1-12)
IMAGE=$CACHE/systemd-$SUITE-$hash.ext4

build() {
	[[ $(id -u) == 0 ]] || die "building the systemd image needs root (debootstrap)"
	local c missing=()
	for c in debootstrap:debootstrap mkfs.ext4:e2fsprogs; do
		command -v "${c%%:*}" >/dev/null || missing+=("${c#*:}")
	done
	if ((${#missing[@]})); then
		echo "$PROG: installing ${missing[*]} with apt-get" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
			{ apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; } ||
			die "apt-get install ${missing[*]} failed"
	fi
	local work
	work=$(mktemp -d "${TMPDIR:-/var/tmp}/carapace-vm-systemd.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$work'" EXIT
	local r=$work/root t0=$SECONDS
	echo "$PROG: building $IMAGE with debootstrap (one-time, a few minutes)" >&2
	local ds=(debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$r" "$MIRROR")
	if [[ $VERBOSE == 1 ]]; then
		"${ds[@]}" >&2 || die "debootstrap failed"
	else
		"${ds[@]}" >"$work/debootstrap.log" 2>&1 || { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
	fi
	# A fixed machine-id: not a first boot (no presets run), and every
	# throwaway VM is the same machine anyway.
	echo 6361726170616365766d000000000001 >"$r/etc/machine-id"
	echo carapace-vm >"$r/etc/hostname"
	printf '127.0.0.1 localhost carapace-vm\n::1 localhost\n' >"$r/etc/hosts"
	: >"$r/etc/fstab" # stage 1 mounts / read-write; nothing to fsck
	local u
	for u in $MASK; do ln -sf /dev/null "$r/etc/systemd/system/$u"; done
	# No generators: there is no fstab, no disk to probe for partitions
	# (gpt-auto), no getty, no sysv scripts; each costs a fork+exec of a
	# dynamic binary at every boot and daemon-reload.
	mkdir -p "$r/etc/systemd/system-generators"
	for u in "$r"/usr/lib/systemd/system-generators/*; do
		ln -sf /dev/null "$r/etc/systemd/system-generators/${u##*/}"
	done
	# Tests start their own containerd (systemctl start containerd, or a
	# private one); not starting it at boot saves seconds under TCG.
	chroot "$r" systemctl disable containerd.service >/dev/null 2>&1 || true
	chroot "$r" apt-get clean
	rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/log/*.log \
		"$r"/usr/share/doc "$r"/usr/share/man "$r"/usr/share/info "$r"/usr/share/locale
	# Room for what tests write (containerd's content store, bundles): the
	# file is sparse, and writes go to QEMU's snapshot, not to it.
	local mb
	mb=$(($(du -sm "$r" | cut -f1) + 2048))
	truncate -s "${mb}M" "$work/image"
	mkfs.ext4 -q -F -L carapace-root -O ^has_journal -E root_owner=0:0 -d "$r" "$work/image" "${mb}M" ||
		die "mkfs.ext4 -d failed"
	mv "$work/image" "$IMAGE.tmp"
	mv "$IMAGE.tmp" "$IMAGE"
	rm -rf "$work"
	trap - EXIT
	echo "$PROG: built $IMAGE in $((SECONDS - t0))s ($(du -h "$IMAGE" | cut -f1) used of ${mb}M)" >&2
}

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock-systemd"
flock 9
if [[ $REBUILD == 1 || ! -f $IMAGE ]]; then
	build
fi
touch "$IMAGE" # in use: see the clean-up below
find "$CACHE" -maxdepth 1 -type f -name "systemd-$SUITE-*.ext4" ! -name "${IMAGE##*/}" -mtime +3 -delete
exec 9>&-
echo "$IMAGE"
