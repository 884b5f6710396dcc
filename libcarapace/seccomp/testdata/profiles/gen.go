//go:build ignore

// gen writes the client profiles of the differential test
// (libseccomp_diff_test.go) as the clients hand them to the runtime: each
// client's profile turned into linux.seccomp for an amd64 container with
// the client's default capabilities (and docker's with every capability,
// whose rules differ). It needs modules Carapace does not depend on, so it
// runs in a scratch module:
//
//	mkdir /tmp/gen && cp gen.go /tmp/gen && cd /tmp/gen && go mod init gen &&
//	go get github.com/moby/profiles/seccomp@v0.3.0 \
//	    github.com/containerd/containerd/v2/contrib/seccomp@v2.4.2 &&
//	go run gen.go $OLDPWD
//
// podman's profile is Debian's /usr/share/containers/seccomp.json
// (golang-github-containers-common 0.50.1, what podman loads on Debian 12);
// containers/common converts it as moby's loader does (both read docker's
// format), and it is not on the module proxy, so moby's loader converts it.
package main

import (
	"encoding/json"
	"log"
	"os"
	"path/filepath"

	containerd "github.com/containerd/containerd/v2/contrib/seccomp"
	moby "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Docker's and containerd's default capabilities (moby oci/caps, containerd
// pkg/oci), and podman's (containers.conf).
var (
	dockerCaps = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
		"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
		"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"}
	podmanCaps = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
		"CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"}
	allCaps = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
		"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
		"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
		"CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
		"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
		"CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
		"CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
		"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
		"CAP_CHECKPOINT_RESTORE"}
)

func spec(caps []string) *specs.Spec {
	return &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: caps}}}
}

func write(dir, name string, sc *specs.LinuxSeccomp) {
	b, err := json.MarshalIndent(sc, "", "\t")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), append(b, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
}

func main() {
	dir := os.Args[1]
	for name, caps := range map[string][]string{"docker-default.json": dockerCaps, "docker-allcaps.json": allCaps} {
		sc, err := moby.GetDefaultProfile(spec(caps))
		if err != nil {
			log.Fatal(err)
		}
		write(dir, name, sc)
	}
	body, err := os.ReadFile("/usr/share/containers/seccomp.json")
	if err != nil {
		log.Fatal(err)
	}
	sc, err := moby.LoadProfile(string(body), spec(podmanCaps))
	if err != nil {
		log.Fatal(err)
	}
	write(dir, "podman-default.json", sc)
	write(dir, "containerd-default.json", containerd.DefaultProfile(spec(dockerCaps)))
}
