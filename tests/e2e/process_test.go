package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestProcessArgsEnvCwd(t *testing.T) {
	t.Parallel()
	t.Run("sh-args-env-cwd", func(t *testing.T) {
		t.Parallel()
		c := newContainer(t)
		c.Spec.Process.Args = []string{"sh", "-c", `echo "0=$0 1=$1 2=$2"; echo "FOO=$FOO"; echo "SPACED=$SPACED"; echo "PWD=$(pwd)"; env`, "zero", "one", "two words"}
		c.Spec.Process.Env = append(c.Spec.Process.Env, "FOO=bar", "SPACED=a b  c", "EMPTY=")
		c.Spec.Process.Cwd = "/tmp"
		out := c.mustRun().Stdout
		for _, want := range []string{"0=zero 1=one 2=two words", "FOO=bar", "SPACED=a b  c", "PWD=/tmp", "\nEMPTY=\n", "\nTERM=xterm\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("exec-without-shell", func(t *testing.T) {
		t.Parallel()
		c := newContainer(t)
		c.Spec.Process.Args = []string{"echo", "a", "b  c", "$HOME"}
		if out := c.mustRun().Stdout; out != "a b  c $HOME\n" {
			t.Errorf("output = %q, want the args verbatim", out)
		}
	})
	t.Run("absolute-path", func(t *testing.T) {
		t.Parallel()
		c := newContainer(t)
		c.Spec.Process.Env = []string{"X=1"} // no PATH at all
		c.Spec.Process.Args = []string{"/bin/busybox", "echo", "abs"}
		if out := c.mustRun().Stdout; out != "abs\n" {
			t.Errorf("output = %q", out)
		}
	})
	// A missing cwd is made (mode 755, owned by root), as runc makes it,
	// even on a read-only root: ctr run --cwd and docker -w rely on it.
	t.Run("cwd-made-when-missing", func(t *testing.T) {
		t.Parallel()
		c := newContainer(t)
		c.Spec.Root.Readonly = true
		c.Spec.Process.Cwd = "/made/by/runtime"
		if out := c.Sh(`pwd; stat -c '%a %u' .`); out != "/made/by/runtime\n755 0\n" {
			t.Errorf("output = %q", out)
		}
	})
	t.Run("cwd-a-file", func(t *testing.T) {
		t.Parallel()
		c := newContainer(t)
		c.writeRootfsFile("afile", "x", 0o644)
		c.Spec.Process.Cwd = "/afile"
		r := c.ShResult("pwd")
		if r.Code == 0 || !strings.Contains(r.Stderr, "process.cwd") || !strings.Contains(r.Stderr, "not a directory") {
			t.Errorf("want an error naming process.cwd and 'not a directory': %s", r)
		}
	})
	t.Run("cwd-of-user", func(t *testing.T) {
		t.Parallel()
		c := newContainer(t)
		c.Spec.Root.Readonly = false
		c.Spec.Process.User = specs.User{UID: 1000, GID: 1000}
		c.Spec.Process.Cwd = "/home/e2e"
		if out := c.Sh(`pwd; touch here && echo write-ok`); out != "/home/e2e\nwrite-ok\n" {
			t.Errorf("output = %q", out)
		}
	})
	t.Run("missing-executable", func(t *testing.T) {
		t.Parallel()
		c := newContainer(t)
		c.Spec.Process.Args = []string{"/no/such/binary"}
		// create itself fails (as runc's does): docker and podman map
		// this create error to exit 127.
		r := c.Create()
		if !r.failed() || !strings.Contains(r.Stderr, `process.args[0] "/no/such/binary": no such file or directory`) {
			t.Fatalf("create with a missing executable: want a failure naming process.args[0]: %s", r)
		}
		c.checkNoLeftovers("failed create")
	})
}

func TestProcessUser(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		user     specs.User
		uid, gid string
		groups   string
		idG      []string
	}{
		{"root", specs.User{}, "0", "0", "", []string{"0"}},
		{"uid-1000", specs.User{UID: 1000, GID: 1000}, "1000", "1000", "", []string{"1000"}},
		{"additional-gids", specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{10, 100}}, "1000", "1000", "10 100", []string{"10", "100", "1000"}},
		{"uid-without-passwd-entry", specs.User{UID: 4242, GID: 4343}, "4242", "4343", "", []string{"4343"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			c.Spec.Process.User = tc.user
			c.Spec.Process.Args = []string{"cat", "/proc/self/status"}
			status := c.mustRun().Stdout
			wantUID := strings.Repeat(tc.uid+"\t", 3) + tc.uid
			wantGID := strings.Repeat(tc.gid+"\t", 3) + tc.gid
			if got := statusField(status, "Uid"); got != wantUID {
				t.Errorf("Uid: %q, want %q", got, wantUID)
			}
			if got := statusField(status, "Gid"); got != wantGID {
				t.Errorf("Gid: %q, want %q", got, wantGID)
			}
			if got := statusField(status, "Groups"); got != tc.groups {
				t.Errorf("Groups: %q, want %q", got, tc.groups)
			}
			c.Spec.Process.Args = []string{"id", "-G"}
			got := strings.Fields(c.mustRun().Stdout)
			sort.Strings(got)
			if strings.Join(got, " ") != strings.Join(tc.idG, " ") {
				t.Errorf("id -G = %v, want %v", got, tc.idG)
			}
		})
	}
}

