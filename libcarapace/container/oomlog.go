package container

import (
	"bytes"
	"strconv"

	"golang.org/x/sys/unix"
)

// oomLog reads the kernel's log from the moment it is opened, to learn
// whether the OOM killer killed a given process: the last evidence of an
// OOM kill of init once its cgroup, and the cgroup's kill counter with it,
// is gone (systemd removes an emptied scope within tens of milliseconds,
// which a loaded host may not give events to read the counter first). The
// kernel logs every OOM kill, with the victim's pid, as "Killed process
// PID (comm)".
type oomLog struct{ fd int }

// openOOMLog opens /dev/kmsg at its end; nil where it cannot be read.
func openOOMLog() *oomLog {
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	if _, err := unix.Seek(fd, 0, unix.SEEK_END); err != nil {
		unix.Close(fd)
		return nil
	}
	return &oomLog{fd: fd}
}

// killed reports whether a record logged since the log was opened (or
// last read) says the OOM killer killed pid.
func (l *oomLog) killed(pid int) bool {
	if l == nil {
		return false
	}
	want := []byte("Killed process " + strconv.Itoa(pid) + " (")
	found := false
	buf := make([]byte, 8192)
	for {
		n, err := unix.Read(l.fd, buf)
		if err == unix.EPIPE {
			continue // records were overwritten: go on with the next
		}
		if err != nil || n <= 0 {
			return found
		}
		// One record per read: "prio,seq,usec,flags;message\n".
		if _, msg, ok := bytes.Cut(buf[:n], []byte(";")); ok && bytes.Contains(msg, want) {
			found = true
		}
	}
}

func (l *oomLog) close() {
	if l != nil {
		unix.Close(l.fd)
	}
}
