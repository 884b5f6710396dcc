package systemd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	sd "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
)

// jobTimeout bounds the wait for one of systemd's jobs: a scope starts or
// stops in milliseconds, unless systemd is stuck.
const jobTimeout = 30 * time.Second

// dbusBus is an instance of systemd over D-Bus: the system instance (as
// root, its private socket, no dbus-daemon needed; else the system bus),
// or the caller's own user instance (user@UID.service) on its user bus.
type dbusBus struct {
	c       *sd.Conn
	version int
}

// Connect opens the connection to systemd, or says why there is none:
// the system instance, or with user the caller's user instance, which is
// where a rootless container's scope goes (the system instance would not
// delegate a cgroup to a user that is not root).
func Connect(user bool) (Bus, error) {
	if !Available() {
		return nil, fmt.Errorf("--systemd-cgroup: %w", ErrNotRunning)
	}
	if user {
		return connectUser()
	}
	c, err := sd.NewWithContext(context.Background())
	if err != nil {
		return nil, fmt.Errorf("--systemd-cgroup: connect to systemd: %w", err)
	}
	return &dbusBus{c: c, version: -2}, nil
}

// connectUser connects to the caller's systemd user instance through its
// user bus: $DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus (what
// dbus-user-session makes). Never a bus autolaunched for the occasion:
// it would have no systemd on it.
func connectUser() (Bus, error) {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" || addr == "autolaunch:" {
		addr = ""
		if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" {
			if _, err := os.Stat(filepath.Join(x, "bus")); err == nil {
				addr = "unix:path=" + dbus.EscapeBusAddressValue(filepath.Join(x, "bus"))
			}
		}
	}
	if addr == "" {
		return nil, errors.New("--systemd-cgroup (rootless): no user bus to reach the user's systemd instance: " +
			"DBUS_SESSION_BUS_ADDRESS is not set and there is no $XDG_RUNTIME_DIR/bus " +
			"(a running user@UID.service, e.g. after loginctl enable-linger, and dbus-user-session give one)")
	}
	uid, err := hostUID()
	if err != nil {
		return nil, fmt.Errorf("--systemd-cgroup (rootless): %w", err)
	}
	c, err := sd.NewConnection(func() (*dbus.Conn, error) {
		conn, err := dbus.Dial(addr)
		if err != nil {
			return nil, err
		}
		if err := conn.Auth([]dbus.Auth{dbus.AuthExternal(strconv.Itoa(uid))}); err != nil {
			conn.Close()
			return nil, fmt.Errorf("authenticate as uid %d: %w", uid, err)
		}
		if err := conn.Hello(); err != nil {
			conn.Close()
			return nil, err
		}
		return conn, nil
	})
	if err != nil {
		return nil, fmt.Errorf("--systemd-cgroup (rootless): connect to the user's systemd instance at %s: %w", addr, err)
	}
	return &dbusBus{c: c, version: -2}, nil
}

// hostUID is the caller's uid as the host (and the bus daemon, which
// checks the socket's peer credentials) sees it: in a user namespace (a
// rootless engine's), the euid translated through uid_map.
func hostUID() (int, error) {
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return os.Geteuid(), nil
	}
	return HostID(string(b), os.Geteuid())
}

// HostID translates id through a uid_map or gid_map text ("inside
// outside count" lines).
func HostID(idMap string, id int) (int, error) {
	for _, l := range strings.Split(idMap, "\n") {
		f := strings.Fields(l)
		if len(f) != 3 {
			continue
		}
		in, err1 := strconv.ParseUint(f[0], 10, 32)
		out, err2 := strconv.ParseUint(f[1], 10, 32)
		n, err3 := strconv.ParseUint(f[2], 10, 32)
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		if uint64(id) >= in && uint64(id)-in < n {
			return int(out + uint64(id) - in), nil
		}
	}
	return -1, fmt.Errorf("uid %d is not mapped to the host in this user namespace", id)
}

func (b *dbusBus) Close() { b.c.Close() }

func variants(props []Property) []sd.Property {
	out := make([]sd.Property, len(props))
	for i, p := range props {
		out[i] = sd.Property{Name: p.Name, Value: dbus.MakeVariant(p.Value)}
	}
	return out
}

func isDBusError(err error, name string) bool {
	var de dbus.Error
	return errors.As(err, &de) && de.Name == name
}

func (b *dbusBus) StartUnit(name string, props []Property) error {
	ch := make(chan string, 1)
	_, err := b.c.StartTransientUnitContext(context.Background(), name, "replace", variants(props), ch)
	if err != nil {
		if isDBusError(err, "org.freedesktop.systemd1.UnitExists") {
			return fmt.Errorf("%w: %v", ErrUnitExists, err)
		}
		return err
	}
	return wait(ch)
}

func (b *dbusBus) StopUnit(name string) error {
	ch := make(chan string, 1)
	_, err := b.c.StopUnitContext(context.Background(), name, "replace", ch)
	if err != nil {
		if isDBusError(err, "org.freedesktop.systemd1.NoSuchUnit") {
			return nil
		}
		return err
	}
	return wait(ch)
}

func wait(ch <-chan string) error {
	t := time.NewTimer(jobTimeout)
	defer t.Stop()
	select {
	case r := <-ch:
		if r != "done" {
			return &JobError{Result: r}
		}
		return nil
	case <-t.C:
		return &JobError{Result: "without an answer from systemd after " + jobTimeout.String()}
	}
}

func (b *dbusBus) ResetFailed(name string) error {
	err := b.c.ResetFailedUnitContext(context.Background(), name)
	if isDBusError(err, "org.freedesktop.systemd1.NoSuchUnit") || isDBusError(err, "org.freedesktop.systemd1.UnitNotFailed") {
		return nil
	}
	return err
}

func (b *dbusBus) SetProperties(name string, props []Property) error {
	return b.c.SetUnitPropertiesContext(context.Background(), name, true, variants(props)...)
}

func (b *dbusBus) AttachProcesses(unit, subcgroup string, pids []uint32) error {
	return b.c.AttachProcessesToUnit(context.Background(), unit, subcgroup, pids)
}

func (b *dbusBus) ManagerCgroup() (string, error) {
	v, err := b.c.GetManagerProperty("ControlGroup")
	if err != nil {
		return "", err
	}
	// A D-Bus string variant, printed quoted.
	return strings.Trim(v, "\""), nil
}

func (b *dbusBus) Version() int {
	if b.version == -2 {
		b.version = -1
		if s, err := b.c.GetManagerProperty("Version"); err == nil {
			b.version = ParseVersion(s)
		}
	}
	return b.version
}

// ParseVersion reads systemd's Version property ("\"252.38-1~deb12u1\"",
// "v245.4-1.fc32", "255"): the leading number, -1 if none.
func ParseVersion(s string) int {
	s = strings.TrimLeft(s, "\"v")
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(s[:end])
	if err != nil {
		return -1
	}
	return n
}
