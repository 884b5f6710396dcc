package specjson_test

import (
	"encoding/json"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/carapace-oci/carapace/libcarapace/config/specjson"
	"github.com/carapace-oci/carapace/libcarapace/internal/jsonfast"
	"github.com/carapace-oci/carapace/libcarapace/internal/jsonfast/jsonfasttest"
)

// checkRoots checks every root type the generator writes encoders for
// (gen.Configs["specjson"].Encode), from one input: filled from data, and
// decoded from it by encoding/json.
func checkRoots(t *testing.T, data []byte) {
	checkRoot(t, data, specjson.AppendState)
	checkRoot(t, data, specjson.AppendProcess)
	checkRoot(t, data, specjson.AppendHooks)
	checkRoot(t, data, specjson.AppendLinuxResources)
	checkRoot(t, data, specjson.AppendLinuxDevice)
	checkRoot(t, data, specjson.AppendLinuxSeccomp)
	checkRoot(t, data, specjson.AppendLinuxPersonality)
	checkRoot(t, data, specjson.AppendLinuxMemoryPolicy)
}

func checkRoot[T any](t *testing.T, data []byte, enc func(*jsonfast.Encoder, *T)) {
	t.Helper()
	var v T
	jsonfasttest.Fill(&v, data)
	jsonfasttest.Check(t, &v, enc)
	var d T
	if json.Unmarshal(data, &d) == nil {
		jsonfasttest.Check(t, &d, enc)
	}
}

// FuzzEncode: the generated encoders write what json.Marshal writes for
// every value of each root type.
func FuzzEncode(f *testing.F) {
	for _, b := range realConfigs(f) {
		var s specs.Spec
		if json.Unmarshal(b, &s) == nil && s.Linux != nil {
			for _, v := range []any{s.Process, s.Hooks, s.Linux.Resources, s.Linux.Seccomp} {
				if b, err := json.Marshal(v); err == nil {
					f.Add(b)
				}
			}
		}
	}
	f.Add([]byte(`{"ociVersion":"1.3.0","id":"c","status":"created","pid":1,"bundle":"/b","annotations":{"<":"&"}}`))
	f.Fuzz(checkRoots)
}

// TestEncodeRealConfigs: the parts of real config.json files state.json
// and the hooks' stdin hold.
func TestEncodeRealConfigs(t *testing.T) {
	for name, b := range realConfigs(t) {
		var s specs.Spec
		if err := json.Unmarshal(b, &s); err != nil {
			continue
		}
		if s.Process != nil {
			jsonfasttest.Check(t, s.Process, specjson.AppendProcess)
		}
		if s.Hooks != nil {
			jsonfasttest.Check(t, s.Hooks, specjson.AppendHooks)
		}
		if s.Linux != nil {
			if s.Linux.Resources != nil {
				jsonfasttest.Check(t, s.Linux.Resources, specjson.AppendLinuxResources)
			}
			if s.Linux.Seccomp != nil {
				jsonfasttest.Check(t, s.Linux.Seccomp, specjson.AppendLinuxSeccomp)
			}
			for i := range s.Linux.Devices {
				jsonfasttest.Check(t, &s.Linux.Devices[i], specjson.AppendLinuxDevice)
			}
		}
		jsonfasttest.Check(t, &specs.State{Version: s.Version, ID: "c", Status: specs.StateCreating, Pid: 1, Bundle: "/" + name, Annotations: s.Annotations}, specjson.AppendState)
	}
}
