package check

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/cgroups"
	"github.com/carapace-oci/carapace/libcarapace/cgroups/systemd"
	"github.com/carapace-oci/carapace/libcarapace/kernel"
	"github.com/carapace-oci/carapace/libcarapace/mountinfo"
	"github.com/carapace-oci/carapace/libcarapace/namespaces"
	"github.com/carapace-oci/carapace/libcarapace/process"
	"github.com/carapace-oci/carapace/libcarapace/seccomp"
)

// Options say what to look at beyond the host itself.
type Options struct {
	// Paths are directories whose filesystems matter (the state root, a
	// bundle's rootfs): idmapped mounts are tried on each.
	Paths []string
	// SystemdCgroup: the caller means to use --systemd-cgroup.
	SystemdCgroup bool
}

// Host runs every probe.
func Host(o Options) []Finding {
	var fs []Finding
	fs = append(fs, Kernel())
	fs = append(fs, Syscalls()...)
	fs = append(fs, Seccomp()...)
	fs = append(fs, Cgroups()...)
	fs = append(fs, Systemd(o.SystemdCgroup))
	fs = append(fs, Namespaces()...)
	fs = append(fs, UserNSLimits(readSysctl)...)
	fs = append(fs, IDMap(o.Paths)...)
	fs = append(fs, LSMs()...)
	fs = append(fs, Capabilities())
	fs = append(fs, Rlimits()...)
	fs = append(fs, DevNull(), Proc())
	fs = append(fs, SubIDs()...)
	return fs
}

// Kernel is the running kernel against kernel.Minimum (create's check).
func Kernel() Finding {
	var u unix.Utsname
	f := Finding{Area: "kernel", Name: "release", Meaning: "carapace needs Linux " + kernel.Minimum.String() + " or newer (mount_setattr, openat2)"}
	if err := unix.Uname(&u); err != nil {
		f.Status, f.Value = Missing, err.Error()
		return f
	}
	f.Value = unix.ByteSliceToString(u.Release[:])
	f.Status = OK
	if err := kernel.Check(); err != nil {
		f.Status, f.Impact, f.Fix = Missing, "every create: "+err.Error(), "boot Linux "+kernel.Minimum.String()+" or newer"
	}
	return f
}

// syscallProbe is a syscall called with arguments it refuses before doing
// anything (EINVAL, EBADF, EFAULT): only ENOSYS, or EPERM from a seccomp
// filter around the runtime, says it cannot be used.
type syscallProbe struct {
	name    string
	nr      uintptr
	args    [6]uintptr
	since   string
	meaning string
	impact  string // what fails or falls back without it
	needed  bool   // missing means containers fail, not a fallback
	// permFirst: the kernel checks privilege before the arguments, so
	// EPERM is its answer to a rootless caller, not a filter's.
	permFirst bool
}

// syscallProbes are kernel.Required, without which create refuses to run,
// then the syscalls the runtime has a fallback for. Built when check runs,
// not at every start of the binary.
func syscallProbes() []syscallProbe {
	return append(requiredProbes(), optionalProbes...)
}

var optionalProbes = []syscallProbe{
	{name: "clone3", nr: unix.SYS_CLONE3, since: "5.3",
		meaning: "starts init directly in its cgroup (CLONE_INTO_CGROUP, 5.7)",
		impact:  "init is moved into its cgroup after it starts instead"},
	{name: "close_range", nr: unix.SYS_CLOSE_RANGE, args: [6]uintptr{1, 0, 0}, since: "5.9",
		meaning: "closes the runtime's descriptors before the container's program runs",
		impact:  "a fallback that marks each open descriptor close-on-exec, found with poll"},
}

func requiredProbes() []syscallProbe {
	out := make([]syscallProbe, 0, len(kernel.Required))
	for _, s := range kernel.Required {
		out = append(out, syscallProbe{name: s.Name, nr: s.Nr, args: s.Args, since: s.Since,
			meaning: s.Why, impact: "every create", needed: true, permFirst: s.PermFirst})
	}
	return out
}

