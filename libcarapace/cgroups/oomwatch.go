package cgroups

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// OOMWatch wakes whoever waits on it when the kernel reports a memory event
// of the container's cgroup, so that the OOM kill counter is read at once,
// while the cgroup still exists. Read every 100 ms instead, an OOM kill of
// the container's last process is lost whenever the cgroup goes first:
// systemd removes a scope's cgroup tens of milliseconds after it empties,
// and an engine deletes a container as soon as its init has exited.
//
// On cgroup v2 it is an inotify watch of memory.events (the kernel
// notifies a change of its counters: max, oom, oom_kill); on v1 an eventfd
// registered with cgroup.event_control for memory.oom_control, signalled
// at every OOM of the cgroup (and once more when the cgroup is removed).
type OOMWatch struct {
	fd  int
	v1  bool
	dir string // v1: the memory cgroup, to tell its removal from an OOM
	ctl int    // v1: memory.oom_control, open while registered
}

// WatchOOM starts watching the container's memory events.
func (m *Manager) WatchOOM() (*OOMWatch, error) {
	if m.Mode == ModeV2 {
		fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
		if err != nil {
			return nil, fmt.Errorf("watch memory events: %w", err)
		}
		p := filepath.Join(m.V2Dir(), "memory.events")
		if _, err := unix.InotifyAddWatch(fd, p, unix.IN_MODIFY); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("watch %s: %w", p, err)
		}
		return &OOMWatch{fd: fd, ctl: -1}, nil
	}
	d, ok := m.Dir("memory")
	if !ok {
		return nil, errors.New("watch memory events: no memory cgroup")
	}
	ctl, err := unix.Open(filepath.Join(d, "memory.oom_control"), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("watch memory events: %w", err)
	}
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(ctl)
		return nil, fmt.Errorf("watch memory events: eventfd: %w", err)
	}
	reg := strconv.Itoa(fd) + " " + strconv.Itoa(ctl)
	if err := os.WriteFile(filepath.Join(d, "cgroup.event_control"), []byte(reg), 0); err != nil {
		unix.Close(fd)
		unix.Close(ctl)
		return nil, fmt.Errorf("watch memory events: %w", err)
	}
	return &OOMWatch{fd: fd, v1: true, dir: d, ctl: ctl}, nil
}

// Wait returns when a memory event came, when also (a pidfd of the
// container's init, or -1) is readable, or after timeout, whichever is
// first. The kernel's notice of a memory event goes through a timer and a
// workqueue; init's exit wakes the waiter at once, and its OOM kill has
// been counted by then: either way the counter is read next, before
// anyone who saw init exit could have removed the cgroup. On v1 it also
// returns how many OOMs the kernel notified since the last call: the
// cgroup may be gone, with its kill counter, by the time it is read.
func (w *OOMWatch) Wait(timeout time.Duration, also int) (ooms uint64, err error) {
	fds := []unix.PollFd{{Fd: int32(w.fd), Events: unix.POLLIN}, {Fd: int32(also), Events: unix.POLLIN}}
	if _, err := unix.Poll(fds, int(timeout.Milliseconds())); err != nil && err != unix.EINTR {
		return 0, fmt.Errorf("wait for memory events: %w", err)
	}
	if fds[0].Revents&unix.POLLIN == 0 {
		return 0, nil
	}
	if !w.v1 {
		// Only the wake-up matters: the counters are read next.
		var buf [4096]byte
		for {
			if _, err := unix.Read(w.fd, buf[:]); err != nil {
				return 0, nil
			}
		}
	}
	var buf [8]byte
	if _, err := unix.Read(w.fd, buf[:]); err != nil {
		return 0, nil
	}
	n := binary.NativeEndian.Uint64(buf[:])
	if _, err := os.Stat(filepath.Join(w.dir, "cgroup.event_control")); err != nil && n > 0 {
		n-- // the signal of the cgroup's removal
	}
	return n, nil
}

// Close stops watching.
func (w *OOMWatch) Close() {
	unix.Close(w.fd)
	if w.ctl >= 0 {
		unix.Close(w.ctl)
	}
}
