package cri

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/carapace-oci/carapace/tests/internal/harness"
)

// TestPIDSharing: in a pod that asks for one pid namespace (pid POD) a
// container sees the other container's process and the pause process as
// pid 1; in the default (pid CONTAINER) it sees only its own.
func TestPIDSharing(t *testing.T) {
	c := requireNode(t)
	for _, shared := range []bool{true, false} {
		t.Run(fmt.Sprintf("shared=%t", shared), func(t *testing.T) {
			p := c.runPod(t, podSpec{SharePID: shared})
			p.run(t, "sleeper", containerSpec{Cmd: []string{"sleep", "3601"}})
			other := p.sleeper(t, "looker")
			ps := c.exec(t, other, "ps", "-o", "pid,args")
			sawSleeper := strings.Contains(ps, "sleep 3601")
			pid1 := ""
			for _, l := range strings.Split(ps, "\n") {
				if f := strings.Fields(l); len(f) > 1 && f[0] == "1" {
					pid1 = strings.Join(f[1:], " ")
				}
			}
			if shared && (!sawSleeper || pid1 != "/pause") {
				t.Errorf("with the pod's pid namespace: pid 1 is %q (want /pause), the other container's sleep 3601 seen: %t\n%s", pid1, sawSleeper, ps)
			}
			if !shared && (sawSleeper || pid1 != "sleep 3600") {
				t.Errorf("with a pid namespace per container: pid 1 is %q (want its own sleep 3600), the other container's sleep 3601 seen: %t\n%s", pid1, sawSleeper, ps)
			}
		})
	}
}

// TestExec: crictl exec --sync (the exit code and output come back), and
// streaming exec through the stream server, with stdin (-i) and with a
// terminal (-it). crictl itself exits 1 when the command fails, and
// names the command's exit code in its error.
func TestExec(t *testing.T) {
	c := requireNode(t)
	p := c.runPod(t, podSpec{})
	id := p.sleeper(t, "exec")
	t.Run("Sync", func(t *testing.T) {
		r := c.crictl("exec", "--sync", id, "sh", "-c", "echo out; echo err >&2")
		// crictl prints the command's stdout, then its stderr, both on
		// its stdout.
		if r.Code != 0 || strings.Join(strings.Fields(r.Stdout), ",") != "out,err" {
			t.Errorf("want out, then err: %s", r)
		}
		r = c.crictl("exec", "--sync", id, "sh", "-c", "echo err >&2; exit 7")
		if r.Code == 0 || !strings.Contains(r.Stderr, "exited with 7: err") {
			t.Errorf("want the command's exit 7 and its stderr in crictl's error: %s", r)
		}
	})
	t.Run("Stdin", func(t *testing.T) {
		r := harness.RunInput(nil, criTimeout, strings.NewReader("typed line\n"), "crictl",
			c.crictlArgs("exec", "-i", id, "sh", "-c", "read x; echo got:$x; exit 3")...)
		if r.Code == 0 || strings.TrimSpace(r.Stdout) != "got:typed line" || !strings.Contains(r.Stderr, "exit code 3") {
			t.Errorf("want exit 3 and got:typed line: %s", r)
		}
	})
	t.Run("TTY", func(t *testing.T) {
		r := harness.RunTTY(nil, criTimeout, "typed\n", "crictl",
			c.crictlArgs("exec", "-it", id, "sh", "-c", "tty; read x; echo got:$x")...)
		if r.Code != 0 || !strings.Contains(r.Stdout, "/dev/pts/") || !strings.Contains(r.Stdout, "got:typed") {
			t.Errorf("want a /dev/pts terminal and got:typed: %s", r)
		}
	})
}

// TestAttach attaches to a container started with stdin (stdin_once):
// what is written reaches its process, what it prints comes back, and
// its exit ends the attach.
func TestAttach(t *testing.T) {
	c := requireNode(t)
	p := c.runPod(t, podSpec{})
	id := p.run(t, "attach", containerSpec{Stdin: true, StdinOnce: true,
		Cmd: []string{"sh", "-c", "read x; echo attached:$x; echo to-stderr >&2"}})
	r := harness.RunInput(nil, criTimeout, strings.NewReader("hello\n"), "crictl", c.crictlArgs("attach", "-i", id)...)
	if r.Code != 0 || !strings.Contains(r.Stdout, "attached:hello") {
		t.Errorf("crictl attach -i: %s\ncontainerd's errors about it:\n%s", r, c.daemonErrors(id))
	}
	if st := c.waitExited(t, id, 10*time.Second); st.ExitCode != 0 {
		t.Errorf("the attached container exited %d (%s)", st.ExitCode, st.Reason)
	}
}

