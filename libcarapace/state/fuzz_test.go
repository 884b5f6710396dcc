package state

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/carapace-oci/carapace/libcarapace/cgroups"
)

// FuzzStateRead: whatever state.json, create.json and the older
// cgroup.json hold (a crash mid write, another runtime's file, a hand
// edit), Load, LoadProgress and Inspect return
// the state or an error naming the container, and what loads gives a
// status and an OCI state without a panic.
func FuzzStateRead(f *testing.F) {
	st := State{OCIVersion: specs.Version, ID: "c1", Pid: 1, StartTime: 1, Bundle: "/b", Rootfs: "/b/rootfs",
		Created: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Annotations: map[string]string{"a": "b"},
		Hooks:      &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true", Args: []string{"true"}}}},
		Cgroup:     &cgroups.Manager{Mode: cgroups.ModeHybrid, Dirs: map[string]string{"": "/sys/fs/cgroup/unified/c1", "memory": "/sys/fs/cgroup/memory/c1"}, Created: []string{"/sys/fs/cgroup/memory/c1"}},
		Process:    &specs.Process{Args: []string{"sh"}, Cwd: "/", Env: []string{"PATH=/bin"}},
		Namespaces: []specs.LinuxNamespaceType{specs.PIDNamespace, specs.MountNamespace},
		Resources:  &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(10))}},
		Seccomp:    &specs.LinuxSeccomp{DefaultAction: specs.ActAllow},
	}
	full, _ := json.Marshal(st)
	f.Add(full)
	cg, _ := json.Marshal(st.Cgroup)
	f.Add(cg)
	for _, s := range []string{``, `{}`, `null`, `{"pid":-1}`, `{"pid":1,"startTime":0,"cgroup":{"mode":2,"dirs":{"freezer":"/nonexistent"}}}`,
		`{"created":"yesterday"}`, `{"id":"../x"}`, `[`, `{"cgroup":{"dirs":null,"skipped":{"cpu":""}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := Store{Root: t.TempDir()}
		if err := s.Reserve("c1"); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{stateFile, cgroupFile, progressFile} {
			if err := os.WriteFile(filepath.Join(s.Dir("c1"), name), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if p, err := s.LoadProgress("c1"); err == nil && p == nil {
			t.Errorf("LoadProgress: no record and no error with a file there")
		}
		if st, err := s.Inspect("c1"); err == nil {
			s.Status(st)
		}
		got, err := s.Load("c1")
		if err != nil {
			return
		}
		s.OCI(got)
		if _, err := json.Marshal(got); err != nil {
			t.Errorf("a loaded state does not encode again: %v", err)
		}
	})
}

func ptr[T any](v T) *T { return &v }
