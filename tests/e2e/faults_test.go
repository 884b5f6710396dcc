package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/carapace-oci/carapace/tests/internal/leaks"
)

// faultPoints are the named points of libcarapace/faultpoint, by the verb
// whose command is held there. Points named init:* are hit in the
// container's init (create's child), the others in the runtime itself.
var faultPoints = []struct {
	verb   string
	points []string
}{
	{"create", []string{
		"create:reserved", "create:fifo-made",
		"create:cgroup-recorded", "create:cgroup-made", "create:cgroup-set",
		"create:init-spawned", "create:init-recorded", "create:init-in-cgroup",
		"create:bootstrap-sent",
		"init:bootstrapped", "init:mounts-prepared", "init:pivoted", "init:ready",
		"create:init-ready", "create:saved",
	}},
	{"start", []string{"start:locked", "start:released", "start:poststart-ran"}},
	{"exec", []string{"exec:helper-spawned", "exec:bootstrap-sent", "exec:started"}},
	{"update", []string{"update:locked", "cgroups:between-writes", "update:written"}},
	{"pause", []string{"pause:locked", "cgroups:freeze-written"}},
	{"delete", []string{"delete:locked", "delete:killed", "delete:cgroup-removed", "delete:poststop-ran"}},
}

// TestFaultInjection holds the runtime at each named point of create,
// start, exec, update, pause and delete (a binary built with -tags
// faultinject, see libcarapace/faultpoint) and there either SIGKILLs it,
// or SIGKILLs the container's init and lets the runtime go on. After
// each: state answers (the container with a status, or "does not exist"),
// delete --force exits 0, and nothing of the container is left: state
// directory (fifo, sockets), cgroups in every hierarchy, mounts, processes,
// init itself.
func TestFaultInjection(t *testing.T) {
	requireCarapace(t)
	bin := faultBinary(t)
	points := 0
	for _, v := range faultPoints {
		points += len(v.points)
	}
	var mu sync.Mutex
	injected := map[string]int{}
	t.Cleanup(func() { t.Logf("faults injected, by verb and what was killed: %v", injected) })
	for _, v := range faultPoints {
		t.Run(v.verb, func(t *testing.T) {
			t.Parallel()
			for _, point := range v.points {
				if systemdCgroup && strings.HasPrefix(point, "create:cgroup-") {
					continue // systemd makes the cgroup: no such step
				}
				for _, victim := range []string{"runtime", "init"} {
					if victim == "init" && !hasInitAt(point) {
						continue
					}
					t.Run(point+"/kill-"+victim, func(t *testing.T) {
						injectFault(t, bin, v.verb, point, victim)
						mu.Lock()
						injected[v.verb+"/"+victim]++
						mu.Unlock()
					})
				}
			}
		})
	}
}

// hasInitAt reports whether the container's init exists when point is hit.
func hasInitAt(point string) bool {
	switch point {
	case "create:reserved", "create:fifo-made",
		"create:cgroup-recorded", "create:cgroup-made", "create:cgroup-set":
		return false
	}
	return true
}

var (
	faultBinOnce sync.Once
	faultBinPath string
	faultBinErr  error
)

// faultBinary is the runtime built with -tags faultinject, from this
// checkout, once per run (or CARAPACE_FAULTINJECT_BINARY).
func faultBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CARAPACE_FAULTINJECT_BINARY"); p != "" {
		return p
	}
	faultBinOnce.Do(func() {
		// Under cmd-out, which goes with the run's directory.
		faultBinPath = filepath.Join(globalRoot, "cmd-out", "carapace-faultinject")
		gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
		cmd := exec.Command(gobin, "build", "-trimpath",
			"-tags", "netgo,osusergo,urfave_cli_no_docs,faultinject", "-o", faultBinPath, ".")
		cmd.Dir = "../.."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := startTracked(cmd)
		if err == nil {
			err = waitTracked(cmd)
		}
		if err != nil {
			faultBinErr = errors.New("go build -tags faultinject: " + err.Error() + "\n" + out.String())
		}
	})
	if faultBinErr != nil {
		t.Fatal(faultBinErr)
	}
	return faultBinPath
}

