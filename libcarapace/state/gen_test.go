package state_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/carapace-oci/carapace/libcarapace/internal/jsonfast/gen"
)

// TestGeneratedUpToDate: state_gen.go is what the generator writes for
// today's State (run go generate in this directory if not).
func TestGeneratedUpToDate(t *testing.T) {
	want, err := gen.Generate(gen.Configs["state"])
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("state_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("state_gen.go is stale: run go generate ./libcarapace/state")
	}
}
