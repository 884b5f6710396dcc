// Package state keeps one directory per container under the runtime's root:
// state.json, written atomically, and the exec fifo that holds a created
// container's init until start. While create runs, create.json records
// what it is about to make, before it makes it (see Progress). A
// container's status is derived from its live process, never stored.
package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/libcarapace/cgroups"
	"github.com/carapace-oci/carapace/libcarapace/internal/jsonfast"
)

// DefaultRoot is where state lives without --root.
const DefaultRoot = "/run/carapace"

const (
	stateFile    = "state.json"
	fifoName     = "exec.fifo"
	progressFile = "create.json"
	// cgroupFile is the record of the cgroup alone that create kept
	// before create.json: still read, so that what such a create left
	// can be deleted.
	cgroupFile = "cgroup.json"
)

// ErrNotExist is returned for a container that is not in the store.
var ErrNotExist = errors.New("container does not exist")

// ErrExist is returned when creating a container whose id is taken.
var ErrExist = errors.New("container already exists")

// State is what the runtime remembers of a container between verbs.
type State struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	StartTime   uint64            `json:"startTime"` // of Pid, in clock ticks since boot; guards against pid reuse
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Hooks       *specs.Hooks      `json:"hooks,omitempty"`
	Cgroup      *cgroups.Manager  `json:"cgroup,omitempty"`
	SharedPidNS bool              `json:"sharedPidNS,omitempty"` // no pid namespace of its own: kill --all must signal every process
	// Process and Namespaces are what exec needs: the defaults of an
	// exec'd process, and the namespace types to join through init.
	Process    *specs.Process             `json:"process,omitempty"`
	Namespaces []specs.LinuxNamespaceType `json:"namespaces,omitempty"`
	// Devices are linux.devices: update keeps them allowed.
	Devices []specs.LinuxDevice `json:"devices,omitempty"`
	// Resources are the limits in force: linux.resources as created
	// (without device rules), merged with every update since, so that an
	// update of one limit of a pair (memory and memory+swap, CFS quota
	// and period) is written with the other, as runc does.
	Resources *specs.LinuxResources `json:"resources,omitempty"`
	Owner     string                `json:"owner,omitempty"`
	// NotifySocket is systemd's socket when the runtime ran under one:
	// start passes the container's READY=1 on to it.
	NotifySocket string `json:"notifySocket,omitempty"`
	// Seccomp is linux.seccomp: exec'd processes get the same filter.
	Seccomp *specs.LinuxSeccomp `json:"seccomp,omitempty"`
	// Personality and MemoryPolicy are linux.personality and
	// linux.memoryPolicy: exec'd processes get them too, as with runc.
	Personality  *specs.LinuxPersonality  `json:"personality,omitempty"`
	MemoryPolicy *specs.LinuxMemoryPolicy `json:"memoryPolicy,omitempty"`

	// Creating is set, never stored, on the state Inspect makes of a
	// container whose create still runs.
	Creating bool `json:"-"`
	// Partial is set, never stored, on the state Inspect makes of a
	// container without state.json: what its create recorded.
	Partial *Progress `json:"-"`
}

// Progress is what a create has made so far, each part recorded before it
// is made: a create killed at any moment (SIGKILL runs none of its
// cleanups) leaves a record from which delete removes all of it. The
// state directory itself is the first record; the exec fifo and the
// notify socket are inside it.
type Progress struct {
	Bundle  string    `json:"bundle,omitempty"`
	Created time.Time `json:"created"`
	// Cgroup is the container's cgroup; its Created lists the directories
	// about to be made (those missing when create looked), and under
	// systemd Unit is the unit about to be started.
	Cgroup *cgroups.Manager `json:"cgroup,omitempty"`
	// Pid and StartTime are init's, recorded as soon as it exists: until
	// create sends it its configuration, init does nothing of its own, and
	// exits when create dies before that.
	Pid       int    `json:"pid,omitempty"`
	StartTime uint64 `json:"startTime,omitempty"`
	// Creator and CreatorStart are the create process's own pid and start
	// time: while it lives, the container is creating. (Its lock on the
	// directory does not tell: a child it forked holds that too until
	// the child execs.)
	Creator      int    `json:"creator,omitempty"`
	CreatorStart uint64 `json:"creatorStart,omitempty"`
}

