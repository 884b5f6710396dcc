package devicefilter

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"unsafe"

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

	prog, err := load(insns)
	if err != nil {
		return fmt.Errorf("load device filter: %w", err)
	}
	// The attachment holds its own reference to the program.
	defer unix.Close(prog)

	old, err := attached(dirFD, true)
	if err != nil {
		return fmt.Errorf("attach device filter to %s: %w", dirPath, err)
	}
	defer closeAll(old)

	if len(old) == 1 {
		err := attach(dirFD, prog, old[0])
		if err == nil {
			return nil
		}
		// Kernel without BPF_F_REPLACE, or the old program went away
		// meanwhile: attach next to it instead.
	}
	if err := attach(dirFD, prog, -1); err != nil {
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

// attached returns descriptors of the cgroup-device programs attached to
// the cgroup dirFD, only those named programName if ours is set. Programs
// that go away while they are looked at are skipped.
func attached(dirFD int, ours bool) ([]int, error) {
	ids, err := query(dirFD)
	if err != nil {
		return nil, err
	}
	var progs []int
	for _, id := range ids {
		fd, err := progByID(id)
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			closeAll(progs)
			return nil, fmt.Errorf("program %d: %w", id, err)
		}
		if ours {
			name, err := progName(fd)
			if err != nil {
				unix.Close(fd)
				closeAll(progs)
				return nil, fmt.Errorf("program %d: %w", id, err)
			}
			if name != programName {
				unix.Close(fd)
				continue
			}
		}
		progs = append(progs, fd)
	}
	return progs, nil
}

func detach(dirFD int, progs []int) error {
	var errs []error
	for _, prog := range progs {
		attr := progAttachAttr{targetFD: uint32(dirFD), attachBPFFD: uint32(prog), attachType: unix.BPF_CGROUP_DEVICE}
		_, err := bpf(unix.BPF_PROG_DETACH, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
		// ENOENT: detached meanwhile.
		if err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("detach program: %w", err))
		}
	}
	return errors.Join(errs...)
}

func closeAll(progs []int) {
	for _, p := range progs {
		unix.Close(p)
	}
}

// The bpf(2) calls, with the leading fields of union bpf_attr each uses
// (include/uapi/linux/bpf.h); the kernel takes a shorter attr as one with
// the rest zero.

func bpf(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	r, _, e := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

// BPF_PROG_LOAD
type progLoadAttr struct {
	progType    uint32
	insnCnt     uint32
	insns       uint64
	license     uint64
	logLevel    uint32
	logSize     uint32
	logBuf      uint64
	kernVersion uint32
	progFlags   uint32
	progName    [16]byte
}

// load loads the program and returns its descriptor (close-on-exec, as
// every bpf descriptor). A program the verifier refuses is loaded again
// with its log, for the error to say why.
func load(insns Insns) (int, error) {
	code := insns.Marshal()
	license := []byte("Apache\x00")
	attr := progLoadAttr{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(len(insns)),
		insns:    uint64(uintptr(unsafe.Pointer(&code[0]))),
		license:  uint64(uintptr(unsafe.Pointer(&license[0]))),
	}
	copy(attr.progName[:], programName)
	fd, err := progLoad(&attr)
	if err != nil && (errors.Is(err, unix.EACCES) || errors.Is(err, unix.EINVAL)) {
		log := make([]byte, 64<<10)
		attr.logLevel, attr.logSize = 1, uint32(len(log))
		attr.logBuf = uint64(uintptr(unsafe.Pointer(&log[0])))
		if fd, err2 := progLoad(&attr); err2 == nil {
			return fd, nil
		}
		if msg := strings.TrimSpace(unix.ByteSliceToString(log)); msg != "" {
			err = fmt.Errorf("%w: verifier: %s", err, msg)
		}
		runtime.KeepAlive(log)
	}
	runtime.KeepAlive(code)
	runtime.KeepAlive(license)
	return fd, err
}

// progLoad is BPF_PROG_LOAD, again when a signal interrupted the verifier
// (EAGAIN): the Go runtime signals its threads (SIGURG, to preempt them),
// and a verifier slow enough (an emulated machine) is hit.
func progLoad(attr *progLoadAttr) (int, error) {
	for {
		fd, err := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(attr), unsafe.Sizeof(*attr))
		if err != unix.EAGAIN {
			return fd, err
		}
	}
}

// BPF_PROG_ATTACH, BPF_PROG_DETACH
type progAttachAttr struct {
	targetFD     uint32
	attachBPFFD  uint32
	attachType   uint32
	attachFlags  uint32
	replaceBPFFD uint32
}

// attach attaches prog to the cgroup dirFD with BPF_F_ALLOW_MULTI, in
// place of the program replace unless replace is -1.
func attach(dirFD, prog, replace int) error {
	attr := progAttachAttr{
		targetFD:    uint32(dirFD),
		attachBPFFD: uint32(prog),
		attachType:  unix.BPF_CGROUP_DEVICE,
		attachFlags: unix.BPF_F_ALLOW_MULTI,
	}
	if replace >= 0 {
		attr.attachFlags |= unix.BPF_F_REPLACE
		attr.replaceBPFFD = uint32(replace)
	}
	_, err := bpf(unix.BPF_PROG_ATTACH, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	return err
}

// BPF_PROG_QUERY
type progQueryAttr struct {
	targetFD    uint32
	attachType  uint32
	queryFlags  uint32
	attachFlags uint32
	progIDs     uint64
	progCnt     uint32
	_           uint32
}

// query returns the ids of the cgroup-device programs attached to the
// cgroup dirFD itself.
func query(dirFD int) ([]uint32, error) {
	ids := make([]uint32, 16)
	for {
		attr := progQueryAttr{
			targetFD:   uint32(dirFD),
			attachType: unix.BPF_CGROUP_DEVICE,
			progIDs:    uint64(uintptr(unsafe.Pointer(&ids[0]))),
			progCnt:    uint32(len(ids)),
		}
		_, err := bpf(unix.BPF_PROG_QUERY, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
		runtime.KeepAlive(ids)
		if errors.Is(err, unix.ENOSPC) && int(attr.progCnt) > len(ids) {
			// More than room for: the kernel says how many.
			ids = make([]uint32, attr.progCnt)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("query programs: %w", err)
		}
		return ids[:attr.progCnt], nil
	}
}

// BPF_PROG_GET_FD_BY_ID
type getByIDAttr struct {
	id        uint32
	nextID    uint32
	openFlags uint32
}

func progByID(id uint32) (int, error) {
	attr := getByIDAttr{id: id}
	return bpf(unix.BPF_PROG_GET_FD_BY_ID, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
}

// BPF_OBJ_GET_INFO_BY_FD
type infoAttr struct {
	fd      uint32
	infoLen uint32
	info    uint64
}

// progName returns the name of the program fd: struct bpf_prog_info has
// it at byte 64, after type, id, tag, two lengths, two pointers, the load
// time, the creator's uid, a count and a pointer.
func progName(fd int) (string, error) {
	var info [80]byte
	attr := infoAttr{fd: uint32(fd), infoLen: uint32(len(info)), info: uint64(uintptr(unsafe.Pointer(&info[0])))}
	_, err := bpf(unix.BPF_OBJ_GET_INFO_BY_FD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(&info)
	if err != nil {
		return "", fmt.Errorf("program info: %w", err)
	}
	return unix.ByteSliceToString(info[64:]), nil
}
