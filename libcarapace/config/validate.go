package config

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/namespaces"
	"github.com/carapace-oci/carapace/libcarapace/netdev"
	"github.com/carapace-oci/carapace/libcarapace/process"
)

// Validate checks everything in the bundle that can be checked before a
// process is started. It fills in b.Rootfs.
func Validate(b *Bundle) error {
	s := b.Spec
	checks := []func(*Bundle) error{
		checkVersion, checkRoot, checkProcess, checkNamespaceTypes, checkIDMappings,
		checkNamespacePaths, checkMountNamespace, checkUTS, checkTimeOffsets, checkSysctl, checkMounts,
		checkDevices, checkHooks, checkPaths, checkPropagation, checkProcessExtras,
		checkSeccomp,
	}
	if s.Linux == nil {
		s.Linux = &specs.Linux{}
	}
	for _, c := range checks {
		if err := c(b); err != nil {
			return err
		}
	}
	return nil
}

// checkVersion accepts the 1.0 to 1.3 specs, whose Linux fields are a
// compatible superset of each other.
func checkVersion(b *Bundle) error {
	v := b.Spec.Version
	if v == "" {
		return fieldErr("ociVersion", "missing")
	}
	core, _, _ := strings.Cut(v, "-")
	core, _, _ = strings.Cut(core, "+")
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return fieldErr("ociVersion", "%q is not a semantic version", v)
	}
	var n [3]int
	for i, p := range parts {
		x, err := strconv.Atoi(p)
		if err != nil || x < 0 {
			return fieldErr("ociVersion", "%q is not a semantic version", v)
		}
		n[i] = x
	}
	if n[0] != 1 || n[1] > 3 {
		return fieldErr("ociVersion", "unsupported version %q (supported: 1.0.0 to 1.3.x)", v)
	}
	return nil
}

func checkRoot(b *Bundle) error {
	r := b.Spec.Root
	if r == nil {
		return fieldErr("root", "missing")
	}
	if r.Path == "" {
		return fieldErr("root.path", "empty")
	}
	p := r.Path
	if !filepath.IsAbs(p) {
		p = filepath.Join(b.Dir, p)
	}
	fi, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fieldErr("root.path", "%q does not exist", r.Path)
		}
		return fieldErr("root.path", "%v", err)
	}
	if !fi.IsDir() {
		return fieldErr("root.path", "%q is not a directory", r.Path)
	}
	b.Rootfs = filepath.Clean(p)
	return nil
}

func checkProcess(b *Bundle) error {
	p := b.Spec.Process
	if p == nil {
		return fieldErr("process", "missing")
	}
	if len(p.Args) == 0 || p.Args[0] == "" {
		return fieldErr("process.args", "empty: the container needs a program to run")
	}
	if p.Cwd == "" {
		return fieldErr("process.cwd", "empty")
	}
	if !path.IsAbs(p.Cwd) {
		return fieldErr("process.cwd", "%q is not an absolute path", p.Cwd)
	}
	for i, e := range p.Env {
		if !strings.Contains(e, "=") || strings.HasPrefix(e, "=") {
			return fieldErr(fmt.Sprintf("process.env[%d]", i), "%q is not of the form NAME=VALUE", e)
		}
	}
	seen := map[string]int{}
	for i, r := range p.Rlimits {
		f := fmt.Sprintf("process.rlimits[%d]", i)
		if _, ok := process.RlimitByName(r.Type); !ok {
			return fieldErr(f+".type", "unknown rlimit %q", r.Type)
		}
		if j, dup := seen[r.Type]; dup {
			return fieldErr(f+".type", "%s already set by process.rlimits[%d]", r.Type, j)
		}
		seen[r.Type] = i
		if r.Soft > r.Hard {
			return fieldErr(f, "soft limit %d is above the hard limit %d", r.Soft, r.Hard)
		}
	}
	for _, u := range process.UnknownCapabilities(p.Capabilities) {
		b.Warnings = append(b.Warnings, fmt.Sprintf("%s: %s: ignored", Name, u))
	}
	if c := p.Capabilities; c != nil {
		// The kernel raises an ambient capability only if it is also
		// permitted and inheritable: others cannot be granted (warned,
		// not failed, as the spec says of capabilities).
		for i, n := range c.Ambient {
			if _, known := process.CapabilityByName(n); !known {
				continue
			}
			if !slices.Contains(c.Inheritable, n) || !slices.Contains(c.Permitted, n) {
				b.Warnings = append(b.Warnings, fmt.Sprintf("%s: process.capabilities.ambient[%d]: %s is not in both the permitted and inheritable sets: not raised", Name, i, n))
			}
		}
	}
	if a := p.OOMScoreAdj; a != nil && (*a < -1000 || *a > 1000) {
		return fieldErr("process.oomScoreAdj", "%d is outside -1000..1000", *a)
	}
	if p.ConsoleSize != nil && !p.Terminal {
		return fieldErr("process.consoleSize", "set without process.terminal")
	}
	return nil
}

