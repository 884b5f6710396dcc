#!/usr/bin/env bash
# tests/vm/run-in-vm.sh - Carapace's VM runner: run a command as root inside a
# throwaway QEMU Linux VM whose cgroup hierarchy is pure cgroup v2 (all
# controllers enabled in the root, cgroup2 mounted with nsdelegate), with a host
# directory shared into the VM over virtio-9p.
#
#   tests/vm/run-in-vm.sh [OPTIONS] DIR CMD [ARG...]
#
# DIR is mounted at the same absolute path inside the VM (read-write unless
# --ro) and is the command's working directory. The command's stdout and stderr
# are streamed to this script's stdout and stderr (separately); the script exits
# with the command's exit code (125 if the VM itself failed, 124 on --timeout).
# The command runs as the child of the VM's PID 1 (a shell that does not reap
# orphans): test programs that start daemons must be their own child subreaper.
#
# Everything the VM needs (a Debian kernel, busybox-static and a few kernel
# modules in an initramfs) is built on first use from Debian packages (apt-get
# download, nothing is installed into /boot) and cached in
# ${CARAPACE_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/carapace-vm}. Requires a
# Debian/Ubuntu host with apt; installs qemu-system-x86 (and xz-utils) with
# apt-get when missing, so it works as root on a fresh Debian 12 CI machine.
# Without hardware virtualisation (vmx/svm) it uses TCG: boot takes ~3-4 s.
#
# Options:
#   -m, --mem MB         guest memory in MiB            (default: $CARAPACE_VM_MEM or 1024)
#   -c, --cpus N         guest vCPUs                    (default: $CARAPACE_VM_CPUS or min(2, nproc))
#   -e, --env NAME=VAL   set an environment variable for CMD (repeatable)
#   -t, --timeout SECS   kill the VM after SECS seconds, exit 124 (default: 0 = none)
#   --ro                 share DIR read-only
#   --host-usr           also mount the host's /usr read-only at /usr in the VM (with
#                        /lib, /lib64 -> usr/...), so dynamically linked host binaries
#                        (runc, iptables, go, ...) can run inside the VM
#   --cgroup MODE        v2 (default, pure unified, cgroup_no_v1=all), v1 (legacy: every
#                        v1 controller mounted under /sys/fs/cgroup/<ctrl>) or hybrid
#                        (v1 controllers + cgroup2 at /sys/fs/cgroup/unified)
#   --systemd            boot systemd as PID 1 from a cached Debian image (see below)
#   --accel kvm|tcg      force an accelerator (default: kvm if /dev/kvm is usable, else tcg)
#   --machine M          QEMU machine: q35 (default), pc, or microvm (KVM only: under TCG
#                        it hangs at boot for lack of a clocksource); env CARAPACE_VM_MACHINE
#   --append ARGS        extra kernel command line arguments
#   -v, --verbose        stream the guest kernel console to stderr
#   --setup              only build/check the cache and dependencies, then exit
#                        (with --systemd: the systemd image too)
#   --rebuild            rebuild the cached kernel/initramfs (e.g. after apt-get update);
#                        with --systemd, the systemd image too
#   -h, --help
#
# Inside the VM: PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# (busybox applets in /bin), HOME=/root, root is a tmpfs (so pivot_root works),
# /tmp is on that tmpfs, proc/sys/devtmpfs/devpts/shm/mqueue mounted, lo is up.
# Static binaries (Go with CGO_ENABLED=0) run as is; dynamic ones need --host-usr.
#
# --systemd boots systemd instead, from a Debian bookworm image built once with
# debootstrap (tests/vm/systemd-image.sh; needs root and the Debian mirror the
# first time, a few minutes) and booted with a throwaway snapshot, so every run
# starts clean. Its root is that ext4 image (read-write, changes discarded), with
# Debian's systemd, dbus, containerd, runc, coreutils and busybox; the host's
# /usr is not used (--host-usr is refused). CMD runs as root in a service
# (carapace-vm-run.service, Delegate=yes) ordered after multi-user.target, so the
# system bus is up; PID 1 reaps orphans. --cgroup picks systemd's layout: v2
# (systemd.unified_cgroup_hierarchy=1 and cgroup_no_v1=all), hybrid
# (unified_cgroup_hierarchy=0, legacy_systemd_cgroup_controller=0: v1 controllers
# plus cgroup2 at /sys/fs/cgroup/unified) or v1 (legacy_systemd_cgroup_controller=1).
# containerd is installed but not started at boot (systemctl start containerd).
# Under TCG the command starts 7-13 s after boot (a trivial run: 9-17 s in all).
set -euo pipefail

