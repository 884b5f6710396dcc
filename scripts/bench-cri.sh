#!/usr/bin/env bash
# Pod start latency under Kubernetes' CRI: crictl runp + create + start of
# a container, 20 pods per runtime handler (runc 1.1.5 and Carapace),
# interleaved, on the private containerd node of tests/cri (TestBenchCRI);
# prints the median and p90 per handler. Run as root, after make build.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
CARAPACE_BINARY="${CARAPACE_BINARY:-$PWD/bin/carapace}" CARAPACE_BENCH_CRI=1 \
	go test -count=1 -timeout 20m -v -run '^TestBenchCRI$' ./tests/cri/ >"${TMPDIR:-/tmp}/bench-cri.$$.log" 2>&1 || {
	cat "${TMPDIR:-/tmp}/bench-cri.$$.log"
	rm -f "${TMPDIR:-/tmp}/bench-cri.$$.log"
	exit 1
}
sed -n 's/^bench-cri: //p' "${TMPDIR:-/tmp}/bench-cri.$$.log"
rm -f "${TMPDIR:-/tmp}/bench-cri.$$.log"
