package e2e

import (
	"github.com/carapace-oci/carapace/tests/internal/leaks"
	"github.com/carapace-oci/carapace/tests/internal/testenv"

	"github.com/carapace-oci/carapace/tests/internal/subreaper"

	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var (
	// runtimeBin is the absolute path of the runtime under test.
	runtimeBin string
	// skipReason, when set, makes every container test skip (not root, no
	// binary at the default path).
	skipReason string
	// globalRoot holds every test's bundles, state roots and host dirs, so
	// that the final leak check has a single prefix to look for.
	globalRoot string
	// templateDir is the busybox rootfs that each bundle copies.
	templateDir string

	idsMu  sync.Mutex
	allIDs []string

	// systemdCgroup: CARAPACE_E2E_SYSTEMD=1 reruns the tests under the
	// systemd cgroup driver (tests/vm/systemd.sh, in a VM that systemd
	// booted): every runtime command gets the global flag --systemd-cgroup
	// (globalFlags) and every container the cgroupsPath
	// system.slice:carapace-e2e:<id>, i.e. the transient unit
	// carapace-e2e-<id>.scope. The tests find the cgroup directories from
	// /proc/<pid>/cgroup as they do for cgroupfs, so their assertions are
	// the same.
	systemdCgroup bool
	globalFlags   []string
)

// systemdSlice and systemdPrefix form the e2e containers' cgroupsPath under
// CARAPACE_E2E_SYSTEMD=1.
const (
	systemdSlice  = "system.slice"
	systemdPrefix = "carapace-e2e"
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	if os.Geteuid() != 0 {
		skipReason = "the e2e tests need root"
		return m.Run()
	}
	bin, skip, err := testenv.RuntimeBinary()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	runtimeBin = bin
	if skip != "" {
		skipReason = skip
		return m.Run()
	}
	if os.Getenv("CARAPACE_E2E_SYSTEMD") == "1" {
		if fi, err := os.Stat("/run/systemd/system"); err != nil || !fi.IsDir() {
			fmt.Fprintf(os.Stderr, "e2e: CARAPACE_E2E_SYSTEMD=1 but systemd does not run this host (no /run/systemd/system)\n")
			return 1
		}
		systemdCgroup = true
		globalFlags = []string{"--systemd-cgroup"}
	}

	// Orphaned container processes are re-parented to us instead of PID 1
	// (which does not reap on these machines).
	if err := subreaper.Become(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: PR_SET_CHILD_SUBREAPER: %v\n", err)
		return 1
	}

	globalRoot, err = os.MkdirTemp("", "carapace-e2e-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	templateDir = filepath.Join(globalRoot, "template")
	err = os.Chmod(globalRoot, 0o755) // traversable by user-namespaced containers
	if err == nil {
		err = os.Mkdir(filepath.Join(globalRoot, "cmd-out"), 0o755)
	}
	if err == nil {
		err = buildTemplate(templateDir)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: preparing %s: %v\n", globalRoot, err)
		_ = os.RemoveAll(globalRoot)
		return 1
	}

	code := m.Run()

	left := globalLeaks()
	if len(left) > 0 {
		fmt.Fprintf(os.Stderr, "e2e: LEAK CHECK FAILED: the run left %d thing(s) behind:\n", len(left))
		for _, l := range left {
			fmt.Fprintf(os.Stderr, "  - %s\n", l)
		}
		code = 1
		killOurChildren()
		reclaimIDs(ids(), nil)
	}
	if err := safeRemoveAll(globalRoot); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: not removing %s: %v\n", globalRoot, err)
		code = 1
	}
	return code
}

// ---- subreaper --------------------------------------------------------------

// startTracked and waitTracked keep the reaper off the tests' own children.
func startTracked(cmd *exec.Cmd) error { return subreaper.Start(cmd) }

func waitTracked(cmd *exec.Cmd) error { return subreaper.Wait(cmd) }

// ---- rootfs template -----------------------------------------------------

func buildTemplate(dir string) error {
	err := testenv.Rootfs{
		Dirs: []string{"bin", "proc", "sys", "dev", "tmp", "etc", "root", "mnt", "home/e2e"},
		Files: map[string]string{
			"etc/passwd": "root:x:0:0:root:/root:/bin/sh\n" +
				"e2e:x:1000:1000:e2e test user:/home/e2e:/bin/sh\n" +
				"nobody:x:65534:65534:nobody:/:/bin/false\n",
			"etc/group": "root:x:0:\nwheel:x:10:\ntty:x:5:\nusers:x:100:\n" +
				"e2e:x:1000:\nnogroup:x:65534:\n",
			"etc/hostname":      "template\n",
			"e2e-rootfs-marker": "inside the container rootfs\n",
		},
		LinkTarget: "/bin/busybox",
	}.Build(dir, func() ([]byte, error) {
		out, err := hostOutput("/bin/busybox", "--list")
		return []byte(out), err
	})
	if err != nil {
		return err
	}
	return os.Chown(filepath.Join(dir, "home/e2e"), 1000, 1000)
}

func copyFile(src, dst string, mode os.FileMode) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, mode)
}

