package ipc

import (
	"encoding/binary"
	"encoding/json"
	"io"
	"testing"

	"golang.org/x/sys/unix"
)

// frame is one message as Send puts it on the wire.
func frame(body string) []byte {
	b := make([]byte, 4, 4+len(body))
	binary.BigEndian.PutUint32(b, uint32(len(body)))
	return append(b, body...)
}

// FuzzIPCDecode: whatever the peer writes, Recv returns messages, then an
// error (io.EOF when the stream ends between messages); never a panic, and
// never a message the sender could not have sent (Send's JSON).
func FuzzIPCDecode(f *testing.F) {
	boot, _ := json.Marshal(Message{Kind: Bootstrap, Payload: json.RawMessage(`{"spec":{"ociVersion":"1.3.0"},"id":"c1"}`)})
	for _, s := range [][]byte{
		frame(string(boot)),
		append(frame(`{"kind":"pid","pid":4242}`), frame(`{"kind":"ready"}`)...),
		frame(`{"kind":"error","error":"mount proc: permission denied"}`),
		frame(`{"kind":"run-hooks"}`)[:6],
		{0xff, 0xff, 0xff, 0xff},
		{0, 0, 0, 2, '[', ']'},
		{0, 0},
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, b, err := Pair()
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		go func() {
			a.File().Write(data)
			a.Close()
		}()
		for n := 0; ; n++ {
			m, fds, err := b.Recv()
			if err != nil {
				if err != io.EOF && len(data) == 0 {
					t.Fatalf("an empty stream: %v, want io.EOF", err)
				}
				return
			}
			if len(fds) != 0 {
				t.Fatalf("descriptors from a plain write: %v", fds)
			}
			if _, err := json.Marshal(m); err != nil {
				t.Fatalf("message %d does not encode again: %v", n, err)
			}
			if n > len(data)/4 {
				t.Fatalf("%d messages out of %d bytes", n+1, len(data))
			}
		}
	})
}

// FuzzParseRights: the control messages a recvmsg returns, whatever they
// hold, give descriptors or an error.
func FuzzParseRights(f *testing.F) {
	f.Add(unix.UnixRights(0))
	f.Add(unix.UnixRights(0, 1, 2))
	f.Add([]byte{})
	f.Add(make([]byte, unix.CmsgSpace(4)))
	f.Fuzz(func(t *testing.T, oob []byte) {
		fds, err := parseRights(oob)
		if err == nil && len(fds)*4 > len(oob) {
			t.Fatalf("%d descriptors from %d bytes", len(fds), len(oob))
		}
	})
}