PROG=${0##*/}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD_REV=1   # bump when the initramfs layout/init changes

die() { echo "$PROG: $*" >&2; exit 125; }
log() { [[ $VERBOSE == 1 || ${1:-} == -f ]] && { [[ ${1:-} == -f ]] && shift; echo "$PROG: $*" >&2; }; return 0; }

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

MEM=${CARAPACE_VM_MEM:-1024}
n=$(nproc 2>/dev/null || echo 1)
CPUS=${CARAPACE_VM_CPUS:-$(( n < 2 ? n : 2 ))}
TIMEOUT=0
RO=0
HOST_USR=0
CGMODE=v2
ACCEL=
MACHINE=${CARAPACE_VM_MACHINE:-q35}
APPEND=
VERBOSE=0
SETUP_ONLY=0
REBUILD=0
SYSTEMD=0
IMAGE=
ENVS=()

while (( $# )); do
  case $1 in
    -m|--mem) MEM=${2:?}; shift 2 ;;
    -c|--cpus) CPUS=${2:?}; shift 2 ;;
    -e|--env) [[ ${2:-} == [A-Za-z_]*=* ]] || die "bad --env '${2:-}' (want NAME=VALUE)"; ENVS+=("$2"); shift 2 ;;
    -t|--timeout) TIMEOUT=${2:?}; shift 2 ;;
    --ro) RO=1; shift ;;
    --host-usr) HOST_USR=1; shift ;;
    --cgroup) CGMODE=${2:?}; shift 2 ;;
    --systemd) SYSTEMD=1; shift ;;
    --accel) ACCEL=${2:?}; shift 2 ;;
    --append) APPEND=${2:?}; shift 2 ;;
    --machine) MACHINE=${2:?}; shift 2 ;;
    -v|--verbose) VERBOSE=1; shift ;;
    --setup) SETUP_ONLY=1; shift ;;
    --rebuild) REBUILD=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) break ;;
  esac
done
[[ $MEM =~ ^[0-9]+$ && $CPUS =~ ^[0-9]+$ && $TIMEOUT =~ ^[0-9]+$ ]] || die "--mem/--cpus/--timeout must be integers"
case $CGMODE in v1|v2|hybrid) ;; *) die "--cgroup must be v1, v2 or hybrid" ;; esac
[[ $SYSTEMD == 1 && $HOST_USR == 1 ]] && die "--host-usr and --systemd do not mix: the systemd image has its own /usr"

CACHE=${CARAPACE_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/carapace-vm}
# Our files in the cache: kernel-<kver>-t<rev>[.elf], initrd-<kver>-t<rev>.gz and
# tests-vm.current (names of our own, so that other tools may share the dir).
STATE=$CACHE/tests-vm.current

# ---------------------------------------------------------------- setup ----
SUDO=
if [[ $(id -u) != 0 ]]; then command -v sudo >/dev/null && SUDO=sudo; fi

apt_install() {
  log -f "installing $* with apt-get"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "$@" >&2 ||
    { $SUDO apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "$@" >&2; } ||
    die "apt-get install $* failed"
}

ensure_host_tools() {
  command -v apt-get >/dev/null || die "needs a Debian/Ubuntu host with apt-get (to fetch the VM kernel)"
  command -v qemu-system-x86_64 >/dev/null || apt_install qemu-system-x86
  local c
  for c in flock:util-linux mkfifo:coreutils timeout:coreutils xz:xz-utils dpkg-deb:dpkg; do
    command -v "${c%%:*}" >/dev/null || apt_install "${c#*:}"
  done
}