// copyTree copies a tree of dirs, regular files and symlinks.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		st := info.Sys().(*syscall.Stat_t)
		switch {
		case d.IsDir():
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			if err := os.Chmod(target, info.Mode()&(os.ModePerm|os.ModeSticky)); err != nil {
				return err
			}
		case info.Mode()&os.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case info.Mode().IsRegular():
			if err := copyFile(path, target, info.Mode().Perm()); err != nil {
				return err
			}
		default:
			return fmt.Errorf("copyTree: %s: unsupported file type %v", path, info.Mode())
		}
		return os.Lchown(target, int(st.Uid), int(st.Gid))
	})
}

// ---- leak checks -------------------------------------------------------------

func registerID(id string) {
	idsMu.Lock()
	allIDs = append(allIDs, id)
	idsMu.Unlock()
}

// mountsUnder returns the mountinfo lines whose mount point, root or source
// names something under any of prefixes.
func mountsUnder(prefixes ...string) []string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return []string{"reading mountinfo: " + err.Error()}
	}
	var found []string
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" {
			continue
		}
		for _, p := range prefixes {
			if p != "" && strings.Contains(leaks.UnescapeMountinfo(line), p) {
				found = append(found, "mount: "+line)
				break
			}
		}
	}
	return found
}

// procsOf returns live processes whose cwd or root is under one of dirs, or
// whose cgroup path names one of ids.
func procsOf(dirs, ids []string) []string {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return []string{"reading /proc: " + err.Error()}
	}
	self := os.Getpid()
	var found []string
	for _, e := range ents {
		pid := 0
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil || pid == self {
			continue
		}
		if leaks.IsZombie(pid) {
			continue
		}
		why := ""
		for _, l := range []string{"cwd", "root"} {
			target, err := os.Readlink(fmt.Sprintf("/proc/%d/%s", pid, l))
			if err != nil {
				continue
			}
			for _, d := range dirs {
				if d != "" && (target == d || strings.HasPrefix(target, d+"/")) {
					why = l + "=" + target
				}
			}
		}
		if why == "" && len(ids) > 0 {
			if cg, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid)); err == nil {
				for _, id := range ids {
					if strings.Contains(string(cg), "/"+id) {
						why = "cgroup names " + id
					}
				}
			}
		}
		if why != "" {
			cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			found = append(found, fmt.Sprintf("process %d (%s): %s", pid,
				strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " ")), why))
		}
	}
	return found
}

// ourChildren lists live processes whose parent is this test binary.
func ourChildren() []int {
	ents, _ := os.ReadDir("/proc")
	self := os.Getpid()
	var kids []int
	for _, e := range ents {
		pid := 0
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil {
			continue
		}
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(data)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		var state string
		var ppid int
		if _, err := fmt.Sscanf(s[i+2:], "%s %d", &state, &ppid); err != nil {
			continue
		}
		if ppid == self && state != "Z" && state != "X" {
			kids = append(kids, pid)
		}
	}
	return kids
}

func killOurChildren() {
	for _, pid := range ourChildren() {
		_ = unix.Kill(pid, unix.SIGKILL)
	}
}

// cgroupDirsNamed returns cgroup directories, in any hierarchy, whose name
// contains one of ids.
func cgroupDirsNamed(ids ...string) []string { return leaks.CgroupDirsNamed("/sys/fs/cgroup", ids...) }

func ids() []string {
	idsMu.Lock()
	defer idsMu.Unlock()
	return append([]string(nil), allIDs...)
}

// reclaimIDs cleans up after a leak was reported, so that a buggy runtime
// does not pollute the machine: it kills the processes of the containers
// (those in their cgroups or living in dirs) and removes their cgroups.
func reclaimIDs(ids, dirs []string) {
	var pids []int
	for _, p := range procsOf(dirs, ids) {
		var pid int
		if _, err := fmt.Sscanf(p, "process %d", &pid); err == nil {
			pids = append(pids, pid)
		}
	}
	leaks.Reclaim("/sys/fs/cgroup", pids, ids)
}

func globalLeaks() []string {
	ids := ids()

	var left []string
	// Give the reaper and the kernel a moment to settle.
	deadline := time.Now().Add(5 * time.Second)
	for {
		left = left[:0]
		ents, _ := os.ReadDir(globalRoot)
		for _, e := range ents {
			if e.Name() != "template" && e.Name() != "cmd-out" {
				left = append(left, "test dir not cleaned up: "+filepath.Join(globalRoot, e.Name()))
			}
		}
		left = append(left, mountsUnder(globalRoot)...)
		left = append(left, cgroupDirsNamed(ids...)...)
		left = append(left, procsOf([]string{globalRoot}, ids)...)
		if subreaper.InFlight() == 0 {
			for _, pid := range ourChildren() {
				cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
				left = append(left, fmt.Sprintf("orphaned child process %d (%s)", pid,
					strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " "))))
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// safeRemoveAll removes dir unless something is still mounted under it
// (os.RemoveAll would cross into a leaked bind mount of a host directory).
func safeRemoveAll(dir string) error {
	if mps := leaks.MountPointsUnder(dir); len(mps) > 0 {
		return fmt.Errorf("still mounted under it: %s", strings.Join(mps, ", "))
	}
	err := os.RemoveAll(dir)
	if err != nil && errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