func TestUmask(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		umask    *uint32
		want     string
		fileMode string
	}{
		{nil, "0022", "644"},
		{ptr(uint32(0o027)), "0027", "640"},
		{ptr(uint32(0o077)), "0077", "600"},
		{ptr(uint32(0)), "0000", "666"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			c.Spec.Root.Readonly = false
			c.Spec.Process.User.Umask = tc.umask
			out := lines(c.Sh(`umask; touch /tmp/f; stat -c %a /tmp/f`))
			if len(out) != 2 || out[0] != tc.want || out[1] != tc.fileMode {
				t.Errorf("umask, mode of a new file = %q, want %s, %s", out, tc.want, tc.fileMode)
			}
		})
	}
}

// limitsRow returns the soft and hard columns of a /proc/self/limits row.
func limitsRow(limits, name string) string {
	for _, l := range strings.Split(limits, "\n") {
		if strings.HasPrefix(l, name) {
			f := strings.Fields(strings.TrimPrefix(l, name))
			if len(f) >= 2 {
				return f[0] + " " + f[1]
			}
		}
	}
	return ""
}

func TestRlimits(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.Spec.Process.Rlimits = []specs.POSIXRlimit{
		{Type: "RLIMIT_NOFILE", Soft: 512, Hard: 768},
		{Type: "RLIMIT_NPROC", Soft: 300, Hard: 400},
		{Type: "RLIMIT_CORE", Soft: 0, Hard: 0},
		{Type: "RLIMIT_STACK", Soft: 4194304, Hard: 8388608},
	}
	out := c.Sh(`echo "n=$(ulimit -n) Hn=$(ulimit -Hn)"; cat /proc/self/limits`)
	if !strings.Contains(out, "n=512 Hn=768") {
		t.Errorf("ulimit -n/-Hn: %q, want 512/768", lines(out)[0])
	}
	for name, want := range map[string]string{
		"Max open files":     "512 768",
		"Max processes":      "300 400",
		"Max core file size": "0 0",
		"Max stack size":     "4194304 8388608",
	} {
		if got := limitsRow(out, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	set := []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_KILL", "CAP_SETUID", "CAP_SETGID", "CAP_NET_RAW"}
	for _, tc := range []struct {
		name string
		user specs.User
		caps *specs.LinuxCapabilities
		// The sets expected after the runtime's execve of the process:
		// the kernel's exec rules apply, so configs whose sets are
		// consistent (ambient ⊆ permitted ∩ inheritable, and for root
		// bounding = permitted = effective) come out exactly as written.
		bnd, eff, prm, inh, amb []string
	}{
		{
			name: "default", caps: defaultSpec().Process.Capabilities,
			bnd: defaultCaps, eff: defaultCaps, prm: defaultCaps,
			inh: nil, amb: nil, // ambient without inheritable cannot be raised
		},
		{
			name: "root-all-sets",
			caps: &specs.LinuxCapabilities{Bounding: set, Effective: set, Permitted: set, Inheritable: set[:2], Ambient: set[:2]},
			bnd:  set, eff: set, prm: set, inh: set[:2], amb: set[:2],
		},
		{
			name: "root-no-capabilities", caps: &specs.LinuxCapabilities{},
		},
		{
			name: "root-nil-capabilities", caps: nil,
		},
		{
			name: "user-with-ambient",
			user: specs.User{UID: 1000, GID: 1000},
			caps: &specs.LinuxCapabilities{
				Bounding:    []string{"CAP_NET_BIND_SERVICE", "CAP_KILL", "CAP_CHOWN"},
				Effective:   []string{"CAP_NET_BIND_SERVICE", "CAP_KILL"},
				Permitted:   []string{"CAP_NET_BIND_SERVICE", "CAP_KILL"},
				Inheritable: []string{"CAP_NET_BIND_SERVICE", "CAP_KILL"},
				Ambient:     []string{"CAP_NET_BIND_SERVICE", "CAP_KILL"},
			},
			bnd: []string{"CAP_NET_BIND_SERVICE", "CAP_KILL", "CAP_CHOWN"},
			eff: []string{"CAP_NET_BIND_SERVICE", "CAP_KILL"},
			prm: []string{"CAP_NET_BIND_SERVICE", "CAP_KILL"},
			inh: []string{"CAP_NET_BIND_SERVICE", "CAP_KILL"},
			amb: []string{"CAP_NET_BIND_SERVICE", "CAP_KILL"},
		},
		{
			// Without ambient capabilities a non-root process loses
			// its capabilities at execve.
			name: "user-without-ambient",
			user: specs.User{UID: 1000, GID: 1000},
			caps: &specs.LinuxCapabilities{Bounding: set, Effective: set, Permitted: set},
			bnd:  set,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			c.Spec.Process.User = tc.user
			c.Spec.Process.Capabilities = tc.caps
			c.Spec.Process.Args = []string{"cat", "/proc/self/status"}
			status := c.mustRun().Stdout
			for _, f := range []struct {
				field string
				want  []string
			}{{"CapBnd", tc.bnd}, {"CapEff", tc.eff}, {"CapPrm", tc.prm}, {"CapInh", tc.inh}, {"CapAmb", tc.amb}} {
				got := parseHex(t, statusField(status, f.field))
				if want := capMask(t, f.want); got != want {
					t.Errorf("%s = %016x, want %016x (%v)", f.field, got, want, f.want)
				}
			}
		})
	}
}

func TestNoNewPrivileges(t *testing.T) {
	t.Parallel()
	for _, nnp := range []bool{true, false} {
		t.Run(fmt.Sprint(nnp), func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			c.Spec.Process.NoNewPrivileges = nnp
			c.Spec.Process.Args = []string{"cat", "/proc/self/status"}
			want := map[bool]string{true: "1", false: "0"}[nnp]
			if got := statusField(c.mustRun().Stdout, "NoNewPrivs"); got != want {
				t.Errorf("NoNewPrivs = %q, want %q", got, want)
			}
		})
	}
}

