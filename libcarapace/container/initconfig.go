// Package container is the runtime's lifecycle: create, start, state, kill,
// delete and run on the runtime's side (this file's neighbours), and the
// container's init on the other side of the re-exec (init.go).
package container

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/carapace-oci/carapace/libcarapace/seccomp"
)

// initEnv names the environment variable that tells the re-executed runtime
// it is a container's init, and where its descriptors are.
const initEnv = "_CARAPACE_INIT"

// InitConfig is the bootstrap message: everything init needs that it cannot
// read itself once inside the container's namespaces. It travels in the
// flat encoding (libcarapace/internal/flat), not JSON: init is a fresh Go
// process for every container, and decoding the spec from JSON there cost
// milliseconds.
type InitConfig struct {
	ID     string `json:"id"`
	Bundle string `json:"bundle"`
	Rootfs string `json:"rootfs"`
	// Spec is config.json as parsed and validated by the runtime (with
	// what the runtime adds, such as the notify socket's mount).
	Spec         *specs.Spec `json:"spec"`
	NoPivot      bool        `json:"noPivot,omitempty"`
	NoNewKeyring bool        `json:"noNewKeyring,omitempty"`
	PreserveFDs  int         `json:"preserveFds,omitempty"`
	NewCgroupNS  bool        `json:"newCgroupNs,omitempty"`
	// CgroupNS: the container has a cgroup namespace, new or joined by
	// path; either way its cgroup mount is a cgroupfs showing that
	// namespace's root, not a bind of host directories.
	CgroupNS bool `json:"cgroupNs,omitempty"`
	// CgroupV2Dir is the container's cgroup2 directory on the host, when
	// it has one: what a cgroup namespace's cgroup2 mount is emulated
	// with where the kernel refuses that mount (see rootfs.Setup).
	CgroupV2Dir string `json:"cgroupV2Dir,omitempty"`
	// MountLabel is linux.mountLabel where SELinux is enabled; elsewhere
	// it is ignored, as runc does (a kernel without SELinux refuses
	// context= mount options).
	MountLabel string      `json:"mountLabel,omitempty"`
	MountNS    bool        `json:"mountNs,omitempty"`
	UserNS     bool        `json:"userNs,omitempty"`
	UTSNS      bool        `json:"utsNs,omitempty"`
	ExtraEnv   []string    `json:"extraEnv,omitempty"` // added to process.env (LISTEN_FDS)
	State      specs.State `json:"state"`              // for the createContainer and startContainer hooks
	// Seccomp is linux.seccomp, compiled by the runtime.
	Seccomp *seccomp.Program `json:"seccomp,omitempty"`
	// ClearONLCR: the runtime proxies the pty itself (run in the
	// foreground), so the pty's \n -> \r\n translation is turned off.
	ClearONLCR bool `json:"clearOnlcr,omitempty"`
	// IDMapped lists the indexes of the idmapped mounts, whose trees come
	// with the bootstrap message as descriptors, in this order.
	IDMapped []int `json:"idmapped,omitempty"`
}
