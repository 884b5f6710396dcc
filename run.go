package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

var runCommand = &cli.Command{
	Name:      "run",
	Usage:     "create and start a container, and wait for it unless detached",
	ArgsUsage: "<container-id>",
	Flags: append([]cli.Flag{
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "return once the process runs"},
		&cli.BoolFlag{Name: "keep", Usage: "keep the stopped container (state, cgroup) after the process exits, for state and delete"},
		&cli.BoolFlag{Name: "no-subreaper", Usage: "do not reap the container's orphaned processes (they go to the nearest other reaper)"},
	}, createFlags...),
	Action: func(c *cli.Context) error {
		o, rt, err := createOptions(c)
		if err != nil {
			return err
		}
		if c.Bool("detach") && c.Bool("keep") {
			return fmt.Errorf("run: --detach and --keep cannot be used together (a detached container is kept anyway)")
		}
		o.NoSubreaper = c.Bool("no-subreaper")
		code, err := rt.Run(o, c.Bool("detach"), c.Bool("keep"))
		if err != nil {
			return err
		}
		if code != 0 {
			return exitError{code}
		}
		return nil
	},
}
