package process

import (
	"errors"
	"fmt"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

var rlimitByName = map[string]int{
	"RLIMIT_AS":         unix.RLIMIT_AS,
	"RLIMIT_CORE":       unix.RLIMIT_CORE,
	"RLIMIT_CPU":        unix.RLIMIT_CPU,
	"RLIMIT_DATA":       unix.RLIMIT_DATA,
	"RLIMIT_FSIZE":      unix.RLIMIT_FSIZE,
	"RLIMIT_LOCKS":      unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK":    unix.RLIMIT_MEMLOCK,
	"RLIMIT_MSGQUEUE":   unix.RLIMIT_MSGQUEUE,
	"RLIMIT_NICE":       unix.RLIMIT_NICE,
	"RLIMIT_NOFILE":     unix.RLIMIT_NOFILE,
	"RLIMIT_NPROC":      unix.RLIMIT_NPROC,
	"RLIMIT_RSS":        unix.RLIMIT_RSS,
	"RLIMIT_RTPRIO":     unix.RLIMIT_RTPRIO,
	"RLIMIT_RTTIME":     unix.RLIMIT_RTTIME,
	"RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_STACK":      unix.RLIMIT_STACK,
}

// RlimitByName returns the resource number of a name such as RLIMIT_NOFILE.
func RlimitByName(name string) (int, bool) {
	r, ok := rlimitByName[name]
	return r, ok
}

// RaiseRlimits gives a newly spawned child of the runtime, through
// prlimit, each of the spec's rlimits whose hard limit is above the
// runtime's own (which the child inherited). Only the runtime can: raising
// a hard limit needs CAP_SYS_RESOURCE in the initial user namespace, which
// the child never has once it is in its user namespace or has the
// container's capabilities. Raising breaks nothing of the child's setup;
// the child sets every limit itself, last before exec (SetRlimits), so a
// low RLIMIT_AS or NOFILE cannot break it either.
func RaiseRlimits(pid int, rl []specs.POSIXRlimit) error {
	for i, r := range rl {
		res := rlimitByName[r.Type]
		var own unix.Rlimit
		if err := unix.Getrlimit(res, &own); err != nil || r.Hard <= own.Max {
			continue
		}
		if err := unix.Prlimit(pid, res, &unix.Rlimit{Cur: r.Soft, Max: r.Hard}, nil); err != nil {
			return fmt.Errorf("process.rlimits[%d]: raise %s to soft %d hard %d above the runtime's hard limit %d: %w",
				i, r.Type, r.Soft, r.Hard, own.Max, err)
		}
	}
	return nil
}

// SetRlimits applies the spec's rlimits to the calling process. It runs as
// the last step before exec: a low RLIMIT_AS or NOFILE would otherwise break
// the runtime's own setup. Hard limits above the runtime's were raised by
// RaiseRlimits already; set again to the same values they need no
// privilege.
func SetRlimits(rl []specs.POSIXRlimit) error {
	for i, r := range rl {
		res := rlimitByName[r.Type]
		// syscall.Setrlimit, not unix: it tells the Go runtime not to
		// restore its own NOFILE soft limit at exec.
		err := syscall.Setrlimit(res, &syscall.Rlimit{Cur: r.Soft, Max: r.Hard})
		if err != nil {
			if errors.Is(err, unix.EPERM) {
				var cur unix.Rlimit
				_ = unix.Getrlimit(res, &cur)
				return fmt.Errorf("process.rlimits[%d]: set %s to soft %d hard %d: the hard limit can only be raised with CAP_SYS_RESOURCE, and the current hard limit is %d: %w",
					i, r.Type, r.Soft, r.Hard, cur.Max, err)
			}
			return fmt.Errorf("process.rlimits[%d]: set %s: %w", i, r.Type, err)
		}
	}
	return nil
}
