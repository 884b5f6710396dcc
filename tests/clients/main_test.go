// Package clients runs the runtime under the real programs that call it:
// containerd (ctr, through containerd-shim-runc-v2), podman (with conmon)
// and dockerd. Each suite starts its own private daemon with its own state
// directories and socket, imports a busybox image built offline, and checks
// what the client reports and what the container sees.
//
// CARAPACE_BINARY picks the runtime (default bin/carapace); pointing it at
// /usr/sbin/runc runs the same suites against runc, for comparison.
package clients

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carapace-oci/carapace/tests/internal/harness"
	"github.com/carapace-oci/carapace/tests/internal/subreaper"
	"github.com/carapace-oci/carapace/tests/internal/testenv"
)

var (
	runtimeBin string // absolute path of the runtime under test
	workDir    string // every suite's files live under here
	image      images // the busybox image, in the archive formats the clients load
	skipReason string
)

// imageRef is the name every client knows the test image by.
const imageRef = "docker.io/library/busybox:carapace"

type images struct {
	OCIArchive    string // oci-archive (ctr images import, podman load)
	DockerArchive string // docker-archive (docker load)
}

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	if os.Geteuid() != 0 {
		skipReason = "the client suites need root"
		return m.Run()
	}
	bin, skip, err := testenv.RuntimeBinary()
	if err != nil {
		fmt.Fprintf(os.Stderr, "clients: %v\n", err)
		return 1
	}
	runtimeBin, skipReason = bin, skip
	if skip != "" {
		return m.Run()
	}
	// containerd's shims and conmon daemonize: when their daemon is gone
	// they are re-parented to us, not to a PID 1 that does not reap.
	if err := subreaper.Become(); err != nil {
		fmt.Fprintf(os.Stderr, "clients: PR_SET_CHILD_SUBREAPER: %v\n", err)
		return 1
	}
	workDir, err = os.MkdirTemp("", "carapace-clients-")
	if err == nil {
		err = os.Chmod(workDir, 0o755)
	}
	if err == nil {
		image, err = buildImage(filepath.Join(workDir, "image"))
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "clients: %v\n", err)
		_ = os.RemoveAll(workDir)
		return 1
	}
	code := m.Run()
	if leaks := append(harness.LeaksUnder(workDir), harness.RuntimeLeaks(workDir)...); len(leaks) > 0 {
		fmt.Fprintf(os.Stderr, "clients: left behind after the suites:\n  %s\n", strings.Join(leaks, "\n  "))
		code = 1
	}
	if err := os.RemoveAll(workDir); err != nil {
		fmt.Fprintf(os.Stderr, "clients: removing %s: %v\n", workDir, err)
		code = 1
	}
	return code
}

// requireTools skips when not root or not built, and fails when a client
// program the suite needs is missing: scripts/install-deps.sh installs them,
// so a missing one in CI is a broken setup, not a reason to pass.
func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (scripts/install-deps.sh installs it): %v", tool, err)
		}
	}
}

// buildImage makes a busybox image without a registry: a rootfs from the
// host's busybox-static, made into an OCI image by umoci and converted to
// the archive formats by skopeo.
func buildImage(dir string) (images, error) {
	layout, bundle := filepath.Join(dir, "oci"), filepath.Join(dir, "bundle")
	img := layout + ":latest"
	steps := [][]string{
		{"umoci", "init", "--layout", layout},
		{"umoci", "new", "--image", img},
		{"umoci", "unpack", "--image", img, bundle},
	}
	for _, s := range steps {
		if r := harness.Run(nil, 2*time.Minute, s[0], s[1:]...); r.Code != 0 {
			return images{}, errors.New(r.String())
		}
	}
	if err := fillRootfs(filepath.Join(bundle, "rootfs")); err != nil {
		return images{}, err
	}
	im := images{
		OCIArchive:    filepath.Join(dir, "busybox-oci.tar"),
		DockerArchive: filepath.Join(dir, "busybox-docker.tar"),
	}
	steps = [][]string{
		{"umoci", "repack", "--image", img, bundle},
		{"umoci", "config", "--image", img, "--config.cmd", "sh",
			"--config.env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"--config.workingdir", "/"},
		{"skopeo", "copy", "oci:" + img, "oci-archive:" + im.OCIArchive + ":" + imageRef},
		{"skopeo", "copy", "oci:" + img, "docker-archive:" + im.DockerArchive + ":" + strings.TrimPrefix(imageRef, "docker.io/library/")},
	}
	for _, s := range steps {
		if r := harness.Run(nil, 2*time.Minute, s[0], s[1:]...); r.Code != 0 {
			return images{}, errors.New(r.String())
		}
	}
	return im, os.RemoveAll(bundle)
}

// fillRootfs installs busybox with its applet links, and the users and
// groups the suites run as.
func fillRootfs(root string) error {
	for _, d := range []string{"bin", "etc", "tmp", "root", "home/app", "proc", "sys", "dev", "data"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(root, "tmp"), 0o1777); err != nil {
		return err
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return fmt.Errorf("busybox-static is needed: %w", err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin", "busybox"), bb, 0o755); err != nil {
		return err
	}
	list := harness.Run(nil, time.Minute, "/bin/busybox", "--list")
	if list.Code != 0 {
		return errors.New(list.String())
	}
	for _, applet := range strings.Fields(list.Stdout) {
		if applet == "busybox" {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(root, "bin", applet)); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	files := map[string]string{
		"etc/passwd":   "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
		"etc/group":    "root:x:0:\napp:x:1000:\naudio:x:29:app\nnogroup:x:65534:\n",
		"etc/hostname": "busybox\n",
		"data/hello":   "hello from the image\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return os.Chown(filepath.Join(root, "home/app"), 1000, 1000)
}

// cgroupFile reads a cgroup file of a container by its cgroup directory
// name (the container id for docker, podman and ctr), under the v1
// controller or the v2 hierarchy.
func cgroupFile(t *testing.T, controller, id, file string) string {
	t.Helper()
	for _, pattern := range []string{
		"/sys/fs/cgroup/" + controller + "/*/" + id + "/" + file,
		"/sys/fs/cgroup/" + controller + "/*/*/" + id + "/" + file,
		"/sys/fs/cgroup/*/" + id + "/" + file,
		"/sys/fs/cgroup/*/*/" + id + "/" + file,
	} {
		if m, _ := filepath.Glob(pattern); len(m) > 0 {
			b, err := os.ReadFile(m[0])
			if err != nil {
				t.Fatalf("read %s: %v", m[0], err)
			}
			return strings.TrimSpace(string(b))
		}
	}
	t.Fatalf("no cgroup file %s for %s under /sys/fs/cgroup", file, id)
	return ""
}
