#!/usr/bin/env bash
# Builds a busybox bundle and runs a container that shows what it sees.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/bin/carapace
bundle=$(mktemp -d /tmp/carapace-demo.XXXXXX)
trap 'rm -rf "$bundle"' EXIT
mkdir -p "$bundle/rootfs/bin"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
for a in sh hostname cat mount ps id ls; do ln -s busybox "$bundle/rootfs/bin/$a"; done
"$bin" spec --bundle "$bundle"
# A non-interactive process that reports its view of the world.
sed -i -e 's/"terminal": true/"terminal": false/' \
	-e 's|"sh"$|"sh", "-c", "echo hostname: $(hostname); echo pid: $$; id; echo mounts:; cat /proc/self/mounts; echo processes:; ps"|' \
	"$bundle/config.json"
exec "$bin" run --bundle "$bundle" "demo-$$"
