package systemd

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/carapace-oci/carapace/libcarapace/cgroups"
)

func ptr[T any](v T) *T { return &v }

func TestParsePath(t *testing.T) {
	for _, tc := range []struct {
		path, slice, unit, err string
	}{
		{"", "system.slice", "carapace-c1.scope", ""},
		{"system.slice:docker:abc", "system.slice", "docker-abc.scope", ""},
		{":crio:abc", "system.slice", "crio-abc.scope", ""},
		{"machine-pod1.slice:cri-containerd:abc", "machine-pod1.slice", "cri-containerd-abc.scope", ""},
		{"a.slice::abc", "a.slice", "abc.scope", ""},
		{"kubepods.slice::kubepods-pod1.slice", "kubepods.slice", "kubepods-pod1.slice", ""},
		{"/sys/fs/cgroup/x", "", "", `must be "slice:prefix:name"`},
		{"system.slice:abc", "", "", `must be "slice:prefix:name"`},
		{"a:b:c:d", "", "", `must be "slice:prefix:name"`},
		{"system:docker:abc", "", "", `not a slice unit name`},
		{"a--b.slice:docker:abc", "", "", `empty component`},
		{"system.slice:docker:", "", "", `name (after the second colon) is empty`},
		{"system.slice:docker:a/b", "", "", `not a unit name`},
	} {
		slice, unit, err := ParsePath(tc.path, "c1")
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "linux.cgroupsPath") {
				t.Errorf("ParsePath(%q): err %v, want one naming linux.cgroupsPath with %q", tc.path, err, tc.err)
			}
			continue
		}
		if err != nil || slice != tc.slice || unit != tc.unit {
			t.Errorf("ParsePath(%q) = %q, %q, %v; want %q, %q", tc.path, slice, unit, err, tc.slice, tc.unit)
		}
	}
}

