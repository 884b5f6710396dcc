package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

var psCommand = &cli.Command{
	Name:      "ps",
	Usage:     "list a container's processes",
	ArgsUsage: "<container-id> [-- ps options]",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json (the host pids)"},
	},
	Action: func(c *cli.Context) error {
		if c.NArg() < 1 {
			return fmt.Errorf("ps: a container id is required")
		}
		id := c.Args().First()
		rt, err := newRuntime(c)
		if err != nil {
			return err
		}
		pids, err := rt.Pids(id)
		if err != nil {
			return err
		}
		switch c.String("format") {
		case "json":
			if pids == nil {
				pids = []int{}
			}
			return json.NewEncoder(os.Stdout).Encode(pids)
		case "table":
		default:
			return fmt.Errorf("ps: --format %q: must be table or json", c.String("format"))
		}
		args := c.Args().Tail()
		if len(args) > 0 && args[0] == "--" {
			args = args[1:]
		}
		if len(args) == 0 {
			args = []string{"-ef"}
		}
		out, err := exec.Command("ps", args...).Output()
		if err != nil {
			return fmt.Errorf("ps %s: %w", strings.Join(args, " "), err)
		}
		return printPsLines(out, pids)
	},
}

// printPsLines keeps ps's header and the lines of the container's pids.
func printPsLines(out []byte, pids []int) error {
	lines := bytes.Split(bytes.TrimRight(out, "\n"), []byte("\n"))
	if len(lines) == 0 {
		return nil
	}
	col := -1
	for i, f := range strings.Fields(string(lines[0])) {
		if f == "PID" {
			col = i
		}
	}
	if col < 0 {
		return fmt.Errorf("ps: no PID column in the output of ps")
	}
	in := map[int]bool{}
	for _, p := range pids {
		in[p] = true
	}
	fmt.Println(string(lines[0]))
	for _, l := range lines[1:] {
		f := strings.Fields(string(l))
		if len(f) <= col {
			continue
		}
		if p, err := strconv.Atoi(f[col]); err == nil && in[p] {
			fmt.Println(string(l))
		}
	}
	return nil
}
