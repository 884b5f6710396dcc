package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// mountLine returns the /proc/mounts line (fields) for a mount point.
func mountLine(out, mp string) []string {
	var found []string
	for _, l := range lines(out) {
		f := strings.Fields(l)
		if len(f) >= 4 && f[1] == mp {
			found = f // the last one is the top of the stack
		}
	}
	return found
}

func hasOpt(fields []string, opt string) bool {
	if len(fields) < 4 {
		return false
	}
	for _, o := range strings.Split(fields[3], ",") {
		if o == opt {
			return true
		}
	}
	return false
}

func TestRootReadonly(t *testing.T) {
	t.Parallel()
	for _, ro := range []bool{true, false} {
		name := map[bool]string{true: "readonly", false: "readwrite"}[ro]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			c.Spec.Root.Readonly = ro
			out := c.Sh(`touch /newfile 2>&1; echo "rc=$?"; grep -E '^[^ ]+ / ' /proc/mounts`)
			if ro {
				if !strings.Contains(out, "Read-only file system") || strings.Contains(out, "rc=0") {
					t.Errorf("writing / of a read-only root: %q, want a Read-only file system error", out)
				}
			} else if !strings.Contains(out, "rc=0") {
				t.Errorf("writing / of a read-write root failed: %q", out)
			}
			if _, err := os.Stat(filepath.Join(c.Rootfs, "newfile")); (err == nil) == ro {
				t.Errorf("rootfs/newfile on the host: stat err %v (readonly %v)", err, ro)
			}
		})
	}
}

func TestRootPath(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		path func(c *Container) string // moves the rootfs, returns root.path
	}{
		{"relative-default", func(c *Container) string { return "rootfs" }},
		{"relative-nested", func(c *Container) string {
			p := filepath.Join(c.Bundle, "images", "one", "rootfs")
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				c.t.Fatal(err)
			}
			if err := os.Rename(c.Rootfs, p); err != nil {
				c.t.Fatal(err)
			}
			return "images/one/rootfs"
		}},
		{"absolute-outside-bundle", func(c *Container) string {
			p := filepath.Join(c.Dir, "elsewhere-rootfs")
			if err := os.Rename(c.Rootfs, p); err != nil {
				c.t.Fatal(err)
			}
			return p
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			c.Spec.Root.Path = tc.path(c)
			if got := c.Sh("cat /e2e-rootfs-marker"); !strings.Contains(got, "inside the container rootfs") {
				t.Fatalf("marker = %q", got)
			}
		})
	}
}