func checkNamespaceTypes(b *Bundle) error {
	seen := map[specs.LinuxNamespaceType]int{}
	for i, ns := range b.Spec.Linux.Namespaces {
		f := fmt.Sprintf("linux.namespaces[%d]", i)
		if _, ok := namespaces.CloneFlag(ns.Type); !ok {
			return fieldErr(f+".type", "%q: unknown namespace type", ns.Type)
		}
		if j, dup := seen[ns.Type]; dup {
			return fieldErr(f+".type", "%q: duplicate, already given by linux.namespaces[%d]", ns.Type, j)
		}
		seen[ns.Type] = i
	}
	return nil
}

func checkNamespacePaths(b *Bundle) error {
	for i, ns := range b.Spec.Linux.Namespaces {
		if ns.Path == "" {
			continue
		}
		f := fmt.Sprintf("linux.namespaces[%d].path", i)
		if !filepath.IsAbs(ns.Path) {
			return fieldErr(f, "%q is not an absolute path", ns.Path)
		}
		if _, err := os.Stat(ns.Path); err != nil {
			return fieldErr(f, "%q: %v", ns.Path, errors.Unwrap(err))
		}
	}
	return nil
}

// checkMountNamespace refuses what cannot be done without a mount
// namespace of the container's own: mounts, masked and read-only paths
// and a read-only root would be made on the host's mount table (or, as
// before, silently skipped, leaving the container without them). And a
// mount namespace joined by path cannot be entered from a new user
// namespace, which has no privilege over it.
func checkMountNamespace(b *Bundle) error {
	plan := namespaces.NewPlan(b.Spec.Linux.Namespaces)
	if !plan.Has(specs.MountNamespace) {
		const why = "needs a mount namespace of the container's own (linux.namespaces has no \"mount\"): it would change the host's mounts"
		l := b.Spec.Linux
		switch {
		case len(b.Spec.Mounts) > 0:
			return fieldErr("mounts", "%d mount(s) given: %s", len(b.Spec.Mounts), why)
		case len(l.MaskedPaths) > 0:
			return fieldErr("linux.maskedPaths", "%s", why)
		case len(l.ReadonlyPaths) > 0:
			return fieldErr("linux.readonlyPaths", "%s", why)
		case b.Spec.Root != nil && b.Spec.Root.Readonly:
			return fieldErr("root.readonly", "%s", why)
		}
		return nil
	}
	if plan.IsNew(specs.UserNamespace) && !plan.IsNew(specs.MountNamespace) {
		for i, ns := range b.Spec.Linux.Namespaces {
			if ns.Type == specs.MountNamespace {
				return fieldErr(fmt.Sprintf("linux.namespaces[%d].path", i),
					"%q: a mount namespace joined by path cannot be entered from a new user namespace: join the user namespace that owns it too", ns.Path)
			}
		}
	}
	return nil
}