# Kernel modules to load at boot, in addition to their dependencies.
# (Anything else needed can be added here; modules built into the kernel are skipped.)
MODULES="virtio_pci virtio_mmio virtio_console virtio_blk virtio_net virtio_rng 9pnet_virtio 9p
  overlay fuse ext4 crc32c_intel crc32c_generic loop squashfs
  veth bridge dummy macvlan ipvlan vxlan tun"

# Resolve module dependencies (via the .modinfo depends= field) and print the
# load order, one relative path per line.
mod_order() { # KDIR(.../lib/modules/VER) MOD...
  local kdir=$1; shift
  declare -A path=() seen=()
  local f n
  while IFS= read -r f; do n=${f##*/}; n=${n%.ko}; path[${n//-/_}]=$f; done < <(cd "$kdir" && find kernel -name '*.ko')
  visit() {
    local m=${1//-/_} d deps
    [[ -n ${seen[$m]:-} ]] && return 0
    seen[$m]=1
    [[ -n ${path[$m]:-} ]] || { grep -q "/${m}.ko\$\|/${1}.ko\$" "$kdir/modules.builtin" || log -f "warning: module $1 not found"; return 0; }
    deps=$(tr '\0' '\n' < "$kdir/${path[$m]}" | sed -n 's/^depends=//p' | head -1)
    for d in ${deps//,/ }; do visit "$d"; done
    echo "${path[$m]}"
  }
  local m; for m in "$@"; do visit "$m"; done
}

write_init() { # stage 1: runs from the initramfs, loads modules, switch_root to a tmpfs
cat > "$1/init" <<'EOF'
#!/bin/sh
export PATH=/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do insmod "/lib/modules/$m" || echo "init: insmod $m failed" >&2; done < /lib/modules/load.order
# The initramfs (rootfs) cannot be pivot_root'ed away from; move everything to
# a real tmpfs mount and switch_root into it so that containers can pivot_root.
mount -t tmpfs -o mode=0755 rootfs /newroot
cp -a /bin /sbin /etc /lib /root /init2 /newroot/
mkdir -p /newroot/proc /newroot/sys /newroot/dev /newroot/run /newroot/tmp /newroot/mnt /newroot/usr /newroot/var/tmp
chmod 1777 /newroot/tmp /newroot/var/tmp
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /init2
EOF
cat > "$1/init2" <<'EOF'
#!/bin/sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
fail() { echo "init2: $*" >&2; [ -d /run/vm/ctl ] && echo "vm-init-failed: $*" > /run/vm/ctl/error; sync; reboot -f; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts /dev/pts
ln -sf pts/ptmx /dev/ptmx
mount -t tmpfs -o mode=1777,nosuid,nodev shm /dev/shm
mount -t mqueue mqueue /dev/mqueue
ln -sf /proc/self/fd /dev/fd; ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout; ln -sf /proc/self/fd/2 /dev/stderr
mount -t tmpfs -o mode=0755,nosuid,nodev run /run
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
hostname carapace-vm
ip link set lo up
O9P=trans=virtio,version=9p2000.L,msize=262144
mkdir -p /run/vm/ctl
mount -t 9p -o $O9P ctl /run/vm/ctl || fail "cannot mount control share"
. /run/vm/ctl/spec || fail "cannot read spec"

case $VM_CGROUP in
v2)
  mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup || fail "mount cgroup2"
  for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
    echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control || echo "init2: cannot enable $c" >&2
  done ;;
v1|hybrid)
  mount -t tmpfs -o mode=0755 cgroup /sys/fs/cgroup
  for c in $(awk 'NR>1 && $4==1 {print $1}' /proc/cgroups); do
    mkdir -p /sys/fs/cgroup/$c && mount -t cgroup -o $c cgroup /sys/fs/cgroup/$c
  done
  if [ -d /sys/fs/cgroup/cpu ]; then   # like systemd: cpu,cpuacct co-mounted
    umount /sys/fs/cgroup/cpu /sys/fs/cgroup/cpuacct 2>/dev/null
    rmdir /sys/fs/cgroup/cpu /sys/fs/cgroup/cpuacct
    mkdir /sys/fs/cgroup/cpu,cpuacct && mount -t cgroup -o cpu,cpuacct cgroup /sys/fs/cgroup/cpu,cpuacct
    ln -s cpu,cpuacct /sys/fs/cgroup/cpu; ln -s cpu,cpuacct /sys/fs/cgroup/cpuacct
  fi
  mkdir -p /sys/fs/cgroup/systemd && mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
  if [ "$VM_CGROUP" = hybrid ]; then
    mkdir -p /sys/fs/cgroup/unified && mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified
  fi ;;
esac

if [ "$VM_HOST_USR" = 1 ]; then
  mount -t 9p -o $O9P,ro,cache=mmap usr /usr || fail "cannot mount host /usr"
  # merged-/usr style: let the dynamic loader and libraries be found
  for l in lib lib32 lib64 libx32; do
    if [ -d /usr/$l ] && [ ! -e /$l ]; then ln -s usr/$l /$l; fi
  done
  # /lib exists (busybox modules); make the multiarch libc path visible there
  for d in /usr/lib/*-linux-gnu; do [ -d "$d" ] && ln -sfn "$d" /lib/"${d##*/}"; done
fi

ro=; [ "$VM_RO" = 1 ] && ro=,ro
mkdir -p "$VM_DIR" && mount -t 9p -o $O9P,cache=mmap$ro host "$VM_DIR" || fail "cannot mount $VM_DIR"

out=/dev/null; err=/dev/null
for p in /sys/class/virtio-ports/*; do
  case $(cat $p/name 2>/dev/null) in
    stdout) out=/dev/${p##*/} ;;
    stderr) err=/dev/${p##*/} ;;
  esac
done
cd "$VM_DIR" || fail "cd $VM_DIR"
env -i PATH=$PATH HOME=/root USER=root LOGNAME=root TERM=dumb LANG=C.UTF-8 \
  /bin/sh /run/vm/ctl/cmd.sh < /dev/null > "$out" 2> "$err"
echo $? > /run/vm/ctl/rc
cd /
umount "$VM_DIR" 2>/dev/null
sync
reboot -f
EOF
chmod 755 "$1/init" "$1/init2"
}

