package securefs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// newRoot builds a root filesystem:
//
//	etc/passwd        "inside"
//	file              "file"
//	abs     -> /
//	up      -> ../../..
//	hostetc -> /etc
//	hosttmp -> /tmp    (no tmp inside: dangling within the root)
//	dotdot  -> ..
//	loop    -> loop
//	sub/deep -> ../../../../etc
func newRoot(t *testing.T) (*Root, string) {
	t.Helper()
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Mkdir(filepath.Join(dir, "etc"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "etc", "passwd"), []byte("inside"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "file"), []byte("file"), 0o644))
	must(os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	for link, target := range map[string]string{
		"abs": "/", "up": "../../..", "hostetc": "/etc", "hosttmp": "/tmp", "dotdot": "..",
		"loop": "loop", "sub/deep": "../../../../etc",
	} {
		must(os.Symlink(target, filepath.Join(dir, link)))
	}
	r, err := OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, dir
}

// fdPath is where fd really leads.
func fdPath(t *testing.T, fd int) string {
	t.Helper()
	p, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func readFd(t *testing.T, fd int) string {
	t.Helper()
	f := os.NewFile(uintptr(fd), "x")
	defer f.Close()
	b := make([]byte, 100)
	n, _ := f.Read(b)
	return string(b[:n])
}

// unique is a name that exists nowhere on the host.
func unique(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("carapace-securefs-test-%d-%s", os.Getpid(), strings.NewReplacer("/", "-").Replace(t.Name()))
	for _, d := range []string{"/", "/etc", "/tmp"} {
		if _, err := os.Lstat(filepath.Join(d, name)); err == nil {
			t.Fatalf("%s exists on the host", filepath.Join(d, name))
		}
	}
	return name
}

func notOnHost(t *testing.T, name string) {
	t.Helper()
	for _, d := range []string{"/", "/etc", "/tmp"} {
		p := filepath.Join(d, name)
		if _, err := os.Lstat(p); err == nil {
			os.RemoveAll(p)
			t.Errorf("%s was created on the host", p)
		}
	}
}

func TestOpen(t *testing.T) {
	r, dir := newRoot(t)
	tests := []struct {
		path    string
		want    string // path relative to the root the fd must lead to
		content string
		err     error
	}{
		{"/etc/passwd", "etc/passwd", "inside", nil},
		{"etc/passwd", "etc/passwd", "inside", nil},
		{"/hostetc/passwd", "etc/passwd", "inside", nil},
		{"/abs/etc/passwd", "etc/passwd", "inside", nil},
		{"/abs/abs/abs/hostetc/passwd", "etc/passwd", "inside", nil},
		{"/up/etc/passwd", "etc/passwd", "inside", nil},
		{"/up/up/up/file", "file", "file", nil},
		{"/dotdot/dotdot/file", "file", "file", nil},
		{"/../../../etc/passwd", "etc/passwd", "inside", nil},
		{"/sub/deep/passwd", "etc/passwd", "inside", nil},
		{"/sub/../file", "file", "file", nil},
		{"/", "", "", nil},
		{"", "", "", nil},
		{"/abs", "", "", nil},
		{"/hostetc/shadow", "", "", unix.ENOENT},
		{"/up/etc/shadow", "", "", unix.ENOENT},
		{"/etc/hostname", "", "", unix.ENOENT},
		{"/hosttmp", "", "", unix.ENOENT},
		{"/loop", "", "", unix.ELOOP},
		{"/file/x", "", "", unix.ENOTDIR},
		{"/proc/self/exe", "", "", unix.ENOENT},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			fd, err := r.Open(tc.path, unix.O_RDONLY, 0)
			if tc.err != nil {
				if err == nil {
					t.Fatalf("Open(%q) led to %s, want %v", tc.path, fdPath(t, fd), tc.err)
				}
				var pe *PathError
				if !errors.Is(err, tc.err) || !errors.As(err, &pe) || pe.Path != tc.path || pe.Root != dir {
					t.Fatalf("Open(%q) = %v, want a PathError for %v", tc.path, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open(%q): %v", tc.path, err)
			}
			if got, want := fdPath(t, fd), filepath.Join(dir, tc.want); got != want {
				unix.Close(fd)
				t.Fatalf("Open(%q) led to %s, want %s", tc.path, got, want)
			}
			if tc.content != "" {
				if got := readFd(t, fd); got != tc.content {
					t.Errorf("Open(%q) read %q, want %q", tc.path, got, tc.content)
				}
			} else {
				unix.Close(fd)
			}
		})
	}
}

func TestOpenExtraFlags(t *testing.T) {
	r, _ := newRoot(t)
	if _, err := r.Open("/hostetc/passwd", unix.O_RDONLY, unix.RESOLVE_NO_SYMLINKS); !errors.Is(err, unix.ELOOP) {
		t.Errorf("RESOLVE_NO_SYMLINKS through a link: %v, want ELOOP", err)
	}
	fd, err := r.Open("/etc/passwd", unix.O_RDONLY, unix.RESOLVE_NO_SYMLINKS)
	if err != nil {
		t.Fatalf("RESOLVE_NO_SYMLINKS without links: %v", err)
	}
	unix.Close(fd)
	fd, err = r.Open("/etc/passwd", unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); fl&unix.FD_CLOEXEC == 0 {
		t.Error("Open fd is not close-on-exec")
	}
}

func TestOpenRootMissing(t *testing.T) {
	if _, err := OpenRoot(filepath.Join(t.TempDir(), "nope")); !errors.Is(err, unix.ENOENT) {
		t.Errorf("OpenRoot(missing) = %v", err)
	}
	f := filepath.Join(t.TempDir(), "f")
	os.WriteFile(f, nil, 0o644)
	if _, err := OpenRoot(f); !errors.Is(err, unix.ENOTDIR) {
		t.Errorf("OpenRoot(file) = %v", err)
	}
}

func TestMkdirAll(t *testing.T) {
	tests := []struct {
		name string
		path func(u string) string
		want func(u string) string // relative to the root; "" means an error is expected
		err  error
	}{
		{"plain", func(u string) string { return "/a/b/" + u }, func(u string) string { return "a/b/" + u }, nil},
		{"existing", func(string) string { return "/etc" }, func(string) string { return "etc" }, nil},
		{"root", func(string) string { return "/" }, func(string) string { return "" }, nil},
		{"via abs link", func(u string) string { return "/abs/tmp/" + u + "/x" }, func(u string) string { return "tmp/" + u + "/x" }, nil},
		{"via up link", func(u string) string { return "/up/up/" + u }, func(u string) string { return u }, nil},
		{"via hostetc link", func(u string) string { return "/hostetc/" + u + "/x" }, func(u string) string { return "etc/" + u + "/x" }, nil},
		{"via deep link", func(u string) string { return "/sub/deep/" + u }, func(u string) string { return "etc/" + u }, nil},
		{"dotdot in path", func(u string) string { return "/../../" + u }, func(u string) string { return u }, nil},
		// A link dangling inside the root is followed as if the root
		// were "/": its target is made inside (runc's MkdirAllInRoot).
		{"via dangling link", func(u string) string { return "/hosttmp/" + u }, func(u string) string { return "tmp/" + u }, nil},
		{"through a file", func(u string) string { return "/file/" + u }, nil, unix.ENOTDIR},
		{"loop", func(u string) string { return "/loop/" + u }, nil, unix.ELOOP},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, dir := newRoot(t)
			u := unique(t)
			defer notOnHost(t, u)
			p := tc.path(u)
			fd, err := r.MkdirAll(p, 0o750)
			if tc.err != nil {
				if err == nil {
					unix.Close(fd)
					t.Fatalf("MkdirAll(%q) succeeded, want %v", p, tc.err)
				}
				if !errors.Is(err, tc.err) {
					t.Fatalf("MkdirAll(%q) = %v, want %v", p, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("MkdirAll(%q): %v", p, err)
			}
			defer unix.Close(fd)
			want := filepath.Join(dir, tc.want(u))
			if got := fdPath(t, fd); got != want {
				t.Fatalf("MkdirAll(%q) fd leads to %s, want %s", p, got, want)
			}
			fi, err := os.Lstat(want)
			if err != nil || !fi.IsDir() {
				t.Fatalf("%s: %v, %v", want, fi, err)
			}
			if strings.Contains(tc.want(u), u) && fi.Mode().Perm() != 0o750&^umask() {
				t.Errorf("%s mode %#o, want %#o", want, fi.Mode().Perm(), 0o750&^umask())
			}
		})
	}
}

func umask() os.FileMode {
	m := unix.Umask(0)
	unix.Umask(m)
	return os.FileMode(m)
}

func TestCreateFile(t *testing.T) {
	tests := []struct {
		name string
		path func(u string) string
		want func(u string) string // relative to the root
		err  error
	}{
		{"new in root", func(u string) string { return "/" + u }, func(u string) string { return u }, nil},
		{"new with parents", func(u string) string { return "/a/b/" + u }, func(u string) string { return "a/b/" + u }, nil},
		{"existing file", func(string) string { return "/etc/passwd" }, func(string) string { return "etc/passwd" }, nil},
		// A directory where a file is wanted is refused (TypeError, EISDIR).
		{"existing dir", func(string) string { return "/etc" }, nil, unix.EISDIR},
		{"via hostetc link", func(u string) string { return "/hostetc/" + u }, func(u string) string { return "etc/" + u }, nil},
		{"via abs link", func(u string) string { return "/abs/tmp/" + u }, func(u string) string { return "tmp/" + u }, nil},
		{"via up link", func(u string) string { return "/up/" + u }, func(u string) string { return u }, nil},
		{"through a file", func(u string) string { return "/file/" + u }, nil, unix.ENOTDIR},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, dir := newRoot(t)
			u := unique(t)
			defer notOnHost(t, u)
			p := tc.path(u)
			fd, err := r.CreateFile(p, 0o600)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					if err == nil {
						unix.Close(fd)
					}
					t.Fatalf("CreateFile(%q) = %v, want %v", p, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("CreateFile(%q): %v", p, err)
			}
			defer unix.Close(fd)
			want := filepath.Join(dir, tc.want(u))
			if got := fdPath(t, fd); got != want {
				t.Fatalf("CreateFile(%q) fd leads to %s, want %s", p, got, want)
			}
			if fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); fl&unix.O_PATH == 0 {
				t.Errorf("fd flags %#x, want O_PATH", fl)
			}
			if strings.Contains(tc.want(u), u) {
				fi, err := os.Lstat(want)
				if err != nil || !fi.Mode().IsRegular() || fi.Size() != 0 || fi.Mode().Perm() != 0o600&^umask() {
					t.Fatalf("%s: %v, %v; want an empty 0600 file", want, fi, err)
				}
			}
		})
	}
}

