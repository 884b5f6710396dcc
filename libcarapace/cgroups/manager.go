package cgroups

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/cgroups/devicefilter"
	"github.com/carapace-oci/carapace/libcarapace/faultpoint"
)

// Manager is one container's cgroup in every hierarchy of the host. It is
// saved in the container's state and rebuilt from it by later verbs.
type Manager struct {
	Mode Mode `json:"mode"`
	// Dirs maps each hierarchy's name (its v1 controllers, "cpu" or
	// "name=systemd"; "" for cgroup2) to the container's directory in it.
	Dirs map[string]string `json:"dirs"`
	// Created lists the directories this container made, parents first, so
	// that removal takes away exactly those.
	Created []string `json:"created,omitempty"`
	// Unit is the systemd unit that holds the cgroup under the systemd
	// driver (--systemd-cgroup), in Slice; "" for cgroupfs. Later verbs
	// set its properties and stop it through systemd, and never remove
	// its directories while it is loaded.
	Unit  string `json:"unit,omitempty"`
	Slice string `json:"slice,omitempty"`
	// UserManager: the unit is in the caller's systemd user instance
	// (rootless), not the system's; later verbs talk to that one.
	UserManager bool `json:"userManager,omitempty"`
	// Rootless makes Create skip a hierarchy the caller may not write (not
	// delegated to it), as runc's rootless cgroup manager does; Skipped
	// maps each skipped hierarchy to the directory that was refused, so
	// that a limit that needed it is an error naming it.
	Rootless bool              `json:"rootless,omitempty"`
	Skipped  map[string]string `json:"skipped,omitempty"`
	// mounts maps each hierarchy's name to its mount point (create only).
	mounts map[string]string
}

// NewManager resolves cgroupsPath the way runc reads it: absolute paths are
// taken from each hierarchy's root, relative ones from the runtime's own
// cgroup, and an empty one is the container id relative to the runtime's.
func NewManager(cgroupsPath, id string) (*Manager, error) {
	hs, err := Hierarchies()
	if err != nil {
		return nil, fmt.Errorf("cgroup hierarchies: %w", err)
	}
	own, err := ProcCgroups("self")
	if err != nil {
		return nil, fmt.Errorf("own cgroup: %w", err)
	}
	if cgroupsPath == "" {
		cgroupsPath = id
	}
	// A "slice:prefix:name" path without --systemd-cgroup is a relative
	// path like any other, colons and all, as runc's cgroupfs manager
	// takes it: containerd's CRI writes one for any pod whose cgroup
	// parent ends in ".slice", whatever its runc shim's SystemdCgroup.
	for _, c := range strings.Split(cgroupsPath, "/") {
		if c == ".." {
			return nil, fmt.Errorf("linux.cgroupsPath %q: contains \"..\"", cgroupsPath)
		}
	}
	m := &Manager{Mode: DetectMode(hs), Dirs: map[string]string{}, mounts: map[string]string{}}
	for _, h := range hs {
		var p string
		if path.IsAbs(cgroupsPath) {
			p = path.Clean(cgroupsPath)
		} else {
			base, ok := own[h.Name()]
			if !ok {
				continue
			}
			p = path.Join(base, cgroupsPath)
		}
		rel := strings.TrimPrefix(p, h.Root)
		if h.Root != "/" && p != h.Root && !strings.HasPrefix(p, h.Root+"/") {
			// The mount shows only a sub-tree that does not hold the path
			// (the runtime itself runs inside a cgroup namespace).
			rel = p
		}
		m.Dirs[h.Name()] = filepath.Join(h.Mountpoint, rel)
		m.mounts[h.Name()] = h.Mountpoint
	}
	if len(m.Dirs) == 0 {
		return nil, errors.New("no cgroup hierarchy is mounted")
	}
	return m, nil
}

// V2Dir is the container's cgroup2 directory, or "" on a host without one.
func (m *Manager) V2Dir() string { return m.Dirs[""] }

