// Package e2e holds Carapace's end-to-end tests: they start real containers
// from real bundles by running the runtime binary and check, from inside the
// container, what each config.json field did.
//
// The binary under test comes from $CARAPACE_BINARY (default
// ../../bin/carapace relative to this directory). Because Carapace copies
// runc's CLI, the harness also runs against runc:
//
//	CARAPACE_BINARY=/usr/sbin/runc go test ./tests/e2e/ -count=1 -v
//
// Tests of Carapace-only behaviour call requireCarapace and are skipped when
// the binary's basename is "runc". The tests need root.
package e2e
