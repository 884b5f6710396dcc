package container

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/cgroups"
	"github.com/carapace-oci/carapace/libcarapace/cgroups/systemd"
	"github.com/carapace-oci/carapace/libcarapace/config"
	"github.com/carapace-oci/carapace/libcarapace/console"
	"github.com/carapace-oci/carapace/libcarapace/faultpoint"
	"github.com/carapace-oci/carapace/libcarapace/hooks"
	"github.com/carapace-oci/carapace/libcarapace/internal/flat"
	"github.com/carapace-oci/carapace/libcarapace/ipc"
	"github.com/carapace-oci/carapace/libcarapace/kernel"
	"github.com/carapace-oci/carapace/libcarapace/lsm"
	"github.com/carapace-oci/carapace/libcarapace/namespaces"
	"github.com/carapace-oci/carapace/libcarapace/netdev"
	"github.com/carapace-oci/carapace/libcarapace/notify"
	"github.com/carapace-oci/carapace/libcarapace/process"
	"github.com/carapace-oci/carapace/libcarapace/rootfs"
	"github.com/carapace-oci/carapace/libcarapace/sealexe"
	"github.com/carapace-oci/carapace/libcarapace/seccomp"
	"github.com/carapace-oci/carapace/libcarapace/state"
)

// Runtime is the runtime's side of every verb.
type Runtime struct {
	Store state.Store
	Log   *slog.Logger
	// SystemdCgroup makes create place containers in systemd units
	// (--systemd-cgroup); later verbs follow what the state records.
	SystemdCgroup bool
	// Rootless (--rootless): a cgroup the caller cannot create or write is
	// skipped, as long as no limit needs it.
	Rootless bool
}

// CreateOptions are create's flags.
type CreateOptions struct {
	ID            string
	Bundle        string
	PidFile       string
	ConsoleSocket string
	NoPivot       bool
	NoNewKeyring  bool
	PreserveFDs   int
	// ListenFDs are socket-activation fds (LISTEN_FDS) passed at 3.., before
	// the preserved ones; the process gets LISTEN_FDS and LISTEN_PID=1.
	ListenFDs int
	// Stdio is what the container's process gets as fds 0-2 (the
	// caller's own when nil).
	Stdio [3]*os.File
	// NotifySocket is the caller's NOTIFY_SOCKET: the container gets an
	// sd_notify socket of its own, proxied at start.
	NotifySocket string
	// OnConsole, when set, receives the pty master instead of the console
	// socket (run in the foreground uses it).
	OnConsole func(*os.File) error
	// PidfdSocket, when set, receives a pidfd of init (--pidfd-socket).
	PidfdSocket string
	// NoSubreaper keeps run in the foreground from becoming the reaper of
	// the container's orphans (run --no-subreaper, as runc's).
	NoSubreaper bool
}

// created is a container whose init is parked on the exec fifo.
type created struct {
	st  *state.State
	pid int // init, a child of this process
}

// Create sets a container up and leaves its init waiting for start.
func (r *Runtime) Create(o CreateOptions) error {
	_, err := r.create(o)
	return err
}

