// Command cmd writes specjson's generated decoders (go generate in
// libcarapace/config/specjson).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/carapace-oci/carapace/libcarapace/config/specjson/internal/gen"
)

func main() {
	out := flag.String("o", "specjson_gen.go", "file to write")
	flag.Parse()
	src, err := gen.Generate()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
