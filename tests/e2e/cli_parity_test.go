package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The outputs that clients and runc's own tests read, compared with runc
// 1.5.3's: field names, their order and the shape of the values.

// objectKeys returns the keys of the JSON object in data, in their order.
func objectKeys(t *testing.T, data []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("want a JSON object, got %v (%v): %q", tok, err, data)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("%v: %q", err, data)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("%v: %q", err, data)
		}
	}
	return keys
}

// runcStateKeys are the fields of runc's containerState (list.go), in its
// order: runc's list.bats matches the JSON text from "ociVersion" to
// "created", go-runc decodes it into its Container.
var runcStateKeys = []string{"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "annotations", "owner"}

func TestListJSONFieldsAsRunc(t *testing.T) {
	c, pid := startSleeper(t, func(c *Container) {
		c.Spec.Annotations = map[string]string{"org.example": "x"}
		// An older bundle: the state's ociVersion is still the runtime's.
		c.Spec.Version = "1.0.0"
	})
	r := c.runtime("list", "--format", "json")
	if !r.ok() {
		t.Fatalf("list --format json: %s", r)
	}
	var elems []json.RawMessage
	if err := json.Unmarshal([]byte(r.Stdout), &elems); err != nil || len(elems) != 1 {
		t.Fatalf("list --format json: want one element: %v: %q", err, r.Stdout)
	}
	if got := objectKeys(t, elems[0]); !reflect.DeepEqual(got, runcStateKeys) {
		t.Errorf("list --format json keys = %q, want runc's %q", got, runcStateKeys)
	}
	// The start of the text as runc's list.bats matches it.
	// The version is the runtime-spec one the runtime implements, as
	// runc's (libcontainer/specconv sets specs.Version); runc 1.1.5's is
	// older than ours.
	version := specs.Version
	if isRunc() {
		version = "1.0.2-dev"
	}
	want := fmt.Sprintf(`[{"ociVersion":"%s","id":"%s","pid":%d,"status":"running","bundle":"%s","rootfs":"%s","created":"`,
		version, c.ID, pid, c.Bundle, c.Rootfs)
	if !strings.HasPrefix(r.Stdout, want) {
		t.Errorf("list --format json = %q, want it to start with %q", r.Stdout, want)
	}
	if !strings.Contains(r.Stdout, `"owner":"root"}]`) {
		t.Errorf("list --format json = %q, want the owner root last", r.Stdout)
	}
}

func TestStateJSONFieldsAsRunc(t *testing.T) {
	c, pid := startSleeper(t, func(c *Container) {
		c.Spec.Annotations = map[string]string{"org.example": "x"}
		c.Spec.Version = "1.0.0"
	})
	r := c.runtime("state", c.ID)
	if !r.ok() {
		t.Fatalf("state: %s", r)
	}
	if got := objectKeys(t, []byte(r.Stdout)); !reflect.DeepEqual(got, runcStateKeys) {
		t.Errorf("state keys = %q, want runc's %q", got, runcStateKeys)
	}
	var s struct {
		Version string `json:"ociVersion"`
		Pid     int    `json:"pid"`
		Rootfs  string `json:"rootfs"`
		Created string `json:"created"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &s); err != nil {
		t.Fatal(err)
	}
	if s.Pid != pid || s.Rootfs != c.Rootfs || s.Created == "" {
		t.Errorf("state = %+v, want pid %d, rootfs %s and a creation time", s, pid, c.Rootfs)
	}
	if !isRunc() && s.Version != specs.Version {
		t.Errorf("state ociVersion = %q, want the runtime's %q (not the bundle's 1.0.0), as runc's", s.Version, specs.Version)
	}
	// runc prints the state indented by two spaces.
	if !strings.HasPrefix(r.Stdout, "{\n  \"ociVersion\": ") {
		t.Errorf("state = %q, want runc's indented JSON", r.Stdout)
	}
}

// runcStatsKeys are the keys of runc 1.5.3's events data (types.Stats), in
// its order.
var runcStatsKeys = []string{"cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt", "network_interfaces"}

func TestEventsStatsAsRunc(t *testing.T) {
	c, _ := startSleeper(t, nil)
	r := c.runtime("events", "--stats", c.ID)
	if !r.ok() {
		t.Fatalf("events --stats: %s", r)
	}
	// runc's events.bats matches the start of the line.
	if want := `{"type":"stats","id":"` + c.ID + `","data":{"cpu":`; !strings.HasPrefix(r.Stdout, want) {
		t.Errorf("events --stats = %q, want it to start with %q", r.Stdout, want)
	}
	var ev struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &ev); err != nil {
		t.Fatalf("events --stats: %v: %q", err, r.Stdout)
	}
	if got := objectKeys(t, ev.Data); !reflect.DeepEqual(got, runcStatsKeys) {
		t.Errorf("events --stats data keys = %q, want runc's %q", got, runcStatsKeys)
	}
	var d struct {
		CPUSet struct {
			CPUs             []uint16 `json:"cpus"`
			SchedLoadBalance *uint64  `json:"sched_load_balance"`
		} `json:"cpuset"`
		Pids              map[string]uint64 `json:"pids"`
		IntelRdt          map[string]any    `json:"intel_rdt"`
		NetworkInterfaces []any             `json:"network_interfaces"`
	}
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		t.Fatal(err)
	}
	// No pids limit reads as "max": runc reports it as no limit key. Under
	// systemd a scope without pids.limit gets systemd's DefaultTasksMax
	// (runc's driver, too, sets TasksMax only from pids.limit).
	if _, ok := d.Pids["limit"]; (ok && !systemdCgroup) || d.Pids["current"] != 1 {
		t.Errorf("events --stats pids = %v, want current 1 and no limit", d.Pids)
	}
	if d.CPUSet.SchedLoadBalance == nil {
		t.Errorf("events --stats cpuset = %+v, want runc's fields", d.CPUSet)
	}
	if !isV2(t) && len(d.CPUSet.CPUs) == 0 {
		t.Errorf("events --stats cpuset = %+v, want the cpuset controller's cpus (cgroup v1)", d.CPUSet)
	}
	if len(d.IntelRdt) != 0 || d.NetworkInterfaces != nil {
		t.Errorf("events --stats intel_rdt = %v, network_interfaces = %v: want {} and null, as runc's", d.IntelRdt, d.NetworkInterfaces)
	}
}

// run --no-subreaper (runc's run flag) leaves the container's orphans to the
// nearest other reaper: here the test process, a subreaper itself. Without
// it run reaps them. The container shares the host pid namespace, so the
// orphan's parent pid is a host pid.
func TestRunNoSubreaper(t *testing.T) {
	orphanParent := func(t *testing.T, flags ...string) int {
		c := newContainer(t)
		c.removeNamespace(specs.PIDNamespace)
		// The subshell exits before $( ) returns: the sleep is an orphan
		// by then, re-parented.
		c.Spec.Process.Args = []string{"sh", "-c", `p=$( (sleep 100 >/dev/null 2>&1 & echo $!) ); cut -d' ' -f4 /proc/$p/stat; kill $p`}
		r := c.Run(flags...)
		if !r.ok() {
			t.Fatalf("run %v: %s", flags, r)
		}
		ppid, err := strconv.Atoi(strings.TrimSpace(r.Stdout))
		if err != nil {
			t.Fatalf("run %v: the orphan's parent pid: %v: %s", flags, err, r)
		}
		return ppid
	}
	if p := orphanParent(t, "--no-subreaper"); p != os.Getpid() {
		t.Errorf("run --no-subreaper: the orphan's parent is %d, want the test process %d", p, os.Getpid())
	}
	if p := orphanParent(t); p == os.Getpid() {
		t.Errorf("run: the orphan's parent is the test process %d, want run itself", p)
	}
}

// A failed hook is reported in runc's words, which runc's hooks.bats greps
// for ("error running createRuntime hook #1:"), followed by the config
// field. The second hook of each kind fails.
func TestHookFailureTextAsRunc(t *testing.T) {
	for _, kind := range []string{"prestart", "createRuntime", "createContainer", "startContainer"} {
		t.Run(kind, func(t *testing.T) {
			c := newContainer(t)
			list := []specs.Hook{{Path: "/bin/true"}, {Path: "/bin/false"}}
			c.Spec.Hooks = &specs.Hooks{}
			switch kind {
			case "prestart":
				c.Spec.Hooks.Prestart = list //nolint:staticcheck // still run, as runc does
			case "createRuntime":
				c.Spec.Hooks.CreateRuntime = list
			case "createContainer":
				c.Spec.Hooks.CreateContainer = list
			case "startContainer":
				c.Spec.Hooks.StartContainer = list
			}
			c.Spec.Process.Args = []string{"echo", "Hello World"}
			r := c.Run()
			if !r.failed() || strings.Contains(r.Stdout, "Hello World") {
				t.Fatalf("run with a failing %s hook: want a failure before the process: %s", kind, r)
			}
			for _, want := range []string{"error running " + kind + " hook #1:", "hooks." + kind + "[1] /bin/false"} {
				if !strings.Contains(r.Stderr, want) {
					t.Errorf("run with a failing %s hook: stderr %q, want %q", kind, r.Stderr, want)
				}
			}
		})
	}
	t.Run("timeout", func(t *testing.T) {
		c := newContainer(t)
		c.Spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/busybox", Args: []string{"sleep", "5"}, Timeout: ptr(1)}}}
		r := c.Create()
		want := "error running createRuntime hook #0: hooks.createRuntime[0] /bin/busybox: hook ran past specified timeout of 1.0s"
		if !r.failed() || !strings.Contains(r.Stderr, want) {
			t.Errorf("create with a hook past its timeout: want a failure saying %q: %s", want, r)
		}
	})
}

// Warnings carry logrus's level name, as runc's log lines: "warning".
func TestLogWarningLevelAsRunc(t *testing.T) {
	c := newContainer(t)
	// An ambient capability outside the inheritable set is warned about
	// and not raised.
	c.Spec.Process.Capabilities.Ambient = []string{"CAP_KILL"}
	c.Spec.Process.Capabilities.Inheritable = nil
	c.Spec.Process.Args = []string{"true"}
	c.WriteSpec()
	logPath := filepath.Join(c.HostDir, "runtime.log")
	for _, format := range []string{"json", "text"} {
		r := c.runtime("--log", logPath, "--log-format", format, "run", "--bundle", c.Bundle, c.ID)
		if !r.ok() {
			t.Fatalf("run: %s", r)
		}
		log := readFileString(logPath)
		want := map[string]string{"json": `"level":"warning"`, "text": "level=warning"}[format]
		if !strings.Contains(log, want) || !strings.Contains(log, "CAP_KILL") {
			t.Errorf("--log-format %s: log %q, want a warning about CAP_KILL with %s", format, log, want)
		}
		os.Remove(logPath)
	}
}
