// Package seccomp compiles linux.seccomp into a classic BPF program and
// loads it with seccomp(2), without libseccomp: tables of syscall numbers
// are generated from golang.org/x/sys (mksyscalls.go), and the compiler
// (compile.go) and assembler (bpf.go) are here.
//
// Semantics follow runc with libseccomp, which docker and podman profiles
// are written for; where they differ, the comment says so.
package seccomp

import (
	"encoding/json"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Error is a problem with the profile, naming the field of linux.seccomp
// it is about.
type Error struct {
	Field  string // e.g. linux.seccomp.syscalls[3].action
	Reason string
}

func (e *Error) Error() string { return e.Field + ": " + e.Reason }

func fieldErr(field, format string, args ...any) error {
	return &Error{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Program is a compiled profile, ready to load. It travels from the runtime
// to the container's init or exec helper as JSON.
type Program struct {
	Insns []unix.SockFilter
	// Flags for seccomp(2), from linux.seccomp.flags.
	Flags uint
	// Notify: the profile uses SCMP_ACT_NOTIFY, so the filter is loaded
	// with a listener whose descriptor goes to linux.seccomp.listenerPath.
	Notify bool
}

type programJSON struct {
	Code   []byte `json:"code"` // the instructions, 8 bytes each, in host order
	Flags  uint   `json:"flags,omitempty"`
	Notify bool   `json:"notify,omitempty"`
}

const insnSize = int(unsafe.Sizeof(unix.SockFilter{}))

// MarshalJSON encodes the instructions as one base64 string: a few
// hundred of them as JSON objects would be ten times the size.
func (p *Program) MarshalJSON() ([]byte, error) {
	code := make([]byte, 0, len(p.Insns)*insnSize)
	if len(p.Insns) > 0 {
		code = append(code, unsafe.Slice((*byte)(unsafe.Pointer(&p.Insns[0])), len(p.Insns)*insnSize)...)
	}
	return json.Marshal(programJSON{Code: code, Flags: p.Flags, Notify: p.Notify})
}

// UnmarshalJSON is MarshalJSON's inverse.
func (p *Program) UnmarshalJSON(b []byte) error {
	var j programJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if len(j.Code)%insnSize != 0 {
		return fmt.Errorf("seccomp program: %d bytes is not a whole number of instructions", len(j.Code))
	}
	p.Insns = make([]unix.SockFilter, len(j.Code)/insnSize)
	if len(p.Insns) > 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&p.Insns[0])), len(j.Code)), j.Code)
	}
	p.Flags, p.Notify = j.Flags, j.Notify
	return nil
}

// Load installs the filter on the calling thread (and, with
// SECCOMP_FILTER_FLAG_TSYNC, on every thread of the process). Only the
// calling thread's filter passes to the program it execs, so a caller
// without TSYNC must exec from this same thread (runtime.LockOSThread).
// Without no_new_privs the thread needs CAP_SYS_ADMIN in its user
// namespace. With a listener (Notify), it returns the listener's
// descriptor (close-on-exec), else -1.
func (p *Program) Load() (int, error) {
	if len(p.Insns) == 0 {
		return -1, fmt.Errorf("linux.seccomp: empty filter")
	}
	flags := p.Flags
	if p.Notify {
		flags |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
		if flags&unix.SECCOMP_FILTER_FLAG_TSYNC != 0 {
			// The kernel refuses TSYNC with a listener unless a thread
			// that cannot sync is reported as ESRCH instead of its tid
			// (which would be indistinguishable from the listener fd).
			flags |= unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
		}
	} else {
		// Meaningful only with a listener; the kernel refuses it alone.
		flags &^= unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
	}
	prog := unix.SockFprog{Len: uint16(len(p.Insns)), Filter: &p.Insns[0]}
	r, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flags), uintptr(unsafe.Pointer(&prog)))
	runtime.KeepAlive(p)
	if e != 0 {
		return -1, fmt.Errorf("linux.seccomp: load the filter: %w", e)
	}
	if p.Notify {
		return int(r), nil
	}
	if r != 0 {
		// TSYNC: r is a thread that could not take the filter.
		return -1, fmt.Errorf("linux.seccomp: SECCOMP_FILTER_FLAG_TSYNC: thread %d cannot take the filter", r)
	}
	return -1, nil
}
