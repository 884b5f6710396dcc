package ipc_test

import (
	"testing"

	"github.com/carapace-oci/carapace/libcarapace/internal/jsonfast/gen"
)

// TestGeneratedUpToDate: ipc_gen.go is what the generator writes for
// today's Message (run go generate in this directory if not).
func TestGeneratedUpToDate(t *testing.T) {
	if err := gen.CheckUpToDate("ipc"); err != nil {
		t.Fatal(err)
	}
}
