// Package leaks finds, and clears away, what containers can leave on a
// machine: cgroup directories, mounts and processes. The suites use it to
// check that every test cleaned up, and to reclaim what a buggy runtime
// left so that it does not spoil the tests that follow.
package leaks

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// CgroupDirsNamed returns the cgroup directories under root (any hierarchy
// below it) whose name contains one of ids, each as "cgroup: <path>".
func CgroupDirsNamed(root string, ids ...string) []string {
	var found []string
	_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		for _, id := range ids {
			if strings.Contains(d.Name(), id) {
				found = append(found, "cgroup: "+path)
				return filepath.SkipDir
			}
		}
		return nil
	})
	return found
}

// RemoveCgroupTree removes dir and the cgroups below it, children first,
// and returns those that could not be removed (still holding a process).
func RemoveCgroupTree(dir string) []string {
	var sub, left []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			sub = append(sub, p)
		}
		return nil
	})
	for i := len(sub) - 1; i >= 0; i-- {
		if err := unix.Rmdir(sub[i]); err != nil && !errors.Is(err, unix.ENOENT) {
			left = append(left, sub[i])
		}
	}
	return left
}

// Reclaim SIGKILLs pids, then removes the cgroups under root named by ids,
// retrying for up to 3 s while the killed processes leave them.
func Reclaim(root string, pids []int, ids []string) {
	for _, pid := range pids {
		if pid > 1 {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		var left []string
		for _, cg := range CgroupDirsNamed(root, ids...) {
			left = append(left, RemoveCgroupTree(strings.TrimPrefix(cg, "cgroup: "))...)
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// IsZombie reports whether pid is gone or dead but not yet reaped.
func IsZombie(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z' || s[i+2] == 'X'
}

// MountPointsUnder returns the mount points at or under prefix, deepest
// (most recently mounted) first: the order to unmount them in.
func MountPointsUnder(prefix string) []string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var mps []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		if mp := UnescapeMountinfo(f[4]); mp == prefix || strings.HasPrefix(mp, prefix+"/") {
			mps = append([]string{mp}, mps...)
		}
	}
	return mps
}

// UnescapeMountinfo undoes the octal escapes of /proc/*/mountinfo fields.
func UnescapeMountinfo(s string) string { return mountinfoUnescaper.Replace(s) }

var mountinfoUnescaper = strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)
