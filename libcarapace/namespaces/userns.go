package namespaces

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/internal/timerslack"
)

// HoldEnv names the role of a user namespace holder: the runtime's binary
// started in a new user namespace, whose nsenter constructor only waits for
// its stdin to close, so that the namespace exists while the runtime writes
// its maps and opens it (see NewUserNS).
const HoldEnv = "_CARAPACE_USERNS_HOLD"

// NewUserNS makes a user namespace with the given maps for a caller that is
// not root and returns it open, for the container's init to join.
//
// An unprivileged process may write into a child namespace's maps only its
// own euid and egid (the latter after setgroups is denied). Anything wider
// goes through the setuid newuidmap and newgidmap (shadow's uidmap
// package), which grant the ranges /etc/subuid and /etc/subgid give the
// caller. Go's clone-time maps cannot run a helper between the clone and
// the child's exec, so a short-lived holder process owns the namespace
// while its maps are written; the returned descriptor keeps the namespace
// alive once the holder is gone.
//
// exe is an executable descriptor of the runtime's binary (the sealed one).
//
// Root writes any maps itself (the user namespaces of idmapped mounts).
func NewUserNS(exe *os.File, uidMaps, gidMaps []specs.LinuxIDMapping) (*os.File, error) {
	// Checked first, so that a map the user is not granted names itself
	// instead of newuidmap's terse refusal.
	if os.Geteuid() != 0 {
		if err := checkGranted("linux.uidMappings", "/etc/subuid", os.Geteuid(), uidMaps); err != nil {
			return nil, err
		}
		if err := checkGranted("linux.gidMappings", "/etc/subgid", os.Getegid(), gidMaps); err != nil {
			return nil, err
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	defer w.Close()
	attr := &syscall.ProcAttr{
		Env:   []string{HoldEnv + "=1"},
		Files: []uintptr{r.Fd(), ^uintptr(0), ^uintptr(0), exe.Fd()},
		Sys:   &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWUSER},
	}
	pid, err := syscall.ForkExec("/proc/self/fd/3", []string{"carapace", "userns"}, attr)
	if err != nil {
		return nil, fmt.Errorf("linux.namespaces: create user namespace: %w", err)
	}
	defer func() {
		w.Close() // the holder exits
		unix.Wait4(pid, nil, 0, nil)
	}()
	if err := writeMap(pid, "uid", os.Geteuid(), uidMaps); err != nil {
		return nil, err
	}
	if err := writeMap(pid, "gid", os.Getegid(), gidMaps); err != nil {
		return nil, err
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/ns/user", pid))
	if err != nil {
		return nil, fmt.Errorf("linux.namespaces: open new user namespace: %w", err)
	}
	return f, nil
}

// onlySelf reports whether maps map exactly the caller's own id, which it
// may write itself.
func onlySelf(own int, maps []specs.LinuxIDMapping) bool {
	return len(maps) == 1 && maps[0].Size == 1 && int64(maps[0].HostID) == int64(own)
}

func writeMap(pid int, kind string, own int, maps []specs.LinuxIDMapping) error {
	field := "linux." + kind + "Mappings"
	if os.Geteuid() == 0 {
		var b strings.Builder
		for _, m := range maps {
			fmt.Fprintf(&b, "%d %d %d\n", m.ContainerID, m.HostID, m.Size)
		}
		if err := os.WriteFile(fmt.Sprintf("/proc/%d/%s_map", pid, kind), []byte(b.String()), 0); err != nil {
			return fmt.Errorf("%s: write %s_map: %w", field, kind, err)
		}
		return nil
	}
	if onlySelf(own, maps) {
		if kind == "gid" {
			// The kernel lets an unprivileged writer map its gid only
			// once setgroups is denied (a dropped group could otherwise
			// be regained); the container then cannot set groups.
			if err := os.WriteFile(fmt.Sprintf("/proc/%d/setgroups", pid), []byte("deny"), 0); err != nil {
				return fmt.Errorf("%s: deny setgroups: %w", field, err)
			}
		}
		line := fmt.Sprintf("%d %d %d\n", maps[0].ContainerID, maps[0].HostID, maps[0].Size)
		if err := os.WriteFile(fmt.Sprintf("/proc/%d/%s_map", pid, kind), []byte(line), 0); err != nil {
			return fmt.Errorf("%s: write %s_map: %w", field, kind, err)
		}
		return nil
	}
	tool := "new" + kind + "map"
	path, err := exec.LookPath(tool)
	if err != nil {
		return fmt.Errorf("%s: mapping more than the caller's own %s (%d) needs %s (Debian's uidmap package): %w", field, kind, own, tool, err)
	}
	args := []string{strconv.Itoa(pid)}
	for _, m := range maps {
		args = append(args, strconv.FormatUint(uint64(m.ContainerID), 10), strconv.FormatUint(uint64(m.HostID), 10), strconv.FormatUint(uint64(m.Size), 10))
	}
	cmd := exec.Command(path, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = timerslack.Start(cmd.Start)
	if err == nil {
		err = cmd.Wait()
	}
	if err != nil {
		return fmt.Errorf("%s: %s %s: %w: %s", field, tool, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

// subRange is one line of /etc/subuid or /etc/subgid.
type subRange struct{ start, count uint64 }

// checkGranted refuses host ids that are neither the caller's own id nor in
// the ranges file (/etc/subuid, /etc/subgid) gives the caller, by name or
// by number: newuidmap would refuse them anyway, with less to go on.
func checkGranted(field, file string, own int, maps []specs.LinuxIDMapping) error {
	if onlySelf(own, maps) {
		return nil
	}
	ranges, err := subRanges(file, os.Geteuid())
	if err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	for i, m := range maps {
		lo, n := uint64(m.HostID), uint64(m.Size)
		if m.Size == 1 && int64(m.HostID) == int64(own) {
			continue
		}
		ok := false
		for _, r := range ranges {
			if lo >= r.start && lo+n <= r.start+r.count {
				ok = true
				break
			}
		}
		if !ok {
			have := "none"
			if len(ranges) > 0 {
				var s []string
				for _, r := range ranges {
					s = append(s, fmt.Sprintf("%d-%d", r.start, r.start+r.count-1))
				}
				have = strings.Join(s, ", ")
			}
			return fmt.Errorf("%s[%d]: host ids %d-%d are not the caller's own (%d): %s grants uid %d %s", field, i, lo, lo+n-1, own, file, os.Geteuid(), have)
		}
	}
	return nil
}

// subRanges reads the ranges file grants the user own (by name or number;
// both files are keyed by user); a missing file grants none.
func subRanges(file string, own int) ([]subRange, error) {
	f, err := os.Open(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names := map[string]bool{strconv.Itoa(own): true}
	if u, err := user.LookupId(strconv.Itoa(own)); err == nil {
		names[u.Username] = true
	}
	var out []subRange
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(parts) != 3 || !names[parts[0]] {
			continue
		}
		start, err1 := strconv.ParseUint(parts[1], 10, 32)
		count, err2 := strconv.ParseUint(parts[2], 10, 32)
		if err1 == nil && err2 == nil && count > 0 {
			out = append(out, subRange{start, count})
		}
	}
	return out, sc.Err()
}
