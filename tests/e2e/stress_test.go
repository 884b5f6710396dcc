package e2e

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestStressParallelLifecycles: containers created, started, exec'd in and
// deleted by 8 workers at once, in one state root, with list running
// beside them: every verb succeeds, and nothing is left (state root
// entries, cgroups in every hierarchy, mounts, processes).
// CARAPACE_E2E_STRESS sets the count (default 200).
func TestStressParallelLifecycles(t *testing.T) {
	c := newRaceBundle(t)
	n := 200
	if v, err := strconv.Atoi(os.Getenv("CARAPACE_E2E_STRESS")); err == nil && v > 0 {
		n = v
	}
	const workers = 8
	ids := make(chan int)
	var mu sync.Mutex
	var failures []string
	fail := func(format string, args ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	var all []string
	for i := range n {
		all = append(all, raceContainer(c, i).ID)
	}
	begin := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ids {
				k := raceContainer(c, i)
				for _, step := range [][]string{
					{"create", "--bundle", k.Bundle, k.ID},
					{"start", k.ID},
					{"exec", k.ID, "sh", "-c", "echo " + k.ID},
					{"delete", "--force", k.ID},
				} {
					r := k.runtime(step...)
					if !r.ok() || step[0] == "exec" && r.Stdout != k.ID+"\n" {
						fail("%s %s: %s", step[0], k.ID, r)
						k.runtime("delete", "--force", k.ID)
						break
					}
				}
			}
		}()
	}
	wg.Add(1)
	done := make(chan struct{})
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if r := c.runtime("list", "--format", "json"); !r.ok() {
				fail("list: %s", r)
			}
		}
	}()
	for i := range n {
		ids <- i
	}
	close(ids)
	close(done)
	wg.Wait()
	t.Logf("%d containers on %d workers in %v", n, workers, time.Since(begin).Round(time.Millisecond))
	for i, f := range failures {
		if i == 10 {
			t.Errorf("... and %d more failures", len(failures)-i)
			break
		}
		t.Error(f)
	}
	var left []string
	if ents, err := os.ReadDir(c.Root); err == nil {
		for _, e := range ents {
			left = append(left, "state root entry: "+e.Name())
		}
	}
	left = append(left, mountsUnder(c.Dir)...)
	left = append(left, cgroupDirsNamed(all...)...)
	left = append(left, procsOf([]string{c.Dir}, all)...)
	if len(left) > 0 {
		t.Errorf("%d containers left behind:\n  %s", n, strings.Join(left, "\n  "))
		reclaimIDs(all, []string{c.Dir})
	}
}
