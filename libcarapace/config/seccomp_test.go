package config_test

import (
	"errors"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/carapace-oci/carapace/libcarapace/config"
)

// TestValidateSeccomp: linux.seccomp errors come out as config.json field
// errors (the compiler's own cases are in libcarapace/seccomp).
func TestValidateSeccomp(t *testing.T) {
	b := newBundle(t)
	b.Spec.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{
		{Names: []string{"read"}, Action: specs.ActAllow},
		{Names: []string{"mkdir"}, Action: "SCMP_ACT_NOPE"},
	}}
	err := config.Validate(b)
	var fe *config.FieldError
	if !errors.As(err, &fe) || fe.Field != "linux.seccomp.syscalls[1].action" ||
		err.Error() != `config.json: linux.seccomp.syscalls[1].action: "SCMP_ACT_NOPE": unknown action` {
		t.Errorf("got %v", err)
	}
	b.Spec.Linux.Seccomp.Syscalls[1].Action = specs.ActErrno
	if err := config.Validate(b); err != nil {
		t.Errorf("a valid profile: %v", err)
	}
}
