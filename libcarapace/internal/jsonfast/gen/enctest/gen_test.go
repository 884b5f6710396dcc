package enctest_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/carapace-oci/carapace/libcarapace/internal/jsonfast/gen"
)

// TestGeneratedUpToDate: enctest_gen.go is what the generator writes for
// today's types (run go generate in this directory if not).
func TestGeneratedUpToDate(t *testing.T) {
	want, err := gen.Generate(gen.Configs["enctest"])
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("enctest_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("enctest_gen.go is stale: run go generate ./libcarapace/internal/jsonfast/gen/enctest")
	}
}
