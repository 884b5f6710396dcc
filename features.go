package main

import (
	"encoding/json"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/carapace-oci/carapace/libcarapace/features"
)

var featuresCommand = &cli.Command{
	Name:  "features",
	Usage: "print what this runtime supports (runtime-spec features JSON)",
	Action: func(c *cli.Context) error {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "    ")
		return enc.Encode(features.Get(version))
	},
}
