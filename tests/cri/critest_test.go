package cri

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/carapace-oci/carapace/tests/internal/harness"
)

// critest is cri-tools' conformance suite for container runtimes, the one
// Kubernetes validates runtimes with. `make critest-bin` builds it (and
// the ginkgo CLI its -parallel runs through) into critestDir.
const critestVersion = "v1.37.0"

// Which of critest's tests TestCritest runs: CARAPACE_CRITEST=full runs
// them all (make critest); otherwise critestSubset (make cri).
const critestModeEnv = "CARAPACE_CRITEST"

// critestSubset is the part of critest that make cri runs: one or two of
// each thing critest asks of the runtime under the CRI (a container's
// lifecycle and exec, exec/attach/port-forward streaming, the security
// context's namespaces, users, capabilities, masked and read-only paths,
// seccomp and no_new_privs, a pod's sysctls, mount propagation, OOM
// kills, host networking), leaving out what only containerd does
// (images, idempotence, stats) and the repetitions.
var critestSubset = []string{
	`Container runtime should support basic operations on container runtime should support (starting|stopping|removing running) container`,
	`runtime should support execSync with timeout`,
	`runtime should support (exec with tty=true and stdin=true|attach|portforward) \[Conformance\]`,
	`runtime should support portforward in host network`,
	`runtime should support (HostPID|HostIpc is true|ContainerPID|HostNetwork is true)$`,
	`runtime should support (SupplementalGroups|RunAsUser|RunAsGroup|that ReadOnlyRootfs is true|Privileged is (true|false)|adding capability|dropping ALL capabilities|ReadonlyPaths)$`,
	`if the container's primary UID belongs to some groups in the image, runtime should add SupplementalGroups to them`,
	`should support seccomp default on the container`,
	`runtime should support an seccomp profile that blocks setting hostname with SYS_ADMIN`,
	`NoNewPrivs should not allow privilege escalation when true`,
	`should support unsafe sysctls`,
	`mount with 'rshared' should support propagation`,
	`should terminate with exitCode 137 and reason OOMKilled`,
	`runtime should support starting container with volume when host path is a symlink`,
	`runtime should support reopening container log`,
	`Multiple Containers \[Conformance\] when running multiple containers in a pod should support network`,
}

// critestDir is where make critest-bin puts critest and ginkgo.
func critestDir() string {
	if d := os.Getenv("CARAPACE_CRITEST_DIR"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "carapace-critest", critestVersion)
}

// critestOutcome is one test's result in one critest run.
type critestOutcome struct {
	Status  string // passed, failed, skipped, pending
	Failure string // what critest said, for a failed test
}

// TestCritest runs critest on the node twice, with the handler runc
// (runc 1.1.5) and with the handler carapace (the runtime under test):
// same containerd, same images, same tests. A test that passes with runc
// must pass with carapace.
func TestCritest(t *testing.T) {
	c := requireNode(t)
	dir := critestDir()
	for _, tool := range []string{"critest", "ginkgo"} {
		if _, err := os.Stat(filepath.Join(dir, tool)); err != nil {
			t.Fatalf("%v: make critest-bin builds critest %s and ginkgo into %s", err, critestVersion, dir)
		}
	}
	full := os.Getenv(critestModeEnv) == "full"
	results := map[string]map[string]critestOutcome{}
	for _, h := range []string{runcHandler, criHandler} {
		start := time.Now()
		res, err := c.critest(t, dir, h, full)
		if err != nil {
			t.Fatalf("critest with the handler %s: %v", h, err)
		}
		results[h] = res
		t.Logf("critest with the handler %s (%s): %s in %s", h, c.handlerRuntime(h), critestCounts(res), time.Since(start).Round(time.Second))
		// critest removes images it pulled, the sandbox image among them.
		if err := c.pullAll(); err != nil {
			t.Fatal(err)
		}
	}
	names := make([]string, 0, len(results[runcHandler]))
	for name := range results[runcHandler] {
		names = append(names, name)
	}
	sort.Strings(names)
	var both []string
	for _, name := range names {
		r, k := results[runcHandler][name], results[criHandler][name]
		switch {
		case r.Status == "passed" && k.Status != "passed":
			t.Errorf("%s\n  runc: passed\n  carapace: %s\n%s", name, k.Status, indent(k.Failure))
		case r.Status == "failed" && k.Status == "failed":
			both = append(both, fmt.Sprintf("%s\n      runc: %s\n      carapace: %s", name, firstLine(r.Failure), firstLine(k.Failure)))
		case r.Status != k.Status:
			t.Logf("%s: runc %s, carapace %s", name, r.Status, k.Status)
		}
	}
	if len(both) > 0 {
		t.Logf("failed with both runtimes:\n  %s", strings.Join(both, "\n  "))
	}
}