// NewProgress is the first record of a create run by this process.
func NewProgress(bundle string) *Progress {
	p := &Progress{Bundle: bundle, Created: time.Now().UTC(), Creator: os.Getpid()}
	p.CreatorStart, _, _ = ProcStartTime(p.Creator)
	return p
}

// Store is the state root directory.
type Store struct{ Root string }

func validIDChars(id string) bool {
	for i := 0; i < len(id); i++ {
		c := id[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || !strings.ContainsRune("_+.-", rune(c))) {
			return false
		}
	}
	return true
}

// CheckID rejects ids that could escape the root or confuse tools.
func CheckID(id string) error {
	if id == "" {
		return errors.New("container id is empty")
	}
	if len(id) > 1024 || !validIDChars(id) || id == "." || id == ".." {
		return fmt.Errorf("container id %q: invalid (letters, digits and _+.- only, not starting with a symbol)", id)
	}
	return nil
}

// Dir is the container's state directory.
func (s Store) Dir(id string) string { return filepath.Join(s.Root, id) }

// FifoPath is the exec fifo of a container.
func (s Store) FifoPath(id string) string { return filepath.Join(s.Root, id, fifoName) }

// Reserve creates the container's directory, which claims the id: mkdir is
// atomic, so two creates of one id cannot both win.
func (s Store) Reserve(id string) error {
	if err := CheckID(id); err != nil {
		return err
	}
	if err := os.MkdirAll(s.Root, 0o700); err != nil {
		return fmt.Errorf("state root %s: %w", s.Root, err)
	}
	if err := os.Mkdir(s.Dir(id), 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("container %q: %w", id, ErrExist)
		}
		return fmt.Errorf("state dir: %w", err)
	}
	return nil
}

// Claim makes the container's directory, with create's first record
// (progress) in it and the container's lock held, in one step: the
// directory is made and locked under a temporary name, and renamed to the
// id only if no directory has it (RENAME_NOREPLACE, which claims the id as
// mkdir would). So no other verb ever sees the container without its
// record and its create's lock: a delete, a state never take it for what
// a dead create left. The lock is held until the returned function is
// called.
func (s Store) Claim(id string, progress *Progress) (unlock func(), err error) {
	if err := CheckID(id); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.Root, 0o700); err != nil {
		return nil, fmt.Errorf("state root %s: %w", s.Root, err)
	}
	s.sweep()
	tmp, err := s.mkTemp(claimTemp)
	if err != nil {
		return nil, fmt.Errorf("state root %s: %w", s.Root, err)
	}
	defer s.tidyTemp()
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	fd, err := unix.Open(tmp, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	defer func() {
		if err != nil {
			unix.Close(fd)
		}
	}()
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		return nil, fmt.Errorf("lock container %q: %w", id, err)
	}
	if err := appendRecord(filepath.Join(tmp, progressFile), os.O_CREATE|os.O_EXCL, progress); err != nil {
		return nil, fmt.Errorf("record the container's creation: %w", err)
	}
	err = unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, s.Dir(id), unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		// A file system without RENAME_NOREPLACE: mkdir claims the id,
		// and the rename replaces that empty directory.
		if err = os.Mkdir(s.Dir(id), 0o700); err == nil {
			err = unix.Rename(tmp, s.Dir(id))
		}
	}
	if errors.Is(err, unix.EEXIST) || errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("container %q: %w", id, ErrExist)
	}
	if err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	return func() { unix.Close(fd) }, nil
}

// Temporary directories, in the root's own directory tempDir: a create's
// before it has the id, a delete's once the id is free. Their names carry
// their maker's pid and start time, so that those of a runtime killed
// half-way are removed by a later one (sweep). They are kept apart from
// the containers' directories so that sweep reads only them: nothing that
// create or delete does grows with the number of containers. (tempDir
// starts with a dot, which no container id does.)
const (
	tempDir    = ".tmp"
	claimTemp  = "creating"
	removeTemp = "deleting"
)

// mkTemp makes a temporary directory of the kind in tempDir, and tempDir
// if need be.
func (s Store) mkTemp(kind string) (string, error) {
	dir := filepath.Join(s.Root, tempDir)
	for {
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return "", err
		}
		tmp, err := os.MkdirTemp(dir, tempPrefix(kind))
		if errors.Is(err, os.ErrNotExist) {
			// Another runtime's tidyTemp removed it, empty, in between.
			continue
		}
		return tmp, err
	}
}