func checkIDMappings(b *Bundle) error {
	l := b.Spec.Linux
	plan := namespaces.NewPlan(l.Namespaces)
	hasMaps := len(l.UIDMappings) > 0 || len(l.GIDMappings) > 0
	switch {
	case plan.IsNew(specs.UserNamespace):
		if len(l.UIDMappings) == 0 {
			return fieldErr("linux.uidMappings", "a new user namespace needs uid mappings")
		}
		if len(l.GIDMappings) == 0 {
			return fieldErr("linux.gidMappings", "a new user namespace needs gid mappings")
		}
	case hasMaps && plan.Has(specs.UserNamespace):
		return fieldErr("linux.uidMappings", "mappings given for a user namespace joined by path; they can only be set on a new one")
	case hasMaps:
		return fieldErr("linux.uidMappings", "mappings given without a user namespace in linux.namespaces")
	}
	if err := checkMaps("linux.uidMappings", l.UIDMappings); err != nil {
		return err
	}
	if err := checkMaps("linux.gidMappings", l.GIDMappings); err != nil {
		return err
	}
	if plan.IsNew(specs.UserNamespace) {
		if err := checkMountIDs(b.Spec.Mounts, l.UIDMappings, l.GIDMappings); err != nil {
			return err
		}
	}
	if !plan.IsNew(specs.UserNamespace) || b.Spec.Process == nil {
		return nil
	}
	// The process's ids must exist in the new namespace, or setuid fails
	// with an error that names nothing.
	u := b.Spec.Process.User
	if !mapped(l.UIDMappings, u.UID) {
		return fieldErr("process.user.uid", "%d is not mapped by linux.uidMappings", u.UID)
	}
	if !mapped(l.GIDMappings, u.GID) {
		return fieldErr("process.user.gid", "%d is not mapped by linux.gidMappings", u.GID)
	}
	for i, g := range u.AdditionalGids {
		if !mapped(l.GIDMappings, g) {
			return fieldErr(fmt.Sprintf("process.user.additionalGids[%d]", i), "%d is not mapped by linux.gidMappings", g)
		}
	}
	return nil
}

// checkMountIDs refuses a uid= or gid= mount option (devpts gid=5, tmpfs
// uid=) naming an id the new user namespace does not map: the filesystem
// is mounted from inside it, and the kernel's EINVAL would not say why.
func checkMountIDs(mounts []specs.Mount, uids, gids []specs.LinuxIDMapping) error {
	for i, m := range mounts {
		if m.Type == "bind" || slices.Contains(m.Options, "bind") || slices.Contains(m.Options, "rbind") {
			continue // no filesystem options
		}
		for _, o := range m.Options {
			k, v, ok := strings.Cut(o, "=")
			if !ok || (k != "uid" && k != "gid") {
				continue
			}
			id, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				continue
			}
			maps, field := uids, "linux.uidMappings"
			if k == "gid" {
				maps, field = gids, "linux.gidMappings"
			}
			if !mapped(maps, uint32(id)) {
				return fieldErr(fmt.Sprintf("mounts[%d].options", i), "%q (%s on %s): %s %d is not mapped by %s, and the mount is made in the container's user namespace (drop the option, or map the id)", o, m.Type, m.Destination, k, id, field)
			}
		}
	}
	return nil
}

func checkMaps(name string, maps []specs.LinuxIDMapping) error {
	for i, m := range maps {
		f := fmt.Sprintf("%s[%d]", name, i)
		if m.Size == 0 {
			return fieldErr(f+".size", "zero")
		}
		if uint64(m.ContainerID)+uint64(m.Size) > 1<<32-1 || uint64(m.HostID)+uint64(m.Size) > 1<<32-1 {
			return fieldErr(f, "range overflows 32-bit ids")
		}
		for j, o := range maps[:i] {
			if overlap(m.ContainerID, o.ContainerID, m.Size, o.Size) {
				return fieldErr(f, "container ids %d-%d overlap %s[%d]", m.ContainerID, m.ContainerID+m.Size-1, name, j)
			}
			if overlap(m.HostID, o.HostID, m.Size, o.Size) {
				return fieldErr(f, "host ids %d-%d overlap %s[%d]", m.HostID, m.HostID+m.Size-1, name, j)
			}
		}
	}
	return nil
}

func overlap(a, b, na, nb uint32) bool {
	return uint64(a) < uint64(b)+uint64(nb) && uint64(b) < uint64(a)+uint64(na)
}

func mapped(maps []specs.LinuxIDMapping, id uint32) bool {
	for _, m := range maps {
		if id >= m.ContainerID && uint64(id) < uint64(m.ContainerID)+uint64(m.Size) {
			return true
		}
	}
	return false
}