// critest runs critest against the node with the pods on handler, and
// returns each test's outcome from its JUnit report.
func (c *node) critest(t *testing.T, dir, handler string, full bool) (map[string]critestOutcome, error) {
	t.Helper()
	report := filepath.Join(c.dir, "critest-"+handler+".xml")
	args := []string{
		"-runtime-endpoint", "unix://" + c.Sock, "-image-endpoint", "unix://" + c.Sock,
		"-runtime-handler", handler,
		"-parallel", strconv.Itoa(critestParallel()),
		"-ginkgo.junit-report", report,
		"-ginkgo.no-color",
	}
	if !full {
		args = append(args, "-ginkgo.focus", strings.Join(critestSubset, "|"))
	}
	if f := os.Getenv("CARAPACE_CRITEST_FOCUS"); f != "" {
		args = append(args, "-ginkgo.focus", f)
	}
	// ginkgo, which runs critest's parallel nodes, from the same dir.
	env := []string{"PATH=" + dir + ":" + os.Getenv("PATH")}
	r := harness.Run(env, 90*time.Minute, filepath.Join(dir, "critest"), args...)
	logPath := filepath.Join(c.dir, "critest-"+handler+".log")
	_ = os.WriteFile(logPath, []byte(r.Stdout+r.Stderr), 0o644)
	if keep := os.Getenv("CARAPACE_CRITEST_KEEP"); keep != "" {
		_ = os.MkdirAll(keep, 0o755)
		for _, f := range []string{report, logPath} {
			if b, err := os.ReadFile(f); err == nil {
				_ = os.WriteFile(filepath.Join(keep, filepath.Base(f)), b, 0o644)
			}
		}
	}
	if r.Err != nil {
		return nil, fmt.Errorf("%v\n%s", r.Err, harness.Tail(r.Stdout+r.Stderr, 40))
	}
	res, err := readJUnit(report)
	if err != nil {
		// critest exits non-zero when a test fails: only a missing
		// report is an error of its own.
		return nil, fmt.Errorf("%w\ncritest exited %d:\n%s", err, r.Code, harness.Tail(r.Stdout+r.Stderr, 40))
	}
	return res, nil
}

// critestParallel is critest's -parallel (ginkgo's nodes):
// CARAPACE_CRITEST_PARALLEL, default 3.
func critestParallel() int {
	if n, err := strconv.Atoi(os.Getenv("CARAPACE_CRITEST_PARALLEL")); err == nil && n > 0 {
		return n
	}
	return 3
}

// handlerRuntime names the runtime binary behind a handler.
func (c *node) handlerRuntime(h string) string {
	if h == runcHandler {
		return runcBinary
	}
	return c.opts.Runtime
}

// junitSuites is the part of ginkgo's JUnit report read here.
type junitSuites struct {
	Suites []struct {
		Cases []struct {
			Name    string `xml:"name,attr"`
			Status  string `xml:"status,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"error"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// readJUnit reads each test's outcome from a ginkgo JUnit report; the
// suite's own nodes ([SynchronizedBeforeSuite] ...) are left out.
func readJUnit(path string) (map[string]critestOutcome, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s junitSuites
	if err := xml.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	res := map[string]critestOutcome{}
	for _, suite := range s.Suites {
		for _, tc := range suite.Cases {
			if !strings.HasPrefix(tc.Name, "[It] ") {
				continue
			}
			o := critestOutcome{Status: tc.Status}
			switch {
			case tc.Failure != nil:
				o.Failure = strings.TrimSpace(tc.Failure.Message + "\n" + tc.Failure.Text)
			case tc.Error != nil:
				o.Failure = strings.TrimSpace(tc.Error.Message + "\n" + tc.Error.Text)
			}
			if o.Status == "" {
				o.Status = "passed"
			}
			if o.Status == "panicked" || o.Status == "interrupted" || o.Status == "timedout" {
				o.Status = "failed"
			}
			res[strings.TrimPrefix(tc.Name, "[It] ")] = o
		}
	}
	if len(res) == 0 {
		return nil, fmt.Errorf("%s: no test in the report", path)
	}
	return res, nil
}

// critestCounts says how many passed, failed and were skipped.
func critestCounts(res map[string]critestOutcome) string {
	n := map[string]int{}
	for _, o := range res {
		n[o.Status]++
	}
	s := fmt.Sprintf("%d passed, %d failed, %d skipped", n["passed"], n["failed"], n["skipped"]+n["pending"])
	return s
}

// firstLine sums up critest's failure text: its first line, and the
// first line that quotes an error (an RPC's, a pull's).
func firstLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	sum := strings.TrimSpace(lines[0])
	for _, l := range lines[1:] {
		l = strings.TrimSpace(l)
		if strings.Contains(l, "rpc error") || strings.Contains(l, "failed to") || strings.HasPrefix(l, "Expected") {
			if len(l) > 300 {
				l = l[:300] + "..."
			}
			return sum + ": " + l
		}
	}
	return sum
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n    ")
}
