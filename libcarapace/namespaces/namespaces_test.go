package namespaces

import (
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestCloneFlag(t *testing.T) {
	tests := []struct {
		typ  specs.LinuxNamespaceType
		flag uintptr
		ok   bool
		proc string
	}{
		{specs.PIDNamespace, unix.CLONE_NEWPID, true, "pid"},
		{specs.NetworkNamespace, unix.CLONE_NEWNET, true, "net"},
		{specs.MountNamespace, unix.CLONE_NEWNS, true, "mnt"},
		{specs.IPCNamespace, unix.CLONE_NEWIPC, true, "ipc"},
		{specs.UTSNamespace, unix.CLONE_NEWUTS, true, "uts"},
		{specs.UserNamespace, unix.CLONE_NEWUSER, true, "user"},
		{specs.CgroupNamespace, unix.CLONE_NEWCGROUP, true, "cgroup"},
		{specs.TimeNamespace, unix.CLONE_NEWTIME, true, "time"},
		{"foo", 0, false, ""},
		{"", 0, false, ""},
		{"PID", 0, false, ""},
		{"mnt", 0, false, ""}, // the spec's name is "mount"
	}
	for _, tc := range tests {
		t.Run(string(tc.typ), func(t *testing.T) {
			f, ok := CloneFlag(tc.typ)
			if f != tc.flag || ok != tc.ok {
				t.Errorf("CloneFlag(%q) = %#x, %v; want %#x, %v", tc.typ, f, ok, tc.flag, tc.ok)
			}
			if p := ProcName(tc.typ); p != tc.proc {
				t.Errorf("ProcName(%q) = %q, want %q", tc.typ, p, tc.proc)
			}
		})
	}
}

func TestPlan(t *testing.T) {
	all := []specs.LinuxNamespaceType{
		specs.PIDNamespace, specs.NetworkNamespace, specs.MountNamespace, specs.IPCNamespace,
		specs.UTSNamespace, specs.UserNamespace, specs.CgroupNamespace, specs.TimeNamespace,
	}
	tests := []struct {
		name      string
		nss       []specs.LinuxNamespace
		wantNew   uintptr
		wantJoins []Join
		has       []specs.LinuxNamespaceType // the rest must be !Has
		isNew     []specs.LinuxNamespaceType // the rest must be !IsNew
	}{
		{name: "none"},
		{
			name:    "all new",
			nss:     []specs.LinuxNamespace{{Type: "pid"}, {Type: "network"}, {Type: "mount"}, {Type: "ipc"}, {Type: "uts"}, {Type: "user"}, {Type: "cgroup"}, {Type: "time"}},
			wantNew: unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWNS | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWUSER | unix.CLONE_NEWCGROUP | unix.CLONE_NEWTIME,
			has:     all,
			isNew:   all,
		},
		{
			name:    "default set",
			nss:     []specs.LinuxNamespace{{Type: "pid"}, {Type: "network"}, {Type: "ipc"}, {Type: "uts"}, {Type: "mount"}, {Type: "cgroup"}},
			wantNew: unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP,
			has:     []specs.LinuxNamespaceType{"pid", "network", "ipc", "uts", "mount", "cgroup"},
			isNew:   []specs.LinuxNamespaceType{"pid", "network", "ipc", "uts", "mount", "cgroup"},
		},
		{
			name:    "joins in order",
			nss:     []specs.LinuxNamespace{{Type: "network", Path: "/proc/1/ns/net"}, {Type: "mount"}, {Type: "user", Path: "/proc/1/ns/user"}},
			wantNew: unix.CLONE_NEWNS,
			wantJoins: []Join{
				{Type: "network", Path: "/proc/1/ns/net", Flag: unix.CLONE_NEWNET},
				{Type: "user", Path: "/proc/1/ns/user", Flag: unix.CLONE_NEWUSER},
			},
			has:   []specs.LinuxNamespaceType{"network", "mount", "user"},
			isNew: []specs.LinuxNamespaceType{"mount"},
		},
		{
			name:      "only joined",
			nss:       []specs.LinuxNamespace{{Type: "time", Path: "/run/ns/time"}},
			wantJoins: []Join{{Type: "time", Path: "/run/ns/time", Flag: unix.CLONE_NEWTIME}},
			has:       []specs.LinuxNamespaceType{"time"},
		},
	}
	in := func(t specs.LinuxNamespaceType, l []specs.LinuxNamespaceType) bool {
		for _, x := range l {
			if x == t {
				return true
			}
		}
		return false
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPlan(tc.nss)
			if p.New != tc.wantNew {
				t.Errorf("New = %#x, want %#x", p.New, tc.wantNew)
			}
			if !reflect.DeepEqual(p.Joins, tc.wantJoins) {
				t.Errorf("Joins = %+v, want %+v", p.Joins, tc.wantJoins)
			}
			for _, typ := range all {
				if got, want := p.Has(typ), in(typ, tc.has); got != want {
					t.Errorf("Has(%s) = %v, want %v", typ, got, want)
				}
				if got, want := p.IsNew(typ), in(typ, tc.isNew); got != want {
					t.Errorf("IsNew(%s) = %v, want %v", typ, got, want)
				}
			}
		})
	}
}

func TestPlanUnknownType(t *testing.T) {
	// An unknown type has no flag: it must not make Has/IsNew true for
	// every type (a zero flag ANDed with New is 0).
	p := NewPlan([]specs.LinuxNamespace{{Type: "pid"}})
	if p.Has("foo") || p.IsNew("foo") {
		t.Errorf("Has/IsNew(foo) = %v/%v, want false", p.Has("foo"), p.IsNew("foo"))
	}
}
