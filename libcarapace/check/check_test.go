package check

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/cgroups"
)

func TestSyscallInterpret(t *testing.T) {
	p := syscallProbe{name: "openat2", since: "5.6", impact: "every create", needed: true}
	q := syscallProbe{name: "close_range", since: "5.9", impact: "a fallback"}
	for _, tc := range []struct {
		p      syscallProbe
		errno  unix.Errno
		status Status
		value  string
	}{
		{p, unix.EINVAL, OK, "available"},
		{p, unix.EFAULT, OK, "available"},
		{p, unix.ENOSYS, Missing, "missing (ENOSYS)"},
		{p, unix.EPERM, Missing, "blocked (EPERM)"},
		{q, unix.ENOSYS, Warn, "missing (ENOSYS)"},
		{q, unix.EBADF, OK, "available"},
	} {
		f := tc.p.interpret(tc.errno)
		if f.Status != tc.status || f.Value != tc.value {
			t.Errorf("%s with %v: got %s %q, want %s %q", tc.p.name, tc.errno, f.Status, f.Value, tc.status, tc.value)
		}
		if f.Status != OK && (f.Impact == "" || f.Fix == "") {
			t.Errorf("%s with %v: a %s finding needs its impact and fix: %+v", tc.p.name, tc.errno, f.Status, f)
		}
	}
}

func TestSeccompFlags(t *testing.T) {
	known := []string{"A", "B", "C"}
	if f := seccompFlags(known, known); f.Status != OK || f.Value != "A B C" {
		t.Errorf("all supported: %+v", f)
	}
	f := seccompFlags(known, []string{"A"})
	if f.Status != Warn || !strings.Contains(f.Value, "(not: B C)") || !strings.Contains(f.Impact, "B, C") {
		t.Errorf("B and C unsupported: %+v", f)
	}
}

func TestUserNSLimits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sysctl map[string]string
		want   []Status
	}{
		{"plain kernel", map[string]string{"user.max_user_namespaces": "1000"}, []Status{OK, Info, Info}},
		{"disabled", map[string]string{"user.max_user_namespaces": "0"}, []Status{Missing, Info, Info}},
		{"debian off", map[string]string{"user.max_user_namespaces": "1000", "kernel.unprivileged_userns_clone": "0"}, []Status{OK, Warn, Info}},
		{"debian on", map[string]string{"user.max_user_namespaces": "1000", "kernel.unprivileged_userns_clone": "1"}, []Status{OK, OK, Info}},
		{"ubuntu restricted", map[string]string{"user.max_user_namespaces": "1000", "kernel.apparmor_restrict_unprivileged_userns": "1"}, []Status{OK, Info, Warn}},
		{"ubuntu open", map[string]string{"user.max_user_namespaces": "1000", "kernel.apparmor_restrict_unprivileged_userns": "0"}, []Status{OK, Info, OK}},
	} {
		fs := UserNSLimits(func(n string) (string, bool) { v, ok := tc.sysctl[n]; return v, ok })
		for i, f := range fs {
			if f.Status != tc.want[i] {
				t.Errorf("%s: %s: got %s, want %s", tc.name, f.Name, f.Status, tc.want[i])
			}
		}
	}
}

func TestCapFinding(t *testing.T) {
	const all = uint64(1)<<41 - 1
	for _, tc := range []struct {
		name   string
		euid   int
		eff    uint64
		status Status
		value  string
	}{
		{"full root", 0, all, OK, "root with every capability"},
		{"root without CAP_SYS_RESOURCE", 0, all &^ (1 << unix.CAP_SYS_RESOURCE), Warn, "root without CAP_SYS_RESOURCE"},
		{"rootless", 1000, 0, Info, "uid 1000 without most capabilities (rootless)"},
	} {
		f := capFinding(tc.euid, tc.eff, 40)
		if f.Status != tc.status || f.Value != tc.value {
			t.Errorf("%s: got %s %q, want %s %q", tc.name, f.Status, f.Value, tc.status, tc.value)
		}
	}
	if f := capFinding(0, all&^(1<<unix.CAP_SYS_RESOURCE), 40); !strings.Contains(f.Impact, "process.rlimits") {
		t.Errorf("without CAP_SYS_RESOURCE the impact names process.rlimits: %+v", f)
	}
}

