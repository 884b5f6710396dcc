// Package securefs resolves paths inside a container's root filesystem
// without ever leaving it: every lookup is one openat2 with RESOLVE_IN_ROOT
// from a root fd, so symlinks (absolute or with "..") stay inside, and a
// path swapped for a symlink during setup cannot redirect the runtime to the
// host (CVE-2021-30465, CVE-2024-45310).
//
// What the runtime makes in a root (mount points, device placeholders) is
// created exclusively (O_CREAT|O_EXCL|O_NOFOLLOW) in a directory resolved
// inside it; an entry already there is only opened with O_PATH and judged
// by its type. The image decides what is at a path, and a fifo opened for
// reading or writing would block the runtime until someone opened its
// other end.
package securefs

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// maxRetries bounds the openat2 calls of one lookup that fail with a
// transient error (see retryable).
//
// Why a bound at all: EAGAIN means a rename or a mount somewhere on the
// system completed while the lookup walked a ".." (the kernel's rename and
// mount sequence counters are global), and a process of another container,
// or of this one once it runs, can rename in a tight loop. Without a bound
// that process decides how long the runtime spins.
//
// Why 128: an honest race needs another rename or mount to land inside
// the few microseconds of one ".." step, on every attempt in a row; 128
// misses in a row do not happen by accident, even on a host busy unpacking
// images, while 128 path walks cost about a millisecond at most. A
// smaller bound (32) is reported to be reached on heavily loaded hosts
// with renames on every core (filepath-securejoin raised its own bound
// from 32 to 128 for that reason); a larger one only lengthens what an
// attacker can make the runtime do before it gives up.
const maxRetries = 128

// openat2 is the system call; tests replace it to play races.
var openat2 = unix.Openat2

// retryable reports whether an openat2 error asks for a new attempt.
//
// openat2(2), ERRORS:
//   - EAGAIN: "how.resolve contains either RESOLVE_IN_ROOT or
//     RESOLVE_BENEATH, and the kernel could not ensure that a ".."
//     component didn't escape (due to a race condition or potential
//     attack). The caller may choose to retry." (The other EAGAIN, for
//     RESOLVE_CACHED, cannot happen: that flag is never set here.)
//   - EXDEV: "how.resolve contains either RESOLVE_IN_ROOT or
//     RESOLVE_BENEATH, and an escape from the root during path resolution
//     was detected", or "RESOLVE_NO_XDEV, and a path component crosses a
//     mount point". With RESOLVE_IN_ROOT a ".." at the root is clamped,
//     not refused, so the first kind comes only from the kernel's final
//     check that the result is under the root (complete_walk), a guard
//     against a walk that went wrong, for instance one raced by a rename
//     that moved a directory of the path out of the root. A new walk from
//     the root fd starts from what is there now and lands inside or fails
//     with a real answer, so it is retried. The second kind is an answer, not
//     a race: the mount is still there on the next attempt, so with
//     RESOLVE_NO_XDEV an EXDEV is final.
//   - EINTR: a signal interrupted an open that blocked (FUSE, NFS); the
//     Go runtime's handlers have SA_RESTART, so it is rare, but it is not
//     an answer either.
func retryable(err error, resolve uint64) bool {
	switch err {
	case unix.EAGAIN, unix.EINTR:
		return true
	case unix.EXDEV:
		return resolve&unix.RESOLVE_NO_XDEV == 0
	}
	return false
}

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
// A lookup that keeps racing renames or mounts fails after maxRetries
// attempts with a *RetryError.
func (r *Root) Open(p string, flags int, extra uint64) (int, error) {
	return r.open(path.Clean("/"+p), p, flags, extra)
}

