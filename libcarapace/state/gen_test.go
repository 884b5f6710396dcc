package state_test

import (
	"testing"

	"github.com/carapace-oci/carapace/libcarapace/internal/jsonfast/gen"
)

// TestGeneratedUpToDate: state_gen.go is what the generator writes for
// today's State (run go generate in this directory if not).
func TestGeneratedUpToDate(t *testing.T) {
	if err := gen.CheckUpToDate("state"); err != nil {
		t.Fatal(err)
	}
}
