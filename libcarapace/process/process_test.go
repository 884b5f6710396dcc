package process

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func writeFile(t *testing.T, p string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // umask
		t.Fatal(err)
	}
}

func TestLookPath(t *testing.T) {
	noexec := t.TempDir() // prog (0644), both (0644)
	exec := t.TempDir()   // prog (0755), both (0755), only (0755)
	dirs := t.TempDir()   // prog is a directory
	cwd := t.TempDir()    // local (0755)
	writeFile(t, filepath.Join(noexec, "prog"), 0o644)
	writeFile(t, filepath.Join(noexec, "both"), 0o644)
	writeFile(t, filepath.Join(exec, "prog"), 0o755)
	writeFile(t, filepath.Join(exec, "both"), 0o755)
	writeFile(t, filepath.Join(exec, "only"), 0o755)
	writeFile(t, filepath.Join(exec, "group-x"), 0o610)
	if err := os.Mkdir(filepath.Join(dirs, "prog"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(cwd, "local"), 0o755)
	t.Chdir(cwd)

	env := func(path string) []string { return []string{"HOME=/root", "PATH=" + path, "TERM=xterm"} }
	tests := []struct {
		name    string
		file    string
		env     []string
		want    string
		wantErr string
	}{
		{"found", "only", env(exec), filepath.Join(exec, "only"), ""},
		{"first executable wins", "prog", env(exec + ":" + noexec), filepath.Join(exec, "prog"), ""},
		{"skips non-executable", "prog", env(noexec + ":" + exec), filepath.Join(exec, "prog"), ""},
		{"skips directory", "prog", env(dirs + ":" + exec), filepath.Join(exec, "prog"), ""},
		{"skips missing dir", "only", env("/nonexistent-carapace:" + exec), filepath.Join(exec, "only"), ""},
		{"any x bit", "group-x", env(exec), filepath.Join(exec, "group-x"), ""},
		// As runc's exec.LookPath: what cannot run is not found (127 to
		// docker and podman), not a permission error.
		{"only non-executable", "both", env(noexec), "", `process.args[0] "both": executable file not found in $PATH`},
		{"only a directory", "prog", env(dirs), "", `process.args[0] "prog": executable file not found in $PATH`},
		{"not found", "nope", env(exec + ":" + noexec), "", `process.args[0] "nope": executable file not found in $PATH`},
		{"empty PATH", "only", env(""), "", "executable file not found"},
		{"empty component is cwd", "local", env("/nonexistent-carapace::" + exec), "local", ""},
		{"last PATH wins", "only", []string{"PATH=" + noexec, "PATH=" + exec}, filepath.Join(exec, "only"), ""},
		{"PATHX is not PATH", "only", []string{"PATHX=" + exec, "PATH=" + noexec}, "", "executable file not found"},
		{"slash relative", "./local", env(exec), "./local", ""},
		{"slash relative missing", "./nope", env(exec), "", `process.args[0] "./nope": no such file or directory`},
		{"slash inside missing", "a/b", env(exec), "", `process.args[0] "a/b": no such file or directory`},
		{"absolute", filepath.Join(exec, "only"), env(""), filepath.Join(exec, "only"), ""},
		{"absolute missing", "/no/such/bin", env(exec), "", `process.args[0] "/no/such/bin": no such file or directory`},
		{"absolute not executable", filepath.Join(noexec, "prog"), env(exec), "", "permission denied"},
		// runc's text (EISDIR), which docker turns into 126.
		{"absolute directory", filepath.Join(dirs, "prog"), env(exec), "", `prog": is a directory`},
		{"absolute device", "/dev/null", env(exec), "", `process.args[0] "/dev/null": not a regular file: permission denied`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LookPath(tc.file, tc.env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("LookPath(%q) = %q, %v; want error %q", tc.file, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("LookPath(%q) = %q, %v; want %q", tc.file, got, err, tc.want)
			}
		})
	}
}

func TestLookPathDefaultPATH(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	got, err := LookPath("sh", []string{"TERM=xterm"})
	if err != nil || filepath.Base(got) != "sh" || !filepath.IsAbs(got) {
		t.Fatalf("LookPath(sh) without PATH = %q, %v", got, err)
	}
}

func TestCapabilityByName(t *testing.T) {
	tests := []struct {
		name string
		n    int
		ok   bool
	}{
		{"CAP_CHOWN", 0, true},
		{"CAP_DAC_OVERRIDE", 1, true},
		{"CAP_KILL", 5, true},
		{"CAP_SETPCAP", 8, true},
		{"CAP_NET_BIND_SERVICE", 10, true},
		{"CAP_NET_ADMIN", 12, true},
		{"CAP_NET_RAW", 13, true},
		{"CAP_SYS_CHROOT", 18, true},
		{"CAP_SYS_PTRACE", 19, true},
		{"CAP_SYS_ADMIN", 21, true},
		{"CAP_MKNOD", 27, true},
		{"CAP_AUDIT_WRITE", 29, true},
		{"CAP_SETFCAP", 31, true},
		{"CAP_MAC_OVERRIDE", 32, true},
		{"CAP_SYSLOG", 34, true},
		{"CAP_AUDIT_READ", 37, true},
		{"CAP_PERFMON", 38, true},
		{"CAP_BPF", 39, true},
		{"CAP_CHECKPOINT_RESTORE", 40, true},
		{"CAP_FOO", 0, false},
		{"cap_chown", 0, false},
		{"CHOWN", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		n, ok := CapabilityByName(tc.name)
		if ok != tc.ok || (ok && n != tc.n) {
			t.Errorf("CapabilityByName(%q) = %d, %v; want %d, %v", tc.name, n, ok, tc.n, tc.ok)
		}
	}
	// The table matches the kernel's numbering as x/sys knows it.
	want := map[string]int{"CAP_CHOWN": unix.CAP_CHOWN, "CAP_SYS_ADMIN": unix.CAP_SYS_ADMIN, "CAP_BPF": unix.CAP_BPF,
		"CAP_CHECKPOINT_RESTORE": unix.CAP_CHECKPOINT_RESTORE, "CAP_AUDIT_READ": unix.CAP_AUDIT_READ, "CAP_WAKE_ALARM": unix.CAP_WAKE_ALARM}
	for name, n := range want {
		if got, _ := CapabilityByName(name); got != n {
			t.Errorf("CapabilityByName(%s) = %d, unix has %d", name, got, n)
		}
	}
	names := CapabilityNames()
	if len(names) != unix.CAP_LAST_CAP+1 {
		t.Errorf("CapabilityNames has %d names, unix.CAP_LAST_CAP is %d", len(names), unix.CAP_LAST_CAP)
	}
	for i, n := range names {
		if got, ok := CapabilityByName(n); !ok || got != i {
			t.Errorf("CapabilityNames()[%d] = %s maps to %d, %v", i, n, got, ok)
		}
	}
	names[0] = "CHANGED"
	if CapabilityNames()[0] != "CAP_CHOWN" {
		t.Error("CapabilityNames returns the internal slice")
	}
}

func TestCapsFromSpec(t *testing.T) {
	last := lastCap()
	tests := []struct {
		name string
		in   *specs.LinuxCapabilities
		want Caps
	}{
		{"nil", nil, Caps{}},
		{"empty", &specs.LinuxCapabilities{}, Caps{}},
		{"chown bounding", &specs.LinuxCapabilities{Bounding: []string{"CAP_CHOWN"}}, Caps{Bounding: 1}},
		{"sys_admin effective", &specs.LinuxCapabilities{Effective: []string{"CAP_SYS_ADMIN"}}, Caps{Effective: 1 << 21}},
		{"each set separate", &specs.LinuxCapabilities{
			Bounding:    []string{"CAP_CHOWN"},
			Effective:   []string{"CAP_DAC_OVERRIDE"},
			Inheritable: []string{"CAP_KILL"},
			Permitted:   []string{"CAP_SETUID"},
			Ambient:     []string{"CAP_NET_RAW"},
		}, Caps{Bounding: 1 << 0, Effective: 1 << 1, Inheritable: 1 << 5, Permitted: 1 << 7, Ambient: 1 << 13}},
		{"default caps", &specs.LinuxCapabilities{Bounding: []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}},
			Caps{Bounding: 1<<29 | 1<<5 | 1<<10}},
		{"unknown skipped", &specs.LinuxCapabilities{Permitted: []string{"CAP_FOO", "CAP_CHOWN", "cap_sys_admin"}}, Caps{Permitted: 1}},
		{"duplicates", &specs.LinuxCapabilities{Permitted: []string{"CAP_CHOWN", "CAP_CHOWN"}}, Caps{Permitted: 1}},
		{"above 31", &specs.LinuxCapabilities{Effective: []string{"CAP_MAC_OVERRIDE", "CAP_SYSLOG"}}, Caps{Effective: 1<<32 | 1<<34}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := CapsFromSpec(tc.in); got != tc.want {
				t.Errorf("CapsFromSpec = %+v, want %+v", got, tc.want)
			}
		})
	}

	// Every known capability the kernel has maps to its own bit; ones
	// above cap_last_cap are dropped.
	c := CapsFromSpec(&specs.LinuxCapabilities{Bounding: CapabilityNames()})
	want := CapSet(1)<<(min(last, len(capNames)-1)+1) - 1
	if c.Bounding != want {
		t.Errorf("all capabilities: %#x, want %#x (cap_last_cap %d)", c.Bounding, want, last)
	}
}

