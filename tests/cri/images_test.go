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
	// critestRegistry is where critest's own test images are.
	critestRegistry = "gcr.io/k8s-staging-cri-tools/"
	// prebuiltEnv names a directory holding testdata's C programs
	// already built static, each under its name (tests/vm/systemd.sh
	// builds them on the host: the VM has no gcc).
	prebuiltEnv = "CARAPACE_CRI_PREBUILT"
)

// Images builds every image the node serves, under dir: the pause image
// (testdata/pause.c, built static: buildStatic), a busybox image (the host's
// busybox-static with its applet links, and the users and groups the
// tests run as) under its names, and the images critest's tests use
// (critestImages).
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
		Dirs:       []string{"bin", "etc", "tmp", "root", "home/app", "proc", "sys", "dev", "data", "www", "var/run"},
		LinkTarget: "busybox",
		Files: map[string]string{
			"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/bin/false\n" +
				"app:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
			"etc/group":      "root:x:0:\naudio:x:29:app\nwww-data:x:33:\napp:x:1000:\nnogroup:x:65534:\n",
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
	// The applets are hard links to busybox, as in the upstream images:
	// a masked /bin/ls (critest's maskedPaths) must not mask busybox
	// itself, which a bind mount on a symbolic link would.
	applets, err := os.ReadDir(filepath.Join(root, "bin"))
	if err != nil {
		return nil, err
	}
	for _, e := range applets {
		p := filepath.Join(root, "bin", e.Name())
		if target, err := os.Readlink(p); err == nil && target == "busybox" {
			if err := os.Remove(p); err != nil {
				return nil, err
			}
			if err := os.Link(filepath.Join(root, "bin", "busybox"), p); err != nil {
				return nil, err
			}
		}
	}
	// Debian's busybox-static has no pgrep or ipcs, which the upstream
	// busybox images have and critest runs (pgrep sleep, ipcs -m): two
	// scripts doing what the tests need of them.
	for name, script := range map[string]string{
		"bin/pgrep": "#!/bin/sh\n# pgrep NAME: the pids of the processes named NAME, one a line.\npidof \"$@\" | tr ' ' '\\n'\n",
		"bin/ipcs":  "#!/bin/sh\n# ipcs [-m]: the IPC namespace's shared memory segments.\necho '------ Shared Memory Segments --------'\ncat /proc/sysvipc/shm\n",
	} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(script), 0o755); err != nil {
			return nil, err
		}
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
	images := []ociregistry.Image{
		{Ref: pauseRef, Layers: []v1.Layer{pause}, Config: v1.Config{Entrypoint: []string{"/pause"}}},
		{Ref: busyboxRef, Layers: []v1.Layer{busybox}, Config: bbConfig},
		{Ref: e2eBusybox, Layers: []v1.Layer{busybox}, Config: bbConfig},
	}
	more, err := critestImages(dir, pause, busybox, bbConfig)
	if err != nil {
		return nil, err
	}
	return append(images, more...), nil
}

