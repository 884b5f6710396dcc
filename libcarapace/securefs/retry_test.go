package securefs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// failFirst makes the first n openat2 calls fail with errno, then lets
// the real call through, and counts the calls. Not for parallel tests.
func failFirst(t *testing.T, n int, errno error) *atomic.Int64 {
	t.Helper()
	var calls atomic.Int64
	real := openat2
	openat2 = func(dirfd int, p string, how *unix.OpenHow) (int, error) {
		if calls.Add(1) <= int64(n) {
			return -1, errno
		}
		return real(dirfd, p, how)
	}
	t.Cleanup(func() { openat2 = real })
	return &calls
}

// TestOpenRetries: EAGAIN (a rename or mount raced a ".." step) and EXDEV
// (the result was seen outside the root) are retried, up to maxRetries
// attempts; then the lookup fails naming the path and the reason.
// RESOLVE_NO_XDEV's EXDEV (a mount crossed) and other errors are answers
// and are not retried.
func TestOpenRetries(t *testing.T) {
	tests := []struct {
		name   string
		errno  error
		fails  int
		extra  uint64
		calls  int64
		ok     bool
		reason string // in the error message
	}{
		{name: "EAGAIN once", errno: unix.EAGAIN, fails: 1, calls: 2, ok: true},
		{name: "EAGAIN up to the bound", errno: unix.EAGAIN, fails: maxRetries - 1, calls: maxRetries, ok: true},
		{name: "EAGAIN forever", errno: unix.EAGAIN, fails: 1 << 30, calls: maxRetries, reason: "a rename or mount raced every lookup"},
		{name: "EXDEV once", errno: unix.EXDEV, fails: 1, calls: 2, ok: true},
		{name: "EXDEV forever", errno: unix.EXDEV, fails: 1 << 30, calls: maxRetries, reason: "moved out of the root"},
		{name: "EINTR once", errno: unix.EINTR, fails: 1, calls: 2, ok: true},
		{name: "EINTR forever", errno: unix.EINTR, fails: 1 << 30, calls: maxRetries, reason: "interrupted"},
		{name: "EXDEV with RESOLVE_NO_XDEV", errno: unix.EXDEV, fails: 1 << 30, extra: unix.RESOLVE_NO_XDEV, calls: 1},
		{name: "ENOENT", errno: unix.ENOENT, fails: 1 << 30, calls: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, dir := newRoot(t)
			calls := failFirst(t, tc.fails, tc.errno)
			fd, err := r.Open("/etc/passwd", unix.O_PATH, tc.extra)
			if got := calls.Load(); got != tc.calls {
				t.Errorf("%d openat2 calls, want %d", got, tc.calls)
			}
			if tc.ok {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				defer unix.Close(fd)
				if got := fdPath(t, fd); got != filepath.Join(dir, "etc/passwd") {
					t.Errorf("fd leads to %s", got)
				}
				return
			}
			if err == nil {
				unix.Close(fd)
				t.Fatal("Open succeeded")
			}
			var pe *PathError
			if !errors.As(err, &pe) || pe.Path != "/etc/passwd" || !errors.Is(err, tc.errno) {
				t.Fatalf("Open = %v, want a PathError for /etc/passwd wrapping %v", err, tc.errno)
			}
			var re *RetryError
			if isRetry := errors.As(err, &re); isRetry != (tc.reason != "") {
				t.Fatalf("Open = %v: RetryError %v, want %v", err, isRetry, tc.reason != "")
			}
			if tc.reason != "" {
				msg := err.Error()
				for _, want := range []string{"/etc/passwd", tc.reason, fmt.Sprintf("gave up after %d attempts", maxRetries)} {
					if !strings.Contains(msg, want) {
						t.Errorf("message %q lacks %q", msg, want)
					}
				}
			}
		})
	}
}

// The bound holds for the lookups MkdirAll and CreateFile make too: they
// fail, they do not spin.
func TestRetryBoundInCreate(t *testing.T) {
	r, _ := newRoot(t)
	calls := failFirst(t, 1<<30, unix.EAGAIN)
	if fd, err := r.CreateFile("/new/file", 0o644); !errors.Is(err, unix.EAGAIN) {
		if err == nil {
			unix.Close(fd)
		}
		t.Fatalf("CreateFile = %v, want EAGAIN after the bound", err)
	}
	if fd, err := r.MkdirAll("/new/dir", 0o755); !errors.Is(err, unix.EAGAIN) {
		if err == nil {
			unix.Close(fd)
		}
		t.Fatalf("MkdirAll = %v, want EAGAIN after the bound", err)
	}
	if got := calls.Load(); got != 2*maxRetries {
		t.Errorf("%d openat2 calls, want %d (one bounded lookup each)", got, 2*maxRetries)
	}
}

// TestOpenRacingRenames runs lookups through a ".." (the kernel's check
// that yields EAGAIN) while another goroutine renames in a loop: the
// kernel's real EAGAINs are retried, and every lookup either lands on the
// right file or, at worst, fails with the bounded RetryError, never with
// a bare EAGAIN.
func TestOpenRacingRenames(t *testing.T) {
	r, dir := newRoot(t)
	var eagain atomic.Int64
	real := openat2
	openat2 = func(dirfd int, p string, how *unix.OpenHow) (int, error) {
		fd, err := real(dirfd, p, how)
		if err == unix.EAGAIN {
			eagain.Add(1)
		}
		return fd, err
	}
	t.Cleanup(func() { openat2 = real })

	a, b := filepath.Join(dir, "ra"), filepath.Join(dir, "rb")
	if err := os.Mkdir(a, 0o755); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = unix.Rename(a, b)
			_ = unix.Rename(b, a)
		}
	}()
	want := filepath.Join(dir, "etc/passwd")
	var gaveUp int
	for i := 0; i < 20000; i++ {
		fd, err := r.Open("/sub/deep/passwd", unix.O_PATH, 0) // sub/deep -> ../../../../etc
		if err != nil {
			var re *RetryError
			if !errors.As(err, &re) {
				close(stop)
				wg.Wait()
				t.Fatalf("lookup %d: %v", i, err)
			}
			gaveUp++
			continue
		}
		if got := fdPath(t, fd); got != want {
			t.Errorf("lookup %d led to %s", i, got)
		}
		unix.Close(fd)
	}
	close(stop)
	wg.Wait()
	t.Logf("kernel EAGAINs retried: %d; lookups given up: %d of 20000", eagain.Load(), gaveUp)
	if gaveUp > 0 {
		t.Errorf("%d lookups gave up after %d attempts against one renaming goroutine", gaveUp, maxRetries)
	}
}
