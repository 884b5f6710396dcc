package e2e

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Tests of linux.seccomp: the filter is loaded for the container's process
// and for exec'd ones, with and without no_new_privs; its verdicts are seen
// from inside (errors, exit by SIGSYS, /proc/self/status).

// scProbeSource is a static helper that makes one raw syscall and prints
// its result: `ok <r1>` or `errno <n>`. Arguments are numbers (0x ok).
// `loop N` calls getppid N times, for the overhead measurement.
const scProbeSource = `package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
)

func main() {
	if len(os.Args) > 2 && os.Args[1] == "loop" {
		n, _ := strconv.Atoi(os.Args[2])
		for i := 0; i < n; i++ {
			syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
		}
		return
	}
	var v [7]uintptr
	for i, a := range os.Args[1:] {
		x, err := strconv.ParseUint(a, 0, 64)
		if err != nil || i >= len(v) {
			fmt.Fprintln(os.Stderr, "usage: scprobe NR [ARGS...] | loop N")
			os.Exit(2)
		}
		v[i] = uintptr(x)
	}
	r, _, e := syscall.RawSyscall6(v[0], v[1], v[2], v[3], v[4], v[5], v[6])
	if e != 0 {
		fmt.Printf("errno %d\n", int(e))
		return
	}
	fmt.Printf("ok %d\n", r)
}
`

var scProbeProgram = &staticProgram{name: "scprobe", source: scProbeSource}

func (c *Container) addSCProbe() {
	c.t.Helper()
	c.writeRootfsFile("bin/scprobe", string(scProbeProgram.binary(c.t)), 0o755)
}

func uintp(v uint) *uint { return &v }

// denyMkdir is a profile that allows everything but mkdir (and mkdirat,
// which some libcs use for it).
func denyMkdir(action specs.LinuxSeccompAction, errnoRet *uint) *specs.LinuxSeccomp {
	return &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: action, ErrnoRet: errnoRet}},
	}
}

// checkFiltered checks /proc/self/status of a filtered process.
func checkFiltered(t *testing.T, status string, nnp bool) {
	t.Helper()
	if got := statusField(status, "Seccomp"); got != "2" {
		t.Errorf("Seccomp: %q, want 2 (filter mode)", got)
	}
	if got := statusField(status, "Seccomp_filters"); got != "1" {
		t.Errorf("Seccomp_filters: %q, want 1", got)
	}
	want := "0"
	if nnp {
		want = "1"
	}
	if got := statusField(status, "NoNewPrivs"); got != want {
		t.Errorf("NoNewPrivs: %q, want %s", got, want)
	}
}

func TestSeccompErrno(t *testing.T) {
	requireCarapace(t)
	t.Parallel()
	for _, nnp := range []bool{true, false} {
		for _, tc := range []struct {
			name     string
			errnoRet *uint
			want     string
		}{
			{"eperm", nil, "Operation not permitted"},
			{"errnoRet-enospc", uintp(uint(unix.ENOSPC)), "No space left on device"},
		} {
			t.Run(fmt.Sprintf("%s-nnp-%v", tc.name, nnp), func(t *testing.T) {
				t.Parallel()
				c := newContainer(t)
				c.Spec.Process.NoNewPrivileges = nnp
				c.Spec.Linux.Seccomp = denyMkdir(specs.ActErrno, tc.errnoRet)
				c.Spec.Root.Readonly = false
				r := c.ShResult("cat /proc/self/status; mkdir /tmp/denied; echo mkdir=$?; ls -d /tmp/denied; touch /tmp/allowed && echo touch=$?")
				if !r.ok() {
					t.Fatalf("run: %s", r)
				}
				checkFiltered(t, r.Stdout, nnp)
				if !strings.Contains(r.Stdout, "mkdir=1") || !strings.Contains(r.Stderr, tc.want) {
					t.Errorf("mkdir was not refused with %q: %s", tc.want, r)
				}
				if !strings.Contains(r.Stdout, "touch=0") {
					t.Errorf("an allowed syscall failed: %s", r)
				}
				if _, err := os.Stat(filepath.Join(c.Rootfs, "tmp/denied")); err == nil {
					t.Errorf("the denied mkdir made the directory")
				}
			})
		}
	}
}

