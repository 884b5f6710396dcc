//go:build cgo

// Package nsenter runs first in every child the runtime spawns (see
// nsenter.c): it makes the child non-dumpable and joins its user, time and
// mount namespaces before the Go runtime starts. Importing it is enough.
//
// A build without cgo fails (nsenter_nocgo.go) rather than lose this.
package nsenter

// #cgo CFLAGS: -Wall -O2
// extern unsigned long carapace_host_timerslack;
import "C"

import "github.com/carapace-oci/carapace/libcarapace/internal/timerslack"

func init() {
	// The caller's timer slack, from before nsenter.c raised this
	// process's.
	timerslack.SetHost(uint64(C.carapace_host_timerslack))
}
