package sealexe

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

const wantSeals = unix.F_SEAL_WRITE | unix.F_SEAL_GROW | unix.F_SEAL_SHRINK | unix.F_SEAL_SEAL

func selfExe(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func isMemfd(t *testing.T, f *os.File) bool {
	t.Helper()
	link, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	return strings.HasPrefix(link, "/memfd:")
}

// checkUnwritable tries every way of writing the file behind f.
func checkUnwritable(t *testing.T, f *os.File, memfd bool) {
	t.Helper()
	p := fmt.Sprintf("/proc/self/fd/%d", f.Fd())
	for _, flags := range []int{os.O_WRONLY, os.O_RDWR, os.O_WRONLY | os.O_APPEND, os.O_WRONLY | os.O_TRUNC} {
		w, err := os.OpenFile(p, flags, 0)
		if err != nil {
			// The bind mount is read-only (EROFS); while this binary
			// runs, the kernel may report ETXTBSY first.
			want := []error{unix.EROFS, unix.ETXTBSY}
			if memfd {
				want = []error{unix.EPERM, unix.ETXTBSY}
			}
			ok := false
			for _, e := range want {
				ok = ok || errors.Is(err, e)
			}
			if !ok {
				t.Errorf("open %s flags %#x: %v, want one of %v", p, flags, err, want)
			}
			continue
		}
		if !memfd {
			w.Close()
			t.Errorf("open %s flags %#x for writing succeeded on the bind mount", p, flags)
			continue
		}
		// A sealed memfd may be opened, but nothing can change it.
		if _, err := w.Write([]byte("x")); !errors.Is(err, unix.EPERM) {
			t.Errorf("write through %s flags %#x: %v, want EPERM", p, flags, err)
		}
		if err := w.Truncate(0); !errors.Is(err, unix.EPERM) {
			t.Errorf("truncate through %s: %v, want EPERM", p, err)
		}
		w.Close()
	}
}

func checkSeals(t *testing.T, f *os.File) {
	t.Helper()
	seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
	if err != nil {
		t.Fatalf("F_GET_SEALS: %v", err)
	}
	if seals&wantSeals != wantSeals {
		t.Errorf("seals %#x lack some of %#x", seals, wantSeals)
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_FUTURE_WRITE); !errors.Is(err, unix.EPERM) {
		t.Errorf("adding a seal after F_SEAL_SEAL: %v, want EPERM", err)
	}
}

func checkCloexec(t *testing.T, f *os.File) {
	t.Helper()
	fl, err := unix.FcntlInt(f.Fd(), unix.F_GETFD, 0)
	if err != nil || fl&unix.FD_CLOEXEC == 0 {
		t.Errorf("fd flags %#x, %v; want close-on-exec", fl, err)
	}
}

func checkContent(t *testing.T, f *os.File) {
	t.Helper()
	r, err := os.Open(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, selfExe(t)) {
		t.Errorf("content (%d bytes) differs from /proc/self/exe", len(got))
	}
}

func TestOpen(t *testing.T) {
	f, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Fd() == ^uintptr(0) || int(f.Fd()) < 0 {
		t.Fatalf("bad fd %d", f.Fd())
	}
	checkCloexec(t, f)
	memfd := isMemfd(t, f)
	t.Logf("memfd: %v", memfd)
	if os.Geteuid() == 0 && memfd {
		t.Log("running as root but got the memfd fallback (no open_tree/mount_setattr?)")
	}
	checkUnwritable(t, f, memfd)
	if memfd {
		checkSeals(t, f)
	} else {
		var st unix.Statfs_t
		if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
			t.Fatal(err)
		}
		if st.Flags&unix.ST_RDONLY == 0 || st.Flags&unix.ST_NOSUID == 0 || st.Flags&unix.ST_NODEV == 0 {
			t.Errorf("bind mount flags %#x lack ro,nosuid,nodev", st.Flags)
		}
	}
	checkContent(t, f)

	// Two calls give independent fds.
	g, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if g.Fd() == f.Fd() {
		t.Error("second Open returned the same fd")
	}
}

func TestMemfdCopy(t *testing.T) {
	f, err := memfdCopy()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !isMemfd(t, f) {
		t.Fatal("memfdCopy did not return a memfd")
	}
	checkCloexec(t, f)
	checkSeals(t, f)
	checkUnwritable(t, f, true)
	checkContent(t, f)
	// Writing through the returned file itself fails too.
	if _, err := f.WriteAt([]byte("x"), 0); !errors.Is(err, unix.EPERM) {
		t.Errorf("WriteAt on the memfd: %v, want EPERM", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode&0o111 == 0 {
		t.Errorf("memfd mode %#o is not executable", st.Mode)
	}
}