// TestSeccompWithoutProfile: the control for the tests here, no filter.
func TestSeccompWithoutProfile(t *testing.T) {
	requireCarapace(t)
	t.Parallel()
	c := newContainer(t)
	out := c.Sh("cat /proc/self/status")
	if got := statusField(out, "Seccomp"); got != "0" {
		t.Errorf("Seccomp: %q without a profile, want 0", got)
	}
}

func TestSeccompKillProcess(t *testing.T) {
	requireCarapace(t)
	t.Parallel()
	c := newContainer(t)
	c.Spec.Linux.Seccomp = denyMkdir(specs.ActKillProcess, nil)
	c.Spec.Process.Args = []string{"mkdir", "/tmp/denied"}
	r := c.Run()
	if r.Err != nil || r.Code != 128+int(unix.SIGSYS) {
		t.Errorf("want exit %d (SIGSYS): %s", 128+int(unix.SIGSYS), r)
	}
}

// TestSeccompArgs: a rule that holds only for some argument values, with
// 64-bit values seen by the kernel.
func TestSeccompArgs(t *testing.T) {
	requireCarapace(t)
	t.Parallel()
	profile := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{
			// personality(PER_LINUX32) refused; a query (0xffffffff) not.
			{Names: []string{"personality"}, Action: specs.ActErrno, ErrnoRet: uintp(uint(unix.EDOM)),
				Args: []specs.LinuxSeccompArg{{Index: 0, Value: 8, Op: specs.OpEqualTo}}},
			// getpriority(which, who): refused when who has 5 in its high word.
			{Names: []string{"getpriority"}, Action: specs.ActErrno, ErrnoRet: uintp(uint(unix.ERANGE)),
				Args: []specs.LinuxSeccompArg{{Index: 1, Value: 0xffffffff_00000000, ValueTwo: 5 << 32, Op: specs.OpMaskedEqual}}},
			// getpgid(pid) refused when pid > 2^32 (so never for a real pid).
			{Names: []string{"getpgid"}, Action: specs.ActErrno, ErrnoRet: uintp(uint(unix.E2BIG)),
				Args: []specs.LinuxSeccompArg{{Index: 0, Value: 1 << 32, Op: specs.OpGreaterThan}}},
		},
	}
	for i, tc := range []struct {
		args []uint64
		want string
	}{
		{[]uint64{unix.SYS_PERSONALITY, 8}, fmt.Sprintf("errno %d", unix.EDOM)},
		{[]uint64{unix.SYS_PERSONALITY, 0xffffffff}, "ok "},
		{[]uint64{unix.SYS_GETPRIORITY, 0, 5 << 32}, fmt.Sprintf("errno %d", unix.ERANGE)},
		{[]uint64{unix.SYS_GETPRIORITY, 0, 6 << 32}, "ok "},
		{[]uint64{unix.SYS_GETPGID, 1<<32 | 1}, fmt.Sprintf("errno %d", unix.E2BIG)},
		// The same low word, a high word of 0: the rule does not hold.
		{[]uint64{unix.SYS_GETPGID, 1}, "ok "},
	} {
		var a []string
		for _, v := range tc.args {
			a = append(a, "0x"+strconv.FormatUint(v, 16))
		}
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			c.addSCProbe()
			c.Spec.Linux.Seccomp = profile
			c.Spec.Process.Args = append([]string{"scprobe"}, a...)
			r := c.Run()
			if !r.ok() || !strings.HasPrefix(r.Stdout, tc.want) {
				t.Errorf("syscall %v: want %q: %s", a, tc.want, r)
			}
		})
	}
}

// dockerLikeProfile is shaped like docker's default: errno by default, a
// long allowlist, clone limited to no namespace flags, clone3 ENOSYS. The
// seccomp package's unit tests compile the same file.
func dockerLikeProfile() *specs.LinuxSeccomp {
	b, err := os.ReadFile("../../libcarapace/seccomp/testdata/docker-like.json")
	if err != nil {
		panic(err)
	}
	var sc specs.LinuxSeccomp
	if err := json.Unmarshal(b, &sc); err != nil {
		panic(err)
	}
	return &sc
}

