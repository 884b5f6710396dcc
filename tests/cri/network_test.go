package cri

import (
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/carapace-oci/carapace/tests/internal/harness"
)

// TestPodNetwork runs a pod on the CNI bridge with two containers: the
// pod gets an address in the subnet, which the CRI reports and the
// containers see on eth0; the containers share the pod's network (one
// reaches the other's server on localhost), IPC (a file in /dev/shm; the
// same ipc namespace) and UTS (the pod's hostname) namespaces; the test's
// network namespace, the node's, reaches the pod's address.
func TestPodNetwork(t *testing.T) {
	c := requireNode(t)
	p := c.runPod(t, podSpec{})
	ip := p.inspect(t).Status.Network.IP
	addr, err := netip.ParseAddr(ip)
	if err != nil || !netip.MustParsePrefix(podSubnet).Contains(addr) {
		t.Fatalf("inspectp reports the pod's address %q: want one in %s", ip, podSubnet)
	}
	server := p.run(t, "server", containerSpec{Cmd: []string{"httpd", "-f", "-p", "8080", "-h", "/www"}})
	client := p.sleeper(t, "client")

	if out := c.exec(t, client, "ip", "-4", "-o", "addr", "show", "dev", "eth0"); !strings.Contains(out, " "+ip+"/24 ") {
		t.Errorf("the container's eth0 does not have the pod's address %s:\n%s", ip, out)
	}
	// Network: the client reaches the server on localhost.
	var got harness.Result
	if !harness.Eventually(10*time.Second, func() bool {
		got = c.crictl("exec", "--sync", client, "wget", "-q", "-O", "-", "http://127.0.0.1:8080/index.html")
		return got.Code == 0
	}) || strings.TrimSpace(got.Stdout) != "hello from the pod" {
		t.Errorf("the other container's server on localhost: %s", got)
	}
	// The node (this test's network namespace) reaches the pod on the
	// bridge.
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + net.JoinHostPort(ip, "8080") + "/index.html")
	if err != nil {
		t.Errorf("GET the pod's server from the node: %v", err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "hello from the pod\n" {
			t.Errorf("the pod's server from the node: %q", body)
		}
	}
	// IPC: the pod's /dev/shm, and the same ipc namespace.
	c.exec(t, server, "sh", "-c", "echo shared > /dev/shm/note")
	if out := c.exec(t, client, "cat", "/dev/shm/note"); out != "shared" {
		t.Errorf("the other container's /dev/shm/note reads %q", out)
	}
	// UTS: the pod's hostname in both.
	for _, id := range []string{server, client} {
		if out := c.exec(t, id, "hostname"); out != p.spec.Hostname {
			t.Errorf("hostname in %s: %q, want the pod's %q", id, out, p.spec.Hostname)
		}
	}
	// The namespaces themselves: the same in both containers, and not the
	// node's (the test's).
	for _, ns := range []string{"net", "ipc", "uts"} {
		a := c.exec(t, server, "readlink", "/proc/self/ns/"+ns)
		b := c.exec(t, client, "readlink", "/proc/self/ns/"+ns)
		host, _ := readlink("/proc/self/ns/" + ns)
		if a != b || a == host {
			t.Errorf("%s namespace: %s in one container, %s in the other, %s on the node: want the pod's, shared", ns, a, b, host)
		}
	}
}

// TestHostNetwork runs a pod on the node's network: its container sees
// the node's interfaces (here the test's netns, with an interface made
// for the test), where a CNI pod's container does not.
func TestHostNetwork(t *testing.T) {
	c := requireNode(t)
	const iface = "crihost0"
	if r := harness.Run(nil, criTimeout, "ip", "link", "add", iface, "type", "bridge"); r.Code != 0 {
		t.Fatalf("an interface in the test's netns: %s", r)
	}
	t.Cleanup(func() { harness.Run(nil, criTimeout, "ip", "link", "del", iface) })
	host := c.runPod(t, podSpec{HostNetwork: true})
	id := host.sleeper(t, "on-host")
	if out := c.exec(t, id, "cat", "/proc/net/dev"); !strings.Contains(out, iface+":") {
		t.Errorf("the host-network container does not see the node's %s:\n%s", iface, out)
	}
	self, _ := readlink("/proc/self/ns/net")
	if got := c.exec(t, id, "readlink", "/proc/self/ns/net"); got != self {
		t.Errorf("the host-network container is in %s, the node in %s", got, self)
	}
	cni := c.runPod(t, podSpec{})
	other := cni.sleeper(t, "on-cni")
	if out := c.exec(t, other, "cat", "/proc/net/dev"); strings.Contains(out, iface+":") {
		t.Errorf("a CNI pod's container sees the node's %s:\n%s", iface, out)
	}
}

// TestPortForward forwards a local port to a server in a CNI pod
// (crictl port-forward, through containerd's stream server) and fetches
// from it with Go's HTTP client.
func TestPortForward(t *testing.T) {
	c := requireNode(t)
	p := c.runPod(t, podSpec{})
	p.run(t, "httpd", containerSpec{Cmd: []string{"httpd", "-f", "-p", "127.0.0.1:8080", "-h", "/www"}})
	// A free port of the test's netns for crictl to listen on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	pf := c.startCrictl(t, "port-forward", p.ID, itoa(port)+":8080")
	var body []byte
	client := &http.Client{Timeout: 5 * time.Second}
	if !harness.Eventually(20*time.Second, func() bool {
		resp, err := client.Get("http://127.0.0.1:" + itoa(port) + "/index.html")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, err = io.ReadAll(resp.Body)
		return err == nil && resp.StatusCode == http.StatusOK
	}) {
		t.Fatalf("nothing served through the port-forward; crictl's output:\n%s\ncontainerd's errors:\n%s", pf.output(), c.daemonErrors(p.ID))
	}
	if string(body) != "hello from the pod\n" {
		t.Errorf("through the port-forward: %q", body)
	}
}
