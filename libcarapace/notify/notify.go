// Package notify proxies sd_notify for a container, as runc does when it
// runs under systemd with NOTIFY_SOCKET set: the container gets a socket of
// its own, and the runtime passes its READY=1 on to systemd's socket with
// the container's main pid.
package notify

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// InContainer is where the container finds its notify socket.
const InContainer = "/run/notify/notify.sock"

// Dir is the directory, in the container's state directory, that holds
// the socket and is bound at /run/notify in the container.
func Dir(stateDir string) string { return filepath.Join(stateDir, "notify") }

// Setup prepares the socket directory and adds to the spec the bind mount
// and the NOTIFY_SOCKET variable the container's process sees.
func Setup(spec *specs.Spec, stateDir string) error {
	dir := Dir(stateDir)
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("notify socket dir: %w", err)
	}
	spec.Mounts = append(spec.Mounts, specs.Mount{
		Destination: filepath.Dir(InContainer), Source: dir, Type: "bind",
		Options: []string{"bind", "nosuid", "noexec", "nodev", "ro"},
	})
	spec.Process.Env = append(spec.Process.Env, "NOTIFY_SOCKET="+InContainer)
	return nil
}

// Listener receives the container's notifications.
type Listener struct{ fd int }

// Listen binds the container's socket (writable by any user of the
// container: it is the container's to use).
func Listen(stateDir string) (*Listener, error) {
	p := filepath.Join(Dir(stateDir), filepath.Base(InContainer))
	os.Remove(p)
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: p}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind notify socket %s: %w", p, err)
	}
	if err := os.Chmod(p, 0o777); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &Listener{fd: fd}, nil
}

// Close releases the socket.
func (l *Listener) Close() { unix.Close(l.fd) }

// WaitReady waits for READY=1 from the container, or for the process
// behind pidfd to exit, and tells hostSocket "READY=1" and the main pid.
func (l *Listener) WaitReady(pidfd, mainPid int, hostSocket string) error {
	buf := make([]byte, 4096)
	fds := []unix.PollFd{{Fd: int32(l.fd), Events: unix.POLLIN}, {Fd: int32(pidfd), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(fds, -1); err != nil {
			if err == unix.EINTR {
				continue
			}
			return err
		}
		if fds[0].Revents&unix.POLLIN != 0 {
			n, _, err := unix.Recvfrom(l.fd, buf, 0)
			if err != nil {
				continue
			}
			for _, line := range bytes.Split(buf[:n], []byte("\n")) {
				if string(line) == "READY=1" {
					return send(hostSocket, "READY=1\nMAINPID="+strconv.Itoa(mainPid)+"\n")
				}
			}
			continue
		}
		if fds[1].Revents != 0 {
			return errors.New("the container exited before it notified READY=1")
		}
	}
}

func send(path, msg string) error {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	// A name starting with @ is an abstract socket, as systemd writes it.
	if err := unix.Sendto(fd, []byte(msg), 0, &unix.SockaddrUnix{Name: path}); err != nil {
		return fmt.Errorf("notify %s: %w", path, err)
	}
	return nil
}
