#!/usr/bin/env bash
# Installs what building and testing Carapace needs on Debian 12, as root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pkgs=(busybox-static make gcc libc6-dev git ca-certificates iproute2 util-linux
	# rootless tests: newuidmap/newgidmap for a user's subordinate ids
	uidmap
	# make unit: the seccomp compiler's differential test against libseccomp
	libseccomp-dev
	# tests/clients: the real clients, and the tools that build their image offline
	containerd podman conmon docker.io skopeo umoci
	# tests/cri: the pods' CNI network (bridge, host-local, portmap,
	# loopback; portmap's iptables rules, in the test's own netns)
	containernetworking-plugins iptables
	# tests/vm: QEMU and the kernel unpacking (run-in-vm.sh), and the
	# systemd image built once by debootstrap (run-in-vm.sh --systemd)
	qemu-system-x86 xz-utils debootstrap e2fsprogs
	# make bench, make bench-ci: the runtimes compared and perf stat
	crun runc linux-perf time)
missing=()
for p in "${pkgs[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
	# Installing daemons must not start them: the client suites start their
	# own private ones.
	policy=/usr/sbin/policy-rc.d
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod +x "$policy"
		trap 'rm -f "$policy"' EXIT
	fi
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
export PATH="/usr/local/go/bin:$PATH"
if ! command -v go >/dev/null; then
	echo "install-deps: Go 1.26 is needed at /usr/local/go (or on PATH)" >&2
	exit 1
fi
go mod download
# tests/cri drives containerd's CRI plugin with crictl, which
# Debian 12 does not package: built from the module proxy.
if ! crictl --version >/dev/null 2>&1; then
	GOBIN=/usr/local/bin go install sigs.k8s.io/cri-tools/cmd/crictl@v1.37.0
fi
# make cri and make critest run cri-tools' critest (and the ginkgo CLI its
# -parallel needs): built once from the module into a cache dir.
make critest-bin