// A final component that is a symlink leading out of the root is not
// followed for creation: dangling inside the root, it is refused, and
// nothing is made at its target, inside or outside. An existing file
// reached through a link is used and not truncated.
func TestCreateFileSymlinkLeaf(t *testing.T) {
	r, dir := newRoot(t)
	u := unique(t)
	defer notOnHost(t, u)
	if err := os.Symlink("/tmp/"+u, filepath.Join(dir, "leaf")); err != nil {
		t.Fatal(err)
	}
	fd, err := r.CreateFile("/leaf", 0o644)
	var te *TypeError
	if !errors.As(err, &te) || te.Path != "/leaf" || te.Got != unix.S_IFLNK {
		if err == nil {
			unix.Close(fd)
		}
		t.Fatalf("CreateFile(/leaf) = %v, want a TypeError for a symlink", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "tmp", u)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the link's target was created: %v", err)
	}

	fd, err = r.CreateFile("/hostetc/passwd", 0o644)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	if b, _ := os.ReadFile(filepath.Join(dir, "etc/passwd")); string(b) != "inside" {
		t.Errorf("existing file changed to %q", b)
	}
}

func TestProcPath(t *testing.T) {
	for fd, want := range map[int]string{0: "/proc/self/fd/0", 42: "/proc/self/fd/42"} {
		if got := ProcPath(fd); got != want {
			t.Errorf("ProcPath(%d) = %q, want %q", fd, got, want)
		}
	}
}

