package devicefilter

import (
	"errors"
	"fmt"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// programName is the name the kernel knows our programs by (at most 15
// characters); Attach replaces only programs of this name.
const programName = "carapace_dev"

// Attach compiles rules (see Program), loads the program and attaches it to
// the cgroup v2 directory dirPath with BPF_F_ALLOW_MULTI. A program this
// package attached to dirPath before is replaced, atomically where the
// kernel supports BPF_F_REPLACE (Linux 5.6); otherwise the new program is
// attached before the old one is detached, so that in between both apply.
// Device programs attached by others are left alone; with BPF_F_ALLOW_MULTI
// every attached program (and those of the ancestors) must allow an access.
func Attach(dirPath string, rules []specs.LinuxDeviceCgroup) error {
	insns, err := Program(rules)
	if err != nil {
		return fmt.Errorf("device filter: %w", err)
	}
	dirFD, err := openDir(dirPath)
	if err != nil {
		return err
	}
	defer unix.Close(dirFD)

	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.CGroupDevice,
		Name:         programName,
		License:      "Apache",
		Instructions: insns,
	})
	if err != nil {
		return fmt.Errorf("load device filter: %w", err)
	}
	// The attachment holds its own reference to the program.
	defer prog.Close()

	old, err := attached(dirFD, true)
	if err != nil {
		return fmt.Errorf("attach device filter to %s: %w", dirPath, err)
	}
	defer closeAll(old)

	if len(old) == 1 {
		err := link.RawAttachProgram(link.RawAttachProgramOptions{
			Target:  dirFD,
			Program: prog,
			Attach:  ebpf.AttachCGroupDevice,
			Anchor:  link.ReplaceProgram(old[0]),
			Flags:   unix.BPF_F_ALLOW_MULTI,
		})
		if err == nil {
			return nil
		}
		// Kernel without BPF_F_REPLACE, or the old program went away
		// meanwhile: attach next to it instead.
	}
	err = link.RawAttachProgram(link.RawAttachProgramOptions{
		Target:  dirFD,
		Program: prog,
		Attach:  ebpf.AttachCGroupDevice,
		Flags:   unix.BPF_F_ALLOW_MULTI,
	})
	if err != nil {
		return fmt.Errorf("attach device filter to %s: %w", dirPath, err)
	}
	if err := detach(dirFD, old); err != nil {
		return fmt.Errorf("detach old device filter from %s: %w", dirPath, err)
	}
	return nil
}

// Detach detaches every cgroup-device program attached to the cgroup v2
// directory dirPath itself (not those inherited from its ancestors), ours
// or not. Removing a cgroup detaches its programs anyway.
func Detach(dirPath string) error {
	dirFD, err := openDir(dirPath)
	if err != nil {
		return err
	}
	defer unix.Close(dirFD)
	progs, err := attached(dirFD, false)
	if err != nil {
		return fmt.Errorf("detach device filters from %s: %w", dirPath, err)
	}
	defer closeAll(progs)
	if err := detach(dirFD, progs); err != nil {
		return fmt.Errorf("detach device filters from %s: %w", dirPath, err)
	}
	return nil
}

func openDir(dirPath string) (int, error) {
	fd, err := unix.Open(dirPath, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("device filter: open cgroup %s: %w", dirPath, err)
	}
	return fd, nil
}

// attached returns the cgroup-device programs attached to the cgroup
// dirFD, only those named programName if ours is set. Programs that go away
// while they are looked at are skipped.
func attached(dirFD int, ours bool) ([]*ebpf.Program, error) {
	res, err := link.QueryPrograms(link.QueryOptions{
		Target: dirFD,
		Attach: ebpf.AttachCGroupDevice,
	})
	if err != nil {
		return nil, err
	}
	var progs []*ebpf.Program
	for _, ap := range res.Programs {
		prog, err := ebpf.NewProgramFromID(ap.ID)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			closeAll(progs)
			return nil, fmt.Errorf("program %d: %w", ap.ID, err)
		}
		if ours {
			info, err := prog.Info()
			if err != nil {
				prog.Close()
				closeAll(progs)
				return nil, fmt.Errorf("program %d: %w", ap.ID, err)
			}
			if info.Name != programName {
				prog.Close()
				continue
			}
		}
		progs = append(progs, prog)
	}
	return progs, nil
}

func detach(dirFD int, progs []*ebpf.Program) error {
	var errs []error
	for _, prog := range progs {
		err := link.RawDetachProgram(link.RawDetachProgramOptions{
			Target:  dirFD,
			Program: prog,
			Attach:  ebpf.AttachCGroupDevice,
		})
		// ENOENT: detached meanwhile.
		if err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func closeAll(progs []*ebpf.Program) {
	for _, p := range progs {
		p.Close()
	}
}
