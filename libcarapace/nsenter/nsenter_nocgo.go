//go:build !cgo

// Package nsenter joins user and time namespaces for a container's init
// before the Go runtime starts; a binary built without cgo cannot.
package nsenter

// Supported reports whether this binary can join user and time namespaces.
const Supported = false
