package rootfs

import (
	"errors"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestMountErr(t *testing.T) {
	b, err := os.ReadFile(mountMaxFile)
	if err != nil {
		t.Skip(err)
	}
	full := "the mount table is full (fs.mount-max " + strings.TrimSpace(string(b)) + "): "
	for _, tc := range []struct {
		err  error
		want string
	}{
		{unix.ENOSPC, "mount tmpfs: " + full + "no space left on device"},
		{&os.PathError{Op: "x", Path: "/p", Err: unix.ENOSPC}, "mount tmpfs: " + full + "x /p: no space left on device"},
		{unix.EINVAL, "mount tmpfs: invalid argument"},
		{unix.EPERM, "mount tmpfs: operation not permitted"},
	} {
		got := mountErr("mount tmpfs", tc.err)
		if got.Error() != tc.want {
			t.Errorf("mountErr(%v) = %q, want %q", tc.err, got, tc.want)
		}
		if !errors.Is(got, tc.err) {
			t.Errorf("mountErr(%v) no longer wraps it", tc.err)
		}
		var te *TableFullError
		if errors.As(got, &te) != errors.Is(tc.err, unix.ENOSPC) {
			t.Errorf("mountErr(%v): TableFullError %v, want it only for ENOSPC", tc.err, te)
		}
	}
}