// Dir returns the directory that holds a v1 controller's files; on a pure
// v2 host, the single directory.
func (m *Manager) Dir(controller string) (string, bool) {
	if m.Mode == ModeV2 {
		d, ok := m.Dirs[""]
		return d, ok
	}
	for name, dir := range m.Dirs {
		if name == "" {
			continue
		}
		for _, c := range strings.Split(name, ",") {
			if c == controller {
				return dir, true
			}
		}
	}
	return "", false
}

// Create makes the container's directories and, on cgroup v2, enables the
// controllers it needs in every ancestor, so that limits can be written
// before any process joins.
func (m *Manager) Create() error {
	names := make([]string, 0, len(m.Dirs))
	for n := range m.Dirs {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		dir := m.Dirs[n]
		err := m.mkdirAll(n, dir)
		if err == nil && m.Rootless {
			// An existing directory may be someone else's: the container's
			// processes could not be moved in.
			if aerr := unix.Access(filepath.Join(dir, "cgroup.procs"), unix.W_OK); aerr != nil {
				err = fmt.Errorf("cgroup %s: %w", dir, aerr)
			}
		}
		if err != nil {
			if !m.Rootless || !isPermission(err) {
				return err
			}
			if m.Skipped == nil {
				m.Skipped = map[string]string{}
			}
			m.Skipped[n] = dir
			delete(m.Dirs, n)
		}
	}
	return nil
}

// Missing lists the directories Create would make, parents first: those
// that do not exist yet on the way from each hierarchy's mount point to
// the container's directory. Create records them before it makes any, so
// that what a create killed half-way made can be found and removed.
func (m *Manager) Missing() []string {
	var out []string
	for _, n := range slices.Sorted(maps.Keys(m.Dirs)) {
		dir := m.Dirs[n]
		mp, ok := m.mounts[n]
		if !ok {
			mp = filepath.Dir(dir)
		}
		rel, err := filepath.Rel(mp, dir)
		if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
			continue
		}
		cur := mp
		for _, c := range strings.Split(rel, "/") {
			cur = filepath.Join(cur, c)
			if _, err := os.Lstat(cur); errors.Is(err, fs.ErrNotExist) {
				out = append(out, cur)
			}
		}
	}
	return out
}

// Empty reports whether the container has no cgroup directory at all: a
// rootless container on a tree not delegated to its user.
func (m *Manager) Empty() bool { return len(m.Dirs) == 0 && m.Unit == "" }

// AncestorHint explains an EACCES of a rootless caller moving a process
// into a delegated cgroup v2 tree from outside it.
const AncestorHint = "cgroup v2 moves a process only for a caller that may write the common ancestor of both cgroups: " +
	"run the runtime inside the container's delegated subtree"

// isPermission reports an error of a cgroup the caller may not write: not
// its own (EACCES, EPERM) or a read-only cgroupfs (EROFS, as a container's
// /sys/fs/cgroup is).
func isPermission(err error) bool {
	return errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EROFS)
}

// skippedErr is the error of a limit that needed a hierarchy Create skipped.
func (m *Manager) skippedErr(field, controller string) error {
	for name, dir := range m.Skipped {
		if name == "" || slices.Contains(strings.Split(name, ","), controller) {
			return fmt.Errorf("%s: rootless: the %s cgroup %s is not writable by uid %d (not delegated to it), so the limit cannot be applied", field, controller, dir, os.Geteuid())
		}
	}
	return nil
}

// CheckReusable refuses a container cgroup that exists already and is in
// use, as runc does: processes in it would count as the container's (and
// die with it), and in a frozen one init would freeze before it could
// report, so create would never return.
func (m *Manager) CheckReusable() error {
	for _, dir := range m.Dirs {
		procs, err := readFile(dir, "cgroup.procs")
		if err != nil {
			continue // not there yet (or not readable): nothing to reuse
		}
		if n := len(strings.Fields(procs)); n > 0 {
			return fmt.Errorf("cgroup %s already exists and has %d process(es) in it: not the container's to take", dir, n)
		}
	}
	if m.Frozen() {
		return fmt.Errorf("cgroup %s already exists and is frozen: thaw or remove it first", m.freezerDir())
	}
	return nil
}