// open resolves p, as given, inside the root; display is the path for
// messages.
func (r *Root) open(p, display string, flags int, extra uint64) (int, error) {
	how := unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC),
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS | extra,
	}
	rel := strings.TrimLeft(p, "/")
	if rel == "" {
		rel = "."
	}
	var err error
	for range maxRetries {
		var fd int
		fd, err = openat2(r.fd, rel, &how)
		if err == nil {
			return fd, nil
		}
		if !retryable(err, how.Resolve) {
			return -1, &PathError{Op: "open", Path: display, Root: r.Path, Err: err}
		}
	}
	return -1, &PathError{Op: "open", Path: display, Root: r.Path, Err: &RetryError{Tries: maxRetries, Err: err}}
}

// RetryError is a lookup given up after every attempt failed with an
// error that asks for a retry.
type RetryError struct {
	Tries int
	Err   error // the last attempt's errno
}

func (e *RetryError) Error() string {
	why := "the lookup kept failing"
	switch e.Err {
	case unix.EAGAIN:
		why = "a rename or mount raced every lookup"
	case unix.EXDEV:
		why = "every lookup was moved out of the root by a racing rename"
	case unix.EINTR:
		why = "a signal interrupted every lookup"
	}
	return fmt.Sprintf("gave up after %d attempts: %s (openat2: %v)", e.Tries, why, e.Err)
}

func (e *RetryError) Unwrap() error { return e.Err }

// PathError is a failure to resolve a path in a root.
type PathError struct {
	Op, Path, Root string
	Err            error
}

func (e *PathError) Error() string {
	if e.Root == "" {
		return fmt.Sprintf("%s %s: %v", e.Op, e.Path, e.Err)
	}
	return fmt.Sprintf("%s %s in %s: %v", e.Op, e.Path, e.Root, e.Err)
}

func (e *PathError) Unwrap() error { return e.Err }

// TypeError is something already at a path the runtime wants to use, of a
// type it cannot use there. Its message starts with the quoted path, so
// that it reads on after a field name: `mounts[3].destination "/x":
// exists and is a fifo, not a regular file`.
type TypeError struct {
	Path string
	Got  uint32   // S_IFMT bits of what is there
	Want []uint32 // the S_IFMT types that would do
}

func (e *TypeError) Error() string {
	want := make([]string, len(e.Want))
	for i, w := range e.Want {
		want[i] = TypeName(w)
	}
	return fmt.Sprintf("%q: exists and is a %s, not a %s", e.Path, TypeName(e.Got), strings.Join(want, " or "))
}

// Unwrap gives the errno the kernel would have used for the same mistake,
// for callers that test for one.
func (e *TypeError) Unwrap() error {
	switch {
	case len(e.Want) == 1 && e.Want[0] == unix.S_IFDIR:
		return unix.ENOTDIR
	case e.Got == unix.S_IFDIR:
		return unix.EISDIR
	}
	return unix.EEXIST
}

// TypeName names a file type (the S_IFMT bits of a mode) for messages.
func TypeName(t uint32) string {
	switch t & unix.S_IFMT {
	case unix.S_IFREG:
		return "regular file"
	case unix.S_IFDIR:
		return "directory"
	case unix.S_IFLNK:
		return "symlink"
	case unix.S_IFIFO:
		return "fifo"
	case unix.S_IFSOCK:
		return "socket"
	case unix.S_IFCHR:
		return "character device"
	case unix.S_IFBLK:
		return "block device"
	}
	return fmt.Sprintf("file of type %#o", t&unix.S_IFMT)
}

// checkType keeps fd if what it refers to is of one of the types in want,
// and otherwise closes it and returns a *TypeError naming p. fd must be an
// O_PATH descriptor: fstat is all that is done with it.
func checkType(fd int, p string, want []uint32) (int, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, &PathError{Op: "stat", Path: p, Err: err}
	}
	got := st.Mode & unix.S_IFMT
	for _, w := range want {
		if got == w {
			return fd, nil
		}
	}
	unix.Close(fd)
	return -1, &TypeError{Path: p, Got: got, Want: want}
}