// Syscalls tries each syscall the runtime relies on.
func Syscalls() []Finding {
	var out []Finding
	for _, p := range syscallProbes() {
		_, _, e := unix.Syscall6(p.nr, p.args[0], p.args[1], p.args[2], p.args[3], p.args[4], p.args[5])
		out = append(out, p.interpret(e))
	}
	return out
}

// interpret reads the errno of a probe call.
func (p syscallProbe) interpret(e syscall.Errno) Finding {
	f := Finding{Area: "syscall", Name: p.name, Meaning: p.meaning}
	switch e {
	case unix.ENOSYS:
		f.Status, f.Value = Warn, "missing (ENOSYS)"
		f.Impact, f.Fix = p.impact, "boot Linux "+p.since+" or newer"
	case unix.EPERM:
		if p.permFirst && unix.Geteuid() != 0 {
			f.Status, f.Value = OK, "available (EPERM to this unprivileged caller)"
			break
		}
		f.Status, f.Value = Warn, "blocked (EPERM)"
		f.Impact, f.Fix = p.impact, "a seccomp filter or LSM around the runtime refuses it: allow "+p.name+" for the runtime"
	default:
		f.Status, f.Value = OK, "available"
	}
	if f.Status != OK && p.needed {
		f.Status = Missing
	}
	return f
}

// Seccomp reports user notification and the filter flags the kernel
// takes, asked of the kernel as create's compiled filters are loaded.
func Seccomp() []Finding {
	var sizes [3]uint16
	_, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_GET_NOTIF_SIZES, 0, uintptr(unsafe.Pointer(&sizes)))
	notif := Finding{Area: "seccomp", Name: "user notification", Status: OK, Value: "available",
		Meaning: "SCMP_ACT_NOTIFY rules and linux.seccomp.listenerPath (5.0)"}
	if e != 0 {
		notif.Status, notif.Value = Warn, "missing ("+unix.ErrnoName(e)+")"
		notif.Impact, notif.Fix = "profiles with SCMP_ACT_NOTIFY", "boot Linux 5.0 or newer"
	}
	return []Finding{notif, seccompFlags(seccomp.KnownFlags(), seccomp.SupportedFlags())}
}

func seccompFlags(known, supported []string) Finding {
	f := Finding{Area: "seccomp", Name: "filter flags", Status: OK,
		Meaning: "linux.seccomp.flags this kernel accepts", Value: strings.Join(supported, " ")}
	var lack []string
	for _, k := range known {
		if !slices.Contains(supported, k) {
			lack = append(lack, k)
		}
	}
	if len(lack) > 0 {
		f.Status = Warn
		f.Value += " (not: " + strings.Join(lack, " ") + ")"
		f.Impact = "profiles asking for " + strings.Join(lack, ", ") + " fail when init loads them"
		f.Fix = "a newer kernel, or drop the flag from the profile"
	}
	return f
}

// v1Fields maps each v1 controller to what needs it.
var v1Fields = map[string]string{
	"cpu": "linux.resources.cpu (shares, quota, period)", "cpuacct": "cpu usage stats",
	"cpuset": "linux.resources.cpu.cpus/mems", "memory": "linux.resources.memory",
	"pids": "linux.resources.pids", "blkio": "linux.resources.blockIO",
	"devices": "linux.resources.devices (every container)", "freezer": "pause/resume",
	"net_cls": "linux.resources.network.classID", "net_prio": "linux.resources.network.priorities",
	"hugetlb": "linux.resources.hugepageLimits", "rdma": "linux.resources.rdma",
}

