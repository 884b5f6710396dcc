package e2e

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/carapace-oci/carapace/tests/internal/testenv"
)

func ipCmd(t *testing.T, args ...string) error {
	t.Helper()
	cmd := exec.Command("ip", args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	err := startTracked(cmd)
	if err == nil {
		err = waitTracked(cmd)
	}
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out.String())
	}
	return nil
}

// hostVeth makes a veth pair on the host named prefix+random (removed at
// the end of the test) and runs each `ip` command of setup on it, with
// DEV standing for its name. It skips where veth is not available.
func hostVeth(t *testing.T, prefix string, setup ...[]string) string {
	t.Helper()
	host := prefix + testenv.RandHex(3)
	peer := host + "p"
	if err := ipCmd(t, "link", "add", host, "type", "veth", "peer", "name", peer); err != nil {
		t.Skipf("no veth here: %v", err)
	}
	t.Cleanup(func() { ipCmd(t, "link", "del", peer) })
	for _, args := range setup {
		args = append([]string(nil), args...)
		for i, a := range args {
			if a == "DEV" {
				args[i] = host
			}
		}
		if err := ipCmd(t, args...); err != nil {
			t.Fatal(err)
		}
	}
	return host
}

// TestNetDevices: linux.netDevices moves a host interface into the
// container's network namespace, renamed, with its permanent address and
// up state.
func TestNetDevices(t *testing.T) {
	requireCarapace(t)
	host := hostVeth(t, "e2ev", []string{"addr", "add", "10.123.45.6/24", "dev", "DEV"}, []string{"link", "set", "DEV", "up"})
	c := newContainer(t)
	c.Spec.Linux.NetDevices = map[string]specs.LinuxNetDevice{host: {Name: "ctr0"}}
	out := c.Sh(`cat /sys/class/net/ctr0/flags; ip -4 addr show ctr0 2>/dev/null || ip addr`)
	if !strings.Contains(out, "10.123.45.6/24") {
		t.Errorf("the address did not come along: %s", out)
	}
	if !strings.HasPrefix(strings.TrimSpace(out), "0x") || !strings.Contains(out, "ctr0") {
		t.Errorf("no ctr0 in the container: %s", out)
	}
	if err := ipCmd(t, "link", "show", host); err == nil {
		t.Errorf("%s is still on the host while it should have moved", host)
	}
}

func TestNetDevicesBadInput(t *testing.T) {
	requireCarapace(t)
	for _, tc := range []struct {
		name string
		edit func(*Container)
		want string
	}{
		{"missing-host-interface", func(c *Container) {
			c.Spec.Linux.NetDevices = map[string]specs.LinuxNetDevice{"e2e-nonexist0": {}}
		}, "linux.netDevices.e2e-nonexist0"},
		{"host-netns", func(c *Container) {
			c.removeNamespace(specs.NetworkNamespace)
			c.Spec.Linux.NetDevices = map[string]specs.LinuxNetDevice{"lo": {Name: "x"}}
		}, "linux.netDevices"},
		{"bad-name", func(c *Container) {
			c.Spec.Linux.NetDevices = map[string]specs.LinuxNetDevice{"lo": {Name: "a/b"}}
		}, "linux.netDevices.lo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newContainer(t)
			tc.edit(c)
			r := c.Run()
			if r.ok() || !strings.Contains(r.Stderr, tc.want) {
				t.Fatalf("want a failure naming %q: %s", tc.want, r)
			}
		})
	}
}

// TestNetDevicesSpec13: runtime-spec 1.3 says the device is set up after
// the move whatever its state on the host, and only the permanent
// addresses of global scope come along.
func TestNetDevicesSpec13(t *testing.T) {
	requireCarapace(t)
	// Down on the host, one global and one link-scope address.
	host := hostVeth(t, "e2ew",
		[]string{"addr", "add", "10.123.46.6/24", "dev", "DEV"},
		[]string{"addr", "add", "10.123.47.7/24", "dev", "DEV", "scope", "link"})
	c := newContainer(t)
	c.Spec.Linux.NetDevices = map[string]specs.LinuxNetDevice{host: {Name: "ctr1"}}
	out := c.Sh(`cat /sys/class/net/ctr1/flags; ip -4 addr show ctr1`)
	flags := strings.Fields(out)
	if len(flags) == 0 {
		t.Fatalf("no ctr1 in the container: %s", out)
	}
	if f, err := strconv.ParseUint(strings.TrimPrefix(flags[0], "0x"), 16, 32); err != nil || f&1 == 0 {
		t.Errorf("ctr1 is not up in the container (flags %s): %s", flags[0], out)
	}
	if !strings.Contains(out, "10.123.46.6/24") {
		t.Errorf("the global address did not come along: %s", out)
	}
	if strings.Contains(out, "10.123.47.7") {
		t.Errorf("the link-scope address came along: %s", out)
	}
}

// TestNetDevicesNameTemplate: runtime-spec 1.3 allows a name template
// ("%d" numbered by the kernel); the device is found again by its
// hardware address and configured under its new name.
func TestNetDevicesNameTemplate(t *testing.T) {
	requireCarapace(t)
	host := hostVeth(t, "e2et", []string{"addr", "add", "10.123.48.8/24", "dev", "DEV"})
	c := newContainer(t)
	c.Spec.Linux.NetDevices = map[string]specs.LinuxNetDevice{host: {Name: "tmpl%d"}}
	out := c.Sh(`cat /sys/class/net/tmpl0/flags; ip -4 addr show tmpl0`)
	if !strings.Contains(out, "10.123.48.8/24") {
		t.Errorf("no tmpl0 with the address in the container: %s", out)
	}
	if f, err := strconv.ParseUint(strings.TrimPrefix(strings.Fields(out + " x")[0], "0x"), 16, 32); err != nil || f&1 == 0 {
		t.Errorf("tmpl0 is not up: %s", out)
	}
}
