package config

import (
	"errors"

	"github.com/carapace-oci/carapace/libcarapace/seccomp"
)

// checkSeccomp validates linux.seccomp with the compiler's own tables, so a
// profile with a typo is refused rather than half understood. Whether it
// compiles for this host (program size, conflicting rules) is checked by
// create, which compiles it.
func checkSeccomp(b *Bundle) error {
	err := seccomp.Validate(b.Spec.Linux.Seccomp)
	var se *seccomp.Error
	if errors.As(err, &se) {
		return fieldErr(se.Field, "%s", se.Reason)
	}
	return err
}