func (r *Runtime) create(o CreateOptions) (c *created, err error) {
	if err := state.CheckID(o.ID); err != nil {
		return nil, err
	}
	if err := checkPassedFDs(o.PreserveFDs, o.ListenFDs); err != nil {
		return nil, err
	}
	if r.SystemdCgroup && !systemd.Available() {
		return nil, fmt.Errorf("--systemd-cgroup: %w", systemd.ErrNotRunning)
	}
	if err := kernel.Check(); err != nil {
		return nil, err
	}
	b, err := config.Load(o.Bundle)
	if err != nil {
		return nil, err
	}
	spec := b.Spec
	for _, w := range b.Warnings {
		r.Log.Warn(w, "id", o.ID)
	}
	if err := process.CheckRlimits(spec.Process.Rlimits); err != nil {
		return nil, fmt.Errorf("%s: %w", config.Name, err)
	}
	if err := checkLSM(spec.Process, spec.Linux.MountLabel); err != nil {
		return nil, fmt.Errorf("%s: %w", config.Name, err)
	}
	if spec.Linux.MountLabel != "" && mountLabel(spec.Linux.MountLabel) == "" {
		r.Log.Warn(config.Name+": linux.mountLabel ignored: SELinux is not enabled on this host", "id", o.ID)
	}
	// Compiled here, before anything exists, so that a profile that cannot
	// be loaded fails create cleanly; init only loads the result.
	var filter *seccomp.Program
	if spec.Linux.Seccomp != nil {
		if filter, err = seccomp.Compile(spec.Linux.Seccomp, r.Log); err != nil {
			return nil, fmt.Errorf("%s: %w", config.Name, err)
		}
	}
	if spec.Process.Terminal && o.ConsoleSocket == "" && o.OnConsole == nil {
		return nil, errors.New("process.terminal is true: --console-socket is required to receive the pty master")
	}
	if !spec.Process.Terminal && o.ConsoleSocket != "" {
		return nil, errors.New("--console-socket given but process.terminal is false")
	}
	// The directory appears with its first record and its lock, held
	// until create returns (after the cleanups of a failure): state tells
	// a create at work from one that died, and delete waits for it.
	// Everything below is recorded in progress before it is made.
	progress := state.NewProgress(b.Dir)
	unlock, err := r.Store.Claim(o.ID, progress)
	if err != nil {
		return nil, err
	}
	defer unlock()
	faultpoint.Hit("create:reserved")
	cleanups := []func(){func() { r.Store.Remove(o.ID) }}
	defer func() {
		if err != nil {
			for i := len(cleanups) - 1; i >= 0; i-- {
				cleanups[i]()
			}
		}
	}()
	if err := r.Store.MakeFifo(o.ID); err != nil {
		return nil, err
	}
	faultpoint.Hit("create:fifo-made")
	if o.NotifySocket != "" {
		// Init is sent spec itself, with the socket's mount.
		if err := notify.Setup(spec, r.Store.Dir(o.ID)); err != nil {
			return nil, err
		}
	}
	plan := namespaces.NewPlan(spec.Linux.Namespaces)
	var cg *cgroups.Manager
	var bus systemd.Bus
	if r.SystemdCgroup {
		if bus, err = systemd.Connect(r.Rootless); err != nil {
			return nil, err
		}
		defer bus.Close()
		if r.Rootless {
			// The user's own systemd instance, which delegates its
			// cgroups to the user (runc's rootless systemd driver).
			cg, err = systemd.NewUserManager(bus, spec.Linux.CgroupsPath, o.ID)
		} else {
			cg, err = systemd.NewManager(spec.Linux.CgroupsPath, o.ID)
		}
	} else {
		cg, err = cgroups.NewManager(spec.Linux.CgroupsPath, o.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", config.Name, err)
	}
	cg.Rootless = r.Rootless && cg.Unit == ""

	// A cgroup that is in use (processes, frozen) is refused before
	// anything is made: it is someone else's, and must be left as it is.
	if err := cg.CheckReusable(); err != nil {
		return nil, fmt.Errorf("%s: linux.cgroupsPath: %w", config.Name, err)
	}
	if err := cg.CheckPlacement(); err != nil {
		return nil, fmt.Errorf("%s: linux.cgroupsPath %q: %w", config.Name, spec.Linux.CgroupsPath, err)
	}
	// One exception to "limits before init runs", as in runc:
	// SCHED_DEADLINE needs the cpuset written after init's sched_setattr.
	res, deferredCpus := deadlineCpus(spec, cgroupResources(spec))
	if r.Rootless {
		// Device rules need CAP_SYS_ADMIN of the host (v1 devices files,
		// v2 BPF programs), which no delegation gives; in a user namespace
		// the container cannot mknod anyway, and its /dev holds only
		// bind mounts of the host's nodes. runc skips them alike.
		res.Devices = nil
	}
	var props []systemd.Property
	if cg.Unit == "" {
		// Registered before init exists so that, run in reverse, it
		// comes after init is killed.
		cleanups = append(cleanups, func() { cg.Destroy() })
		// The directories about to be made first, then those made.
		planned := *cg
		planned.Created = cg.Missing()
		progress.Cgroup = &planned
		if err := r.Store.SaveProgress(o.ID, progress); err != nil {
			return nil, err
		}
		faultpoint.Hit("create:cgroup-recorded")
		if err := cg.Create(); err != nil {
			return nil, err
		}
		faultpoint.Hit("create:cgroup-made")
		progress.Cgroup = cg
		if err := r.Store.SaveProgress(o.ID, progress); err != nil {
			return nil, err
		}
		// A new cgroup under a frozen one is frozen too: init would
		// freeze in it before it could report.
		if err := cg.CheckThawed(); err != nil {
			return nil, fmt.Errorf("%s: linux.cgroupsPath: %w", config.Name, err)
		}
		// Limits are in place before init joins: nothing of the
		// container ever runs unlimited.
		if err := cg.Set(res); err != nil {
			return nil, fmt.Errorf("%s: %w", config.Name, err)
		}
		faultpoint.Hit("create:cgroup-set")
		for name, dir := range cg.Skipped {
			r.Log.Debug("rootless: cgroup not writable, skipped", "id", o.ID, "hierarchy", name, "dir", dir)
		}
	} else {
		// systemd makes the cgroup with init in it, so it can only be
		// made once init exists; init runs nothing of the container's
		// before it gets its configuration, after the limits.
		if props, res, err = systemd.Props(bus, cg, res); err != nil {
			return nil, fmt.Errorf("%s: %w", config.Name, err)
		}
		if err := cg.Check(res); err != nil {
			return nil, fmt.Errorf("%s: %w", config.Name, err)
		}
		cleanups = append(cleanups, func() { systemd.Stop(bus, cg) })
	}

	parent, child, err := ipc.Pair()
	if err != nil {
		return nil, err
	}
	defer parent.Close()
	// Init dies or answers; one frozen on the way (its cgroup frozen by
	// someone else) would hold create for ever.
	parent.Watch = func() error {
		if err := cg.CheckThawed(); err != nil {
			return fmt.Errorf("container init cannot go on: %w", err)
		}
		return nil
	}
	oomBefore := oomKillsBefore(cg)
	pid, inCgroup, err := r.startInit(b, plan, cg, parent, child, o)
	child.Close()
	if err != nil {
		if errors.Is(err, unix.EAGAIN) {
			err = forkRefused(cg, err)
		}
		return nil, err
	}
	faultpoint.Hit("create:init-spawned")
	cleanups = append(cleanups, func() {
		unix.Kill(pid, unix.SIGKILL)
		unix.Wait4(pid, nil, 0, nil)
	})
	// Init waits for its configuration, and exits if create dies first:
	// recorded now, it is killed by a delete of what a later kill left.
	startTime, _, err := state.ProcStartTime(pid)
	if err != nil {
		return nil, fmt.Errorf("init exited at once: %w", err)
	}
	progress.Pid, progress.StartTime = pid, startTime
	if cg.Unit != "" {
		// Recorded before the unit exists, and again with the
		// directories the driver made: delete --force of a create killed
		// in between stops the unit and removes them.
		progress.Cgroup = cg
		if err := r.Store.SaveProgress(o.ID, progress); err != nil {
			return nil, err
		}
		faultpoint.Hit("create:unit-recorded")
		if err := systemd.Start(bus, cg, o.ID, pid, props); err != nil {
			return nil, err
		}
		faultpoint.Hit("create:unit-started")
		if err := r.Store.SaveProgress(o.ID, progress); err != nil {
			return nil, err
		}
		if err := cg.Set(res); err != nil {
			return nil, fmt.Errorf("%s: %w", config.Name, err)
		}
	} else {
		if err := r.Store.SaveProgress(o.ID, progress); err != nil {
			return nil, err
		}
	}
	faultpoint.Hit("create:init-recorded")
	if cg.Unit == "" && !inCgroup {
		if err := cg.Apply(pid); err != nil {
			if cg.Rootless && errors.Is(err, unix.EACCES) {
				err = fmt.Errorf("%w (%s)", err, cgroups.AncestorHint)
			}
			return nil, err
		}
	}
	faultpoint.Hit("create:init-in-cgroup")
	if err := process.RaiseRlimits(pid, spec.Process.Rlimits); err != nil {
		return nil, fmt.Errorf("%s: %w", config.Name, err)
	}
	if v := spec.Process.OOMScoreAdj; v != nil {
		if err := process.SetOOMScoreAdj(pid, *v); err != nil {
			return nil, err
		}
	}

	for _, host := range sortedKeys(spec.Linux.NetDevices) {
		dev := spec.Linux.NetDevices[host]
		if err := netdev.Move(host, dev.Name, fmt.Sprintf("/proc/%d/ns/net", pid)); err != nil {
			return nil, fmt.Errorf("%s: linux.netDevices.%s: %w", config.Name, host, err)
		}
	}
	st := &state.State{
		// The version of the runtime spec the state complies with, which
		// is the runtime's own (as runc's), not the bundle's ociVersion.
		OCIVersion:   specs.Version,
		ID:           o.ID,
		Pid:          pid,
		StartTime:    startTime,
		Bundle:       b.Dir,
		Rootfs:       b.Rootfs,
		Created:      time.Now().UTC(),
		Annotations:  spec.Annotations,
		Hooks:        spec.Hooks,
		Cgroup:       cg,
		SharedPidNS:  !plan.Has(specs.PIDNamespace),
		Process:      spec.Process,
		Namespaces:   nsTypes(spec.Linux.Namespaces),
		NotifySocket: o.NotifySocket,
		Seccomp:      spec.Linux.Seccomp,
		Personality:  spec.Linux.Personality,
		MemoryPolicy: spec.Linux.MemoryPolicy,
		Devices:      spec.Linux.Devices,
	}
	if cg.Empty() {
		// Rootless on a tree that is not delegated: nothing to record.
		st.Cgroup = nil
	} else {
		_, st.Resources = cgroups.Merge(spec.Linux.Resources, nil)
	}
	// The hooks that run during create see the environment as created,
	// which is what it is by then (and what runtime-tools checks).
	hookState := specs.State{Version: specs.Version, ID: o.ID, Status: specs.StateCreated, Pid: pid, Bundle: b.Dir, Annotations: spec.Annotations}
	cfg := InitConfig{
		ID: o.ID, Bundle: b.Dir, Rootfs: b.Rootfs, Spec: spec,
		NoPivot: o.NoPivot, NoNewKeyring: o.NoNewKeyring, PreserveFDs: o.ListenFDs + o.PreserveFDs,
		NewCgroupNS: plan.IsNew(specs.CgroupNamespace),
		CgroupNS:    plan.Has(specs.CgroupNamespace),
		CgroupV2Dir: cgroupV2Dir(cg),
		MountLabel:  mountLabel(spec.Linux.MountLabel),
		MountNS:     plan.Has(specs.MountNamespace),
		// Run by a rootless engine (podman's own user namespace), the
		// runtime cannot mknod either: devices are bound from the host.
		UserNS:     plan.Has(specs.UserNamespace) || InUserNS(),
		UTSNS:      plan.Has(specs.UTSNamespace),
		State:      hookState,
		Seccomp:    filter,
		ClearONLCR: o.OnConsole != nil,
	}
	if o.ListenFDs > 0 {
		cfg.ExtraEnv = []string{fmt.Sprintf("LISTEN_FDS=%d", o.ListenFDs), "LISTEN_PID=1"}
	}
	trees, err := idmapTrees(b)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, t := range trees {
			t.Close()
		}
	}()
	var treeFDs []int
	for _, i := range sortedKeys(trees) {
		cfg.IDMapped = append(cfg.IDMapped, i)
		treeFDs = append(treeFDs, int(trees[i].Fd()))
	}
	payload, err := flat.Marshal(&cfg)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	if err := parent.Send(ipc.Message{Kind: ipc.Bootstrap, Flat: payload}, treeFDs...); err != nil {
		if peerGone(err) {
			err = initDied(pid, cg, oomBefore, err)
		}
		return nil, err
	}
	faultpoint.Hit("create:bootstrap-sent")
	if err := r.serveInit(parent, spec, hookState, o); err != nil {
		if peerGone(err) {
			err = initDied(pid, cg, oomBefore, err)
		}
		return nil, err
	}
	faultpoint.Hit("create:init-ready")
	if deferredCpus != "" {
		// Init is past sched_setattr and still runs only the runtime.
		if err := cg.Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: deferredCpus}}); err != nil {
			return nil, fmt.Errorf("%s: with process.scheduler %s: %w", config.Name, spec.Process.Scheduler.Policy, err)
		}
	}
	if err := r.Store.Save(st); err != nil {
		return nil, err
	}
	faultpoint.Hit("create:saved")
	if o.PidFile != "" {
		if err := writePidFile(o.PidFile, pid); err != nil {
			return nil, err
		}
	}
	if o.PidfdSocket != "" {
		if err := sendPidfd(o.PidfdSocket, pid); err != nil {
			return nil, err
		}
	}
	return &created{st: st, pid: pid}, nil
}

