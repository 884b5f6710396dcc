package cri

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/carapace-oci/carapace/tests/internal/harness"
	"github.com/carapace-oci/carapace/tests/internal/ociregistry"
	"github.com/carapace-oci/carapace/tests/internal/testenv"
)

// The images the suite's pods and containers use, by the public names
// they have in Kubernetes' own tests.
const (
	pauseRef   = "registry.k8s.io/pause:3.9"
	busyboxRef = "docker.io/library/busybox:latest"
	e2eBusybox = "registry.k8s.io/e2e-test-images/busybox:1.29-2"
	// prebuiltEnv names a directory holding testdata's C programs
	// already built static, each under its name (tests/vm/systemd.sh
	// builds them on the host: the VM has no gcc).
	prebuiltEnv = "CARAPACE_CRI_PREBUILT"
)

// Images builds the images the node serves, under dir: the pause image
// (testdata/pause.c, built static: buildStatic) and a busybox image (the host's
// busybox-static with its applet links, and the users and groups the
// tests run as) under its two names. More can be appended (critest's).
func Images(dir string) ([]ociregistry.Image, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	bin, err := buildStatic(dir, "pause")
	if err != nil {
		return nil, err
	}
	pause, err := ociregistry.FilesLayer(map[string]ociregistry.File{
		"pause": {Mode: 0o755, Content: bin},
	})
	if err != nil {
		return nil, err
	}
	root := filepath.Join(dir, "busybox")
	rootfs := testenv.Rootfs{
		Dirs:       []string{"bin", "etc", "tmp", "root", "home/app", "proc", "sys", "dev", "data", "www"},
		LinkTarget: "busybox",
		Files: map[string]string{
			"etc/passwd":     "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
			"etc/group":      "root:x:0:\napp:x:1000:\naudio:x:29:app\nnogroup:x:65534:\n",
			"etc/hostname":   "busybox\n",
			"data/hello":     "hello from the image\n",
			"www/index.html": "hello from the pod\n",
		},
	}
	err = rootfs.Build(root, func() ([]byte, error) {
		r := harness.Run(nil, time.Minute, "/bin/busybox", "--list")
		if r.Code != 0 {
			return nil, fmt.Errorf("%s", r)
		}
		return []byte(r.Stdout), nil
	})
	if err != nil {
		return nil, fmt.Errorf("busybox rootfs: %w", err)
	}
	if err := os.Chown(filepath.Join(root, "home/app"), 1000, 1000); err != nil {
		return nil, err
	}
	busybox, err := ociregistry.DirLayer(root)
	if err != nil {
		return nil, err
	}
	bbConfig := v1.Config{
		Cmd:        []string{"sh"},
		Env:        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		WorkingDir: "/",
	}
	return []ociregistry.Image{
		{Ref: pauseRef, Layers: []v1.Layer{pause}, Config: v1.Config{Entrypoint: []string{"/pause"}}},
		{Ref: busyboxRef, Layers: []v1.Layer{busybox}, Config: bbConfig},
		{Ref: e2eBusybox, Layers: []v1.Layer{busybox}, Config: bbConfig},
	}, nil
}

// buildStatic builds testdata/<name>.c into a static binary under dir
// and returns it; with CARAPACE_CRI_PREBUILT set it reads <name> there
// instead (a machine without gcc, such as the systemd VM).
func buildStatic(dir, name string) ([]byte, error) {
	if pre := os.Getenv(prebuiltEnv); pre != "" {
		return os.ReadFile(filepath.Join(pre, name))
	}
	out := filepath.Join(dir, name)
	if r := harness.Run(nil, 2*time.Minute, "gcc", "-static", "-O2", "-Wall", "-o", out, filepath.Join("testdata", name+".c")); r.Code != 0 {
		return nil, fmt.Errorf("build testdata/%s.c (or set %s): %s", name, prebuiltEnv, r)
	}
	return os.ReadFile(out)
}
