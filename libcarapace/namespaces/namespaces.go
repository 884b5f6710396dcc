// Package namespaces maps the spec's namespace types to the kernel's and
// decides, for one container, which namespaces are made new and which are
// joined by path.
package namespaces

import (
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// cloneFlags holds every namespace type the spec defines.
var cloneFlags = map[specs.LinuxNamespaceType]uintptr{
	specs.PIDNamespace:     unix.CLONE_NEWPID,
	specs.NetworkNamespace: unix.CLONE_NEWNET,
	specs.MountNamespace:   unix.CLONE_NEWNS,
	specs.IPCNamespace:     unix.CLONE_NEWIPC,
	specs.UTSNamespace:     unix.CLONE_NEWUTS,
	specs.UserNamespace:    unix.CLONE_NEWUSER,
	specs.CgroupNamespace:  unix.CLONE_NEWCGROUP,
	specs.TimeNamespace:    unix.CLONE_NEWTIME,
}

// procNames are the entries under /proc/<pid>/ns for each type.
var procNames = map[specs.LinuxNamespaceType]string{
	specs.PIDNamespace:     "pid",
	specs.NetworkNamespace: "net",
	specs.MountNamespace:   "mnt",
	specs.IPCNamespace:     "ipc",
	specs.UTSNamespace:     "uts",
	specs.UserNamespace:    "user",
	specs.CgroupNamespace:  "cgroup",
	specs.TimeNamespace:    "time",
}

// CloneFlag returns the CLONE_NEW* flag of a namespace type.
func CloneFlag(t specs.LinuxNamespaceType) (uintptr, bool) {
	f, ok := cloneFlags[t]
	return f, ok
}

// ProcName returns the name of the type under /proc/<pid>/ns.
func ProcName(t specs.LinuxNamespaceType) string { return procNames[t] }

// Join is a namespace entered by path.
type Join struct {
	Type specs.LinuxNamespaceType
	Path string
	Flag uintptr
}

// Plan splits a validated namespace list into what init is created with and
// what it joins.
type Plan struct {
	New   uintptr // CLONE_NEW* flags of namespaces to create
	Joins []Join  // in config order
}

// Has reports whether the container gets a namespace of this type of its own,
// new or joined, as opposed to sharing the runtime's.
func (p *Plan) Has(t specs.LinuxNamespaceType) bool {
	f := cloneFlags[t]
	if p.New&f != 0 {
		return true
	}
	for _, j := range p.Joins {
		if j.Type == t {
			return true
		}
	}
	return false
}

// IsNew reports whether a namespace of this type is created for the container.
func (p *Plan) IsNew(t specs.LinuxNamespaceType) bool { return p.New&cloneFlags[t] != 0 }

// NewPlan builds a plan; nss must have been validated.
func NewPlan(nss []specs.LinuxNamespace) *Plan {
	p := &Plan{}
	for _, ns := range nss {
		f := cloneFlags[ns.Type]
		if ns.Path == "" {
			p.New |= f
		} else {
			p.Joins = append(p.Joins, Join{Type: ns.Type, Path: ns.Path, Flag: f})
		}
	}
	return p
}

// Types lists every namespace type the spec defines, sorted.
func Types() []string {
	var out []string
	for t := range cloneFlags {
		out = append(out, string(t))
	}
	sort.Strings(out)
	return out
}
