package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func idm(c, h, n uint32) specs.LinuxIDMapping {
	return specs.LinuxIDMapping{ContainerID: c, HostID: h, Size: n}
}

// idmapSource makes a host directory holding a file owned by uid:gid.
func idmapSource(t *testing.T, c *Container, name string, uid, gid int) string {
	t.Helper()
	dir := filepath.Join(c.HostDir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "f")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(f, uid, gid); err != nil {
		t.Fatal(err)
	}
	return dir
}

func hostOwner(t *testing.T, p string) [2]uint32 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	return [2]uint32{st.Uid, st.Gid}
}

// TestIDMappedBindMount: mounts[].uidMappings/gidMappings idmap a bind
// mount (no user namespace): a file owned by 1000:1000 on the host is
// 2000:3000 in the container, and a file the container makes as 2000:3000
// is 1000:1000 on the host.
func TestIDMappedBindMount(t *testing.T) {
	requireCarapace(t)
	c := newContainer(t)
	src := idmapSource(t, c, "vol", 1000, 1000)
	c.Spec.Mounts = append(c.Spec.Mounts, specs.Mount{
		Destination: "/vol", Type: "bind", Source: src, Options: []string{"bind", "idmap"},
		UIDMappings: []specs.LinuxIDMapping{idm(1000, 2000, 1), idm(0, 0, 1)},
		GIDMappings: []specs.LinuxIDMapping{idm(1000, 3000, 1), idm(0, 0, 1)},
	})
	c.Spec.Process.Capabilities.Bounding = append(c.Spec.Process.Capabilities.Bounding, "CAP_CHOWN")
	c.Spec.Process.Capabilities.Effective = append(c.Spec.Process.Capabilities.Effective, "CAP_CHOWN")
	c.Spec.Process.Capabilities.Permitted = append(c.Spec.Process.Capabilities.Permitted, "CAP_CHOWN")
	out := c.Sh("stat -c %u:%g /vol/f; touch /vol/g && chown 2000:3000 /vol/g")
	if got := strings.TrimSpace(out); got != "2000:3000" {
		t.Errorf("a 1000:1000 host file is %s in the container, want 2000:3000", got)
	}
	if o := hostOwner(t, filepath.Join(src, "g")); o != [2]uint32{1000, 1000} {
		t.Errorf("a file made 2000:3000 in the container is %d:%d on the host, want 1000:1000", o[0], o[1])
	}
}

