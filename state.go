package main

import (
	"os"

	"github.com/urfave/cli/v2"

	"github.com/carapace-oci/carapace/libcarapace/container"
	"github.com/carapace-oci/carapace/libcarapace/state"
)

var stateCommand = &cli.Command{
	Name:      "state",
	Usage:     "print a container's state as JSON",
	ArgsUsage: "<container-id>",
	Action: forContainer(func(rt *container.Runtime, id string, _ *cli.Context) error {
		st, err := rt.Store.Inspect(id)
		if err != nil {
			return err
		}
		info := newContainerState(rt, st)
		return state.WriteInfo(os.Stdout, &info)
	}),
}
