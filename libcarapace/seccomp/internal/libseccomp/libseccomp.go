//go:build libseccomp && cgo

// Package libseccomp builds the filter runc builds for a linux.seccomp
// profile, with the system's libseccomp (Debian's libseccomp-dev), for the
// differential test of Carapace's compiler (libseccomp_diff_test.go). It is
// a test helper: the build tag keeps it, and libseccomp, out of every build
// but the test's (go test -tags libseccomp).
//
// What it models is runc 1.5.3's libcontainer/seccomp: InitSeccomp and
// matchCall (seccomp_linux.go) put the profile into libseccomp; the -ENOSYS
// stub runc prepends (patchbpf) is not libseccomp's, and the test models it
// apart (see runcStub there).
package libseccomp

/*
#cgo LDFLAGS: -lseccomp
#include <stdlib.h>
#include <errno.h>
#include <seccomp.h>

static int add_rule(scmp_filter_ctx ctx, uint32_t act, int nr, unsigned int n,
		const unsigned int *idx, const int *op, const uint64_t *a, const uint64_t *b) {
	struct scmp_arg_cmp cmp[6];
	for (unsigned int i = 0; i < n && i < 6; i++) {
		cmp[i].arg = idx[i];
		cmp[i].op = op[i];
		cmp[i].datum_a = a[i];
		cmp[i].datum_b = b[i];
	}
	return seccomp_rule_add_array(ctx, act, nr, n, n ? cmp : NULL);
}
*/
import "C"