func TestSubIDFinding(t *testing.T) {
	const file = "alice:100000:65536\n1001:200000:1000\nbob:300000:65536\n"
	for _, tc := range []struct {
		name   string
		user   string
		uid    int
		exists bool
		status Status
		value  string
	}{
		{"by name", "alice", 1000, true, OK, `65536 ids for "alice"`},
		{"by uid", "carol", 1001, true, OK, `1000 ids for "carol"`},
		{"none", "dave", 1002, true, Warn, `0 ids for "dave"`},
		{"no file", "dave", 1002, false, Warn, "no /etc/subuid"},
		{"root", "root", 0, true, Info, `0 ids for "root" (root maps any id without them)`},
	} {
		content := file
		if !tc.exists {
			content = ""
		}
		f := subIDFinding("/etc/subuid", content, tc.exists, tc.user, tc.uid)
		if f.Status != tc.status || f.Value != tc.value {
			t.Errorf("%s: got %s %q, want %s %q", tc.name, f.Status, f.Value, tc.status, tc.value)
		}
	}
}

func TestLSMFindings(t *testing.T) {
	fs := lsmFindings("lockdown,capability,apparmor", "Y", "", false)
	if fs[1].Status != OK || fs[2].Status != Info || fs[0].Value != "lockdown,capability,apparmor" {
		t.Errorf("AppArmor host: %+v", fs)
	}
	fs = lsmFindings("capability,selinux", "", "1", true)
	if fs[1].Status != Info || fs[2].Status != OK || fs[2].Value != "enforcing" {
		t.Errorf("SELinux host: %+v", fs)
	}
}

func TestCgroupFindings(t *testing.T) {
	if f := cgroupMode(cgroups.ModeHybrid); f.Value != "hybrid" || !strings.Contains(f.Impact, "linux.resources.unified") {
		t.Errorf("hybrid: %+v", f)
	}
	if f := cgroupMode(cgroups.ModeNone); f.Status != Missing {
		t.Errorf("none: %+v", f)
	}
	all := []string{"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "hugetlb", "memory", "net_cls", "net_prio", "pids", "rdma", "name=systemd"}
	if f := v1Controllers(all, nil); f.Status != OK || strings.Contains(f.Value, "name=") {
		t.Errorf("every controller: %+v", f)
	}
	f := v1Controllers([]string{"cpu", "memory", "blkio", "cpuacct", "cpuset", "devices", "freezer", "pids", "net_prio"}, []string{"hugetlb"})
	if f.Status != Warn || !strings.Contains(f.Value, "not mounted: net_cls rdma") || !strings.Contains(f.Impact, "network.classID") {
		t.Errorf("no net_cls, rdma; hugetlb on cgroup2: %+v", f)
	}
}

func TestNamespaceFinding(t *testing.T) {
	if f := namespaceFinding("time", nil); f.Status != OK {
		t.Errorf("made: %+v", f)
	}
	f := namespaceFinding("time", errors.Join(errors.New("fork/exec"), unix.EINVAL))
	if f.Status != Missing || !strings.Contains(f.Value, "EINVAL") || !strings.Contains(f.Fix, "CONFIG_TIME_NS") {
		t.Errorf("refused: %+v", f)
	}
}

func TestFieldOf(t *testing.T) {
	for msg, want := range map[string]string{
		"config.json: linux.resources.blockIO.weight: blkio.weight does not exist":   "linux.resources.blockIO.weight",
		`config.json: linux.namespaces[5].type: "foo": unknown namespace type`:       "linux.namespaces[5].type",
		"--systemd-cgroup: systemd is not running on this host":                      "--systemd-cgroup",
		`config.json: linux.mountLabel "x:y:z": SELinux is not enabled on this host`: "linux.mountLabel",
		`config.json: process.args[0] "/x y": no such file or directory`:             "process.args[0]",
		"this kernel is Linux 4.19: carapace needs Linux 5.6":                        "",
		"config.json: invalid character '}' looking for beginning of value":          "",
	} {
		if got := fieldOf(msg); got != want {
			t.Errorf("fieldOf(%q) = %q, want %q", msg, got, want)
		}
	}
}

// TestHostProbes runs the probes on this host: they must not fail to
// run, and what every supported kernel has must be found.
func TestHostProbes(t *testing.T) {
	fs := Host(Options{Paths: []string{t.TempDir()}})
	seen := map[string]Finding{}
	for _, f := range fs {
		seen[f.Area+"/"+f.Name] = f
		if f.Status == "" || f.Value == "" {
			t.Errorf("finding without status or value: %+v", f)
		}
	}
	for _, k := range []string{"kernel/release", "syscall/openat2", "namespace/mount", "devices//proc", "devices//dev/null"} {
		if seen[k].Status != OK {
			t.Errorf("%s: %+v", k, seen[k])
		}
	}
}