// TestSeccompDockerLike: a default-errno allowlist like docker's runs a
// shell, ls and ps, and refuses unshare (which CAP_SYS_ADMIN would
// otherwise allow: the control run shows it), with both settings of
// noNewPrivileges, and for exec'd processes.
func TestSeccompDockerLike(t *testing.T) {
	requireCarapace(t)
	t.Parallel()
	script := "ls / >/dev/null && ps >/dev/null && echo tools=ok; unshare -m true; echo unshare=$?; scprobe " +
		strconv.Itoa(unix.SYS_CLONE3) + "; scprobe " + strconv.Itoa(unix.SYS_MOUNT) + "; cat /proc/self/status"
	withSysAdmin := func(c *Container) {
		caps := c.Spec.Process.Capabilities
		caps.Bounding = append(caps.Bounding, "CAP_SYS_ADMIN")
		caps.Effective = append(caps.Effective, "CAP_SYS_ADMIN")
		caps.Permitted = append(caps.Permitted, "CAP_SYS_ADMIN")
	}
	t.Run("control-without-profile", func(t *testing.T) {
		t.Parallel()
		c := newContainer(t)
		c.addSCProbe()
		withSysAdmin(c)
		out := c.Sh(script)
		if !strings.Contains(out, "tools=ok") || !strings.Contains(out, "unshare=0") {
			t.Errorf("without a profile, unshare with CAP_SYS_ADMIN should work: %s", out)
		}
	})
	for _, nnp := range []bool{true, false} {
		t.Run(fmt.Sprintf("nnp-%v", nnp), func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			c.addSCProbe()
			withSysAdmin(c)
			c.Spec.Process.NoNewPrivileges = nnp
			c.Spec.Linux.Seccomp = dockerLikeProfile()
			out := c.Sh(script)
			if !strings.Contains(out, "tools=ok") {
				t.Errorf("ls or ps failed under the profile: %s", out)
			}
			if !strings.Contains(out, "unshare=1") {
				t.Errorf("unshare was not refused: %s", out)
			}
			if !strings.Contains(out, fmt.Sprintf("errno %d\nerrno %d\n", unix.ENOSYS, unix.EPERM)) {
				t.Errorf("clone3 should get ENOSYS (%d) and mount EPERM (%d): %s", unix.ENOSYS, unix.EPERM, out)
			}
			checkFiltered(t, out, nnp)
		})
	}
	t.Run("exec", func(t *testing.T) {
		t.Parallel()
		c, _ := startSleeper(t, func(c *Container) {
			c.addSCProbe()
			withSysAdmin(c)
			c.Spec.Process.NoNewPrivileges = false
			c.Spec.Linux.Seccomp = dockerLikeProfile()
		})
		for _, flags := range [][]string{nil, {"--no-new-privs"}} {
			out := c.mustExecSh(t, flags, script)
			if !strings.Contains(out, "tools=ok") || !strings.Contains(out, "unshare=1") {
				t.Errorf("exec %v: %s", flags, out)
			}
			checkFiltered(t, out, len(flags) > 0)
		}
	})
}

// TestSeccompKillDefaultNewSyscall: with a kill default and an allowlist,
// a syscall newer than every one the profile names gets ENOSYS, not the
// kill (as runc's stub): libc falls back from a syscall the kernel or the
// profile does not know (clone3 → clone) but cannot survive SIGSYS. A
// syscall the profile could have named and did not is still killed.
func TestSeccompKillDefaultNewSyscall(t *testing.T) {
	requireCarapace(t)
	t.Parallel()
	c := newContainer(t)
	c.addSCProbe()
	sc := dockerLikeProfile()
	sc.DefaultAction, sc.DefaultErrnoRet = specs.ActKillProcess, nil
	c.Spec.Linux.Seccomp = sc
	// 1000 is above every x86_64 syscall (the newest are in the 460s),
	// so above the profile's newest; mount is below it and not allowed.
	r := c.ShResult("scprobe 1000; echo new=$?; scprobe " + strconv.Itoa(unix.SYS_MOUNT) + "; echo mount=$?")
	if !r.ok() {
		t.Fatalf("run: %s", r)
	}
	if !strings.Contains(r.Stdout, fmt.Sprintf("errno %d\nnew=0", unix.ENOSYS)) {
		t.Errorf("a syscall newer than the profile should get ENOSYS (%d), not the kill: %s", unix.ENOSYS, r)
	}
	if !strings.Contains(r.Stdout, fmt.Sprintf("mount=%d", 128+int(unix.SIGSYS))) {
		t.Errorf("mount, not allowed, should be killed (exit %d): %s", 128+int(unix.SIGSYS), r)
	}
}

