package seccomp

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The kernel's word on the compiled programs: a child process (this test
// binary again) loads a filter on its locked thread and makes raw syscalls.

const childEnv = "_CARAPACE_SECCOMP_TEST_CHILD"

func childProfile(name string) *specs.LinuxSeccomp {
	switch name {
	case "docker":
		sc := dockerLike()
		// Still deny mkdirat, with a value to recognize.
		sc.Syscalls = append([]specs.LinuxSyscall{{Names: []string{"mkdirat"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(77)}}, sc.Syscalls...)
		return sc
	case "args":
		return &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mkdirat"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(77)},
			{Names: []string{"getpgid"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(78),
				Args: []specs.LinuxSeccompArg{{Index: 0, Value: 1 << 32, Op: specs.OpGreaterEqual}}},
		}}
	}
	return nil
}

func TestMain(m *testing.M) {
	if name := os.Getenv(childEnv); name != "" {
		os.Exit(child(name))
	}
	os.Exit(m.Run())
}

// child loads the named profile and reports syscalls' errnos, one a line.
func child(name string) int {
	runtime.LockOSThread()
	p, err := Compile(childProfile(name), nil)
	if err != nil {
		fmt.Println("compile:", err)
		return 1
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fmt.Println("nnp:", err)
		return 1
	}
	if _, err := p.Load(); err != nil {
		fmt.Println("load:", err)
		return 1
	}
	dir := []byte(os.TempDir() + "/carapace-seccomp-test-never\x00")
	cwd := unix.AT_FDCWD
	for _, c := range []struct {
		name string
		nr   uintptr
		args [3]uintptr
	}{
		{"mkdirat", unix.SYS_MKDIRAT, [3]uintptr{uintptr(cwd), uintptr(unsafe.Pointer(&dir[0])), 0o700}},
		{"getpgid-big", unix.SYS_GETPGID, [3]uintptr{1<<32 | 1}},
		{"getpgid-0", unix.SYS_GETPGID, [3]uintptr{0}},
		{"getppid", unix.SYS_GETPPID, [3]uintptr{}},
		{"clone3", unix.SYS_CLONE3, [3]uintptr{}},
		{"unshare", unix.SYS_UNSHARE, [3]uintptr{unix.CLONE_NEWUTS}},
	} {
		_, _, e := unix.RawSyscall(c.nr, c.args[0], c.args[1], c.args[2])
		fmt.Printf("%s %d\n", c.name, int(e))
	}
	return 0
}

func TestLoadInChild(t *testing.T) {
	requireAmd64(t)
	for _, tc := range []struct {
		profile string
		want    []string
	}{
		// Allowed, clone3 with no arguments is EINVAL, and getpgid sees
		// its argument truncated to pid 1.
		{"args", []string{"mkdirat 77", "getpgid-big 78", "getpgid-0 0", "getppid 0", "clone3 22"}},
		{"docker", []string{"mkdirat 77", "getpgid-big 0", "getpgid-0 0", "getppid 0", "clone3 38", "unshare 1"}},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"="+tc.profile)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w+"\n") {
					t.Errorf("want %q in the child's report:\n%s", w, out)
				}
			}
		})
	}
}

// BenchmarkGetppid measures what a filter costs a syscall: getppid on a
// thread without a filter, and on one with the docker-like profile (a
// filter binds only its thread, so both run in this process). Run with
// `go test -run '^$' -bench Getppid -count 5 ./libcarapace/seccomp/`.
func BenchmarkGetppid(b *testing.B) {
	for _, profile := range []string{"none", "docker", "allow-all"} {
		b.Run(profile, func(b *testing.B) {
			done := make(chan error)
			go func() {
				// Never unlocked: Go ends the thread, filter and all, when
				// this goroutine returns.
				runtime.LockOSThread()
				var sc *specs.LinuxSeccomp
				switch profile {
				case "docker":
					sc = dockerLike()
				case "allow-all":
					sc = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}
				}
				if sc != nil {
					p, err := Compile(sc, nil)
					if err == nil {
						err = unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
					}
					if err == nil {
						_, err = p.Load()
					}
					if err != nil {
						done <- err
						return
					}
				}
				b.ResetTimer()
				for range b.N {
					unix.RawSyscall(unix.SYS_GETPPID, 0, 0, 0)
				}
				b.StopTimer()
				done <- nil
			}()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		})
	}
}