func TestExpandSlice(t *testing.T) {
	for in, want := range map[string]string{
		"system.slice":     "/system.slice",
		"-.slice":          "/",
		"a-b-c.slice":      "/a.slice/a-b.slice/a-b-c.slice",
		"user-1000.slice":  "/user.slice/user-1000.slice",
		"a-.slice":         "",
		"-a.slice":         "",
		".slice":           "",
		"a.scope":          "",
		"a/b.slice":        "",
		"machine.slice.x":  "",
		"test-a--b.slice":  "",
		"kubepods-a.slice": "/kubepods.slice/kubepods-a.slice",
	} {
		got, err := ExpandSlice(in)
		if want == "" {
			if err == nil {
				t.Errorf("ExpandSlice(%q) = %q, want an error", in, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("ExpandSlice(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if p, _ := UnitPath("a-b.slice", "x-1.scope"); p != "/a.slice/a-b.slice/x-1.scope" {
		t.Errorf("UnitPath = %q", p)
	}
	if p, _ := UnitPath("kubepods.slice", "kubepods-pod1.slice"); p != "/kubepods.slice/kubepods-pod1.slice" {
		t.Errorf("UnitPath of a slice unit = %q", p)
	}
}

func props(ps []Property) map[string]any {
	m := map[string]any{}
	for _, p := range ps {
		m[p.Name] = p.Value
	}
	return m
}

func TestProperties(t *testing.T) {
	inf := uint64(math.MaxUint64)
	for _, tc := range []struct {
		name    string
		r       specs.LinuxResources
		mode    cgroups.Mode
		version int
		want    map[string]any
		quota   int64 // the quota left for the files, when rounded
	}{
		{name: "memory-v2", mode: cgroups.ModeV2, version: 252,
			r:    specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](1 << 30), Reservation: ptr[int64](1 << 20), Swap: ptr[int64](3 << 29)}},
			want: map[string]any{"MemoryMax": uint64(1 << 30), "MemoryLow": uint64(1 << 20), "MemorySwapMax": uint64(1 << 29)}},
		{name: "memory-v2-unlimited", mode: cgroups.ModeV2, version: 252,
			r:    specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](-1)}},
			want: map[string]any{"MemoryMax": inf, "MemorySwapMax": inf}},
		{name: "memory-v2-swap-equal", mode: cgroups.ModeV2, version: 252,
			r:    specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](100), Swap: ptr[int64](100)}},
			want: map[string]any{"MemoryMax": uint64(100), "MemorySwapMax": uint64(0)}},
		{name: "memory-v2-swap-below-limit-left-to-the-file-check", mode: cgroups.ModeV2, version: 252,
			r:    specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](100), Swap: ptr[int64](50)}},
			want: map[string]any{"MemoryMax": uint64(100)}},
		{name: "memory-v1", mode: cgroups.ModeHybrid, version: 252,
			r:    specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](1 << 30), Reservation: ptr[int64](1 << 20), Swap: ptr[int64](2 << 30)}},
			want: map[string]any{"MemoryLimit": uint64(1 << 30)}},
		{name: "cpu-v2", mode: cgroups.ModeV2, version: 252,
			r:    specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr[uint64](512), Quota: ptr[int64](50000), Period: ptr[uint64](100000), Cpus: "0-2,5", Mems: "0"}},
			want: map[string]any{"CPUWeight": uint64(59), "CPUQuotaPeriodUSec": uint64(100000), "CPUQuotaPerSecUSec": uint64(500000), "AllowedCPUs": []byte{0x27}, "AllowedMemoryNodes": []byte{1}}},
		{name: "cpu-v1", mode: cgroups.ModeV1, version: 252,
			r:    specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr[uint64](512), Quota: ptr[int64](-1)}},
			want: map[string]any{"CPUShares": uint64(512), "CPUQuotaPerSecUSec": inf}},
		{name: "cpu-quota-rounded-up-to-a-percent", mode: cgroups.ModeV2, version: 252,
			// 12345/100000 of a CPU is 123450us/s: systemd keeps 13%.
			r:     specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr[int64](12345), Period: ptr[uint64](100000)}},
			want:  map[string]any{"CPUQuotaPeriodUSec": uint64(100000), "CPUQuotaPerSecUSec": uint64(130000)},
			quota: 13000},
		{name: "cpu-quota-default-period", mode: cgroups.ModeV2, version: 252,
			r:     specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr[int64](1)}},
			want:  map[string]any{"CPUQuotaPerSecUSec": uint64(10000)},
			quota: 1000},
		{name: "cpu-quota-odd-period", mode: cgroups.ModeV2, version: 252,
			// 33333/30000 = 1111100us/s, up to 1120000: 33600 per period.
			r:     specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr[int64](33333), Period: ptr[uint64](30000)}},
			want:  map[string]any{"CPUQuotaPeriodUSec": uint64(30000), "CPUQuotaPerSecUSec": uint64(1120000)},
			quota: 33600},
		{name: "old-systemd-no-period-nor-cpuset", mode: cgroups.ModeV2, version: 239,
			r:    specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr[int64](20000), Period: ptr[uint64](100000), Cpus: "1"}},
			want: map[string]any{"CPUQuotaPerSecUSec": uint64(200000)}},
		{name: "pids", mode: cgroups.ModeV2, version: 252,
			r:    specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr[int64](42)}},
			want: map[string]any{"TasksMax": uint64(42)}},
		{name: "pids-zero-is-a-limit-of-one", mode: cgroups.ModeV2, version: 252,
			// As pids.max gets "1": systemd refuses TasksMax=0, and a unit
			// saying infinity would have systemd undo the file's limit.
			r:    specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr[int64](0)}},
			want: map[string]any{"TasksMax": uint64(1)}},
		{name: "pids-unlimited", mode: cgroups.ModeV1, version: 252,
			r:    specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr[int64](-1)}},
			want: map[string]any{"TasksMax": inf}},
		{name: "io-weight-v2", mode: cgroups.ModeV2, version: 252,
			r:    specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptr[uint16](500)}},
			want: map[string]any{"IOWeight": uint64(4950)}},
		{name: "io-weight-v1", mode: cgroups.ModeV1, version: 252,
			r:    specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptr[uint16](500)}},
			want: map[string]any{"BlockIOWeight": uint64(500)}},
		{name: "zeros-ask-for-nothing", mode: cgroups.ModeV2, version: 252,
			r: specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](0), Reservation: ptr[int64](0)},
				CPU: &specs.LinuxCPU{Shares: ptr[uint64](0), Quota: ptr[int64](0)}, BlockIO: &specs.LinuxBlockIO{Weight: ptr[uint16](0)}},
			want: map[string]any{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps, out, err := Properties(&tc.r, tc.mode, tc.version)
			if err != nil {
				t.Fatal(err)
			}
			if got := props(ps); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("properties\n got %v\nwant %v", got, tc.want)
			}
			if tc.quota != 0 {
				if out.CPU.Quota == nil || *out.CPU.Quota != tc.quota {
					t.Errorf("quota for the files: %v, want %d", out.CPU.Quota, tc.quota)
				}
				if *tc.r.CPU.Quota == tc.quota {
					t.Errorf("the caller's resources were changed")
				}
			} else if out != &tc.r {
				t.Errorf("resources copied though nothing was rounded")
			}
		})
	}
	if _, _, err := Properties(&specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "3-1"}}, cgroups.ModeV2, 252); err == nil || !strings.Contains(err.Error(), "linux.resources.cpu.cpus") {
		t.Errorf("a bad cpu list: %v, want an error naming linux.resources.cpu.cpus", err)
	}
}