// CheckPlacement refuses, on cgroup v2, to make the container's cgroup
// below a cgroup that has processes of its own (the root excepted): the
// kernel gives the children of such a cgroup no domain controller (memory,
// io, cpuset: its "no internal processes" rule), and the threaded ones that
// could still be enabled there would make every new child "domain invalid",
// into which no process can go (clone3 fails with EOPNOTSUPP). A runtime
// started from a systemd service meets it with a relative cgroupsPath: the
// service's own processes are in that cgroup. Nothing is made or changed.
func (m *Manager) CheckPlacement() error {
	if m.Mode != ModeV2 || m.Rootless || m.Unit != "" || m.V2Dir() == "" {
		return nil
	}
	mp, ok := m.mounts[""]
	if !ok {
		return nil
	}
	for p := filepath.Dir(m.V2Dir()); strings.HasPrefix(p, mp+"/"); p = filepath.Dir(p) {
		procs, err := readFile(p, "cgroup.procs")
		if err != nil {
			continue // not made yet
		}
		if n := len(strings.Fields(procs)); n > 0 {
			return fmt.Errorf("the container's cgroup %s would be under %s, which has %d process(es) of its own: "+
				"cgroup v2 gives no controllers to the children of a cgroup with processes (\"no internal processes\"), "+
				"so no limit could be applied; run with --systemd-cgroup where systemd manages the cgroups (a \"slice:prefix:name\" path), "+
				"or give an absolute linux.cgroupsPath outside %s", m.V2Dir(), p, n, p)
		}
	}
	return nil
}

func (m *Manager) freezerDir() string {
	if m.Mode == ModeV2 {
		return m.V2Dir()
	}
	d, _ := m.Dir("freezer")
	return d
}

func (m *Manager) mkdirAll(name, dir string) error {
	mp, ok := m.mounts[name]
	if !ok {
		mp = filepath.Dir(dir)
	}
	rel, err := filepath.Rel(mp, dir)
	if err != nil || rel == "." {
		return err
	}
	cpuset := slices.Contains(strings.Split(name, ","), "cpuset")
	v2 := name == ""
	cur := mp
	for _, c := range strings.Split(rel, "/") {
		parent := cur
		cur = filepath.Join(cur, c)
		if v2 {
			if err := enableControllers(parent); err != nil {
				return err
			}
		}
		err := unix.Mkdir(cur, 0o755)
		if err != nil && err != unix.EEXIST {
			return fmt.Errorf("create cgroup %s: %w", cur, err)
		}
		if err == nil {
			m.Created = append(m.Created, cur)
		}
		if cpuset {
			// A v1 cpuset made without clone_children starts empty and
			// refuses tasks until it has cpus and mems: every level on the
			// way down, ours or not, inherits its parent's.
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				if v, err := readFile(cur, f); err == nil && v == "" {
					if pv, err := readFile(parent, f); err == nil {
						if err := writeFile(cur, f, pv); err != nil {
							return err
						}
					}
				}
			}
		}
	}
	return nil
}

// enableControllers turns on, in dir's cgroup.subtree_control, every
// controller dir has: its children then get their interface files.
func enableControllers(dir string) error {
	avail, err := readFile(dir, "cgroup.controllers")
	if err != nil {
		return nil
	}
	on, _ := readFile(dir, "cgroup.subtree_control")
	var want []string
	for _, c := range strings.Fields(avail) {
		if !slices.Contains(strings.Fields(on), c) {
			want = append(want, "+"+c)
		}
	}
	if len(want) == 0 {
		return nil
	}
	if err := writeFile(dir, "cgroup.subtree_control", strings.Join(want, " ")); err != nil {
		// Some controllers cannot be enabled where processes live in the
		// cgroup itself ("no internal processes"); enable what can be.
		for _, c := range want {
			writeFile(dir, "cgroup.subtree_control", c)
		}
	}
	return nil
}

