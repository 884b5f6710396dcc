package e2e

import (
	"encoding/json"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
)

// TestFeatures: `features` describes what the runtime really does: every
// mount option it lists is accepted on a bind mount, and every capability
// and namespace type it lists is accepted in a config.
func TestFeatures(t *testing.T) {
	requireCarapace(t)
	r := runCmd(cmdOpts{}, runtimeBin, "features")
	if !r.ok() {
		t.Fatalf("features: %s", r)
	}
	var f features.Features
	if err := json.Unmarshal([]byte(r.Stdout), &f); err != nil {
		t.Fatalf("features output is not features JSON: %v\n%s", err, r.Stdout)
	}
	if f.OCIVersionMin != "1.0.0" || f.OCIVersionMax != specs.Version || len(f.Hooks) != 6 || f.Linux == nil {
		t.Fatalf("features: %+v", f)
	}
	if len(f.Linux.Namespaces) != 8 || len(f.Linux.Capabilities) < 41 {
		t.Errorf("namespaces %v, %d capabilities", f.Linux.Namespaces, len(f.Linux.Capabilities))
	}
	if f.Linux.Seccomp == nil || f.Linux.Seccomp.Enabled == nil || *f.Linux.Seccomp.Enabled {
		t.Errorf("seccomp must not be reported as enabled while it is not enforced: %+v", f.Linux.Seccomp)
	}
	for _, opt := range f.MountOptions {
		t.Run("mount-option-"+opt, func(t *testing.T) {
			t.Parallel()
			c := newContainer(t)
			src := newTestDir(t)
			o := []string{"rbind", opt}
			c.Spec.Mounts = append(c.Spec.Mounts, specs.Mount{Destination: "/mnt/x", Type: "bind", Source: src, Options: o})
			c.Spec.Process.Args = []string{"true"}
			if r := c.Run(); !r.ok() {
				t.Errorf("a bind mount with %v, listed by features, fails: %s", o, r)
			}
		})
	}
	t.Run("all-capabilities", func(t *testing.T) {
		c := newContainer(t)
		c.Spec.Process.Capabilities.Bounding = f.Linux.Capabilities
		c.Spec.Process.Args = []string{"true"}
		if r := c.Run(); !r.ok() {
			t.Errorf("the listed capabilities in the bounding set fail: %s", r)
		}
	})
}
