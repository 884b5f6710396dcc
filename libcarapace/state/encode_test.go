package state

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/carapace-oci/carapace/libcarapace/cgroups"
	"github.com/carapace-oci/carapace/libcarapace/internal/jsonfast/jsonfasttest"
)

// FuzzEncode: for every State, Progress and Info, built from the fuzzer's
// bytes or decoded from them by encoding/json, the generated encoders
// (state_gen.go, with specjson's for the spec types) write what
// json.Marshal writes, byte for byte.
func FuzzEncode(f *testing.F) {
	full, _ := json.Marshal(sampleState())
	f.Add(full)
	if b, err := os.ReadFile("testdata/state-docker-like.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"bundle":"/b","created":"2026-01-02T03:04:05.000000006Z","cgroup":{"mode":1,"dirs":{"":"/x"}},"pid":1}`))
	f.Add(bytes.Repeat([]byte{0xff, 1, 2, 0x80, '<', 7}, 200))
	f.Fuzz(func(t *testing.T, data []byte) {
		var st State
		jsonfasttest.Fill(&st, data)
		jsonfasttest.Check(t, &st, appendState)
		var p Progress
		jsonfasttest.Fill(&p, data)
		jsonfasttest.Check(t, &p, appendProgress)
		var in Info
		jsonfasttest.Fill(&in, data)
		jsonfasttest.Check(t, &in, appendInfo)

		st, p, in = State{}, Progress{}, Info{}
		if json.Unmarshal(data, &st) == nil {
			jsonfasttest.Check(t, &st, appendState)
		}
		if json.Unmarshal(data, &p) == nil {
			jsonfasttest.Check(t, &p, appendProgress)
		}
		if json.Unmarshal(data, &in) == nil {
			jsonfasttest.Check(t, &in, appendInfo)
		}
	})
}

func sampleState() *State {
	return &State{OCIVersion: specs.Version, ID: "c1", Pid: 1, StartTime: 1, Bundle: "/b", Rootfs: "/b/rootfs",
		Created: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Annotations: map[string]string{"z": "<&>", "a": "b"},
		Hooks:      &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true", Args: []string{"true"}, Timeout: ptr(3)}}},
		Cgroup:     &cgroups.Manager{Mode: cgroups.ModeHybrid, Dirs: map[string]string{"": "/sys/fs/cgroup/unified/c1", "memory": "/sys/fs/cgroup/memory/c1"}, Created: []string{"/sys/fs/cgroup/memory/c1"}},
		Process:    &specs.Process{Args: []string{"sh"}, Cwd: "/", Env: []string{"PATH=/bin"}, Capabilities: &specs.LinuxCapabilities{Bounding: []string{"CAP_KILL"}}},
		Namespaces: []specs.LinuxNamespaceType{specs.PIDNamespace, specs.MountNamespace},
		Devices:    []specs.LinuxDevice{{Path: "/dev/null", Type: "c", Major: 1, Minor: 3}},
		Resources:  &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(10))}, Unified: map[string]string{}},
		Seccomp:    &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 1, Value: 1 << 63}}}}},
	}
}

// TestEncodeMatchesJSON: the files and output as written today, for
// typical values (the fuzzer covers the rest).
func TestEncodeMatchesJSON(t *testing.T) {
	st := sampleState()
	jsonfasttest.Check(t, st, appendState)
	jsonfasttest.Check(t, &State{}, appendState)
	jsonfasttest.Check(t, NewProgress("/b"), appendProgress)
	jsonfasttest.Check(t, &Progress{Cgroup: st.Cgroup, Pid: 3}, appendProgress)
	jsonfasttest.Check(t, &Info{ID: "c", Created: st.Created, Annotations: st.Annotations}, appendInfo)
}

// TestWriteInfo: the state verb's output is what a json.Encoder with
// SetIndent("", "  ") wrote before.
func TestWriteInfo(t *testing.T) {
	for _, in := range []Info{{}, {OCIVersion: "1.3.0", ID: "c<1>", Pid: 42, Status: "running", Bundle: "/b", Rootfs: "/b/rootfs",
		Created: time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("", 3600)), Annotations: map[string]string{"b": "\u2028", "a": ""}, Owner: "root"}} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(in); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := WriteInfo(&got, &in); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("WriteInfo:\n%s\nwant\n%s", got.Bytes(), want.Bytes())
		}
	}
}