// serveInit answers init's requests until it is ready or fails.
func (r *Runtime) serveInit(conn *ipc.Conn, spec *specs.Spec, hookState specs.State, o CreateOptions) error {
	for {
		m, fds, err := conn.Recv()
		if err != nil {
			if peerGone(err) {
				return err
			}
			return fmt.Errorf("container init: %w", err)
		}
		switch m.Kind {
		case ipc.Error:
			return errors.New(m.Error)
		case ipc.RunHooks:
			// Both run in the runtime's namespaces, after the container's
			// namespaces and mounts exist and before pivot_root.
			err := hooks.Run(spec.Hooks, hooks.Prestart, hookState)
			if err == nil {
				err = hooks.Run(spec.Hooks, hooks.CreateRuntime, hookState)
			}
			if err != nil {
				conn.SendError(err)
				return err
			}
			if err := conn.Send(ipc.Message{Kind: ipc.HooksDone}); err != nil {
				return err
			}
		case ipc.Console:
			if len(fds) != 1 {
				return errors.New("container init sent no pty master")
			}
			master := os.NewFile(uintptr(fds[0]), "/dev/ptmx")
			if o.OnConsole != nil {
				err = o.OnConsole(master)
			} else {
				err = console.SendMaster(o.ConsoleSocket, master)
				master.Close()
			}
			if err != nil {
				return err
			}
		case seccompListener:
			if len(fds) != 1 {
				return errors.New("container init sent no seccomp listener")
			}
			st := hookState
			st.Status = specs.StateCreating
			err := seccomp.SendListener(spec.Linux.Seccomp, hookState.Pid, st, fds[0])
			unix.Close(fds[0])
			if err != nil {
				return fmt.Errorf("%s: %w", config.Name, err)
			}
		case ipc.Ready:
			return nil
		default:
			return fmt.Errorf("container init: unexpected message %q", m.Kind)
		}
	}
}

