package state

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// LockWait bounds a verb's wait for a container's lock. The holder is a
// runtime verb whose own waits are bounded, but one that was stopped
// (SIGSTOP) or hangs in something unbounded (a hook without a timeout)
// would otherwise make every later verb on the container wait for ever.
var LockWait = 10 * time.Second

// Holder is the process holding a container's lock, as /proc/locks names
// it.
type Holder struct {
	Pid int
	// What it is: "carapace create" (its program and verb), else its
	// command name.
	What string
	// Stopped: in job-control stop (SIGSTOP, SIGTSTP); it will not
	// release the lock until continued or killed.
	Stopped bool
}

func (h Holder) String() string {
	if h.Pid <= 0 {
		return "another process"
	}
	return fmt.Sprintf("%s (pid %d)", h.What, h.Pid)
}

// LockedError is a container's lock that its holder did not release
// within LockWait, or whose holder is stopped.
type LockedError struct {
	ID     string
	Holder Holder
	Waited time.Duration
}

func (e *LockedError) Error() string {
	if e.Holder.Stopped {
		return fmt.Sprintf("container %q is locked by %s, which is stopped: it holds the lock until continued (SIGCONT) or killed", e.ID, e.Holder)
	}
	return fmt.Sprintf("container %q is locked by %s, which has not finished in %s", e.ID, e.Holder, e.Waited.Round(time.Second))
}

// flockWait takes the flock how on fd, waiting at most LockWait for the
// holder to release it, and not at all once the holder is seen stopped.
func flockWait(id string, fd, how int) error {
	start := time.Now()
	pause := time.Millisecond
	for {
		err := unix.Flock(fd, how|unix.LOCK_NB)
		if err == nil {
			return nil
		}
		if err == unix.EINTR {
			continue
		}
		if err != unix.EWOULDBLOCK {
			return fmt.Errorf("lock container %q: %w", id, err)
		}
		waited := time.Since(start)
		// The holder is looked up only once the wait is no longer the
		// usual short one of two verbs crossing.
		if pause >= 64*time.Millisecond || waited >= LockWait {
			h := lockHolder(fd)
			if h.Stopped || waited >= LockWait {
				return &LockedError{ID: id, Holder: h, Waited: waited}
			}
		}
		time.Sleep(min(pause, LockWait-waited+time.Millisecond))
		pause = min(2*pause, 100*time.Millisecond)
	}
}

// lockHolder finds in /proc/locks the process holding a flock on fd's
// file (the first, for shared locks): "1: FLOCK ADVISORY WRITE 1234
// 00:1b:5678 0 EOF", the device in hex, waiters marked "->". A zero Pid
// when there is none or /proc/locks cannot tell.
func lockHolder(fd int) Holder {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return Holder{}
	}
	b, err := os.ReadFile("/proc/locks")
	if err != nil {
		return Holder{}
	}
	dev := fmt.Sprintf("%02x:%02x:%d", unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
	ino := ":" + strconv.FormatUint(st.Ino, 10)
	var inoOnly int
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || f[1] != "FLOCK" {
			continue // a waiter ("->"), or a POSIX or OFD lock
		}
		pid, err := strconv.Atoi(f[4])
		if err != nil || pid <= 0 {
			continue
		}
		if f[5] == dev {
			return describe(pid)
		}
		// A file system whose stat device is not its superblock's
		// (btrfs subvolumes): the inode alone, if nothing matches both.
		if inoOnly == 0 && strings.HasSuffix(f[5], ino) {
			inoOnly = pid
		}
	}
	if inoOnly > 0 {
		return describe(inoOnly)
	}
	return Holder{}
}

// verbs are the runtime's verbs that take a container's lock.
var verbs = map[string]bool{"create": true, "run": true, "start": true, "delete": true, "exec": true, "pause": true, "resume": true, "update": true}

// describe names process pid: its program and runtime verb when its
// command line has one, else its command name; and whether it is stopped.
func describe(pid int) Holder {
	h := Holder{Pid: pid, What: "process"}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// "pid (comm) S ...": comm may hold spaces and parentheses.
		if open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')'); open >= 0 && end > open && end+2 < len(b) {
			h.What = string(b[open+1 : end])
			h.Stopped = b[end+2] == 'T'
		}
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		for _, a := range args[1:] {
			if verbs[a] {
				h.What = filepath.Base(args[0]) + " " + a
				break
			}
		}
	}
	return h
}