func TestDeviceProperties(t *testing.T) {
	dev := func(allow bool, typ string, major, minor int64, acc string) specs.LinuxDeviceCgroup {
		r := specs.LinuxDeviceCgroup{Allow: allow, Type: typ, Access: acc}
		if major >= 0 {
			r.Major = &major
		}
		if minor >= 0 {
			r.Minor = &minor
		}
		return r
	}
	reset := Property{"DeviceAllow", []DeviceAllow{}}
	for _, tc := range []struct {
		name    string
		rules   []specs.LinuxDeviceCgroup
		version int
		want    []Property
	}{
		{name: "container-defaults", version: 252,
			rules: cgroups.DeviceRules([]specs.LinuxDeviceCgroup{dev(false, "a", -1, -1, "rwm")}, nil),
			want: []Property{{"DevicePolicy", "strict"}, reset, {"DeviceAllow", []DeviceAllow{
				{"char-*", "m"}, {"block-*", "m"}, {"/dev/char/1:3", "rwm"}, {"/dev/char/1:5", "rwm"}, {"/dev/char/1:7", "rwm"},
				{"/dev/char/1:8", "rwm"}, {"/dev/char/1:9", "rwm"}, {"/dev/char/5:0", "rwm"}, {"/dev/char/5:1", "rwm"},
				{"/dev/char/5:2", "rwm"}, {"char-136", "rwm"}, {"/dev/char/10:200", "rwm"}}}}},
		{name: "old-systemd-drops-major-only", version: 239,
			rules: []specs.LinuxDeviceCgroup{dev(true, "c", 136, -1, "rwm"), dev(true, "b", 8, 0, "r")},
			want:  []Property{{"DevicePolicy", "strict"}, reset, {"DeviceAllow", []DeviceAllow{{"/dev/block/8:0", "r"}}}}},
		{name: "deny-takes-access-back", version: 252,
			rules: []specs.LinuxDeviceCgroup{dev(true, "c", 1, 3, "rwm"), dev(true, "c", 1, 5, "rw"), dev(false, "c", 1, -1, "w"), dev(false, "c", 1, 5, "r")},
			want:  []Property{{"DevicePolicy", "strict"}, reset, {"DeviceAllow", []DeviceAllow{{"/dev/char/1:3", "rm"}}}}},
		{name: "wildcard-major-cannot-be-named", version: 252,
			rules: []specs.LinuxDeviceCgroup{dev(true, "c", -1, 3, "rwm")},
			want:  []Property{{"DevicePolicy", "strict"}, reset}},
		{name: "allow-all", version: 252,
			rules: []specs.LinuxDeviceCgroup{dev(true, "", -1, -1, "")},
			want:  []Property{{"DevicePolicy", "auto"}, reset}},
		{name: "allow-all-with-exception-denies-all", version: 252,
			rules: []specs.LinuxDeviceCgroup{dev(true, "a", -1, -1, "rwm"), dev(false, "c", 1, 3, "w")},
			want:  []Property{{"DevicePolicy", "strict"}, reset}},
		{name: "allow-all-exception-taken-back", version: 252,
			rules: []specs.LinuxDeviceCgroup{dev(true, "a", -1, -1, "rwm"), dev(false, "c", 1, 3, "w"), dev(true, "c", 1, 3, "w")},
			want:  []Property{{"DevicePolicy", "auto"}, reset}},
		{name: "deny-all-resets", version: 252,
			rules: []specs.LinuxDeviceCgroup{dev(true, "c", 1, 3, "rwm"), dev(false, "a", -1, -1, "rwm")},
			want:  []Property{{"DevicePolicy", "strict"}, reset}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps, _, err := Properties(&specs.LinuxResources{Devices: tc.rules}, cgroups.ModeV2, tc.version)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ps, tc.want) {
				t.Errorf("\n got %v\nwant %v", ps, tc.want)
			}
		})
	}
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]int{`"252.38-1~deb12u1"`: 252, "v245.4-1.fc32": 245, "255": 255, `"v239"`: 239, "": -1, "x": -1} {
		if got := ParseVersion(in); got != want {
			t.Errorf("ParseVersion(%q) = %d, want %d", in, got, want)
		}
	}
}

