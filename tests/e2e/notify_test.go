package e2e

import (
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sdnotifySource is a tiny static sd_notify client for the container:
// busybox has none.
const sdnotifySource = `package main

import (
	"net"
	"os"
)

func main() {
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: os.Getenv("NOTIFY_SOCKET"), Net: "unixgram"})
	if err != nil {
		println(err.Error())
		os.Exit(1)
	}
	c.Write([]byte(os.Args[1]))
}
`

var sdnotifyProgram = &staticProgram{name: "sdnotify", source: sdnotifySource}

// TestNotifySocket: under systemd (NOTIFY_SOCKET set), the container gets
// an sd_notify socket of its own; start returns once the container sent
// READY=1, which reaches the host's socket with the container's pid.
func TestNotifySocket(t *testing.T) {
	requireCarapace(t)
	c := newContainer(t)
	c.writeRootfsFile("bin/sdnotify", string(sdnotifyProgram.binary(t)), 0o755)
	c.Spec.Process.Args = []string{"sh", "-c", `echo "$NOTIFY_SOCKET" > /tmp/sock; sleep 0.3; sdnotify READY=1; sleep 30`}
	c.Spec.Root.Readonly = false
	hostSock := filepath.Join(t.TempDir(), "notify.sock")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: hostSock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	o := cmdOpts{env: []string{"NOTIFY_SOCKET=" + hostSock}}
	c.WriteSpec()
	if r := c.runtimeOpts(o, "create", "--bundle", c.Bundle, c.ID); !r.ok() {
		t.Fatalf("create: %s", r)
	}
	t0 := time.Now()
	if r := c.runtimeOpts(o, "start", c.ID); !r.ok() {
		t.Fatalf("start: %s", r)
	}
	if d := time.Since(t0); d < 250*time.Millisecond {
		t.Errorf("start returned after %v, before the container's READY=1 (sent after 300ms)", d)
	}
	l.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 512)
	n, _, err := l.ReadFromUnix(buf)
	if err != nil {
		t.Fatalf("no notification on the host socket: %v", err)
	}
	msg := string(buf[:n])
	st := c.mustState()
	if !strings.Contains(msg, "READY=1") || !strings.Contains(msg, "MAINPID="+strconv.Itoa(st.Pid)) {
		t.Errorf("host got %q, want READY=1 and MAINPID=%d", msg, st.Pid)
	}
	if got := strings.TrimSpace(readFileString(filepath.Join(c.Rootfs, "tmp/sock"))); got != "/run/notify/notify.sock" {
		t.Errorf("NOTIFY_SOCKET in the container = %q", got)
	}
}