# --systemd: what is added to the initramfs for one run (a second cpio archive
# after the cached one; the kernel unpacks both). Stage 1 (/init-systemd) loads
# the same modules as /init, mounts the image's ext4 read-write (QEMU's
# snapshot discards the writes), installs the harness's unit into it and
# switch_roots into systemd. Kept here rather than in the image so that changing
# the harness does not rebuild the image.
write_systemd_stage1() { # DIR
mkdir -p "$1/carapace-vm"
cat > "$1/init-systemd" <<'EOF'
#!/bin/sh
export PATH=/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() {
  echo "init-systemd: $*" >&2
  mkdir -p /ctl && mount -t 9p -o trans=virtio,version=9p2000.L ctl /ctl && echo "vm-init-failed: $*" > /ctl/error
  sync; reboot -f
}
while read -r m; do insmod "/lib/modules/$m" || echo "init-systemd: insmod $m failed" >&2; done < /lib/modules/load.order
i=0
while [ ! -b /dev/vda ]; do
  i=$((i + 1)); [ $i -gt 200 ] && fail "no /dev/vda (the systemd image)"
  usleep 50000
done
mount -t ext4 /dev/vda /newroot || fail "cannot mount the systemd image"
u=/newroot/etc/systemd/system
mkdir -p /newroot/usr/local/lib/carapace-vm $u/multi-user.target.wants $u/emergency.service.d $u/rescue.service.d
cp /carapace-vm/run /newroot/usr/local/lib/carapace-vm/run
cp /carapace-vm/carapace-vm-run.service $u/
ln -sf ../carapace-vm-run.service $u/multi-user.target.wants/carapace-vm-run.service
# A boot that ends in emergency/rescue mode reports it rather than waiting
# for --timeout.
for d in emergency rescue; do cp /carapace-vm/boot-failed.conf $u/$d.service.d/carapace-vm.conf; done
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
EOF
cat > "$1/carapace-vm/run" <<'EOF'
#!/bin/sh
# Runs the host's command (run-in-vm.sh --systemd), then powers the VM off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
off() { sync; systemctl poweroff -ff; poweroff -ff; }
fail() { echo "carapace-vm-run: $*" >&2; [ -d /run/vm/ctl ] && echo "vm-init-failed: $*" > /run/vm/ctl/error; off; }
O9P=trans=virtio,version=9p2000.L,msize=262144
mkdir -p /run/vm/ctl
mountpoint -q /run/vm/ctl || mount -t 9p -o $O9P ctl /run/vm/ctl || fail "cannot mount control share"
if [ "${1:-}" = --boot-failed ]; then
  f=$(systemctl --failed --no-legend --plain | cut -d' ' -f1 | tr '\n' ' ')
  fail "systemd went to emergency/rescue mode${f:+; failed units: $f}"
fi
. /run/vm/ctl/spec || fail "cannot read spec"
cut -d' ' -f1 /proc/uptime > /run/vm/ctl/started
ro=; [ "$VM_RO" = 1 ] && ro=,ro
mkdir -p "$VM_DIR" && mount -t 9p -o $O9P,cache=mmap$ro host "$VM_DIR" || fail "cannot mount $VM_DIR"
out=/dev/null; err=/dev/null
for p in /sys/class/virtio-ports/*; do
  case $(cat "$p/name" 2>/dev/null) in
    stdout) out=/dev/${p##*/} ;;
    stderr) err=/dev/${p##*/} ;;
  esac
done
cd "$VM_DIR" || fail "cd $VM_DIR"
env -i PATH=$PATH HOME=/root USER=root LOGNAME=root TERM=dumb LANG=C.UTF-8 \
  /bin/sh /run/vm/ctl/cmd.sh < /dev/null > "$out" 2> "$err"
echo $? > /run/vm/ctl/rc
cd /
umount "$VM_DIR" 2>/dev/null
off
EOF
# Type=simple: the job is done once the command starts, so that
# `systemctl is-system-running --wait` in it returns. Delegate=yes: the
# command may manage the cgroups below its own, as a container manager's
# service does.
cat > "$1/carapace-vm/carapace-vm-run.service" <<'EOF'
[Unit]
Description=Run the command of run-in-vm.sh --systemd
After=multi-user.target dbus.service
Wants=dbus.service

[Service]
Type=simple
ExecStart=/usr/local/lib/carapace-vm/run
Delegate=yes
StandardInput=null
StandardOutput=journal+console
StandardError=journal+console
EOF
cat > "$1/carapace-vm/boot-failed.conf" <<'EOF'
[Service]
ExecStart=
ExecStart=/usr/local/lib/carapace-vm/run --boot-failed
EOF
chmod 755 "$1/init-systemd" "$1/carapace-vm/run"
}

