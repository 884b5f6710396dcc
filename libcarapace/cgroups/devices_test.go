package cgroups

import (
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestV1DeviceWrites: from a devices.list and the rules, the writes that
// reach the rules' state without denying, in between, anything allowed
// before and after.
func TestV1DeviceWrites(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	denyAll := specs.LinuxDeviceCgroup{Allow: false, Access: "rwm"}
	allowAll := specs.LinuxDeviceCgroup{Allow: true, Type: "a", Access: "rwm"}
	null := specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: n(1), Minor: n(3), Access: "rwm"}
	nullR := specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: n(1), Minor: n(3), Access: "r"}
	zero := specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: n(1), Minor: n(5), Access: "rw"}
	allC := specs.LinuxDeviceCgroup{Allow: true, Type: "c", Access: "m"}
	for _, tc := range []struct {
		name  string
		list  string
		rules []specs.LinuxDeviceCgroup
		want  []string
	}{
		{"fresh cgroup to allowlist: deny-all first, then the rules in their listed order", "a *:* rwm",
			[]specs.LinuxDeviceCgroup{denyAll, null, allC},
			[]string{"deny=a *:* rwm", "allow=c 1:3 rwm", "allow=c *:* m"}},
		{"listed order kept (runtime-tools linux_cgroups_devices reads devices.list in it)", "a *:* rwm",
			[]specs.LinuxDeviceCgroup{denyAll, allC, null},
			[]string{"deny=a *:* rwm", "allow=c *:* m", "allow=c 1:3 rwm"}},
		{"no a rule: an allowlist too, as on v2 and in runc", "a *:* rwm",
			[]specs.LinuxDeviceCgroup{null},
			[]string{"deny=a *:* rwm", "allow=c 1:3 rwm"}},
		{"same allowlist: nothing to write", "c *:* m\nc 1:3 rwm\n",
			[]specs.LinuxDeviceCgroup{denyAll, null, allC}, nil},
		{"one more allow: only that", "c 1:3 rwm",
			[]specs.LinuxDeviceCgroup{denyAll, null, zero},
			[]string{"allow=c 1:5 rw"}},
		{"one allow less: only its denial", "c 1:3 rwm\nc 1:5 rw",
			[]specs.LinuxDeviceCgroup{denyAll, null},
			[]string{"deny=c 1:5 rw"}},
		{"rwm to r: deny the letters that go", "c 1:3 rwm",
			[]specs.LinuxDeviceCgroup{denyAll, nullR},
			[]string{"deny=c 1:3 wm"}},
		{"r to rwm: allow the letters that come", "c 1:3 r",
			[]specs.LinuxDeviceCgroup{denyAll, null},
			[]string{"allow=c 1:3 wm"}},
		{"swap: allows before denials", "c 1:3 rwm",
			[]specs.LinuxDeviceCgroup{denyAll, zero},
			[]string{"allow=c 1:5 rw", "deny=c 1:3 rwm"}},
		{"wildcard to specific: the specific allow comes first", "c *:* rwm",
			[]specs.LinuxDeviceCgroup{denyAll, null},
			[]string{"allow=c 1:3 rwm", "deny=c *:* rwm"}},
		{"later deny takes letters away", "",
			[]specs.LinuxDeviceCgroup{denyAll, null, {Allow: false, Type: "c", Major: n(1), Minor: n(3), Access: "w"}},
			[]string{"allow=c 1:3 rm"}},
		{"later deny-all drops what came before", "c 1:3 rwm",
			[]specs.LinuxDeviceCgroup{zero, denyAll, null},
			nil},
		{"allowlist to allow-all", "c 1:3 rwm",
			[]specs.LinuxDeviceCgroup{allowAll},
			[]string{"allow=a *:* rwm"}},
		{"allowlist to denylist: allow all, then the denials", "c 1:3 rwm",
			[]specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}, {Allow: false, Type: "b", Major: n(8), Access: "w"}},
			[]string{"allow=a *:* rwm", "deny=b 8:* w"}},
		{"denylist again: its denials cannot be read, so start over", "a *:* rwm",
			[]specs.LinuxDeviceCgroup{allowAll, {Allow: false, Type: "b", Major: n(8), Access: "w"}},
			[]string{"allow=a *:* rwm", "deny=b 8:* w"}},
		{"empty access is rwm", "",
			[]specs.LinuxDeviceCgroup{denyAll, {Allow: true, Type: "c", Major: n(1), Minor: n(3)}},
			[]string{"allow=c 1:3 rwm"}},
		{"no rules: deny everything", "a *:* rwm", []specs.LinuxDeviceCgroup{}, []string{"deny=a *:* rwm"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws, err := V1DeviceWrites(tc.list, tc.rules)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, x := range ws {
				if x.Controller != "devices" {
					t.Errorf("write to controller %q", x.Controller)
				}
				got = append(got, strings.TrimPrefix(x.File, "devices.")+"="+x.Value)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("writes %q, want %q", got, tc.want)
			}
		})
	}
}

func TestV1DeviceWritesBadList(t *testing.T) {
	for _, list := range []string{"x 1:3 rwm", "c 1 rwm", "c 1:3", "c a:3 rwm", "c 1:3 rwx", "c 1:-3 r"} {
		if _, err := V1DeviceWrites(list, nil); err == nil || !strings.Contains(err.Error(), "devices.list") {
			t.Errorf("devices.list %q: err = %v, want one naming devices.list", list, err)
		}
	}
}
