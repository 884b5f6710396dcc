package state

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/carapace-oci/carapace/libcarapace/cgroups"
)

// fullState is a state with every field set.
func fullState() State {
	return State{OCIVersion: specs.Version, ID: "c1", Pid: 1, StartTime: 1, Bundle: "/b", Rootfs: "/b/rootfs",
		Created: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Annotations: map[string]string{"a": "b"},
		Hooks:        &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true", Args: []string{"true"}, Timeout: ptr(3)}}},
		Cgroup:       &cgroups.Manager{Mode: cgroups.ModeHybrid, Dirs: map[string]string{"": "/sys/fs/cgroup/unified/c1"}, Created: []string{"/x"}, Unit: "u", Slice: "s", UserManager: true, Rootless: true, Skipped: map[string]string{"cpu": "/y"}},
		SharedPidNS:  true,
		Process:      &specs.Process{Args: []string{"sh"}, Cwd: "/", Env: []string{"PATH=/bin"}, User: specs.User{UID: 1, GID: 2, AdditionalGids: []uint32{3}}},
		Namespaces:   []specs.LinuxNamespaceType{specs.PIDNamespace, specs.MountNamespace},
		Devices:      []specs.LinuxDevice{{Path: "/dev/x", Type: "c", Major: 1, Minor: 2, FileMode: ptr(os.FileMode(0o666)), UID: ptr(uint32(0))}},
		Resources:    &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(10))}, Memory: &specs.LinuxMemory{Limit: ptr(int64(-1))}},
		Owner:        "o",
		NotifySocket: "/n",
		Seccomp:      &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"a"}, Action: specs.ActErrno, ErrnoRet: ptr(uint(1)), Args: []specs.LinuxSeccompArg{{Index: 1, Value: 2, Op: specs.OpEqualTo}}}}},
		Personality:  &specs.LinuxPersonality{Domain: specs.PerLinux},
		MemoryPolicy: &specs.LinuxMemoryPolicy{Mode: "MPOL_BIND", Nodes: "0"},
	}
}

// realStates are state.json as create writes it: a state with every field
// set, and one create wrote for a bundle with docker's seccomp profile.
func realStates(t testing.TB) map[string][]byte {
	full, err := json.Marshal(fullState())
	if err != nil {
		t.Fatal(err)
	}
	docker, err := os.ReadFile("testdata/state-docker-like.json")
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{"full": full, "docker-like": docker}
}

// checkFast: whenever decodeFast takes raw, json.Unmarshal succeeds with
// an equal value. It reports whether decodeFast took it.
func checkFast(t *testing.T, raw []byte) bool {
	t.Helper()
	var fast State
	if !decodeFast(raw, &fast) {
		return false
	}
	var slow State
	if err := json.Unmarshal(raw, &slow); err != nil {
		t.Fatalf("fast path took %q, encoding/json fails: %v", raw, err)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("fast path and encoding/json differ on %q:\nfast %#v\nslow %#v", raw, fast, slow)
	}
	return true
}

// TestLoadTakesFastPath: state.json as create writes it decodes on the
// fast path, to what encoding/json gives; the rest (a created time that
// is not one, a field in the wrong case) goes to encoding/json.
func TestLoadTakesFastPath(t *testing.T) {
	for name, raw := range realStates(t) {
		if !checkFast(t, raw) {
			t.Errorf("%s: not taken by the fast path", name)
		}
	}
	for _, tc := range []struct {
		json string
		fast bool
	}{
		{`{}`, true},
		{`{"created":null,"cgroup":null,"process":null}`, true},
		{`{"created":"2026-01-02T03:04:05Z","x":{"y":[1]}}`, true},
		{`{"created":"yesterday"}`, false},
		{`{"created":1}`, false},
		{`{"Created":"2026-01-02T03:04:05Z"}`, false},
		{`{"cgroup":{"mode":2,"Mode":2}}`, false},
		{`{"pid":1,"pid":2}`, false},
	} {
		if got := checkFast(t, []byte(tc.json)); got != tc.fast {
			t.Errorf("%s: fast path took it: %v, want %v", tc.json, got, tc.fast)
		}
	}
}

// FuzzFastDecodeState: whenever the fast path takes a state.json,
// encoding/json decodes it to an equal value.
func FuzzFastDecodeState(f *testing.F) {
	for _, b := range realStates(f) {
		f.Add(b)
	}
	for _, s := range []string{`{}`, `null`, `{"created":"2026-01-02T03:04:05Z"}`, `{"created":null}`, `{"Pid":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkFast(t, raw)
	})
}
