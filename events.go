package main

import (
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/carapace-oci/carapace/libcarapace/container"
)

var eventsCommand = &cli.Command{
	Name:      "events",
	Usage:     "print a container's resource usage and OOM events as JSON",
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.DurationFlag{Name: "interval", Value: 5 * time.Second, Usage: "time between stats events"},
		&cli.BoolFlag{Name: "stats", Usage: "print one stats event and exit"},
	},
	Action: forContainer(func(rt *container.Runtime, id string, c *cli.Context) error {
		return rt.Events(id, c.Duration("interval"), c.Bool("stats"), os.Stdout)
	}),
}
