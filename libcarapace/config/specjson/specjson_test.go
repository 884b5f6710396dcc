package specjson_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/carapace-oci/carapace/libcarapace/config"
	"github.com/carapace-oci/carapace/libcarapace/config/specjson"
	"github.com/carapace-oci/carapace/libcarapace/internal/jsonfast/gen"
)

// TestGeneratedUpToDate: specjson_gen.go is what the generator writes for
// today's runtime-spec types (run go generate in this directory if not).
func TestGeneratedUpToDate(t *testing.T) {
	if err := gen.CheckUpToDate("specjson"); err != nil {
		t.Fatal(err)
	}
}

// realConfigs are config.json files as runtimes and engines write them:
// the config package's testdata, `carapace spec` (root and rootless), and
// runc's spec with each seccomp profile of the seccomp package's testdata
// (docker's, podman's, containerd's: some 350 syscalls, with keys the
// spec does not have) as linux.seccomp, indented as engines write them.
func realConfigs(t testing.TB) map[string][]byte {
	out := map[string][]byte{}
	paths, err := filepath.Glob("../testdata/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no configs in ../testdata: %v", err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	for _, rootless := range []bool{false, true} {
		b, err := json.MarshalIndent(config.Default(rootless, 1000, 1000), "", "\t")
		if err != nil {
			t.Fatal(err)
		}
		out["spec-rootless="+map[bool]string{false: "false", true: "true"}[rootless]] = b
	}
	profiles, _ := filepath.Glob("../../seccomp/testdata/profiles/*.json")
	profiles = append(profiles, "../../seccomp/testdata/docker-like.json")
	base, err := os.ReadFile("../testdata/runc-spec.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range profiles {
		prof, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(base, &m); err != nil {
			t.Fatal(err)
		}
		m["linux"].(map[string]any)["seccomp"] = json.RawMessage(prof)
		b, err := json.MarshalIndent(m, "", "\t")
		if err != nil {
			t.Fatal(err)
		}
		out["runc-spec+"+filepath.Base(p)] = b
	}
	return out
}

// check decodes raw both ways: whenever the fast path takes it,
// json.Unmarshal succeeds with an equal value. It reports whether the
// fast path took it.
func check(t *testing.T, raw []byte) (spec, process bool) {
	t.Helper()
	var fast specs.Spec
	if spec = specjson.Spec(raw, &fast); spec {
		var slow specs.Spec
		if err := json.Unmarshal(raw, &slow); err != nil {
			t.Fatalf("fast path took %q, encoding/json fails: %v", raw, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("fast path and encoding/json differ on %q:\nfast %#v\nslow %#v", raw, fast, slow)
		}
	}
	var fastp specs.Process
	if process = specjson.Process(raw, &fastp); process {
		var slow specs.Process
		if err := json.Unmarshal(raw, &slow); err != nil {
			t.Fatalf("fast path took %q as a process, encoding/json fails: %v", raw, err)
		}
		if !reflect.DeepEqual(fastp, slow) {
			t.Fatalf("fast path and encoding/json differ on process %q:\nfast %#v\nslow %#v", raw, fastp, slow)
		}
	}
	return spec, process
}

// TestRealConfigsTakeFastPath: the configs runtimes are given decode on
// the fast path (else its speed-up is gone), to what encoding/json gives.
func TestRealConfigsTakeFastPath(t *testing.T) {
	cfgs := realConfigs(t)
	names := make([]string, 0, len(cfgs))
	for n := range cfgs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			raw := cfgs[n]
			if spec, _ := check(t, raw); !spec {
				t.Fatal("fast path did not take it")
			}
			// Its process, alone, as exec --process reads one.
			var m map[string]json.RawMessage
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			if _, process := check(t, m["process"]); !process {
				t.Fatal("fast path did not take its process")
			}
		})
	}
}

