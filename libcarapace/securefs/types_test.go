package securefs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// within runs f and fails the test if it has not returned after d: the
// calls under test must never block on what the image put at a path (an
// open of a fifo for reading or writing waits for the other end forever).
// A call that does block is left behind in its goroutine; the test binary
// exits without it.
func within[T any](t *testing.T, d time.Duration, what string, f func() T) T {
	t.Helper()
	ch := make(chan T, 1)
	go func() { ch <- f() }()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("%s still blocked after %v", what, d)
		panic("unreachable")
	}
}

type fdErr struct {
	fd  int
	err error
}

// entry makes something of the given kind at p (the parents exist).
func entry(t *testing.T, kind, p string) {
	t.Helper()
	var err error
	switch kind {
	case "fifo":
		err = unix.Mkfifo(p, 0o666)
	case "socket":
		var fd int
		fd, err = unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err == nil {
			err = unix.Bind(fd, &unix.SockaddrUnix{Name: p})
			unix.Close(fd)
		}
	case "chardev":
		// /dev/null's numbers; creating a node works on nodev mounts too,
		// only opening it does not, and it is never opened here.
		err = unix.Mknod(p, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3)))
	case "file":
		err = os.WriteFile(p, []byte("image"), 0o644)
	case "dir":
		err = os.Mkdir(p, 0o755)
	case "symlink-to-file":
		if err = os.WriteFile(p+".target", []byte("image"), 0o644); err == nil {
			err = os.Symlink(filepath.Base(p)+".target", p)
		}
	case "symlink-to-fifo":
		if err = unix.Mkfifo(p+".target", 0o666); err == nil {
			err = os.Symlink("/"+filepath.Base(p)+".target", p)
		}
	case "dangling-symlink":
		err = os.Symlink("/nowhere/"+filepath.Base(p), p)
	default:
		t.Fatalf("unknown kind %q", kind)
	}
	if err != nil {
		t.Fatalf("making a %s at %s: %v", kind, p, err)
	}
}

// TestCreateFileExisting: what the image has at a file destination is
// used if it is a regular file (or of a type the caller allows), refused
// with a TypeError naming the path otherwise, and never blocked on.
func TestCreateFileExisting(t *testing.T) {
	tests := []struct {
		kind string
		also []uint32
		got  uint32 // the TypeError's Got; 0: accepted
		want uint32 // the type of what the fd leads to, when accepted
	}{
		{kind: "file", want: unix.S_IFREG},
		{kind: "symlink-to-file", want: unix.S_IFREG}, // followed inside the root
		{kind: "fifo", got: unix.S_IFIFO},
		{kind: "fifo", also: []uint32{unix.S_IFCHR}, got: unix.S_IFIFO},
		{kind: "symlink-to-fifo", got: unix.S_IFIFO},
		{kind: "socket", got: unix.S_IFSOCK},
		{kind: "chardev", got: unix.S_IFCHR},
		{kind: "chardev", also: []uint32{unix.S_IFCHR}, want: unix.S_IFCHR},
		{kind: "dir", got: unix.S_IFDIR},
		{kind: "dangling-symlink", got: unix.S_IFLNK},
	}
	for _, tc := range tests {
		name := tc.kind
		if len(tc.also) > 0 {
			name += "-also-" + TypeName(tc.also[0])
		}
		t.Run(name, func(t *testing.T) {
			r, dir := newRoot(t)
			entry(t, tc.kind, filepath.Join(dir, "dst"))
			res := within(t, 5*time.Second, "CreateFile", func() fdErr {
				fd, err := r.CreateFile("/dst", 0o644, tc.also...)
				return fdErr{fd, err}
			})
			if tc.got != 0 {
				if res.err == nil {
					unix.Close(res.fd)
					t.Fatalf("CreateFile over a %s succeeded, want a TypeError", tc.kind)
				}
				var te *TypeError
				if !errors.As(res.err, &te) || te.Path != "/dst" || te.Got != tc.got {
					t.Fatalf("CreateFile over a %s = %v, want a TypeError for /dst (a %s)", tc.kind, res.err, TypeName(tc.got))
				}
				return
			}
			if res.err != nil {
				t.Fatalf("CreateFile over a %s: %v", tc.kind, res.err)
			}
			defer unix.Close(res.fd)
			var st unix.Stat_t
			if err := unix.Fstat(res.fd, &st); err != nil || st.Mode&unix.S_IFMT != tc.want {
				t.Fatalf("fd leads to mode %#o (%v), want a %s", st.Mode, err, TypeName(tc.want))
			}
			if fl, _ := unix.FcntlInt(uintptr(res.fd), unix.F_GETFL, 0); fl&unix.O_PATH == 0 {
				t.Errorf("fd flags %#x, want O_PATH", fl)
			}
		})
	}
}