build_cache() {
  ensure_host_tools
  mkdir -p "$CACHE"
  local work; work=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" EXIT
  log -f "building VM kernel + initramfs in $CACHE (one-time)"
  local kpkg=${CARAPACE_VM_KERNEL_PKG:-}
  if [[ -z $kpkg ]]; then
    kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
    if [[ -z $kpkg ]]; then
      $SUDO apt-get update -q >&2 || die "apt-get update failed"
      kpkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
    fi
  fi
  [[ -n $kpkg ]] || die "cannot find the Debian kernel package (linux-image-amd64)"
  ( cd "$work" && { apt-get download -q "$kpkg" busybox-static >&2 2>/dev/null ||
      { $SUDO apt-get update -q >&2 && apt-get download -q "$kpkg" busybox-static >&2; }; } ) ||
    die "apt-get download $kpkg busybox-static failed"
  dpkg-deb -x "$work"/linux-image-*.deb "$work/k"
  dpkg-deb -x "$work"/busybox-static_*.deb "$work/bb"
  local kver; kver=$(ls "$work/k/lib/modules")
  local kdir=$work/k/lib/modules/$kver
  local r=$work/root
  mkdir -p "$r"/{bin,sbin,etc,proc,sys,dev,newroot,root,lib/modules}
  cp "$work/bb/bin/busybox" "$r/bin/busybox"
  local a
  for a in $("$r/bin/busybox" --list); do
    [[ $a == busybox ]] || ln -s busybox "$r/bin/$a"
  done
  for a in modprobe insmod rmmod reboot poweroff halt switch_root; do ln -sf ../bin/busybox "$r/sbin/$a"; done
  # modules: copy in load order
  local m order=()
  while IFS= read -r m; do order+=("$m"); done < <(mod_order "$kdir" $MODULES)
  for m in "${order[@]}"; do
    cp "$kdir/$m" "$r/lib/modules/"
    echo "${m##*/}" >> "$r/lib/modules/load.order"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$r/etc/passwd"
  printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' > "$r/etc/group"
  printf '127.0.0.1 localhost carapace-vm\n::1 localhost\n' > "$r/etc/hosts"
  : > "$r/etc/fstab"
  write_init "$r"
  local tag="$kver-t$BUILD_REV"
  ( cd "$r" && find . | "$work/bb/bin/busybox" cpio -o -H newc -R 0:0 2>/dev/null ) | gzip -1 > "$work/initramfs.gz"
  # Prefer the uncompressed ELF vmlinux: QEMU boots it through the PVH entry point,
  # skipping firmware real-mode code and the in-guest decompressor (3-4x faster
  # under TCG). Fall back to the bzImage if it cannot be extracted.
  local kimg="kernel-$tag.elf" bz="$work/k/boot/vmlinuz-$kver" off
  off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$bz" | head -1 | cut -d: -f1)
  if [[ -n $off ]] && xz -dc --single-stream < <(tail -c +$((off + 1)) "$bz" 2>/dev/null) > "$work/vmlinux" 2>/dev/null &&
     [[ $(head -c 4 "$work/vmlinux" | od -An -c | tr -d ' ') == '177ELF' ]]; then
    mv "$work/vmlinux" "$CACHE/$kimg.tmp"
  else
    log -f "note: could not extract vmlinux, booting the bzImage (slower)"
    kimg="kernel-$tag"; cp "$bz" "$CACHE/$kimg.tmp"
  fi
  mv "$CACHE/$kimg.tmp" "$CACHE/$kimg"
  cp "$work/initramfs.gz" "$CACHE/initrd-$tag.gz.tmp"
  mv "$CACHE/initrd-$tag.gz.tmp" "$CACHE/initrd-$tag.gz"
  printf 'KERNEL=%s\nINITRD=%s\nKVER=%s\nREV=%s\n' "$kimg" "initrd-$tag.gz" "$kver" "$BUILD_REV" > "$STATE.tmp"
  mv "$STATE.tmp" "$STATE"
  # drop our older builds (other kernels or revisions), nothing else
  find "$CACHE" -maxdepth 1 -type f \( -name 'kernel-*' -o -name 'initrd-*' \) \
    ! -name "kernel-$tag" ! -name "kernel-$tag.elf" ! -name "initrd-$tag.gz" -delete
  rm -rf "$work"; trap - EXIT
  log -f "cached kernel $kver ($(du -h "$CACHE/initrd-$tag.gz" | cut -f1) initramfs, ${#order[@]} modules)"
}

