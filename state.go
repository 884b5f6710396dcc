package main

import (
	"encoding/json"
	"os"

	"github.com/urfave/cli/v2"
)

var stateCommand = &cli.Command{
	Name:      "state",
	Usage:     "print a container's state as JSON",
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
		st, err := rt.State(id)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	},
}
