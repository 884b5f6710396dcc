package enctest_test

import (
	"testing"

	"github.com/carapace-oci/carapace/libcarapace/internal/jsonfast/gen"
)

// TestGeneratedUpToDate: enctest_gen.go is what the generator writes for
// today's types (run go generate in this directory if not).
func TestGeneratedUpToDate(t *testing.T) {
	if err := gen.CheckUpToDate("enctest"); err != nil {
		t.Fatal(err)
	}
}
