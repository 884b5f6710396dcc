//go:build faultinject

// Package faultpoint, built with the tag faultinject: the test-only build.
// See faultpoint.go for the normal one.
package faultpoint

import (
	"fmt"
	"os"
	"os/signal"

	"golang.org/x/sys/unix"
)

// The variables that arm a point: CARAPACE_FAULTPOINT names it, and
// CARAPACE_FAULTPOINT_FIFO is a fifo the test reads.
const (
	EnvPoint = "CARAPACE_FAULTPOINT"
	EnvFifo  = "CARAPACE_FAULTPOINT_FIFO"
)

// fifo is opened as the process starts: in init, the fifo's path is out
// of reach once the container's root is entered. O_NONBLOCK: the test
// holds the fifo open for reading, and a process started without one
// must not hang.
var fifo *os.File

// fired: a point hit in a loop (cgroups:between-writes) holds the process
// once, at its first pass.
var fired bool

func init() {
	if os.Getenv(EnvPoint) == "" {
		return
	}
	fd, err := unix.Open(os.Getenv(EnvFifo), unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err == nil {
		fifo = os.NewFile(uintptr(fd), "faultpoint")
	}
}

// Hit, when name is the armed point, writes "<name> <pid>\n" to the fifo
// and then holds the process (once) until SIGCONT (or the SIGKILL the test sends).
// It waits for a signal, not in SIGSTOP: the init of a pid namespace
// ignores a SIGSTOP it sends itself.
func Hit(name string) {
	if fired || os.Getenv(EnvPoint) != name {
		return
	}
	fired = true
	cont := make(chan os.Signal, 1)
	signal.Notify(cont, unix.SIGCONT)
	defer signal.Stop(cont)
	if fifo == nil {
		fmt.Fprintf(os.Stderr, "faultpoint %s: no fifo\n", name)
		return
	}
	fmt.Fprintf(fifo, "%s %d\n", name, os.Getpid())
	<-cont
}

// Env passes the armed point on to the runtime's children.
func Env() []string {
	var env []string
	for _, k := range []string{EnvPoint, EnvFifo} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}
