package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
)

type listEntry struct {
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Owner       string            `json:"owner"`
}

var listCommand = &cli.Command{
	Name:  "list",
	Usage: "list containers",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only ids"},
	},
	Action: func(c *cli.Context) error {
		rt, err := newRuntime(c)
		if err != nil {
			return err
		}
		// As runc: a missing default root is no containers yet; a
		// missing --root given by the caller is an error.
		if c.IsSet("root") {
			if _, err := os.Stat(rt.Store.Root); err != nil {
				return err
			}
		}
		sts, err := rt.List()
		if err != nil {
			return err
		}
		entries := make([]listEntry, 0, len(sts))
		for _, st := range sts {
			oci := rt.Store.OCI(st)
			entries = append(entries, listEntry{
				ID: st.ID, Pid: oci.Pid, Status: string(oci.Status), Bundle: st.Bundle,
				Rootfs: st.Rootfs, Created: st.Created, Annotations: st.Annotations, Owner: "root",
			})
		}
		if c.Bool("quiet") {
			for _, e := range entries {
				fmt.Println(e.ID)
			}
			return nil
		}
		switch c.String("format") {
		case "json":
			return json.NewEncoder(os.Stdout).Encode(entries)
		case "table":
			w := tabwriter.NewWriter(os.Stdout, 12, 1, 3, ' ', 0)
			fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
			for _, e := range entries {
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", e.ID, e.Pid, e.Status, e.Bundle, e.Created.Format(time.RFC3339Nano), e.Owner)
			}
			return w.Flush()
		}
		return fmt.Errorf("list: --format %q: must be table or json", c.String("format"))
	},
}