// critestImages are the images cri-tools' critest pulls (its
// pkg/validate, and images/ for how upstream builds them), made of the
// same busybox layer: critest checks what they are made of, not what
// they come from.
//
// Not reproducible: test-image-digest, named by the digest of upstream's
// build (a test that fails for any runtime here).
func critestImages(dir string, pause, busybox v1.Layer, bb v1.Config) ([]ociregistry.Image, error) {
	var images []ociregistry.Image
	add := func(ref string, cfg v1.Config, layers ...v1.Layer) {
		images = append(images, ociregistry.Image{Ref: ref, Layers: append([]v1.Layer{busybox}, layers...), Config: cfg})
	}
	with := func(f func(*v1.Config)) v1.Config {
		c := bb
		c.Env = append([]string(nil), bb.Env...)
		f(&c)
		return c
	}
	// One file, named after the image (images/image-test): each tag is a
	// different image unless it names the same file.
	marker := func(name string) (v1.Layer, error) {
		return ociregistry.FilesLayer(map[string]ociregistry.File{name: {Mode: 0o644, Content: []byte{}}})
	}
	for _, im := range []struct{ ref, file string }{
		{critestRegistry + "test-image-1:latest", "test-image-1"},
		{critestRegistry + "test-image-2:latest", "test-image-2"},
		{critestRegistry + "test-image-3:latest", "test-image-3"},
		{critestRegistry + "test-image-latest:latest", "test-image-latest"},
		{critestRegistry + "test-image-tag:test", "test"},
		{critestRegistry + "test-image-tag:all", "all"},
		{critestRegistry + "test-image-tags:1", "same-image"},
		{critestRegistry + "test-image-tags:2", "same-image"},
		{critestRegistry + "test-image-tags:3", "same-image"},
	} {
		l, err := marker(im.file)
		if err != nil {
			return nil, err
		}
		add(im.ref, bb, l)
	}
	// The image's USER, as images/image-user builds them.
	for _, im := range []struct{ name, user string }{
		{"test-image-user-uid", "1002"},
		{"test-image-user-username", "www-data"},
		{"test-image-user-uid-group", "1003:1004"},
		{"test-image-user-username-group", "www-data:1004"},
	} {
		add(critestRegistry+im.name+":latest", with(func(c *v1.Config) { c.User = im.user }))
	}
	// User 1000 in the image's group 50000 (images/image-predefined-group).
	group, err := ociregistry.FilesLayer(map[string]ociregistry.File{
		"etc/passwd": {Mode: 0o644, Content: []byte("root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/bin/false\n" +
			"default-user:x:1000:1000:Linux User,,,:/home/default-user:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")},
		"etc/group": {Mode: 0o644, Content: []byte("root:x:0:\nwww-data:x:33:\ndefault-user:x:1000:\n" +
			"group-defined-in-image:x:50000:default-user\nnogroup:x:65534:\n")},
		"home/default-user": {Mode: 0o755, UID: 1000, GID: 1000},
	})
	if err != nil {
		return nil, err
	}
	add(critestRegistry+"test-image-predefined-group:latest", with(func(c *v1.Config) { c.User = "1000" }), group)
	// The web servers: testdata/nginx.c, a master named nginx with
	// busybox httpd as its worker, on port 80 and (hostnet-nginx, for a
	// host network pod) 12003; and httpd, busybox's, on port 80, saying
	// "httpd" in its log as Apache's does.
	nginxBin, err := buildStatic(dir, "nginx")
	if err != nil {
		return nil, err
	}
	nginx, err := ociregistry.FilesLayer(map[string]ociregistry.File{
		"usr":                             {Mode: 0o755},
		"usr/sbin":                        {Mode: 0o755},
		"usr/sbin/nginx":                  {Mode: 0o755, Content: nginxBin},
		"usr/share":                       {Mode: 0o755},
		"usr/share/nginx":                 {Mode: 0o755},
		"usr/share/nginx/html":            {Mode: 0o755},
		"usr/share/nginx/html/index.html": {Mode: 0o644, Content: []byte("<h1>Welcome to nginx!</h1>\n")},
		"usr/share/nginx/html/50x.html":   {Mode: 0o644, Content: []byte("<h1>An error occurred.</h1>\n")},
		"var/run":                         {Mode: 0o755},
	})
	if err != nil {
		return nil, err
	}
	nginxCmd := []string{"nginx", "-g", "daemon off;"}
	add("registry.k8s.io/e2e-test-images/nginx:1.14-2", with(func(c *v1.Config) {
		c.Cmd, c.StopSignal = nginxCmd, "SIGTERM"
		c.ExposedPorts = map[string]struct{}{"80/tcp": {}}
	}), nginx)
	add(critestRegistry+"hostnet-nginx-amd64:latest", with(func(c *v1.Config) {
		c.Cmd, c.StopSignal = nginxCmd, "SIGQUIT"
		c.Env = append(c.Env, "NGINX_PORT=12003")
		c.ExposedPorts = map[string]struct{}{"12003/tcp": {}}
	}), nginx)
	httpd, err := ociregistry.FilesLayer(map[string]ociregistry.File{
		"usr":                                 {Mode: 0o755},
		"usr/local":                           {Mode: 0o755},
		"usr/local/bin":                       {Mode: 0o755},
		"usr/local/apache2":                   {Mode: 0o755},
		"usr/local/apache2/htdocs":            {Mode: 0o755},
		"usr/local/apache2/htdocs/index.html": {Mode: 0o644, Content: []byte("<html><body><h1>It works!</h1></body></html>\n")},
		"usr/local/bin/httpd-foreground": {Mode: 0o755, Content: []byte("#!/bin/sh\n" +
			"# Apache's httpd-foreground, with busybox httpd: it stops on TERM\n" +
			"# (as its pid namespace's init, it has to say so).\n" +
			"httpd -f -p 80 -h /usr/local/apache2/htdocs &\n" +
			"pid=$!\n" +
			"trap 'kill $pid; wait $pid; exit 0' TERM INT\n" +
			"echo \"httpd (pid $pid) listening on port 80\" >&2\n" +
			"wait $pid\n")},
	})
	if err != nil {
		return nil, err
	}
	add("registry.k8s.io/e2e-test-images/httpd:2.4.39-4", with(func(c *v1.Config) {
		c.Cmd, c.WorkingDir = []string{"httpd-foreground"}, "/usr/local/apache2"
		c.ExposedPorts = map[string]struct{}{"80/tcp": {}}
	}), httpd)
	// Kubernetes' nonewprivs: testdata/nnp.c, set-user-ID root, run as
	// user 1000.
	nnpBin, err := buildStatic(dir, "nnp")
	if err != nil {
		return nil, err
	}
	nnp, err := ociregistry.FilesLayer(map[string]ociregistry.File{
		"usr":               {Mode: 0o755},
		"usr/local":         {Mode: 0o755},
		"usr/local/bin":     {Mode: 0o755},
		"usr/local/bin/nnp": {Mode: 0o4755, Content: nnpBin},
	})
	if err != nil {
		return nil, err
	}
	add("registry.k8s.io/e2e-test-images/nonewprivs:1.3", with(func(c *v1.Config) {
		c.Entrypoint, c.Cmd, c.User = []string{"/usr/local/bin/nnp"}, nil, "1000"
	}), nnp)
	// The same pause image from two registries.
	images = append(images, ociregistry.Image{Ref: "k8s.gcr.io/pause:3.9", Layers: []v1.Layer{pause}, Config: v1.Config{Entrypoint: []string{"/pause"}}})
	return images, nil
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