// checkProcessExtras validates the scheduling and execution-domain fields.
func checkProcessExtras(b *Bundle) error {
	p := b.Spec.Process
	if io := p.IOPriority; io != nil {
		if _, ok := process.IOPriorityClasses[io.Class]; !ok {
			return fieldErr("process.ioPriority.class", "%q: unknown class (IOPRIO_CLASS_RT, _BE or _IDLE)", io.Class)
		}
		if io.Priority < 0 || io.Priority > 7 {
			return fieldErr("process.ioPriority.priority", "%d is outside 0..7", io.Priority)
		}
	}
	if s := p.Scheduler; s != nil {
		if _, ok := process.SchedPolicies[s.Policy]; !ok {
			return fieldErr("process.scheduler.policy", "%q: unknown policy", s.Policy)
		}
		for i, fl := range s.Flags {
			if _, ok := process.SchedFlags[fl]; !ok {
				return fieldErr(fmt.Sprintf("process.scheduler.flags[%d]", i), "%q: unknown flag", fl)
			}
		}
		if s.Nice < -20 || s.Nice > 19 {
			return fieldErr("process.scheduler.nice", "%d is outside -20..19", s.Nice)
		}
		rt := s.Policy == "SCHED_FIFO" || s.Policy == "SCHED_RR"
		if rt && (s.Priority < 1 || s.Priority > 99) {
			return fieldErr("process.scheduler.priority", "%d is outside 1..99 for %s", s.Priority, s.Policy)
		}
		if !rt && s.Priority != 0 {
			return fieldErr("process.scheduler.priority", "must be 0 for %s", s.Policy)
		}
	}
	if a := p.ExecCPUAffinity; a != nil {
		for _, f := range []struct{ name, list string }{{"initial", a.Initial}, {"final", a.Final}} {
			if f.list == "" {
				continue
			}
			if _, err := process.ParseList(f.list); err != nil {
				return fieldErr("process.execCPUAffinity."+f.name, "%v", err)
			}
		}
	}
	if mp := b.Spec.Linux.MemoryPolicy; mp != nil {
		if _, ok := process.MemoryPolicyModes[mp.Mode]; !ok {
			return fieldErr("linux.memoryPolicy.mode", "%q: unknown mode", mp.Mode)
		}
		for i, f := range mp.Flags {
			if _, ok := process.MemoryPolicyFlags[f]; !ok {
				return fieldErr(fmt.Sprintf("linux.memoryPolicy.flags[%d]", i), "%q: unknown flag", f)
			}
		}
		var nodes []int
		if mp.Nodes != "" {
			var err error
			if nodes, err = process.ParseList(mp.Nodes); err != nil {
				return fieldErr("linux.memoryPolicy.nodes", "%v", err)
			}
		}
		// As runtime-spec and set_mempolicy(2) say, and runc checks: some
		// modes take no nodes, some at least one, MPOL_PREFERRED either
		// (none is the local node). The kernel would only say EINVAL.
		switch mp.Mode {
		case specs.MpolDefault, specs.MpolLocal:
			if len(nodes) > 0 {
				return fieldErr("linux.memoryPolicy.nodes", "%q: mode %s takes no nodes", mp.Nodes, mp.Mode)
			}
		case specs.MpolBind, specs.MpolInterleave, specs.MpolWeightedInterleave, specs.MpolPreferredMany:
			if len(nodes) == 0 {
				return fieldErr("linux.memoryPolicy.nodes", "mode %s needs at least one node", mp.Mode)
			}
		}
	}
	if nd := b.Spec.Linux.NetDevices; len(nd) > 0 {
		if !namespaces.NewPlan(b.Spec.Linux.Namespaces).Has(specs.NetworkNamespace) {
			return fieldErr("linux.netDevices", "needs a network namespace of the container's own")
		}
		seen := map[string]string{}
		for host, d := range nd {
			name := d.Name
			if name == "" {
				name = host
			}
			for _, n := range []string{host, name} {
				if len(n) == 0 || len(n) > 15 || strings.ContainsAny(n, "/: \t\n") || n == "." || n == ".." {
					return fieldErr("linux.netDevices."+host, "%q is not a valid interface name", n)
				}
			}
			// A template ("eth%d") is numbered by the kernel: never a clash.
			if other, dup := seen[name]; dup && !strings.Contains(name, "%d") {
				return fieldErr("linux.netDevices."+host+".name", "%q is also the name of linux.netDevices.%s", name, other)
			}
			seen[name] = host
			if _, err := netdev.Index(host); err != nil {
				return fieldErr("linux.netDevices."+host, "no such interface on the host")
			}
		}
	}
	if b.Spec.Linux.IntelRdt != nil {
		return fieldErr("linux.intelRdt", "Intel RDT (resctrl) is not supported yet")
	}
	if per := b.Spec.Linux.Personality; per != nil {
		if _, ok := process.Personalities[per.Domain]; !ok {
			return fieldErr("linux.personality.domain", "%q: unknown domain (LINUX or LINUX32)", per.Domain)
		}
		if len(per.Flags) > 0 {
			return fieldErr("linux.personality.flags", "no flags are defined")
		}
	}
	return nil
}

