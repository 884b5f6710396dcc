package seccomp

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// A classic BPF interpreter for the instructions seccomp filters may use,
// checking the program as the kernel's loader does (length, jumps inside
// the program, a return at the end, aligned loads inside seccomp_data).
// Written here rather than taken from golang.org/x/net/bpf: it judges both
// Carapace's programs and libseccomp's (libseccomp_diff_test.go), so it
// runs every opcode seccomp accepts, and a test dependency would be more
// code to trust than this.

type seccompData struct {
	nr   uint32
	arch uint32
	ip   uint64
	args [6]uint64
}

func (d seccompData) bytes() []byte {
	b := make([]byte, 64)
	binary.LittleEndian.PutUint32(b[0:], d.nr)
	binary.LittleEndian.PutUint32(b[4:], d.arch)
	binary.LittleEndian.PutUint64(b[8:], d.ip)
	for i, a := range d.args {
		binary.LittleEndian.PutUint64(b[16+8*i:], a)
	}
	return b
}

// checkProgram is the kernel's static check, for what the compiler emits.
func checkProgram(prog []unix.SockFilter) error {
	if len(prog) == 0 || len(prog) > unix.BPF_MAXINSNS {
		return fmt.Errorf("length %d", len(prog))
	}
	for pc, in := range prog {
		switch in.Code {
		case opLdAbs:
			if in.K%4 != 0 || in.K >= 64 {
				return fmt.Errorf("%d: load at %d", pc, in.K)
			}
		case opAndK, opRet:
		case opJa:
			if uint64(pc)+1+uint64(in.K) >= uint64(len(prog)) {
				return fmt.Errorf("%d: ja out of the program", pc)
			}
		case opJeq, opJgt, opJge:
			if pc+1+int(in.Jt) >= len(prog) || pc+1+int(in.Jf) >= len(prog) {
				return fmt.Errorf("%d: jump out of the program", pc)
			}
		default:
			return fmt.Errorf("%d: opcode %#x", pc, in.Code)
		}
	}
	if prog[len(prog)-1].Code != opRet {
		return fmt.Errorf("does not end with ret")
	}
	return nil
}

// checkKernel is the kernel's check of any seccomp program
// (bpf_check_classic, then seccomp_check_filter): the opcodes seccomp
// allows, jumps inside the program, loads inside seccomp_data, scratch
// memory in range, no division by a constant 0, a return at the end. It
// judges the programs libseccomp exports, which use more opcodes than
// Carapace's (checkProgram).
func checkKernel(prog []unix.SockFilter) error {
	if len(prog) == 0 || len(prog) > unix.BPF_MAXINSNS {
		return fmt.Errorf("length %d", len(prog))
	}
	for pc, in := range prog {
		switch in.Code {
		case opLdAbs:
			if in.K%4 != 0 || in.K >= 64 {
				return fmt.Errorf("%d: load at %d", pc, in.K)
			}
		case bpfLdMem, bpfLdxMem, bpfSt, bpfStx:
			if in.K >= bpfMemWords {
				return fmt.Errorf("%d: scratch memory %d", pc, in.K)
			}
		case bpfAluDivK, bpfAluModK:
			if in.K == 0 {
				return fmt.Errorf("%d: division by 0", pc)
			}
		case bpfAluLshK, bpfAluRshK:
			if in.K >= 32 {
				return fmt.Errorf("%d: shift by %d", pc, in.K)
			}
		case opJa:
			if uint64(pc)+1+uint64(in.K) >= uint64(len(prog)) {
				return fmt.Errorf("%d: ja out of the program", pc)
			}
		default:
			if _, ok := bpfAllowed[in.Code]; !ok {
				return fmt.Errorf("%d: opcode %#x not allowed in seccomp", pc, in.Code)
			}
			if isCond(in.Code) && (pc+1+int(in.Jt) >= len(prog) || pc+1+int(in.Jf) >= len(prog)) {
				return fmt.Errorf("%d: jump out of the program", pc)
			}
		}
	}
	if c := prog[len(prog)-1].Code; c != opRet && c != bpfRetA {
		return fmt.Errorf("does not end with ret")
	}
	return nil
}

const (
	bpfMemWords = 16 // BPF_MEMWORDS
	bpfLdLen    = unix.BPF_LD | unix.BPF_W | unix.BPF_LEN
	bpfLdxLen   = unix.BPF_LDX | unix.BPF_W | unix.BPF_LEN
	bpfLdImm    = unix.BPF_LD | unix.BPF_IMM
	bpfLdxImm   = unix.BPF_LDX | unix.BPF_IMM
	bpfLdMem    = unix.BPF_LD | unix.BPF_MEM
	bpfLdxMem   = unix.BPF_LDX | unix.BPF_MEM
	bpfSt       = unix.BPF_ST
	bpfStx      = unix.BPF_STX
	bpfTax      = unix.BPF_MISC | unix.BPF_TAX
	bpfTxa      = unix.BPF_MISC | unix.BPF_TXA
	bpfRetA     = unix.BPF_RET | unix.BPF_A
	bpfAluDivK  = unix.BPF_ALU | unix.BPF_DIV | unix.BPF_K
	bpfAluModK  = unix.BPF_ALU | unix.BPF_MOD | unix.BPF_K
	bpfAluLshK  = unix.BPF_ALU | unix.BPF_LSH | unix.BPF_K
	bpfAluRshK  = unix.BPF_ALU | unix.BPF_RSH | unix.BPF_K
)

