package state

import (
	"errors"
	"github.com/carapace-oci/carapace/libcarapace/cgroups"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckID(t *testing.T) {
	tests := []struct {
		id      string
		wantErr string // "" means valid
	}{
		{"a", ""},
		{"abc", ""},
		{"0", ""},
		{"my-container_1.2+3", ""},
		{"A.B", ""},
		{"x..y", ""},
		{"9-", ""},
		{strings.Repeat("a", 1024), ""},
		{"", "container id is empty"},
		{".", "invalid"},
		{"..", "invalid"},
		{"a/b", "invalid"},
		{"/abs", "invalid"},
		{"a/../b", "invalid"},
		{"-x", "invalid"},
		{"_x", "invalid"},
		{".hidden", "invalid"},
		{"+x", "invalid"},
		{"a b", "invalid"},
		{"a:b", "invalid"},
		{"a\x00b", "invalid"},
		{"a\nb", "invalid"},
		{"é", "invalid"},
		{strings.Repeat("a", 1025), "invalid"},
	}
	for _, tc := range tests {
		name := tc.id
		if len(name) > 20 {
			name = name[:20] + "..."
		}
		t.Run(name, func(t *testing.T) {
			err := CheckID(tc.id)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckID(%q) = %v", tc.id, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("CheckID(%q) = %v, want error %q", tc.id, err, tc.wantErr)
			}
		})
	}
}