// notDir turns the ENOTDIR of a directory lookup of p into a *TypeError
// when p itself exists and is not a directory (rather than a component on
// the way to it), so that the message says what is there.
func (r *Root) notDir(p string, err error) error {
	if !errors.Is(err, unix.ENOTDIR) {
		return err
	}
	fd, oerr := r.Open(p, unix.O_PATH, 0)
	if oerr != nil {
		return err // a component on the way is not a directory
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return err // swapped for a directory since: report what the lookup saw
	}
	return &TypeError{Path: p, Got: st.Mode & unix.S_IFMT, Want: []uint32{unix.S_IFDIR}}
}

// MkdirAll makes p and its missing parents inside the root and returns an
// O_PATH fd on the directory. Each level is re-resolved from the root after
// it is made, so a component swapped for a symlink still lands inside. A
// component that exists and is not a directory is refused with a
// *TypeError. A dangling symlink on the way is followed as the kernel
// would follow it if the root were "/" (what runc's MkdirAllInRoot does):
// its target is made inside the root, never outside.
func (r *Root) MkdirAll(p string, mode uint32) (int, error) {
	fd, _, err := r.MkdirAllMade(p, mode)
	return fd, err
}

// maxSymlinks bounds the dangling symlinks one MkdirAll follows, as the
// kernel's MAXSYMLINKS bounds a lookup's: a loop of links that the image
// made would otherwise never end.
const maxSymlinks = 40

// MkdirAllMade is MkdirAll, also reporting whether p was made by it
// (false: a directory was there already).
func (r *Root) MkdirAllMade(p string, mode uint32) (fd int, made bool, err error) {
	fd, err = r.Open(p, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err == nil {
		return fd, false, nil
	}
	// ENOENT: something to make. ENOTDIR: something in the way, which the
	// walk below finds and names; it makes nothing before it gets there.
	if !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.ENOTDIR) {
		return -1, false, err
	}
	todo := strings.Split(strings.Trim(path.Clean("/"+p), "/"), "/")
	// cur is the path of parent from the root, as walked, not cleaned
	// (open, not Open): a ".." spliced in from a symlink's target is
	// resolved by openat2 after whatever symlinks come before it, and
	// clamped at the root.
	cur := ""
	parent, err := r.Open("/", unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return -1, false, err
	}
	defer func() {
		if parent >= 0 {
			unix.Close(parent)
		}
	}()
	links := 0
	for len(todo) > 0 {
		name := todo[0]
		todo = todo[1:]
		if name == "" || name == "." {
			continue
		}
		next := cur + "/" + name
		fd, err := r.open(next, next, unix.O_PATH|unix.O_DIRECTORY, 0)
		if errors.Is(err, unix.ENOENT) && name != ".." {
			// mkdir never follows a symlink in its last component and
			// never opens what is there: EEXIST leaves the judging to the
			// lookup below, or says a dangling symlink is in the way.
			mkErr := unix.Mkdirat(parent, name, mode)
			if mkErr == unix.EEXIST {
				target, ok, lerr := readlinkAt(parent, name)
				if lerr != nil {
					return -1, false, &PathError{Op: "readlink", Path: next, Root: r.Path, Err: lerr}
				}
				if ok {
					// The target's components replace the link's, read
					// as a path inside the root: an absolute target
					// starts over at the root, a relative one at the
					// link's directory. Nothing of it is opened but by
					// openat2 from the root fd.
					if links++; links > maxSymlinks {
						return -1, false, &PathError{Op: "mkdir", Path: p, Root: r.Path, Err: unix.ELOOP}
					}
					if target == "" {
						return -1, false, &PathError{Op: "readlink", Path: next, Root: r.Path, Err: unix.ENOENT}
					}
					if strings.HasPrefix(target, "/") {
						rfd, err := r.Open("/", unix.O_PATH|unix.O_DIRECTORY, 0)
						if err != nil {
							return -1, false, err
						}
						unix.Close(parent)
						parent, cur = rfd, ""
					}
					todo = append(strings.Split(target, "/"), todo...)
					continue
				}
			} else if mkErr != nil {
				return -1, false, &PathError{Op: "mkdir", Path: next, Root: r.Path, Err: mkErr}
			}
			made = mkErr == nil && len(todo) == 0
			fd, err = r.open(next, next, unix.O_PATH|unix.O_DIRECTORY, 0)
		}
		if err != nil {
			return -1, false, r.notDir(next, err)
		}
		unix.Close(parent)
		parent, cur = fd, next
	}
	fd, parent = parent, -1
	return fd, made, nil
}