func TestRlimitByName(t *testing.T) {
	tests := []struct {
		name string
		r    int
		ok   bool
	}{
		{"RLIMIT_AS", unix.RLIMIT_AS, true},
		{"RLIMIT_CORE", unix.RLIMIT_CORE, true},
		{"RLIMIT_CPU", unix.RLIMIT_CPU, true},
		{"RLIMIT_DATA", unix.RLIMIT_DATA, true},
		{"RLIMIT_FSIZE", unix.RLIMIT_FSIZE, true},
		{"RLIMIT_LOCKS", unix.RLIMIT_LOCKS, true},
		{"RLIMIT_MEMLOCK", unix.RLIMIT_MEMLOCK, true},
		{"RLIMIT_MSGQUEUE", unix.RLIMIT_MSGQUEUE, true},
		{"RLIMIT_NICE", unix.RLIMIT_NICE, true},
		{"RLIMIT_NOFILE", 7, true},
		{"RLIMIT_NPROC", 6, true},
		{"RLIMIT_RSS", unix.RLIMIT_RSS, true},
		{"RLIMIT_RTPRIO", unix.RLIMIT_RTPRIO, true},
		{"RLIMIT_RTTIME", unix.RLIMIT_RTTIME, true},
		{"RLIMIT_SIGPENDING", unix.RLIMIT_SIGPENDING, true},
		{"RLIMIT_STACK", unix.RLIMIT_STACK, true},
		{"RLIMIT_FOO", 0, false},
		{"rlimit_nofile", 0, false},
		{"NOFILE", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		r, ok := RlimitByName(tc.name)
		if ok != tc.ok || (ok && r != tc.r) {
			t.Errorf("RlimitByName(%q) = %d, %v; want %d, %v", tc.name, r, ok, tc.r, tc.ok)
		}
	}
}

// TestLastCapMatchesKernel: the kernel's answer to PR_CAPBSET_READ and
// /proc/sys/kernel/cap_last_cap (trusted here, on the host) agree.
func TestLastCapMatchesKernel(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		t.Skip(err)
	}
	want, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if got := lastCap(); got != want {
		t.Errorf("lastCap() = %d, /proc/sys/kernel/cap_last_cap says %d", got, want)
	}
}

func TestEnviron(t *testing.T) {
	home := func() string { return "/home/u" }
	for _, tc := range []struct {
		name string
		in   []string
		want string
	}{
		{"home added", []string{"PATH=/bin", "A=1"}, "PATH=/bin A=1 HOME=/home/u"},
		{"home kept", []string{"HOME=/root", "A=1"}, "HOME=/root A=1"},
		{"empty home replaced", []string{"HOME=", "A=1"}, "A=1 HOME=/home/u"},
		{"duplicate: last wins, once", []string{"A=1", "B=2", "A=3"}, "B=2 A=3 HOME=/home/u"},
		{"duplicate home, last empty", []string{"HOME=/x", "HOME="}, "HOME=/home/u"},
		{"value with =", []string{"A=b=c"}, "A=b=c HOME=/home/u"},
		{"empty", nil, "HOME=/home/u"},
	} {
		if got := strings.Join(Environ(tc.in, home), " "); got != tc.want {
			t.Errorf("%s: Environ(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}