// TestSeccompExec: an exec'd process gets the container's filter.
func TestSeccompExec(t *testing.T) {
	requireCarapace(t)
	t.Parallel()
	for _, nnp := range []bool{true, false} {
		t.Run(fmt.Sprintf("nnp-%v", nnp), func(t *testing.T) {
			t.Parallel()
			c, initPid := startSleeper(t, func(c *Container) {
				c.Spec.Process.NoNewPrivileges = nnp
				c.Spec.Root.Readonly = false
				c.Spec.Linux.Seccomp = denyMkdir(specs.ActErrno, uintp(uint(unix.ENOSPC)))
			})
			checkFiltered(t, readFileString(fmt.Sprintf("/proc/%d/status", initPid)), nnp)
			status := c.mustExecSh(t, nil, "cat /proc/self/status")
			checkFiltered(t, status, nnp)
			r := c.execIn(nil, "mkdir", "/tmp/denied")
			if r.Code != 1 || !strings.Contains(r.Stderr, "No space left on device") {
				t.Errorf("exec mkdir: want it refused with ENOSPC: %s", r)
			}
			if r := c.execIn(nil, "touch", "/tmp/allowed"); !r.ok() {
				t.Errorf("exec touch: %s", r)
			}
		})
	}
}

// TestSeccompFlags: the flags features reports as supported are accepted.
func TestSeccompFlags(t *testing.T) {
	requireCarapace(t)
	t.Parallel()
	c := newContainer(t)
	c.Spec.Linux.Seccomp = denyMkdir(specs.ActErrno, nil)
	c.Spec.Linux.Seccomp.Flags = []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_TSYNC", specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow}
	c.Spec.Process.NoNewPrivileges = false
	out := c.Sh("mkdir /tmp/x 2>&1; cat /proc/self/status")
	if !strings.Contains(out, "Operation not permitted") {
		t.Errorf("mkdir not refused: %s", out)
	}
	checkFiltered(t, out, false)
}

// ---- SCMP_ACT_NOTIFY -------------------------------------------------------------

// seccompAgent listens at a unix socket as a seccomp agent would: for each
// connection it records the container process state and answers every
// notification on the received listener with errno ENOTBLK.
type seccompAgent struct {
	path   string
	l      *net.UnixListener
	states chan specs.ContainerProcessState
	errs   chan error
}

const agentErrno = unix.ENOTBLK // "Block device required": nothing else returns it here

func newSeccompAgent(t *testing.T, dir string) *seccompAgent {
	t.Helper()
	a := &seccompAgent{path: filepath.Join(dir, "agent.sock"), states: make(chan specs.ContainerProcessState, 8), errs: make(chan error, 8)}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: a.path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	a.l = l
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.AcceptUnix()
			if err != nil {
				return
			}
			go a.serve(conn)
		}
	}()
	return a
}

