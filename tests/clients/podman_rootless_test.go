package clients

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/carapace-oci/carapace/tests/internal/harness"
)

// pmRootlessUser is the unprivileged user podman runs as here (the e2e
// suite's rootless user: made once, with subordinate ids, and kept).
const pmRootlessUser = "carapace-rl"

// TestPodmanRootless: podman run by an unprivileged user, with its own
// storage (vfs) under XDG_RUNTIME_DIR and HOME of its own, --network none
// and the runtime under test: run, exec, stop and rm a container.
//
// Rootless podman runs the runtime as root of a user namespace of its own
// (mapping the user and its subordinate ids): no mknod, no cgroup tree.
func TestPodmanRootless(t *testing.T) {
	requireTools(t, "podman", "conmon", "newuidmap", "setpriv")
	if _, err := user.Lookup(pmRootlessUser); err != nil {
		if out, err := exec.Command("useradd", "-M", "-d", "/nonexistent", "-s", "/usr/sbin/nologin", pmRootlessUser).CombinedOutput(); err != nil {
			t.Fatalf("useradd: %v: %s", err, out)
		}
	}
	pw, err := user.Lookup(pmRootlessUser)
	if err != nil {
		t.Fatal(err)
	}
	if !hasSubids(pmRootlessUser) {
		for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
			fh, err := os.OpenFile(f, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(fh, "%s:3000000:65536\n", pmRootlessUser)
			fh.Close()
		}
	}
	uid, _ := strconv.Atoi(pw.Uid)
	gid, _ := strconv.Atoi(pw.Gid)

	dir := filepath.Join(workDir, "pr")
	xdg := filepath.Join(dir, "xdg")
	for _, d := range []string{dir, xdg, filepath.Join(dir, "home"), filepath.Join(dir, "tmp")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	storage := filepath.Join(dir, "storage.conf")
	conf := filepath.Join(dir, "containers.conf")
	files := map[string]string{
		storage: fmt.Sprintf("[storage]\ndriver = \"vfs\"\ngraphroot = %q\nrunroot = %q\n", filepath.Join(dir, "graph"), filepath.Join(xdg, "run")),
		conf: fmt.Sprintf("[containers]\nnetns = \"none\"\ndefault_ulimits = [\"nofile=1024:1024\"]\n\n"+
			"[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\ntmp_dir = %q\n", filepath.Join(dir, "tmp")),
	}
	for name, content := range files {
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	archive := filepath.Join(dir, "image.tar")
	if data, err := os.ReadFile(image.OCIArchive); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(archive, data, 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + filepath.Join(dir, "home"), "USER=" + pmRootlessUser, "XDG_RUNTIME_DIR=" + xdg,
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "home"), "CONTAINERS_CONF=" + conf, "CONTAINERS_STORAGE_CONF=" + storage}
	podman := func(args ...string) harness.Result {
		argv := append([]string{"--reuid", pw.Uid, "--regid", pw.Gid, "--clear-groups", "podman", "--runtime", runtimeBin}, args...)
		return harness.Run(env, pmTimeout, "setpriv", argv...)
	}
	t.Cleanup(func() {
		podman("rm", "--all", "--force", "--time", "0")
		podman("rmi", "--all", "--force")
		// Rootless podman keeps a pause process holding its user
		// namespace: it goes with the test.
		if b, err := os.ReadFile(filepath.Join(xdg, "libpod", "tmp", "pause.pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		var left []string
		harness.Eventually(15*time.Second, func() bool {
			left = pmProcessesMentioning(dir)
			return len(left) == 0
		})
		if len(left) > 0 {
			t.Errorf("processes still use %s:\n  %s", dir, strings.Join(left, "\n  "))
		}
	})

	if r := podman("load", "-i", archive); r.Code != 0 {
		t.Fatalf("rootless podman load: %s", r)
	}
	r := podman("run", "--rm", "--network", "none", imageRef, "sh", "-c", "id -u; cat /proc/self/uid_map")
	if r.Code != 0 {
		t.Fatalf("rootless podman run: %s", r)
	}
	if f := strings.Fields(r.Stdout); len(f) < 4 || f[0] != "0" || f[2] != pw.Uid {
		t.Errorf("want root in the container, mapped to uid %s: %q", pw.Uid, r.Stdout)
	}
	if r := podman("run", "-d", "--name", "rl", "--network", "none", imageRef, "sleep", "300"); r.Code != 0 {
		t.Fatalf("rootless podman run -d: %s", r)
	}
	if r := podman("exec", "rl", "sh", "-c", "echo exec-ok"); r.Code != 0 || strings.TrimSpace(r.Stdout) != "exec-ok" {
		t.Fatalf("rootless podman exec: %s", r)
	}
	if r := podman("stop", "--time", "1", "rl"); r.Code != 0 {
		t.Fatalf("rootless podman stop: %s", r)
	}
	if r := podman("rm", "rl"); r.Code != 0 {
		t.Fatalf("rootless podman rm: %s", r)
	}
	if r := podman("ps", "-aq"); r.Code != 0 || strings.TrimSpace(r.Stdout) != "" {
		t.Errorf("containers left after rm: %s", r)
	}
}

func hasSubids(name string) bool {
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		b, _ := os.ReadFile(f)
		if !strings.Contains("\n"+string(b), "\n"+name+":") {
			return false
		}
	}
	return true
}