// tidyTemp removes tempDir if it is empty (rmdir refuses otherwise), so
// that the root holds nothing but containers between verbs.
func (s Store) tidyTemp() { unix.Rmdir(filepath.Join(s.Root, tempDir)) }

func tempPrefix(kind string) string {
	pid := os.Getpid()
	start, _, _ := ProcStartTime(pid)
	return fmt.Sprintf(".%s-%d-%d-", kind, pid, start)
}

// sweep removes the temporary directories of runtimes that died before
// they renamed or removed them. Nothing but files is in them: a create
// makes nothing else before the rename, and a delete renames the directory
// once the rest is gone.
func (s Store) sweep() {
	dir := filepath.Join(s.Root, tempDir)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		var kind string
		var pid int
		var start uint64
		name := strings.TrimPrefix(e.Name(), ".")
		if name == e.Name() || !e.IsDir() {
			continue
		}
		f := strings.SplitN(name, "-", 4)
		if len(f) != 4 {
			continue
		}
		kind = f[0]
		if kind != claimTemp && kind != removeTemp {
			continue
		}
		var err1, err2 error
		pid, err1 = strconv.Atoi(f[1])
		start, err2 = strconv.ParseUint(f[2], 10, 64)
		if err1 != nil || err2 != nil || Alive(pid, start) {
			continue
		}
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}

// MakeFifo creates the exec fifo; init opens it for writing and blocks.
// It is writable by all: init may run as a user-namespaced root that owns
// nothing here, and it reaches the fifo only through an fd the runtime
// hands it (the state directory itself stays 0700).
func (s Store) MakeFifo(id string) error {
	p := s.FifoPath(id)
	if err := unix.Mkfifo(p, 0o622); err != nil {
		return fmt.Errorf("exec fifo: %w", err)
	}
	if err := unix.Chmod(p, 0o622); err != nil {
		return fmt.Errorf("exec fifo: %w", err)
	}
	return nil
}

// Remove deletes the container's directory. It is first renamed out of
// the id's way, in one step: the container's files do not go one by one
// under a state or list, which would see a half-removed container. Once
// the rename is done the id is free (a create may take it again).
func (s Store) Remove(id string) error {
	dir := s.Dir(id)
	tmp, err := s.mkTemp(removeTemp)
	if err == nil {
		defer s.Sweep()
		err = unix.Rename(dir, tmp)
		if err != nil {
			os.Remove(tmp)
		}
	}
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		// Removed in place: better than not at all.
		return os.RemoveAll(dir)
	}
	return os.RemoveAll(tmp)
}

// Save writes state.json with one write and a rename, so readers never see
// a partial file. The container is in it from now on: the record of
// create's progress goes.
func (s Store) Save(st *State) error {
	b, err := jsonfast.Marshal(st, appendState)
	if err == nil {
		err = writeFile(s.Dir(st.ID), stateFile, b)
	}
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	os.Remove(filepath.Join(s.Dir(st.ID), progressFile))
	os.Remove(filepath.Join(s.Dir(st.ID), cgroupFile))
	return nil
}

// SaveProgress records what create is about to make (see Progress).
//
// create.json is a log: each record is one line of JSON appended with one
// write, the last complete line is the record in force (LoadProgress).
// A reader, or a create killed during the write, sees at worst a partial
// last line, which is not taken. Appending to the file Claim made costs
// one open and one write, where a new file renamed over the old one (as
// state.json is written) made create.json's three records cost about
// 7% of a run's CPU on an ext4 state root.
func (s Store) SaveProgress(id string, p *Progress) error {
	if err := appendRecord(filepath.Join(s.Dir(id), progressFile), os.O_CREATE, p); err != nil {
		return fmt.Errorf("record the container's creation: %w", err)
	}
	return nil
}

