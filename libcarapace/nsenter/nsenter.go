//go:build cgo

// Package nsenter joins user and time namespaces for a container's init
// before the Go runtime starts (see nsenter.c). Importing it is enough.
package nsenter

// #cgo CFLAGS: -Wall -O2
import "C"

// Supported reports whether this binary can join user and time namespaces.
const Supported = true