func (a *seccompAgent) serve(conn *net.UnixConn) {
	defer conn.Close()
	buf := make([]byte, 1<<16)
	oob := make([]byte, unix.CmsgSpace(4*4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		a.errs <- err
		return
	}
	var st specs.ContainerProcessState
	if err := json.Unmarshal(buf[:n], &st); err != nil {
		a.errs <- fmt.Errorf("the runtime's message is not a container process state: %v: %q", err, buf[:n])
		return
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	var fds []int
	if err == nil && len(msgs) == 1 {
		fds, err = unix.ParseUnixRights(&msgs[0])
	}
	if err != nil || len(fds) != 1 {
		a.errs <- fmt.Errorf("want one descriptor with the state, got %v (%v)", fds, err)
		return
	}
	// One connection, one message: the runtime closes its end.
	if m, _ := conn.Read(buf); m != 0 {
		a.errs <- fmt.Errorf("more data after the state")
	}
	a.states <- st
	fd := fds[0]
	defer unix.Close(fd)
	// struct seccomp_notif: id u64, pid u32, flags u32, seccomp_data (64
	// bytes); struct seccomp_notif_resp: id u64, val s64, error s32,
	// flags u32.
	for {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, 20000)
		if err == unix.EINTR {
			continue // Go's preemption signals
		}
		if err != nil || n == 0 || pfd[0].Revents&unix.POLLIN == 0 {
			return
		}
		var notif [80]byte
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(&notif[0]))); e != 0 {
			return
		}
		var resp [24]byte
		copy(resp[0:8], notif[0:8])
		errno := -int32(agentErrno)
		binary.LittleEndian.PutUint32(resp[16:], uint32(errno))
		unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&resp[0])))
	}
}

func (a *seccompAgent) next(t *testing.T) specs.ContainerProcessState {
	t.Helper()
	select {
	case st := <-a.states:
		return st
	case err := <-a.errs:
		t.Fatalf("seccomp agent: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("the runtime sent nothing to linux.seccomp.listenerPath")
	}
	return specs.ContainerProcessState{}
}

func notifyProfile(path string) *specs.LinuxSeccomp {
	return &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow, ListenerPath: path, ListenerMetadata: "e2e-metadata",
		Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActNotify}},
	}
}

func checkProcessState(t *testing.T, st specs.ContainerProcessState, id string, pid int) {
	t.Helper()
	if len(st.Fds) != 1 || st.Fds[0] != "seccompFd" || st.Metadata != "e2e-metadata" || st.State.ID != id || st.Pid != pid {
		t.Errorf("container process state %+v: want fds [seccompFd], metadata, id %s, pid %d", st, id, pid)
	}
	// The rest of the state the agent is sent (runtime-spec config-linux.md,
	// "The container process state"): the versions, the container's
	// status, init's pid and the bundle.
	if st.Version == "" || st.State.Version == "" || st.State.Status == "" || st.State.Pid <= 0 || !filepath.IsAbs(st.State.Bundle) {
		t.Errorf("container process state %+v: want ociVersion, state.ociVersion, status, pid and an absolute bundle", st)
	}
}

func TestSeccompNotify(t *testing.T) {
	requireCarapace(t)
	t.Parallel()
	for _, nnp := range []bool{true, false} {
		t.Run(fmt.Sprintf("nnp-%v", nnp), func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			agent := newSeccompAgent(t, c.HostDir)
			c.Spec.Process.NoNewPrivileges = nnp
			c.Spec.Root.Readonly = false
			c.Spec.Linux.Seccomp = notifyProfile(agent.path)
			c.Spec.Process.Args = []string{"sh", "-c", "mkdir /tmp/x; echo mkdir=$?; cat /proc/self/status"}
			c.mustCreate()
			checkProcessState(t, agent.next(t), c.ID, c.mustState().Pid)
			c.mustStart()
			c.waitStatus("stopped", 10*time.Second)
			if out := c.Output(); !strings.Contains(out, "mkdir=1") || !strings.Contains(c.ErrOutput(), "Block device required") {
				t.Errorf("the agent's answer did not reach mkdir: %s\n%s", out, c.ErrOutput())
			}
			checkFiltered(t, c.Output(), nnp)
		})
	}
	t.Run("exec", func(t *testing.T) {
		t.Parallel()
		var agent *seccompAgent
		c, initPid := startSleeper(t, func(c *Container) {
			agent = newSeccompAgent(t, c.HostDir)
			c.Spec.Root.Readonly = false
			c.Spec.Linux.Seccomp = notifyProfile(agent.path)
		})
		checkProcessState(t, agent.next(t), c.ID, initPid)
		pidFile := filepath.Join(c.HostDir, "exec.pid")
		r := c.execIn([]string{"--pid-file", pidFile}, "mkdir", "/tmp/y")
		if r.Code != 1 || !strings.Contains(r.Stderr, "Block device required") {
			t.Errorf("exec mkdir: want the agent's ENOTBLK: %s", r)
		}
		checkProcessState(t, agent.next(t), c.ID, readPidFile(t, pidFile))
	})
	t.Run("no-listener-fails-create", func(t *testing.T) {
		t.Parallel()
		runBadInput(t, badInput{want: "config.json: linux.seccomp.listenerPath", spec: func(c *Container) {
			c.Spec.Linux.Seccomp = notifyProfile(filepath.Join(c.HostDir, "nobody-listens.sock"))
		}})
	})
}