ensure_cache() {
  mkdir -p "$CACHE"
  exec 9> "$CACHE/.lock"
  flock 9
  local ok=0
  if [[ $REBUILD == 0 && -f $STATE ]]; then
    # shellcheck disable=SC1090
    . "$STATE"
    [[ ${REV:-} == "$BUILD_REV" && -f $CACHE/${KERNEL:-x} && -f $CACHE/${INITRD:-x} ]] && ok=1
  fi
  if [[ $ok == 0 ]]; then
    build_cache
    # shellcheck disable=SC1090
    . "$STATE"
  fi
  exec 9>&-
  command -v qemu-system-x86_64 >/dev/null || ensure_host_tools
}

ensure_cache
if [[ $SYSTEMD == 1 ]]; then
  r=(); [[ $REBUILD == 1 ]] && r=(--rebuild)
  IMAGE=$("$HERE/systemd-image.sh" ${r[@]+"${r[@]}"}) || exit 125
  CPIO=(busybox cpio); command -v busybox >/dev/null || CPIO=(cpio)
  command -v "${CPIO[0]}" >/dev/null || die "--systemd needs busybox or cpio on the host (apt-get install busybox-static)"
fi
if [[ $SETUP_ONLY == 1 ]]; then
  echo "$PROG: ready: kernel $KVER, cache $CACHE${IMAGE:+, systemd image $IMAGE}" >&2
  exit 0
