// Command cmd writes a package's generated jsonfast decoders (go generate
// in config/specjson and in state).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/carapace-oci/carapace/libcarapace/internal/jsonfast/gen"
)

func main() {
	name := flag.String("config", "", "the package to generate for (specjson, state)")
	flag.Parse()
	c, ok := gen.Configs[*name]
	if !ok {
		fmt.Fprintf(os.Stderr, "gen: -config %q: unknown\n", *name)
		os.Exit(2)
	}
	src, err := gen.Generate(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(c.Out, src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
