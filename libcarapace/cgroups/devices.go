package cgroups

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func devRule(typ string, major, minor int64, access string) specs.LinuxDeviceCgroup {
	r := specs.LinuxDeviceCgroup{Allow: true, Type: typ, Access: access}
	if major >= 0 {
		r.Major = &major
	}
	if minor >= 0 {
		r.Minor = &minor
	}
	return r
}

// defaultDeviceRules are what every container may use whatever its rules
// say: creating nodes (not opening them), the default devices, the pty
// master and slaves, the console, and /dev/net/tun (c 10:200), which runc
// has always allowed (Docker and Kubernetes users rely on it; no node is
// made for it).
var defaultDeviceRules = []specs.LinuxDeviceCgroup{
	devRule("c", -1, -1, "m"), devRule("b", -1, -1, "m"),
	devRule("c", 1, 3, "rwm"), devRule("c", 1, 5, "rwm"), devRule("c", 1, 7, "rwm"),
	devRule("c", 1, 8, "rwm"), devRule("c", 1, 9, "rwm"), devRule("c", 5, 0, "rwm"),
	devRule("c", 5, 1, "rwm"), devRule("c", 5, 2, "rwm"), devRule("c", 136, -1, "rwm"),
	devRule("c", 10, 200, "rwm"),
}

// DeviceRules is the rule list a container's cgroup gets: the spec's
// rules, then the defaults, then access to every node in linux.devices.
// Later rules win, as in the kernel's v1 semantics.
func DeviceRules(rules []specs.LinuxDeviceCgroup, devs []specs.LinuxDevice) []specs.LinuxDeviceCgroup {
	out := append(append([]specs.LinuxDeviceCgroup(nil), rules...), defaultDeviceRules...)
	for _, d := range devs {
		t := d.Type
		if t == "u" {
			t = "c"
		}
		if t == "p" {
			continue
		}
		out = append(out, devRule(t, d.Major, d.Minor, "rwm"))
	}
	return out
}

// CheckDeviceRule validates linux.resources.devices[i]. The access is any
// combination of r, w and m, in any order (the kernel's v1 parser takes
// them so); anything else, such as v1's devices.list "a", is refused here,
// where runc would drop the letter (its permission sets keep only r, w and
// m) and then fail on v1 when devices.list does not match. An empty access
// is all of them (the spec makes it optional; runc refuses it).
func CheckDeviceRule(i int, r specs.LinuxDeviceCgroup) error {
	f := fmt.Sprintf("linux.resources.devices[%d]", i)
	switch r.Type {
	case "", "a", "c", "b":
	default:
		return fmt.Errorf("%s.type %q: must be a, c or b", f, r.Type)
	}
	if strings.Trim(r.Access, "rwm") != "" {
		return fmt.Errorf("%s.access %q: must combine r (read), w (write) and m (mknod) only", f, r.Access)
	}
	return nil
}

// deviceRuleString is the v1 devices.allow/deny line: "c 1:3 rwm".
func deviceRuleString(r specs.LinuxDeviceCgroup) string {
	t := r.Type
	if t == "" {
		t = "a"
	}
	num := func(p *int64) string {
		if p == nil || *p < 0 {
			return "*"
		}
		return fmt.Sprint(*p)
	}
	acc := r.Access
	if acc == "" {
		acc = "rwm"
	}
	return fmt.Sprintf("%s %s:%s %s", t, num(r.Major), num(r.Minor), acc)
}

// V1DeviceWrites turns rules into devices.allow and devices.deny writes.
func V1DeviceWrites(rules []specs.LinuxDeviceCgroup) ([]Write, error) {
	var ws []Write
	for i, r := range rules {
		if err := CheckDeviceRule(i, r); err != nil {
			return nil, err
		}
		file := "devices.deny"
		if r.Allow {
			file = "devices.allow"
		}
		ws = append(ws, w("devices", file, deviceRuleString(r), fmt.Sprintf("devices[%d]", i)))
	}
	return ws, nil
}