// fakeBus records the calls; on a start it makes the unit's directory, as
// systemd would, with init in it.
type fakeBus struct {
	calls  []string
	starts [][]Property
	set    [][]Property
	dir    string
	errs   map[string][]error // per call kind, taken in order
}

func (b *fakeBus) next(kind string) error {
	if es := b.errs[kind]; len(es) > 0 {
		b.errs[kind] = es[1:]
		return es[0]
	}
	return nil
}

func (b *fakeBus) StartUnit(name string, props []Property) error {
	b.calls = append(b.calls, "start "+name)
	b.starts = append(b.starts, props)
	if err := b.next("start"); err != nil {
		return err
	}
	os.MkdirAll(b.dir, 0o755)
	return os.WriteFile(filepath.Join(b.dir, "cgroup.procs"), nil, 0o644)
}

func (b *fakeBus) StopUnit(name string) error {
	b.calls = append(b.calls, "stop "+name)
	os.RemoveAll(b.dir)
	return b.next("stop")
}

func (b *fakeBus) ResetFailed(name string) error {
	b.calls = append(b.calls, "reset-failed "+name)
	return nil
}

func (b *fakeBus) SetProperties(name string, props []Property) error {
	b.calls = append(b.calls, "set "+name)
	b.set = append(b.set, props)
	return b.next("set")
}

func (b *fakeBus) Version() int { return 252 }
func (b *fakeBus) AttachProcesses(unit, sub string, pids []uint32) error {
	b.calls = append(b.calls, fmt.Sprintf("attach %s %q %v", unit, sub, pids))
	return b.next("attach")
}
func (b *fakeBus) ManagerCgroup() (string, error) {
	return "/user.slice/user-1000.slice/user@1000.service", nil
}
func (b *fakeBus) Close() {}

func fakeManager(t *testing.T, mode cgroups.Mode) (*cgroups.Manager, *fakeBus) {
	root := t.TempDir()
	dir := filepath.Join(root, "system.slice", "carapace-c1.scope")
	m := &cgroups.Manager{Mode: mode, Dirs: map[string]string{"": dir}, Unit: "carapace-c1.scope", Slice: "system.slice"}
	return m, &fakeBus{dir: dir, errs: map[string][]error{}}
}

func TestStart(t *testing.T) {
	m, bus := fakeManager(t, cgroups.ModeV2)
	extra := []Property{{"MemoryMax", uint64(1 << 20)}}
	if err := Start(bus, m, "c1", 4242, extra); err != nil {
		t.Fatal(err)
	}
	if want := []string{"start carapace-c1.scope"}; !reflect.DeepEqual(bus.calls, want) {
		t.Errorf("calls %v, want %v", bus.calls, want)
	}
	got := props(bus.starts[0])
	for k, v := range map[string]any{"Slice": "system.slice", "Delegate": true, "PIDs": []uint32{4242},
		"DefaultDependencies": false, "MemoryAccounting": true, "IOAccounting": true, "MemoryMax": uint64(1 << 20)} {
		if !reflect.DeepEqual(got[k], v) {
			t.Errorf("property %s = %v, want %v", k, got[k], v)
		}
	}
	// Placed in the unit's cgroup in every hierarchy (systemd did it
	// already; v1 hierarchies it does not manage need it).
	if b, _ := os.ReadFile(filepath.Join(m.Dirs[""], "cgroup.procs")); string(b) != "4242" {
		t.Errorf("cgroup.procs = %q, want 4242", b)
	}
	if len(m.Created) != 0 {
		t.Errorf("the unit's own directory is recorded as the container's: %v", m.Created)
	}
}

