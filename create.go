package main

import (
	"os"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/carapace-oci/carapace/libcarapace/container"
)

var createFlags = []cli.Flag{
	&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Value: ".", Usage: "bundle directory"},
	&cli.StringFlag{Name: "pid-file", Usage: "write the init pid to this file"},
	&cli.StringFlag{Name: "console-socket", Usage: "unix socket to send the pty master to"},
	&cli.BoolFlag{Name: "no-pivot", Usage: "use chroot instead of pivot_root"},
	&cli.BoolFlag{Name: "no-new-keyring", Usage: "keep the caller's session keyring"},
	&cli.IntFlag{Name: "preserve-fds", Usage: "pass this many fds after stdio to the container"},
	&cli.StringFlag{Name: "pidfd-socket", Usage: "unix socket to send a pidfd of the container's process to"},
}

var createCommand = &cli.Command{
	Name:      "create",
	Usage:     "create a container and leave it waiting for start",
	ArgsUsage: "<container-id>",
	Flags:     createFlags,
	Action: func(c *cli.Context) error {
		o, rt, err := createOptions(c)
		if err != nil {
			return err
		}
		return rt.Create(o)
	},
}

func createOptions(c *cli.Context) (container.CreateOptions, *container.Runtime, error) {
	id, err := argID(c)
	if err != nil {
		return container.CreateOptions{}, nil, err
	}
	rt, err := newRuntime(c)
	if err != nil {
		return container.CreateOptions{}, nil, err
	}
	return container.CreateOptions{
		ID:            id,
		Bundle:        c.String("bundle"),
		PidFile:       c.String("pid-file"),
		ConsoleSocket: c.String("console-socket"),
		NoPivot:       c.Bool("no-pivot"),
		NoNewKeyring:  c.Bool("no-new-keyring"),
		PreserveFDs:   c.Int("preserve-fds"),
		ListenFDs:     listenFDs(),
		NotifySocket:  os.Getenv("NOTIFY_SOCKET"),
		PidfdSocket:   c.String("pidfd-socket"),
	}, rt, nil
}

// listenFDs counts the socket-activation fds systemd passed us (LISTEN_FDS,
// for this very process per LISTEN_PID).
func listenFDs() int {
	n, err := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	if err != nil || n <= 0 {
		return 0
	}
	if pid, err := strconv.Atoi(os.Getenv("LISTEN_PID")); err != nil || pid != os.Getpid() {
		return 0
	}
	return n
}
