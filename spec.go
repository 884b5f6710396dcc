package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/carapace-oci/carapace/libcarapace/config"
)

var specCommand = &cli.Command{
	Name:  "spec",
	Usage: "write a default config.json to the bundle",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Value: ".", Usage: "bundle directory"},
		&cli.BoolFlag{Name: "rootless", Usage: "a config for an unprivileged user: user namespace mapping the caller to root"},
	},
	Action: func(c *cli.Context) error {
		s := config.Default(c.Bool("rootless"), uint32(os.Getuid()), uint32(os.Getgid()))
		p := filepath.Join(c.String("bundle"), config.Name)
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("spec: %s exists; remove it first", p)
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("spec: %w", err)
		}
		b, err := json.MarshalIndent(s, "", "\t")
		if err != nil {
			return err
		}
		return os.WriteFile(p, append(b, '\n'), 0o666)
	},
}