// Apply moves pid into the container's cgroup in every hierarchy (on v2
// hosts init is normally born there with CLONE_INTO_CGROUP instead).
// Every hierarchy is tried: a rootless exec keeps the ones that took it.
func (m *Manager) Apply(pid int) error {
	var errs []error
	for _, dir := range m.Dirs {
		if err := writeFile(dir, "cgroup.procs", strconv.Itoa(pid)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Check computes every write of linux.resources for this layout without
// writing any: the error Set would give for what the host cannot take.
func (m *Manager) Check(r *specs.LinuxResources) error {
	_, err := m.writes(r)
	return err
}

func (m *Manager) writes(r *specs.LinuxResources) (ws []Write, err error) {
	if r == nil {
		return nil, nil
	}
	if m.Mode == ModeV2 {
		ws, err = V2Writes(r)
	} else {
		ws, err = V1Writes(r)
	}
	if err != nil {
		return nil, err
	}
	if m.Mode != ModeV2 && r.Devices != nil {
		// The writes go from the rules in force to the new ones.
		dir, ok := m.Dir("devices")
		if !ok {
			return nil, errors.New("linux.resources.devices: this host has no devices cgroup controller")
		}
		list, err := readFile(dir, "devices.list")
		if errors.Is(err, fs.ErrNotExist) {
			// Checked before the cgroup exists (the systemd driver makes
			// it with init in it): a new cgroup starts from its parent's
			// rules, which the deny-all start of the writes covers.
			list, err = "a *:* rwm\n", nil
		}
		if err != nil {
			return nil, fmt.Errorf("linux.resources.devices: %w", err)
		}
		dw, err := V1DeviceWrites(list, r.Devices)
		if err != nil {
			return nil, err
		}
		ws = append(dw, ws...)
	} else if m.Mode == ModeV2 && r.Devices != nil {
		for i, d := range r.Devices {
			if err := CheckDeviceRule(i, d); err != nil {
				return nil, err
			}
		}
	}
	return ws, nil
}

// Set writes linux.resources. Every value is computed and checked against
// the host first; then they are written in order.
func (m *Manager) Set(r *specs.LinuxResources) (err error) {
	ws, err := m.writes(r)
	if err != nil || r == nil {
		return err
	}
	if m.Mode == ModeV2 && r.Devices != nil {
		defer func() {
			// cgroup v2 has no device files: an eBPF program decides.
			if err == nil {
				if err = devicefilter.Attach(m.V2Dir(), r.Devices); err != nil {
					err = fmt.Errorf("linux.resources.devices: %w", err)
				}
			}
		}()
	}
	for i := 0; i < len(ws); i++ {
		dir, x, err := m.target(ws[i])
		if err != nil {
			return err
		}
		err = m.write(dir, x)
		if err != nil && x.Retry && errors.Is(err, unix.EINVAL) && i+1 < len(ws) && ws[i+1].Controller == x.Controller {
			// The partner must go first (see Write.Retry).
			if err = m.write(dir, ws[i+1]); err == nil {
				err = m.write(dir, x)
				i++
			}
		}
		if err != nil {
			return err
		}
		if i+1 < len(ws) {
			// Between two resources: update's half-written limits.
			faultpoint.Hit("cgroups:between-writes")
		}
	}
	return nil
}

// target is the directory a write goes to, and the write as made there.
func (m *Manager) target(x Write) (string, Write, error) {
	dir, ok := m.Dir(x.Controller)
	if !ok && x.Controller == "hugetlb" && m.V2Dir() != "" {
		// Hybrid hosts may have hugetlb on the cgroup2 mount only.
		dir, ok = m.V2Dir(), true
		x.File = strings.TrimSuffix(x.File, ".limit_in_bytes") + ".max"
	}
	if !ok {
		if err := m.skippedErr(x.Field, x.Controller); err != nil {
			return "", x, err
		}
		return "", x, fmt.Errorf("%s: this host has no %s cgroup controller", x.Field, x.Controller)
	}
	return dir, x, nil
}

func (m *Manager) write(dir string, x Write) error {
	files := append([]string{x.File}, x.Alt...)
	for i, f := range files {
		v := x.Value
		if i > 0 && x.AltValue != "" {
			v = x.AltValue
		}
		err := writeFile(dir, f, v)
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("%s: %w", x.Field, err)
		}
	}
	if x.Optional {
		return nil
	}
	return missing(dir, x)
}

// missing is the error for a write whose file the host does not have.
func missing(dir string, x Write) error {
	if x.Missing != "" {
		return fmt.Errorf("%s: %s does not exist in %s: %s", x.Field, x.File, dir, x.Missing)
	}
	return fmt.Errorf("%s: %s does not exist in %s: the controller is not enabled, or this kernel lacks the feature", x.Field, x.File, dir)
}

// Destroy removes the directories the container created, deepest first. A
// cgroup's last processes may take a moment to leave after being killed.
func (m *Manager) Destroy() error {
	own := make(map[string]bool, len(m.Dirs))
	for _, d := range m.Dirs {
		own[d] = true
	}
	var errs []error
	if m.Unit != "" {
		// The unit is stopped by now, and systemd removed its cgroups;
		// what a container made in one it did not manage goes too.
		for _, d := range m.Dirs {
			if err := removeTree(d); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for i := len(m.Created) - 1; i >= 0; i-- {
		dir := m.Created[i]
		if own[dir] {
			if err := removeTree(dir); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		// A parent this container made may hold other containers by now
		// (docker's /docker, a pod's cgroup): it goes only if empty.
		if err := unix.Rmdir(dir); err != nil && err != unix.ENOENT && err != unix.EBUSY && err != unix.ENOTEMPTY {
			errs = append(errs, fmt.Errorf("remove cgroup %s: %w", dir, err))
		}
	}
	return errors.Join(errs...)
}

// removeTree removes a container's cgroup with the sub-cgroups made in it
// (by exec --cgroup users, systemd in the container, a nested runtime),
// deepest first, as runc does: rmdir of a cgroup with children is EBUSY.
func removeTree(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove cgroup %s: %w", dir, err)
	}
	for _, e := range ents {
		if e.IsDir() {
			if err := removeTree(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return rmdir(dir)
}

func rmdir(dir string) error {
	var err error
	for delay := time.Millisecond; delay < 2*time.Second; delay *= 2 {
		err = unix.Rmdir(dir)
		if err == nil || err == unix.ENOENT {
			return nil
		}
		if err != unix.EBUSY {
			break
		}
		time.Sleep(delay)
	}
	return fmt.Errorf("remove cgroup %s: %w", dir, err)
}

// writeFile writes one value with raw syscalls: os.File would try, and
// fail, to register every cgroup file with the poller.
func writeFile(dir, name, val string) error {
	p := filepath.Join(dir, name)
	fd, err := unix.Open(p, unix.O_WRONLY|unix.O_TRUNC|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	_, err = unix.Write(fd, []byte(val))
	unix.Close(fd)
	if err != nil {
		return fmt.Errorf("write %q to %s: %w", val, p, err)
	}
	return nil
}

func readFile(dir, name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	return strings.TrimSpace(string(b)), err
}

// Pids lists the processes in the container's cgroup.
func (m *Manager) Pids() ([]int, error) {
	dirs := []string{m.V2Dir()}
	if d, ok := m.Dir("pids"); ok {
		dirs = append([]string{d}, dirs...)
	}
	for _, d := range m.Dirs {
		dirs = append(dirs, d)
	}
	for _, dir := range dirs {
		if dir == "" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		if err != nil {
			continue
		}
		var pids []int
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				pids = append(pids, n)
			}
		}
		return pids, nil
	}
	if m.Unit != "" {
		// systemd removes a scope once it is empty: nothing is left.
		return nil, nil
	}
	return nil, errors.New("no cgroup directory to read processes from")
}
