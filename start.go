package main

import (
	"github.com/urfave/cli/v2"

	"github.com/carapace-oci/carapace/libcarapace/container"
)

var startCommand = &cli.Command{
	Name:      "start",
	Usage:     "run the process of a created container",
	ArgsUsage: "<container-id>",
	Action: forContainer(func(rt *container.Runtime, id string, _ *cli.Context) error {
		return rt.Start(id)
	}),
}
