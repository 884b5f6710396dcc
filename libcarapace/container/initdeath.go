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
// (its own words, if any, went to the container's stderr), and a pids
// limit that refused forks in its cgroup or above, the usual cause of an
// init that cannot even start its threads. err is what the socket said.
func initDied(pid int, cg *cgroups.Manager, err error) error {
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
	if hint := pidsLimitHit(cg); hint != "" {
		msg += ": " + hint
	}
	return errors.New(msg)
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
