package ipc_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/carapace-oci/carapace/libcarapace/internal/jsonfast/gen"
)

// TestGeneratedUpToDate: ipc_gen.go is what the generator writes for
// today's Message (run go generate in this directory if not).
func TestGeneratedUpToDate(t *testing.T) {
	want, err := gen.Generate(gen.Configs["ipc"])
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("ipc_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("ipc_gen.go is stale: run go generate ./libcarapace/ipc")
	}
}
