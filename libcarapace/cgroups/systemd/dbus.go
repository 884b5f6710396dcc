package systemd

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	sd "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
)

// jobTimeout bounds the wait for one of systemd's jobs: a scope starts or
// stops in milliseconds, unless systemd is stuck.
const jobTimeout = 30 * time.Second

// dbusBus is the system instance of systemd over D-Bus: as root, its
// private socket (no dbus-daemon needed), else the system bus.
type dbusBus struct {
	c       *sd.Conn
	version int
}

// Connect opens the connection to systemd, or says why there is none.
func Connect() (Bus, error) {
	if !Available() {
		return nil, fmt.Errorf("--systemd-cgroup: %w", ErrNotRunning)
	}
	c, err := sd.NewWithContext(context.Background())
	if err != nil {
		return nil, fmt.Errorf("--systemd-cgroup: connect to systemd: %w", err)
	}
	return &dbusBus{c: c, version: -2}, nil
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
