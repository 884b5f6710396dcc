package cri

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"
)

// benchRuns is how many pods TestBenchCRI starts per handler.
const benchRuns = 20

// TestBenchCRI measures pod start latency under the CRI, as a kubelet
// starts a pod: crictl runp (the sandbox, CNI included) + create + start
// of a container, for the handlers runc and carapace, interleaved (the
// order alternates, so that neither always runs on a warmer node). Only
// with CARAPACE_BENCH_CRI=1 (make bench-cri, scripts/bench-cri.sh); it
// reports, it asserts nothing of the times.
func TestBenchCRI(t *testing.T) {
	if os.Getenv("CARAPACE_BENCH_CRI") == "" {
		t.Skip("a benchmark: CARAPACE_BENCH_CRI=1 (make bench-cri)")
	}
	c := requireNode(t)
	handlers := []string{runcHandler, criHandler}
	times := map[string][]time.Duration{}
	// One of each, not measured: the images' snapshots and the shims'
	// first starts.
	for _, h := range handlers {
		c.benchPod(t, h)
	}
	for i := 0; i < benchRuns; i++ {
		order := handlers
		if i%2 == 1 {
			order = []string{handlers[1], handlers[0]}
		}
		for _, h := range order {
			times[h] = append(times[h], c.benchPod(t, h))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "pod start latency (crictl runp + create + start), %d pods per handler:\n", benchRuns)
	for _, h := range handlers {
		d := times[h]
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		fmt.Fprintf(&b, "  %-8s (%s): median %v, p90 %v, min %v, max %v\n", h, c.handlerRuntime(h),
			d[len(d)/2].Round(time.Millisecond), d[len(d)*9/10].Round(time.Millisecond),
			d[0].Round(time.Millisecond), d[len(d)-1].Round(time.Millisecond))
	}
	// Each line marked, for scripts/bench-cri.sh to pick out of go test -v.
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		fmt.Println("bench-cri: " + l)
	}
}

// benchPod starts a pod with one container on handler, returns the time
// runp + create + start took, and removes the pod.
func (c *node) benchPod(t *testing.T, handler string) time.Duration {
	t.Helper()
	p := &pod{c: c, Name: c.name("bench"), spec: podSpec{Handler: handler}}
	p.spec.Hostname = p.Name
	p.cfgPath = c.writeJSON(t, p.Name+".json", p.config())
	ctrCfg := c.writeJSON(t, p.Name+"-ctr.json", map[string]any{
		"metadata": map[string]any{"name": "sleeper"},
		"image":    map[string]any{"image": busyboxRef},
		"command":  []string{"sleep", "3600"},
		"log_path": "sleeper.log",
		"linux":    map[string]any{"security_context": map[string]any{"namespace_options": p.nsOptions()}},
	})
	start := time.Now()
	r := c.crictl("runp", "--runtime", handler, p.cfgPath)
	if r.Code != 0 {
		t.Fatalf("runp: %s\ncontainerd's errors:\n%s", r, c.daemonErrors(""))
	}
	p.ID = strings.TrimSpace(r.Stdout)
	c.track(p.ID)
	r = c.crictl("create", "--no-pull", p.ID, ctrCfg, p.cfgPath)
	if r.Code != 0 {
		t.Fatalf("create: %s\ncontainerd's errors:\n%s", r, c.daemonErrors(""))
	}
	id := strings.TrimSpace(r.Stdout)
	c.track(id)
	p.ids = append(p.ids, id)
	if r := c.crictl("start", id); r.Code != 0 {
		t.Fatalf("start: %s\ncontainerd's errors:\n%s", r, c.daemonErrors(id))
	}
	d := time.Since(start)
	p.remove(t, true)
	return d
}