// Cgroups reports the cgroup layout and its controllers.
func Cgroups() []Finding {
	hs, err := cgroups.Hierarchies()
	if err != nil {
		return []Finding{{Area: "cgroup", Name: "mode", Status: Missing, Value: err.Error()}}
	}
	mode := cgroups.DetectMode(hs)
	own, _ := cgroups.ProcCgroups("self")
	out := []Finding{cgroupMode(mode)}
	var v1, v2 []string
	for _, h := range hs {
		if h.V2 {
			f, offered := cgroup2(h, own[""], mode)
			out = append(out, f)
			v2 = offered
			continue
		}
		v1 = append(v1, h.Controllers...)
	}
	if mode == cgroups.ModeV1 || mode == cgroups.ModeHybrid {
		out = append(out, v1Controllers(v1, v2))
	}
	return out
}

func cgroupMode(m cgroups.Mode) Finding {
	f := Finding{Area: "cgroup", Name: "mode", Value: m.String(), Status: OK}
	switch m {
	case cgroups.ModeV2:
		f.Meaning = "unified hierarchy: every resource, linux.resources.unified, eBPF device filter"
	case cgroups.ModeHybrid:
		f.Status = Info
		f.Meaning = "v1 controllers, plus a cgroup2 mount with what v1 does not hold"
		f.Impact = "linux.resources.unified (needs pure cgroup v2)"
	case cgroups.ModeV1:
		f.Status = Info
		f.Meaning = "v1 controllers only"
		f.Impact = "linux.resources.unified (needs cgroup v2)"
	default:
		f.Status = Missing
		f.Meaning = "no cgroup hierarchy is mounted"
		f.Impact, f.Fix = "every create", "mount cgroup2 at /sys/fs/cgroup"
	}
	return f
}

// v1Controllers reports the v1 hierarchies; on a hybrid host hugetlb may
// be on the cgroup2 mount only (v2), where create writes it.
func v1Controllers(have, v2 []string) Finding {
	f := Finding{Area: "cgroup", Name: "v1 controllers", Status: OK, Meaning: "the hierarchies create writes limits to"}
	var names, lack []string
	for _, c := range have {
		if !strings.HasPrefix(c, "name=") {
			names = append(names, c)
		}
	}
	slices.Sort(names)
	f.Value = strings.Join(names, " ")
	keys := make([]string, 0, len(v1Fields))
	for k := range v1Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var impact []string
	for _, c := range keys {
		if !slices.Contains(names, c) && !(c == "hugetlb" && slices.Contains(v2, c)) {
			lack = append(lack, c)
			impact = append(impact, v1Fields[c])
		}
	}
	if len(lack) > 0 {
		f.Status = Warn
		f.Value += " (not mounted: " + strings.Join(lack, " ") + ")"
		f.Impact = strings.Join(impact, "; ")
		f.Fix = "mount the controllers' hierarchies under /sys/fs/cgroup, or boot with cgroup v2"
	}
	return f
}

// cgroup2 reports what the cgroup2 mount offers, what is enabled for the
// runtime's children, and whether the runtime may make cgroups there
// (delegation).
func cgroup2(h cgroups.Hierarchy, own string, mode cgroups.Mode) (Finding, []string) {
	dir := filepath.Join(h.Mountpoint, strings.TrimPrefix(own, h.Root))
	offered, _ := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	enabled, _ := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
	f := Finding{Area: "cgroup", Name: "cgroup2 controllers", Status: OK,
		Meaning: "offered at " + dir + ", and enabled for its children (create enables the rest)"}
	f.Value = "offered: " + strings.Join(strings.Fields(string(offered)), " ") +
		"; enabled: " + strings.Join(strings.Fields(string(enabled)), " ")
	if unix.Access(dir, unix.W_OK) != nil {
		f.Status = Warn
		f.Value += "; not writable"
		f.Impact = "cgroups under " + dir + " cannot be made by this user"
		f.Fix = "run as root, or have systemd delegate a cgroup (Delegate=yes)"
	}
	if mode == cgroups.ModeV2 {
		for _, c := range []string{"cpu", "memory", "pids", "io"} {
			if !slices.Contains(strings.Fields(string(offered)), c) {
				f.Status = Warn
				f.Impact = strings.TrimPrefix(f.Impact+"; linux.resources needing the "+c+" controller", "; ")
			}
		}
	}
	return f, strings.Fields(string(offered))
}

