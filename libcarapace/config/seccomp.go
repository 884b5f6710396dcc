package config

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var seccompActions = map[specs.LinuxSeccompAction]bool{
	specs.ActKill: true, specs.ActKillProcess: true, specs.ActKillThread: true, specs.ActTrap: true,
	specs.ActErrno: true, specs.ActTrace: true, specs.ActAllow: true, specs.ActLog: true, specs.ActNotify: true,
}

var seccompOps = map[specs.LinuxSeccompOperator]bool{
	specs.OpNotEqual: true, specs.OpLessThan: true, specs.OpLessEqual: true, specs.OpEqualTo: true,
	specs.OpGreaterEqual: true, specs.OpGreaterThan: true, specs.OpMaskedEqual: true,
}

var seccompArchs = map[specs.Arch]bool{
	specs.ArchX86: true, specs.ArchX86_64: true, specs.ArchX32: true, specs.ArchARM: true,
	specs.ArchAARCH64: true, specs.ArchMIPS: true, specs.ArchMIPS64: true, specs.ArchMIPS64N32: true,
	specs.ArchMIPSEL: true, specs.ArchMIPSEL64: true, specs.ArchMIPSEL64N32: true, specs.ArchPPC: true,
	specs.ArchPPC64: true, specs.ArchPPC64LE: true, specs.ArchS390: true, specs.ArchS390X: true,
	specs.ArchPARISC: true, specs.ArchPARISC64: true, specs.ArchRISCV64: true, specs.ArchLOONGARCH64: true,
	specs.ArchM68K: true, specs.ArchSH: true, specs.ArchSHEB: true,
}

// checkSeccomp validates linux.seccomp's names, so a profile with a typo
// is refused rather than half understood.
func checkSeccomp(b *Bundle) error {
	sc := b.Spec.Linux.Seccomp
	if sc == nil {
		return nil
	}
	if !seccompActions[sc.DefaultAction] {
		return fieldErr("linux.seccomp.defaultAction", "%q: unknown action", sc.DefaultAction)
	}
	for i, a := range sc.Architectures {
		if !seccompArchs[a] {
			return fieldErr(fmt.Sprintf("linux.seccomp.architectures[%d]", i), "%q: unknown architecture", a)
		}
	}
	for i, s := range sc.Syscalls {
		f := fmt.Sprintf("linux.seccomp.syscalls[%d]", i)
		if len(s.Names) == 0 {
			return fieldErr(f+".names", "empty")
		}
		if !seccompActions[s.Action] {
			return fieldErr(f+".action", "%q: unknown action", s.Action)
		}
		for j, a := range s.Args {
			if !seccompOps[a.Op] {
				return fieldErr(fmt.Sprintf("%s.args[%d].op", f, j), "%q: unknown operator", a.Op)
			}
		}
	}
	return nil
}
