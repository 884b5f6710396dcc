// Package features describes what this build of Carapace supports, in the
// runtime-spec's features.md shape, from the same tables the runtime uses,
// so the report cannot drift from the code.
package features

import (
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"

	"github.com/carapace-oci/carapace/libcarapace/hooks"
	"github.com/carapace-oci/carapace/libcarapace/namespaces"
	"github.com/carapace-oci/carapace/libcarapace/process"
	"github.com/carapace-oci/carapace/libcarapace/rootfs"
	"github.com/carapace-oci/carapace/libcarapace/seccomp"
)

func b(v bool) *bool { return &v }

func keys[K ~string, V any](m map[K]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, string(k))
	}
	sort.Strings(out)
	return out
}

// Get returns the features of this build.
func Get(version string) features.Features {
	return features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks:         append([]string(nil), hooks.Kinds...),
		MountOptions:  rootfs.KnownOptions(),
		Linux: &features.Linux{
			Namespaces:   namespaces.Types(),
			Capabilities: process.CapabilityNames(),
			Cgroup:       &features.Cgroup{V1: b(true), V2: b(true), Systemd: b(true), SystemdUser: b(false), Rdma: b(true)},
			Seccomp: &features.Seccomp{
				Enabled:        b(true),
				Actions:        seccomp.Actions(),
				Operators:      seccomp.Operators(),
				Archs:          seccomp.Archs(),
				KnownFlags:     seccomp.KnownFlags(),
				SupportedFlags: seccomp.SupportedFlags(),
			},
			Apparmor:        &features.Apparmor{Enabled: b(true)},
			Selinux:         &features.Selinux{Enabled: b(true)},
			IntelRdt:        &features.IntelRdt{Enabled: b(false)},
			MemoryPolicy:    &features.MemoryPolicy{Modes: keys(process.MemoryPolicyModes), Flags: keys(process.MemoryPolicyFlags)},
			MountExtensions: &features.MountExtensions{IDMap: &features.IDMap{Enabled: b(rootfs.IDMapSupported())}},
			NetDevices:      &features.NetDevices{Enabled: b(true)},
		},
		Annotations: map[string]string{"io.github.carapace-oci.version": version},
	}
}
