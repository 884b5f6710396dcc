package main

import "github.com/urfave/cli/v2"

var runCommand = &cli.Command{
	Name:      "run",
	Usage:     "create and start a container, and wait for it unless detached",
	ArgsUsage: "<container-id>",
	Flags: append([]cli.Flag{
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "return once the process runs"},
	}, createFlags...),
	Action: func(c *cli.Context) error {
		o, rt, err := createOptions(c)
		if err != nil {
			return err
		}
		code, err := rt.Run(o, c.Bool("detach"))
		if err != nil {
			return err
		}
		if code != 0 {
			return exitError{code}
		}
		return nil
	},
}
