//go:build !cgo

// Package nsenter needs cgo: it is what makes the runtime's children
// non-dumpable from their first instruction and joins their user, time and
// mount namespaces before the Go runtime starts. A build without it would
// lose those protections silently, so it does not build.
package nsenter

// Build Carapace with CGO_ENABLED=1 (see the Makefile).
var _ = carapace_requires_cgo_build_with_CGO_ENABLED_1
