package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"

	"github.com/carapace-oci/carapace/libcarapace/config"
	"github.com/carapace-oci/carapace/libcarapace/container"
)

var execCommand = &cli.Command{
	Name:      "exec",
	Usage:     "run a new process in a running container",
	ArgsUsage: "<container-id> [command [args...]]",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "process", Aliases: []string{"p"}, Usage: "a process JSON file (runtime-spec process object); replaces the other process flags"},
		&cli.StringFlag{Name: "console-socket", Usage: "unix socket to send the pty master to"},
		&cli.StringFlag{Name: "pid-file", Usage: "write the process's pid to this file"},
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "return once the process runs"},
		&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "give the process a pseudo-terminal"},
		&cli.StringFlag{Name: "cwd", Usage: "working directory in the container"},
		// Repeated flags are declared once per spelling: urfave/cli refuses
		// "-e A=1 --env B=2" for aliases, and runc accepts it.
		&cli.StringSliceFlag{Name: "env", Usage: "add or replace an environment variable, NAME=VALUE"},
		&cli.StringSliceFlag{Name: "e", Hidden: true},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "uid[:gid] to run as"},
		&cli.Int64SliceFlag{Name: "additional-gids", Usage: "supplementary group ids"},
		&cli.Int64SliceFlag{Name: "g", Hidden: true},
		&cli.StringSliceFlag{Name: "cap", Usage: "add a capability (bounding, effective, permitted)"},
		&cli.StringSliceFlag{Name: "c", Hidden: true},
		&cli.BoolFlag{Name: "no-new-privs", Usage: "set no_new_privs"},
		&cli.StringFlag{Name: "apparmor", Usage: "AppArmor profile"},
		&cli.StringFlag{Name: "process-label", Usage: "SELinux label"},
		&cli.IntFlag{Name: "preserve-fds", Usage: "pass this many fds after stdio to the process"},
		&cli.BoolFlag{Name: "ignore-paused", Usage: "exec even if the container is paused"},
		&cli.StringSliceFlag{Name: "cgroup", Usage: "run in an existing sub-cgroup of the container's: path, or controller[,controller]:path (repeatable, cgroup v1)"},
		&cli.StringFlag{Name: "pidfd-socket", Usage: "unix socket to send a pidfd of the process to"},
	},
	Action: func(c *cli.Context) error {
		if c.NArg() < 1 {
			return fmt.Errorf("exec: a container id is required")
		}
		id := c.Args().First()
		rt, err := newRuntime(c)
		if err != nil {
			return err
		}
		// A failed exec (as opposed to the process's own status) ends
		// with 255, as runc's does.
		p, err := execProcess(c, rt, id)
		if err != nil {
			return failure{255, err}
		}
		code, err := rt.Exec(container.ExecOptions{
			ID: id, Process: p, Detach: c.Bool("detach"), PidFile: c.String("pid-file"),
			ConsoleSocket: c.String("console-socket"), PreserveFDs: c.Int("preserve-fds") + listenFDs(),
			IgnorePaused: c.Bool("ignore-paused"), SubCgroups: c.StringSlice("cgroup"),
			PidfdSocket: c.String("pidfd-socket"),
		})
		if err != nil {
			return failure{255, err}
		}
		if code != 0 {
			return exitError{code}
		}
		return nil
	},
}

