package check

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
)

// childEnv makes this binary, re-executed, a throwaway child of a probe:
// "exit" exits at once (the probe was whether it could be made), "wait"
// waits for its stdin to close (the probe uses its namespaces meanwhile).
const childEnv = "_CARAPACE_CHECK_CHILD"

func init() {
	switch os.Getenv(childEnv) {
	case "":
		return
	case "wait":
		io.Copy(io.Discard, os.Stdin)
	}
	os.Exit(0)
}

// child is a running throwaway child.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startChild starts this binary as a throwaway child with the given
// attributes (clone flags, id maps); wait keeps it alive until stop.
func startChild(attr *syscall.SysProcAttr, wait bool) (*child, error) {
	mode := "exit"
	if wait {
		mode = "wait"
	}
	cmd := exec.Command("/proc/self/exe")
	cmd.Env = []string{childEnv + "=" + mode}
	cmd.SysProcAttr = attr
	c := &child{cmd: cmd}
	if wait {
		in, err := cmd.StdinPipe()
		if err != nil {
			return nil, err
		}
		c.stdin = in
	}
	if err := cmd.Start(); err != nil {
		if c.stdin != nil {
			c.stdin.Close()
		}
		return nil, err
	}
	return c, nil
}

// stop ends the child and reaps it.
func (c *child) stop() error {
	if c.stdin != nil {
		c.stdin.Close()
	}
	err := c.cmd.Wait()
	if err != nil {
		return fmt.Errorf("throwaway child: %w", err)
	}
	return nil
}

// TryClone reports whether a child can be made with these clone flags
// (CLONE_NEW*), by making one that exits at once.
func TryClone(flags uintptr) error {
	c, err := startChild(&syscall.SysProcAttr{Cloneflags: flags}, false)
	if err != nil {
		return err
	}
	return c.stop()
}