// startInit re-executes the runtime, sealed, as the container's init in its
// new namespaces. It reports whether init was born in its cgroup.
func (r *Runtime) startInit(b *config.Bundle, plan *namespaces.Plan, cg *cgroups.Manager, parent, child *ipc.Conn, o CreateOptions) (pid int, inCgroup bool, err error) {
	fifo, err := os.OpenFile(r.Store.FifoPath(o.ID), unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, false, fmt.Errorf("exec fifo: %w", err)
	}
	defer fifo.Close()
	sp := spawn{
		role:   initEnv,
		stdio:  o.Stdio,
		extra:  []*os.File{fifo},
		keep:   o.ListenFDs + o.PreserveFDs,
		parent: parent, child: child,
		joins: plan.Joins,
		// The cgroup namespace is unshared by init itself: it must
		// start at the container's cgroup.
		newFlags: plan.New &^ unix.CLONE_NEWCGROUP,
	}
	if plan.IsNew(specs.TimeNamespace) {
		// init must be born in its time namespace: unshared by init, it
		// would hold only init's children, as execve moves the caller in
		// on recent kernels only (not Debian 12's 6.1). nsenter makes it,
		// writes the offsets and forks init; the pid namespace moves
		// there too, so that init is its pid 1.
		sp.childFlags = unix.CLONE_NEWTIME | (sp.newFlags & unix.CLONE_NEWPID)
		sp.newFlags &^= unix.CLONE_NEWTIME | unix.CLONE_NEWPID
		sp.timeOffsets = timensOffsets(b.Spec.Linux.TimeOffsets)
	}
	if cg.Unit == "" && cg.V2Dir() != "" {
		// Under systemd the cgroup does not exist yet: systemd makes it
		// with init in it. A rootless container may have none.
		sp.cgroup = cg
	}
	if plan.IsNew(specs.UserNamespace) {
		if os.Geteuid() == 0 {
			sp.uidMaps = idMaps(b.Spec.Linux.UIDMappings)
			sp.gidMaps = idMaps(b.Spec.Linux.GIDMappings)
		} else {
			sp.newUser = &userMaps{b.Spec.Linux.UIDMappings, b.Spec.Linux.GIDMappings}
		}
	}
	return sp.start(nil)
}

