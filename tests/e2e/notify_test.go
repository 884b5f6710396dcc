package e2e

import (
	"net"
	"os"
	"os/exec"
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

func buildSdnotify(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{"main.go": sdnotifySource, "go.mod": "module sdnotify\ngo 1.21\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "build", "-o", "sdnotify", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	err := startTracked(cmd)
	if err == nil {
		err = waitTracked(cmd)
	}
	if err != nil {
		t.Skipf("cannot build the sd_notify client: %v\n%s", err, out.String())
	}
	return filepath.Join(dir, "sdnotify")
}

// TestNotifySocket: under systemd (NOTIFY_SOCKET set), the container gets
// an sd_notify socket of its own; start returns once the container sent
// READY=1, which reaches the host's socket with the container's pid.
func TestNotifySocket(t *testing.T) {
	requireCarapace(t)
	client := buildSdnotify(t)
	c := newContainer(t)
	data, err := os.ReadFile(client)
	if err != nil {
		t.Fatal(err)
	}
	c.writeRootfsFile("bin/sdnotify", string(data), 0o755)
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
