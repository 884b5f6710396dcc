package seccomp

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// A small assembler for classic BPF: code is emitted with symbolic labels
// and laid out afterwards, because the offsets of conditional jumps are
// 8-bit (at most 255 instructions forward) and a filter with a few hundred
// syscalls easily jumps further.

type label int

// opLabel marks a label's place in the code; it is not an instruction.
const opLabel = 0xffff

const (
	opLdAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	opAndK  = unix.BPF_ALU | unix.BPF_AND | unix.BPF_K
	opJa    = unix.BPF_JMP | unix.BPF_JA
	opJeq   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	opJgt   = unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K
	opJge   = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	opRet   = unix.BPF_RET | unix.BPF_K
)

type insn struct {
	code   uint16
	k      uint32
	jt, jf label // conditional jumps: both targets; ja: jt
	at     label // opLabel: the label placed here
}

func isCond(code uint16) bool {
	return code&0x07 == unix.BPF_JMP && code&0xf0 != unix.BPF_JA
}

type asm struct {
	code   []insn
	labels int
}

func (a *asm) newLabel() label { a.labels++; return label(a.labels - 1) }

func (a *asm) place(l label) { a.code = append(a.code, insn{code: opLabel, at: l}) }

func (a *asm) ld(off uint32) { a.code = append(a.code, insn{code: opLdAbs, k: off}) }

func (a *asm) and(k uint32) { a.code = append(a.code, insn{code: opAndK, k: k}) }

func (a *asm) ret(k uint32) { a.code = append(a.code, insn{code: opRet, k: k}) }

func (a *asm) ja(l label) { a.code = append(a.code, insn{code: opJa, jt: l}) }

// jmp is a conditional jump to jt when A <op> k holds, else to jf.
func (a *asm) jmp(code uint16, k uint32, jt, jf label) {
	a.code = append(a.code, insn{code: code, k: k, jt: jt, jf: jf})
}

// jmpOrNext jumps to target when A <op> k is taken (onTrue) or not taken
// (!onTrue), and goes on with the next instruction otherwise.
func (a *asm) jmpOrNext(code uint16, k uint32, target label, onTrue bool) {
	next := a.newLabel()
	if onTrue {
		a.jmp(code, k, target, next)
	} else {
		a.jmp(code, k, next, target)
	}
	a.place(next)
}

// assemble lays the code out. A conditional jump whose target is more than
// 255 instructions ahead goes through a trampoline placed right after it:
// the jump's offset becomes 0 or 1, and the trampoline is a `ja` (32-bit
// offset) to the target, or a copy of the target when that is a `ret`.
// Trampolines push later code further away, so layout repeats until no
// jump needs a new one; offsets only grow, so this ends.
func (a *asm) assemble() ([]unix.SockFilter, error) {
	n := len(a.code)
	// far[i][0]: the jt of instruction i needs a trampoline; [1]: its jf.
	far := make([][2]bool, n)
	pos := make([]int, n)
	labelPos := make([]int, a.labels)
	labelInsn := make([]int, a.labels) // the first instruction after the label
	for i := range labelPos {
		labelPos[i], labelInsn[i] = -1, -1
	}
	for i := n - 1; i >= 0; i-- {
		if a.code[i].code != opLabel {
			continue
		}
		j := i
		for j < n && a.code[j].code == opLabel {
			j++
		}
		labelInsn[a.code[i].at] = j
	}
	size := 0
	for {
		p := 0
		for i, in := range a.code {
			pos[i] = p
			switch {
			case in.code == opLabel:
				labelPos[in.at] = p
			case isCond(in.code):
				p++
				if far[i][0] {
					p++
				}
				if far[i][1] {
					p++
				}
			default:
				p++
			}
		}
		size = p
		changed := false
		for i, in := range a.code {
			if !isCond(in.code) {
				continue
			}
			for side, l := range [2]label{in.jt, in.jf} {
				if far[i][side] {
					continue
				}
				if d := labelPos[l] - (pos[i] + 1); d > 255 {
					far[i][side] = true
					changed = true
				}
			}
		}
		if !changed {
			break
		}
	}
	if size > unix.BPF_MAXINSNS {
		return nil, fmt.Errorf("the filter has %d instructions, more than the kernel's limit of %d", size, unix.BPF_MAXINSNS)
	}

	out := make([]unix.SockFilter, 0, size)
	offset := func(from int, l label) (uint32, error) {
		d := labelPos[l] - (from + 1)
		if labelPos[l] < 0 || d < 0 {
			return 0, fmt.Errorf("internal error: jump from %d to label %d at %d", from, l, labelPos[l])
		}
		return uint32(d), nil
	}
	// trampoline emits the jump to l at the current end of out.
	trampoline := func(l label) error {
		if t := labelInsn[l]; t >= 0 && t < n && a.code[t].code == opRet {
			out = append(out, unix.SockFilter{Code: opRet, K: a.code[t].k})
			return nil
		}
		d, err := offset(len(out), l)
		out = append(out, unix.SockFilter{Code: opJa, K: d})
		return err
	}
	for i, in := range a.code {
		switch {
		case in.code == opLabel:
			continue
		case in.code == opJa:
			d, err := offset(pos[i], in.jt)
			if err != nil {
				return nil, err
			}
			out = append(out, unix.SockFilter{Code: opJa, K: d})
		case isCond(in.code):
			f := unix.SockFilter{Code: in.code, K: in.k}
			if far[i][0] {
				f.Jt = 0
			} else {
				d, err := offset(pos[i], in.jt)
				if err != nil {
					return nil, err
				}
				f.Jt = uint8(d)
			}
			if far[i][1] {
				if far[i][0] {
					f.Jf = 1
				}
			} else {
				d, err := offset(pos[i], in.jf)
				if err != nil {
					return nil, err
				}
				f.Jf = uint8(d)
			}
			out = append(out, f)
			if far[i][0] {
				if err := trampoline(in.jt); err != nil {
					return nil, err
				}
			}
			if far[i][1] {
				if err := trampoline(in.jf); err != nil {
					return nil, err
				}
			}
		default:
			out = append(out, unix.SockFilter{Code: in.code, K: in.k})
		}
	}
	if len(out) != size {
		return nil, fmt.Errorf("internal error: laid out %d instructions, emitted %d", size, len(out))
	}
	return out, nil
}
