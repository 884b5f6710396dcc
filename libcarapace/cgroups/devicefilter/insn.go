package devicefilter

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// The few eBPF instructions the device programs are made of, encoded here
// rather than with cilium/ebpf/asm: that package links the whole of
// cilium/ebpf (ELF and BTF readers, compressors, go/parser...), a sixth of
// the binary and some thirty package initialisers run by every start of
// the runtime and of each container's init. See
// Documentation/bpf/standardization/instruction-set.rst in Linux.
const (
	clsLdX   = 0x01
	clsALU   = 0x04 // 32-bit
	clsJmp   = 0x05 // 64-bit comparisons
	clsJmp32 = 0x06
	clsALU64 = 0x07

	sizeW   = 0x00
	modeMem = 0x60

	srcK = 0x00 // the immediate
	srcX = 0x08 // the source register

	aluAnd = 0x50
	aluRsh = 0x70
	aluMov = 0xb0

	jmpEQ   = 0x10
	jmpSet  = 0x40
	jmpNE   = 0x50
	jmpExit = 0x90
)

// insn is one instruction (struct bpf_insn), with the labels a program is
// written with: sym names the instruction, ref is the one a jump goes to,
// resolved into off by Insns.resolve.
type insn struct {
	op       uint8
	dst, src uint8
	off      int16
	imm      int32
	sym, ref string
}

// at names the instruction, as a jump target.
func (i insn) at(sym string) insn { i.sym = sym; return i }

func loadWord(dst, src uint8, off int16) insn {
	return insn{op: clsLdX | sizeW | modeMem, dst: dst, src: src, off: off}
}

func movImm(dst uint8, imm int32) insn { return insn{op: clsALU64 | aluMov | srcK, dst: dst, imm: imm} }

func mov32Reg(dst, src uint8) insn { return insn{op: clsALU | aluMov | srcX, dst: dst, src: src} }

func alu32Imm(op, dst uint8, imm int32) insn { return insn{op: clsALU | op | srcK, dst: dst, imm: imm} }

func jumpImm(op, dst uint8, imm int32, label string) insn {
	return insn{op: clsJmp | op | srcK, dst: dst, imm: imm, ref: label}
}

func jump32Imm(op, dst uint8, imm int32, label string) insn {
	return insn{op: clsJmp32 | op | srcK, dst: dst, imm: imm, ref: label}
}

func exit() insn { return insn{op: clsJmp | jmpExit} }

// Insns is a device program.
type Insns []insn

// resolve turns the labels of jumps into offsets: the kernel counts them
// from the instruction after the jump.
func (p Insns) resolve() error {
	at := make(map[string]int, len(p))
	for i, in := range p {
		if in.sym != "" {
			if _, dup := at[in.sym]; dup {
				return fmt.Errorf("device filter: label %q twice", in.sym)
			}
			at[in.sym] = i
		}
	}
	for i := range p {
		if p[i].ref == "" {
			continue
		}
		t, ok := at[p[i].ref]
		if !ok {
			return fmt.Errorf("device filter: jump to no label %q", p[i].ref)
		}
		off := t - (i + 1)
		if off < math.MinInt16 || off > math.MaxInt16 {
			return fmt.Errorf("device filter: jump of %d instructions", off)
		}
		p[i].off = int16(off)
	}
	return nil
}

// bigEndian: struct bpf_insn packs the two registers in one byte, the
// destination in the low nibble on little-endian hosts and in the high one
// on big-endian hosts; the other fields are in host order.
var bigEndian = binary.NativeEndian.Uint16([]byte{0, 1}) == 1

// Marshal encodes the program as the kernel reads it.
func (p Insns) Marshal() []byte {
	b := make([]byte, 0, 8*len(p))
	for _, in := range p {
		regs := in.dst&0xf | in.src<<4
		if bigEndian {
			regs = in.dst<<4 | in.src&0xf
		}
		b = append(b, in.op, regs)
		b = binary.NativeEndian.AppendUint16(b, uint16(in.off))
		b = binary.NativeEndian.AppendUint32(b, uint32(in.imm))
	}
	return b
}

func (p Insns) String() string {
	var sb strings.Builder
	for i, in := range p {
		if in.sym != "" {
			fmt.Fprintf(&sb, "%s:\n", in.sym)
		}
		fmt.Fprintf(&sb, "  %3d: op=%#02x dst=r%d src=r%d off=%d imm=%d\n", i, in.op, in.dst, in.src, in.off, in.imm)
	}
	return sb.String()
}
