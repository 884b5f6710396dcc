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

// TestCheckPlacement: on v2 a container cgroup below a cgroup with
// processes of its own (a systemd service's, for a relative cgroupsPath)
// is refused, naming that cgroup and what to do; the root's processes, a
// parent without any, a parent not made yet, v1, rootless and the systemd
// driver are not concerned. (This host is not pure v2: a fake tree.)
func TestCheckPlacement(t *testing.T) {
	root := t.TempDir()
	svc := root + "/system.slice/x.service"
	for d, procs := range map[string]string{root: "1\n", root + "/system.slice": "", svc: "1234\n1240\n"} {
		os.MkdirAll(d, 0o755)
		os.WriteFile(d+"/cgroup.procs", []byte(procs), 0o644)
	}
	for _, tc := range []struct {
		name string
		m    Manager
		want string
	}{
		{"under a service", Manager{Mode: ModeV2, Dirs: map[string]string{"": svc + "/c1"}},
			"the container's cgroup " + svc + "/c1 would be under " + svc + ", which has 2 process(es) of its own"},
		{"deeper under a service", Manager{Mode: ModeV2, Dirs: map[string]string{"": svc + "/a/b/c1"}}, "would be under " + svc + ","},
		{"under the root", Manager{Mode: ModeV2, Dirs: map[string]string{"": root + "/c1"}}, ""},
		{"under an empty slice", Manager{Mode: ModeV2, Dirs: map[string]string{"": root + "/system.slice/c1"}}, ""},
		{"v1", Manager{Mode: ModeV1, Dirs: map[string]string{"pids": svc + "/c1"}}, ""},
		{"rootless", Manager{Mode: ModeV2, Rootless: true, Dirs: map[string]string{"": svc + "/c1"}}, ""},
		{"systemd driver", Manager{Mode: ModeV2, Unit: "c1.scope", Dirs: map[string]string{"": svc + "/c1.scope"}}, ""},
	} {
		tc.m.mounts = map[string]string{"": root}
		err := tc.m.CheckPlacement()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: unexpected %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		case err != nil && (!strings.Contains(err.Error(), "--systemd-cgroup") || !strings.Contains(err.Error(), "absolute linux.cgroupsPath")):
			t.Errorf("%s: %v does not say what to do", tc.name, err)
		}
	}
}
