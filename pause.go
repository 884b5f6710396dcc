package main

import (
	"github.com/urfave/cli/v2"

	"github.com/carapace-oci/carapace/libcarapace/container"
)

var pauseCommand = &cli.Command{
	Name:      "pause",
	Usage:     "freeze every process of a container",
	ArgsUsage: "<container-id>",
	Action: forContainer(func(rt *container.Runtime, id string, _ *cli.Context) error {
		return rt.Pause(id)
	}),
}

var resumeCommand = &cli.Command{
	Name:      "resume",
	Usage:     "thaw a paused container",
	ArgsUsage: "<container-id>",
	Action: forContainer(func(rt *container.Runtime, id string, _ *cli.Context) error {
		return rt.Resume(id)
	}),
}
