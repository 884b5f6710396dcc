// Package process turns the spec's process fields into the credentials,
// capabilities, limits and exec of a container's process.
package process

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// SetUser switches the calling thread to the spec's user and groups with
// raw syscalls: only the thread that will exec needs them, and Go's
// all-threads variants are unavailable or costly here. Capabilities in the
// permitted set survive (PR_SET_KEEPCAPS) for Caps.Apply to set.
//
// The supplementary groups are always set: the kernel, not a file the
// container could fake, says whether they may be. Only in a user
// namespace whose setgroups is "deny" does setgroups fail with EPERM for
// root; there the groups cannot change, and no additional gids means
// nothing was asked.
func SetUser(u specs.User) error {
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("keep capabilities: %w", err)
	}
	gids := make([]uint32, len(u.AdditionalGids))
	copy(gids, u.AdditionalGids)
	var p unsafe.Pointer
	if len(gids) > 0 {
		p = unsafe.Pointer(&gids[0])
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(gids)), uintptr(p), 0); e != 0 && (e != unix.EPERM || len(gids) > 0) {
		return fmt.Errorf("process.user.additionalGids %v: setgroups: %w", u.AdditionalGids, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(u.GID), uintptr(u.GID), uintptr(u.GID)); e != 0 {
		return fmt.Errorf("process.user.gid %d: setresgid: %w", u.GID, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(u.UID), uintptr(u.UID), uintptr(u.UID)); e != 0 {
		return fmt.Errorf("process.user.uid %d: setresuid: %w", u.UID, e)
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("reset keep capabilities: %w", err)
	}
	umask := uint32(0o022)
	if u.Umask != nil {
		umask = *u.Umask
	}
	unix.Umask(int(umask))
	return nil
}

// Chdir enters the process's cwd and checks it is inside the container's
// root. A cwd such as /proc/self/fd/N could otherwise name a host directory
// held open by the runtime (CVE-2024-21626).
func Chdir(cwd string) error {
	if err := unix.Chdir(cwd); err != nil {
		return fmt.Errorf("process.cwd %q: %w", cwd, err)
	}
	buf := make([]byte, 4096)
	n, err := unix.Getcwd(buf)
	if err != nil {
		return fmt.Errorf("process.cwd %q: getcwd: %w", cwd, err)
	}
	if n > 0 && buf[n-1] == 0 {
		n--
	}
	if got := string(buf[:n]); !strings.HasPrefix(got, "/") {
		return fmt.Errorf("process.cwd %q resolves outside the container's root (%s): refusing to run", cwd, got)
	}
	return nil
}

// LookPath finds the program to exec the way runc's exec.LookPath does,
// using the container's PATH rather than the runtime's. Its errors keep
// the words runc's have, which clients turn into exit codes (docker and
// podman: "executable file not found" and "no such file or directory"
// 127, "permission denied" 126, docker "is a directory" 126).
func LookPath(file string, env []string) (string, error) {
	if strings.Contains(file, "/") {
		// Checked now, not left to execve at start: a missing program must
		// fail create, where the clients look for it.
		if err := executable(file); err != nil {
			return "", fmt.Errorf("process.args[0] %q: %w", file, err)
		}
		return file, nil
	}
	pathEnv := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			pathEnv = v
		}
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			dir = "."
		}
		// A match the process could not run is skipped, as with runc: an
		// executable later in PATH still runs, and with none the program
		// is "not found" (127 to the clients), not "permission denied".
		if p := filepath.Join(dir, file); executable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("process.args[0] %q: executable file not found in $PATH", file)
}

// executable reports why path cannot be run, as execve would: by the
// effective credentials and capabilities the process execs with
// (AT_EACCESS), which are what the kernel checks. Plain access(2) goes by
// the real ids and, for root, the permitted capabilities: it passes a file
// that only CAP_DAC_OVERRIDE lets run when that is permitted but not
// effective, and execve then fails at start instead of create.
func executable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err.(*os.PathError).Err
	}
	if fi.IsDir() {
		return unix.EISDIR
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("not a regular file: %w", unix.EACCES)
	}
	// Without faccessat2 (before Linux 5.8, or refused by a seccomp
	// profile loaded before this), x/sys works it out from the mode.
	return unix.Faccessat(unix.AT_FDCWD, path, unix.X_OK, unix.AT_EACCESS)
}

// SetOOMScoreAdj sets a child's oom_score_adj. The runtime writes it
// through the host's /proc before the child runs anything of the
// container's: inside, /proc is what the container made it, and a
// non-dumpable child may not write its own.
func SetOOMScoreAdj(pid, v int) error {
	path := "/proc/" + strconv.Itoa(pid) + "/oom_score_adj"
	if err := os.WriteFile(path, []byte(strconv.Itoa(v)), 0); err != nil {
		return fmt.Errorf("process.oomScoreAdj %d: %w", v, err)
	}
	return nil
}

// ChownStdio gives the process's user the pipes, sockets and terminals
// that are its stdio, so that it can reopen them (/dev/stdout,
// /proc/self/fd/1) once it is not root, as runc does. /dev/null and files
// already the user's are left alone, and so are regular files and
// directories: those are the caller's files on the host, not the
// container's to own. A stdio whose owner is not mapped in the container's
// user namespace (EPERM) or on a read-only mount (EROFS) is left as it is.
func ChownStdio(uid uint32) error {
	for fd := 0; fd < 3; fd++ {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			if err == unix.EBADF {
				continue
			}
			return fmt.Errorf("stdio fd %d: %w", fd, err)
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFIFO, unix.S_IFSOCK:
		case unix.S_IFCHR:
			if st.Rdev == unix.Mkdev(1, 3) {
				continue
			}
		default:
			continue
		}
		if st.Uid == uid {
			continue
		}
		if err := unix.Fchown(fd, int(uid), -1); err != nil && err != unix.EPERM && err != unix.EROFS {
			return fmt.Errorf("stdio fd %d: chown to process.user.uid %d: %w", fd, uid, err)
		}
	}
	return nil
}
