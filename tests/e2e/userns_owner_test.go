package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// runtimeMadeMounts gives c mounts whose destinations are not in the
// image (a tmpfs, a directory bind and a file bind under a missing
// directory) and a cwd that is not there either, and returns the host
// paths the runtime must make for them.
func runtimeMadeMounts(t *testing.T, c *Container) []string {
	t.Helper()
	src := filepath.Join(c.HostDir, "vol")
	file := filepath.Join(c.HostDir, "file")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c.Spec.Mounts = append(c.Spec.Mounts,
		specs.Mount{Destination: "/made/tmp", Type: "tmpfs", Source: "tmpfs"},
		specs.Mount{Destination: "/made/vol", Type: "bind", Source: src, Options: []string{"rbind"}},
		specs.Mount{Destination: "/made/file", Type: "bind", Source: file, Options: []string{"bind"}},
	)
	c.Spec.Process.Cwd = "/work/here"
	var out []string
	for _, p := range []string{"made", "made/tmp", "made/vol", "made/file", "work", "work/here"} {
		out = append(out, filepath.Join(c.Rootfs, p))
	}
	return out
}

// devMadeScript prints the cwd and the owners of what the runtime makes
// in the container's /dev (not the host's device nodes it binds there,
// nor the filesystems it mounts, whose roots the kernel owns).
const devMadeScript = "pwd; stat -c '%n %u:%g' /dev/ptmx /dev/fd /dev/stdin /dev/stdout /dev/stderr /dev/pts /dev/shm"

// checkMadeOwners checks the host owners of paths and the container's
// view of its /dev (devMadeScript's output): everything is the
// container's root, uid:gid on the host and 0:0 inside.
func checkMadeOwners(t *testing.T, paths []string, uid, gid uint32, out string) {
	t.Helper()
	for _, p := range paths {
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			t.Errorf("the runtime did not make %s: %v", p, err)
			continue
		}
		if st.Uid != uid || st.Gid != gid {
			t.Errorf("%s is %d:%d on the host, want the container's root, %d:%d", p, st.Uid, st.Gid, uid, gid)
		}
	}
	l := lines(out)
	if len(l) != 8 || l[0] != "/work/here" {
		t.Fatalf("want the cwd /work/here and 7 owners: %q", l)
	}
	for _, s := range l[1:] {
		if f := strings.Fields(s); len(f) != 2 || f[1] != "0:0" {
			t.Errorf("in the container: %s, want 0:0", s)
		}
	}
}

// TestUserNSRuntimeMadeFilesOwner: a root caller runs a container with a
// user namespace (0 -> 100000) on an image owned by the mapped root.
// What the runtime makes in the rootfs (mount points under a missing
// directory, a missing cwd) is made by init inside the user namespace, as
// runc makes it: 100000:100000 on the host, so that the container's root
// owns it; /dev's symlinks and directories are 0:0 inside.
func TestUserNSRuntimeMadeFilesOwner(t *testing.T) {
	requireCarapace(t)
	c := newContainer(t)
	c.Spec.Linux.Namespaces = append(c.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	c.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{idm(0, 100000, 65536)}
	c.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{idm(0, 100000, 65536)}
	chownTree(t, c.Rootfs, 100000)
	made := runtimeMadeMounts(t, c)
	out := c.Sh(devMadeScript)
	checkMadeOwners(t, made, 100000, 100000, out)
}

// TestRootlessRuntimeMadeFilesOwner: the same for an unprivileged user
// whose image is its own files (the usual rootless case): mount points
// and the cwd are made, owned by the user.
func TestRootlessRuntimeMadeFilesOwner(t *testing.T) {
	u := needUser(t, rootlessUser, true)
	rc := newRootless(t, u)
	chownTree(t, rc.Rootfs, int(u.uid))
	made := runtimeMadeMounts(t, rc.Container)
	rc.Spec.Process.Args = []string{"sh", "-c", devMadeScript}
	r := rc.run()
	if !r.ok() {
		t.Fatalf("rootless run on the user's own image: %s", r)
	}
	checkMadeOwners(t, made, u.uid, u.gid, r.Stdout)
}