func TestBindMounts(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	rw := filepath.Join(c.HostDir, "rw")
	ro := filepath.Join(c.HostDir, "ro")
	file := filepath.Join(c.HostDir, "file.txt")
	for _, d := range []string{rw, ro} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "hello"), []byte("hello from "+filepath.Base(d)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(file, []byte("single file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.addBind(rw, "/mnt/rw", false)
	c.addBind(ro, "/mnt/ro", true)
	c.addBind(file, "/etc/bound-file", true) // a destination that does not exist yet
	out := c.Sh(`cat /mnt/rw/hello /mnt/ro/hello /etc/bound-file
echo written > /mnt/rw/new && echo rw-write-ok
touch /mnt/ro/new 2>&1; echo "ro-rc=$?"
echo ---; cat /proc/mounts`)
	for _, want := range []string{"hello from rw", "hello from ro", "single file", "rw-write-ok", "Read-only file system"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "ro-rc=0") {
		t.Errorf("writing the read-only bind mount succeeded")
	}
	if got := readFileString(filepath.Join(rw, "new")); got != "written\n" {
		t.Errorf("host rw/new = %q, want the container's write", got)
	}
	if _, err := os.Stat(filepath.Join(ro, "new")); err == nil {
		t.Errorf("the read-only bind mount was written on the host")
	}
	_, mounts, _ := strings.Cut(out, "---")
	if f := mountLine(mounts, "/mnt/ro"); !hasOpt(f, "ro") {
		t.Errorf("/mnt/ro in /proc/mounts = %v, want option ro", f)
	}
	if f := mountLine(mounts, "/mnt/rw"); !hasOpt(f, "rw") {
		t.Errorf("/mnt/rw in /proc/mounts = %v, want option rw", f)
	}
}

func TestTmpfsMount(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.Spec.Mounts = append(c.Spec.Mounts, specs.Mount{
		Destination: "/mnt/scratch", Type: "tmpfs", Source: "tmpfs",
		Options: []string{"nosuid", "nodev", "noexec", "size=1m", "mode=0710"},
	})
	out := c.Sh(`stat -c %a /mnt/scratch; echo x > /mnt/scratch/f && echo write-ok; cat /proc/mounts`)
	ls := lines(out)
	if len(ls) == 0 || ls[0] != "710" {
		t.Errorf("mode of /mnt/scratch = %q, want 710", ls)
	}
	if !strings.Contains(out, "write-ok") {
		t.Errorf("cannot write the tmpfs on a read-only root:\n%s", out)
	}
	f := mountLine(out, "/mnt/scratch")
	if len(f) < 4 || f[2] != "tmpfs" {
		t.Fatalf("/mnt/scratch in /proc/mounts = %v, want a tmpfs", f)
	}
	for _, o := range []string{"nosuid", "nodev", "noexec", "size=1024k", "mode=710"} {
		if !hasOpt(f, o) {
			t.Errorf("/mnt/scratch options %s lack %s", f[3], o)
		}
	}
}

func TestDefaultMounts(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	out := c.Sh("cat /proc/mounts")
	for _, tc := range []struct {
		mp, typ string
		opts    []string
	}{
		{"/proc", "proc", nil},
		{"/dev", "tmpfs", []string{"nosuid", "mode=755"}},
		{"/dev/pts", "devpts", []string{"nosuid", "noexec"}},
		{"/dev/shm", "tmpfs", []string{"nosuid", "noexec", "nodev", "size=65536k"}},
		{"/dev/mqueue", "mqueue", []string{"nosuid", "noexec", "nodev"}},
		{"/sys", "sysfs", []string{"ro", "nosuid", "noexec", "nodev"}},
		{"/", "", []string{"ro"}},
	} {
		f := mountLine(out, tc.mp)
		if len(f) < 4 || (tc.typ != "" && f[2] != tc.typ) {
			t.Errorf("%s in /proc/mounts = %v, want type %s", tc.mp, f, tc.typ)
			continue
		}
		for _, o := range tc.opts {
			if !hasOpt(f, o) {
				t.Errorf("%s options %s lack %s", tc.mp, f[3], o)
			}
		}
	}
}

func TestMaskedPaths(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.writeRootfsFile("etc/secret", "SECRET-FILE\n", 0o644)
	c.writeRootfsFile("etc/secretdir/a", "SECRET-A\n", 0o644)
	c.writeRootfsFile("etc/secretdir/b", "SECRET-B\n", 0o644)
	c.Spec.Linux.MaskedPaths = append(c.Spec.Linux.MaskedPaths, "/etc/secret", "/etc/secretdir", "/does/not/exist")
	// Check every masked path that exists on this kernel (e.g. there is
	// no /proc/kcore here), plus the rootfs ones.
	var script strings.Builder
	checked := 0
	for _, p := range c.Spec.Linux.MaskedPaths {
		st, err := os.Stat(p)
		if strings.HasPrefix(p, "/etc/") {
			st, err = os.Stat(filepath.Join(c.Rootfs, p))
		}
		switch {
		case err != nil:
			continue
		case st.IsDir():
			script.WriteString(fmt.Sprintf("echo \"%s=[$(ls -A %s)]\"\n", p, p))
		default:
			script.WriteString(fmt.Sprintf("echo \"%s=[$(cat %s 2>&1 | wc -c)]\"\n", p, p))
			script.WriteString(fmt.Sprintf("cat %s >/dev/null 2>&1; echo \"%s-rc=$?\"\n", p, p))
		}
		checked++
	}
	if checked < 4 {
		t.Fatalf("only %d masked paths exist here", checked)
	}
	out := c.Sh(script.String())
	for _, l := range lines(out) {
		k, v, _ := strings.Cut(l, "=")
		ok := v == "[]" || v == "[0]" || (strings.HasSuffix(k, "-rc") && v == "0")
		if !ok {
			t.Errorf("masked path %s: got %s, want empty and readable", k, v)
		}
	}
	if got := readFileString(filepath.Join(c.Rootfs, "etc/secret")); got != "SECRET-FILE\n" {
		t.Errorf("the masked file in the rootfs changed: %q", got)
	}
}

func TestReadonlyPaths(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.Spec.Root.Readonly = false
	c.Spec.Hostname = "before"
	c.Spec.Linux.ReadonlyPaths = append(c.Spec.Linux.ReadonlyPaths, "/home")
	out := c.Sh(`
echo after > /proc/sys/kernel/hostname 2>&1; echo "sys-rc=$?"
echo "hostname=$(hostname)"
touch /home/e2e/x 2>&1; echo "home-rc=$?"
touch /tmp/x && echo tmp-ok
echo ---; cat /proc/mounts`)
	if strings.Contains(out, "sys-rc=0") || !strings.Contains(out, "hostname=before") {
		t.Errorf("/proc/sys is writable:\n%s", out)
	}
	if strings.Contains(out, "home-rc=0") || !strings.Contains(out, "Read-only file system") {
		t.Errorf("/home (readonlyPaths) is writable:\n%s", out)
	}
	if !strings.Contains(out, "tmp-ok") {
		t.Errorf("the rest of a read-write root is not writable:\n%s", out)
	}
	_, mounts, _ := strings.Cut(out, "---")
	for _, mp := range []string{"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/home"} {
		if _, err := os.Stat(mp); err != nil && mp != "/home" {
			continue // not in this kernel
		}
		if f := mountLine(mounts, mp); !hasOpt(f, "ro") {
			t.Errorf("%s in /proc/mounts = %v, want a read-only mount", mp, f)
		}
	}
}

func TestDefaultDevices(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	out := c.Sh(`
for d in null zero full random urandom tty; do stat -c "%n|%F|%t:%T|%a" /dev/$d; done
for l in ptmx fd stdin stdout stderr; do echo "/dev/$l->$(readlink /dev/$l)"; done
echo hi > /dev/null && echo null-write-ok
echo "zero-bytes=$(head -c 5 /dev/zero | wc -c)"
echo "urandom-bytes=$(head -c 7 /dev/urandom | wc -c)"
(echo x > /dev/full) 2>&1; echo "full-rc=$?"
test -c /dev/pts/ptmx && echo pts-ptmx-ok
`)
	for _, want := range []string{
		"/dev/null|character special file|1:3|666",
		"/dev/zero|character special file|1:5|666",
		"/dev/full|character special file|1:7|666",
		"/dev/random|character special file|1:8|666",
		"/dev/urandom|character special file|1:9|666",
		"/dev/tty|character special file|5:0|666",
		"/dev/ptmx->pts/ptmx",
		"/dev/fd->/proc/self/fd",
		"/dev/stdin->/proc/self/fd/0",
		"/dev/stdout->/proc/self/fd/1",
		"/dev/stderr->/proc/self/fd/2",
		"null-write-ok", "zero-bytes=5", "urandom-bytes=7", "No space left on device", "pts-ptmx-ok",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("devices: output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

func TestLinuxDevices(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.Spec.Linux.Devices = []specs.LinuxDevice{
		{Path: "/dev/e2e-null", Type: "c", Major: 1, Minor: 3, FileMode: ptr(os.FileMode(0o620)), UID: ptr(uint32(0)), GID: ptr(uint32(5))},
		{Path: "/dev/e2e-loop", Type: "b", Major: 7, Minor: 200, FileMode: ptr(os.FileMode(0o600)), UID: ptr(uint32(1000)), GID: ptr(uint32(1000))},
		{Path: "/dev/sub/e2e-zero", Type: "c", Major: 1, Minor: 5, FileMode: ptr(os.FileMode(0o666))},
	}
	c.Spec.Linux.Resources.Devices = append(c.Spec.Linux.Resources.Devices,
		specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(3)), Access: "rwm"},
		specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(5)), Access: "rwm"},
	)
	out := c.Sh(`
for d in /dev/e2e-null /dev/e2e-loop /dev/sub/e2e-zero; do stat -c "%n|%F|%t:%T|%a|%u:%g" $d; done
echo hi > /dev/e2e-null && echo e2e-null-write-ok
echo "e2e-zero-bytes=$(head -c 3 /dev/sub/e2e-zero | wc -c)"
head -c 1 /dev/e2e-loop > /dev/null 2>&1; echo "loop-read-rc=$?"
`)
	for _, want := range []string{
		"/dev/e2e-null|character special file|1:3|620|0:5",
		"/dev/e2e-loop|block special file|7:c8|600|1000:1000",
		"/dev/sub/e2e-zero|character special file|1:5|666|0:0",
		"e2e-null-write-ok", "e2e-zero-bytes=3",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("linux.devices: output lacks %q", want)
		}
	}
	// The device cgroup denies the block device (not allowed above).
	if strings.Contains(out, "loop-read-rc=0") {
		t.Errorf("reading /dev/e2e-loop succeeded, but the device cgroup does not allow it")
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

func TestSysctl(t *testing.T) {
	t.Parallel()
	c := newContainer(t)
	c.Spec.Linux.Sysctl = map[string]string{
		"net.ipv4.ip_forward":          "1",
		"kernel.shmmax":                "65536000",
		"kernel.domainname":            "e2e.example",
		"net.ipv4.ip_local_port_range": "20000\t30000",
	}
	hostFwd := readFileString("/proc/sys/net/ipv4/ip_forward")
	hostShm := readFileString("/proc/sys/kernel/shmmax")
	out := c.Sh(`for k in net/ipv4/ip_forward kernel/shmmax kernel/domainname net/ipv4/ip_local_port_range; do echo "$k=$(cat /proc/sys/$k)"; done`)
	for _, want := range []string{"net/ipv4/ip_forward=1", "kernel/shmmax=65536000", "kernel/domainname=e2e.example"} {
		if !strings.Contains(out, want) {
			t.Errorf("sysctl: output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(strings.Join(strings.Fields(out), " "), "port_range=20000 30000") {
		t.Errorf("sysctl ip_local_port_range not set:\n%s", out)
	}
	if readFileString("/proc/sys/net/ipv4/ip_forward") != hostFwd || readFileString("/proc/sys/kernel/shmmax") != hostShm {
		t.Errorf("the container's sysctls changed the host's")
	}
}
