package main

import (
	"github.com/urfave/cli/v2"

	"github.com/carapace-oci/carapace/libcarapace/container"
)

var deleteCommand = &cli.Command{
	Name:      "delete",
	Usage:     "remove a stopped container (any container with --force)",
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "kill the container first if it runs; succeed if it does not exist"},
	},
	Action: forContainer(func(rt *container.Runtime, id string, c *cli.Context) error {
		return rt.Delete(id, c.Bool("force"))
	}),
}
