package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// startWithSlack starts cmd from a thread whose timer slack is ns, so
// that cmd is born with it, as from a caller that set its own.
func startWithSlack(t *testing.T, ns int, cmd *exec.Cmd) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	old, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(ns), 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	defer unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(old), 0, 0, 0)
	if err := startTracked(cmd); err != nil {
		t.Fatal(err)
	}
}

func slackOf(t *testing.T, pid int) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(readFileString("/proc/" + strconv.Itoa(pid) + "/timerslack_ns")))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTimerSlack: the runtime raises its own timer slack (Go's sysmon
// then wakes it far less often: fewer context switches per verb), and
// what it starts gets the caller's back: the container's process, an
// exec'd process, a hook (createRuntime, run by the CLI, and
// startContainer, run by init).
func TestTimerSlack(t *testing.T) {
	requireCarapace(t)
	t.Parallel()
	c := newContainer(t)
	const caller = 123457
	c.Spec.Process.Args = []string{"sh", "-c", "cat /proc/self/timerslack_ns; exec sleep 1000"}
	hookOut := filepath.Join(c.HostDir, "hook")
	c.Spec.Hooks = &specs.Hooks{
		CreateRuntime:  []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "cat /proc/self/timerslack_ns > " + hookOut}}},
		StartContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "cat /proc/self/timerslack_ns > /dev/shm/hook"}}},
	}
	c.WriteSpec()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, runtimeBin, runtimeArgs(c.Root, "run", "--bundle", c.Bundle, c.ID)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	startWithSlack(t, caller, cmd)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if st, r := c.State(); r.ok() && st.Status == "running" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the container is not running after 10s; run's stderr: %s", errb.String())
		}
	}
	if got := slackOf(t, cmd.Process.Pid); got <= caller {
		t.Errorf("run's own timer slack = %d ns, want it raised above the caller's %d", got, caller)
	}

	execCmd := exec.Command(runtimeBin, runtimeArgs(c.Root, "exec", c.ID, "cat", "/proc/self/timerslack_ns")...)
	var execOut bytes.Buffer
	execCmd.Stdout, execCmd.Stderr = &execOut, &execOut
	startWithSlack(t, caller+2, execCmd)
	if err := waitTracked(execCmd); err != nil {
		t.Fatalf("exec: %v: %s", err, execOut.String())
	}
	if got := strings.TrimSpace(execOut.String()); got != strconv.Itoa(caller+2) {
		t.Errorf("exec'd process's timer slack = %q, want the exec caller's %d", got, caller+2)
	}
	inHook := c.execIn(nil, "cat", "/dev/shm/hook")
	if got := strings.TrimSpace(inHook.Stdout); got != strconv.Itoa(caller) {
		t.Errorf("startContainer hook's timer slack = %q, want the caller's %d (%s)", got, caller, inHook)
	}

	if r := c.Kill("KILL"); !r.ok() {
		t.Fatalf("kill: %s", r)
	}
	waitTracked(cmd)
	if got := strings.TrimSpace(out.String()); got != strconv.Itoa(caller) {
		t.Errorf("container process's timer slack = %q, want the caller's %d (stderr: %s)", got, caller, errb.String())
	}
	if got, err := os.ReadFile(hookOut); err != nil || strings.TrimSpace(string(got)) != strconv.Itoa(caller) {
		t.Errorf("createRuntime hook's timer slack = %q (%v), want the caller's %d", got, err, caller)
	}
}