// TestIDMappedBindMountUserNS: in a container with a user namespace
// (0 -> 100000), "idmap" alone takes the container's maps: the host's
// root-owned files are the container root's, and what it writes is owned
// by the host's root, not by 100000 (Kubernetes hostUsers: false volumes).
func TestIDMappedBindMountUserNS(t *testing.T) {
	requireCarapace(t)
	c := newContainer(t)
	c.Spec.Linux.Namespaces = append(c.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	c.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{idm(0, 100000, 65536)}
	c.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{idm(0, 100000, 65536)}
	src := idmapSource(t, c, "vol", 0, 0)
	// The rootfs is the host root's: the mount point must exist.
	if err := os.Mkdir(filepath.Join(c.Rootfs, "vol"), 0o755); err != nil {
		t.Fatal(err)
	}
	c.Spec.Mounts = append(c.Spec.Mounts, specs.Mount{Destination: "/vol", Type: "bind", Source: src, Options: []string{"rbind", "idmap"}})
	out := c.Sh("stat -c %u:%g /vol/f; touch /vol/new")
	if got := strings.TrimSpace(out); got != "0:0" {
		t.Errorf("a 0:0 host file is %s in the container, want 0:0", got)
	}
	if o := hostOwner(t, filepath.Join(src, "new")); o != [2]uint32{0, 0} {
		t.Errorf("a file the container's root made is %d:%d on the host, want 0:0", o[0], o[1])
	}
}

// TestIDMappedRecursive: on an rbind, ridmap idmaps the mounts under the
// source too; idmap only the top one.
func TestIDMappedRecursive(t *testing.T) {
	requireCarapace(t)
	for _, opt := range []string{"ridmap", "idmap"} {
		t.Run(opt, func(t *testing.T) {
			c := newContainer(t)
			src := idmapSource(t, c, "vol", 1000, 1000)
			sub := idmapSource(t, c, "sub", 1000, 1000)
			mp := filepath.Join(src, "sub")
			if err := os.Mkdir(mp, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := unix.Mount(sub, mp, "", unix.MS_BIND, ""); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { unix.Unmount(mp, unix.MNT_DETACH) })
			c.Spec.Mounts = append(c.Spec.Mounts, specs.Mount{
				Destination: "/vol", Type: "bind", Source: src, Options: []string{"rbind", opt},
				UIDMappings: []specs.LinuxIDMapping{idm(1000, 2000, 1)},
				GIDMappings: []specs.LinuxIDMapping{idm(1000, 2000, 1)},
			})
			got := lines(c.Sh("stat -c %u /vol/f /vol/sub/f"))
			want := []string{"2000", "2000"}
			if opt == "idmap" {
				want[1] = "1000"
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("%s: owners of /vol/f and /vol/sub/f are %v, want %v", opt, got, want)
			}
		})
	}
}

// TestIDMappedBadInput: what cannot be idmapped is refused with an error
// naming the mount, and nothing is left behind.
func TestIDMappedBadInput(t *testing.T) {
	requireCarapace(t)
	maps := []specs.LinuxIDMapping{idm(0, 1000, 1)}
	for _, tc := range []struct {
		name string
		m    func(src string) specs.Mount
		want []string
	}{
		{"not a bind mount", func(string) specs.Mount {
			return specs.Mount{Destination: "/mnt", Type: "tmpfs", Source: "tmpfs", Options: []string{"idmap"}, UIDMappings: maps, GIDMappings: maps}
		}, []string{"mounts[7]", "only bind mounts can be idmapped"}},
		{"uid without gid maps", func(src string) specs.Mount {
			return specs.Mount{Destination: "/mnt", Type: "bind", Source: src, Options: []string{"bind", "idmap"}, UIDMappings: maps}
		}, []string{"mounts[7].gidMappings", "missing"}},
		{"idmap without maps or user namespace", func(src string) specs.Mount {
			return specs.Mount{Destination: "/mnt", Type: "bind", Source: src, Options: []string{"bind", "idmap"}}
		}, []string{"mounts[7].options", "user namespace"}},
		{"overlapping maps", func(src string) specs.Mount {
			return specs.Mount{Destination: "/mnt", Type: "bind", Source: src, Options: []string{"bind", "idmap"},
				UIDMappings: []specs.LinuxIDMapping{idm(0, 1000, 10), idm(5, 2000, 10)}, GIDMappings: maps}
		}, []string{"mounts[7].uidMappings[1]", "overlap"}},
		{"filesystem that cannot be idmapped", func(string) specs.Mount {
			return specs.Mount{Destination: "/mnt", Type: "bind", Source: "/sys/kernel", Options: []string{"bind", "idmap"}, UIDMappings: maps, GIDMappings: maps}
		}, []string{"mounts[7]", "/sys/kernel", "cannot be idmapped"}},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			c := newContainer(t)
			c.Spec.Mounts = append(c.Spec.Mounts, tc.m(c.HostDir))
			c.Spec.Process.Args = []string{"true"}
			r := c.Run()
			if !r.failed() {
				t.Fatalf("want a refusal: %s", r)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.Stderr, w) {
					t.Errorf("error does not name %q: %s", w, r.Stderr)
				}
			}
			c.checkNoLeftovers("after the refused create")
		})
	}
}

// TestIDMappedRootless: the kernel idmaps a mount only for a caller
// privileged over the filesystem's user namespace; a rootless create says
// so, naming the mount, instead of failing with EPERM from deep inside.
func TestIDMappedRootless(t *testing.T) {
	u := needUser(t, rootlessUser, true)
	rc := newRootless(t, u)
	src := idmapSource(t, rc.Container, "vol", int(u.uid), int(u.gid))
	os.Mkdir(filepath.Join(rc.Rootfs, "vol"), 0o755)
	rc.Spec.Mounts = append(rc.Spec.Mounts, specs.Mount{Destination: "/vol", Type: "bind", Source: src, Options: []string{"rbind", "idmap"}})
	rc.Spec.Process.Args = []string{"true"}
	r := rc.run()
	if !r.failed() || !strings.Contains(r.Stderr, "mounts[") || !strings.Contains(r.Stderr, "idmapped mounts need root on the host") {
		t.Fatalf("want a clear refusal naming the mount: %s", r)
	}
	rc.checkNoLeftovers("after the refused rootless create")
}

// TestFeaturesIDMap: features reports idmapped mounts (this kernel has
// mount_setattr).
func TestFeaturesIDMap(t *testing.T) {
	requireCarapace(t)
	if skipReason != "" {
		t.Skip(skipReason)
	}
	r := runCmd(cmdOpts{}, runtimeBin, "features")
	if !r.ok() {
		t.Fatalf("features: %s", r)
	}
	var f struct {
		Linux struct {
			MountExtensions struct {
				IDMap struct {
					Enabled *bool `json:"enabled"`
				} `json:"idmap"`
			} `json:"mountExtensions"`
		} `json:"linux"`
		MountOptions []string `json:"mountOptions"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &f); err != nil {
		t.Fatal(err)
	}
	if e := f.Linux.MountExtensions.IDMap.Enabled; e == nil || !*e {
		t.Errorf("features: linux.mountExtensions.idmap.enabled is %v, want true", e)
	}
}