// TestEdgeCases: the result and whether the fast path takes it (fast) for
// the forms it must take or leave to encoding/json.
func TestEdgeCases(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		fast       bool
		want       func(*specs.Spec) bool // on the spec decoded, if not nil
	}{
		{"empty object", `{}`, true, nil},
		{"top-level null", ` null `, true, func(s *specs.Spec) bool { return reflect.DeepEqual(*s, specs.Spec{}) }},
		{"null fields", `{"ociVersion":null,"process":null,"mounts":null,"annotations":null,"hostname":null,"linux":{"resources":{"memory":{"limit":null}}}}`, true,
			func(s *specs.Spec) bool {
				return s.Process == nil && s.Mounts == nil && s.Linux.Resources.Memory.Limit == nil
			}},
		{"null struct is a no-op", `{"root":null}`, true, func(s *specs.Spec) bool { return s.Root == nil }},
		{"null elements", `{"process":{"args":[null,"a"]},"mounts":[null]}`, true,
			func(s *specs.Spec) bool {
				return len(s.Process.Args) == 2 && s.Process.Args[0] == "" && len(s.Mounts) == 1
			}},
		{"empty arrays are non-nil", `{"mounts":[],"process":{"args":[],"env":[ ]}}`, true,
			func(s *specs.Spec) bool { return s.Mounts != nil && len(s.Mounts) == 0 && s.Process.Args != nil }},
		{"empty map is non-nil", `{"annotations":{}}`, true, func(s *specs.Spec) bool { return s.Annotations != nil }},
		{"map null value", `{"annotations":{"a":null,"b":"c"}}`, true,
			func(s *specs.Spec) bool {
				v, ok := s.Annotations["a"]
				return ok && v == "" && s.Annotations["b"] == "c"
			}},
		{"map repeated key", `{"annotations":{"a":"1","a":"2"}}`, true, func(s *specs.Spec) bool { return s.Annotations["a"] == "2" }},
		{"map of structs", `{"linux":{"netDevices":{"eth0":{"name":"x"}},"timeOffsets":{"boottime":{"secs":-5,"nanosecs":7}}}}`, true, nil},
		{"unknown keys with nested values", `{"x-engine":{"a":[1,-2.5e+3,{"b":null}],"c":"\u00e9\n","d":true,"e":false},"ociVersion":"1.0.0","y":[[],{}]}`, true,
			func(s *specs.Spec) bool { return s.Version == "1.0.0" }},
		{"unknown key with bad nested value", `{"x":[1,]}`, false, nil},
		{"unknown key with bad number", `{"x":01}`, false, nil},
		{"unknown key with bad escape", `{"x":"\q"}`, false, nil},
		{"unknown key with invalid UTF-8 is skipped", "{\"x\":\"\xff\"}", true, nil},
		{"escapes", `{"hostname":"a\"b\\c\/d\n\t\r\b\f\u0041\u00e9\u20ac\ud83d\ude00"}`, true,
			func(s *specs.Spec) bool { return s.Hostname == "a\"b\\c/d\n\t\r\b\fAé€😀" }},
		{"escaped key", `{"host\u006eame":"h"}`, true, func(s *specs.Spec) bool { return s.Hostname == "h" }},
		{"UTF-8", `{"hostname":"héllo€"}`, true, func(s *specs.Spec) bool { return s.Hostname == "héllo€" }},
		{"invalid UTF-8", "{\"hostname\":\"a\xffb\"}", false, nil},
		{"lone surrogate", `{"hostname":"\ud83d"}`, false, nil},
		{"control character", "{\"hostname\":\"a\nb\"}", false, nil},
		{"big numbers", `{"process":{"user":{"uid":4294967295},"rlimits":[{"type":"RLIMIT_NOFILE","hard":18446744073709551615,"soft":0}]},"linux":{"resources":{"memory":{"limit":-9223372036854775808,"swap":9223372036854775807}}}}`, true,
			func(s *specs.Spec) bool {
				return s.Process.User.UID == 1<<32-1 && s.Process.Rlimits[0].Hard == 1<<64-1 && *s.Linux.Resources.Memory.Limit == -1<<63
			}},
		{"uint32 overflow", `{"process":{"user":{"uid":4294967296}}}`, false, nil},
		{"uint64 overflow", `{"process":{"rlimits":[{"hard":18446744073709551616}]}}`, false, nil},
		{"int64 overflow", `{"linux":{"resources":{"memory":{"limit":9223372036854775808}}}}`, false, nil},
		{"negative into uint", `{"process":{"user":{"uid":-1}}}`, false, nil},
		{"minus zero into uint", `{"process":{"user":{"uid":-0}}}`, false, nil},
		{"minus zero into int", `{"linux":{"resources":{"memory":{"limit":-0}}}}`, true, nil},
		{"fraction into int", `{"process":{"user":{"uid":1.0}}}`, false, nil},
		{"exponent into int", `{"process":{"user":{"uid":1e3}}}`, false, nil},
		{"leading zero", `{"process":{"user":{"uid":01}}}`, false, nil},
		{"string into int", `{"process":{"user":{"uid":"1"}}}`, false, nil},
		{"number into string", `{"hostname":1}`, false, nil},
		{"string into array", `{"process":{"args":"sh"}}`, false, nil},
		{"case-mismatch key", `{"Hostname":"h"}`, false, nil},
		{"case-mismatch nested key", `{"process":{"ARGS":["sh"]}}`, false, nil},
		{"non-ASCII key that could fold", `{"ſeccomp":1}`, false, nil},
		{"duplicate key", `{"hostname":"a","hostname":"b"}`, false, nil},
		{"duplicate object key", `{"process":{"cwd":"/"},"process":{"args":["sh"]}}`, false, nil},
		{"interface null", `{"windows":{"credentialSpec":null}}`, true, nil},
		{"interface value", `{"windows":{"credentialSpec":{"a":1}}}`, false, nil},
		{"embedded struct fields", `{"linux":{"resources":{"blockIO":{"weightDevice":[{"major":8,"minor":0,"weight":10}]}}}}`, true,
			func(s *specs.Spec) bool { return s.Linux.Resources.BlockIO.WeightDevice[0].Major == 8 }},
		{"trailing comma", `{"hostname":"a",}`, false, nil},
		{"trailing data", `{} {}`, false, nil},
		{"truncated", `{"hostname":"a"`, false, nil},
		{"literal with junk", `{"process":{"terminal":truex}}`, false, nil},
		{"bool", `{"process":{"terminal":true,"noNewPrivileges":false}}`, true, func(s *specs.Spec) bool { return s.Process.Terminal }},
		{"array at top", `[]`, false, nil},
		{"empty", ``, false, nil},
		{"deep unknown nesting", `{"x":` + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + `}`, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec, _ := check(t, []byte(tc.json))
			if spec != tc.fast {
				t.Fatalf("fast path took it: %v, want %v", spec, tc.fast)
			}
			if tc.want != nil {
				var s specs.Spec
				specjson.Spec([]byte(tc.json), &s)
				if !tc.want(&s) {
					t.Fatalf("decoded %#v", s)
				}
			}
		})
	}
}