// Systemd reports whether systemd booted the host, and its version.
func Systemd(wanted bool) Finding {
	f := Finding{Area: "systemd", Name: "init", Meaning: "--systemd-cgroup places containers in systemd scope units"}
	if !systemd.Available() {
		f.Status, f.Value = Info, "not running"
		if wanted {
			f.Status = Missing
			f.Impact, f.Fix = "--systemd-cgroup: "+systemd.ErrNotRunning.Error(), "drop --systemd-cgroup (cgroupfs driver)"
		}
		return f
	}
	f.Status, f.Value = OK, "running"
	if bus, err := systemd.Connect(false); err == nil {
		f.Value += ", version " + strconv.Itoa(bus.Version())
		bus.Close()
	} else {
		f.Status = Warn
		f.Value += ", D-Bus unreachable"
		f.Impact = "--systemd-cgroup: " + err.Error()
	}
	return f
}

// Namespaces tries to make each namespace type in a throwaway child.
func Namespaces() []Finding {
	var out []Finding
	for _, t := range namespaces.Types() {
		flag, _ := namespaces.CloneFlag(specs.LinuxNamespaceType(t))
		out = append(out, namespaceFinding(t, TryClone(flag)))
	}
	return out
}

// nsConfig is the kernel option each namespace type needs.
var nsConfig = map[string]string{
	"pid": "CONFIG_PID_NS", "network": "CONFIG_NET_NS", "mount": "mount namespaces",
	"ipc": "CONFIG_IPC_NS", "uts": "CONFIG_UTS_NS", "user": "CONFIG_USER_NS",
	"cgroup": "CONFIG_CGROUPS", "time": "CONFIG_TIME_NS (5.6)",
}

func namespaceFinding(t string, err error) Finding {
	f := Finding{Area: "namespace", Name: t, Status: OK, Value: "can be made",
		Meaning: "linux.namespaces type " + strconv.Quote(t)}
	if err != nil {
		f.Status = Missing
		f.Value = "cannot be made: " + errnoText(err)
		f.Impact = "containers asking for a new " + t + " namespace"
		f.Fix = "a kernel with " + nsConfig[t]
		if t == "user" {
			f.Fix += ", or raise user.max_user_namespaces (see userns lines)"
		}
	}
	return f
}

func errnoText(err error) string {
	var e syscall.Errno
	if errors.As(err, &e) {
		return unix.ErrnoName(e) + " (" + e.Error() + ")"
	}
	return err.Error()
}

// readSysctl reads /proc/sys/<name with dots as slashes>; ok is false
// where the kernel has no such knob.
func readSysctl(name string) (string, bool) {
	b, err := os.ReadFile("/proc/sys/" + strings.ReplaceAll(name, ".", "/"))
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(b)), true
}

// UserNSLimits reads the knobs that stop user namespaces: the count limit
// (any caller), Debian's and Ubuntu's switches for unprivileged callers.
func UserNSLimits(read func(string) (string, bool)) []Finding {
	knobs := []struct {
		name, meaning, bad string
		status             Status
		absent             string
		impact, fix        string
	}{
		{"user.max_user_namespaces", "how many user namespaces may exist", "0", Missing, "absent",
			"containers with a user namespace, rootless containers",
			"sysctl -w user.max_user_namespaces=15000"},
		{"kernel.unprivileged_userns_clone", "Debian's switch for user namespaces made by non-root", "0", Warn,
			"absent (not a Debian kernel): no such restriction",
			"rootless containers (root is not affected)",
			"sysctl -w kernel.unprivileged_userns_clone=1"},
		{"kernel.apparmor_restrict_unprivileged_userns", "Ubuntu's AppArmor restriction of user namespaces made by non-root", "1", Warn,
			"absent: no such restriction",
			"rootless containers, unless an AppArmor profile grants userns to carapace",
			"an AppArmor profile for carapace with \"userns,\", or sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"},
	}
	out := make([]Finding, 0, len(knobs))
	for _, k := range knobs {
		f := Finding{Area: "userns", Name: k.name, Meaning: k.meaning, Value: k.absent, Status: Info}
		if v, ok := read(k.name); ok {
			f.Value, f.Status = v, OK
			if v == k.bad {
				f.Status, f.Impact, f.Fix = k.status, k.impact, k.fix
			}
		}
		out = append(out, f)
	}
	return out
}

