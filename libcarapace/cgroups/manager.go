package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Manager is one container's cgroup in every hierarchy of the host.
type Manager struct {
	// Dirs maps each hierarchy's mount point to the container's cgroup
	// directory in it.
	Dirs map[string]string
	// Created lists the directories this container made, deepest last, so
	// that removal takes away exactly those.
	Created []string
}

// NewManager resolves cgroupsPath the way runc reads it: absolute paths are
// taken from each hierarchy's root, relative ones from the runtime's own
// cgroup, and an empty one is the container id relative to the runtime's.
func NewManager(cgroupsPath, id string) (*Manager, error) {
	hs, err := Hierarchies()
	if err != nil {
		return nil, fmt.Errorf("cgroup hierarchies: %w", err)
	}
	own, err := ProcCgroups("self")
	if err != nil {
		return nil, fmt.Errorf("own cgroup: %w", err)
	}
	if cgroupsPath == "" {
		cgroupsPath = id
	}
	if strings.Contains(cgroupsPath, ":") && !strings.HasPrefix(cgroupsPath, "/") {
		return nil, fmt.Errorf("linux.cgroupsPath %q: systemd slice:prefix:name paths need --systemd-cgroup, which is not supported yet", cgroupsPath)
	}
	for _, c := range strings.Split(cgroupsPath, "/") {
		if c == ".." {
			return nil, fmt.Errorf("linux.cgroupsPath %q: contains \"..\"", cgroupsPath)
		}
	}
	m := &Manager{Dirs: map[string]string{}}
	for _, h := range hs {
		var p string
		if path.IsAbs(cgroupsPath) {
			p = path.Clean(cgroupsPath)
		} else {
			base, ok := own[h.Name()]
			if !ok {
				continue
			}
			p = path.Join(base, cgroupsPath)
		}
		rel := strings.TrimPrefix(p, h.Root)
		if h.Root != "/" && p != h.Root && !strings.HasPrefix(p, h.Root+"/") {
			// The mount shows only a sub-tree that does not hold the path
			// (the runtime itself runs inside a cgroup namespace).
			rel = p
		}
		m.Dirs[h.Mountpoint] = filepath.Join(h.Mountpoint, rel)
	}
	return m, nil
}

// Apply creates the cgroup in every hierarchy and moves pid into it.
func (m *Manager) Apply(pid int) error {
	mounts := make([]string, 0, len(m.Dirs))
	for mp := range m.Dirs {
		mounts = append(mounts, mp)
	}
	slices.Sort(mounts)
	for _, mp := range mounts {
		dir := m.Dirs[mp]
		if err := m.mkdirAll(mp, dir); err != nil {
			return err
		}
		if err := writeFile(dir, "cgroup.procs", strconv.Itoa(pid)); err != nil {
			return err
		}
	}
	return nil
}

func (m *Manager) mkdirAll(mountpoint, dir string) error {
	rel, err := filepath.Rel(mountpoint, dir)
	if err != nil || rel == "." {
		return err
	}
	cpuset := strings.Contains(filepath.Base(mountpoint), "cpuset")
	cur := mountpoint
	for _, c := range strings.Split(rel, "/") {
		parent := cur
		cur = filepath.Join(cur, c)
		err := os.Mkdir(cur, 0o755)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("create cgroup %s: %w", cur, err)
		}
		m.Created = append(m.Created, cur)
		if cpuset {
			// A new v1 cpuset starts empty and refuses tasks until it has
			// cpus and mems: inherit the parent's.
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				if v, err := os.ReadFile(filepath.Join(cur, f)); err == nil && len(strings.TrimSpace(string(v))) == 0 {
					pv, err := os.ReadFile(filepath.Join(parent, f))
					if err == nil {
						if err := writeFile(cur, f, strings.TrimSpace(string(pv))); err != nil {
							return err
						}
					}
				}
			}
		}
	}
	return nil
}

// Destroy removes the directories the container created, deepest first. A
// cgroup's last processes may take a moment to leave after being killed.
func (m *Manager) Destroy() error {
	var errs []error
	for i := len(m.Created) - 1; i >= 0; i-- {
		if err := rmdir(m.Created[i]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func rmdir(dir string) error {
	var err error
	for delay := time.Millisecond; delay < 2*time.Second; delay *= 2 {
		err = unix.Rmdir(dir)
		if err == nil || err == unix.ENOENT {
			return nil
		}
		if err != unix.EBUSY {
			break
		}
		time.Sleep(delay)
	}
	return fmt.Errorf("remove cgroup %s: %w", dir, err)
}

func writeFile(dir, name, val string) error {
	p := filepath.Join(dir, name)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	_, err = f.WriteString(val)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %q to %s: %w", val, p, err)
	}
	return nil
}

// Pids lists the processes in the container's cgroup, from the first
// hierarchy that has it.
func (m *Manager) Pids() ([]int, error) {
	for _, dir := range m.Dirs {
		b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		if err != nil {
			continue
		}
		var pids []int
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				pids = append(pids, n)
			}
		}
		return pids, nil
	}
	return nil, errors.New("no cgroup directory to read processes from")
}