// Dangling symlinks on the way to a directory to make are followed inside
// the root, whatever their target (absolute, with ".." past the root,
// chained, relative to a subdirectory), and what they name is made there;
// nothing is made on the host. A chain longer than the kernel's limit is
// refused with ELOOP.
func TestMkdirAllDanglingLinks(t *testing.T) {
	tests := []struct {
		name  string
		links func(u string) map[string]string // link -> target, made in order of the keys
		path  func(u string) string
		want  func(u string) string // rootfs-relative
		err   error
	}{
		{"absolute", func(u string) map[string]string { return map[string]string{"l": "/nonexistent/" + u} },
			func(u string) string { return "/l/x" }, func(u string) string { return "nonexistent/" + u + "/x" }, nil},
		{"escaping dotdots", func(u string) map[string]string { return map[string]string{"l": "../../../../" + u} },
			func(u string) string { return "/l/x" }, func(u string) string { return u + "/x" }, nil},
		{"absolute with dotdots", func(u string) map[string]string { return map[string]string{"l": "/../../tmp/../" + u} },
			func(u string) string { return "/l" }, func(u string) string { return u }, nil},
		{"relative in subdir", func(u string) map[string]string { return map[string]string{"sub/l": "../" + u + "/in"} },
			func(u string) string { return "/sub/l/x" }, func(u string) string { return u + "/in/x" }, nil},
		{"dotdot after link to dir", func(u string) map[string]string {
			return map[string]string{"sub/todeep": "/etc", "sub/l": "todeep/../" + u}
		}, func(u string) string { return "/sub/l" }, func(u string) string { return u }, nil},
		{"chain", func(u string) map[string]string { return map[string]string{"a": "/b/" + u, "b": "/c", "c": "../../d"} },
			func(u string) string { return "/a/x" }, func(u string) string { return "d/" + u + "/x" }, nil},
		{"too long a chain", func(u string) map[string]string {
			m := map[string]string{}
			for i := 0; i < 45; i++ {
				m[fmt.Sprintf("c%02d", i)] = fmt.Sprintf("/c%02d", i+1)
			}
			m["c45"] = "/" + u
			return m
		}, func(u string) string { return "/c00/x" }, nil, unix.ELOOP},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, dir := newRoot(t)
			u := unique(t)
			defer notOnHost(t, u)
			for link, target := range tc.links(u) {
				if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
					t.Fatal(err)
				}
			}
			p := tc.path(u)
			fd, err := r.MkdirAll(p, 0o750)
			if tc.err != nil {
				if err == nil {
					unix.Close(fd)
					t.Fatalf("MkdirAll(%q) succeeded, want %v", p, tc.err)
				}
				if !errors.Is(err, tc.err) {
					t.Fatalf("MkdirAll(%q) = %v, want %v", p, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("MkdirAll(%q): %v", p, err)
			}
			defer unix.Close(fd)
			want := filepath.Join(dir, tc.want(u))
			if got := fdPath(t, fd); got != want {
				t.Fatalf("MkdirAll(%q) fd leads to %s, want %s", p, got, want)
			}
			if fi, err := os.Lstat(want); err != nil || !fi.IsDir() {
				t.Fatalf("%s: %v, %v", want, fi, err)
			}
		})
	}
}
