// Package devicefilter implements the cgroup v2 device controller: OCI
// device cgroup rules are compiled into a BPF_PROG_TYPE_CGROUP_DEVICE
// program that is attached to the container's cgroup directory.
//
// # Semantics
//
// The rules are evaluated like the cgroup v1 device controller, where the
// last matching rule wins and anything no rule matches is denied. A rule
// matches a device when its type matches ("a" or "" match any type, "c" char
// devices, "b" block devices) and its major and minor numbers match (nil or
// a negative number, usually -1, is a wildcard).
//
// Access is decided per access bit (m = mknod, r = read, w = write): for
// every bit the kernel asks for, the last rule that matches the device and
// names that bit decides whether the bit is granted, and the request is
// allowed only when every requested bit is. So after "allow a *:* rwm" and
// "deny c 1:3 w", /dev/null may be opened for reading but neither for
// writing nor for reading and writing; after "allow c 1:3 r" and "allow c
// 1:3 w" it may be opened for reading and writing (the v1 controller merges
// the two exceptions the same way). A request that names no access bit
// (the kernel asks for one e.g. for access(2) with X_OK) is allowed when the
// last rule matching the device, whatever its access, is an allow rule.
package devicefilter

import (
	"fmt"
	"math"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Values of struct bpf_cgroup_dev_ctx.access_type, see
// include/uapi/linux/bpf.h: access_type = access<<16 | type.
const (
	devBlock = 1 // BPF_DEVCG_DEV_BLOCK
	devChar  = 2 // BPF_DEVCG_DEV_CHAR

	accMknod = 1 // BPF_DEVCG_ACC_MKNOD
	accRead  = 2 // BPF_DEVCG_ACC_READ
	accWrite = 4 // BPF_DEVCG_ACC_WRITE
	accAll   = accMknod | accRead | accWrite

	// accNone stands in for the access bits of a request that names none,
	// so that such a request is decided by the last rule matching the
	// device. It lies above the 16 bits the kernel's access field has.
	accNone = 1 << 16
)

// Offsets in struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }.
const (
	ctxAccessType = 0
	ctxMajor      = 4
	ctxMinor      = 8
)

// Registers of the generated program. R1 holds the context on entry, R0
// the result on exit.
const (
	regResult  = 0
	regCtx     = 1
	regType    = 2 // device type
	regPending = 3 // access bits not decided yet
	regMajor   = 4
	regMinor   = 5
)

const (
	labelAllow = "allow"
	labelDeny  = "deny"
)

// wildcard is the value of a major or minor number that matches any.
const wildcard = -1

// rule is a validated LinuxDeviceCgroup.
type rule struct {
	allow  bool
	typ    int   // 0 (any), devBlock or devChar
	major  int64 // wildcard (-1) or 0..MaxUint32
	minor  int64 // wildcard (-1) or 0..MaxUint32
	access int32 // non-empty subset of accAll
}

// matchesAll reports whether r matches every request.
func (r rule) matchesAll() bool {
	return r.typ == 0 && r.major == wildcard && r.minor == wildcard && r.access == accAll
}

func parseRule(d specs.LinuxDeviceCgroup) (rule, error) {
	r := rule{allow: d.Allow, major: wildcard, minor: wildcard}
	switch d.Type {
	case "", "a":
	case "c":
		r.typ = devChar
	case "b":
		r.typ = devBlock
	default:
		return rule{}, fmt.Errorf("invalid device type %q", d.Type)
	}
	for _, n := range []struct {
		what string
		in   *int64
		out  *int64
	}{{"major", d.Major, &r.major}, {"minor", d.Minor, &r.minor}} {
		if n.in == nil || *n.in < 0 {
			continue
		}
		if *n.in > math.MaxUint32 {
			return rule{}, fmt.Errorf("invalid device %s number %d", n.what, *n.in)
		}
		*n.out = *n.in
	}
	if d.Access == "" {
		r.access = accAll
	}
	for _, c := range d.Access {
		switch c {
		case 'm':
			r.access |= accMknod
		case 'r':
			r.access |= accRead
		case 'w':
			r.access |= accWrite
		default:
			return rule{}, fmt.Errorf("invalid device access %q", d.Access)
		}
	}
	return r, nil
}

// Program compiles OCI device cgroup rules into a cgroup-device eBPF
// program, which returns 1 to allow an access and 0 to deny it. See the
// package documentation for how the rules are evaluated; when no rule
// matches, access is denied.
//
// The rules are checked from the last to the first. A register holds the
// requested access bits that are not decided yet: a matching allow rule
// clears its bits and allows the access once none are left, a matching deny
// rule denies it if it names any bit still pending. Rules before the last
// one matching everything ("a *:* rwm") are never reached and left out, as
// are deny rules before the first allow rule, which decide nothing the
// default would not.
func Program(rules []specs.LinuxDeviceCgroup) (Insns, error) {
	parsed := make([]rule, 0, len(rules))
	for i, d := range rules {
		r, err := parseRule(d)
		if err != nil {
			return nil, fmt.Errorf("device rule %d: %w", i, err)
		}
		parsed = append(parsed, r)
	}
	for i := len(parsed) - 1; i >= 0; i-- {
		if parsed[i].matchesAll() {
			parsed = parsed[i:]
			break
		}
	}
	// Deny rules before the first allow rule are reached only when no
	// allow rule has granted anything, so denying is the default then.
	for len(parsed) > 0 && !parsed[0].allow {
		parsed = parsed[1:]
	}

	switch {
	case len(parsed) == 0:
		return Insns{movImm(regResult, 0), exit()}, nil
	case len(parsed) == 1 && parsed[0].matchesAll():
		return Insns{movImm(regResult, 1), exit()}, nil
	}

	var needType, needMajor, needMinor, needAllow bool
	for _, r := range parsed {
		needType = needType || r.typ != 0
		needMajor = needMajor || r.major != wildcard
		needMinor = needMinor || r.minor != wildcard
		needAllow = needAllow || r.allow
	}

	// Prologue: unpack struct bpf_cgroup_dev_ctx.
	insns := Insns{
		loadWord(regPending, regCtx, ctxAccessType),
	}
	if needType {
		insns = append(insns,
			mov32Reg(regType, regPending),
			alu32Imm(aluAnd, regType, 0xffff),
		)
	}
	if needMajor {
		insns = append(insns, loadWord(regMajor, regCtx, ctxMajor))
	}
	if needMinor {
		insns = append(insns, loadWord(regMinor, regCtx, ctxMinor))
	}
	insns = append(insns,
		alu32Imm(aluRsh, regPending, 16),
		jumpImm(jmpNE, regPending, 0, "rules"),
		alu32Imm(aluMov, regPending, accNone),
	)
	// The jump target "rules" is the first instruction after the prologue.
	labelNext := "rules"

	for i := len(parsed) - 1; i >= 0; i-- {
		r := parsed[i]
		var block Insns
		next := fmt.Sprintf("rule%d", i-1)
		if i == 0 {
			next = labelDeny
		}
		if r.typ != 0 {
			block = append(block, jumpImm(jmpNE, regType, int32(r.typ), next))
		}
		if r.major != wildcard {
			block = append(block, jumpIfNotEqual(regMajor, r.major, next))
		}
		if r.minor != wildcard {
			block = append(block, jumpIfNotEqual(regMinor, r.minor, next))
		}
		mask := r.access | accNone
		if r.allow {
			block = append(block,
				alu32Imm(aluAnd, regPending, ^mask),
				jumpImm(jmpEQ, regPending, 0, labelAllow),
			)
		} else {
			block = append(block, jumpImm(jmpSet, regPending, mask, labelDeny))
		}
		block[0].sym = labelNext
		labelNext = next
		insns = append(insns, block...)
	}

	insns = append(insns,
		movImm(regResult, 0).at(labelDeny),
		exit(),
	)
	if needAllow {
		insns = append(insns,
			movImm(regResult, 1).at(labelAllow),
			exit(),
		)
	}
	// Jump offsets are 16 bits wide; a jump to "allow" from the start of a
	// longer program would not reach.
	if len(insns) > math.MaxInt16 {
		return nil, fmt.Errorf("too many device rules (%d): the program would have %d instructions", len(rules), len(insns))
	}
	if err := insns.resolve(); err != nil {
		return nil, err
	}
	return insns, nil
}

// jumpIfNotEqual compares the 32-bit device number in reg with n.
func jumpIfNotEqual(reg uint8, n int64, label string) insn {
	if n > math.MaxInt32 {
		// The 64-bit comparison would sign-extend the immediate;
		// compare the lower halves instead (Linux 5.1+). No real
		// device has such a number anyway.
		return jump32Imm(jmpNE, reg, int32(uint32(n)), label)
	}
	return jumpImm(jmpNE, reg, int32(n), label)
}