// bpfAllowed are the opcodes seccomp_check_filter lets through (the loads
// it rewrites included).
var bpfAllowed = func() map[uint16]struct{} {
	m := map[uint16]struct{}{}
	for _, c := range []uint16{opLdAbs, bpfLdLen, bpfLdxLen, bpfLdImm, bpfLdxImm, bpfLdMem, bpfLdxMem,
		bpfSt, bpfStx, bpfTax, bpfTxa, opRet, bpfRetA, opJa} {
		m[c] = struct{}{}
	}
	for _, op := range []uint16{unix.BPF_ADD, unix.BPF_SUB, unix.BPF_MUL, unix.BPF_DIV, unix.BPF_AND,
		unix.BPF_OR, unix.BPF_XOR, unix.BPF_LSH, unix.BPF_RSH} {
		m[unix.BPF_ALU|op|unix.BPF_K] = struct{}{}
		m[unix.BPF_ALU|op|unix.BPF_X] = struct{}{}
	}
	m[unix.BPF_ALU|unix.BPF_NEG] = struct{}{}
	for _, op := range []uint16{unix.BPF_JEQ, unix.BPF_JGT, unix.BPF_JGE, unix.BPF_JSET} {
		m[unix.BPF_JMP|op|unix.BPF_K] = struct{}{}
		m[unix.BPF_JMP|op|unix.BPF_X] = struct{}{}
	}
	return m
}()

// runBPF returns the filter's verdict and how many instructions ran. It
// runs every instruction seccomp allows, with the classic BPF machine's
// semantics (32-bit unsigned A and X, 16 words of scratch memory that start
// at 0, a division by X = 0 returning 0 as the kernel's conversion does),
// so that it can judge libseccomp's programs as well as Carapace's.
func runBPF(prog []unix.SockFilter, d seccompData) (uint32, int, error) {
	data := d.bytes()
	var a, x uint32
	var mem [bpfMemWords]uint32
	steps := 0
	for pc := 0; pc < len(prog); {
		in := prog[pc]
		steps++
		pc++
		switch in.Code {
		case opLdAbs:
			if in.K%4 != 0 || in.K >= 64 {
				return 0, steps, fmt.Errorf("load at %d", in.K)
			}
			a = binary.LittleEndian.Uint32(data[in.K:])
		case bpfLdLen:
			a = 64
		case bpfLdxLen:
			x = 64
		case bpfLdImm:
			a = in.K
		case bpfLdxImm:
			x = in.K
		case bpfLdMem, bpfLdxMem, bpfSt, bpfStx:
			if in.K >= bpfMemWords {
				return 0, steps, fmt.Errorf("scratch memory %d", in.K)
			}
			switch in.Code {
			case bpfLdMem:
				a = mem[in.K]
			case bpfLdxMem:
				x = mem[in.K]
			case bpfSt:
				mem[in.K] = a
			case bpfStx:
				mem[in.K] = x
			}
		case bpfTax:
			x = a
		case bpfTxa:
			a = x
		case opJa:
			pc += int(in.K)
		case opRet:
			return in.K, steps, nil
		case bpfRetA:
			return a, steps, nil
		default:
			switch in.Code & 0x07 {
			case unix.BPF_ALU:
				v := in.K
				if in.Code&unix.BPF_X != 0 {
					v = x
				}
				switch in.Code & 0xf0 {
				case unix.BPF_ADD:
					a += v
				case unix.BPF_SUB:
					a -= v
				case unix.BPF_MUL:
					a *= v
				case unix.BPF_DIV:
					if v == 0 {
						return 0, steps, nil
					}
					a /= v
				case unix.BPF_MOD:
					if v == 0 {
						return 0, steps, nil
					}
					a %= v
				case unix.BPF_AND:
					a &= v
				case unix.BPF_OR:
					a |= v
				case unix.BPF_XOR:
					a ^= v
				case unix.BPF_LSH:
					a <<= v & 31
				case unix.BPF_RSH:
					a >>= v & 31
				case unix.BPF_NEG:
					a = -a
				default:
					return 0, steps, fmt.Errorf("opcode %#x at %d", in.Code, pc-1)
				}
			case unix.BPF_JMP:
				v := in.K
				if in.Code&unix.BPF_X != 0 {
					v = x
				}
				var taken bool
				switch in.Code & 0xf0 {
				case unix.BPF_JEQ:
					taken = a == v
				case unix.BPF_JGT:
					taken = a > v
				case unix.BPF_JGE:
					taken = a >= v
				case unix.BPF_JSET:
					taken = a&v != 0
				default:
					return 0, steps, fmt.Errorf("opcode %#x at %d", in.Code, pc-1)
				}
				if taken {
					pc += int(in.Jt)
				} else {
					pc += int(in.Jf)
				}
			default:
				return 0, steps, fmt.Errorf("opcode %#x at %d", in.Code, pc-1)
			}
		}
	}
	return 0, steps, fmt.Errorf("ran off the end")
}
