package main

import "github.com/urfave/cli/v2"

var startCommand = &cli.Command{
	Name:      "start",
	Usage:     "run the process of a created container",
	ArgsUsage: "<container-id>",
	Action: func(c *cli.Context) error {
		id, err := argID(c)
		if err != nil {
			return err
		}
		rt, err := newRuntime(c)
		if err != nil {
			return err
		}
		return rt.Start(id)
	},
}
