package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/check"
)

var checkCommand = &cli.Command{
	Name:  "check",
	Usage: "report what this host gives a container runtime, and whether a bundle would start (--bundle)",
	Description: `Prints every fact of the host that containers depend on, each with what it
means and, where something is missing, what fails and how to fix it.
With --bundle, runs the bundle's config.json through what create decides
and lists each setting this host cannot honour, by JSON field; the exit
status is then 0 only if the bundle would start. See docs/check.md.`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Usage: "also check this bundle against the host"},
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"},
	},
	Action: func(c *cli.Context) error {
		format := c.String("format")
		if format != "table" && format != "json" {
			return fmt.Errorf("--format %q: must be table or json", format)
		}
		if c.NArg() > 0 {
			return fmt.Errorf("check: takes no arguments, got %d", c.NArg())
		}
		rt, err := newRuntime(c)
		if err != nil {
			return err
		}
		o := check.Options{Paths: []string{c.String("root")}, SystemdCgroup: c.Bool("systemd-cgroup")}
		if o.Paths[0] == "" {
			o.Paths = nil
		}
		var rep check.Report
		if c.IsSet("bundle") {
			b, errs := rt.CheckBundle(c.String("bundle"))
			rep.Bundle = check.NewBundleResult(c.String("bundle"), b, errs)
			if b != nil {
				o.Paths = append(o.Paths, b.Rootfs)
			}
		}
		rep.Host = check.Host(o)
		if format == "json" {
			err = rep.WriteJSON(os.Stdout)
		} else {
			err = rep.WriteText(os.Stdout, color())
		}
		if err != nil {
			return err
		}
		if rep.Bundle != nil && !rep.Bundle.OK {
			return exitError{1}
		}
		return nil
	},
}

// color reports whether stdout is a terminal that wants colour.
func color() bool {
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	_, err := unix.IoctlGetTermios(int(os.Stdout.Fd()), unix.TCGETS)
	return err == nil
}
