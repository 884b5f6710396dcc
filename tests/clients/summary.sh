#!/usr/bin/env bash
# Reads `go test -v ./tests/clients/` output: prints it without the RUN
# noise, then the subtests passed and failed per client; fails when the go
# test run did not end in "ok".
set -uo pipefail
out=$(mktemp)
trap 'rm -f "$out"' EXIT
tee "$out" | grep -v -E '^\s*=== (RUN|PAUSE|CONT)'
echo "client suites (subtests passed / failed / skipped):"
for client in Containerd Podman Docker; do
	pass=$(grep -c -E "^\s+--- PASS: Test$client/" "$out")
	fail=$(grep -c -E "^\s+--- FAIL: Test$client/" "$out")
	skip=$(grep -c -E "^\s+--- SKIP: Test$client/" "$out")
	printf '  %-10s %3d / %d / %d\n' "$client" "$pass" "$fail" "$skip"
done
grep -q -E '^ok\s' "$out"