func TestStartV1AccountingNames(t *testing.T) {
	m, bus := fakeManager(t, cgroups.ModeHybrid)
	if err := Start(bus, m, "c1", 1, nil); err != nil {
		t.Fatal(err)
	}
	got := props(bus.starts[0])
	if got["BlockIOAccounting"] != true || got["IOAccounting"] != nil {
		t.Errorf("v1 accounting properties: %v", got)
	}
}

func TestStartUnitExists(t *testing.T) {
	m, bus := fakeManager(t, cgroups.ModeV2)
	bus.errs["start"] = []error{ErrUnitExists}
	if err := Start(bus, m, "c1", 1, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{"start carapace-c1.scope", "reset-failed carapace-c1.scope", "start carapace-c1.scope"}
	if !reflect.DeepEqual(bus.calls, want) {
		t.Errorf("calls %v, want %v", bus.calls, want)
	}
}

func TestStartUnitStillExists(t *testing.T) {
	m, bus := fakeManager(t, cgroups.ModeV2)
	bus.errs["start"] = []error{ErrUnitExists, ErrUnitExists}
	err := Start(bus, m, "c1", 1, nil)
	if !errors.Is(err, ErrUnitExists) || !strings.Contains(err.Error(), "carapace-c1.scope") {
		t.Errorf("err %v, want ErrUnitExists naming the unit", err)
	}
	if len(bus.calls) != 3 {
		t.Errorf("calls %v: want one retry only", bus.calls)
	}
}

func TestStartJobFailed(t *testing.T) {
	m, bus := fakeManager(t, cgroups.ModeV2)
	bus.errs["start"] = []error{&JobError{Result: "failed"}}
	err := Start(bus, m, "c1", 1, nil)
	if err == nil || !strings.Contains(err.Error(), "--systemd-cgroup: start unit carapace-c1.scope in system.slice: the job ended failed") {
		t.Errorf("err %v", err)
	}
	want := []string{"start carapace-c1.scope", "reset-failed carapace-c1.scope"}
	if !reflect.DeepEqual(bus.calls, want) {
		t.Errorf("calls %v, want %v: a failed unit must be reset", bus.calls, want)
	}
}

func TestStop(t *testing.T) {
	m, bus := fakeManager(t, cgroups.ModeV2)
	if err := Start(bus, m, "c1", 1, nil); err != nil {
		t.Fatal(err)
	}
	bus.calls = nil
	if err := Stop(bus, m); err != nil {
		t.Fatal(err)
	}
	want := []string{"stop carapace-c1.scope", "reset-failed carapace-c1.scope"}
	if !reflect.DeepEqual(bus.calls, want) {
		t.Errorf("calls %v, want %v", bus.calls, want)
	}
	if _, err := os.Stat(m.Dirs[""]); !os.IsNotExist(err) {
		t.Errorf("the unit's directory remains: %v", err)
	}
}

func TestStopFailedJobStillResets(t *testing.T) {
	m, bus := fakeManager(t, cgroups.ModeV2)
	bus.errs["stop"] = []error{&JobError{Result: "failed"}}
	if err := Stop(bus, m); err != nil {
		t.Errorf("a failed stop job of a unit that is gone: %v", err)
	}
	if want := []string{"stop carapace-c1.scope", "reset-failed carapace-c1.scope"}; !reflect.DeepEqual(bus.calls, want) {
		t.Errorf("calls %v, want %v", bus.calls, want)
	}
}

func TestUpdate(t *testing.T) {
	m, bus := fakeManager(t, cgroups.ModeV2)
	if err := Update(bus, m, nil); err != nil || len(bus.calls) != 0 {
		t.Errorf("an update with nothing for systemd: %v, calls %v", err, bus.calls)
	}
	ps := []Property{{"TasksMax", uint64(10)}}
	if err := Update(bus, m, ps); err != nil {
		t.Fatal(err)
	}
	if want := []string{"set carapace-c1.scope"}; !reflect.DeepEqual(bus.calls, want) || !reflect.DeepEqual(bus.set[0], ps) {
		t.Errorf("calls %v %v", bus.calls, bus.set)
	}
	bus.errs["set"] = []error{errors.New("Unit carapace-c1.scope not loaded.")}
	if err := Update(bus, m, ps); err == nil || !strings.Contains(err.Error(), "set properties of unit carapace-c1.scope") {
		t.Errorf("err %v", err)
	}
}

// TestParsePathUserDefault: in a user's instance a path without a slice
// names user.slice, as runc's rootless driver does.
func TestParsePathUserDefault(t *testing.T) {
	for _, tc := range []struct{ path, slice, unit string }{
		{"", "user.slice", "carapace-c1.scope"},
		{":podman:abc", "user.slice", "podman-abc.scope"},
		{"app.slice:podman:abc", "app.slice", "podman-abc.scope"},
	} {
		slice, unit, err := parsePath(tc.path, "c1", UserDefaultSlice)
		if err != nil || slice != tc.slice || unit != tc.unit {
			t.Errorf("parsePath(%q, user) = %q, %q, %v; want %q, %q", tc.path, slice, unit, err, tc.slice, tc.unit)
		}
	}
}

// TestHostID: the caller's uid on the host, through its user namespace's
// uid_map, is what the user bus authenticates (a rootless engine runs the
// runtime as root of its user namespace).
func TestHostID(t *testing.T) {
	const initial = "         0          0 4294967295\n"
	const podman = "         0       1000          1\n         1     100000      65536\n"
	for _, tc := range []struct {
		m      string
		id     int
		want   int
		errHas string
	}{
		{initial, 1000, 1000, ""},
		{podman, 0, 1000, ""},
		{podman, 1, 100000, ""},
		{podman, 65536, 165535, ""},
		{podman, 65537, -1, "not mapped"},
		{"", 0, -1, "not mapped"},
	} {
		got, err := HostID(tc.m, tc.id)
		if tc.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("HostID(%q, %d) = %d, %v; want an error with %q", tc.m, tc.id, got, err, tc.errHas)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("HostID(%q, %d) = %d, %v; want %d", tc.m, tc.id, got, err, tc.want)
		}
	}
}

