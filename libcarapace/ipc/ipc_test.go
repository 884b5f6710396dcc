package ipc

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func pair(t *testing.T) (*Conn, *Conn) {
	t.Helper()
	a, b, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestPairCloexec(t *testing.T) {
	a, b := pair(t)
	for _, c := range []*Conn{a, b} {
		fl, err := unix.FcntlInt(c.File().Fd(), unix.F_GETFD, 0)
		if err != nil {
			t.Fatal(err)
		}
		if fl&unix.FD_CLOEXEC == 0 {
			t.Errorf("%s is not close-on-exec", c.File().Name())
		}
		typ, err := unix.GetsockoptInt(int(c.File().Fd()), unix.SOL_SOCKET, unix.SO_TYPE)
		if err != nil || typ != unix.SOCK_STREAM {
			t.Errorf("socket type %d, %v", typ, err)
		}
	}
}

func TestSendRecv(t *testing.T) {
	big := strings.Repeat("x", 3<<20) // 3 MiB: more than a socket buffer
	type payload struct {
		Args []string
		N    int
	}
	tests := []struct {
		name string
		m    Message
	}{
		{"kind only", Message{Kind: Ready}},
		{"error", Message{Kind: Error, Error: "boom: \"quoted\"\n"}},
		{"payload", Message{Kind: Bootstrap, Payload: json.RawMessage(`{"Args":["sh","-c","echo hi"],"N":3}`)}},
		{"large payload", Message{Kind: Bootstrap, Payload: json.RawMessage(`"` + big + `"`)}},
		{"large error", Message{Kind: Error, Error: big}},
		// Binary after the JSON, NUL bytes and all; an empty one is still
		// there, and a message without one has none.
		{"flat", Message{Kind: Bootstrap, Flat: []byte{0, 1, 0, '{', 0xff}}},
		{"flat and JSON", Message{Kind: Bootstrap, Pid: 3, Error: "e", Payload: json.RawMessage(`[1]`), Flat: []byte("\x00x")}},
		{"empty flat", Message{Kind: Bootstrap, Flat: []byte{}}},
		{"large flat", Message{Kind: Bootstrap, Flat: []byte(big + "\x00")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := pair(t)
			errc := make(chan error, 1)
			go func() { errc <- a.Send(tc.m) }() // large frames need the reader running
			got, fds, err := b.Recv()
			if err != nil {
				t.Fatal(err)
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			if len(fds) != 0 {
				t.Errorf("got fds %v", fds)
			}
			if got.Kind != tc.m.Kind || got.Error != tc.m.Error || got.Pid != tc.m.Pid || !bytes.Equal(got.Payload, tc.m.Payload) ||
				!bytes.Equal(got.Flat, tc.m.Flat) || (got.Flat == nil) != (tc.m.Flat == nil) {
				t.Errorf("Recv = %.200v, want %.200v", got, tc.m)
			}
		})
	}

	// Several messages in a row keep their boundaries; SendPayload and
	// SendError build the expected messages; both directions work.
	a, b := pair(t)
	if err := a.SendPayload(Bootstrap, payload{Args: []string{"sh"}, N: 7}); err != nil {
		t.Fatal(err)
	}
	if err := a.Send(Message{Kind: RunHooks}); err != nil {
		t.Fatal(err)
	}
	if err := a.SendError(errors.New("it failed")); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(Message{Kind: HooksDone}); err != nil {
		t.Fatal(err)
	}
	m, _, err := b.Expect(Bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	var p payload
	if err := json.Unmarshal(m.Payload, &p); err != nil || !reflect.DeepEqual(p, payload{Args: []string{"sh"}, N: 7}) {
		t.Fatalf("payload %s: %+v, %v", m.Payload, p, err)
	}
	if _, _, err := b.Expect(RunHooks); err != nil {
		t.Fatal(err)
	}
	if m, _, err := b.Recv(); err != nil || m.Kind != Error || m.Error != "it failed" {
		t.Fatalf("Recv = %+v, %v", m, err)
	}
	if _, _, err := a.Expect(HooksDone); err != nil {
		t.Fatal(err)
	}
}

func TestFdPassing(t *testing.T) {
	a, b := pair(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r2, w2, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()

	if err := a.Send(Message{Kind: Console}, int(w.Fd()), int(w2.Fd())); err != nil {
		t.Fatal(err)
	}
	w.Close() // only the received copies remain
	w2.Close()
	m, fds, err := b.Expect(Console)
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != Console || len(fds) != 2 {
		t.Fatalf("Expect = %+v, fds %v", m, fds)
	}
	for i, fd := range fds {
		fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil || fl&unix.FD_CLOEXEC == 0 {
			t.Errorf("received fd %d: flags %#x, %v; want close-on-exec", fd, fl, err)
		}
		f := os.NewFile(uintptr(fd), "received")
		if _, err := f.WriteString("hello " + string(rune('0'+i))); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	for i, rr := range []*os.File{r, r2} {
		got, err := io.ReadAll(rr)
		if err != nil {
			t.Fatal(err)
		}
		if want := "hello " + string(rune('0'+i)); string(got) != want {
			t.Errorf("pipe %d read %q, want %q", i, got, want)
		}
	}

	// Fds come with the message they were sent with, not the next one.
	if err := a.Send(Message{Kind: Ready}); err != nil {
		t.Fatal(err)
	}
	if _, fds, err := b.Recv(); err != nil || len(fds) != 0 {
		t.Fatalf("Recv = fds %v, %v", fds, err)
	}
}

func TestExpect(t *testing.T) {
	tests := []struct {
		name    string
		send    Message
		want    Kind
		wantErr string
	}{
		{"match", Message{Kind: Ready}, Ready, ""},
		{"peer error", Message{Kind: Error, Error: "mount /proc: permission denied"}, Ready, "mount /proc: permission denied"},
		{"peer error when expecting error", Message{Kind: Error, Error: "x"}, Error, "x"},
		{"wrong kind", Message{Kind: RunHooks}, Ready, `protocol: got "run-hooks", want "ready"`},
		{"unknown kind", Message{Kind: "bogus"}, HooksDone, `protocol: got "bogus", want "hooks-done"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := pair(t)
			if err := a.Send(tc.send); err != nil {
				t.Fatal(err)
			}
			m, _, err := b.Expect(tc.want)
			if tc.wantErr == "" {
				if err != nil || m.Kind != tc.want {
					t.Fatalf("Expect = %+v, %v", m, err)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr && !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Expect = %v, want error %q", err, tc.wantErr)
			}
			if m.Kind != tc.send.Kind {
				t.Errorf("Expect returned message %+v, want the received one", m)
			}
		})
	}
}

func TestEOF(t *testing.T) {
	t.Run("peer closed", func(t *testing.T) {
		a, b := pair(t)
		a.Close()
		if _, _, err := b.Recv(); err != io.EOF {
			t.Fatalf("Recv = %v, want io.EOF", err)
		}
		if _, _, err := b.Expect(Ready); err != io.EOF {
			t.Fatalf("Expect = %v, want io.EOF", err)
		}
	})
	t.Run("after messages", func(t *testing.T) {
		a, b := pair(t)
		if err := a.Send(Message{Kind: Ready}); err != nil {
			t.Fatal(err)
		}
		a.Close()
		if _, _, err := b.Expect(Ready); err != nil {
			t.Fatal(err)
		}
		if _, _, err := b.Recv(); err != io.EOF {
			t.Fatalf("Recv = %v, want io.EOF", err)
		}
	})
	t.Run("truncated body", func(t *testing.T) {
		a, b := pair(t)
		hdr := make([]byte, 4)
		binary.BigEndian.PutUint32(hdr, 100)
		if _, err := a.File().Write(append(hdr, `{"kind":`...)); err != nil {
			t.Fatal(err)
		}
		a.Close()
		if _, _, err := b.Recv(); err != io.EOF {
			t.Fatalf("Recv = %v, want io.EOF", err)
		}
	})
	t.Run("truncated header", func(t *testing.T) {
		a, b := pair(t)
		if _, err := a.File().Write([]byte{0, 0}); err != nil {
			t.Fatal(err)
		}
		a.Close()
		if _, _, err := b.Recv(); err != io.EOF {
			t.Fatalf("Recv = %v, want io.EOF", err)
		}
	})
	t.Run("send to closed peer", func(t *testing.T) {
		a, b := pair(t)
		b.Close()
		// MSG_NOSIGNAL: an error, not SIGPIPE.
		if err := a.Send(Message{Kind: Ready}); !errors.Is(err, unix.EPIPE) {
			t.Fatalf("Send = %v, want EPIPE", err)
		}
	})
}

func TestBadFrames(t *testing.T) {
	tests := []struct {
		name    string
		frame   []byte
		wantErr string
	}{
		{"too large", []byte{0xff, 0xff, 0xff, 0xff}, "too large"},
		{"just above limit", func() []byte {
			h := make([]byte, 4)
			binary.BigEndian.PutUint32(h, maxMessage+1)
			return h
		}(), "too large"},
		{"not json", append([]byte{0, 0, 0, 3}, "abc"...), "decode message"},
		{"wrong json type", append([]byte{0, 0, 0, 2}, "[]"...), "decode message"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := pair(t)
			if _, err := a.File().Write(tc.frame); err != nil {
				t.Fatal(err)
			}
			if _, _, err := b.Recv(); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Recv = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// TestWatch: a peer that lives but never answers ends Recv, and a Send
// into a full socket, with Watch's error instead of holding the caller for
// ever; a peer that answers is read whole, Watch or not.
func TestWatch(t *testing.T) {
	a, b, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	stuck := errors.New("the peer is frozen")
	calls := 0
	a.Watch = func() error {
		calls++
		if calls == 2 {
			return stuck
		}
		return nil
	}
	if _, _, err := a.Recv(); !errors.Is(err, stuck) || calls != 2 {
		t.Fatalf("Recv from a silent peer = %v after %d calls, want Watch's error after 2", err, calls)
	}
	// Fill the socket: a Send that cannot go on returns too.
	big := Message{Kind: Bootstrap, Payload: []byte(`"` + strings.Repeat("x", 8<<20) + `"`)}
	calls = 0
	if err := a.Send(big); !errors.Is(err, stuck) {
		t.Fatalf("Send into a full socket = %v, want Watch's error", err)
	}
	// A peer that answers: the message arrives whole.
	c, d, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	defer d.Close()
	c.Watch = func() error { return nil }
	go d.Send(big)
	if m, _, err := c.Recv(); err != nil || len(m.Payload) != len(big.Payload) {
		t.Fatalf("Recv with Watch of a large message: %d bytes, %v", len(m.Payload), err)
	}
}
