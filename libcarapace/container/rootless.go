package container

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ParseRootless reads --rootless: true, false, or auto, which means rootless
// when the caller is not root or runs in a user namespace (runc's rule:
// root in a user namespace cannot be sure the cgroup tree is its own).
func ParseRootless(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	case "auto", "":
		return os.Geteuid() != 0 || InUserNS(), nil
	}
	return false, fmt.Errorf("--rootless %q: must be true, false or auto", v)
}

// HonorXDGRuntimeDir reports whether state belongs under $XDG_RUNTIME_DIR
// when --root is not given: for a caller that is not root, or root in a user
// namespace that is not the host's root user (runc's rule). The host's root
// keeps /run/carapace even with XDG_RUNTIME_DIR=/run/user/0 set.
func HonorXDGRuntimeDir() bool {
	if os.Geteuid() != 0 {
		return true
	}
	if !InUserNS() {
		return false
	}
	u, ok := os.LookupEnv("USER")
	return !ok || u != "root"
}

// InUserNS reports whether this process runs in a user namespace other
// than the initial one, whose uid_map is the single identity range of
// every id.
func InUserNS() bool {
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	return !(len(f) == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295")
}

// pidnsMembers lists the processes in the pid namespace of init (its host
// pid), by the namespace's inode in /proc/<pid>/ns/pid. The caller sees
// only what it may: for a rootless container, its own processes.
func pidnsMembers(init int) ([]int, error) {
	var want unix.Stat_t
	if err := unix.Stat(fmt.Sprintf("/proc/%d/ns/pid", init), &want); err != nil {
		return nil, fmt.Errorf("pid namespace of %d: %w", init, err)
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		var st unix.Stat_t
		if unix.Stat(fmt.Sprintf("/proc/%d/ns/pid", pid), &st) == nil && st.Dev == want.Dev && st.Ino == want.Ino {
			out = append(out, pid)
		}
	}
	return out, nil
}