// appendRecord appends p to the log at path as one line, in one write.
func appendRecord(path string, flags int, p *Progress) error {
	b, err := jsonfast.Marshal(p, appendProgress)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|flags, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// lastRecord is the last complete line of a progress log; a file without
// a newline is a record of an older Carapace, written whole by a rename.
func lastRecord(b []byte) []byte {
	end := bytes.LastIndexByte(b, '\n')
	if end < 0 {
		return b
	}
	start := bytes.LastIndexByte(b[:end], '\n') + 1
	return b[start:end]
}

// LoadProgress reads the record SaveProgress left: nil if there is none.
func (s Store) LoadProgress(id string) (*Progress, error) {
	if err := CheckID(id); err != nil {
		return nil, err
	}
	var p Progress
	ok, err := s.readWith(id, progressFile, &p, lastRecord)
	if err != nil || ok {
		return &p, err
	}
	var m cgroups.Manager
	if ok, err := s.read(id, cgroupFile, &m); err != nil || !ok {
		return nil, err
	}
	return &Progress{Cgroup: &m}, nil
}

// read decodes one of the container's files into v; false if it is not
// there.
func (s Store) read(id, name string, v any) (bool, error) {
	return s.readWith(id, name, v, nil)
}

// readWith is read, of the part of the file that pick picks.
func (s Store) readWith(id, name string, v any, pick func([]byte) []byte) (bool, error) {
	b, err := os.ReadFile(filepath.Join(s.Dir(id), name))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if pick != nil {
		b = pick(b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("container %q: corrupt %s: %w", id, name, err)
	}
	return true, nil
}

// writeFile stores b in dir/name with one write and a rename.
func writeFile(dir, name string, b []byte) error {
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, name))
}

//go:generate go run -tags jsonfast_gen ../internal/jsonfast/gen/cmd -config state

// State, Progress and Info are encoded by the generated encoders too
// (appendState ... in state_gen.go), through jsonfast.Marshal, which
// writes what json.Marshal writes: encoding/json's cold tables for the
// spec types in State cost create more than the rest of its writes.

// decodeFast decodes state.json with the generated decoders (state_gen.go)
// when it can do so exactly as json.Unmarshal would: every verb after
// create reads state.json, and encoding/json's cold tables for the spec
// types in it (the process, resources, seccomp) cost each of them more
// than the rest of the read. On false st is partial: decode it again from
// zero with encoding/json.
func decodeFast(b []byte, st *State) bool { return jsonfast.Take(b, st, decodeState) }

// Load reads a container's state.
func (s Store) Load(id string) (*State, error) {
	if err := CheckID(id); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(s.Dir(id), stateFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("container %q: %w", id, ErrNotExist)
		}
		return nil, err
	}
	var st State
	if err := jsonfast.Unmarshal(b, &st, decodeFast, json.Unmarshal); err != nil {
		return nil, fmt.Errorf("container %q: corrupt state: %w", id, err)
	}
	return &st, nil
}

// Inspect is Load that also answers for a container whose create has not
// saved its state (still running, or killed half-way): see Unsaved;
// Creating while the create process it recorded lives (before it recorded
// itself: while the container's lock is held).
func (s Store) Inspect(id string) (*State, error) {
	st, err := s.Load(id)
	if !errors.Is(err, ErrNotExist) {
		return st, err
	}
	creating := s.locked(id)
	st, err = s.Unsaved(id)
	if err == nil && st.Partial.Creator > 0 {
		creating = Alive(st.Partial.Creator, st.Partial.CreatorStart)
	}
	if err != nil {
		if creating && !errors.Is(err, ErrNotExist) {
			// Caught between two writes of a live create: it is creating.
			return &State{OCIVersion: specs.Version, ID: id, Creating: true}, nil
		}
		return nil, err
	}
	if st.Creating = creating; creating {
		st.Pid, st.StartTime = st.Partial.Pid, st.Partial.StartTime
	}
	return st, nil
}

// Unsaved is the state of a container directory without state.json, made
// of what its create recorded (Partial, never nil): with no pid, so its
// status is stopped, as a create that died half-way leaves it.
func (s Store) Unsaved(id string) (*State, error) {
	fi, err := os.Stat(s.Dir(id))
	if err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("container %q: %w", id, ErrNotExist)
	}
	p, err := s.LoadProgress(id)
	if err != nil {
		return nil, err
	}
	if p == nil {
		p = &Progress{}
	}
	st := &State{OCIVersion: specs.Version, ID: id, Created: fi.ModTime().UTC(), Partial: p, Bundle: p.Bundle, Cgroup: p.Cgroup}
	if !p.Created.IsZero() {
		st.Created = p.Created
	}
	return st, nil
}