// TestNewUserManager: the unit goes under the user instance's own cgroup
// (pure v2 only: elsewhere a clear error says why).
func TestNewUserManager(t *testing.T) {
	bus := &fakeBus{}
	m, err := NewUserManager(bus, "", "c1")
	hs, herr := cgroups.Hierarchies()
	if herr != nil {
		t.Skip(herr)
	}
	if cgroups.DetectMode(hs) != cgroups.ModeV2 {
		if err == nil || !strings.Contains(err.Error(), "needs cgroup v2") {
			t.Fatalf("on a host that is not pure v2: %v, want an error saying it needs cgroup v2", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	want := "/user.slice/user-1000.slice/user@1000.service/user.slice/carapace-c1.scope"
	if !strings.HasSuffix(m.V2Dir(), want) || m.Unit != "carapace-c1.scope" || m.Slice != "user.slice" || !m.UserManager {
		t.Errorf("NewUserManager: dir %s unit %s slice %s user %v; want %s, carapace-c1.scope in user.slice, user", m.V2Dir(), m.Unit, m.Slice, m.UserManager, want)
	}
}

// TestAttach: an exec'd process of a rootless container goes into the unit
// (or its sub-cgroup, given relative) through systemd.
func TestAttach(t *testing.T) {
	m, bus := fakeManager(t, cgroups.ModeV2)
	if err := Attach(bus, m, "", 42); err != nil {
		t.Fatal(err)
	}
	if err := Attach(bus, m, "sub/x", 43); err != nil {
		t.Fatal(err)
	}
	want := []string{`attach ` + m.Unit + ` "" [42]`, `attach ` + m.Unit + ` "/sub/x" [43]`}
	if !reflect.DeepEqual(bus.calls, want) {
		t.Errorf("calls %q, want %q", bus.calls, want)
	}
	bus.errs = map[string][]error{"attach": {errors.New("access denied")}}
	if err := Attach(bus, m, "", 44); err == nil || !strings.Contains(err.Error(), "attach process 44 to unit "+m.Unit) {
		t.Errorf("a refused attach: %v", err)
	}
}