// deadlineCpus holds linux.resources.cpu.cpus back when the process
// is to run under SCHED_DEADLINE: the kernel grants that policy only to a
// task whose affinity spans its whole root domain (sched_setattr EPERM
// otherwise), and a cpuset narrower than that set first would confine
// init before it asks. As runc does, init sets the policy in a cgroup
// with the parent's CPUs and the cpuset is written once init is ready,
// before the process is started; the kernel then moves init, deadline
// and all, onto the cpuset's CPUs. It returns the resources to set now
// and the CPUs to set later ("" for none).
func deadlineCpus(spec *specs.Spec, r *specs.LinuxResources) (*specs.LinuxResources, string) {
	if s := spec.Process.Scheduler; s == nil || s.Policy != specs.SchedDeadline ||
		r == nil || r.CPU == nil || r.CPU.Cpus == "" {
		return r, ""
	}
	now, cpu := *r, *r.CPU
	cpu.Cpus = ""
	now.CPU = &cpu
	return &now, r.CPU.Cpus
}

// cgroupResources is linux.resources with the device rules completed: the
// defaults every container gets and its linux.devices.
func cgroupResources(spec *specs.Spec) *specs.LinuxResources {
	var r specs.LinuxResources
	if spec.Linux.Resources != nil {
		r = *spec.Linux.Resources
	}
	r.Devices = cgroups.DeviceRules(r.Devices, spec.Linux.Devices)
	return &r
}

