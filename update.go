package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"
)

var updateCommand = &cli.Command{
	Name:      "update",
	Usage:     "change a running container's resource limits",
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "resources", Aliases: []string{"r"}, Usage: "a JSON LinuxResources file, - for stdin; other flags override it"},
		&cli.StringFlag{Name: "memory", Usage: "memory limit (bytes, or with k, m, g suffix; -1 for none)"},
		&cli.StringFlag{Name: "memory-reservation", Usage: "memory soft limit"},
		&cli.StringFlag{Name: "memory-swap", Usage: "memory+swap limit"},
		&cli.StringFlag{Name: "kernel-memory", Usage: "kernel memory limit (deprecated)"},
		&cli.StringFlag{Name: "kernel-memory-tcp", Usage: "kernel TCP buffer limit (deprecated)"},
		&cli.StringFlag{Name: "cpu-shares", Aliases: []string{"cpu-share"}, Usage: "CPU shares (relative weight)"},
		&cli.StringFlag{Name: "cpu-quota", Usage: "CPU CFS quota in µs per period"},
		&cli.StringFlag{Name: "cpu-period", Usage: "CPU CFS period in µs"},
		&cli.StringFlag{Name: "cpu-burst", Usage: "CPU CFS burst in µs"},
		&cli.StringFlag{Name: "cpu-rt-period", Usage: "real-time period in µs"},
		&cli.StringFlag{Name: "cpu-rt-runtime", Usage: "real-time runtime in µs"},
		&cli.StringFlag{Name: "cpu-idle", Usage: "1 to make the cgroup SCHED_IDLE"},
		&cli.StringFlag{Name: "cpuset-cpus", Usage: "CPUs to run on, e.g. 0-1"},
		&cli.StringFlag{Name: "cpuset-mems", Usage: "memory nodes, e.g. 0"},
		&cli.StringFlag{Name: "pids-limit", Usage: "maximum number of processes (-1 for none)"},
		&cli.StringFlag{Name: "blkio-weight", Usage: "block IO weight, 10 to 1000"},
	},
	Action: func(c *cli.Context) error {
		if c.NArg() == 0 {
			return fmt.Errorf("update: a container id is required")
		}
		if err := flagsAfterID(c); err != nil {
			return err
		}
		rt, err := newRuntime(c)
		if err != nil {
			return err
		}
		res, err := updateResources(c)
		if err != nil {
			return err
		}
		return rt.Update(c.Args().First(), res)
	},
}

// flagsAfterID takes the flags given after the container id, as runc does
// for update (`update ID --memory 256m`): they are parsed as if given
// before it. Anything else after the id is left for argID to refuse.
func flagsAfterID(c *cli.Context) error {
	if c.NArg() < 2 {
		return nil
	}
	fs := flag.NewFlagSet(c.Command.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, f := range c.Command.Flags {
		if err := f.Apply(fs); err != nil {
			return err
		}
	}
	if err := fs.Parse(c.Args().Tail()); err != nil {
		return fmt.Errorf("%s: %w", c.Command.Name, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: takes one container id, got %q after it", c.Command.Name, fs.Args())
	}
	var err error
	fs.Visit(func(f *flag.Flag) {
		if err == nil {
			err = c.Set(f.Name, f.Value.String())
		}
	})
	return err
}

func updateResources(c *cli.Context) (*specs.LinuxResources, error) {
	r := &specs.LinuxResources{}
	if f := c.String("resources"); f != "" {
		var in io.Reader = os.Stdin
		if f != "-" {
			file, err := os.Open(f)
			if err != nil {
				return nil, fmt.Errorf("--resources: %w", err)
			}
			defer file.Close()
			in = file
		}
		if err := json.NewDecoder(in).Decode(r); err != nil {
			return nil, fmt.Errorf("--resources: invalid LinuxResources JSON: %w", err)
		}
	}
	var err error
	set := func(name string, apply func(string) error) {
		if err == nil && c.IsSet(name) {
			if e := apply(c.String(name)); e != nil {
				err = fmt.Errorf("--%s %q: %w", name, c.String(name), e)
			}
		}
	}
	mem := func() *specs.LinuxMemory {
		if r.Memory == nil {
			r.Memory = &specs.LinuxMemory{}
		}
		return r.Memory
	}
	cpu := func() *specs.LinuxCPU {
		if r.CPU == nil {
			r.CPU = &specs.LinuxCPU{}
		}
		return r.CPU
	}
	bytesTo := func(dst **int64) func(string) error {
		return func(s string) error {
			v, e := parseBytes(s)
			*dst = &v
			return e
		}
	}
	u64To := func(dst **uint64) func(string) error {
		return func(s string) error {
			v, e := strconv.ParseUint(s, 10, 64)
			*dst = &v
			return e
		}
	}
	i64To := func(dst **int64) func(string) error {
		return func(s string) error {
			v, e := strconv.ParseInt(s, 10, 64)
			*dst = &v
			return e
		}
	}
	set("memory", func(s string) error { return bytesTo(&mem().Limit)(s) })
	set("memory-reservation", func(s string) error { return bytesTo(&mem().Reservation)(s) })
	set("memory-swap", func(s string) error { return bytesTo(&mem().Swap)(s) })
	set("kernel-memory", func(s string) error { return bytesTo(&mem().Kernel)(s) })
	set("kernel-memory-tcp", func(s string) error { return bytesTo(&mem().KernelTCP)(s) })
	set("cpu-shares", func(s string) error { return u64To(&cpu().Shares)(s) })
	set("cpu-quota", func(s string) error { return i64To(&cpu().Quota)(s) })
	set("cpu-period", func(s string) error { return u64To(&cpu().Period)(s) })
	set("cpu-burst", func(s string) error { return u64To(&cpu().Burst)(s) })
	set("cpu-rt-period", func(s string) error { return u64To(&cpu().RealtimePeriod)(s) })
	set("cpu-rt-runtime", func(s string) error { return i64To(&cpu().RealtimeRuntime)(s) })
	set("cpu-idle", func(s string) error { return i64To(&cpu().Idle)(s) })
	set("cpuset-cpus", func(s string) error { cpu().Cpus = s; return nil })
	set("cpuset-mems", func(s string) error { cpu().Mems = s; return nil })
	set("pids-limit", func(s string) error {
		v, e := strconv.ParseInt(s, 10, 64)
		r.Pids = &specs.LinuxPids{Limit: &v}
		return e
	})
	set("blkio-weight", func(s string) error {
		v, e := strconv.ParseUint(s, 10, 16)
		w := uint16(v)
		r.BlockIO = &specs.LinuxBlockIO{Weight: &w}
		return e
	})
	return r, err
}

// parseBytes reads 1024, 512k, 128M, 2g (binary units) or -1.
func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	mult := int64(1)
	s = strings.TrimSuffix(strings.TrimSuffix(s, "b"), "i")
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		case 't':
			mult = 1 << 40
		}
		if mult > 1 {
			s = s[:n-1]
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("not a size")
	}
	if v < 0 {
		return -1, nil
	}
	return v * mult, nil
}