import (
	"fmt"
	"io"
	"os"
	"strings"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Version is libseccomp's version.
func Version() string {
	v := C.seccomp_version()
	return fmt.Sprintf("%d.%d.%d", v.major, v.minor, v.micro)
}

// action is libseccomp's value for a spec action (runc's getAction): errno
// goes in the low 16 bits of ERRNO and TRACE, EPERM when unset.
func action(act specs.LinuxSeccompAction, errnoRet *uint) (uint32, error) {
	e := uint32(unix.EPERM)
	if errnoRet != nil {
		e = uint32(*errnoRet) & 0xffff
	}
	switch act {
	case specs.ActKill, specs.ActKillThread:
		return C.SCMP_ACT_KILL_THREAD, nil
	case specs.ActKillProcess:
		return C.SCMP_ACT_KILL_PROCESS, nil
	case specs.ActTrap:
		return C.SCMP_ACT_TRAP, nil
	case specs.ActErrno:
		return 0x00050000 | e, nil
	case specs.ActTrace:
		return 0x7ff00000 | e, nil
	case specs.ActLog:
		return C.SCMP_ACT_LOG, nil
	case specs.ActAllow:
		return C.SCMP_ACT_ALLOW, nil
	case specs.ActNotify:
		return C.SCMP_ACT_NOTIFY, nil
	}
	return 0, fmt.Errorf("action %q: unknown", act)
}

var ops = map[specs.LinuxSeccompOperator]C.int{
	specs.OpNotEqual:     C.SCMP_CMP_NE,
	specs.OpLessThan:     C.SCMP_CMP_LT,
	specs.OpLessEqual:    C.SCMP_CMP_LE,
	specs.OpEqualTo:      C.SCMP_CMP_EQ,
	specs.OpGreaterEqual: C.SCMP_CMP_GE,
	specs.OpGreaterThan:  C.SCMP_CMP_GT,
	specs.OpMaskedEqual:  C.SCMP_CMP_MASKED_EQ,
}

// archToken is libseccomp's token for a spec architecture (SCMP_ARCH_X86_64
// → "x86_64"), 0 when libseccomp does not know it.
func archToken(a specs.Arch) uint32 {
	name := C.CString(strings.ToLower(strings.TrimPrefix(string(a), "SCMP_ARCH_")))
	defer C.free(unsafe.Pointer(name))
	return uint32(C.seccomp_arch_resolve_name(name))
}

// Resolve is libseccomp's number for a syscall on arch (x32 numbers carry
// __X32_SYSCALL_BIT); ok is false for a name libseccomp does not know, and
// a negative number is a syscall the arch does not have.
func Resolve(arch specs.Arch, name string) (nr int32, ok bool) {
	tok := archToken(arch)
	if tok == 0 {
		return 0, false
	}
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	r := int32(C.seccomp_syscall_resolve_name_arch(C.uint32_t(tok), cname))
	return r, r != C.__NR_SCMP_ERROR
}

// Known reports whether libseccomp knows a syscall name (on any
// architecture: it has pseudo numbers for the others' syscalls).
func Known(name string) bool {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	return C.seccomp_syscall_resolve_name(cname) != C.__NR_SCMP_ERROR
}

// Export builds sc's filter as runc's InitSeccomp does, without the -ENOSYS
// stub, and returns libseccomp's program (seccomp_export_bpf). An error is
// what would make runc fail to start the container.
func Export(sc *specs.LinuxSeccomp) ([]unix.SockFilter, error) {
	def, err := action(sc.DefaultAction, sc.DefaultErrnoRet)
	if err != nil {
		return nil, err
	}
	ctx := C.seccomp_init(C.uint32_t(def))
	if ctx == nil {
		return nil, fmt.Errorf("seccomp_init failed")
	}
	defer C.seccomp_release(ctx)
	for _, a := range sc.Architectures {
		tok := archToken(a)
		if tok == 0 {
			return nil, fmt.Errorf("architecture %q: unknown to libseccomp", a)
		}
		if C.seccomp_arch_exist(ctx, C.uint32_t(tok)) == 0 {
			continue
		}
		if r := C.seccomp_arch_add(ctx, C.uint32_t(tok)); r != 0 {
			return nil, fmt.Errorf("seccomp_arch_add %s: %w", a, unix.Errno(-r))
		}
	}
	// runc: the binary tree once the profile (one entry per name) has more
	// than 32 syscalls; no_new_privs is the runtime's business, not the
	// filter's.
	names := 0
	for _, s := range sc.Syscalls {
		names += len(s.Names)
	}
	if names > 32 {
		C.seccomp_attr_set(ctx, C.SCMP_FLTATR_CTL_OPTIMIZE, 2)
	}
	if r := C.seccomp_attr_set(ctx, C.SCMP_FLTATR_CTL_NNP, 0); r != 0 {
		return nil, fmt.Errorf("SCMP_FLTATR_CTL_NNP: %w", unix.Errno(-r))
	}
	for i, s := range sc.Syscalls {
		act, err := action(s.Action, s.ErrnoRet)
		if err != nil {
			return nil, err
		}
		if act == def {
			continue
		}
		for _, name := range s.Names {
			if err := addRule(ctx, act, name, s.Args); err != nil {
				return nil, fmt.Errorf("syscalls[%d] %s: %w", i, name, err)
			}
		}
	}
	return export(ctx)
}

// addRule is runc's matchCall for one name: conditions on distinct
// arguments make one rule; two on the same argument make one rule each.
func addRule(ctx C.scmp_filter_ctx, act uint32, name string, args []specs.LinuxSeccompArg) error {
	cname := C.CString(name)
	nr := C.seccomp_syscall_resolve_name(cname)
	C.free(unsafe.Pointer(cname))
	if nr == C.__NR_SCMP_ERROR {
		return nil // runc: unknown syscalls are ignored
	}
	sets := [][]specs.LinuxSeccompArg{args}
	seen := map[uint]bool{}
	for _, a := range args {
		if seen[a.Index] {
			sets = sets[:0]
			for _, a := range args {
				sets = append(sets, []specs.LinuxSeccompArg{a})
			}
			break
		}
		seen[a.Index] = true
	}
	for _, set := range sets {
		n := len(set)
		idx := make([]C.uint, n+1)
		op := make([]C.int, n+1)
		va := make([]C.uint64_t, n+1)
		vb := make([]C.uint64_t, n+1)
		for i, a := range set {
			o, ok := ops[a.Op]
			if !ok {
				return fmt.Errorf("operator %q: unknown", a.Op)
			}
			idx[i], op[i], va[i], vb[i] = C.uint(a.Index), o, C.uint64_t(a.Value), C.uint64_t(a.ValueTwo)
		}
		if r := C.add_rule(ctx, C.uint32_t(act), nr, C.uint(n), &idx[0], &op[0], &va[0], &vb[0]); r != 0 {
			return fmt.Errorf("seccomp_rule_add_array: %w", unix.Errno(-r))
		}
	}
	return nil
}

func export(ctx C.scmp_filter_ctx) ([]unix.SockFilter, error) {
	fd, err := unix.MemfdCreate("libseccomp-bpf", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "libseccomp-bpf")
	defer f.Close()
	if r := C.seccomp_export_bpf(ctx, C.int(fd)); r != 0 {
		return nil, fmt.Errorf("seccomp_export_bpf: %w", unix.Errno(-r))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	const size = int(unsafe.Sizeof(unix.SockFilter{}))
	if len(b)%size != 0 {
		return nil, fmt.Errorf("seccomp_export_bpf: %d bytes, not whole instructions", len(b))
	}
	prog := make([]unix.SockFilter, len(b)/size)
	if len(prog) > 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&prog[0])), len(b)), b)
	}
	return prog, nil
}