// IDMap tries an idmapped mount of each path's filesystem: a detached
// clone of the mount (open_tree), given a user namespace's mapping
// (mount_setattr), then dropped without being attached anywhere.
func IDMap(paths []string) []Finding {
	mounts, _ := mountinfo.Self()
	var out []Finding
	seen := map[string]bool{}
	for _, p := range paths {
		// A state root not made yet will be made on its parent's filesystem.
		for {
			if _, err := os.Stat(p); err == nil || filepath.Dir(p) == p {
				break
			}
			p = filepath.Dir(p)
		}
		m, ok := mountOf(mounts, p)
		key := m.Point
		if !ok {
			key = p
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		f := Finding{Area: "idmap", Name: p, Meaning: "idmapped mounts (mounts[].uidMappings, rootless rootfs) on this filesystem"}
		fstype := m.FSType
		if !ok {
			fstype = "?"
		}
		err := tryIDMap(p)
		f.Value = fstype + ": "
		if err == nil {
			f.Status, f.Value = OK, f.Value+"supported"
		} else {
			f.Status, f.Value = Warn, f.Value+"not supported: "+errnoText(err)
			f.Impact = "idmapped mounts of " + fstype + " paths"
			f.Fix = "a filesystem and kernel with idmapped mounts (ext4, xfs, btrfs, tmpfs 6.3+, overlayfs 5.19+)"
		}
		out = append(out, f)
	}
	return out
}

// mountOf is the mount that holds path: the longest mount point that is a
// prefix of it (the last such, as later mounts cover earlier ones).
func mountOf(ms []mountinfo.Mount, path string) (mountinfo.Mount, bool) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return mountinfo.Mount{}, false
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		abs = r
	}
	var best mountinfo.Mount
	found := false
	for _, m := range ms {
		if m.Point == abs || m.Point == "/" || strings.HasPrefix(abs, m.Point+"/") {
			if !found || len(m.Point) >= len(best.Point) {
				best, found = m, true
			}
		}
	}
	return best, found
}

func tryIDMap(path string) error {
	c, err := startChild(&syscall.SysProcAttr{
		Cloneflags:  unix.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 65534, Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 65534, Size: 1}},
	}, true)
	if err != nil {
		return fmt.Errorf("user namespace: %w", err)
	}
	defer c.stop()
	userns, err := unix.Open(fmt.Sprintf("/proc/%d/ns/user", c.cmd.Process.Pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(userns)
	tree, err := unix.OpenTree(unix.AT_FDCWD, path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return fmt.Errorf("open_tree: %w", err)
	}
	// Closing a detached mount that was never attached unmounts it.
	defer unix.Close(tree)
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns)}
	if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH, &attr); err != nil {
		return fmt.Errorf("mount_setattr: %w", err)
	}
	return nil
}

// LSMs reports AppArmor and SELinux on the host. Whether carapace applies
// a bundle's profile or label is create's decision: check --bundle runs it.
func LSMs() []Finding {
	lsm, _ := os.ReadFile("/sys/kernel/security/lsm")
	aa, _ := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	se, seErr := os.ReadFile("/sys/fs/selinux/enforce")
	return lsmFindings(strings.TrimSpace(string(lsm)), strings.TrimSpace(string(aa)), strings.TrimSpace(string(se)), seErr == nil)
}