func TestOOMScoreAdj(t *testing.T) {
	t.Parallel()
	host := strings.TrimSpace(readFileString("/proc/self/oom_score_adj"))
	for _, tc := range []struct {
		adj  *int
		want string
	}{
		{ptr(500), "500"},
		{ptr(1000), "1000"},
		{nil, host}, // inherited
	} {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			c.Spec.Process.OOMScoreAdj = tc.adj
			c.Spec.Process.Args = []string{"cat", "/proc/self/oom_score_adj"}
			if got := strings.TrimSpace(c.mustRun().Stdout); got != tc.want {
				t.Errorf("oom_score_adj = %q, want %q", got, tc.want)
			}
		})
	}
}

// openFds parses `ls -l /proc/self/fd` run as the container process and
// returns fd → target, leaving out ls's own directory fd.
func openFds(t *testing.T, out string) map[string]string {
	t.Helper()
	fds := map[string]string{}
	for _, l := range lines(out) {
		name, target, ok := strings.Cut(l, " -> ")
		if !ok {
			continue
		}
		f := strings.Fields(name)
		fd := f[len(f)-1]
		if strings.HasPrefix(target, "/proc/") && strings.HasSuffix(target, "/fd") {
			continue // the directory ls is reading
		}
		fds[fd] = target
	}
	return fds
}