// locked reports whether another process holds the container's lock
// (Lock): without state.json, that is its create at work.
func (s Store) locked(id string) bool {
	fd, err := unix.Open(s.Dir(id), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	return unix.Flock(fd, unix.LOCK_SH|unix.LOCK_NB) == unix.EWOULDBLOCK
}

// List returns the ids of all containers in the store: those with a state
// and those a create has reserved (see Inspect).
func (s Store) List() ([]string, error) {
	ents, err := os.ReadDir(s.Root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var ids []string
	for _, e := range ents {
		if e.IsDir() && CheckID(e.Name()) == nil {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// Lock takes an exclusive lock on the container's directory, held until the
// returned function is called. Verbs that change a container hold it, so
// two of them on one container cannot interleave.
//
// A verb waiting for the lock may get it on a directory that the holder
// removed meanwhile (a delete): that is "does not exist", and a directory
// made since under the id (a new create of it) is locked in its turn, so
// that the lock held is always that of the container the id names.
//
// The wait is bounded (LockWait), and ends at once when the holder is
// stopped: a *LockedError then names the holder.
func (s Store) Lock(id string) (func(), error) { return s.lock(id, unix.LOCK_EX) }

// LockShared is Lock for a verb that may run beside others of its kind but
// not beside one that changes the container: exec, while it sets its
// process up (a delete waits until the process runs, then kills it).
func (s Store) LockShared(id string) (func(), error) { return s.lock(id, unix.LOCK_SH) }

func (s Store) lock(id string, how int) (func(), error) {
	if err := CheckID(id); err != nil {
		return nil, err
	}
	for {
		fd, err := unix.Open(s.Dir(id), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				return nil, fmt.Errorf("container %q: %w", id, ErrNotExist)
			}
			return nil, fmt.Errorf("container %q: %w", id, err)
		}
		lockOpened()
		if err := flockWait(id, fd, how); err != nil {
			unix.Close(fd)
			return nil, err
		}
		var locked, now unix.Stat_t
		err = unix.Fstat(fd, &locked)
		if err == nil {
			err = unix.Stat(s.Dir(id), &now)
		}
		if err == nil && locked.Dev == now.Dev && locked.Ino == now.Ino {
			return func() { unix.Close(fd) }, nil
		}
		unix.Close(fd)
		if err != nil && !errors.Is(err, unix.ENOENT) {
			return nil, fmt.Errorf("lock container %q: %w", id, err)
		}
		// Removed (ENOENT: the next open says so) or replaced: again.
	}
}

// lockOpened is called by lock between the open and the flock: tests
// replace the directory there.
var lockOpened = func() {}

// Sweep removes what runtimes killed half-way left in the root besides
// containers: the temporary directories of a create before it claimed its
// id, of a delete after it gave it up (see Claim and Remove).
func (s Store) Sweep() {
	s.sweep()
	s.tidyTemp()
}

// Status values of the OCI state.
const (
	Creating = "creating"
	Created  = "created"
	Running  = "running"
	Paused   = "paused"
	Stopped  = "stopped"
)

// Status derives the container's status from its init process and the fifo.
func (s Store) Status(st *State) string {
	if st.Creating {
		return Creating
	}
	if !Alive(st.Pid, st.StartTime) {
		return Stopped
	}
	if _, err := os.Lstat(s.FifoPath(st.ID)); err == nil {
		return Created
	}
	if st.Cgroup != nil && st.Cgroup.Frozen() {
		return Paused
	}
	return Running
}

// Alive reports whether pid is still the process that was started at
// startTime (and is not a zombie).
func Alive(pid int, startTime uint64) bool {
	if pid <= 0 {
		return false
	}
	st, state, err := ProcStartTime(pid)
	if err != nil || state == 'Z' || state == 'X' {
		return false
	}
	return startTime == 0 || st == startTime
}

// ProcStartTime reads a process's start time and state from /proc/pid/stat.
func ProcStartTime(pid int) (uint64, byte, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command name may contain spaces and parentheses: fields start
	// after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	t, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
	}
	return t, f[0][0], nil
}

// OCI returns the state in the shape the runtime spec defines.
func (s Store) OCI(st *State) specs.State {
	status := s.Status(st)
	pid := st.Pid
	if status == Stopped || status == Creating && !Alive(st.Pid, st.StartTime) {
		pid = 0
	}
	return specs.State{
		Version:     st.OCIVersion,
		ID:          st.ID,
		Status:      specs.ContainerState(status),
		Pid:         pid,
		Bundle:      st.Bundle,
		Annotations: st.Annotations,
	}
}
