package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Probe finds every write of linux.resources that Set would fail on
// because this host lacks the file (no such controller, a kernel without
// the feature), without touching the container's cgroup: `carapace check
// --bundle` lists them all where Set stops at the first. The errors are
// the ones Set gives.
//
// The files a new cgroup would have are seen by trying: a throwaway cgroup
// is made beside where the container's would be (in the nearest directory
// that exists), listed and removed. On cgroup v2 a child has the files of
// the controllers its parent enables; create enables every one the parent
// offers, so a controller offered but not yet enabled is taken as there.
func (m *Manager) Probe(r *specs.LinuxResources) []error {
	ws, err := m.writes(r)
	if err != nil {
		return []error{err}
	}
	samples := map[string]sample{}
	var errs []error
	for _, x := range ws {
		dir, x, err := m.target(x)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s, ok := samples[dir]
		if !ok {
			s = sampleDir(dir)
			samples[dir] = s
		}
		if err := s.check(dir, x); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// sample is what a cgroup at some path would have: its files, and on
// cgroup v2 what its parent offers and enables.
type sample struct {
	files   []string
	v2      bool
	offered []string // cgroup.controllers of the parent
	enabled []string // cgroup.subtree_control of the parent
	busy    bool     // the parent has processes: enabled is final
	err     error    // the files could not be seen
}

// sampleDir lists the files a cgroup at dir has, or would have if made.
func sampleDir(dir string) sample {
	var s sample
	parent := dir
	for {
		if _, err := os.Stat(parent); err == nil {
			break
		}
		next := filepath.Dir(parent)
		if next == parent {
			s.err = errNoAncestor
			return s
		}
		parent = next
	}
	var st unix.Statfs_t
	if err := unix.Statfs(parent, &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		s.v2 = true
	}
	look := dir
	if parent == dir {
		// The container's cgroup exists already (create reuses an empty
		// one): its own files are the answer.
		parent = filepath.Dir(dir)
	} else {
		look = filepath.Join(parent, ".carapace-check-"+strconv.Itoa(os.Getpid()))
		if err := unix.Mkdir(look, 0o755); err != nil {
			s.err = fmt.Errorf("make a throwaway cgroup in %s: %w", parent, err)
			return s
		}
		defer unix.Rmdir(look)
	}
	ents, err := os.ReadDir(look)
	if err != nil {
		s.err = err
		return s
	}
	for _, e := range ents {
		s.files = append(s.files, e.Name())
	}
	if s.v2 {
		c, _ := readFile(parent, "cgroup.controllers")
		e, _ := readFile(parent, "cgroup.subtree_control")
		s.offered, s.enabled = strings.Fields(c), strings.Fields(e)
		// A non-root cgroup (the root has no cgroup.type) with processes
		// in it cannot enable more controllers for its children ("no
		// internal processes"): what it enables now is all they get.
		if _, err := os.Stat(filepath.Join(parent, "cgroup.type")); err == nil {
			procs, _ := readFile(parent, "cgroup.procs")
			s.busy = procs != ""
		}
	}
	return s
}

// check is the error Set would give for x in dir, given the sample.
func (s sample) check(dir string, x Write) error {
	if s.err != nil {
		return fmt.Errorf("%s: cannot tell whether this host has %s: %w", x.Field, x.File, s.err)
	}
	for _, f := range append([]string{x.File}, x.Alt...) {
		if slices.Contains(s.files, f) {
			return nil
		}
	}
	if x.Optional {
		return nil
	}
	if s.v2 {
		ctrl, _, _ := strings.Cut(x.File, ".")
		if !slices.Contains(s.offered, ctrl) {
			return missing(dir, x)
		}
		if !slices.Contains(s.enabled, ctrl) && !s.busy {
			// Offered, not yet enabled: the sample cannot show its files,
			// and create enables it.
			return nil
		}
	}
	return missing(dir, x)
}

var errNoAncestor = errors.New("no directory on its path exists")