// TestLogs: a container's stdout and stderr go to its log in the CRI
// format (time, stream, P/F tag, line), and crictl logs gives them back
// on the right streams.
func TestLogs(t *testing.T) {
	c := requireNode(t)
	p := c.runPod(t, podSpec{})
	id := p.run(t, "logs", containerSpec{Cmd: []string{"sh", "-c", "echo out-line; echo err-line >&2; echo second-out"}})
	c.waitExited(t, id, 10*time.Second)
	r := c.crictl("logs", id)
	if r.Code != 0 || r.Stdout != "out-line\nsecond-out\n" || r.Stderr != "err-line\n" {
		t.Errorf("crictl logs: want out-line and second-out on stdout, err-line on stderr: %s", r)
	}
	f, err := os.Open(filepath.Join(c.logDir, p.Name, "logs-0.log"))
	if err != nil {
		t.Fatalf("the container's log file: %v", err)
	}
	defer f.Close()
	line := regexp.MustCompile(`^(\S+) (stdout|stderr) F (.*)$`)
	var got []string
	for sc := bufio.NewScanner(f); sc.Scan(); {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			t.Errorf("not a CRI log line: %q", sc.Text())
			continue
		}
		if _, err := time.Parse(time.RFC3339Nano, m[1]); err != nil {
			t.Errorf("log line time %q: %v", m[1], err)
		}
		got = append(got, m[2]+" "+m[3])
	}
	// The two streams are read apart: only the order within one is kept.
	var stdout, stderr []string
	for _, g := range got {
		if s, ok := strings.CutPrefix(g, "stdout "); ok {
			stdout = append(stdout, s)
		} else {
			stderr = append(stderr, strings.TrimPrefix(g, "stderr "))
		}
	}
	if strings.Join(stdout, ",") != "out-line,second-out" || strings.Join(stderr, ",") != "err-line" {
		t.Errorf("log file lines: %q", got)
	}
}

// TestStats: crictl stats reports a running container's memory and CPU
// use (from its cgroup, through the shim's metrics).
func TestStats(t *testing.T) {
	c := requireNode(t)
	p := c.runPod(t, podSpec{})
	// Some CPU time, then a process that keeps its memory.
	id := p.run(t, "stats", containerSpec{Cmd: []string{"sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; touch /tmp/busy-done; exec sleep 3600"}})
	if !harness.Eventually(20*time.Second, func() bool {
		return c.crictl("exec", "--sync", id, "test", "-e", "/tmp/busy-done").Code == 0
	}) {
		t.Fatal("the container's loop did not end in 20 s")
	}
	var st struct {
		Stats []struct {
			CPU struct {
				UsageCoreNanoSeconds struct {
					Value uint64 `json:"value,string"`
				} `json:"usageCoreNanoSeconds"`
			} `json:"cpu"`
			Memory struct {
				WorkingSetBytes struct {
					Value uint64 `json:"value,string"`
				} `json:"workingSetBytes"`
			} `json:"memory"`
		} `json:"stats"`
	}
	r := c.crictl("stats", "-o", "json", "--id", id)
	if r.Code != 0 {
		t.Fatalf("crictl stats: %s", r)
	}
	if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil || len(st.Stats) != 1 {
		t.Fatalf("crictl stats: %v\n%s", err, r.Stdout)
	}
	if s := st.Stats[0]; s.CPU.UsageCoreNanoSeconds.Value == 0 || s.Memory.WorkingSetBytes.Value == 0 {
		t.Errorf("crictl stats: cpu %d ns, memory working set %d bytes: want both non-zero\n%s",
			s.CPU.UsageCoreNanoSeconds.Value, s.Memory.WorkingSetBytes.Value, r.Stdout)
	}
}

// TestRuntimeHandlers: the pod's handler (crictl runp --runtime) picks
// the runtime its shim runs, for the sandbox and its containers, each
// with the handler's own root.
func TestRuntimeHandlers(t *testing.T) {
	c := requireNode(t)
	for _, h := range []string{criHandler, runcHandler} {
		t.Run(h, func(t *testing.T) {
			p := c.runPod(t, podSpec{Handler: h})
			c.checkRuntime(t, h, p.ID)
			id := p.sleeper(t, "on-"+h)
			c.checkRuntime(t, h, id)
		})
	}
}