func checkUTS(b *Bundle) error {
	plan := namespaces.NewPlan(b.Spec.Linux.Namespaces)
	if b.Spec.Hostname != "" && !plan.Has(specs.UTSNamespace) {
		return fieldErr("hostname", "set without a uts namespace in linux.namespaces: it would change the host's")
	}
	if b.Spec.Domainname != "" && !plan.Has(specs.UTSNamespace) {
		return fieldErr("domainname", "set without a uts namespace in linux.namespaces: it would change the host's")
	}
	return nil
}

func checkTimeOffsets(b *Bundle) error {
	l := b.Spec.Linux
	if len(l.TimeOffsets) == 0 {
		return nil
	}
	if !namespaces.NewPlan(l.Namespaces).IsNew(specs.TimeNamespace) {
		return fieldErr("linux.timeOffsets", "set without a new time namespace in linux.namespaces")
	}
	for clock, off := range l.TimeOffsets {
		if clock != "monotonic" && clock != "boottime" {
			return fieldErr("linux.timeOffsets."+clock, "unknown clock (monotonic and boottime can be offset)")
		}
		if off.Nanosecs >= 1e9 {
			return fieldErr("linux.timeOffsets."+clock+".nanosecs", "%d is not below one second", off.Nanosecs)
		}
	}
	return nil
}

// checkSysctl allows only the sysctls that belong to a namespace the
// container has of its own: others would change the host.
func checkSysctl(b *Bundle) error {
	plan := namespaces.NewPlan(b.Spec.Linux.Namespaces)
	// In name order: with two bad keys, the error must not depend on the
	// map's iteration order (found by FuzzValidate).
	for _, k := range slices.Sorted(maps.Keys(b.Spec.Linux.Sysctl)) {
		f := "linux.sysctl." + k
		if strings.Contains(k, "..") || strings.ContainsAny(k, " \x00") || strings.HasPrefix(k, "/") {
			return fieldErr(f, "invalid name")
		}
		name := strings.ReplaceAll(k, "/", ".")
		var ns specs.LinuxNamespaceType
		switch {
		case name == "kernel.sem" || name == "kernel.msgmax" || name == "kernel.msgmnb" ||
			name == "kernel.msgmni" || name == "kernel.shmall" || name == "kernel.shmmax" ||
			name == "kernel.shmmni" || name == "kernel.shm_rmid_forced" || strings.HasPrefix(name, "fs.mqueue."):
			ns = specs.IPCNamespace
		case strings.HasPrefix(name, "net."):
			ns = specs.NetworkNamespace
		case name == "kernel.hostname" || name == "kernel.domainname":
			ns = specs.UTSNamespace
		default:
			return fieldErr(f, "not a namespaced sysctl: setting it would change the host")
		}
		if !plan.Has(ns) {
			return fieldErr(f, "needs a %s namespace of the container's own", ns)
		}
	}
	return nil
}

func cleanAbs(field, p string) error {
	if p == "" {
		return fieldErr(field, "empty")
	}
	if !path.IsAbs(p) {
		return fieldErr(field, "%q is not an absolute path", p)
	}
	for _, c := range strings.Split(p, "/") {
		if c == ".." {
			return fieldErr(field, "%q contains \"..\"", p)
		}
	}
	return nil
}