// TestSeccompOldProfile: without no_new_privs the filter is loaded before
// the runtime is done; a profile that predates the syscalls of Linux 5.3+
// (runtime-tools', docker's before 2020: no close_range, openat2,
// faccessat2, clone3, pidfd_*, new mount API) must not break the run or an
// exec, and the runtime's descriptors must still not reach the process
// (CVE-2024-21626). An openat2 after the filter once made init exit
// before start.
func TestSeccompOldProfile(t *testing.T) {
	requireCarapace(t)
	t.Parallel()
	profile := func(c *Container) {
		c.Spec.Process.NoNewPrivileges = false
		c.Spec.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"close_range", "openat2", "faccessat2", "clone3",
				"pidfd_open", "pidfd_send_signal", "pidfd_getfd", "open_tree", "move_mount", "fsopen", "fsconfig",
				"fsmount", "mount_setattr"}, Action: specs.ActErrno}}}
	}
	script := "ls /proc/self/fd | tr '\\n' ' '"
	check := func(what string, r result) {
		if !r.ok() {
			t.Errorf("%s: %s", what, r)
			return
		}
		// 0-2, and ls's own directory descriptor.
		if got := strings.Fields(r.Stdout); len(got) != 4 {
			t.Errorf("%s: descriptors %v in the process: the runtime's leaked", what, got)
		}
	}
	c := newContainer(t)
	profile(c)
	check("run", c.ShResult(script))
	s, _ := startSleeper(t, profile)
	check("exec", s.execIn(nil, "sh", "-c", script))
}

// TestSeccompNonRootNoNNP: a non-root user without no_new_privs: the
// runtime loads the filter after the user switch (it re-raises
// CAP_SYS_ADMIN for it) and after its cwd check, which uses getcwd, denied
// here as runtime-tools' linux_seccomp does.
func TestSeccompNonRootNoNNP(t *testing.T) {
	requireCarapace(t)
	t.Parallel()
	status := func(profile *specs.LinuxSeccomp) string {
		c := newContainer(t)
		c.Spec.Process.User = specs.User{UID: 1000, GID: 1000}
		c.Spec.Process.Cwd = "/home/e2e"
		c.Spec.Process.NoNewPrivileges = false
		c.Spec.Process.Capabilities.Inheritable = defaultCaps // so that the ambient ones apply
		c.Spec.Linux.Seccomp = profile
		c.Spec.Process.Args = []string{"cat", "/proc/self/status"}
		r := c.Run()
		if !r.ok() {
			t.Fatalf("run: %s", r)
		}
		return r.Stdout
	}
	control := status(nil)
	out := status(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{Names: []string{"getcwd"}, Action: specs.ActErrno}}})
	checkFiltered(t, out, false)
	if got := statusField(out, "Uid"); !strings.HasPrefix(got, "1000") {
		t.Errorf("Uid: %q", got)
	}
	for _, f := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
		if got, want := statusField(out, f), statusField(control, f); got != want {
			t.Errorf("%s %s, %s without the filter: the capabilities raised to load it were not dropped", f, got, want)
		}
	}
	if got := statusField(out, "CapEff"); parseHex(t, got) != capMask(t, defaultCaps) {
		t.Errorf("CapEff %s, want the config's %v", got, defaultCaps)
	}
}
