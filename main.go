// Command carapace is an OCI container runtime with runc's command line.
//
// Every process of it lives for milliseconds: the Go runtime is told not to
// size itself from cgroup CPU limits, nor to watch them.
//
//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0
package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"

	"github.com/carapace-oci/carapace/libcarapace/container"
	"github.com/carapace-oci/carapace/libcarapace/logging"
	_ "github.com/carapace-oci/carapace/libcarapace/nsenter"
	"github.com/carapace-oci/carapace/libcarapace/state"
)

// version and commit are set at build time (-ldflags -X main.version=...).
var (
	version = "0.1.0-dev"
	commit  = "unknown"
)

func init() {
	// A container's init is this binary re-executed: it must not parse a
	// command line or start anything else.
	if container.IsInit() {
		container.Init()
	}
	if container.IsExec() {
		container.ExecInit()
	}
	container.NoteInheritedFDs()
}

// exitError carries a process exit status out of a command (run).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// failure is an error that ends carapace with a status other than 1.
type failure struct {
	code int
	err  error
}

func (f failure) Error() string { return f.err.Error() }
func (f failure) Unwrap() error { return f.err }

var logger = slog.New(slog.DiscardHandler)

func main() {
	// Every verb is a short-lived process: collecting garbage would only
	// cost time.
	debug.SetGCPercent(-1)
	app := &cli.App{
		Name:    "carapace",
		Usage:   "an OCI container runtime",
		Version: version,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "root", Value: state.DefaultRoot, Usage: "directory for container state (non-root: $XDG_RUNTIME_DIR/carapace)"},
			&cli.StringFlag{Name: "log", Usage: "log file (default: stderr)"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log format: text or json"},
			&cli.BoolFlag{Name: "debug", Usage: "log debug messages"},
			&cli.BoolFlag{Name: "systemd-cgroup", Usage: "place containers in systemd scope units (cgroupsPath \"slice:prefix:name\")"},
			&cli.StringFlag{Name: "rootless", Value: "auto", Usage: "rootless cgroups (skipped when not writable and no limit is asked): true, false or auto (non-root, or in a user namespace)"},
			&cli.StringFlag{Name: "criu", Hidden: true},
		},
		Before: setup,
		Commands: []*cli.Command{
			createCommand, startCommand, stateCommand, killCommand, deleteCommand,
			runCommand, listCommand, specCommand, pauseCommand, resumeCommand, psCommand,
			updateCommand, eventsCommand, execCommand, featuresCommand, checkCommand,
		},
		ExitErrHandler: func(*cli.Context, error) {},
		// As runc's (urfave/cli v1): a repeated flag's value is taken
		// whole, commas included (exec -e A=b,c; --cgroup cpu,memory:sub).
		DisableSliceFlagSeparator: true,
	}
	// Exactly three lines: go-runc (containerd's client library) reads
	// "NAME version V", "commit: C" and "spec: S" and refuses any other
	// line count; docker and podman take the first line.
	cli.VersionPrinter = func(c *cli.Context) {
		fmt.Printf("carapace version %s\ncommit: %s\nspec: %s\n", c.App.Version, commit, specs.Version)
	}
	err := app.Run(os.Args)
	if err == nil {
		return
	}
	var ee exitError
	if errors.As(err, &ee) {
		os.Exit(ee.code)
	}
	logging.Error(logger, err)
	fmt.Fprintf(os.Stderr, "carapace: %v\n", err)
	var f failure
	if errors.As(err, &f) {
		os.Exit(f.code)
	}
	os.Exit(1)
}

// setup opens the log before any command runs.
func setup(c *cli.Context) error {
	switch f := c.String("log-format"); f {
	case "text", "json":
	default:
		return fmt.Errorf("--log-format %q: must be text or json", f)
	}
	if c.String("log") == "" {
		return nil
	}
	l, _, err := logging.New(logging.Options{File: c.String("log"), Format: c.String("log-format"), Debug: c.Bool("debug")})
	if err != nil {
		return fmt.Errorf("--log %s: %w", c.String("log"), err)
	}
	logger = l
	return nil
}

// newRuntime gives a command the runtime for the global flags.
func newRuntime(c *cli.Context) (*container.Runtime, error) {
	l := logger
	if c.String("log") == "" {
		// Warnings (failed poststart hooks, ...) go to stderr.
		l, _, _ = logging.New(logging.Options{Format: c.String("log-format"), Debug: c.Bool("debug")})
	}
	rootless, err := container.ParseRootless(c.String("rootless"))
	if err != nil {
		return nil, err
	}
	return &container.Runtime{Store: state.Store{Root: stateRoot(c)}, Log: l, SystemdCgroup: c.Bool("systemd-cgroup"), Rootless: rootless}, nil
}

// stateRoot is --root, or for a caller that is not root (as runc decides
// it) $XDG_RUNTIME_DIR/carapace: /run/carapace is not theirs to write.
func stateRoot(c *cli.Context) string {
	if c.IsSet("root") {
		return c.String("root")
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" && container.HonorXDGRuntimeDir() {
		return filepath.Join(d, "carapace")
	}
	return c.String("root")
}

// forContainer is the action of a verb that takes one container id.
func forContainer(f func(rt *container.Runtime, id string, c *cli.Context) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		id, err := argID(c)
		if err != nil {
			return err
		}
		rt, err := newRuntime(c)
		if err != nil {
			return err
		}
		return f(rt, id, c)
	}
}

// argID returns the single container id a command takes.
func argID(c *cli.Context) (string, error) {
	switch c.NArg() {
	case 0:
		return "", fmt.Errorf("%s: a container id is required", c.Command.Name)
	case 1:
		return c.Args().First(), nil
	}
	return "", fmt.Errorf("%s: takes one container id, got %d arguments", c.Command.Name, c.NArg())
}