func lsmFindings(active, apparmor, enforce string, selinux bool) []Finding {
	a := Finding{Area: "lsm", Name: "AppArmor", Meaning: "process.apparmorProfile needs it"}
	if apparmor == "Y" {
		a.Status, a.Value = OK, "enabled"
	} else {
		a.Status, a.Value = Info, "not enabled"
		a.Impact = "bundles with process.apparmorProfile are refused"
	}
	s := Finding{Area: "lsm", Name: "SELinux", Meaning: "process.selinuxLabel and mountLabel need it"}
	if selinux {
		s.Status, s.Value = OK, map[string]string{"1": "enforcing", "0": "permissive"}[enforce]
	} else {
		s.Status, s.Value = Info, "not enabled"
		s.Impact = "bundles with process.selinuxLabel are refused"
	}
	l := Finding{Area: "lsm", Name: "active", Status: Info, Value: active, Meaning: "the kernel's LSM stack (/sys/kernel/security/lsm)"}
	if active == "" {
		l.Value = "unknown (securityfs not mounted)"
	}
	return []Finding{l, a, s}
}

// Capabilities reports the caller's effective set against the full one:
// root may lack some (a container, a restricted service).
func Capabilities() Finding {
	b, _ := os.ReadFile("/proc/self/status")
	var eff uint64
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			eff, _ = strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	last := 40
	if v, ok := readSysctl("kernel.cap_last_cap"); ok {
		last, _ = strconv.Atoi(v)
	}
	return capFinding(os.Geteuid(), eff, last)
}

// capImpact says what each capability's absence breaks.
var capImpact = map[string]string{
	"CAP_SYS_RESOURCE": "process.rlimits above the runtime's own hard limits, oom_score_adj below the runtime's",
	"CAP_SYS_ADMIN":    "mounts, namespaces, seccomp without noNewPrivileges: nearly every container",
	"CAP_NET_ADMIN":    "linux.netDevices",
	"CAP_SYS_NICE":     "process.scheduler, ioPriority raises",
	"CAP_MKNOD":        "linux.devices",
	"CAP_SETUID":       "process.user other than the caller",
	"CAP_SETGID":       "process.user other than the caller",
}

func capFinding(euid int, eff uint64, last int) Finding {
	f := Finding{Area: "caps", Name: "effective", Meaning: "what the runtime may do for its containers"}
	var lack, impact []string
	for c := 0; c <= last && c < 64; c++ {
		if eff&(1<<c) == 0 {
			name := process.CapabilityName(c)
			lack = append(lack, name)
			if i, ok := capImpact[name]; ok {
				impact = append(impact, name+": "+i)
			}
		}
	}
	who := "uid " + strconv.Itoa(euid)
	if euid == 0 {
		who = "root"
	}
	switch {
	case len(lack) == 0:
		f.Status, f.Value = OK, who+" with every capability"
	case len(lack) > last/2:
		f.Status, f.Value = Info, who+" without most capabilities (rootless)"
		f.Impact = "limits and devices a rootless runtime cannot set"
	default:
		f.Status, f.Value = Warn, who+" without "+strings.Join(lack, " ")
		f.Impact = strings.Join(impact, "; ")
		f.Fix = "run the runtime with the full capability set"
	}
	return f
}

// Rlimits reports the limits the runtime runs with; containers inherit
// them unless process.rlimits says otherwise.
func Rlimits() []Finding {
	var out []Finding
	for _, r := range []struct {
		name string
		res  int
		mean string
	}{
		{"RLIMIT_NOFILE", unix.RLIMIT_NOFILE, "open files"},
		{"RLIMIT_NPROC", unix.RLIMIT_NPROC, "processes of a uid"},
		{"RLIMIT_MEMLOCK", unix.RLIMIT_MEMLOCK, "locked memory (eBPF device filters on old kernels)"},
	} {
		var l unix.Rlimit
		if err := unix.Getrlimit(r.res, &l); err != nil {
			continue
		}
		out = append(out, Finding{Area: "rlimit", Name: r.name, Status: Info, Value: limit(l.Cur) + " soft, " + limit(l.Max) + " hard",
			Meaning: r.mean + "; without CAP_SYS_RESOURCE process.rlimits may not exceed the hard one"})
	}
	return out
}

