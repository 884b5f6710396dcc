package state

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func rootEntries(t *testing.T, root string) []string {
	t.Helper()
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestClaim: the directory appears with create's record in it and locked;
// a second claim of the id is ErrExist and leaves nothing; Remove leaves
// nothing either.
func TestClaim(t *testing.T) {
	s := Store{Root: filepath.Join(t.TempDir(), "root")}
	unlock, err := s.Claim("c1", NewProgress("/bundle"))
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if !s.locked("c1") {
		t.Error("a claimed container is not locked")
	}
	st, err := s.Inspect("c1")
	if err != nil || !st.Creating || st.Bundle != "/bundle" {
		t.Errorf("Inspect of a claimed container = %+v, %v: want creating, with its bundle", st, err)
	}
	if _, err := s.Claim("c1", NewProgress("/other")); !errors.Is(err, ErrExist) {
		t.Errorf("second Claim = %v, want ErrExist", err)
	}
	if got := rootEntries(t, s.Root); !slices.Equal(got, []string{"c1"}) {
		t.Errorf("root after a refused claim: %v, want [c1]", got)
	}
	unlock()
	if s.locked("c1") {
		t.Error("still locked after unlock")
	}
	if err := s.Remove("c1"); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if got := rootEntries(t, s.Root); len(got) != 0 {
		t.Errorf("root after Remove: %v, want nothing", got)
	}
	if err := s.Remove("c1"); err != nil {
		t.Errorf("Remove of a removed container: %v", err)
	}
}

// TestProgressLog: create.json is a log of records, of which the last
// complete line is in force: a torn append (a create killed during its
// write, or a reader racing it) leaves the record before it; a file of an
// older Carapace, one record without a newline, is read whole.
func TestProgressLog(t *testing.T) {
	s := Store{Root: t.TempDir()}
	unlock, err := s.Claim("c1", &Progress{Bundle: "/b1"})
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	path := filepath.Join(s.Dir("c1"), progressFile)
	bundle := func() string {
		t.Helper()
		p, err := s.LoadProgress("c1")
		if err != nil {
			t.Fatalf("LoadProgress: %v", err)
		}
		return p.Bundle
	}
	if got := bundle(); got != "/b1" {
		t.Fatalf("after Claim: bundle %q", got)
	}
	for i, b := range []string{"/b2", "/b3"} {
		if err := s.SaveProgress("c1", &Progress{Bundle: b, Pid: i + 1}); err != nil {
			t.Fatal(err)
		}
		if got := bundle(); got != b {
			t.Fatalf("after SaveProgress(%s): bundle %q", b, got)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(data, []byte("\n")); n != 3 {
		t.Fatalf("create.json has %d lines, want 3:\n%s", n, data)
	}
	// A torn append: the record before it is in force.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"bundle":"/torn","pi`)
	f.Close()
	if got := bundle(); got != "/b3" {
		t.Fatalf("after a torn append: bundle %q, want /b3", got)
	}
	// An older Carapace's record: one JSON object, no newline.
	if err := os.WriteFile(path, []byte(`{"bundle":"/old","pid":7}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := bundle(); got != "/old" {
		t.Fatalf("older record: bundle %q, want /old", got)
	}
}

// TestSweep: the temporary directories of dead runtimes go, those of live
// ones and everything else stay. Only the root's temporary directory is
// read: not the root, whose size is the number of containers.
func TestSweep(t *testing.T) {
	s := Store{Root: t.TempDir()}
	start, _, err := ProcStartTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	live := tempPrefix(claimTemp) + "x"
	tmp := func(name string) string { return filepath.Join(tempDir, name) }
	dirs := map[string]bool{ // path under the root -> kept
		tmp(live):                           true,
		tmp(".creating-999999999-1-x"):      false,
		tmp(".deleting-999999999-1-x"):      false,
		tmp(".creating-1-12345678901234-x"): false, // pid 1, but not started then
		tmp(".other-999999999-1-x"):         true,
		tmp(".deleting-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatUint(start, 10) + "-y"): true,
		"c1": true,
		// Not read: in the root itself.
		".creating-999999999-1-x": true,
	}
	for d := range dirs {
		if err := os.MkdirAll(filepath.Join(s.Root, d, "sub"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	s.Sweep()
	for d, kept := range dirs {
		_, err := os.Stat(filepath.Join(s.Root, d))
		if kept != (err == nil) {
			t.Errorf("%s: kept %v, want %v", d, err == nil, kept)
		}
	}
	// Once the live ones are gone, so is the temporary directory.
	for d := range dirs {
		if filepath.Dir(d) == tempDir {
			os.RemoveAll(filepath.Join(s.Root, d))
		}
	}
	s.Sweep()
	if got, want := rootEntries(t, s.Root), []string{".creating-999999999-1-x", "c1"}; !slices.Equal(got, want) {
		t.Errorf("root after the last sweep: %q, want %q", got, want)
	}
}

// TestLockReplaced: a lock waited for on a directory that is removed
// meanwhile is "does not exist"; on one replaced by a new container of
// the id, it is the new one's.
func TestLockReplaced(t *testing.T) {
	s := Store{Root: t.TempDir()}
	if err := s.Reserve("c1"); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(s.Dir("c1"), unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	var old unix.Stat_t
	if err := unix.Fstat(fd, &old); err != nil {
		t.Fatal(err)
	}
	opened := make(chan struct{}, 1)
	lockOpened = func() {
		select {
		case opened <- struct{}{}:
		default:
		}
	}
	defer func() { lockOpened = func() {} }()
	got := make(chan error, 1)
	go func() {
		unlock, err := s.Lock("c1")
		if err == nil {
			// Locked: the directory the id names now, not the old one.
			var now unix.Stat_t
			if unix.Stat(s.Dir("c1"), &now) != nil || now.Ino == old.Ino || !s.locked("c1") {
				err = errors.New("not the new directory locked")
			}
			unlock()
		}
		got <- err
	}()
	// Replaced while the lock is waited for: removed, and made again.
	<-opened
	if err := s.Remove("c1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Reserve("c1"); err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	if err := <-got; err != nil {
		t.Errorf("Lock of a replaced directory: %v", err)
	}

	// Removed, and not made again.
	lockOpened = func() {}
	unlock, err := s.Lock("c1")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Remove("c1"); err != nil {
		t.Fatal(err)
	}
	unlock()
	if _, err := s.Lock("c1"); !errors.Is(err, ErrNotExist) {
		t.Errorf("Lock of a removed container = %v, want ErrNotExist", err)
	}
}

// TestLockWaitBounded: a lock held (here by another open file description
// of this process) is waited for LockWait, then a *LockedError names the
// holder from /proc/locks; once released, Lock takes it.
func TestLockWaitBounded(t *testing.T) {
	s := Store{Root: filepath.Join(t.TempDir(), "root")}
	unlock, err := s.Claim("c1", NewProgress("/bundle"))
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	old := LockWait
	LockWait = 300 * time.Millisecond
	defer func() { LockWait = old }()
	for _, lock := range []func(string) (func(), error){s.Lock, s.LockShared} {
		_, err = lock("c1")
		var le *LockedError
		if !errors.As(err, &le) {
			t.Fatalf("Lock of a held lock = %v, want a *LockedError", err)
		}
		if le.Holder.Pid != os.Getpid() || le.Holder.Stopped || le.Waited < LockWait {
			t.Errorf("LockedError = %+v, want this process (%d), not stopped, after %v", le, os.Getpid(), LockWait)
		}
		want := `container "c1" is locked by ` + le.Holder.What + " (pid " + strconv.Itoa(os.Getpid()) + "), which has not finished in 0s"
		if err.Error() != want {
			t.Errorf("error %q, want %q", err, want)
		}
	}
	unlock()
	relock, err := s.Lock("c1")
	if err != nil {
		t.Fatalf("Lock once released: %v", err)
	}
	relock()
}

func TestDescribeVerb(t *testing.T) {
	h := describe(os.Getpid())
	if h.Pid != os.Getpid() || h.Stopped || h.What == "" || h.What == "process" {
		t.Errorf("describe(self) = %+v: want this process's command name, not stopped", h)
	}
}
