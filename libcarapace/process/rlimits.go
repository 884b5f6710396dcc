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

// SetRlimits applies the spec's rlimits to the calling process. It runs as
// the last step before exec: a low RLIMIT_AS or NOFILE would otherwise break
// the runtime's own setup.
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
				return fmt.Errorf("process.rlimits[%d]: set %s to soft %d hard %d: the hard limit can only be raised with CAP_SYS_RESOURCE, and the runtime's hard limit is %d: %w",
					i, r.Type, r.Soft, r.Hard, cur.Max, err)
			}
			return fmt.Errorf("process.rlimits[%d]: set %s: %w", i, r.Type, err)
		}
	}
	return nil
}