// TestCreateAt: the exclusive create in a directory fd, and the refusal
// of what is already there, a symlink included (never followed, even to a
// regular file).
func TestCreateAt(t *testing.T) {
	tests := []struct {
		kind string // "" for nothing there
		also []uint32
		got  uint32 // the TypeError's Got; 0: accepted
	}{
		{kind: ""},
		{kind: "file"},
		{kind: "chardev", also: []uint32{unix.S_IFCHR}},
		{kind: "chardev", got: unix.S_IFCHR},
		{kind: "fifo", got: unix.S_IFIFO},
		{kind: "fifo", also: []uint32{unix.S_IFCHR, unix.S_IFBLK}, got: unix.S_IFIFO},
		{kind: "socket", got: unix.S_IFSOCK},
		{kind: "symlink-to-file", got: unix.S_IFLNK},
		{kind: "dangling-symlink", got: unix.S_IFLNK},
		{kind: "dir", got: unix.S_IFDIR},
	}
	for _, tc := range tests {
		name := tc.kind
		if name == "" {
			name = "new"
		}
		if len(tc.also) > 0 {
			name += "-also-" + TypeName(tc.also[0])
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "x")
			if tc.kind != "" {
				entry(t, tc.kind, p)
			}
			dfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(dfd)
			res := within(t, 5*time.Second, "CreateAt", func() fdErr {
				fd, err := CreateAt(dfd, "x", "/dev/x", 0o600, tc.also...)
				return fdErr{fd, err}
			})
			if tc.got != 0 {
				var te *TypeError
				if res.err == nil {
					unix.Close(res.fd)
				}
				if !errors.As(res.err, &te) || te.Path != "/dev/x" || te.Got != tc.got {
					t.Fatalf("CreateAt over a %s = %v, want a TypeError for /dev/x (a %s)", tc.kind, res.err, TypeName(tc.got))
				}
				return
			}
			if res.err != nil {
				t.Fatalf("CreateAt over %q: %v", tc.kind, res.err)
			}
			defer unix.Close(res.fd)
			if got := fdPath(t, res.fd); got != p {
				t.Errorf("fd leads to %s, want %s", got, p)
			}
			if tc.kind == "" {
				fi, err := os.Lstat(p)
				if err != nil || !fi.Mode().IsRegular() || fi.Size() != 0 || fi.Mode().Perm() != 0o600&^umask() {
					t.Errorf("%s: %v, %v; want an empty 0600 file", p, fi, err)
				}
			}
			if tc.kind == "file" {
				if b, _ := os.ReadFile(p); string(b) != "image" {
					t.Errorf("existing file changed to %q", b)
				}
			}
		})
	}
}

func TestCreateAtBadName(t *testing.T) {
	dir := t.TempDir()
	dfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dfd)
	for _, name := range []string{"", ".", "..", "a/b", "../x"} {
		if fd, err := CreateAt(dfd, name, "/dev/"+name, 0o600); err == nil {
			unix.Close(fd)
			t.Errorf("CreateAt(%q) succeeded", name)
		}
	}
}

// TestMkdirAllExisting: a non-directory where a directory is wanted, at
// the end of the path or on the way, is refused with a TypeError naming
// it (and still reads as ENOTDIR), never opened.
func TestMkdirAllExisting(t *testing.T) {
	tests := []struct {
		kind string
		path string // asked for
		bad  string // the TypeError's path
		got  uint32
	}{
		{kind: "fifo", path: "/dst", bad: "/dst", got: unix.S_IFIFO},
		{kind: "fifo", path: "/dst/sub", bad: "/dst", got: unix.S_IFIFO},
		{kind: "socket", path: "/dst", bad: "/dst", got: unix.S_IFSOCK},
		{kind: "chardev", path: "/dst", bad: "/dst", got: unix.S_IFCHR},
		{kind: "file", path: "/dst", bad: "/dst", got: unix.S_IFREG},
		{kind: "file", path: "/dst/a/b", bad: "/dst", got: unix.S_IFREG},
		{kind: "symlink-to-fifo", path: "/dst", bad: "/dst", got: unix.S_IFIFO},
	}
	for _, tc := range tests {
		t.Run(tc.kind+tc.path, func(t *testing.T) {
			r, dir := newRoot(t)
			entry(t, tc.kind, filepath.Join(dir, "dst"))
			res := within(t, 5*time.Second, "MkdirAll", func() fdErr {
				fd, err := r.MkdirAll(tc.path, 0o755)
				return fdErr{fd, err}
			})
			if res.err == nil {
				unix.Close(res.fd)
				t.Fatalf("MkdirAll(%s) over a %s succeeded", tc.path, tc.kind)
			}
			var te *TypeError
			if !errors.As(res.err, &te) || te.Path != tc.bad || te.Got != tc.got || !errors.Is(res.err, unix.ENOTDIR) {
				t.Fatalf("MkdirAll(%s) over a %s = %v, want a TypeError (ENOTDIR) for %s", tc.path, tc.kind, res.err, tc.bad)
			}
		})
	}
}

func TestTypeErrorMessage(t *testing.T) {
	tests := []struct {
		err  *TypeError
		want string
	}{
		{&TypeError{Path: "/x", Got: unix.S_IFIFO, Want: []uint32{unix.S_IFREG}},
			`"/x": exists and is a fifo, not a regular file`},
		{&TypeError{Path: "/dev/null", Got: unix.S_IFSOCK, Want: []uint32{unix.S_IFREG, unix.S_IFCHR}},
			`"/dev/null": exists and is a socket, not a regular file or character device`},
		{&TypeError{Path: "/mnt", Got: unix.S_IFLNK, Want: []uint32{unix.S_IFDIR}},
			`"/mnt": exists and is a symlink, not a directory`},
	}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %s\nwant %s", got, tc.want)
		}
	}
	if !errors.Is(tests[0].err, os.ErrExist) || !errors.Is(tests[2].err, unix.ENOTDIR) {
		t.Error("TypeError does not unwrap to the kernel's errno")
	}
}