// procFilesBindable are the /proc files that may be overmounted by binds
// (what lxcfs provides); any other mount on /proc could fake the files the
// runtime writes there (CVE-2019-16884).
var procFilesBindable = map[string]bool{
	"/proc/cpuinfo": true, "/proc/diskstats": true, "/proc/meminfo": true, "/proc/stat": true,
	"/proc/swaps": true, "/proc/uptime": true, "/proc/loadavg": true, "/proc/slabinfo": true,
	"/proc/sys/kernel/ns_last_pid": true, "/proc/sys/crypto/fips_enabled": true,
}

// isProcfs reports whether a bind source (relative to the bundle dir if
// not absolute) is on a procfs.
func isProcfs(bundleDir, src string) bool {
	if !filepath.IsAbs(src) {
		src = filepath.Join(bundleDir, src)
	}
	var st unix.Statfs_t
	return unix.Statfs(src, &st) == nil && st.Type == unix.PROC_SUPER_MAGIC
}

// inRootfs reports whether p lies lexically inside the root filesystem.
func inRootfs(rootfs, p string) bool {
	rel, err := filepath.Rel(rootfs, filepath.Clean(p))
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, "../")
}

func checkMounts(b *Bundle) error {
	for i, m := range b.Spec.Mounts {
		f := fmt.Sprintf("mounts[%d]", i)
		if err := cleanAbs(f+".destination", m.Destination); err != nil {
			return err
		}
		dst := path.Clean(m.Destination)
		bind := IsBind(m)
		if dst == "/" {
			return fieldErr(f+".destination", "cannot mount over the container's root")
		}
		// As runc's checkProcMount, whatever the pid namespace: a bind of
		// a procfs is a proc filesystem too.
		if dst == "/proc" && m.Type != "proc" && !(bind && isProcfs(b.Dir, m.Source)) {
			return fieldErr(f+".destination", "only a proc filesystem may be mounted on /proc (type is %q)", m.Type)
		}
		if strings.HasPrefix(dst, "/proc/") && !(bind && procFilesBindable[dst]) {
			return fieldErr(f+".destination", "%q: mounts under /proc are not allowed, except binds over %s", dst, "/proc/{cpuinfo,meminfo,stat,uptime,diskstats,swaps,loadavg,slabinfo}, /proc/sys/kernel/ns_last_pid, /proc/sys/crypto/fips_enabled")
		}
		if m.Type == "" && !bind {
			return fieldErr(f+".type", "missing (only bind mounts may omit it)")
		}
		if bind {
			if m.Source == "" {
				return fieldErr(f+".source", "missing for a bind mount")
			}
			src := m.Source
			if !filepath.IsAbs(src) {
				src = filepath.Join(b.Dir, src)
			}
			// A source inside the rootfs may be made by an earlier mount
			// (a tmpfs, a bind): runc looks it up at mount time, in the
			// container's mount namespace, and so does Prepare. Elsewhere
			// it must be there now.
			if _, err := os.Stat(src); err != nil && !inRootfs(b.Rootfs, src) {
				return fieldErr(f+".source", "%q: %v", m.Source, errors.Unwrap(err))
			}
		}
		for j, o := range m.Options {
			if o == "" {
				return fieldErr(fmt.Sprintf("%s.options[%d]", f, j), "empty option")
			}
		}
		if err := checkMountIDMaps(b.Spec, f, m); err != nil {
			return err
		}
	}
	return nil
}

// IsBind reports whether a mount is a bind mount, by type or by option.
func IsBind(m specs.Mount) bool {
	if m.Type == "bind" || m.Type == "rbind" {
		return true
	}
	for _, o := range m.Options {
		if o == "bind" || o == "rbind" {
			return true
		}
	}
	return false
}

