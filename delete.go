package main

import "github.com/urfave/cli/v2"

var deleteCommand = &cli.Command{
	Name:      "delete",
	Usage:     "remove a stopped container (any container with --force)",
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "kill the container first if it runs; succeed if it does not exist"},
	},
	Action: func(c *cli.Context) error {
		id, err := argID(c)
		if err != nil {
			return err
		}
		rt, err := newRuntime(c)
		if err != nil {
			return err
		}
		return rt.Delete(id, c.Bool("force"))
	},
}
