package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// helperEnv, when set, makes the test binary a helper process instead of
// running tests (see runHelper); the value names the helper.
const helperEnv = "E2E_HELPER"

func init() {
	if h := os.Getenv(helperEnv); h == "xattr" {
		printLabels(os.Args[1:])
		os.Exit(0)
	} else if h != "" {
		// On the main thread, whose credentials /proc/<pid> checks use.
		runtime.LockOSThread()
		runHelper(h)
		os.Exit(0)
	}
}

// runHelper runs a helper process: a host root process without any
// capability, which a container's root may therefore look into through
// /proc/<pid> (ptrace's rules), dumpable or not, sleeping for a minute.
func runHelper(name string) {
	for c := 0; c < 64; c++ {
		unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	unix.RawSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0)
	if name == "capless-nondumpable" {
		unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	}
	time.Sleep(time.Minute)
}

// printLabels prints "path label" for each path, the SELinux label of
// the file itself (a symlink's own, not its target's), or "path !error":
// busybox has no getfattr, ls -Z or stat %C without SELinux support, so
// the tests run the test binary in containers to read labels from inside
// (installXattrTool).
func printLabels(paths []string) {
	buf := make([]byte, 512)
	for _, p := range paths {
		n, err := unix.Lgetxattr(p, "security.selinux", buf)
		if err != nil {
			fmt.Printf("%s !%v\n", p, err)
			continue
		}
		fmt.Printf("%s %s\n", p, strings.TrimRight(string(buf[:n]), "\x00"))
	}
}

// startHelper starts a helper process; it is killed at the test's end.
func startHelper(t *testing.T, name string) int {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), helperEnv+"="+name)
	if err := startTracked(cmd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		waitTracked(cmd)
	})
	// Until it has dropped its capabilities.
	waitFor(t, 5*time.Second, "the helper to drop its capabilities", func() bool {
		return statusField(readFileString("/proc/"+itoa(cmd.Process.Pid)+"/status"), "CapEff") == "0000000000000000"
	})
	return cmd.Process.Pid
}

func itoa(n int) string { return strconv.Itoa(n) }