func TestStoreRoundTrip(t *testing.T) {
	s := Store{Root: filepath.Join(t.TempDir(), "nested", "root")}

	if ids, err := s.List(); err != nil || ids != nil {
		t.Fatalf("List of a missing root = %v, %v", ids, err)
	}
	if err := s.Reserve("c1"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(s.Dir("c1")); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("Reserve: dir %v, %v", fi, err)
	}
	if err := s.Reserve("c1"); !errors.Is(err, ErrExist) {
		t.Fatalf("second Reserve = %v, want ErrExist", err)
	}
	if err := s.Reserve("../escape"); err == nil || errors.Is(err, ErrExist) {
		t.Fatalf("Reserve(../escape) = %v", err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(s.Root), "escape")); err == nil {
		t.Fatal("Reserve(../escape) created a directory outside the root")
	}

	// Reserved but not saved: listed (Inspect answers for it), not loadable.
	if ids, err := s.List(); err != nil || !reflect.DeepEqual(ids, []string{"c1"}) {
		t.Fatalf("List before Save = %v, %v", ids, err)
	}
	if _, err := s.Load("c1"); !errors.Is(err, ErrNotExist) {
		t.Fatalf("Load before Save = %v, want ErrNotExist", err)
	}

	st := &State{
		OCIVersion:  specs.Version,
		ID:          "c1",
		Pid:         1234,
		StartTime:   5678,
		Bundle:      "/b",
		Rootfs:      "/b/rootfs",
		Created:     time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC),
		Annotations: map[string]string{"a": "b"},
		Hooks:       &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true", Args: []string{"true"}}}},
		Cgroup:      &cgroups.Manager{Mode: cgroups.ModeV1, Dirs: map[string]string{"memory": "/sys/fs/cgroup/memory/c1"}, Created: []string{"/sys/fs/cgroup/memory/c1"}},
		SharedPidNS: true,
		Owner:       "root",
	}
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load("c1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, st) {
		t.Fatalf("Load =\n %+v\nwant\n %+v", got, st)
	}
	st.Pid = 99
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Load("c1"); got.Pid != 99 {
		t.Fatalf("Save did not replace state: pid %d", got.Pid)
	}
	ents, _ := os.ReadDir(s.Dir("c1"))
	if len(ents) != 1 || ents[0].Name() != stateFile {
		t.Fatalf("state dir holds %v, want only %s", ents, stateFile)
	}

	// Another container, a stray file and a stray dir in the root.
	if err := s.Reserve("c2"); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(&State{ID: "c2"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Root, "stray"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Reserve("c3"); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(s.Root, ".not-an-id"), 0o700); err != nil {
		t.Fatal(err)
	}
	ids, err := s.List()
	slices.Sort(ids)
	if err != nil || !reflect.DeepEqual(ids, []string{"c1", "c2", "c3"}) {
		t.Fatalf("List = %v, %v; want [c1 c2 c3]", ids, err)
	}

	// Corrupt state.
	if err := os.WriteFile(filepath.Join(s.Dir("c2"), stateFile), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load("c2"); err == nil || !strings.Contains(err.Error(), "corrupt state") {
		t.Fatalf("Load(corrupt) = %v", err)
	}
	if _, err := s.Load("missing"); !errors.Is(err, ErrNotExist) {
		t.Fatalf("Load(missing) = %v, want ErrNotExist", err)
	}
	if _, err := s.Load(".."); err == nil || errors.Is(err, ErrNotExist) {
		t.Fatalf("Load(..) = %v, want an id error", err)
	}

	// Fifo.
	if err := s.MakeFifo("c1"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(s.FifoPath("c1")); err != nil || fi.Mode().Type() != os.ModeNamedPipe {
		t.Fatalf("fifo: %v, %v", fi, err)
	}
	if err := s.MakeFifo("c1"); err == nil {
		t.Fatal("second MakeFifo: no error")
	}

	// Remove.
	if err := s.Remove("c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Dir("c1")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after Remove: %v", err)
	}
	if _, err := s.Load("c1"); !errors.Is(err, ErrNotExist) {
		t.Fatalf("Load after Remove = %v", err)
	}
	if err := s.Remove("c1"); err != nil {
		t.Fatalf("Remove twice: %v", err)
	}
	if err := s.Reserve("c1"); err != nil {
		t.Fatalf("Reserve after Remove: %v", err)
	}
}

func TestLock(t *testing.T) {
	s := Store{Root: t.TempDir()}
	if _, err := s.Lock("c1"); !errors.Is(err, ErrNotExist) {
		t.Fatalf("Lock(missing) = %v, want ErrNotExist", err)
	}
	if err := s.Reserve("c1"); err != nil {
		t.Fatal(err)
	}
	unlock, err := s.Lock("c1")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan func(), 1)
	go func() {
		u, err := s.Lock("c1")
		if err != nil {
			t.Error(err)
			u = func() {}
		}
		got <- u
	}()
	select {
	case <-got:
		t.Fatal("second Lock did not wait for the first")
	case <-time.After(50 * time.Millisecond):
	}
	unlock()
	select {
	case u := <-got:
		u()
	case <-time.After(5 * time.Second):
		t.Fatal("second Lock still waiting after unlock")
	}
	// Another container's lock is independent.
	if err := s.Reserve("c2"); err != nil {
		t.Fatal(err)
	}
	u1, err := s.Lock("c1")
	if err != nil {
		t.Fatal(err)
	}
	defer u1()
	done := make(chan struct{})
	go func() {
		if u, err := s.Lock("c2"); err == nil {
			u()
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Lock(c2) blocked by c1's lock")
	}
}

func TestProcStartTime(t *testing.T) {
	st, state, err := ProcStartTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st == 0 || !strings.ContainsRune("RS", rune(state)) {
		t.Fatalf("ProcStartTime(self) = %d, %q", st, state)
	}
	if st2, _, _ := ProcStartTime(os.Getpid()); st2 != st {
		t.Fatalf("start time changed: %d then %d", st, st2)
	}
	if !Alive(os.Getpid(), st) || !Alive(os.Getpid(), 0) {
		t.Fatal("Alive(self) = false")
	}
	if Alive(os.Getpid(), st+1) {
		t.Fatal("Alive(self, other start time) = true")
	}
	if _, _, err := ProcStartTime(1 << 30); err == nil {
		t.Fatal("ProcStartTime of a missing pid: no error")
	}
	for _, pid := range []int{0, -1} {
		if Alive(pid, 0) {
			t.Errorf("Alive(%d) = true", pid)
		}
	}
}

func TestStatus(t *testing.T) {
	s := Store{Root: t.TempDir()}
	if err := s.Reserve("c1"); err != nil {
		t.Fatal(err)
	}
	self := os.Getpid()
	selfStart, _, err := ProcStartTime(self)
	if err != nil {
		t.Fatal(err)
	}

	// A started and reaped child: its pid is gone (or reused later, with
	// another start time).
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	reaped := cmd.Process.Pid

	// A zombie: exited, not yet waited for.
	zcmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := zcmd.Start(); err != nil {
		t.Fatal(err)
	}
	zombie := zcmd.Process.Pid
	zStart := uint64(0)
	for deadline := time.Now().Add(5 * time.Second); ; {
		st, state, err := ProcStartTime(zombie)
		if err != nil {
			t.Fatal(err)
		}
		if state == 'Z' {
			zStart = st
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("child did not become a zombie")
		}
		time.Sleep(5 * time.Millisecond)
	}
	defer zcmd.Wait()

	tests := []struct {
		name  string
		pid   int
		start uint64
		fifo  bool
		want  string
	}{
		{"reaped child, fake start time", reaped, 12345, false, Stopped},
		{"reaped child, no start time", reaped, 0, false, Stopped},
		{"reaped child with fifo", reaped, 12345, true, Stopped},
		{"zombie", zombie, zStart, false, Stopped},
		{"no pid", 0, 0, false, Stopped},
		{"live, pid reused", self, selfStart + 1, false, Stopped},
		{"live", self, selfStart, false, Running},
		{"live, no start time", self, 0, false, Running},
		{"live with fifo", self, selfStart, true, Created},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(s.FifoPath("c1"))
			if tc.fifo {
				if err := s.MakeFifo("c1"); err != nil {
					t.Fatal(err)
				}
			}
			st := &State{OCIVersion: "1.0.2", ID: "c1", Pid: tc.pid, StartTime: tc.start, Bundle: "/b", Annotations: map[string]string{"k": "v"}}
			if got := s.Status(st); got != tc.want {
				t.Fatalf("Status = %q, want %q", got, tc.want)
			}
			oci := s.OCI(st)
			wantPid := tc.pid
			if tc.want == Stopped {
				wantPid = 0
			}
			want := specs.State{Version: "1.0.2", ID: "c1", Status: specs.ContainerState(tc.want), Pid: wantPid, Bundle: "/b", Annotations: map[string]string{"k": "v"}}
			if !reflect.DeepEqual(oci, want) {
				t.Fatalf("OCI = %+v, want %+v", oci, want)
			}
		})
	}
}

