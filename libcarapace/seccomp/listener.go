package seccomp

import (
	"encoding/json"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// SendListener hands a filter's listener descriptor to the seccomp agent
// at linux.seccomp.listenerPath, as the runtime-spec asks: one
// connection (AF_UNIX, SOCK_STREAM) per process, one container process
// state on it, with the descriptor in SCM_RIGHTS named "seccompFd", then
// the connection is closed. pid is the process's pid as the runtime sees
// it.
func SendListener(sc *specs.LinuxSeccomp, pid int, st specs.State, listener int) error {
	msg, err := json.Marshal(specs.ContainerProcessState{
		Version:  specs.Version,
		Fds:      []string{"seccompFd"},
		Pid:      pid,
		Metadata: sc.ListenerMetadata,
		State:    st,
	})
	if err != nil {
		return err
	}
	fail := func(err error) error {
		return fmt.Errorf("linux.seccomp.listenerPath %q: %w", sc.ListenerPath, err)
	}
	s, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fail(err)
	}
	defer unix.Close(s)
	if err := unix.Connect(s, &unix.SockaddrUnix{Name: sc.ListenerPath}); err != nil {
		return fail(err)
	}
	oob := unix.UnixRights(listener)
	for len(msg) > 0 {
		n, err := unix.SendmsgN(s, msg, oob, nil, unix.MSG_NOSIGNAL)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fail(err)
		}
		msg, oob = msg[n:], nil
	}
	return nil
}
