package container

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/cgroups"
)

// peerGone reports whether err is what the socket to init says once init
// is gone.
func peerGone(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, unix.ECONNRESET) || errors.Is(err, unix.EPIPE)
}

// initDied explains an init that died before it was ready: how it ended
// (its own words, if any, went to the container's stderr), and the limit
// that most likely ended it: a memory limit under which the OOM killer
// killed in its cgroup since oomBefore (a limit too small for init's own
// setup), or a pids limit that refused forks in its cgroup or above, the
// usual cause of an init that cannot even start its threads. err is what
// the socket said.
func initDied(pid int, cg *cgroups.Manager, oomBefore uint64, err error) error {
	how := "exited"
	if pidfd, perr := unix.PidfdOpen(pid, 0); perr == nil {
		// Its socket closed: it is exiting, if not gone already.
		waitGone(pidfd, 10*time.Second)
		unix.Close(pidfd)
		var ws unix.WaitStatus
		if p, werr := unix.Wait4(pid, &ws, unix.WNOHANG, nil); werr == nil && p == pid {
			switch {
			case ws.Signaled():
				how = "was killed by " + unix.SignalName(ws.Signal())
			case ws.Exited():
				how = "exited with status " + strconv.Itoa(ws.ExitStatus())
			}
		}
	}
	msg := fmt.Sprintf("container init %s during setup (%v)", how, err)
	if hint := memoryLimitHit(cg, oomBefore); hint != "" {
		msg += ": " + hint
	} else if hint := pidsLimitHit(cg); hint != "" {
		msg += ": " + hint
	}
	return errors.New(msg)
}

// oomKillsBefore is the container cgroup's OOM kill count before init
// starts: a reused cgroup may have counted kills of its own.
func oomKillsBefore(cg *cgroups.Manager) uint64 {
	if cg == nil {
		return 0
	}
	n, _ := cg.OOMKillCount()
	return n
}

// unlimitedMemory is where a v1 memory.limit_in_bytes means no limit
// (the kernel shows PAGE_COUNTER_MAX pages, rounded: about 2^63).
const unlimitedMemory = 1 << 62

// memoryLimitHit names the memory limit under which the OOM killer killed
// processes of the container's cgroup since before: the kill is counted
// in the victim's own cgroup (memory.events oom_kill on v2,
// memory.oom_control on v1), and the limit is the nearest one set, from
// there up (the container's, or one of the caller's cgroups above it).
func memoryLimitHit(cg *cgroups.Manager, before uint64) string {
	if cg == nil {
		return ""
	}
	n, err := cg.OOMKillCount()
	if err != nil || n <= before {
		return ""
	}
	killed := n - before
	dir, ok := cg.Dir("memory")
	if !ok {
		return "the OOM killer killed " + processes(killed) + " of its cgroup"
	}
	own := dir
	for ; strings.HasPrefix(dir, "/sys/fs/cgroup/"); dir = filepath.Dir(dir) {
		file := "memory.max"
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			file = "memory.limit_in_bytes"
			if b, err = os.ReadFile(filepath.Join(dir, file)); err != nil {
				continue
			}
		}
		limit := strings.TrimSpace(string(b))
		if v, err := strconv.ParseUint(limit, 10, 64); err != nil || v >= unlimitedMemory {
			continue
		}
		from := ""
		if dir == own {
			from = ", from linux.resources.memory.limit"
		}
		return fmt.Sprintf("the memory limit of cgroup %s (%s %s%s) is too low: the OOM killer killed %s", dir, file, limit, from, processes(killed))
	}
	return fmt.Sprintf("the OOM killer killed %s of cgroup %s", processes(killed), own)
}

func processes(n uint64) string {
	if n == 1 {
		return "1 process"
	}
	return strconv.FormatUint(n, 10) + " processes"
}

// forkRefused explains an EAGAIN from the fork of init: a limit on the
// caller's processes.
func forkRefused(cg *cgroups.Manager, err error) error {
	hint := pidsLimitHit(cg)
	if hint == "" {
		hint = "a limit on the caller's processes or threads (pids.max of its cgroup, RLIMIT_NPROC) is reached"
	}
	return fmt.Errorf("start container init: %w: %s", err, hint)
}

// pidsLimitHit names the limit that refused forks of the container's
// processes: pids.events of their cgroup counts the refusals (cgroup v1
// counts them there, v2 also where the limit is), and the limit is the
// nearest pids.max that is not "max", from there up.
func pidsLimitHit(cg *cgroups.Manager) string {
	if cg == nil {
		return ""
	}
	dir, ok := cg.Dir("pids")
	if !ok {
		return ""
	}
	refused := ""
	for ; strings.HasPrefix(dir, "/sys/fs/cgroup/"); dir = filepath.Dir(dir) {
		if refused == "" {
			b, _ := os.ReadFile(filepath.Join(dir, "pids.events"))
			for _, line := range strings.Split(string(b), "\n") {
				if n, ok := strings.CutPrefix(line, "max "); ok && n != "0" {
					refused = n
				}
			}
			if refused == "" {
				continue
			}
		}
		b, err := os.ReadFile(filepath.Join(dir, "pids.max"))
		if limit := strings.TrimSpace(string(b)); err == nil && limit != "max" {
			return fmt.Sprintf("the pids limit of cgroup %s (pids.max %s) refused %s forks", dir, limit, refused)
		}
	}
	if refused != "" {
		return fmt.Sprintf("a pids limit refused %s forks", refused)
	}
	return ""
}