func fdNames(fds map[string]string) string {
	var names []string
	for fd := range fds {
		names = append(names, fd)
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

func TestOnlyStdioFds(t *testing.T) {
	t.Parallel()
	t.Run("run", func(t *testing.T) {
		t.Parallel()
		c := newContainer(t)
		c.Spec.Process.Args = []string{"ls", "-l", "/proc/self/fd"}
		// Extra fds given to the runtime must not reach the container
		// without --preserve-fds.
		f, err := os.Open(c.Bundle)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		r := c.RunOpts(cmdOpts{extraFiles: []*os.File{f, f}})
		if !r.ok() {
			t.Fatalf("run: %s", r)
		}
		if fds := openFds(t, r.Stdout); fdNames(fds) != "0 1 2" {
			t.Errorf("open fds in the container: %v, want only 0 1 2\n%s", fds, r.Stdout)
		}
	})
	t.Run("create-start", func(t *testing.T) {
		t.Parallel()
		c := newContainer(t)
		c.Spec.Process.Args = []string{"ls", "-l", "/proc/self/fd"}
		c.mustCreate()
		c.mustStart()
		c.waitStatus("stopped", 10*time.Second)
		if fds := openFds(t, c.Output()); fdNames(fds) != "0 1 2" {
			t.Errorf("open fds in the container: %v, want only 0 1 2\n%s", fds, c.Output())
		}
	})
}

func extraFileWith(t *testing.T, dir, name, content string) *os.File {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestPreserveFds(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	f3 := extraFileWith(t, c.HostDir, "three", "content-of-fd3\n")
	f4 := extraFileWith(t, c.HostDir, "four", "content-of-fd4\n")
	c.Spec.Process.Args = []string{"sh", "-c", `ls -l /proc/self/fd; cat <&3; cat <&4`}
	r := c.RunOpts(cmdOpts{extraFiles: []*os.File{f3, f4}}, "--preserve-fds", "2")
	if !r.ok() {
		t.Fatalf("run: %s", r)
	}
	if !strings.Contains(r.Stdout, "content-of-fd3") || !strings.Contains(r.Stdout, "content-of-fd4") {
		t.Errorf("cannot read the preserved fds 3 and 4:\n%s", r.Stdout)
	}
	if fds := openFds(t, r.Stdout); fdNames(fds) != "0 1 2 3 4" {
		t.Errorf("open fds: %v, want 0 1 2 3 4", fds)
	}
}

// TestListenFds: with LISTEN_FDS/LISTEN_PID (socket activation) in the
// runtime's environment, those fds reach the container with LISTEN_FDS set
// and LISTEN_PID=1.
func TestListenFds(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	f3 := extraFileWith(t, c.HostDir, "three", "listen-fd3\n")
	f4 := extraFileWith(t, c.HostDir, "four", "listen-fd4\n")
	c.Spec.Process.Args = []string{"sh", "-c", `echo "LISTEN_FDS=$LISTEN_FDS LISTEN_PID=$LISTEN_PID"; cat <&3; cat <&4`}
	c.WriteSpec()
	// LISTEN_PID must be the runtime's own pid: a shell exports its $$ and
	// execs the runtime.
	r := runCmd(cmdOpts{dir: c.Dir, outDir: c.Dir, env: []string{"LISTEN_FDS=2"}, extraFiles: []*os.File{f3, f4}},
		"/bin/sh", "-c", `export LISTEN_PID=$$; exec "$@"`, "sh",
		runtimeBin, "--root", c.Root, "run", "--bundle", c.Bundle, c.ID)
	if !r.ok() {
		t.Fatalf("run: %s", r)
	}
	for _, want := range []string{"LISTEN_FDS=2 LISTEN_PID=1", "listen-fd3", "listen-fd4"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.Stdout)
		}
	}
}

// TestProgramCheckLikeRunc: create checks process.args[0] as runc's
// exec.LookPath does, by the credentials and capabilities the process
// execs with, and says so with runc's words, which docker and podman turn
// into exit codes (127 not found, 126 cannot run): a file runs if any of
// its x bits lets the process's user run it, CAP_DAC_OVERRIDE counting
// only when effective; a file with no x bit never runs; what PATH holds
// only unrunnable is "not found"; a directory "is a directory".
func TestProgramCheckLikeRunc(t *testing.T) {
	requireCarapace(t)
	t.Parallel()
	withDAC := func(effective bool) func(c *Container) {
		return func(c *Container) {
			p := c.Spec.Process.Capabilities
			p.Bounding = append(p.Bounding, "CAP_DAC_OVERRIDE")
			p.Permitted = append(p.Permitted, "CAP_DAC_OVERRIDE")
			if effective {
				p.Effective = append(p.Effective, "CAP_DAC_OVERRIDE")
			}
		}
	}
	const script = "#!/bin/sh\necho ran\n"
	for _, tc := range []struct {
		name    string
		args    []string
		mode    os.FileMode // of /e2e-bin/prog
		spec    func(c *Container)
		wantErr string // "" runs and prints "ran"
	}{
		{"other-x-dac-override", []string{"/e2e-bin/prog"}, 0o601, withDAC(true), ""},
		{"other-x-dac-override-not-effective", []string{"/e2e-bin/prog"}, 0o601, withDAC(false),
			`process.args[0] "/e2e-bin/prog": permission denied`},
		{"other-x-no-dac-override", []string{"/e2e-bin/prog"}, 0o601, nil,
			`process.args[0] "/e2e-bin/prog": permission denied`},
		{"no-x-dac-override", []string{"/e2e-bin/prog"}, 0o644, withDAC(true),
			`process.args[0] "/e2e-bin/prog": permission denied`},
		{"path-only-unrunnable", []string{"prog"}, 0o644, withDAC(true),
			`process.args[0] "prog": executable file not found in $PATH`},
		{"path-runnable", []string{"prog"}, 0o755, nil, ""},
		{"directory", []string{"/e2e-bin"}, 0o755, nil, `process.args[0] "/e2e-bin": is a directory`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			c.writeRootfsFile("e2e-bin/prog", script, tc.mode)
			if err := os.Chmod(filepath.Join(c.Rootfs, "e2e-bin/prog"), tc.mode); err != nil { // past the umask
				t.Fatal(err)
			}
			c.Spec.Process.Args = tc.args
			c.Spec.Process.Env = []string{"PATH=/e2e-bin"}
			if tc.spec != nil {
				tc.spec(c)
			}
			r := c.Create()
			if tc.wantErr == "" {
				if !r.ok() {
					t.Fatalf("create: %s", r)
				}
				c.mustStart()
				c.waitStatus("stopped", 10*time.Second)
				if out := c.Output(); out != "ran\n" {
					t.Errorf("the process printed %q, want %q", out, "ran\n")
				}
				return
			}
			if r.ok() {
				t.Fatalf("create succeeded, want it to fail with %q (execve would at start)", tc.wantErr)
			}
			if !strings.Contains(r.Stderr, tc.wantErr) {
				t.Errorf("create error does not say %q: %s", tc.wantErr, r)
			}
			c.checkNoLeftovers("after the failed create")
		})
	}
}
