package rootfs

import (
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// Options is a mount's option list turned into what the kernel takes.
type Options struct {
	Flags       uintptr // mount(2) flags
	Cleared     uintptr // flags an option explicitly turned off ("rw", "suid", ...)
	Propagation uintptr // MS_SHARED, MS_SLAVE, MS_PRIVATE or MS_UNBINDABLE, with MS_REC when r-prefixed
	Bind        bool
	Recursive   bool // rbind
	// RecSet and RecClr are MOUNT_ATTR_* bits applied to the whole tree
	// with mount_setattr (the "rro", "rnosuid", ... options).
	RecSet, RecClr uint64
	RecAtime       uint64 // MOUNT_ATTR__ATIME value to set recursively, with RecAtimeSet
	RecAtimeSet    bool
	Data           []string // options the kernel reads from the data string
}

type flagOpt struct {
	clear bool
	flag  uintptr
}

var flagOpts = map[string]flagOpt{
	"defaults":      {false, 0},
	"ro":            {false, unix.MS_RDONLY},
	"rw":            {true, unix.MS_RDONLY},
	"suid":          {true, unix.MS_NOSUID},
	"nosuid":        {false, unix.MS_NOSUID},
	"dev":           {true, unix.MS_NODEV},
	"nodev":         {false, unix.MS_NODEV},
	"exec":          {true, unix.MS_NOEXEC},
	"noexec":        {false, unix.MS_NOEXEC},
	"sync":          {false, unix.MS_SYNCHRONOUS},
	"async":         {true, unix.MS_SYNCHRONOUS},
	"dirsync":       {false, unix.MS_DIRSYNC},
	"remount":       {false, unix.MS_REMOUNT},
	"mand":          {false, unix.MS_MANDLOCK},
	"nomand":        {true, unix.MS_MANDLOCK},
	"atime":         {true, unix.MS_NOATIME},
	"noatime":       {false, unix.MS_NOATIME},
	"diratime":      {true, unix.MS_NODIRATIME},
	"nodiratime":    {false, unix.MS_NODIRATIME},
	"relatime":      {false, unix.MS_RELATIME},
	"norelatime":    {true, unix.MS_RELATIME},
	"strictatime":   {false, unix.MS_STRICTATIME},
	"nostrictatime": {true, unix.MS_STRICTATIME},
	"silent":        {false, unix.MS_SILENT},
	"loud":          {true, unix.MS_SILENT},
	"iversion":      {false, unix.MS_I_VERSION},
	"noiversion":    {true, unix.MS_I_VERSION},
	"lazytime":      {false, unix.MS_LAZYTIME},
	"nolazytime":    {true, unix.MS_LAZYTIME},
	"nosymfollow":   {false, unix.MS_NOSYMFOLLOW},
	"symfollow":     {true, unix.MS_NOSYMFOLLOW},
}

var propagationOpts = map[string]uintptr{
	"private":     unix.MS_PRIVATE,
	"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
	"shared":      unix.MS_SHARED,
	"rshared":     unix.MS_SHARED | unix.MS_REC,
	"slave":       unix.MS_SLAVE,
	"rslave":      unix.MS_SLAVE | unix.MS_REC,
	"unbindable":  unix.MS_UNBINDABLE,
	"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

type recOpt struct {
	clear bool
	attr  uint64
}

var recursiveOpts = map[string]recOpt{
	"rro":          {false, unix.MOUNT_ATTR_RDONLY},
	"rrw":          {true, unix.MOUNT_ATTR_RDONLY},
	"rnosuid":      {false, unix.MOUNT_ATTR_NOSUID},
	"rsuid":        {true, unix.MOUNT_ATTR_NOSUID},
	"rnodev":       {false, unix.MOUNT_ATTR_NODEV},
	"rdev":         {true, unix.MOUNT_ATTR_NODEV},
	"rnoexec":      {false, unix.MOUNT_ATTR_NOEXEC},
	"rexec":        {true, unix.MOUNT_ATTR_NOEXEC},
	"rnodiratime":  {false, unix.MOUNT_ATTR_NODIRATIME},
	"rdiratime":    {true, unix.MOUNT_ATTR_NODIRATIME},
	"rnosymfollow": {false, unix.MOUNT_ATTR_NOSYMFOLLOW},
	"rsymfollow":   {true, unix.MOUNT_ATTR_NOSYMFOLLOW},
}

var recursiveAtime = map[string]uint64{
	"rrelatime":      unix.MOUNT_ATTR_RELATIME,
	"rnorelatime":    unix.MOUNT_ATTR_STRICTATIME,
	"rnoatime":       unix.MOUNT_ATTR_NOATIME,
	"ratime":         unix.MOUNT_ATTR_RELATIME,
	"rstrictatime":   unix.MOUNT_ATTR_STRICTATIME,
	"rnostrictatime": unix.MOUNT_ATTR_RELATIME,
}

// ParseOptions splits a spec mount's options into flags and data. Options
// the table does not know go to the filesystem as data, as with mount(8).
func ParseOptions(opts []string) Options {
	var o Options
	for _, s := range opts {
		if f, ok := flagOpts[s]; ok {
			if f.clear {
				o.Flags &^= f.flag
				o.Cleared |= f.flag
			} else {
				o.Flags |= f.flag
				o.Cleared &^= f.flag
			}
			continue
		}
		if p, ok := propagationOpts[s]; ok {
			o.Propagation = p
			continue
		}
		if r, ok := recursiveOpts[s]; ok {
			if r.clear {
				o.RecClr |= r.attr
				o.RecSet &^= r.attr
			} else {
				o.RecSet |= r.attr
				o.RecClr &^= r.attr
			}
			continue
		}
		if a, ok := recursiveAtime[s]; ok {
			o.RecAtime, o.RecAtimeSet = a, true
			continue
		}
		switch s {
		case "bind":
			o.Bind = true
		case "rbind":
			o.Bind, o.Recursive = true, true
		case "tmpcopyup", "idmap", "ridmap":
			// tmpcopyup is a crun/runc extension handled by callers that
			// support it; idmap and ridmap select how the runtime idmaps a
			// bind mount (config.MountIDMaps), never mount(2) data.
		default:
			o.Data = append(o.Data, s)
		}
	}
	return o
}

// DataString joins the data options for mount(2).
func (o Options) DataString() string { return strings.Join(o.Data, ",") }

// attrs converts the per-mount flags to MOUNT_ATTR_* bits for mount_setattr.
// Only what an option asked for changes: a bind mount otherwise keeps its
// source's flags, some of which a user namespace may not clear.
func (o Options) attrs() (set, clr uint64) {
	pairs := []struct {
		ms   uintptr
		attr uint64
	}{
		{unix.MS_RDONLY, unix.MOUNT_ATTR_RDONLY},
		{unix.MS_NOSUID, unix.MOUNT_ATTR_NOSUID},
		{unix.MS_NODEV, unix.MOUNT_ATTR_NODEV},
		{unix.MS_NOEXEC, unix.MOUNT_ATTR_NOEXEC},
		{unix.MS_NODIRATIME, unix.MOUNT_ATTR_NODIRATIME},
		{unix.MS_NOSYMFOLLOW, unix.MOUNT_ATTR_NOSYMFOLLOW},
	}
	for _, p := range pairs {
		if o.Flags&p.ms != 0 {
			set |= p.attr
		} else if o.Cleared&p.ms != 0 {
			clr |= p.attr
		}
	}
	return set, clr
}

// KnownOptions lists every mount option Carapace understands, sorted.
func KnownOptions() []string {
	var out []string
	for k := range flagOpts {
		out = append(out, k)
	}
	for k := range propagationOpts {
		out = append(out, k)
	}
	for k := range recursiveOpts {
		out = append(out, k)
	}
	for k := range recursiveAtime {
		out = append(out, k)
	}
	out = append(out, "bind", "rbind")
	sort.Strings(out)
	return out
}