// checkLSM refuses an AppArmor profile or SELinux label the host cannot
// apply: running the container without the confinement it asked for would
// be worse than not running it. A profile the host does not have loaded
// is found by init, whose write of it fails (see applyLSM); an SELinux
// context is checked against the loaded policy here.
func checkLSM(p *specs.Process, mountLabelField string) error {
	if p.ApparmorProfile != "" && !lsm.AppArmorEnabled() {
		return fmt.Errorf("process.apparmorProfile %q: AppArmor is not enabled on this host", p.ApparmorProfile)
	}
	// The host is asked only when a label is given: nothing on the path
	// of a container without one.
	for _, l := range []struct{ field, label string }{
		{"process.selinuxLabel", p.SelinuxLabel},
		{"linux.mountLabel", mountLabel(mountLabelField)}, // "" where SELinux is off
	} {
		if l.label == "" {
			continue
		}
		if !lsm.SELinuxEnabled() {
			return fmt.Errorf("%s %q: SELinux is not enabled on this host", l.field, l.label)
		}
		if err := lsm.CheckSELinuxContext(l.label); err != nil {
			return fmt.Errorf("%s %q: %w", l.field, l.label, err)
		}
	}
	return nil
}

func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func nsTypes(nss []specs.LinuxNamespace) []specs.LinuxNamespaceType {
	out := make([]specs.LinuxNamespaceType, len(nss))
	for i, ns := range nss {
		out[i] = ns.Type
	}
	return out
}

