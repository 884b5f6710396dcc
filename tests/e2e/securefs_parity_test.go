package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// What the image has where the runtime must create a file (issue 10,
// item 4): a fifo, or a socket, where a bind-mounted file or a device
// placeholder goes is refused with an error naming the path, quickly.
// Opening the fifo for writing, as an O_CREAT without O_EXCL does when the
// fifo exists, would block create until someone opened its other end:
// before the fix, the user-namespaced /dev/null row hung until the
// harness killed create after 30 s, and the bind rows were mounted over
// the fifo instead of being refused.

type securefsRow struct {
	name string
	// image changes the rootfs and the spec; it returns the rootfs-relative
	// path of the entry the runtime must leave alone.
	image func(t *testing.T, c *Container) string
	// want is in create's stderr.
	want string
}

var securefsRows = []securefsRow{
	{name: "fifo-at-bind-file-destination",
		image: func(t *testing.T, c *Container) string {
			mkfifo(t, filepath.Join(c.Rootfs, "etc/e2e-fifo"))
			c.addBind(hostFile(t, c), "/etc/e2e-fifo", true) // mounts[7]
			return "etc/e2e-fifo"
		},
		want: `config.json: mounts[7].destination "/etc/e2e-fifo": exists and is a fifo, not a regular file`},
	{name: "symlink-to-fifo-at-bind-file-destination",
		image: func(t *testing.T, c *Container) string {
			mkfifo(t, filepath.Join(c.Rootfs, "tmp/e2e-fifo"))
			// Absolute: resolved inside the rootfs, to the fifo.
			if err := os.Symlink("/tmp/e2e-fifo", filepath.Join(c.Rootfs, "etc/e2e-link")); err != nil {
				t.Fatal(err)
			}
			c.addBind(hostFile(t, c), "/etc/e2e-link", false)
			return "tmp/e2e-fifo"
		},
		want: `config.json: mounts[7].destination "/etc/e2e-link": exists and is a fifo, not a regular file`},
	{name: "socket-at-bind-file-destination",
		image: func(t *testing.T, c *Container) string {
			p := filepath.Join(c.Rootfs, "etc/e2e-sock")
			fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(fd)
			if err := unix.Bind(fd, &unix.SockaddrUnix{Name: p}); err != nil {
				t.Fatal(err)
			}
			c.addBind(hostFile(t, c), "/etc/e2e-sock", true)
			return "etc/e2e-sock"
		},
		want: `config.json: mounts[7].destination "/etc/e2e-sock": exists and is a socket, not a regular file`},
	{name: "fifo-at-bind-dir-destination",
		image: func(t *testing.T, c *Container) string {
			mkfifo(t, filepath.Join(c.Rootfs, "mnt/e2e-fifo"))
			c.addBind(c.HostDir, "/mnt/e2e-fifo", true)
			return "mnt/e2e-fifo"
		},
		want: `config.json: mounts[7].destination "/mnt/e2e-fifo": exists and is a fifo, not a directory`},
	// Without a user namespace the node is made with mknod, which never
	// opens what is there; a default node the image has as something else
	// is refused, not kept as the container's /dev/null.
	{name: "fifo-at-dev-null",
		image: func(t *testing.T, c *Container) string {
			c.removeMount("/dev")
			mkfifo(t, filepath.Join(c.Rootfs, "dev/null"))
			return "dev/null"
		},
		want: `default device "/dev/null": exists and is a fifo, not a character device`},
	// A user namespace cannot mknod: the host's /dev/null is bound over a
	// placeholder file in the image's own /dev (no /dev tmpfs here).
	{name: "fifo-at-userns-dev-null",
		image: func(t *testing.T, c *Container) string {
			c.userNS()
			c.removeMount("/dev")
			dev := filepath.Join(c.Rootfs, "dev")
			// The container's root (host uid 100000) may make what it needs
			// there; the fifo is writable by it, so an open would block.
			if err := os.Chown(dev, 100000, 100000); err != nil {
				t.Fatal(err)
			}
			mkfifo(t, filepath.Join(dev, "null"))
			return "dev/null"
		},
		want: `default device "/dev/null": exists and is a fifo, not a regular file or character device`},
}

// TestSecurefsRefusesWhatIsThere: create fails fast with the path named,
// leaves the image's entry as it was and leaves nothing behind.
func TestSecurefsRefusesWhatIsThere(t *testing.T) {
	requireCarapace(t) // runc mounts over a fifo at a file destination
	for _, row := range securefsRows {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			c.Spec.Process.Args = []string{"true"}
			keep := row.image(t, c)
			var before unix.Stat_t
			if err := unix.Lstat(filepath.Join(c.Rootfs, keep), &before); err != nil {
				t.Fatal(err)
			}

			r := c.Create()
			switch {
			case r.Err != nil:
				t.Fatalf("create did not finish (blocked on the image's entry?): %s", r)
			case r.Code == 0:
				t.Errorf("create succeeded, want a refusal: %s", r)
			case !strings.Contains(r.Stderr, row.want):
				t.Errorf("stderr lacks %q: %s", row.want, r)
			}
			if r.Elapsed > 10*time.Second {
				t.Errorf("create took %v", r.Elapsed)
			}

			var after unix.Stat_t
			if err := unix.Lstat(filepath.Join(c.Rootfs, keep), &after); err != nil {
				t.Errorf("the image's %s is gone: %v", keep, err)
			} else if after.Ino != before.Ino || after.Mode != before.Mode {
				t.Errorf("the image's %s was replaced: mode %#o -> %#o", keep, before.Mode, after.Mode)
			}
			if r.Code == 0 {
				_ = c.Delete(true)
			}
			c.checkNoLeftovers("after the refused create")
		})
	}
}

func mkfifo(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(p, 0o666); err != nil {
		t.Fatal(err)
	}
	// Mkfifo's mode goes through the umask; the container's root must be
	// able to open it for writing for the userns row to mean anything.
	if err := os.Chmod(p, 0o666); err != nil {
		t.Fatal(err)
	}
}

// hostFile is a file on the host to bind into the container.
func hostFile(t *testing.T, c *Container) string {
	t.Helper()
	p := filepath.Join(c.HostDir, "e2e-bind-file")
	if err := os.WriteFile(p, []byte("from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
