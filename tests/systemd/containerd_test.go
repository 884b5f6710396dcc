package systemd

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/carapace-oci/carapace/tests/internal/testenv"
)

// imageName is the name the offline image is imported under.
const imageName = "docker.io/library/carapace-sd-busybox:latest"

// TestContainerdSystemdCgroup: containerd's runc shim with SystemdCgroup
// on (ctr run --runc-systemd-cgroup, the option CRI's SystemdCgroup = true
// sets) runs Carapace (--runc-binary) from an imported image: the task runs
// in its transient scope, with Delegate=yes and the memory limit ctr gave
// as MemoryMax/MemoryLimit; after ctr task rm and container rm no unit,
// cgroup or process is left.
func TestContainerdSystemdCgroup(t *testing.T) {
	if skipReason != "" {
		t.Skip(skipReason)
	}
	if r := run("/", "systemctl", "start", "containerd"); !r.ok() {
		t.Fatalf("systemctl start containerd: %s", r)
	}
	dir := t.TempDir()
	archive := filepath.Join(dir, "busybox-oci.tar")
	if err := writeOCIArchive(archive, rootfsDir); err != nil {
		t.Fatal(err)
	}
	const ns = "carapace-sd"
	ctr := func(args ...string) result { return run(dir, "ctr", append([]string{"-n", ns}, args...)...) }
	if r := ctr("images", "import", archive); !r.ok() {
		t.Fatalf("ctr images import: %s", r)
	}
	t.Cleanup(func() { _ = ctr("images", "rm", imageName) })

	id := "sd-ctr-" + testenv.RandHex(4)
	idsMu.Lock()
	allIDs = append(allIDs, id)
	idsMu.Unlock()
	unit := "carapace-ctr-" + id + ".scope"
	r := ctr("run", "-d", "--runc-binary", runtimeBin, "--runc-systemd-cgroup",
		"--cgroup", "system.slice:carapace-ctr:"+id, "--memory-limit", strconv.Itoa(128<<20),
		imageName, id, "sleep", "1000")
	if !r.ok() {
		t.Fatalf("ctr run --runc-systemd-cgroup: %s", r)
	}
	removed := false
	t.Cleanup(func() {
		if !removed {
			_ = ctr("task", "rm", "-f", id)
			_ = ctr("containers", "rm", id)
		}
	})

	var pid int
	for i := 0; i < 100 && pid == 0; i++ {
		for _, line := range strings.Split(ctr("task", "ls").Stdout, "\n") {
			if f := strings.Fields(line); len(f) >= 3 && f[0] == id && f[2] == "RUNNING" {
				pid, _ = strconv.Atoi(f[1])
			}
		}
		if pid == 0 {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if pid == 0 {
		t.Fatalf("the task is not running: %s", ctr("task", "ls"))
	}
	for k, path := range procCgroups(t, pid) {
		if path != "/system.slice/"+unit {
			t.Errorf("/proc/%d/cgroup: hierarchy %q: %s, want /system.slice/%s", pid, k, path, unit)
		}
	}
	memProp := "MemoryMax"
	if cgroupMode(t) != "v2" {
		memProp = "MemoryLimit"
	}
	p := show(t, unit, "ActiveState", "Delegate", memProp)
	if p["ActiveState"] != "active" || p["Delegate"] != "yes" || p[memProp] != strconv.Itoa(128<<20) {
		t.Errorf("systemctl show %s: %v, want active, Delegate=yes, %s=%d", unit, p, memProp, 128<<20)
	}
	// The shim ran the runtime under test: its state is in the shim's
	// --root (/run/containerd/runc/<ns>), in Carapace's layout.
	if _, err := os.Stat(filepath.Join("/run/containerd/runc", ns, id, "state.json")); err != nil {
		t.Logf("note: %v", err)
	}
	if r := ctr("task", "kill", "-s", "SIGKILL", id); !r.ok() {
		t.Errorf("ctr task kill: %s", r)
	}
	for i := 0; i < 100; i++ {
		if strings.Contains(ctr("task", "ls").Stdout, "STOPPED") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := ctr("task", "rm", id); !r.ok() {
		t.Errorf("ctr task rm: %s", r)
	}
	if r := ctr("containers", "rm", id); !r.ok() {
		t.Errorf("ctr containers rm: %s", r)
	}
	removed = true
	var left []string
	for i := 0; i < 50; i++ {
		if left = leftovers(id); len(left) == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(left) > 0 {
		t.Errorf("after ctr task rm and containers rm: left behind:\n  %s", strings.Join(left, "\n  "))
	}
}

// writeOCIArchive writes an OCI image layout archive (what `ctr images
// import` and skopeo's oci-archive read) of one uncompressed layer holding
// rootfs, named imageName. Written here because the VM has neither umoci
// nor skopeo, with which tests/clients builds the same busybox image.
func writeOCIArchive(path, rootfs string) error {
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	err := filepath.WalkDir(rootfs, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == rootfs {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if d.Type()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		h, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(rootfs, p)
		h.Name = rel
		h.Uid, h.Gid, h.Uname, h.Gname = 0, 0, "", ""
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			_, err = tw.Write(data)
			return err
		}
		return nil
	})
	if err == nil {
		err = tw.Close()
	}
	if err != nil {
		return err
	}

	type desc struct {
		MediaType   string            `json:"mediaType"`
		Digest      string            `json:"digest"`
		Size        int               `json:"size"`
		Annotations map[string]string `json:"annotations,omitempty"`
	}
	blobs := map[string][]byte{}
	add := func(mediaType string, data []byte) desc {
		sum := sha256.Sum256(data)
		d := desc{MediaType: mediaType, Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: len(data)}
		blobs[hex.EncodeToString(sum[:])] = data
		return d
	}
	mustJSON := func(v any) []byte { b, _ := json.Marshal(v); return b }
	l := add("application/vnd.oci.image.layer.v1.tar", layer.Bytes())
	cfg := add("application/vnd.oci.image.config.v1+json", mustJSON(map[string]any{
		"architecture": "amd64", "os": "linux",
		"config": map[string]any{"Cmd": []string{"sh"}, "Env": []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, "WorkingDir": "/"},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{l.Digest}},
	}))
	man := add("application/vnd.oci.image.manifest.v1+json", mustJSON(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": cfg, "layers": []desc{l},
	}))
	man.Annotations = map[string]string{"io.containerd.image.name": imageName, "org.opencontainers.image.ref.name": "latest"}
	index := mustJSON(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []desc{man}})

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	out := tar.NewWriter(f)
	put := func(name string, data []byte) error {
		if err := out.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := out.Write(data)
		return err
	}
	if err := put("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return err
	}
	if err := put("index.json", index); err != nil {
		return err
	}
	for sum, data := range blobs {
		if err := put("blobs/sha256/"+sum, data); err != nil {
			return err
		}
	}
	if err := out.Close(); err != nil {
		return err
	}
	return f.Close()
}
