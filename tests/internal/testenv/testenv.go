// Package testenv finds what the end-to-end suites run against.
package testenv

import (
	"fmt"
	"os"
	"path/filepath"
)

// RuntimeBinary returns the absolute path of the runtime under test:
// $CARAPACE_BINARY, or bin/carapace of the repository. skip is set, and
// err nil, when the default binary is simply not built; a named binary
// that is missing is an error.
func RuntimeBinary() (path, skip string, err error) {
	bin, explicit := os.LookupEnv("CARAPACE_BINARY")
	if !explicit || bin == "" {
		bin = filepath.Join("..", "..", "bin", "carapace")
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		return "", "", err
	}
	if _, err := os.Stat(abs); err != nil {
		if explicit {
			return "", "", fmt.Errorf("CARAPACE_BINARY=%s: %w", bin, err)
		}
		return abs, fmt.Sprintf("runtime binary %s not found: build it (make build) or set CARAPACE_BINARY", abs), nil
	}
	return abs, "", nil
}

// Prepare is the common start of a container suite: root, the runtime
// under test and a static busybox for the rootfs. skip says why the
// suite's tests should skip (err nil); err is a setup that cannot work.
func Prepare(suite string) (bin, skip string, err error) {
	if os.Geteuid() != 0 {
		return "", "the " + suite + " tests need root", nil
	}
	bin, skip, err = RuntimeBinary()
	if err != nil || skip != "" {
		return bin, skip, err
	}
	if err := CheckStatic("/bin/busybox"); err != nil {
		return bin, fmt.Sprintf("the container rootfs needs a static /bin/busybox (apt-get install busybox-static): %v", err), nil
	}
	return bin, "", nil
}
