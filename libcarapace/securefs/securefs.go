// Package securefs resolves paths inside a container's root filesystem
// without ever leaving it: every lookup is one openat2 with RESOLVE_IN_ROOT
// from a root fd, so symlinks (absolute or with "..") stay inside, and a
// path swapped for a symlink during setup cannot redirect the runtime to the
// host (CVE-2021-30465, CVE-2024-45310).
package securefs

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// Root is an open root filesystem.
type Root struct {
	fd   int
	Path string // for messages only
}

// OpenRoot opens dir as a root for later lookups.
func OpenRoot(dir string) (*Root, error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open root %s: %w", dir, err)
	}
	return &Root{fd: fd, Path: dir}, nil
}

// Close releases the root fd.
func (r *Root) Close() error { return unix.Close(r.fd) }

// FD is the root's descriptor.
func (r *Root) FD() int { return r.fd }

// Open resolves p inside the root. extra adds RESOLVE_* flags, e.g.
// RESOLVE_NO_SYMLINKS for paths that must not be links at all (/proc).
func (r *Root) Open(p string, flags int, extra uint64) (int, error) {
	how := unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC),
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS | extra,
	}
	rel := strings.TrimLeft(path.Clean("/"+p), "/")
	if rel == "" {
		rel = "."
	}
	for {
		fd, err := unix.Openat2(r.fd, rel, &how)
		if err == unix.EINTR || err == unix.EAGAIN {
			// EAGAIN: a rename raced the lookup; the kernel asks for a retry.
			continue
		}
		if err != nil {
			return -1, &PathError{Op: "open", Path: p, Root: r.Path, Err: err}
		}
		return fd, nil
	}
}

// PathError is a failure to resolve a path in a root.
type PathError struct {
	Op, Path, Root string
	Err            error
}

func (e *PathError) Error() string {
	return fmt.Sprintf("%s %s in %s: %v", e.Op, e.Path, e.Root, e.Err)
}

func (e *PathError) Unwrap() error { return e.Err }

// MkdirAll makes p and its missing parents inside the root and returns an
// O_PATH fd on the directory. Each level is re-resolved from the root after
// it is made, so a component swapped for a symlink still lands inside.
func (r *Root) MkdirAll(p string, mode uint32) (int, error) {
	fd, err := r.Open(p, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err == nil || !errors.Is(err, unix.ENOENT) {
		return fd, err
	}
	parts := strings.Split(strings.Trim(path.Clean("/"+p), "/"), "/")
	cur := "/"
	parent, err := r.Open(cur, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return -1, err
	}
	for _, name := range parts {
		next := path.Join(cur, name)
		fd, err := r.Open(next, unix.O_PATH|unix.O_DIRECTORY, 0)
		if errors.Is(err, unix.ENOENT) {
			if err := unix.Mkdirat(parent, name, mode); err != nil && err != unix.EEXIST {
				unix.Close(parent)
				return -1, &PathError{Op: "mkdir", Path: next, Root: r.Path, Err: err}
			}
			fd, err = r.Open(next, unix.O_PATH|unix.O_DIRECTORY, 0)
		}
		unix.Close(parent)
		if err != nil {
			return -1, err
		}
		parent, cur = fd, next
	}
	return parent, nil
}

// CreateFile makes an empty file at p (and its parents) if nothing is there,
// and returns an O_PATH fd on what is there.
func (r *Root) CreateFile(p string, mode uint32) (int, error) {
	fd, err := r.Open(p, unix.O_PATH, 0)
	if err == nil || !errors.Is(err, unix.ENOENT) {
		return fd, err
	}
	dir, name := path.Split(path.Clean("/" + p))
	dfd, err := r.MkdirAll(dir, 0o755)
	if err != nil {
		return -1, err
	}
	defer unix.Close(dfd)
	f, err := unix.Openat(dfd, name, unix.O_CREAT|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, mode)
	if err != nil && err != unix.EEXIST && err != unix.ELOOP {
		return -1, &PathError{Op: "create", Path: p, Root: r.Path, Err: err}
	}
	if err == nil {
		unix.Close(f)
	}
	return r.Open(p, unix.O_PATH, 0)
}

// ProcPath is the magic link through which syscalls that take a path reach
// an fd, for APIs that have no fd form.
func ProcPath(fd int) string { return fmt.Sprintf("/proc/self/fd/%d", fd) }
