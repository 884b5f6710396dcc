package rootfs

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// mountMaxFile is the sysctl that caps the number of mounts in each mount
// namespace (fs.mount-max, 100000 by default).
const mountMaxFile = "/proc/sys/fs/mount-max"

// TableFullError is ENOSPC from a syscall that adds a mount to the mount
// namespace (mount, move_mount): the namespace already holds fs.mount-max
// mounts. A bare "no space left on device" would send a reader to look at
// disks; the container's namespace is a copy of the runtime's, so a
// runtime run in a namespace full of mounts fills it at once.
type TableFullError struct {
	Max string // fs.mount-max as read when the mount failed; "" if unreadable
	Err error
}

func (e *TableFullError) Error() string {
	limit := "fs.mount-max"
	if e.Max != "" {
		limit += " " + e.Max
	}
	return "the mount table is full (" + limit + "): " + e.Err.Error()
}

func (e *TableFullError) Unwrap() error { return e.Err }

// mountErr wraps err, from the mount-adding syscall op, with op; ENOSPC
// says that the mount table is full. Every error of a syscall that adds
// a mount goes through it, so that each names the limit the same way.
func mountErr(op string, err error) error {
	if errors.Is(err, unix.ENOSPC) {
		max := ""
		if b, rerr := os.ReadFile(mountMaxFile); rerr == nil {
			max = strings.TrimSpace(string(b))
		}
		err = &TableFullError{Max: max, Err: err}
	}
	return fmt.Errorf("%s: %w", op, err)
}