fi

# ------------------------------------------------------------------ run ----
(( $# >= 2 )) || { usage >&2; exit 125; }
DIR=$(realpath -e -- "$1" 2>/dev/null) || die "no such directory: $1"
[[ -d $DIR ]] || die "not a directory: $1"
[[ $DIR != / ]] || die "DIR must not be /"
shift

if [[ -z $ACCEL ]]; then
  # KVM needs hardware virtualisation (vmx/svm). A /dev/kvm without it (e.g. the
  # nested "kvm_pvm" hypervisor of some sandboxes) cannot run a stock kernel.
  if [[ -r /dev/kvm && -w /dev/kvm ]] && grep -qw -e vmx -e svm /proc/cpuinfo; then ACCEL=kvm
  else
    ACCEL=tcg
    if [[ ! -e /dev/kvm ]]; then log "no /dev/kvm: using TCG emulation"
    elif [[ -d /sys/module/kvm_pvm ]]; then log "/dev/kvm is nested PVM (no vmx/svm), which cannot boot a stock kernel: using TCG emulation"
    else log "/dev/kvm not usable (no vmx/svm or no access): using TCG emulation"; fi
  fi
fi
case $ACCEL in
  kvm) ACCEL_ARGS=(-accel kvm -cpu host) ;;
  tcg) ACCEL_ARGS=(-accel tcg,thread=multi -cpu max) ;;
  *) die "--accel must be kvm or tcg" ;;
esac

