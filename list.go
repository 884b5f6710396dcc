package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/carapace-oci/carapace/libcarapace/container"
	"github.com/carapace-oci/carapace/libcarapace/state"
)

// newContainerState is a container's state for list and state.
func newContainerState(rt *container.Runtime, st *state.State) state.Info {
	oci := rt.Store.OCI(st)
	return state.Info{
		OCIVersion: oci.Version, ID: st.ID, Pid: oci.Pid, Status: string(oci.Status),
		Bundle: st.Bundle, Rootfs: st.Rootfs, Created: st.Created,
		Annotations: st.Annotations, Owner: owner(rt.Store.Dir(st.ID)),
	}
}

// owner names the user owning a container's state directory, as runc's
// list does: the user name, or "#uid" when the uid has none.
func owner(dir string) string {
	fi, err := os.Stat(dir)
	if err != nil {
		return ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	uid := strconv.FormatUint(uint64(st.Uid), 10)
	if u, err := user.LookupId(uid); err == nil {
		return u.Username
	}
	return "#" + uid
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
		entries := make([]state.Info, 0, len(sts))
		for _, st := range sts {
			entries = append(entries, newContainerState(rt, st))
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
