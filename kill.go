package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/signals"
)

var killCommand = &cli.Command{
	Name:      "kill",
	Usage:     "send a signal (default SIGTERM) to a container's process",
	ArgsUsage: "<container-id> [signal]",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "signal every process of the container"},
	},
	Action: func(c *cli.Context) error {
		var id string
		sig := unix.SIGTERM
		switch c.NArg() {
		case 2:
			s, err := signals.Parse(c.Args().Get(1))
			if err != nil {
				return err
			}
			sig = s
			fallthrough
		case 1:
			id = c.Args().First()
		case 0:
			return fmt.Errorf("kill: a container id is required")
		default:
			return fmt.Errorf("kill: takes a container id and a signal, got %d arguments", c.NArg())
		}
		rt, err := newRuntime(c)
		if err != nil {
			return err
		}
		return rt.Kill(id, sig, c.Bool("all"))
	},
}