// TestInspectUnsaved: a container directory without state.json is what a
// create left, at work or dead: Inspect answers from create's record
// (creating while the lock is held, stopped with no pid once not), never
// with an error for a record not written yet, and Save replaces the
// record.
func TestInspectUnsaved(t *testing.T) {
	s := Store{Root: t.TempDir()}
	if _, err := s.Inspect("none"); !errors.Is(err, ErrNotExist) {
		t.Fatalf("Inspect of a missing container = %v, want ErrNotExist", err)
	}
	if err := s.Reserve("c1"); err != nil {
		t.Fatal(err)
	}
	// Reserved, nothing recorded yet: stopped, no bundle.
	st, err := s.Inspect("c1")
	if err != nil || st.Creating || st.Partial == nil || s.Status(st) != Stopped || st.Pid != 0 {
		t.Fatalf("Inspect of a bare directory = %+v, %v", st, err)
	}
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	p := &Progress{Bundle: "/b", Created: created, Pid: os.Getpid(),
		Cgroup: &cgroups.Manager{Mode: cgroups.ModeV1, Dirs: map[string]string{"pids": "/sys/fs/cgroup/pids/c1"}, Created: []string{"/sys/fs/cgroup/pids/c1"}}}
	if err := s.SaveProgress("c1", p); err != nil {
		t.Fatal(err)
	}
	if got, err := s.LoadProgress("c1"); err != nil || !reflect.DeepEqual(got, p) {
		t.Fatalf("LoadProgress = %+v, %v; want %+v", got, err, p)
	}
	// Its create is dead (nobody holds the lock): stopped, pid 0.
	st, err = s.Inspect("c1")
	if err != nil || st.Creating || s.Status(st) != Stopped || st.Pid != 0 || st.Bundle != "/b" ||
		!st.Created.Equal(created) || !reflect.DeepEqual(st.Cgroup, p.Cgroup) || st.Partial.Pid != p.Pid {
		t.Fatalf("Inspect after a dead create = %+v, %v", st, err)
	}
	if oci := s.OCI(st); oci.Status != Stopped || oci.Pid != 0 {
		t.Fatalf("OCI of a dead create = %+v", oci)
	}
	// A create at work: creating, with init's pid.
	p.Creator, p.CreatorStart = os.Getpid(), 0
	if err := s.SaveProgress("c1", p); err != nil {
		t.Fatal(err)
	}
	st, err = s.Inspect("c1")
	if err != nil || !st.Creating || s.Status(st) != Creating || st.Pid != os.Getpid() {
		t.Fatalf("Inspect while its create lives = %+v, %v", st, err)
	}
	// Before create recorded itself, its lock tells.
	p.Creator = 0
	if err := s.SaveProgress("c1", p); err != nil {
		t.Fatal(err)
	}
	unlock, err := s.Lock("c1")
	if err != nil {
		t.Fatal(err)
	}
	st, err = s.Inspect("c1")
	if err != nil || !st.Creating || s.Status(st) != Creating || st.Pid != os.Getpid() {
		t.Fatalf("Inspect while create holds the lock = %+v, %v", st, err)
	}
	// A torn record is not an error while create is at work.
	if err := os.WriteFile(filepath.Join(s.Dir("c1"), progressFile), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, err = s.Inspect("c1"); err != nil || !st.Creating {
		t.Fatalf("Inspect of a corrupt record while creating = %+v, %v", st, err)
	}
	unlock()
	if _, err = s.Inspect("c1"); err == nil || !strings.Contains(err.Error(), "corrupt create.json") {
		t.Fatalf("Inspect of a corrupt record of a dead create = %v", err)
	}
	// The record of an older create: the cgroup alone.
	os.Remove(filepath.Join(s.Dir("c1"), progressFile))
	if err := os.WriteFile(filepath.Join(s.Dir("c1"), cgroupFile), []byte(`{"mode":1,"dirs":{"pids":"/x"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := s.LoadProgress("c1"); err != nil || got == nil || got.Cgroup == nil || got.Cgroup.Dirs["pids"] != "/x" {
		t.Fatalf("LoadProgress of a cgroup.json = %+v, %v", got, err)
	}
	// Saved: the state, and nothing else.
	if err := s.Save(&State{ID: "c1", Bundle: "/b"}); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(s.Dir("c1"))
	if len(ents) != 1 || ents[0].Name() != stateFile {
		t.Fatalf("state dir after Save holds %v, want only %s", ents, stateFile)
	}
	if st, err = s.Inspect("c1"); err != nil || st.Partial != nil || st.Bundle != "/b" {
		t.Fatalf("Inspect after Save = %+v, %v", st, err)
	}
}
