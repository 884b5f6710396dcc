package cgroups

import (
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"strings"
	"testing"
)

// TestSampleCheck: how a write is judged against the files a new cgroup
// would have.
func TestSampleCheck(t *testing.T) {
	v1 := sample{files: []string{"blkio.throttle.read_bps_device", "cgroup.procs"}}
	v2 := sample{v2: true, files: []string{"cgroup.procs", "memory.max"}, offered: []string{"memory", "io", "pids"}, enabled: []string{"memory", "io"}}
	for _, tc := range []struct {
		name string
		s    sample
		x    Write
		want string // "" for no error
	}{
		{"v1 present", v1, Write{File: "blkio.throttle.read_bps_device", Field: "f"}, ""},
		{"v1 missing", v1, Write{File: "blkio.weight", Field: "linux.resources.blockIO.weight"}, "linux.resources.blockIO.weight: blkio.weight does not exist in /d"},
		{"v1 alt", v1, Write{File: "blkio.bfq.weight", Alt: []string{"blkio.throttle.read_bps_device"}, Field: "f"}, ""},
		{"v1 optional", v1, Write{File: "blkio.weight", Optional: true, Field: "f"}, ""},
		{"v1 missing says why", v1, Write{File: "memory.memsw.limit_in_bytes", Missing: "no swap accounting", Field: "f"}, "f: memory.memsw.limit_in_bytes does not exist in /d: no swap accounting"},
		{"v2 present", v2, Write{File: "memory.max", Field: "f"}, ""},
		{"v2 enabled, file missing", v2, Write{File: "io.weight", Field: "linux.resources.blockIO.weight"}, "linux.resources.blockIO.weight: io.weight does not exist"},
		{"v2 offered, not enabled", v2, Write{File: "pids.max", Field: "f"}, ""},
		{"v2 offered, parent busy", sample{v2: true, offered: []string{"io"}, busy: true}, Write{File: "io.bfq.weight", Field: "f"}, "f: io.bfq.weight does not exist"},
		{"v2 not offered", v2, Write{File: "hugetlb.2MB.max", Field: "g"}, "g: hugetlb.2MB.max does not exist"},
		{"unseen", sample{err: errNoAncestor}, Write{File: "pids.max", Field: "f"}, "f: cannot tell whether this host has pids.max"},
	} {
		err := tc.s.check("/d", tc.x)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: unexpected %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want %q...", tc.name, err, tc.want)
		}
	}
}

// TestProbeFakeTree: Probe looks at a throwaway child of the nearest
// directory that exists, and removes it.
func TestProbeFakeTree(t *testing.T) {
	root := fakeTree(t, map[string]string{"pids.max": "max"})
	m := &Manager{Mode: ModeV1, Dirs: map[string]string{"pids": root + "/a/b"}}
	// A plain directory's new child is empty: pids.max is missing there,
	// which is what a cgroupfs without the controller looks like.
	errs := m.Probe(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptrI64(5)}})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "linux.resources.pids.limit: pids.max does not exist in "+root+"/a/b") {
		t.Errorf("got %v", errs)
	}
	if ents, _ := os.ReadDir(root); len(ents) != 1 {
		t.Errorf("the throwaway directory is left: %v", ents)
	}
	// The container's cgroup exists: its own files decide.
	os.MkdirAll(root+"/a/b", 0o755)
	os.WriteFile(root+"/a/b/pids.max", nil, 0o644)
	if errs := m.Probe(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptrI64(5)}}); len(errs) != 0 {
		t.Errorf("existing cgroup with the file: %v", errs)
	}
	// No such controller: Set's error.
	if errs := m.Probe(&specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: ptrU32(1)}}); len(errs) != 1 || !strings.Contains(errs[0].Error(), "no net_cls cgroup controller") {
		t.Errorf("no net_cls: %v", errs)
	}
}

func ptrI64(v int64) *int64   { return &v }
func ptrU32(v uint32) *uint32 { return &v }
