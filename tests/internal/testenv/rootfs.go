package testenv

import (
	"crypto/rand"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Rootfs describes a busybox image for the suites' bundles.
type Rootfs struct {
	// Dirs are made 0755 (tmp, when listed, then 1777).
	Dirs []string
	// Files are written 0644, by path relative to the root.
	Files map[string]string
	// LinkTarget is what each applet's link in /bin points to ("busybox"
	// or "/bin/busybox").
	LinkTarget string
}

// Build makes dir the image: its directories, /bin/busybox copied from the
// host with a link per applet, and its files. applets lists busybox's
// applets (`busybox --list`); it is the caller's to run, because a suite
// that is a child subreaper must reap what it starts itself.
func (r Rootfs) Build(dir string, applets func() ([]byte, error)) error {
	for _, d := range r.Dirs {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
		if d == "tmp" {
			if err := os.Chmod(filepath.Join(dir, d), 0o1777); err != nil {
				return err
			}
		}
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "busybox"), bb, 0o755); err != nil {
		return err
	}
	out, err := applets()
	if err != nil {
		return fmt.Errorf("busybox --list: %w", err)
	}
	for _, applet := range strings.Fields(string(out)) {
		if applet == "busybox" {
			continue
		}
		if err := os.Symlink(r.LinkTarget, filepath.Join(dir, "bin", applet)); err != nil {
			return err
		}
	}
	for name, content := range r.Files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// CheckStatic refuses a dynamically linked binary: copied into a busybox
// rootfs, it could not run.
func CheckStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked", path)
		}
	}
	return nil
}

// RandHex is n random bytes in hex, for names tests make.
func RandHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