// execProcess is the --process file, or the container's process with the
// command line's changes.
func execProcess(c *cli.Context, rt *container.Runtime, id string) (*specs.Process, error) {
	if f := c.String("process"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("--process: %w", err)
		}
		p, err := config.ParseProcess(b)
		if err != nil {
			return nil, fmt.Errorf("--process %s: invalid process JSON: %w", f, err)
		}
		if c.Bool("tty") {
			p.Terminal = true
		}
		if c.NArg() > 1 {
			p.Args = c.Args().Tail()
		}
		return p, nil
	}
	st, err := rt.Load(id)
	if err != nil {
		return nil, err
	}
	if c.NArg() < 2 {
		return nil, fmt.Errorf("exec: a command is required (or --process)")
	}
	var p specs.Process
	if st.Process != nil {
		p = *st.Process
		p.Capabilities = cloneCaps(st.Process.Capabilities)
	}
	p.Args = c.Args().Tail()
	p.Terminal = c.Bool("tty")
	p.ConsoleSize = nil
	if cwd := c.String("cwd"); cwd != "" {
		p.Cwd = cwd
	}
	p.Env = mergeEnv(p.Env, append(c.StringSlice("env"), c.StringSlice("e")...))
	if u := c.String("user"); u != "" {
		// As runc: only what is given changes; without ":gid" the
		// process keeps the container's gid and additional gids.
		uid, gid, hasGid, err := parseUser(u)
		if err != nil {
			return nil, err
		}
		p.User.UID = uid
		if hasGid {
			p.User.GID = gid
		}
	}
	for _, g := range append(c.Int64Slice("additional-gids"), c.Int64Slice("g")...) {
		if g < 0 || g > 1<<32-1 {
			return nil, fmt.Errorf("--additional-gids %d: not a group id", g)
		}
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(g))
	}
	if caps := append(c.StringSlice("cap"), c.StringSlice("c")...); len(caps) > 0 {
		if p.Capabilities == nil {
			p.Capabilities = &specs.LinuxCapabilities{}
		}
		for _, name := range caps {
			name = strings.ToUpper(name)
			if !strings.HasPrefix(name, "CAP_") {
				name = "CAP_" + name
			}
			// Never inheritable (CVE-2022-29162). Ambient too when the
			// process has an inheritable set, as with runc: the kernel
			// raises it only if the capability is inheritable already.
			p.Capabilities.Bounding = append(p.Capabilities.Bounding, name)
			p.Capabilities.Effective = append(p.Capabilities.Effective, name)
			p.Capabilities.Permitted = append(p.Capabilities.Permitted, name)
			if p.Capabilities.Inheritable != nil {
				p.Capabilities.Ambient = append(p.Capabilities.Ambient, name)
			}
		}
	}
	if c.Bool("no-new-privs") {
		p.NoNewPrivileges = true
	}
	if a := c.String("apparmor"); a != "" {
		p.ApparmorProfile = a
	}
	if l := c.String("process-label"); l != "" {
		p.SelinuxLabel = l
	}
	return &p, nil
}

func cloneCaps(c *specs.LinuxCapabilities) *specs.LinuxCapabilities {
	if c == nil {
		return nil
	}
	cp := func(s []string) []string { return append([]string(nil), s...) }
	return &specs.LinuxCapabilities{
		Bounding: cp(c.Bounding), Effective: cp(c.Effective), Inheritable: cp(c.Inheritable),
		Permitted: cp(c.Permitted), Ambient: cp(c.Ambient),
	}
}

// parseUser reads "uid" or "uid:gid", both decimal: anything else, an empty
// part included ("1000:", ":0"), is refused rather than guessed at.
func parseUser(s string) (uid, gid uint32, hasGid bool, err error) {
	us, gs, hasGid := strings.Cut(s, ":")
	u, err := strconv.ParseUint(us, 10, 32)
	if err != nil {
		return 0, 0, false, fmt.Errorf("--user %q: the uid must be a number", s)
	}
	if !hasGid {
		return uint32(u), 0, false, nil
	}
	g, err := strconv.ParseUint(gs, 10, 32)
	if err != nil {
		return 0, 0, false, fmt.Errorf("--user %q: the gid must be a number", s)
	}
	return uint32(u), uint32(g), true, nil
}

// mergeEnv sets each NAME=VALUE of add in env, replacing the same NAME.
func mergeEnv(env, add []string) []string {
	out := append([]string(nil), env...)
	for _, kv := range add {
		name, _, _ := strings.Cut(kv, "=")
		replaced := false
		for i, e := range out {
			if n, _, _ := strings.Cut(e, "="); n == name {
				out[i], replaced = kv, true
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return out
}
