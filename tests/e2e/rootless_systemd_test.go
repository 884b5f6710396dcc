package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// systemdUser is a user without subordinate ids (its container maps only
// its own id, as `spec --rootless` writes) that has a systemd user
// instance running.
const systemdUser = "carapace-sdu"

// userInstance starts u's systemd user instance (user@UID.service, what
// `loginctl enable-linger` starts at boot) and returns its runtime dir,
// where its user bus is; the test skips on a host without one (not booted
// by systemd, or without dbus-user-session for the bus).
func userInstance(t *testing.T, u *unprivUser) string {
	t.Helper()
	if fi, err := os.Stat("/run/systemd/system"); err != nil || !fi.IsDir() {
		t.Skip("systemd is not this host's init (tests/vm/run-in-vm.sh --systemd runs this test)")
	}
	unit := fmt.Sprintf("user@%d.service", u.uid)
	if _, err := hostOutput("systemctl", "start", unit); err != nil {
		t.Skipf("cannot start %s: %v", unit, err)
	}
	t.Cleanup(func() { hostOutput("systemctl", "stop", unit) })
	dir := fmt.Sprintf("/run/user/%d", u.uid)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "bus")); err == nil {
			return dir
		}
		if time.Now().After(deadline) {
			t.Skipf("%s runs but has no user bus at %s/bus (dbus-user-session is not installed)", unit, dir)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRootlessSystemdUserScope: with --systemd-cgroup, a rootless
// container's cgroup is a scope of the user's own systemd instance (under
// user@UID.service, which systemd delegates to the user), as runc's
// rootless systemd driver makes it: the limits are applied there; exec
// joins it (through the instance: the runtime runs outside its subtree);
// pause and resume work on it; delete stops the scope.
func TestRootlessSystemdUserScope(t *testing.T) {
	u := needUser(t, systemdUser, false)
	run := userInstance(t, u)
	rc := newRootless(t, u)
	// The user bus is found at $XDG_RUNTIME_DIR/bus; the state goes
	// under it too.
	rc.xdg = run
	rc.Root = filepath.Join(run, "carapace")
	rc.Spec.Linux.Resources = &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr(int64(64 << 20))},
		Pids:   &specs.LinuxPids{Limit: ptr(int64(50))},
	}
	rc.Spec.Process.Args = []string{"sleep", "300"}
	rc.WriteSpec()
	r := rc.as(cmdOpts{}, "--systemd-cgroup", "run", "-d", "--bundle", rc.Bundle, rc.ID)
	if !r.ok() {
		t.Fatalf("rootless run -d --systemd-cgroup: %s", r)
	}
	t.Cleanup(func() { rc.as(cmdOpts{}, "--systemd-cgroup", "delete", "--force", rc.ID) })
	scope := fmt.Sprintf("/sys/fs/cgroup/user.slice/user-%d.slice/user@%d.service/user.slice/carapace-%s.scope", u.uid, u.uid, rc.ID)
	for f, want := range map[string]string{"memory.max": strconv.Itoa(64 << 20), "pids.max": "50"} {
		if got := strings.TrimSpace(readFileString(filepath.Join(scope, f))); got != want {
			t.Errorf("%s of the user scope %s = %q, want %s", f, scope, got, want)
		}
	}
	r = rc.as(cmdOpts{}, "state", rc.ID)
	var st State
	if !r.ok() || json.Unmarshal([]byte(r.Stdout), &st) != nil {
		t.Fatalf("state: %s", r)
	}
	wantCg := "0::" + strings.TrimPrefix(scope, "/sys/fs/cgroup")
	if got := strings.TrimSpace(readFileString(fmt.Sprintf("/proc/%d/cgroup", st.Pid))); got != wantCg {
		t.Errorf("init's cgroup is %q, want %q", got, wantCg)
	}
	r = rc.as(cmdOpts{}, "exec", rc.ID, "cat", "/proc/self/cgroup")
	if !r.ok() {
		t.Fatalf("rootless exec: %s", r)
	}
	// In the container's cgroup namespace (`spec --rootless` has one) its
	// cgroup is the root; anywhere else would read "/../..".
	wantExec := wantCg
	if rc.nsIndex(specs.CgroupNamespace) >= 0 {
		wantExec = "0::/"
	}
	if got := strings.TrimSpace(r.Stdout); got != wantExec {
		t.Errorf("exec'd process's cgroup is %q, want the container's %q (%s)", got, wantExec, wantCg)
	}
	if r := rc.as(cmdOpts{}, "pause", rc.ID); !r.ok() {
		t.Fatalf("rootless pause: %s", r)
	}
	if got := strings.TrimSpace(readFileString(filepath.Join(scope, "cgroup.freeze"))); got != "1" {
		t.Errorf("cgroup.freeze after pause = %q, want 1", got)
	}
	if r := rc.as(cmdOpts{}, "resume", rc.ID); !r.ok() {
		t.Fatalf("rootless resume: %s", r)
	}
	if r := rc.as(cmdOpts{}, "kill", rc.ID, "KILL"); !r.ok() {
		t.Fatalf("rootless kill: %s", r)
	}
	waitFor(t, 10*time.Second, "the container to stop", func() bool {
		r := rc.as(cmdOpts{}, "state", rc.ID)
		return r.ok() && strings.Contains(r.Stdout, `"stopped"`)
	})
	if r := rc.as(cmdOpts{}, "delete", rc.ID); !r.ok() {
		t.Fatalf("rootless delete: %s", r)
	}
	if _, err := os.Stat(scope); !os.IsNotExist(err) {
		t.Errorf("the user scope %s is still there after delete: %v", scope, err)
	}
	rc.checkNoLeftovers("after rootless delete")
}