func idMaps(m []specs.LinuxIDMapping) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, len(m))
	for i, x := range m {
		out[i] = syscall.SysProcIDMap{ContainerID: int(x.ContainerID), HostID: int(x.HostID), Size: int(x.Size)}
	}
	return out
}

// writePidFile writes the bare pid, without a newline, atomically: into a
// new file of an unpredictable name (O_EXCL: never through a symlink or
// into a file someone else made), renamed over path.
func writePidFile(path string, pid int) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".*")
	if err != nil {
		// Name what the user gave, not the temporary file's random name.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("--pid-file %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.WriteString(strconv.Itoa(pid))
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, abs)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("--pid-file %s: %w", path, err)
	}
	return nil
}

// sendPidfd passes a pidfd of pid to the process listening on the unix
// socket at path (--pidfd-socket), as runc does: the caller can then
// signal and wait for the process without pid reuse races.
func sendPidfd(path string, pid int) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return fmt.Errorf("--pidfd-socket: pidfd_open %d: %w", pid, err)
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	return console.SendFile(path, "pidfd (--pidfd-socket)", f)
}

// idmapTrees makes the idmapped mounts' trees, by mount index: each
// source cloned detached and idmapped with a user namespace made for its
// maps (rootfs.IDMapTree says why on the host). Init attaches them.
func idmapTrees(b *config.Bundle) (trees map[int]*os.File, err error) {
	trees = map[int]*os.File{}
	defer func() {
		if err != nil {
			for _, t := range trees {
				t.Close()
			}
		}
	}()
	var exe *os.File
	for i, m := range b.Spec.Mounts {
		uid, gid, recursive, ok := config.MountIDMaps(b.Spec, m)
		if !ok {
			continue
		}
		f := fmt.Sprintf("%s: mounts[%d] (bind of %s on %s)", config.Name, i, m.Source, m.Destination)
		if os.Geteuid() != 0 {
			return nil, fmt.Errorf("%s: idmapped mounts need root on the host: the kernel idmaps a mount only for a caller privileged over its filesystem's user namespace (the host's)", f)
		}
		if !rootfs.IDMapSupported() {
			return nil, fmt.Errorf("%s: idmapped mounts need mount_setattr (Linux 5.12 or newer)", f)
		}
		if exe == nil {
			if exe, err = sealexe.Open(); err != nil {
				return nil, err
			}
			defer exe.Close()
		}
		userns, err := namespaces.NewUserNS(exe, uid, gid)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		src := m.Source
		if !filepath.IsAbs(src) {
			src = filepath.Join(b.Dir, src)
		}
		opts := rootfs.ParseOptions(m.Options)
		tree, err := rootfs.IDMapTree(src, opts.Recursive, recursive, userns)
		userns.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		trees[i] = tree
	}
	return trees, nil
}

// mountLabel is linux.mountLabel where SELinux is enabled, and "" where it
// is not: runc ignores the field there, runtime-tools' linux_mount_label
// expects it to be, and engines send it only on SELinux hosts. A process
// label, which would leave the process unconfined, is refused instead.
func mountLabel(label string) string {
	if label == "" || !lsm.SELinuxEnabled() {
		return ""
	}
	return label
}

// cgroupV2Dir is the container's cgroup2 directory, or "" when it has
// none (not pure v2, or rootless without a delegated cgroup).
func cgroupV2Dir(cg *cgroups.Manager) string {
	if cg.Mode != cgroups.ModeV2 || cg.Empty() {
		return ""
	}
	return cg.V2Dir()
}
