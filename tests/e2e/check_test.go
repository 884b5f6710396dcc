package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// checkReport is `carapace check --format json` (docs/check.md).
type checkReport struct {
	Host []struct {
		Area, Name, Status, Value, Meaning, Impact, Fix string
	} `json:"host"`
	Bundle *struct {
		Dir      string `json:"dir"`
		OK       bool   `json:"ok"`
		Problems []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"problems"`
	} `json:"bundle"`
}

func (r checkReport) find(area, name string) (status, value string, ok bool) {
	for _, f := range r.Host {
		if f.Area == area && f.Name == name {
			return f.Status, f.Value, true
		}
	}
	return "", "", false
}

// runCheck runs `check --format json` with the global flags and check's
// own args.
func runCheck(t *testing.T, c *Container, global []string, args ...string) (checkReport, result) {
	t.Helper()
	res := c.runtime(append(append(global, "check", "--format", "json"), args...)...)
	var rep checkReport
	if err := json.Unmarshal([]byte(res.Stdout), &rep); err != nil {
		t.Fatalf("check --format json: not JSON (%v): %s", err, res)
	}
	if l := checkLeftovers(); len(l) > 0 {
		t.Errorf("check left throwaway cgroups behind: %v", l)
	}
	return rep, res
}

// checkLeftovers lists throwaway cgroups of check still there whose
// check has exited: one named after a live process belongs to a check
// that a parallel test is running now (the name carries its pid).
func checkLeftovers() []string {
	var out []string
	filepath.WalkDir("/sys/fs/cgroup", func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		pid, ok := strings.CutPrefix(d.Name(), ".carapace-check-")
		if !ok {
			return nil
		}
		if _, err := os.Stat("/proc/" + pid); err == nil {
			return nil
		}
		out = append(out, p)
		return nil
	})
	return out
}

func hasCap(t *testing.T, name string) bool {
	t.Helper()
	eff := parseHex(t, statusField(readFileString("/proc/self/status"), "CapEff"))
	return eff&capMask(t, []string{name}) != 0
}

// TestCheckHost: `carapace check` reports the facts of this host as the
// test reads them itself: the cgroup mode, the capabilities it runs with,
// every namespace type, and exits 0 (no bundle).
func TestCheckHost(t *testing.T) {
	t.Parallel()
	requireCarapace(t)
	c := newContainer(t)
	rep, res := runCheck(t, c, nil)
	if !res.ok() {
		t.Fatalf("check without --bundle must exit 0: %s", res)
	}
	if _, v, _ := rep.find("cgroup", "mode"); v != cgMode(t) {
		t.Errorf("cgroup mode: check says %q, the host is %q", v, cgMode(t))
	}
	st, v, _ := rep.find("caps", "effective")
	if hasCap(t, "CAP_SYS_RESOURCE") {
		if strings.Contains(v, "CAP_SYS_RESOURCE") {
			t.Errorf("caps: check says %q (%s), but the caller has CAP_SYS_RESOURCE", v, st)
		}
	} else if st != "warn" || !strings.Contains(v, "without") || !strings.Contains(v, "CAP_SYS_RESOURCE") {
		t.Errorf("caps: the caller lacks CAP_SYS_RESOURCE, check says %q (%s)", v, st)
	}
	for _, ns := range []string{"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"} {
		want := "ok"
		proc := map[string]string{"network": "net", "mount": "mnt"}[ns]
		if proc == "" {
			proc = ns
		}
		if !fileExists("/proc/self/ns/" + proc) {
			want = "missing"
		}
		if st, _, ok := rep.find("namespace", ns); !ok || st != want {
			t.Errorf("namespace %s: check says %q, want %q", ns, st, want)
		}
	}
	var u unix.Utsname
	unix.Uname(&u)
	if _, v, _ := rep.find("kernel", "release"); v != unix.ByteSliceToString(u.Release[:]) {
		t.Errorf("kernel release: check says %q", v)
	}

	// For people: a table, and no colour when stdout is not a terminal.
	text := c.runtime("check")
	if !text.ok() || !strings.HasPrefix(text.Stdout, "STATUS") || strings.Contains(text.Stdout, "\x1b[") {
		t.Errorf("check (table) on a file: want a plain table: %s", text)
	}
	if bad := c.runtime("check", "--format", "yaml"); bad.ok() || !strings.Contains(bad.Stderr, "--format") {
		t.Errorf("check --format yaml: want an error naming --format: %s", bad)
	}
}

// TestCheckBundleGood: a bundle that check --bundle passes starts.
func TestCheckBundleGood(t *testing.T) {
	t.Parallel()
	requireCarapace(t)
	c := newContainer(t)
	c.Spec.Process.Args = []string{"true"}
	c.WriteSpec()
	rep, res := runCheck(t, c, nil, "--bundle", c.Bundle)
	if !res.ok() || rep.Bundle == nil || !rep.Bundle.OK || len(rep.Bundle.Problems) != 0 {
		t.Fatalf("check --bundle on the default bundle: want exit 0, ok: %s", res)
	}
	c.checkNoLeftovers("after check --bundle")
	if r := c.Run(); !r.ok() {
		t.Fatalf("check passed the bundle, but it does not run: %s", r)
	}
}

// TestCheckBundleAgreesWithCreate: for bundles this host may not honour,
// check --bundle and create agree: check exits non-zero exactly when
// create fails, and create's error names the field check names first.
// Rows with mustFail fail on every host where it holds.
func TestCheckBundleAgreesWithCreate(t *testing.T) {
	t.Parallel()
	rows := []struct {
		name     string
		global   []string
		set      func(c *Container)
		mustFail func(t *testing.T) bool
	}{
		{name: "blockIO-weight", set: func(c *Container) {
			c.resources().BlockIO = &specs.LinuxBlockIO{Weight: ptr(uint16(300))}
		}, mustFail: func(t *testing.T) bool {
			if isV2(t) {
				return false // io.weight or io.bfq.weight: the kernel's choice
			}
			d := v1Mount(t, "blkio")
			return !fileExists(filepath.Join(d, "blkio.weight")) && !fileExists(filepath.Join(d, "blkio.bfq.weight"))
		}},
		{name: "network-classID", set: func(c *Container) {
			c.resources().Network = &specs.LinuxNetwork{ClassID: ptr(uint32(0x100001))}
		}, mustFail: func(t *testing.T) bool { return isV2(t) || v1Mount(t, "net_cls") == "" }},
		{name: "hugepageLimits", set: func(c *Container) {
			c.resources().HugepageLimits = []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1 << 30}}
		}},
		{name: "unified", set: func(c *Container) {
			c.resources().Unified = map[string]string{"memory.high": "67108864"}
		}, mustFail: func(t *testing.T) bool { return !isV2(t) }},
		{name: "pids-limit", set: func(c *Container) {
			c.resources().Pids = &specs.LinuxPids{Limit: ptr(int64(64))}
		}},
		{name: "unknown-namespace", set: func(c *Container) {
			c.Spec.Linux.Namespaces = append(c.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: "foo"})
		}, mustFail: func(*testing.T) bool { return true }},
		{name: "rlimit-above-hard", set: func(c *Container) {
			var l unix.Rlimit
			unix.Getrlimit(unix.RLIMIT_NOFILE, &l)
			c.Spec.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: l.Max + 1, Soft: l.Max + 1}}
		}, mustFail: func(t *testing.T) bool { return !hasCap(t, "CAP_SYS_RESOURCE") }},
		{name: "systemd-cgroup", global: []string{"--systemd-cgroup"}, set: func(c *Container) {
			c.Spec.Linux.CgroupsPath = "system.slice:e2e:" + c.ID
		}, mustFail: func(*testing.T) bool { return !fileExists("/run/systemd/system") }},
		{name: "mountLabel", set: func(c *Container) {
			c.Spec.Linux.MountLabel = "system_u:object_r:container_file_t:s0:c1,c2"
		}},
		{name: "netDevices-absent", set: func(c *Container) {
			c.Spec.Linux.NetDevices = map[string]specs.LinuxNetDevice{"e2e-nodev0": {}}
		}, mustFail: func(*testing.T) bool { return true }},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			requireCarapace(t)
			c := newContainer(t)
			row.set(c)
			c.WriteSpec()
			rep, res := runCheck(t, c, row.global, "--bundle", c.Bundle)
			if res.Code != 0 && res.Code != 1 || rep.Bundle == nil {
				t.Fatalf("check --bundle: %s", res)
			}
			c.checkNoLeftovers("after check --bundle")
			created := c.runtime(append(row.global, "create", "--bundle", c.Bundle, c.ID)...)
			t.Logf("check: exit %d, problems %+v; create: exit %d, %s", res.Code, rep.Bundle.Problems, created.Code, strings.TrimSpace(created.Stderr))
			if row.mustFail != nil && row.mustFail(t) && res.ok() {
				t.Errorf("check --bundle passed a bundle this host cannot run")
			}
			if res.ok() != created.ok() {
				t.Fatalf("check --bundle exit %d, but create exit %d:\n%s\n%s", res.Code, created.Code, res, created)
			}
			if res.ok() {
				return
			}
			if rep.Bundle.OK || len(rep.Bundle.Problems) == 0 {
				t.Fatalf("check exited 1 with no problem listed: %s", res)
			}
			f := rep.Bundle.Problems[0].Field
			if f == "" || !strings.Contains(created.Stderr, f) {
				t.Errorf("check names %q first; create's error does not: %s", f, created.Stderr)
			}
		})
	}
}
