package seccomp

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// A classic BPF interpreter for the instructions seccomp filters may use,
// checking the program as the kernel's loader does (length, jumps inside
// the program, a return at the end, aligned loads inside seccomp_data).
// Written here rather than taken from golang.org/x/net/bpf: the compiler
// uses seven opcodes, and a test dependency would be more code to trust
// than this.

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

// runBPF returns the filter's verdict and how many instructions ran.
func runBPF(prog []unix.SockFilter, d seccompData) (uint32, int, error) {
	data := d.bytes()
	var a uint32
	steps := 0
	for pc := 0; pc < len(prog); {
		in := prog[pc]
		steps++
		pc++
		switch in.Code {
		case opLdAbs:
			a = binary.LittleEndian.Uint32(data[in.K:])
		case opAndK:
			a &= in.K
		case opJa:
			pc += int(in.K)
		case opJeq, opJgt, opJge:
			var taken bool
			switch in.Code {
			case opJeq:
				taken = a == in.K
			case opJgt:
				taken = a > in.K
			case opJge:
				taken = a >= in.K
			}
			if taken {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case opRet:
			return in.K, steps, nil
		default:
			return 0, steps, fmt.Errorf("opcode %#x at %d", in.Code, pc-1)
		}
	}
	return 0, steps, fmt.Errorf("ran off the end")
}
