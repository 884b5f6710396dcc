package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/tests/internal/testenv"
)

// More mount behaviours of runc 1.5.3 (issue 10, item 7).

// TestMountsParitySourceInRootfs: a bind source inside the rootfs is looked
// up when the mount is made, in the container's mount namespace, after the
// mounts before it, as runc does: here it is a mount point that an earlier
// tmpfs and bind made. Before, validation stat'ed it on the host, where
// it does not exist, and create failed.
func TestMountsParitySourceInRootfs(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	if err := os.WriteFile(filepath.Join(c.HostDir, "hostfile"), []byte("from-host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.addTmpfs("/a")
	c.addBind(c.HostDir, "/a/x", false)
	c.Spec.Mounts = append(c.Spec.Mounts, specs.Mount{Destination: "/b", Type: "bind", Source: filepath.Join(c.Rootfs, "a/x"), Options: []string{"bind"}})
	if out := c.Sh(`cat /b/hostfile`); out != "from-host\n" {
		t.Errorf("/b/hostfile = %q, want the host file bound at /a/x", out)
	}
	if _, err := os.Lstat(filepath.Join(c.Rootfs, "a/x")); err == nil {
		t.Errorf("a/x was made in the image, not in the tmpfs")
	}
}

// TestMountsParitySourceInRootfsMissing: a source inside the rootfs that no
// mount makes is still an error naming the mount, and nothing is left.
func TestMountsParitySourceInRootfsMissing(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.Spec.Mounts = append(c.Spec.Mounts, specs.Mount{Destination: "/b", Type: "bind", Source: filepath.Join(c.Rootfs, "nothere"), Options: []string{"bind"}})
	c.Spec.Process.Args = []string{"true"}
	r := c.Run()
	if !r.failed() || !strings.Contains(r.Stderr, "mounts[7]") || !strings.Contains(r.Stderr, "no such file or directory") {
		t.Errorf("want an error naming mounts[7] and the missing source: %v", r)
	}
	c.checkNoLeftovers("after the failed run")
}

// TestMountsParityDanglingSymlinkDestination: a destination through a
// dangling symlink is made where the symlink leads, read inside the rootfs
// as if it were "/" (runc's MkdirAllInRoot): an absolute target, a
// relative one with more ".." than the rootfs is deep, a file bind. Before,
// create failed with "no such file or directory". Nothing is made on the
// host.
func TestMountsParityDanglingSymlinkDestination(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	escape := "e2e-escape-" + testenv.RandHex(4)
	if err := os.Symlink("/nonexistent/dir", filepath.Join(c.Rootfs, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../../../../../../"+escape, filepath.Join(c.Rootfs, "esc")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.HostDir, "hostfile"), []byte("from-host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.addBind(c.HostDir, "/link/x", true)
	c.addTmpfs("/esc/y")
	c.Spec.Mounts = append(c.Spec.Mounts, specs.Mount{Destination: "/esc/f", Type: "bind", Source: filepath.Join(c.HostDir, "hostfile"), Options: []string{"bind"}})
	out := c.Sh(`cat /nonexistent/dir/x/hostfile /link/x/hostfile /` + escape + `/f
grep -E ' /(nonexistent/dir/x|` + escape + `/y|` + escape + `/f) ' /proc/self/mountinfo | wc -l`)
	if want := "from-host\nfrom-host\nfrom-host\n3\n"; out != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
	for _, p := range []string{"/nonexistent", "/" + escape, filepath.Join(c.Dir, escape), filepath.Join(filepath.Dir(c.Dir), escape)} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s was made on the host", p)
		}
	}
	if fi, err := os.Lstat(filepath.Join(c.Rootfs, escape, "y")); err != nil || !fi.IsDir() {
		t.Errorf("%s/y not made in the rootfs: %v", escape, err)
	}
}

// TestMountsParityRecursiveReadonlyTmpfs: "rro" on a tmpfs waits, like
// "ro", until the mounts under it are made (readonlyLater), then makes it
// and them read-only. Before, it was applied at once, and the mount point
// of the next mount could not be made in it (EROFS). runc 1.5.3 applies
// the recursive attributes to binds only (setRecAttr in mountToRootfs's
// bind case) and so leaves such a tmpfs writable: Carapace keeps what the
// option asks for.
func TestMountsParityRecursiveReadonlyTmpfs(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.Spec.Mounts = append(c.Spec.Mounts,
		specs.Mount{Destination: "/rro", Type: "tmpfs", Source: "tmpfs", Options: []string{"rro", "mode=755"}},
		specs.Mount{Destination: "/rro/under", Type: "tmpfs", Source: "tmpfs"})
	out := c.Sh(`touch /rro/new 2>/dev/null || echo rro-ro
touch /rro/under/new 2>/dev/null || echo under-ro
cat /proc/self/mountinfo`)
	for _, w := range []string{"rro-ro", "under-ro"} {
		if !strings.Contains(out, w+"\n") {
			t.Errorf("missing %s in:\n%s", w, out)
		}
	}
	for _, mp := range []string{"/rro", "/rro/under"} {
		if mi, ok := mountinfoAt(out, mp); !ok || !mi.hasOpt("ro") {
			t.Errorf("%s is not read-only: %s", mp, mi.Line)
		}
	}
}

// TestMountsParityProcBind: on /proc, runc's checkProcMount takes a proc
// filesystem, new or bound from a procfs, whatever the pid namespace, and
// refuses anything else (a tmpfs) with or without a pid namespace. Before,
// a bind of the host's /proc with the host's pid namespace was refused.
func TestMountsParityProcBind(t *testing.T) {
	t.Parallel()
	t.Run("procfs-bind-host-pidns", func(t *testing.T) {
		t.Parallel()
		c := newContainer(t)
		c.removeNamespace(specs.PIDNamespace)
		c.Spec.Linux.MaskedPaths, c.Spec.Linux.ReadonlyPaths = nil, nil
		for i, m := range c.Spec.Mounts {
			if m.Destination == "/proc" {
				c.Spec.Mounts[i] = specs.Mount{Destination: "/proc", Type: "bind", Source: "/proc", Options: []string{"rbind"}}
			}
		}
		host, err := os.Readlink("/proc/self/ns/pid")
		if err != nil {
			t.Fatal(err)
		}
		if out := c.Sh(`readlink /proc/self/ns/pid`); strings.TrimSpace(out) != host {
			t.Errorf("pid namespace through the bound /proc = %q, want the host's %q", out, host)
		}
	})
	t.Run("tmpfs-host-pidns", func(t *testing.T) {
		t.Parallel()
		c := newContainer(t)
		c.removeNamespace(specs.PIDNamespace)
		for i, m := range c.Spec.Mounts {
			if m.Destination == "/proc" {
				c.Spec.Mounts[i] = specs.Mount{Destination: "/proc", Type: "tmpfs", Source: "tmpfs"}
			}
		}
		c.Spec.Process.Args = []string{"true"}
		r := c.Run()
		if !r.failed() || !strings.Contains(r.Stderr, `mounts[0].destination: only a proc filesystem may be mounted on /proc (type is "tmpfs")`) {
			t.Errorf("want a refusal naming mounts[0]: %v", r)
		}
	})
}

// TestMountsParityLockedFlagsBind: a bind of a host mount made nosuid,
// nodev, noexec (runtime-tools' mounts_sshfs idea) with options that ask
// only for "ro" keeps the source's flags: in a user namespace they are
// locked by the kernel, and a remount that dropped them would fail with
// EPERM (runc re-applies them from statfs after that failure; Carapace
// sets only the asked-for attribute with mount_setattr, so never tries to
// clear them). Without a user namespace runc 1.5.3 clears the flags not
// asked for ("mount --bind -o ro" semantics); Carapace keeps them on
// purpose: a host's nosuid/noexec is not lifted by asking for "ro".
func TestMountsParityLockedFlagsBind(t *testing.T) {
	t.Parallel()
	requireCarapace(t) // runc 1.1.5 fails the userns row, and clears the flags in the other
	for _, userns := range []bool{false, true} {
		name := "host-ns"
		if userns {
			name = "userns"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			src := filepath.Join(c.HostDir, "locked")
			if err := os.Mkdir(src, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := unix.Mount("tmpfs", src, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=755"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = unix.Unmount(src, unix.MNT_DETACH) })
			// The mapped root cannot write in the host root's image.
			if err := os.Mkdir(filepath.Join(c.Rootfs, "locked"), 0o755); err != nil {
				t.Fatal(err)
			}
			if userns {
				c.Spec.Linux.Namespaces = append(c.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
				c.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
				c.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
				c.removeMount("/sys/fs/cgroup")
			}
			c.Spec.Mounts = append(c.Spec.Mounts, specs.Mount{Destination: "/locked", Type: "bind", Source: src, Options: []string{"bind", "ro"}})
			out := c.Sh(`grep ' /locked ' /proc/self/mountinfo`)
			mi, ok := mountinfoAt(out, "/locked")
			if !ok {
				t.Fatalf("no /locked in %q", out)
			}
			for _, o := range []string{"ro", "nosuid", "nodev", "noexec"} {
				if !mi.hasOpt(o) {
					t.Errorf("/locked lacks %s: %s", o, mi.Line)
				}
			}
		})
	}
}
