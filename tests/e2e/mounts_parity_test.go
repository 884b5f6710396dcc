package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Mount behaviours of runc 1.5.3 that images and clients rely on
// (issue 10, item 6).

// TestMountsParityTmpcopyup: a tmpfs with the tmpcopyup option (podman
// uses it for /tmp, /run, ...) starts with a copy of what the image has at
// the destination: files, directories, symlinks (as links, never
// followed), modes and owners. The option itself never reaches the kernel,
// and the copy never leaves the rootfs.
func TestMountsParityTmpcopyup(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	// A host directory that a symlink in the image names: the copy must
	// neither follow the link nor read the host's directory.
	hostSecret := filepath.Join(c.HostDir, "secret")
	if err := os.MkdirAll(hostSecret, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(hostSecret, "HOSTFILE"), []byte("host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(c.Rootfs, "data")
	c.writeRootfsFile("data/file", "image-file\n", 0o644)
	c.writeRootfsFile("data/sub/deep", "deep\n", 0o644)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// Owner first: a chown clears the setuid bit. os.Chmod would drop the
	// setuid and sticky bits of a plain number.
	must(os.Chown(filepath.Join(data, "file"), 1000, 1001))
	must(unix.Chmod(filepath.Join(data, "file"), 0o4755))
	must(unix.Chmod(filepath.Join(data, "sub"), 0o1777))
	must(os.Chown(filepath.Join(data, "sub"), 1002, 1003))
	must(os.Chmod(data, 0o710))
	must(os.Symlink("/etc/passwd", filepath.Join(data, "abs")))
	must(os.Symlink("../../../../../../../../.."+hostSecret, filepath.Join(data, "escape")))
	must(os.Lchown(filepath.Join(data, "abs"), 1004, 1005))
	// The destination itself is reached through a symlink that points
	// out of the rootfs: it resolves inside, to the image's directory of
	// that name, which is what is copied.
	c.writeRootfsFile(filepath.Join(hostSecret, "IMAGEFILE"), "image\n", 0o644)
	must(os.Symlink("../../../../../../../.."+hostSecret, filepath.Join(c.Rootfs, "viaescape")))

	c.Spec.Mounts = append(c.Spec.Mounts,
		specs.Mount{Destination: "/data", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup", "nosuid"}},
		specs.Mount{Destination: "/viaescape", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup"}},
	)
	out := c.Sh(`cd /data
for p in . file sub sub/deep abs escape; do echo "$p $(stat -c '%a %u %g %F' $p)"; done
echo "abs-> $(readlink abs)"
echo "file: $(cat file)"
echo "deep: $(cat sub/deep)"
echo "via: [$(ls -A /viaescape)]"
echo new >/data/written
grep ' /data ' /proc/self/mountinfo`)
	want := []string{
		". 710 0 0 directory",
		"file 4755 1000 1001 regular file",
		"sub 1777 1002 1003 directory",
		"sub/deep 644 0 0 regular file",
		"abs 777 1004 1005 symbolic link",
		"escape 777 0 0 symbolic link",
		"abs-> /etc/passwd",
		"file: image-file",
		"deep: deep",
		"via: [IMAGEFILE]",
	}
	got := lines(out)
	for _, w := range want {
		found := false
		for _, l := range got {
			if l == w {
				found = true
			}
		}
		if !found {
			t.Errorf("missing %q in:\n%s", w, out)
		}
	}
	mi, ok := mountinfoAt(out, "/data")
	if !ok || mi.FSType != "tmpfs" {
		t.Fatalf("/data is not a tmpfs:\n%s", out)
	}
	for _, o := range append(mi.Opts, mi.SuperOpts...) {
		if o == "tmpcopyup" {
			t.Errorf("tmpcopyup reached the kernel: %s", mi.Line)
		}
	}
	if !mi.hasOpt("nosuid") {
		t.Errorf("nosuid lost: %s", mi.Line)
	}
	// The copy is the tmpfs's: the image is untouched.
	if _, err := os.Stat(filepath.Join(data, "written")); err == nil {
		t.Errorf("a write to the tmpfs reached the image")
	}
	if _, err := os.Stat(filepath.Join(hostSecret, "HOSTFILE")); err != nil {
		t.Errorf("host file: %v", err)
	}
	if entries, _ := os.ReadDir(hostSecret); len(entries) != 1 {
		t.Errorf("host directory changed: %v", entries)
	}
}

// TestMountsParityTmpfsMode: without mode=, a tmpfs takes the mode of the
// directory it covers (runc's createOpenMountpoint prepends mode=); on a
// destination it had to create, the kernel's default 1777 applies; a
// mode= in the options wins.
func TestMountsParityTmpfsMode(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	for dir, mode := range map[string]uint32{"keep": 0o700, "sticky": 0o1770, "given": 0o700} {
		p := filepath.Join(c.Rootfs, dir)
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := unix.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	c.addTmpfs("/keep")
	c.addTmpfs("/sticky")
	c.addTmpfs("/fresh")
	c.Spec.Mounts = append(c.Spec.Mounts, specs.Mount{Destination: "/given", Type: "tmpfs", Source: "tmpfs", Options: []string{"mode=711"}})
	out := c.Sh(`for d in /keep /sticky /fresh /given; do echo "$d $(stat -c %a $d)"; done`)
	want := "/keep 700\n/sticky 1770\n/fresh 1777\n/given 711\n"
	if out != want {
		t.Errorf("tmpfs modes:\n%s\nwant:\n%s", out, want)
	}
}

// TestMountsParityReadonlyDev: a read-only /dev tmpfs still gets its
// device nodes, links and the mounts under it, and ends read-only.
func TestMountsParityReadonlyDev(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	for i, m := range c.Spec.Mounts {
		if m.Destination == "/dev" {
			c.Spec.Mounts[i].Options = append(append([]string(nil), m.Options...), "ro")
		}
	}
	c.Spec.Mounts = append(c.Spec.Mounts, specs.Mount{Destination: "/tmpro", Type: "tmpfs", Source: "tmpfs", Options: []string{"ro"}},
		specs.Mount{Destination: "/tmpro/under", Type: "tmpfs", Source: "tmpfs"})
	out := c.Sh(`test -c /dev/null && echo null-ok
echo x >/dev/null && echo null-writable
test "$(readlink /dev/fd)" = /proc/self/fd && echo fd-ok
test "$(readlink /dev/ptmx)" = pts/ptmx && echo ptmx-ok
touch /dev/new 2>/dev/null || echo dev-ro
touch /tmpro/new 2>/dev/null || echo tmpro-ro
touch /tmpro/under/new && echo under-rw
cat /proc/self/mountinfo`)
	for _, w := range []string{"null-ok", "null-writable", "fd-ok", "ptmx-ok", "dev-ro", "tmpro-ro", "under-rw"} {
		if !strings.Contains(out, w+"\n") {
			t.Errorf("missing %s in:\n%s", w, out)
		}
	}
	for _, mp := range []string{"/dev", "/tmpro"} {
		if mi, ok := mountinfoAt(out, mp); !ok || !mi.hasOpt("ro") {
			t.Errorf("%s is not read-only: %s", mp, mi.Line)
		}
	}
	if mi, ok := mountinfoAt(out, "/dev/shm"); !ok || mi.hasOpt("ro") {
		t.Errorf("/dev/shm: %s", mi.Line)
	}
}

// TestMountsParityDuplicateMaskedPaths: the same path twice in
// linux.maskedPaths is masked once, not an error.
func TestMountsParityDuplicateMaskedPaths(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.writeRootfsFile("etc/secret", "SECRET\n", 0o644)
	c.writeRootfsFile("etc/secretdir/a", "SECRET\n", 0o644)
	c.Spec.Linux.MaskedPaths = append(c.Spec.Linux.MaskedPaths,
		"/etc/secret", "/etc/secretdir", "/etc/secret", "/etc/secretdir", "/etc/secretdir/", "/proc/kcore", "/proc/kcore")
	out := c.Sh(`echo "file=[$(cat /etc/secret)] dir=[$(ls -A /etc/secretdir)]"
grep -c ' /etc/secretdir ' /proc/self/mountinfo
grep -c ' /etc/secret ' /proc/self/mountinfo`)
	if want := "file=[] dir=[]\n1\n1\n"; out != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
}
