// Package subreaper makes a test binary the reaper of the container
// processes it causes: this project's machines have a PID 1 that does not
// reap, and a runtime's detached processes are re-parented to the nearest
// subreaper. Processes the tests start themselves go through Start and
// Wait, so that the reaper leaves their exit status to exec.Cmd.
package subreaper

import (
	"os/exec"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

var (
	mu      sync.Mutex
	tracked = map[int]bool{}
)

// Become makes the calling process a child subreaper and starts reaping
// the children that no exec.Cmd waits for.
func Become() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return err
	}
	go reap()
	return nil
}

// Start starts cmd so that the reaper leaves it to cmd.Wait.
func Start(cmd *exec.Cmd) error {
	mu.Lock()
	defer mu.Unlock()
	if err := cmd.Start(); err != nil {
		return err
	}
	tracked[cmd.Process.Pid] = true
	return nil
}

// Wait waits for a command started with Start.
func Wait(cmd *exec.Cmd) error {
	err := cmd.Wait()
	mu.Lock()
	delete(tracked, cmd.Process.Pid)
	mu.Unlock()
	return err
}

// InFlight is how many started commands have not been waited for yet.
func InFlight() int {
	mu.Lock()
	defer mu.Unlock()
	return len(tracked)
}

// siginfoChld is siginfo_t as waitid fills it for a child.
type siginfoChld struct {
	Signo  int32
	Errno  int32
	Code   int32
	_      int32
	Pid    int32
	UID    uint32
	Status int32
	_      [100]byte
}

// reap peeks at exited children (WNOWAIT) and reaps those that no
// exec.Cmd waits for.
func reap() {
	for {
		var si siginfoChld
		_, _, errno := unix.Syscall6(unix.SYS_WAITID, unix.P_ALL, 0,
			uintptr(unsafe.Pointer(&si)), unix.WEXITED|unix.WNOWAIT, 0, 0)
		switch {
		case errno == unix.EINTR:
			continue
		case errno != 0: // ECHILD: nothing to wait for yet
			time.Sleep(50 * time.Millisecond)
			continue
		case si.Pid == 0:
			continue
		}
		pid := int(si.Pid)
		mu.Lock()
		mine := tracked[pid]
		if !mine {
			var ws unix.WaitStatus
			_, _ = unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		}
		mu.Unlock()
		if mine {
			// Its exec.Cmd reaps it very soon.
			time.Sleep(5 * time.Millisecond)
		}
	}
}