TMP=$(mktemp -d "${TMPDIR:-/tmp}/carapace-vm.XXXXXX")
QPID= ; CATS=()
cleanup() {
  [[ -n $QPID ]] && kill "$QPID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir "$TMP/ctl"
q() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }
{
  echo "VM_DIR=$(q "$DIR")"
  echo "VM_RO=$RO"
  echo "VM_CGROUP=$CGMODE"
  echo "VM_HOST_USR=$HOST_USR"
} > "$TMP/ctl/spec"
{
  for e in ${ENVS[@]+"${ENVS[@]}"}; do echo "export ${e%%=*}=$(q "${e#*=}")"; done
  # busybox ash prefers its own applets over PATH; resolve CMD through PATH
  # ourselves so that e.g. --host-usr's /usr/bin/unshare wins over the applet.
  printf 'set --'
  for a in "$@"; do printf ' %s' "$(q "$a")"; done
  echo
  cat <<'EOS'
case $1 in */*) ;; *)
  IFS=:; for d in $PATH; do if [ -f "$d/$1" ] && [ -x "$d/$1" ]; then c="$d/$1"; shift; set -- "$c" "$@"; break; fi; done; unset IFS ;;
esac
exec "$@"
EOS
} > "$TMP/ctl/cmd.sh"

SECMODEL=passthrough; [[ $(id -u) == 0 ]] || SECMODEL=none
ro=; [[ $RO == 1 ]] && ro=,readonly=on
KAPPEND="console=ttyS0 quiet panic=-1 mitigations=off i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd tsc=reliable"
[[ $CGMODE == v2 ]] && KAPPEND+=" cgroup_no_v1=all"
INITRD_PATH=$CACHE/$INITRD
if [[ $SYSTEMD == 1 ]]; then
  KAPPEND+=" rdinit=/init-systemd"
  case $CGMODE in
    v2) KAPPEND+=" systemd.unified_cgroup_hierarchy=1" ;;
    hybrid) KAPPEND+=" systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=0" ;;
    v1) KAPPEND+=" systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=1" ;;
  esac
  mkdir "$TMP/stage1"
  write_systemd_stage1 "$TMP/stage1"
  INITRD_PATH=$TMP/initrd.gz
  { cat "$CACHE/$INITRD"; ( cd "$TMP/stage1" && find . | "${CPIO[@]}" -o -H newc -R 0:0 2>/dev/null ) | gzip -1; } > "$INITRD_PATH"
else
  KAPPEND+=" rdinit=/init"
fi
[[ -n $APPEND ]] && KAPPEND+=" $APPEND"

mkfifo "$TMP/out" "$TMP/err"
cat "$TMP/out" & CATS+=($!)
cat "$TMP/err" >&2 & CATS+=($!)
: > "$TMP/console.log"
case $MACHINE in
  q35|pc) MARGS=(-machine "$MACHINE"); BUS=pci ;;
  microvm) MARGS=(-machine microvm,x-option-roms=off,rtc=off,isa-serial=on); BUS=device ;;
  *) die "--machine must be q35, pc or microvm" ;;
esac
QARGS=(
  -nodefaults -no-user-config -display none -no-reboot
  "${MARGS[@]}" "${ACCEL_ARGS[@]}" -smp "$CPUS" -m "$MEM"
  -kernel "$CACHE/$KERNEL" -initrd "$INITRD_PATH" -append "$KAPPEND"
  -chardev file,id=con,path="$TMP/console.log",append=on -serial chardev:con -monitor none
  -fsdev local,id=fsh,path="$DIR",security_model=$SECMODEL,multidevs=remap$ro
  -device virtio-9p-$BUS,fsdev=fsh,mount_tag=host
  -fsdev local,id=fsc,path="$TMP/ctl",security_model=$SECMODEL
  -device virtio-9p-$BUS,fsdev=fsc,mount_tag=ctl
  -device virtio-serial-$BUS
  -chardev file,id=out,path="$TMP/out" -device virtserialport,chardev=out,name=stdout
  -chardev file,id=err,path="$TMP/err" -device virtserialport,chardev=err,name=stderr
)
if [[ $SYSTEMD == 1 ]]; then
  # snapshot=on: writes go to a temporary file of QEMU's, the image stays as built.
  QARGS+=(-drive file="$IMAGE",if=none,id=root,format=raw,snapshot=on,cache=unsafe,discard=unmap
          -device virtio-blk-$BUS,drive=root)
fi
if [[ $HOST_USR == 1 ]]; then
  QARGS+=(-fsdev local,id=fsu,path=/usr,security_model=$SECMODEL,multidevs=remap,readonly=on
          -device virtio-9p-$BUS,fsdev=fsu,mount_tag=usr)
fi
[[ $VERBOSE == 1 ]] && { tail -n +1 -f "$TMP/console.log" >&2 & CATS+=($!); }

log "accel=$ACCEL cpus=$CPUS mem=${MEM}M kernel=$KVER dir=$DIR${IMAGE:+ systemd=$IMAGE}"
TO=(); (( TIMEOUT > 0 )) && TO=(timeout -k 5 "$TIMEOUT")
${TO[@]+"${TO[@]}"} qemu-system-x86_64 "${QARGS[@]}" < /dev/null > "$TMP/qemu.log" 2>&1 &
QPID=$!
qrc=0; wait "$QPID" || qrc=$?
QPID=
(( TIMEOUT > 0 && (qrc == 124 || qrc == 137) )) && touch "$TMP/timedout"
# If QEMU died before opening the FIFOs, unblock the readers (no-op otherwise).
for f in "$TMP/out" "$TMP/err"; do dd if=/dev/null of="$f" oflag=nonblock status=none 2>/dev/null || true; done
for p in "${CATS[@]}"; do
  if [[ $VERBOSE == 1 && $p == "${CATS[-1]}" ]]; then sleep 0.2; kill "$p" 2>/dev/null; fi
  wait "$p" 2>/dev/null || true
done

[[ -f $TMP/ctl/started ]] && log "the command started $(cat "$TMP/ctl/started")s after the guest kernel booted"
if [[ -f $TMP/ctl/rc ]]; then
  exit "$(cat "$TMP/ctl/rc")"
fi
if [[ -f $TMP/timedout ]]; then
  echo "$PROG: timed out after ${TIMEOUT}s" >&2
  rc=124
else
  echo "$PROG: the VM did not report an exit code (qemu exit $qrc)" >&2
  rc=125
fi
[[ -f $TMP/ctl/error ]] && cat "$TMP/ctl/error" >&2
[[ -s $TMP/qemu.log ]] && { echo "--- qemu:" >&2; tail -n 20 "$TMP/qemu.log" >&2; }
[[ $VERBOSE == 1 ]] || { echo "--- guest console (last 30 lines):" >&2; tail -n 30 "$TMP/console.log" >&2; }
exit "$rc"
