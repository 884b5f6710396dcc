package config

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkLoad measures Load (read, decode and validate) on runc's default
// spec (as `carapace spec` writes one), with its rootfs directory in place:
// the CLI's hot path on create and run.
func BenchmarkLoad(b *testing.B) {
	dir := b.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "rootfs"), 0o755); err != nil {
		b.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/runc-spec.json")
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, Name), raw, 0o644); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(dir); err != nil {
			b.Fatal(err)
		}
	}
}