func limit(v uint64) string {
	if v == unix.RLIM_INFINITY {
		return "unlimited"
	}
	return strconv.FormatUint(v, 10)
}

// DevNull checks that /dev/null is the null device and can be written:
// the runtime and hooks use it, and a file there breaks them silently.
func DevNull() Finding {
	f := Finding{Area: "devices", Name: "/dev/null", Meaning: "the null device, for the runtime's and hooks' stdio"}
	var st unix.Stat_t
	err := unix.Stat("/dev/null", &st)
	if err == nil && (st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != 1 || unix.Minor(st.Rdev) != 3) {
		err = errors.New("not the character device 1:3")
	}
	if err == nil {
		var fd int
		if fd, err = unix.Open("/dev/null", unix.O_WRONLY|unix.O_CLOEXEC, 0); err == nil {
			_, err = unix.Write(fd, []byte("x"))
			unix.Close(fd)
		}
	}
	if err != nil {
		f.Status, f.Value = Missing, err.Error()
		f.Impact, f.Fix = "hooks, detached containers' stdio", "mknod -m 666 /dev/null c 1 3"
		return f
	}
	f.Status, f.Value = OK, "character device 1:3, writable"
	return f
}

// Proc checks that /proc is a procfs showing this process.
func Proc() Finding {
	f := Finding{Area: "devices", Name: "/proc", Meaning: "procfs, which every verb reads"}
	var st unix.Statfs_t
	err := unix.Statfs("/proc", &st)
	if err == nil && st.Type != unix.PROC_SUPER_MAGIC {
		err = errors.New("not a procfs")
	}
	if err == nil {
		_, err = os.Readlink("/proc/self/exe")
	}
	if err != nil {
		f.Status, f.Value = Missing, err.Error()
		f.Impact, f.Fix = "every verb", "mount -t proc proc /proc"
		return f
	}
	f.Status, f.Value = OK, "procfs, /proc/self readable"
	return f
}

// SubIDs reports the caller's subordinate ids (/etc/subuid, /etc/subgid):
// a rootless runtime maps more than one id into a user namespace only
// through them (newuidmap).
func SubIDs() []Finding {
	uid := os.Getuid()
	name := ""
	if b, err := os.ReadFile("/etc/passwd"); err == nil {
		name = userName(string(b), uid)
	}
	var out []Finding
	for _, file := range []string{"/etc/subuid", "/etc/subgid"} {
		b, err := os.ReadFile(file)
		out = append(out, subIDFinding(file, string(b), err == nil, name, uid))
	}
	return out
}

func userName(passwd string, uid int) string {
	for _, line := range strings.Split(passwd, "\n") {
		f := strings.Split(line, ":")
		if len(f) > 2 && f[2] == strconv.Itoa(uid) {
			return f[0]
		}
	}
	return ""
}

// subIDFinding counts the ids file gives the user (by name or uid).
func subIDFinding(file, content string, exists bool, name string, uid int) Finding {
	f := Finding{Area: "subid", Name: file, Meaning: "subordinate ids a rootless container can map"}
	var n uint64
	for _, line := range strings.Split(content, "\n") {
		p := strings.Split(strings.TrimSpace(line), ":")
		if len(p) != 3 || (p[0] != name && p[0] != strconv.Itoa(uid)) {
			continue
		}
		if c, err := strconv.ParseUint(p[2], 10, 32); err == nil {
			n += c
		}
	}
	f.Value = strconv.FormatUint(n, 10) + " ids for " + strconv.Quote(name)
	switch {
	case uid == 0:
		f.Status, f.Value = Info, f.Value+" (root maps any id without them)"
	case n == 0:
		f.Status = Warn
		if !exists {
			f.Value = "no " + file
		}
		f.Impact = "rootless containers map only the caller's own id"
		f.Fix = "usermod --add-subuids 100000-165535 --add-subgids 100000-165535 " + name
	default:
		f.Status = OK
	}
	return f
}
