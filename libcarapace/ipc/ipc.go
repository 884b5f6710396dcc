// Package ipc is the typed message channel between the runtime and a
// container's init: length-prefixed JSON messages over a unix socketpair,
// with file descriptors passed alongside when a message carries them, and
// binary data after the JSON when it carries that (Message.Flat).
package ipc

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/internal/jsonfast"
)

// Kind says what a message is.
type Kind string

// The protocol, in the order it runs for create (see docs/architecture.md).
const (
	Bootstrap Kind = "bootstrap"  // runtime → init: what to set up (payload: InitConfig)
	RunHooks  Kind = "run-hooks"  // init → runtime: run prestart and createRuntime hooks now
	HooksDone Kind = "hooks-done" // runtime → init: they ran (or Error says why not)
	Console   Kind = "console"    // init → runtime: the pty master, as an fd
	Ready     Kind = "ready"      // init → runtime: set up, now waiting for start
	Error     Kind = "error"      // either way: what failed; the sender gives up
	Proceed   Kind = "proceed"    // runtime → exec helper: it is in its cgroup, exec now
	// Pid comes first from nsenter when it forked to enter a new pid
	// namespace: the pid of the real init (see libcarapace/nsenter).
	Pid Kind = "pid"
)

// Message is one unit on the channel.
type Message struct {
	Kind    Kind            `json:"kind"`
	Error   string          `json:"error,omitempty"`
	Pid     int             `json:"pid,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
	// Flat is binary data that follows the JSON in the frame, after a NUL
	// byte (which JSON text never holds): the bootstrap configurations,
	// in the flat encoding, which init decodes far faster than JSON.
	Flat []byte `json:"-"`
}

//go:generate go run -tags jsonfast_gen ../internal/jsonfast/gen/cmd -config ipc

// maxMessage bounds a frame; config.json files are far smaller.
const maxMessage = 64 << 20

// Conn is one end of the channel.
type Conn struct {
	f *os.File
	// Watch, when set, bounds every wait of Send and Recv for the peer:
	// it is called each WatchInterval the peer has not answered, and its
	// error ends the wait. A peer that dies ends it anyway (EOF, EPIPE);
	// Watch is for one that lives but cannot go on, such as a process
	// in a frozen cgroup, which would hold the runtime for ever.
	Watch func() error
}

// WatchInterval is how often Watch is asked while the peer is silent.
const WatchInterval = 500 * time.Millisecond

// wait returns once fd is ready for events, or with Watch's error.
func (c *Conn) wait(fd int, events int16) error {
	if c.Watch == nil {
		return nil
	}
	fds := []unix.PollFd{{Fd: int32(fd), Events: events}}
	for {
		n, err := unix.Poll(fds, int(WatchInterval.Milliseconds()))
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return fmt.Errorf("poll: %w", err)
		case n > 0:
			return nil
		}
		if err := c.Watch(); err != nil {
			return err
		}
	}
}

// NewConn wraps a connected unix stream socket.
func NewConn(f *os.File) *Conn { return &Conn{f: f} }

// Pair returns two connected ends, both close-on-exec.
func Pair() (*Conn, *Conn, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return &Conn{f: os.NewFile(uintptr(fds[0]), "ipc-parent")}, &Conn{f: os.NewFile(uintptr(fds[1]), "ipc-child")}, nil
}

// File returns the underlying socket.
func (c *Conn) File() *os.File { return c.f }

// Close closes the socket.
func (c *Conn) Close() error { return c.f.Close() }

// Send writes a message, passing fds with it.
func (c *Conn) Send(m Message, fds ...int) error {
	// The generated encoder (ipc_gen.go) writes what json.Marshal writes,
	// without encoding/json's tables, cold in both the runtime and init.
	body, err := jsonfast.Marshal(&m, appendMessage)
	if err != nil {
		return err
	}
	if m.Flat != nil {
		body = append(append(body, 0), m.Flat...)
	}
	if len(body) > maxMessage {
		return fmt.Errorf("send %s: message of %d bytes is too large", m.Kind, len(body))
	}
	frame := make([]byte, 4+len(body))
	binary.BigEndian.PutUint32(frame, uint32(len(body)))
	copy(frame[4:], body)
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	fd := int(c.f.Fd())
	for len(frame) > 0 {
		if err := c.wait(fd, unix.POLLOUT); err != nil {
			return fmt.Errorf("send %s: %w", m.Kind, err)
		}
		flags := unix.MSG_NOSIGNAL
		if c.Watch != nil {
			// Only what fits now: the rest waits under Watch.
			flags |= unix.MSG_DONTWAIT
		}
		n, err := unix.SendmsgN(fd, frame, oob, nil, flags)
		if err != nil {
			if err == unix.EINTR || err == unix.EAGAIN {
				continue
			}
			return fmt.Errorf("send %s: %w", m.Kind, err)
		}
		frame, oob = frame[n:], nil
	}
	return nil
}

// SendPayload marshals v as the payload of a message of kind k.
func (c *Conn) SendPayload(k Kind, v any) error {
	p, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.Send(Message{Kind: k, Payload: p})
}

// SendError reports a failure to the peer.
func (c *Conn) SendError(err error) error {
	return c.Send(Message{Kind: Error, Error: err.Error()})
}

// Recv reads one message and any fds that came with it (close-on-exec).
// io.EOF means the peer closed the channel, usually because it died.
func (c *Conn) Recv() (Message, []int, error) {
	var m Message
	fd := int(c.f.Fd())
	hdr := make([]byte, 4)
	oob := make([]byte, unix.CmsgSpace(16*4))
	var fds []int
	got := 0
	for got < 4 {
		if err := c.wait(fd, unix.POLLIN); err != nil {
			return m, nil, err
		}
		n, oobn, _, _, err := unix.Recvmsg(fd, hdr[got:], oob, unix.MSG_CMSG_CLOEXEC)
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			return m, nil, err
		}
		if n == 0 {
			return m, nil, io.EOF
		}
		if oobn > 0 {
			more, err := parseRights(oob[:oobn])
			if err != nil {
				return m, nil, err
			}
			fds = append(fds, more...)
		}
		got += n
	}
	size := binary.BigEndian.Uint32(hdr)
	if size > maxMessage {
		return m, nil, fmt.Errorf("message of %d bytes is too large", size)
	}
	body := make([]byte, size)
	for got = 0; got < len(body); {
		if err := c.wait(fd, unix.POLLIN); err != nil {
			return m, nil, err
		}
		n, err := unix.Read(fd, body[got:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return m, nil, err
		}
		if n == 0 {
			return m, nil, io.EOF
		}
		got += n
	}
	var flat []byte
	if i := bytes.IndexByte(body, 0); i >= 0 {
		body, flat = body[:i], body[i+1:]
	}
	// The generated decoder first (see Send), encoding/json for the rest.
	err := jsonfast.Unmarshal(body, &m, takeMessage, json.Unmarshal)
	m.Flat = flat
	if err != nil {
		return m, nil, fmt.Errorf("decode message: %w", err)
	}
	return m, fds, nil
}

func takeMessage(b []byte, m *Message) bool { return jsonfast.Take(b, m, decodeMessage) }

// Expect receives a message and checks its kind; a peer's Error message
// becomes an error.
func (c *Conn) Expect(k Kind) (Message, []int, error) {
	m, fds, err := c.Recv()
	if err != nil {
		return m, nil, err
	}
	if m.Kind == Error {
		return m, fds, errors.New(m.Error)
	}
	if m.Kind != k {
		return m, fds, fmt.Errorf("protocol: got %q, want %q", m.Kind, k)
	}
	return m, fds, nil
}

func parseRights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var fds []int
	for _, cm := range msgs {
		if cm.Header.Level == unix.SOL_SOCKET && cm.Header.Type == unix.SCM_RIGHTS && len(cm.Data)%4 != 0 {
			// x/sys's ParseUnixRights reads past the data of such a
			// message (and panics): descriptors are 4 bytes each.
			return nil, fmt.Errorf("SCM_RIGHTS message of %d bytes: not whole descriptors", len(cm.Data))
		}
		r, err := unix.ParseUnixRights(&cm)
		if err == nil {
			fds = append(fds, r...)
		}
	}
	return fds, nil
}