// injectFault prepares a container for verb, runs verb with point armed,
// and once held there kills victim (the runtime, or the container's init
// and then lets the runtime go on), then checks the recovery.
func injectFault(t *testing.T, bin, verb, point, victim string) {
	c := newContainer(t)
	c.Spec.Process.Args = []string{"sleep", "1000"}
	c.WriteSpec()
	var args []string
	switch verb {
	case "create":
		args = []string{"create", "--bundle", c.Bundle, c.ID}
	case "start":
		c.mustCreate()
		args = []string{"start", c.ID}
	default:
		c.mustCreate()
		c.mustStart()
		switch verb {
		case "exec":
			args = []string{"exec", c.ID, "true"}
		case "update":
			args = []string{"update", "--memory", "200m", "--pids-limit", "100", "--cpu-shares", "512", c.ID}
		case "pause":
			args = []string{"pause", c.ID}
		case "delete":
			args = []string{"delete", "--force", c.ID}
		}
	}
	fifo := filepath.Join(c.HostDir, "faultpoint.fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// Read-write: the runtime's open for writing never blocks, and a
	// read waits for its line.
	f, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(bin, runtimeArgs(c.Root, args...)...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), "CARAPACE_FAULTPOINT="+point, "CARAPACE_FAULTPOINT_FIFO="+fifo)
	stderr, err := os.Create(filepath.Join(c.HostDir, "fault.stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := startTracked(cmd); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- waitTracked(cmd) }()
	done := false
	defer func() {
		// A test that stops early must not leave it held (it holds the
		// container's lock).
		if !done {
			_ = cmd.Process.Kill()
			<-exited
		}
	}()
	held := make(chan int, 1)
	go func() {
		line, _ := bufio.NewReader(f).ReadString('\n')
		fields := strings.Fields(line)
		pid := 0
		if len(fields) == 2 && fields[0] == point {
			pid, _ = strconv.Atoi(fields[1])
		}
		held <- pid
	}()
	var heldPid int
	select {
	case heldPid = <-held:
	case err := <-exited:
		done = true
		t.Fatalf("%s %v exited (%v) without reaching %s: %s", verb, args, err, point, readFileString(stderr.Name()))
	case <-time.After(cmdTimeout):
		t.Fatalf("%s never reached %s: %s", verb, point, readFileString(stderr.Name()))
	}
	if heldPid == 0 {
		t.Fatalf("%s: bad line from the faultpoint fifo", point)
	}
	// init's host pid: state.json's, or create.json's while create runs.
	initPid := recordedInitPid(c)
	if initPid == 0 {
		// Spawned, not recorded yet: create's child running "carapace init".
		initPid = spawnedInit(heldPid)
	}
	when := verb + " held at " + point + ", kill -9 of the " + victim
	switch victim {
	case "runtime":
		_ = cmd.Process.Kill()
		<-exited
		done = true
	case "init":
		if initPid <= 0 {
			t.Fatalf("%s: no init recorded", when)
		}
		_ = unix.Kill(initPid, unix.SIGKILL)
		if !strings.HasPrefix(point, "init:") {
			_ = unix.Kill(heldPid, unix.SIGCONT)
		}
		// The runtime goes on and must end: its waits for init are
		// bounded by init's death.
		select {
		case <-exited:
			done = true
		case <-time.After(cmdTimeout):
			_ = cmd.Process.Kill()
			<-exited
			done = true
			t.Errorf("%s: %s did not exit once init was dead: %s", when, verb, readFileString(stderr.Name()))
		}
	}
	if out := readFileString(stderr.Name()); strings.Contains(out, "panic") {
		t.Errorf("%s: the runtime panicked: %s", when, out)
	}
	if victim == "init" {
		// kill(2) returns before the kernel has taken the process down:
		// until it is a zombie or gone, it is running, and state says
		// so (a loaded machine has been seen to take that long). A
		// frozen init stays until it is thawed: state says paused.
		waitDead(initPid, 3*time.Second)
	}

	// state tells the truth: the container with a status, or that it does
	// not exist (a delete that finished).
	if r := c.runtime("state", c.ID); r.ok() {
		var s State
		if err := json.Unmarshal([]byte(r.Stdout), &s); err != nil || s.ID != c.ID {
			t.Errorf("%s: state: %s", when, r)
		} else if s.Status == "creating" || (s.Status == "running" && victim == "init" && s.Pid == initPid) {
			t.Errorf("%s: state says %s: %s", when, s.Status, r)
		}
	} else if r.Err != nil || r.Code != 1 || !strings.Contains(r.Stderr, "does not exist") || strings.Contains(r.Stderr, "panic") {
		t.Errorf("%s: state: want the container or 'does not exist': %s", when, r)
	}
	if r := c.runtime("list", "--format", "json"); !r.ok() {
		t.Errorf("%s: list: %s", when, r)
	}
	if r := c.runtimeOpts(cmdOpts{timeout: cmdTimeout}, "delete", "--force", c.ID); !r.ok() {
		t.Errorf("%s: delete --force: %s", when, r)
	}
	c.checkNoLeftovers(when + ", then delete --force")
	if initPid > 0 && !leaks.IsZombie(initPid) {
		t.Errorf("%s: init (pid %d) still lives after delete --force", when, initPid)
		_ = syscall.Kill(initPid, syscall.SIGKILL)
	}
}

// recordedInitPid is the container's init as the state directory records
// it (0 when it records none yet).
func recordedInitPid(c *Container) int {
	for _, name := range []string{"state.json", "create.json"} {
		data, err := os.ReadFile(filepath.Join(c.Root, c.ID, name))
		if err != nil {
			continue
		}
		var rec struct {
			Pid int `json:"pid"`
		}
		// create.json is a log of records, one a line: the last
		// complete line is in force.
		if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
			data = data[:i]
			data = data[bytes.LastIndexByte(data, '\n')+1:]
		}
		if json.Unmarshal(data, &rec) == nil && rec.Pid > 0 {
			return rec.Pid
		}
	}
	return 0
}

// spawnedInit is the child of the runtime process pid that runs
// "carapace init" (0 if none).
func spawnedInit(pid int) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if !bytes.Equal(cmdline, []byte("carapace\x00init\x00")) {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		s := string(stat)
		if i := strings.LastIndexByte(s, ')'); i > 0 {
			f := strings.Fields(s[i+1:])
			if len(f) > 1 && f[1] == strconv.Itoa(pid) {
				return child
			}
		}
	}
	return 0
}

// waitDead waits until pid is a zombie or gone.
func waitDead(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return true
		}
		if i := bytes.LastIndexByte(b, ')'); i > 0 && i+2 < len(b) && (b[i+2] == 'Z' || b[i+2] == 'X') {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}
