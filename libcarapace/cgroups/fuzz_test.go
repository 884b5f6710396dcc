package cgroups

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/carapace-oci/carapace/libcarapace/mountinfo"
)

// Fuzz targets for what the package reads from the kernel: controller
// files (through Stats), devices.list, /proc/<pid>/cgroup and the cgroup
// mounts of mountinfo. A kernel newer than the code, or a file cut short,
// must give zeros or an error, never a panic. Seeds are real files of
// this host (testdata) and the shapes the tests use.

func addFiles(f *testing.F, names ...string) {
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// statsFiles are the files Stats reads, v1 and v2: the fuzzed text goes in
// each of them.
var statsFiles = []string{
	"cpuacct.usage", "cpuacct.usage_percpu", "cpuacct.usage_all", "cpuacct.stat", "cpu.stat",
	"memory.limit_in_bytes", "memory.usage_in_bytes", "memory.max_usage_in_bytes", "memory.failcnt", "memory.stat",
	"memory.memsw.usage_in_bytes", "cpuset.cpus", "cpuset.mems", "cpuset.sched_relax_domain_level", "cpuset.cpu_exclusive",
	"pids.current", "pids.max", "blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_serviced_recursive",
	"hugetlb.2MB.usage_in_bytes", "hugetlb.2MB.max_usage_in_bytes", "hugetlb.2MB.failcnt", "hugetlb.2MB.max", "hugetlb.2MB.current",
	"hugetlb.2MB.events", "memory.current", "memory.max", "memory.peak", "memory.events", "memory.swap.current",
	"memory.swap.max", "memory.swap.peak", "io.stat", "cpu.pressure", "memory.pressure", "io.pressure",
}

// FuzzStats: every controller file holds the input; Stats on v1 and v2.
func FuzzStats(f *testing.F) {
	addFiles(f, "cpu.stat", "memory.stat", "cpuacct.usage_all", "blkio.throttle.io_service_bytes", "cpuset.cpus", "memory.pressure")
	for _, s := range []string{"", "max", "0-3,7", "5-2", "65535-65535", "0-65535", "cpu user system\n0 1 2\n1 x 3",
		"8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5\n8:16 rbytes=", "some avg10=0.00 avg60=1.5 avg300=NaN total=12\nfull total=-1",
		"max 5\nlow\n", "1 2 3\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		for _, n := range statsFiles {
			if err := os.WriteFile(filepath.Join(dir, n), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, m := range []*Manager{
			{Mode: ModeV2, Dirs: map[string]string{"": dir}},
			{Mode: ModeV1, Dirs: map[string]string{"cpu,cpuacct": dir, "memory": dir, "cpuset": dir, "pids": dir, "blkio": dir, "hugetlb": dir}},
		} {
			if _, err := m.Stats(); err != nil {
				t.Logf("Stats: %v", err)
			}
		}
	})
}

// FuzzDevicesList: a v1 devices.list, as read before an update, against
// rule sets of the shapes containers use. An error must name the file.
func FuzzDevicesList(f *testing.F) {
	addFiles(f, "devices.list", "devices.list.deny")
	for _, s := range []string{"", "a *:* rwm", "c 1:3 r\nc 1:3 w", "b -1:0 r", "c 1:2:3 r", "x 1:3 r", "c 1:3 ", "c 99999999999999999999:1 m"} {
		f.Add([]byte(s))
	}
	major, minor := int64(1), int64(3)
	ruleSets := [][]specs.LinuxDeviceCgroup{
		nil,
		{{Allow: false, Access: "rwm"}},
		{{Allow: false, Access: "rwm"}, {Allow: true, Type: "c", Major: &major, Minor: &minor, Access: "rw"}},
		{{Allow: true, Access: "rwm"}, {Allow: false, Type: "b", Major: &major, Access: "m"}},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, rules := range ruleSets {
			ws, err := V1DeviceWrites(string(data), rules)
			if err != nil {
				if !strings.Contains(err.Error(), "devices.list") {
					t.Errorf("error does not name devices.list: %v", err)
				}
				continue
			}
			for _, w := range ws {
				if strings.ContainsAny(w.Value, "\n") {
					t.Errorf("a write of more than one rule: %q", w.Value)
				}
			}
		}
	})
}

// FuzzProcCgroups: /proc/<pid>/cgroup text.
func FuzzProcCgroups(f *testing.F) {
	addFiles(f, "proc-self-cgroup")
	for _, s := range []string{"", "0::/", "0::/a:b", "1:name=systemd:/user.slice\n0::/x\n", ":::", "\n\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m := parseProcCgroups(data)
		for k, v := range m {
			if strings.Contains(k, "\n") || strings.Contains(v, "\n") {
				t.Errorf("a line break in %q: %q", k, v)
			}
		}
	})
}

// FuzzCgroupMounts: the cgroup hierarchies found in mountinfo, and the
// mode they make.
func FuzzCgroupMounts(f *testing.F) {
	b, err := os.ReadFile("../mountinfo/testdata/host-mountinfo")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("30 25 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n"))
	f.Add([]byte("31 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct,release_agent=/x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		hs := hierarchies(mountinfo.Parse(data))
		mode := DetectMode(hs)
		if len(hs) == 0 && mode != ModeNone {
			t.Errorf("mode %v without a hierarchy", mode)
		}
		for _, h := range hs {
			_ = h.Name()
		}
	})
}
