// Package cri runs the runtime under Kubernetes' container runtime
// interface as a kubelet drives it: a private containerd with its CRI
// plugin, pods and containers made by crictl, pod networking through CNI
// (a bridge on a private subnet), images pulled by their public names
// from registries this test serves on 127.0.0.1.
//
// The whole test binary runs in a network namespace of its own (TestMain
// re-executes itself into one): the registries, containerd, its stream
// server, the CNI bridge and its iptables rules, port-forward and crictl
// all live there, and nothing touches the host's network.
//
// CARAPACE_BINARY picks the runtime behind the handler "carapace"
// (default bin/carapace); CARAPACE_BINARY=/usr/sbin/runc runs the same
// suite against runc. The node also has a handler "runc" (/usr/sbin/runc)
// for comparisons: a pod picks its handler (crictl runp --runtime).
// CARAPACE_CRI_SYSTEMD=1 runs the node with the systemd cgroup driver
// (SystemdCgroup = true, pods in slices: cgroups_test.go), on a machine
// systemd booted (tests/vm/systemd.sh runs it so).
package cri

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/tests/internal/subreaper"
	"github.com/carapace-oci/carapace/tests/internal/testenv"
)

var (
	runtimeBin string // absolute path of the runtime under test
	skipReason string
	n          *node // the node every test runs its pods on
)

// netnsEnv marks the test binary re-executed in its own network
// namespace.
const netnsEnv = "CARAPACE_CRI_NETNS"

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	bin, skip, err := testenv.Prepare("CRI")
	if err != nil {
		fmt.Fprintf(os.Stderr, "cri: %v\n", err)
		return 1
	}
	runtimeBin, skipReason = bin, skip
	if skip != "" {
		return m.Run()
	}
	if os.Getenv(netnsEnv) == "" {
		return reexecInNetns()
	}
	if err := loopbackUp(); err != nil {
		fmt.Fprintf(os.Stderr, "cri: bring lo up in the test's network namespace: %v\n", err)
		return 1
	}
	// containerd's shims daemonize: when containerd is gone they are
	// re-parented to us, not to a PID 1 that does not reap.
	if err := subreaper.Become(); err != nil {
		fmt.Fprintf(os.Stderr, "cri: PR_SET_CHILD_SUBREAPER: %v\n", err)
		return 1
	}
	n, err = startNode(nodeOptions{Runtime: runtimeBin, SystemdCgroup: os.Getenv(systemdEnv) == "1"})
	if err != nil {
		fmt.Fprintf(os.Stderr, "cri: start the node: %v\n", err)
		return 1
	}
	code := m.Run()
	if leaks := n.shutdown(); len(leaks) > 0 {
		fmt.Fprintf(os.Stderr, "cri: left behind after the suite:\n  %s\n", joinLines(leaks))
		code = 1
	}
	return code
}

// reexecInNetns runs this test binary again, with the same arguments, in
// a new network namespace, and returns its exit status. The signals go
// test sends on a timeout or an interrupt are passed on, so that the
// child's teardown runs.
func reexecInNetns() int {
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Env = append(os.Environ(), netnsEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "cri: re-execute in a new network namespace: %v\n", err)
		return 1
	}
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	err := cmd.Wait()
	signal.Stop(sigs)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee) && ee.Exited():
		return ee.ExitCode()
	default:
		fmt.Fprintf(os.Stderr, "cri: the test binary in its network namespace: %v\n", err)
		return 1
	}
}

// loopbackUp brings up lo, which a new network namespace has down.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("SIOCGIFFLAGS: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("SIOCSIFFLAGS: %w", err)
	}
	return nil
}

// requireNode skips when the suite cannot run here (not root, runtime not
// built).
func requireNode(t *testing.T) *node {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	return n
}