func checkDevices(b *Bundle) error {
	for i, d := range b.Spec.Linux.Devices {
		f := fmt.Sprintf("linux.devices[%d]", i)
		if err := cleanAbs(f+".path", d.Path); err != nil {
			return err
		}
		if !strings.HasPrefix(path.Clean(d.Path), "/dev/") {
			return fieldErr(f+".path", "%q is not under /dev", d.Path)
		}
		switch d.Type {
		case "c", "b", "u":
		case "p":
			continue
		default:
			return fieldErr(f+".type", "%q: unknown device type (c, b, u or p)", d.Type)
		}
		if d.Major < 0 || d.Minor < 0 {
			return fieldErr(f, "negative major or minor number")
		}
	}
	return nil
}

func checkHooks(b *Bundle) error {
	h := b.Spec.Hooks
	if h == nil {
		return nil
	}
	kinds := []struct {
		name  string
		hooks []specs.Hook
	}{
		{"prestart", h.Prestart}, {"createRuntime", h.CreateRuntime}, {"createContainer", h.CreateContainer},
		{"startContainer", h.StartContainer}, {"poststart", h.Poststart}, {"poststop", h.Poststop},
	}
	for _, k := range kinds {
		for i, hk := range k.hooks {
			f := fmt.Sprintf("hooks.%s[%d]", k.name, i)
			if !path.IsAbs(hk.Path) {
				return fieldErr(f+".path", "%q is not an absolute path", hk.Path)
			}
			if hk.Timeout != nil && *hk.Timeout <= 0 {
				return fieldErr(f+".timeout", "%d is not a positive number of seconds", *hk.Timeout)
			}
		}
	}
	return nil
}

func checkPaths(b *Bundle) error {
	for i, p := range b.Spec.Linux.MaskedPaths {
		if err := cleanAbs(fmt.Sprintf("linux.maskedPaths[%d]", i), p); err != nil {
			return err
		}
	}
	for i, p := range b.Spec.Linux.ReadonlyPaths {
		if err := cleanAbs(fmt.Sprintf("linux.readonlyPaths[%d]", i), p); err != nil {
			return err
		}
	}
	return nil
}

func checkPropagation(b *Bundle) error {
	switch b.Spec.Linux.RootfsPropagation {
	case "", "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable":
		return nil
	}
	return fieldErr("linux.rootfsPropagation", "%q: unknown propagation", b.Spec.Linux.RootfsPropagation)
}

// MountIDMaps returns the maps of an idmapped mount (uidMappings and
// gidMappings, or with the idmap/ridmap option alone the container's own
// user namespace maps, which the spec allows), and whether the idmapping is
// recursive (ridmap). ok is false for a mount that is not idmapped.
func MountIDMaps(s *specs.Spec, m specs.Mount) (uid, gid []specs.LinuxIDMapping, recursive, ok bool) {
	recursive = slices.Contains(m.Options, "ridmap")
	asked := recursive || slices.Contains(m.Options, "idmap")
	if len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0 {
		return m.UIDMappings, m.GIDMappings, recursive, true
	}
	if !asked {
		return nil, nil, false, false
	}
	if s.Linux == nil {
		return nil, nil, recursive, true
	}
	return s.Linux.UIDMappings, s.Linux.GIDMappings, recursive, true
}

// checkMountIDMaps checks an idmapped mount as runtime-spec 1.3 defines it:
// a bind mount, uid and gid maps given together (or taken from the
// container's new user namespace for idmap/ridmap alone), valid ranges.
func checkMountIDMaps(s *specs.Spec, f string, m specs.Mount) error {
	uid, gid, _, ok := MountIDMaps(s, m)
	if !ok {
		return nil
	}
	if !IsBind(m) {
		return fieldErr(f, "idmapped mount of type %q: only bind mounts can be idmapped", m.Type)
	}
	switch {
	case len(m.UIDMappings) > 0 && len(m.GIDMappings) == 0:
		return fieldErr(f+".gidMappings", "missing: uidMappings must come with gidMappings")
	case len(m.GIDMappings) > 0 && len(m.UIDMappings) == 0:
		return fieldErr(f+".uidMappings", "missing: gidMappings must come with uidMappings")
	case len(uid) == 0 || len(gid) == 0:
		return fieldErr(f+".options", "idmap/ridmap without uidMappings and gidMappings needs a new user namespace whose maps to use")
	}
	if err := checkMaps(f+".uidMappings", uid); err != nil {
		return err
	}
	return checkMaps(f+".gidMappings", gid)
}
