//go:build cgo

// Package nsenter runs first in every child the runtime spawns (see
// nsenter.c): it makes the child non-dumpable and joins its user, time and
// mount namespaces before the Go runtime starts. Importing it is enough.
//
// A build without cgo fails (nsenter_nocgo.go) rather than lose this.
package nsenter

// #cgo CFLAGS: -Wall -O2
import "C"
