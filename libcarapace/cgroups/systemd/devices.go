package systemd

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// devKey is a device rule's target: 'c' or 'b', and its numbers (-1: any).
type devKey struct {
	typ          byte
	major, minor int64
}

// deviceProperties turns the container's device rules (later rules win)
// into DevicePolicy= and DeviceAllow=. The runtime enforces the exact
// rules itself afterwards (v1 files, a v2 eBPF program next to systemd's);
// systemd's copy matters because systemd re-applies it whenever it
// touches the unit, so it must never allow more than the rules do:
//
//   - an allow-list (the usual case) becomes DevicePolicy=strict with the
//     same entries; an entry systemd cannot name (a wildcard major with a
//     given minor, a major-only rule before systemd 240) is left out;
//   - "allow all" becomes DevicePolicy=auto with no list;
//   - "allow all except ..." cannot be said to systemd, and becomes an
//     empty strict list (deny all) as runc does, so that systemd never
//     opens what the rules close.
//
// DeviceAllow is sent empty first: on a unit that exists (update), a list
// adds to the one in place, and an empty one clears it.
func deviceProperties(rules []specs.LinuxDeviceCgroup, version int) []Property {
	allowAll := false
	perms := map[devKey]string{}
	var order []devKey
	for _, r := range rules {
		typ := r.Type
		if typ == "" {
			typ = "a"
		}
		acc := r.Access
		if acc == "" {
			acc = "rwm"
		}
		if typ == "a" {
			// As the kernel reads "a": every device, a new default.
			allowAll = r.Allow
			perms, order = map[devKey]string{}, nil
			continue
		}
		k := devKey{typ[0], -1, -1}
		if r.Major != nil && *r.Major >= 0 {
			k.major = *r.Major
		}
		if r.Minor != nil && *r.Minor >= 0 {
			k.minor = *r.Minor
		}
		if allowAll {
			// Exceptions to "allow all": a deny adds one, an allow of
			// the same target takes it back.
			if r.Allow {
				perms[k] = without(perms[k], acc)
			} else {
				if _, ok := perms[k]; !ok {
					order = append(order, k)
				}
				perms[k] = with(perms[k], acc)
			}
			continue
		}
		if r.Allow {
			if _, ok := perms[k]; !ok {
				order = append(order, k)
			}
			perms[k] = with(perms[k], acc)
			continue
		}
		// A deny takes its access from every entry it covers.
		for e, p := range perms {
			if e.typ == k.typ && (k.major == -1 || k.major == e.major) && (k.minor == -1 || k.minor == e.minor) {
				perms[e] = without(p, acc)
			}
		}
	}
	reset := Property{"DeviceAllow", []DeviceAllow{}}
	if allowAll {
		for _, k := range order {
			if perms[k] != "" {
				// Exceptions systemd cannot express: deny everything.
				return []Property{{"DevicePolicy", "strict"}, reset}
			}
		}
		return []Property{{"DevicePolicy", "auto"}, reset}
	}
	var list []DeviceAllow
	for _, k := range order {
		p := perms[k]
		if p == "" {
			continue
		}
		group := "char-"
		if k.typ == 'b' {
			group = "block-"
		}
		var path string
		switch {
		case k.major == -1 && k.minor == -1:
			path = group + "*"
		case k.major == -1:
			continue // "c *:5": systemd has no way to name it
		case k.minor == -1:
			if version < versionDeviceMajor {
				continue
			}
			path = fmt.Sprintf("%s%d", group, k.major)
		default:
			path = fmt.Sprintf("/dev/%s/%d:%d", strings.TrimSuffix(group, "-"), k.major, k.minor)
		}
		list = append(list, DeviceAllow{path, p})
	}
	ps := []Property{{"DevicePolicy", "strict"}, reset}
	if len(list) > 0 {
		ps = append(ps, Property{"DeviceAllow", list})
	}
	return ps
}

// with and without add and remove access letters, kept in rwm order.
func with(p, acc string) string {
	var b strings.Builder
	for _, c := range "rwm" {
		if strings.ContainsRune(p, c) || strings.ContainsRune(acc, c) {
			b.WriteRune(c)
		}
	}
	return b.String()
}

func without(p, acc string) string {
	var b strings.Builder
	for _, c := range "rwm" {
		if strings.ContainsRune(p, c) && !strings.ContainsRune(acc, c) {
			b.WriteRune(c)
		}
	}
	return b.String()
}
