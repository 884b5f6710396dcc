//go:build !faultinject

// Package faultpoint names the points of the runtime where the
// fault-injection tests (tests/e2e, faults_test.go) hold it, to SIGKILL it
// or the container's init exactly there. Only a binary built with the tag
// faultinject has them: in every other build Hit is an empty function,
// inlined away with its argument, and Env returns nothing.
package faultpoint

// Hit marks the point named name (e.g. "create:cgroup-made").
func Hit(name string) {}

// Env is what the runtime passes on to the children it spawns (init, the
// exec helper) so that their points can be hit too.
func Env() []string { return nil }