// readlinkAt reads the symlink name in dfd; ok is false when name is not a
// symlink (any more).
func readlinkAt(dfd int, name string) (target string, ok bool, err error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(dfd, name, buf)
	switch {
	case err == unix.EINVAL || err == unix.ENOENT:
		return "", false, nil
	case err != nil:
		return "", false, err
	case n >= len(buf):
		return "", false, unix.ENAMETOOLONG
	}
	return string(buf[:n]), true, nil
}

// CreateFile makes an empty regular file at p (and its parents) if nothing
// is there, and returns an O_PATH fd on the file. What is already at p is
// used if it is a regular file or of one of the types in also (a character
// device, say, where one is to be bound over); anything else, a fifo above
// all, is refused with a *TypeError and never opened but with O_PATH. A
// symlink at p is followed inside the root; a dangling one is refused, not
// created through.
func (r *Root) CreateFile(p string, mode uint32, also ...uint32) (int, error) {
	want := append([]uint32{unix.S_IFREG}, also...)
	fd, err := r.Open(p, unix.O_PATH, 0)
	if err == nil {
		return checkType(fd, p, want)
	}
	if !errors.Is(err, unix.ENOENT) {
		return -1, err
	}
	dir, name := path.Split(path.Clean("/" + p))
	dfd, err := r.MkdirAll(dir, 0o755)
	if err != nil {
		return -1, err
	}
	defer unix.Close(dfd)
	fd, err = CreateAt(dfd, name, p, mode, also...)
	var pe *PathError
	if errors.As(err, &pe) && pe.Root == "" {
		pe.Root = r.Path
	}
	return fd, err
}

// CreateAt makes an empty regular file name in the directory dfd with
// O_CREAT|O_EXCL|O_NOFOLLOW, or, if something is already there, opens it
// with O_PATH|O_NOFOLLOW only and checks its type: a regular file or one
// of the types in also is returned, anything else (a fifo, a socket, a
// symlink, a directory) is refused with a *TypeError for display, the
// path used in messages. It returns an O_PATH fd. dfd must have been
// resolved inside the root; name is a single component.
func CreateAt(dfd int, name, display string, mode uint32, also ...uint32) (int, error) {
	want := append([]uint32{unix.S_IFREG}, also...)
	if name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
		return -1, &PathError{Op: "create", Path: display, Err: fmt.Errorf("%q is not a single path component", name)}
	}
	// O_EXCL: an existing entry, whatever it is, gives EEXIST and is
	// neither opened nor followed. O_RDONLY is the access mode of a file
	// this call has just made and no one else can have swapped in.
	f, err := unix.Openat(dfd, name, unix.O_RDONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, mode)
	switch {
	case err == nil:
		unix.Close(f)
	case err == unix.EEXIST:
	default:
		return -1, &PathError{Op: "create", Path: display, Err: err}
	}
	// Reopened by name: with O_PATH, so that whatever is there now (the
	// file made above, the image's own, or one swapped in since) is looked
	// at, never read, written or followed.
	fd, err := unix.Openat(dfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &PathError{Op: "open", Path: display, Err: err}
	}
	return checkType(fd, display, want)
}

// ProcPath is the magic link through which syscalls that take a path reach
// an fd, for APIs that have no fd form.
func ProcPath(fd int) string { return fmt.Sprintf("/proc/self/fd/%d", fd) }
