package cgroups

import (
	"fmt"
	"slices"
	"strconv"
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

// devAccess is a set of v1 device accesses: r, w and m.
type devAccess uint8

const (
	accRead devAccess = 1 << iota
	accWrite
	accMknod
)

func parseAccess(s string) (devAccess, bool) {
	var a devAccess
	for _, c := range s {
		switch c {
		case 'r':
			a |= accRead
		case 'w':
			a |= accWrite
		case 'm':
			a |= accMknod
		default:
			return 0, false
		}
	}
	return a, true
}

func (a devAccess) String() string {
	var b strings.Builder
	for _, x := range []struct {
		bit devAccess
		c   byte
	}{{accRead, 'r'}, {accWrite, 'w'}, {accMknod, 'm'}} {
		if a&x.bit != 0 {
			b.WriteByte(x.c)
		}
	}
	return b.String()
}

// devKey is what a v1 exception matches: a type (c or b) and a major and
// minor number, -1 for "*".
type devKey struct {
	typ          byte
	major, minor int64
}

func (k devKey) String() string {
	num := func(n int64) string {
		if n < 0 {
			return "*"
		}
		return strconv.FormatInt(n, 10)
	}
	return fmt.Sprintf("%c %s:%s", k.typ, num(k.major), num(k.minor))
}

// devState is a v1 devices cgroup as the kernel keeps it: a default
// (allow or deny everything) and exceptions to it, one access set per
// exact type, major and minor. Writing "a" to devices.allow or deny sets the
// default and drops every exception; any other line adds the access to
// its exception when it goes against the default, and takes it away from
// that exact exception (wildcards are not split) otherwise.
type devState struct {
	allowAll bool
	exc      map[devKey]devAccess
	// order is the exceptions' keys as first added: the kernel lists them
	// so, and the spec asks for the rules in their listed order.
	order []devKey
}

func (s *devState) apply(allow bool, typ byte, major, minor int64, acc devAccess) {
	if typ == 'a' {
		*s = devState{allowAll: allow}
		return
	}
	k := devKey{typ, major, minor}
	if s.exc == nil {
		s.exc = map[devKey]devAccess{}
	}
	if allow != s.allowAll {
		if _, ok := s.exc[k]; !ok {
			s.order = append(s.order, k)
		}
		s.exc[k] |= acc
		return
	}
	if s.exc[k] &^= acc; s.exc[k] == 0 {
		delete(s.exc, k)
		s.order = slices.DeleteFunc(s.order, func(o devKey) bool { return o == k })
	}
}

// parseDevicesList reads a v1 devices.list. It lists the exceptions of a
// deny-by-default cgroup, or only "a *:* rwm" when the default is allow
// (the kernel does not show that mode's exceptions).
func parseDevicesList(list string) (devState, error) {
	var s devState
	for _, line := range strings.Split(list, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		f := strings.Fields(line)
		bad := fmt.Errorf("devices.list line %q: not \"type major:minor access\"", line)
		if len(f) != 3 || len(f[0]) != 1 || strings.IndexByte("acb", f[0][0]) < 0 {
			return devState{}, bad
		}
		mm := strings.Split(f[1], ":")
		if len(mm) != 2 {
			return devState{}, bad
		}
		var nums [2]int64
		for i, n := range mm {
			nums[i] = -1
			if n != "*" {
				v, err := strconv.ParseInt(n, 10, 64)
				if err != nil || v < 0 {
					return devState{}, bad
				}
				nums[i] = v
			}
		}
		acc, ok := parseAccess(f[2])
		if !ok || acc == 0 {
			return devState{}, bad
		}
		s.apply(true, f[0][0], nums[0], nums[1], acc)
	}
	return s, nil
}

// deviceTarget is the state rules lead to from a cgroup that denies
// everything, as runc's cgroups library computes it: without an "a" rule,
// a container may use only the devices its rules allow (as on cgroup v2,
// where no matching rule means deny).
func deviceTarget(rules []specs.LinuxDeviceCgroup) (devState, error) {
	var s devState
	for i, r := range rules {
		if err := CheckDeviceRule(i, r); err != nil {
			return devState{}, err
		}
		typ := byte('a')
		if r.Type != "" {
			typ = r.Type[0]
		}
		num := func(p *int64) int64 {
			if p == nil || *p < 0 {
				return -1
			}
			return *p
		}
		acc, _ := parseAccess(r.Access)
		if r.Access == "" {
			acc = accRead | accWrite | accMknod
		}
		s.apply(r.Allow, typ, num(r.Major), num(r.Minor), acc)
	}
	return s, nil
}

// V1DeviceWrites returns the devices.allow and devices.deny writes that
// take a v1 devices cgroup whose devices.list reads list to what rules
// ask for, so that an access allowed before and after is never denied in
// between: the container runs during an update. Between two deny-by-default
// states, new allows go first and then only what is no longer allowed is
// taken away (a single access letter if need be). Allow-by-default targets
// start with "a *:* rwm" allowed, which only widens access until their
// denials are written. Only going from allow-by-default to deny-by-default
// denies everything first, as the kernel offers no other way; that is the
// case at create, where the new cgroup allows all and nothing runs in it
// yet.
func V1DeviceWrites(list string, rules []specs.LinuxDeviceCgroup) ([]Write, error) {
	target, err := deviceTarget(rules)
	if err != nil {
		return nil, err
	}
	cur, err := parseDevicesList(list)
	if err != nil {
		return nil, fmt.Errorf("linux.resources.devices: %w", err)
	}
	const field = "devices"
	var ws []Write
	add := func(allow bool, line string) {
		file := "devices.deny"
		if allow {
			file = "devices.allow"
		}
		ws = append(ws, w("devices", file, line, field))
	}
	// In allow-by-default mode the current denials are unknown: start over.
	if cur.allowAll || target.allowAll {
		add(target.allowAll, "a *:* rwm")
		cur = devState{allowAll: target.allowAll}
	}
	for _, k := range target.keys() {
		if gained := target.exc[k] &^ cur.exc[k]; gained != 0 {
			add(!target.allowAll, k.String()+" "+gained.String())
		}
	}
	for _, k := range cur.keys() {
		if lost := cur.exc[k] &^ target.exc[k]; lost != 0 {
			add(target.allowAll, k.String()+" "+lost.String())
		}
	}
	return ws, nil
}

// keys lists the exceptions in force in the order they were first added,
// so that the writes follow the rules' order and are the same each time.
func (s *devState) keys() []devKey {
	return s.order
}
