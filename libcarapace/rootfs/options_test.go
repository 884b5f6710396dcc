package rootfs

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseOptions(t *testing.T) {
	const (
		rdonly = uintptr(unix.MS_RDONLY)
		nosuid = uintptr(unix.MS_NOSUID)
		nodev  = uintptr(unix.MS_NODEV)
		noexec = uintptr(unix.MS_NOEXEC)
	)
	tests := []struct {
		name string
		in   []string
		want Options
	}{
		{"nil", nil, Options{}},
		{"defaults", []string{"defaults"}, Options{}},
		{"ro", []string{"ro"}, Options{Flags: rdonly}},
		{"rw", []string{"rw"}, Options{Cleared: rdonly}},
		{"ro then rw", []string{"ro", "rw"}, Options{Cleared: rdonly}},
		{"rw then ro", []string{"rw", "ro"}, Options{Flags: rdonly}},
		{"nosuid nodev noexec", []string{"nosuid", "nodev", "noexec"}, Options{Flags: nosuid | nodev | noexec}},
		{"suid dev exec", []string{"suid", "dev", "exec"}, Options{Cleared: nosuid | nodev | noexec}},
		{"nosuid then suid", []string{"nosuid", "suid"}, Options{Cleared: nosuid}},
		{"strictatime", []string{"strictatime"}, Options{Flags: unix.MS_STRICTATIME}},
		{"relatime", []string{"relatime"}, Options{Flags: unix.MS_RELATIME}},
		{"norelatime", []string{"norelatime"}, Options{Cleared: unix.MS_RELATIME}},
		{"noatime", []string{"noatime"}, Options{Flags: unix.MS_NOATIME}},
		{"atime", []string{"atime"}, Options{Cleared: unix.MS_NOATIME}},
		{"nodiratime", []string{"nodiratime"}, Options{Flags: unix.MS_NODIRATIME}},
		{"sync dirsync", []string{"sync", "dirsync"}, Options{Flags: unix.MS_SYNCHRONOUS | unix.MS_DIRSYNC}},
		{"async", []string{"async"}, Options{Cleared: unix.MS_SYNCHRONOUS}},
		{"nosymfollow", []string{"nosymfollow"}, Options{Flags: unix.MS_NOSYMFOLLOW}},
		{"lazytime iversion", []string{"lazytime", "iversion"}, Options{Flags: unix.MS_LAZYTIME | unix.MS_I_VERSION}},
		{"remount", []string{"remount", "ro"}, Options{Flags: unix.MS_REMOUNT | rdonly}},
		{"bind", []string{"bind"}, Options{Bind: true}},
		{"rbind", []string{"rbind"}, Options{Bind: true, Recursive: true}},
		{"private", []string{"private"}, Options{Propagation: unix.MS_PRIVATE}},
		{"rprivate", []string{"rprivate"}, Options{Propagation: unix.MS_PRIVATE | unix.MS_REC}},
		{"shared", []string{"shared"}, Options{Propagation: unix.MS_SHARED}},
		{"rshared", []string{"rshared"}, Options{Propagation: unix.MS_SHARED | unix.MS_REC}},
		{"slave", []string{"slave"}, Options{Propagation: unix.MS_SLAVE}},
		{"rslave", []string{"rslave"}, Options{Propagation: unix.MS_SLAVE | unix.MS_REC}},
		{"unbindable", []string{"unbindable"}, Options{Propagation: unix.MS_UNBINDABLE}},
		{"runbindable", []string{"runbindable"}, Options{Propagation: unix.MS_UNBINDABLE | unix.MS_REC}},
		{"last propagation wins", []string{"rshared", "private"}, Options{Propagation: unix.MS_PRIVATE}},
		{"rro", []string{"rro"}, Options{RecSet: unix.MOUNT_ATTR_RDONLY}},
		{"rrw", []string{"rrw"}, Options{RecClr: unix.MOUNT_ATTR_RDONLY}},
		{"rro then rrw", []string{"rro", "rrw"}, Options{RecClr: unix.MOUNT_ATTR_RDONLY}},
		{"rnosuid rnodev rnoexec", []string{"rnosuid", "rnodev", "rnoexec"},
			Options{RecSet: unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC}},
		{"rsuid rdev rexec", []string{"rsuid", "rdev", "rexec"},
			Options{RecClr: unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC}},
		{"rnodiratime rnosymfollow", []string{"rnodiratime", "rnosymfollow"},
			Options{RecSet: unix.MOUNT_ATTR_NODIRATIME | unix.MOUNT_ATTR_NOSYMFOLLOW}},
		{"rdiratime rsymfollow", []string{"rdiratime", "rsymfollow"},
			Options{RecClr: unix.MOUNT_ATTR_NODIRATIME | unix.MOUNT_ATTR_NOSYMFOLLOW}},
		{"rnoatime", []string{"rnoatime"}, Options{RecAtime: unix.MOUNT_ATTR_NOATIME, RecAtimeSet: true}},
		{"rstrictatime", []string{"rstrictatime"}, Options{RecAtime: unix.MOUNT_ATTR_STRICTATIME, RecAtimeSet: true}},
		{"rrelatime", []string{"rrelatime"}, Options{RecAtime: unix.MOUNT_ATTR_RELATIME, RecAtimeSet: true}},
		{"rnorelatime", []string{"rnorelatime"}, Options{RecAtime: unix.MOUNT_ATTR_STRICTATIME, RecAtimeSet: true}},
		{"ratime", []string{"ratime"}, Options{RecAtime: unix.MOUNT_ATTR_RELATIME, RecAtimeSet: true}},
		{"last recursive atime wins", []string{"rnoatime", "rstrictatime"}, Options{RecAtime: unix.MOUNT_ATTR_STRICTATIME, RecAtimeSet: true}},
		{"recursive and plain independent", []string{"rro", "rw"}, Options{Cleared: rdonly, RecSet: unix.MOUNT_ATTR_RDONLY}},
		{"tmpcopyup idmap ridmap dropped", []string{"tmpcopyup", "idmap", "ridmap"}, Options{}},
		{"unknown into data in order", []string{"mode=755", "nosuid", "size=65536k", "uid=0"},
			Options{Flags: nosuid, Data: []string{"mode=755", "size=65536k", "uid=0"}}},
		{"case sensitive", []string{"RO", "Bind"}, Options{Data: []string{"RO", "Bind"}}},
		{"default /dev/pts", []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"},
			Options{Flags: nosuid | noexec, Data: []string{"newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
		{"full bind", []string{"rbind", "ro", "nosuid", "nodev", "rprivate", "rro"},
			Options{Flags: rdonly | nosuid | nodev, Propagation: unix.MS_PRIVATE | unix.MS_REC, Bind: true, Recursive: true, RecSet: unix.MOUNT_ATTR_RDONLY}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseOptions(tc.in)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseOptions(%q) =\n  %+v\nwant\n  %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestDataString(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"ro"}, ""},
		{[]string{"mode=755"}, "mode=755"},
		{[]string{"nosuid", "mode=1777", "noexec", "size=65536k"}, "mode=1777,size=65536k"},
		{[]string{"lowerdir=/a:/b", "upperdir=/u", "workdir=/w"}, "lowerdir=/a:/b,upperdir=/u,workdir=/w"},
	}
	for _, tc := range tests {
		if got := ParseOptions(tc.in).DataString(); got != tc.want {
			t.Errorf("ParseOptions(%q).DataString() = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// specMountOptions is the Linux mount option table of runtime-spec 1.3
// config.md (MUST, SHOULD and MAY rows): none of them is filesystem data.
var specMountOptions = []string{
	"async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "iversion", "lazytime",
	"loud", "mand", "noatime", "nodev", "nodiratime", "noexec", "noiversion", "nolazytime", "nomand",
	"norelatime", "nostrictatime", "nosuid", "nosymfollow", "private", "ratime", "rbind", "rdev",
	"rdiratime", "relatime", "remount", "rexec", "rnoatime", "rnodiratime", "rnoexec", "rnorelatime",
	"rnostrictatime", "rnosuid", "rnosymfollow", "ro", "rprivate", "rrelatime", "rro", "rrw", "rshared",
	"rslave", "rstrictatime", "rsuid", "rsymfollow", "runbindable", "rw", "shared", "silent", "slave",
	"strictatime", "suid", "symfollow", "sync", "tmpcopyup", "unbindable", "idmap", "ridmap",
}

func TestParseOptionsSpecTable(t *testing.T) {
	for _, o := range specMountOptions {
		if o == "rnostrictatime" {
			continue // TestParseOptionsRnostrictatime
		}
		if got := ParseOptions([]string{o}); len(got.Data) != 0 {
			t.Errorf("spec option %q went to the filesystem data: %+v", o, got)
		}
	}
}

func TestParseOptionsRnostrictatime(t *testing.T) {
	got := ParseOptions([]string{"rnostrictatime"})
	if len(got.Data) != 0 || !got.RecAtimeSet {
		t.Errorf(`ParseOptions("rnostrictatime") = %+v, want a recursive atime setting and no data`, got)
	}
}

func TestAttrs(t *testing.T) {
	tests := []struct {
		name     string
		in       []string
		set, clr uint64
	}{
		{"nothing", nil, 0, 0},
		{"data only", []string{"mode=755", "size=1k"}, 0, 0},
		{"bind only keeps source flags", []string{"rbind"}, 0, 0},
		{"ro", []string{"ro"}, unix.MOUNT_ATTR_RDONLY, 0},
		{"rw", []string{"rw"}, 0, unix.MOUNT_ATTR_RDONLY},
		{"ro rw", []string{"ro", "rw"}, 0, unix.MOUNT_ATTR_RDONLY},
		{"nosuid nodev noexec", []string{"nosuid", "nodev", "noexec"},
			unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC, 0},
		{"suid dev exec", []string{"suid", "dev", "exec"},
			0, unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC},
		{"mixed", []string{"bind", "ro", "suid", "nodev"},
			unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NODEV, unix.MOUNT_ATTR_NOSUID},
		{"nodiratime", []string{"nodiratime"}, unix.MOUNT_ATTR_NODIRATIME, 0},
		{"diratime", []string{"diratime"}, 0, unix.MOUNT_ATTR_NODIRATIME},
		{"nosymfollow", []string{"nosymfollow"}, unix.MOUNT_ATTR_NOSYMFOLLOW, 0},
		{"symfollow", []string{"symfollow"}, 0, unix.MOUNT_ATTR_NOSYMFOLLOW},
		{"flags without an attr", []string{"sync", "dirsync", "lazytime", "silent", "remount"}, 0, 0},
		{"recursive ones are not per-mount", []string{"rro", "rnosuid", "rrw", "rnoatime"}, 0, 0},
		{"propagation is not an attr", []string{"rshared"}, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set, clr := ParseOptions(tc.in).attrs()
			if set != tc.set || clr != tc.clr {
				t.Errorf("attrs(%q) = set %#x clr %#x, want set %#x clr %#x", tc.in, set, clr, tc.set, tc.clr)
			}
			if set&clr != 0 {
				t.Errorf("attrs(%q): bits %#x both set and cleared", tc.in, set&clr)
			}
		})
	}
}

// detachedBind clones a temp directory as a detached mount (root only).
func detachedBind(t *testing.T) int {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, t.TempDir(), unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		t.Skipf("open_tree: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

func mountFlags(t *testing.T, fd int) int64 {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		t.Fatal(err)
	}
	return st.Flags
}

// TestSetAttrsBind applies options to a detached bind mount and reads the
// result back with statfs.
func TestSetAttrsBind(t *testing.T) {
	tests := []struct {
		opts []string
		want int64 // ST_* flags that must be set
		not  int64 // ST_* flags that must be clear
	}{
		{[]string{"bind", "ro"}, unix.ST_RDONLY, 0},
		{[]string{"bind", "ro", "nosuid", "nodev", "noexec"}, unix.ST_RDONLY | unix.ST_NOSUID | unix.ST_NODEV | unix.ST_NOEXEC, 0},
		{[]string{"bind", "ro", "noatime"}, unix.ST_RDONLY | unix.ST_NOATIME, 0},
		{[]string{"bind", "ro", "rw"}, 0, unix.ST_RDONLY},
		{[]string{"rbind", "rro"}, unix.ST_RDONLY, 0},
		{[]string{"rbind", "rnoatime"}, unix.ST_NOATIME, 0},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.opts, ","), func(t *testing.T) {
			fd := detachedBind(t)
			if err := setAttrs(fd, ParseOptions(tc.opts)); err != nil {
				t.Fatalf("setAttrs: %v", err)
			}
			f := mountFlags(t, fd)
			if f&tc.want != tc.want || f&tc.not != 0 {
				t.Errorf("statfs flags %#x: want %#x set and %#x clear", f, tc.want, tc.not)
			}
		})
	}
}

func TestSetAttrsBindAtime(t *testing.T) {
	t.Run("bind,noatime", func(t *testing.T) {
		fd := detachedBind(t)
		if err := setAttrs(fd, ParseOptions([]string{"bind", "noatime"})); err != nil {
			t.Fatalf("setAttrs: %v", err)
		}
		if f := mountFlags(t, fd); f&unix.ST_NOATIME == 0 {
			t.Errorf(`bind mount with "noatime": statfs flags %#x lack ST_NOATIME`, f)
		}
	})
	t.Run("bind,rw,relatime over noatime", func(t *testing.T) {
		fd := detachedBind(t)
		if err := setAttrs(fd, ParseOptions([]string{"bind", "ro", "noatime"})); err != nil {
			t.Fatalf("setAttrs: %v", err)
		}
		if err := setAttrs(fd, ParseOptions([]string{"bind", "rw", "relatime"})); err != nil {
			t.Fatalf("setAttrs: %v", err)
		}
		if f := mountFlags(t, fd); f&unix.ST_NOATIME != 0 || f&unix.ST_RELATIME == 0 || f&unix.ST_RDONLY != 0 {
			t.Errorf(`"rw,relatime" over "ro,noatime": statfs flags %#x, want ST_RELATIME without ST_NOATIME and ST_RDONLY`, f)
		}
	})
}