// FuzzFastDecode: whenever the fast path takes an input (as a spec or a
// process), encoding/json decodes it to an equal value.
func FuzzFastDecode(f *testing.F) {
	for _, b := range realConfigs(f) {
		f.Add(b)
	}
	for _, s := range []string{`{}`, `null`, `{"process":{"args":["sh"],"user":{"uid":0}}}`, `{"args":["a\u00e9"],"cwd":"/"}`,
		`{"annotations":{"a":null},"linux":{"netDevices":{"e":{}}}}`, `{"x":[1,-2.5e+3,{"b":null}]}`, `{"Hostname":"a"}`,
		`{"hostname":"a","hostname":"b"}`, `{"process":{"user":{"uid":-0}}}`, `{"windows":{"credentialSpec":null}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		check(t, raw)
	})
}

// BenchmarkSpec: the fast path next to encoding/json (warm: its type
// tables built) on runc's spec and on runc's spec with docker's seccomp
// profile.
func BenchmarkSpec(b *testing.B) {
	cfgs := realConfigs(b)
	for _, name := range []string{"runc-spec.json", "runc-spec+docker-default.json"} {
		raw := cfgs[name]
		b.Run(name+"/specjson", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var s specs.Spec
				if !specjson.Spec(raw, &s) {
					b.Fatal("not taken")
				}
			}
		})
		b.Run(name+"/encoding-json", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var s specs.Spec
				if err := json.Unmarshal(raw, &s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
