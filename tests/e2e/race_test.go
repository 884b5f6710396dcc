package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Races: two verbs on one container, run together, give one winner and a
// clear error for the loser, and leave nothing behind. Each race runs
// raceIterations times; by the iteration's number mod 3 the first verb
// runs wholly before the second, the second before the first, or both
// start together (released by one channel close), so both orders are
// seen whatever the scheduler does.

// raceIterations is CARAPACE_E2E_RACE_ITERATIONS, 30 by default.
func raceIterations() int {
	if n, err := strconv.Atoi(os.Getenv("CARAPACE_E2E_RACE_ITERATIONS")); err == nil && n > 0 {
		return n
	}
	return 30
}

// race runs a and b in the order iteration i picks (see above).
func race(i int, a, b func() result) (ra, rb result) {
	switch i % 3 {
	case 0:
		ra = a()
		rb = b()
	case 1:
		rb = b()
		ra = a()
	default:
		var wg sync.WaitGroup
		start := make(chan struct{})
		wg.Add(2)
		go func() { defer wg.Done(); <-start; ra = a() }()
		go func() { defer wg.Done(); <-start; rb = b() }()
		close(start)
		wg.Wait()
	}
	return ra, rb
}

// raceOrder names the order of iteration i, for messages.
func raceOrder(i int) string {
	return [...]string{"first, then second", "second, then first", "together"}[i%3]
}

// raceContainer is iteration i's container: c's bundle and root, an id of
// its own.
func raceContainer(c *Container, i int) *Container {
	k := *c
	k.ID = c.ID + "-" + strconv.Itoa(i)
	registerID(k.ID)
	return &k
}

// checkLoser requires r to be a clear failure: non-zero exit, stderr naming
// the container and saying one of the reasons in want.
func checkLoser(t *testing.T, when string, r result, id string, want ...string) {
	t.Helper()
	if !r.failed() {
		t.Errorf("%s: want a failure: %s", when, r)
		return
	}
	if strings.Contains(r.Stderr, "panic") || strings.Contains(r.Stderr, "goroutine ") {
		t.Errorf("%s: the runtime crashed: %s", when, r)
		return
	}
	if !strings.Contains(r.Stderr, `"`+id+`"`) {
		t.Errorf("%s: the error does not name container %q: %s", when, id, r)
	}
	for _, w := range want {
		if strings.Contains(r.Stderr, w) {
			return
		}
	}
	t.Errorf("%s: the error says none of %q: %s", when, want, r)
}

// createSleeper creates k with `sleep 1000` (c's spec, written once).
func mustCreateSleeper(t *testing.T, k *Container) {
	t.Helper()
	if r := k.runtime("create", "--bundle", k.Bundle, k.ID); !r.ok() {
		t.Fatalf("create %s: %s", k.ID, r)
	}
}

func newRaceBundle(t *testing.T) *Container {
	requireCarapace(t)
	c := newContainer(t)
	c.Spec.Process.Args = []string{"sleep", "1000"}
	c.WriteSpec()
	return c
}

// eachRace runs one race per iteration, each on a container of its own:
// iteration runs and checks it, and returns what it did for the messages.
// Then the container is deleted and nothing of it may be left; the first
// iteration that failed ends the test.
func eachRace(t *testing.T, iteration func(i int, k *Container) (when string)) {
	c := newRaceBundle(t)
	for i := range raceIterations() {
		k := raceContainer(c, i)
		when := iteration(i, k)
		k.runtime("delete", "--force", k.ID)
		k.checkNoLeftovers(when)
		if t.Failed() {
			break
		}
	}
}

// TestRaceStartDelete: start and delete --force of a created container.
// delete --force always succeeds; start succeeds (delete then kills what
// it started) or fails saying that the container does not exist.
func TestRaceStartDelete(t *testing.T) {
	eachRace(t, func(i int, k *Container) string {
		mustCreateSleeper(t, k)
		rs, rd := race(i, func() result { return k.runtime("start", k.ID) },
			func() result { return k.runtime("delete", "--force", k.ID) })
		when := fmt.Sprintf("iteration %d (start, delete --force: %s)", i, raceOrder(i))
		if !rd.ok() {
			t.Errorf("%s: delete --force: %s", when, rd)
		}
		if !rs.ok() {
			checkLoser(t, when+": start", rs, k.ID, "does not exist")
		}
		return when
	})
}

// TestRaceKillDelete: kill KILL and delete of a running container. With
// --force, delete always succeeds and kill succeeds or says the container
// does not exist or does not run; without it, delete succeeds once init
// is gone, and otherwise says that the container runs (also right after
// kill returned: as runc's, kill does not wait for init to die).
func TestRaceKillDelete(t *testing.T) {
	eachRace(t, func(i int, k *Container) string {
		force := i%2 == 0
		mustCreateSleeper(t, k)
		if r := k.runtime("start", k.ID); !r.ok() {
			t.Fatalf("start: %s", r)
		}
		del := []string{"delete", k.ID}
		if force {
			del = []string{"delete", "--force", k.ID}
		}
		rk, rd := race(i, func() result { return k.runtime("kill", k.ID, "KILL") },
			func() result { return k.runtime(del...) })
		when := fmt.Sprintf("iteration %d (kill KILL, %s: %s)", i, strings.Join(del[:len(del)-1], " "), raceOrder(i))
		if force && !rd.ok() {
			t.Errorf("%s: delete --force: %s", when, rd)
		}
		if !force && !rd.ok() {
			checkLoser(t, when+": delete", rd, k.ID, "is running: stop it first")
		}
		if !rk.ok() {
			checkLoser(t, when+": kill", rk, k.ID, "does not exist", "container not running")
		}
		return when
	})
}

// TestRaceCreateCreate: two creates of one id: exactly one wins, the other
// says the container exists, and the winner's container is whole.
func TestRaceCreateCreate(t *testing.T) {
	eachRace(t, func(i int, k *Container) string {
		create := func() result { return k.runtime("create", "--bundle", k.Bundle, k.ID) }
		r1, r2 := race(i, create, create)
		when := fmt.Sprintf("iteration %d (create, create: %s)", i, raceOrder(i))
		switch {
		case r1.ok() && r2.ok():
			t.Errorf("%s: both creates succeeded:\n%s\n%s", when, r1, r2)
		case !r1.ok() && !r2.ok():
			t.Errorf("%s: both creates failed:\n%s\n%s", when, r1, r2)
		case r1.ok():
			checkLoser(t, when+": second create", r2, k.ID, "already exists")
		default:
			checkLoser(t, when+": first create", r1, k.ID, "already exists")
		}
		if s, r := k.State(); !r.ok() || s.Status != "created" {
			t.Errorf("%s: the winner's container: want created: %+v %s", when, s, r)
		}
		if r := k.runtime("start", k.ID); !r.ok() {
			t.Errorf("%s: start of the winner's container: %s", when, r)
		}
		if r := k.runtime("delete", "--force", k.ID); !r.ok() {
			t.Errorf("%s: delete --force: %s", when, r)
		}
		return when
	})
}

// TestRaceCreateDelete: create and delete of one id. Delete --force
// succeeds whichever comes first: before create, there is nothing to
// delete; during create, it waits for it and deletes what it made. Create
// succeeds (delete cannot remove a container under a create at work), and
// without --force delete says that the container does not exist or is
// created.
func TestRaceCreateDelete(t *testing.T) {
	eachRace(t, func(i int, k *Container) string {
		force := i%2 == 0
		del := []string{"delete", k.ID}
		if force {
			del = []string{"delete", "--force", k.ID}
		}
		rc, rd := race(i, func() result { return k.runtime("create", "--bundle", k.Bundle, k.ID) },
			func() result { return k.runtime(del...) })
		when := fmt.Sprintf("iteration %d (create, %s: %s)", i, strings.Join(del[:len(del)-1], " "), raceOrder(i))
		if !rc.ok() {
			t.Errorf("%s: create: %s", when, rc)
		}
		if force && !rd.ok() {
			t.Errorf("%s: delete --force: %s", when, rd)
		}
		if !force && !rd.ok() {
			checkLoser(t, when+": delete", rd, k.ID, "does not exist", "is created: stop it first")
		}
		return when
	})
}

// TestRaceExecDelete: exec and delete --force of a running container.
// delete --force always succeeds; exec runs its process (which delete may
// kill: 137) or says that the container does not exist or is stopped,
// also when it stopped while exec set up (exec used to say "send
// bootstrap: broken pipe" then).
func TestRaceExecDelete(t *testing.T) {
	eachRace(t, func(i int, k *Container) string {
		mustCreateSleeper(t, k)
		if r := k.runtime("start", k.ID); !r.ok() {
			t.Fatalf("start: %s", r)
		}
		re, rd := race(i, func() result { return k.runtime("exec", k.ID, "sh", "-c", "echo ran") },
			func() result { return k.runtime("delete", "--force", k.ID) })
		when := fmt.Sprintf("iteration %d (exec, delete --force: %s)", i, raceOrder(i))
		if !rd.ok() {
			t.Errorf("%s: delete --force: %s", when, rd)
		}
		switch {
		case re.ok():
			if re.Stdout != "ran\n" {
				t.Errorf("%s: exec succeeded without running its process: %s", when, re)
			}
		case re.Code == 128+9 && re.Stderr == "":
			// Run, then killed by delete.
		default:
			checkLoser(t, when+": exec", re, k.ID, "does not exist", "is stopped", "stopped while exec set its process up")
		}
		return when
	})
}

// TestRaceStateListDuringLifecycle: state and list, run in a loop while a
// container is created, started and deleted, always answer: state with
// the container's valid state or "does not exist", list with valid JSON
// (a container half made or half deleted never fails it). Once created,
// a container is never again reported as creating.
func TestRaceStateListDuringLifecycle(t *testing.T) {
	c := newRaceBundle(t)
	valid := map[string]bool{"creating": true, "created": true, "running": true, "stopped": true}
	for i := range raceIterations() {
		k := raceContainer(c, i)
		var stop atomic.Bool
		var wg sync.WaitGroup
		var mu sync.Mutex
		var problems []string
		var seen []string
		report := func(format string, args ...any) {
			mu.Lock()
			problems = append(problems, fmt.Sprintf(format, args...))
			mu.Unlock()
		}
		var states, lists atomic.Int64
		wg.Add(2)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				r := k.runtime("state", k.ID)
				states.Add(1)
				if !r.ok() {
					if !r.failed() || !strings.Contains(r.Stderr, `container "`+k.ID+`": container does not exist`) {
						report("state: %s", r)
					}
					continue
				}
				var s State
				if err := json.Unmarshal([]byte(r.Stdout), &s); err != nil || s.ID != k.ID || !valid[s.Status] {
					report("state: not a valid state (%v): %s", err, r)
					continue
				}
				mu.Lock()
				seen = append(seen, s.Status)
				mu.Unlock()
			}
		}()
		go func() {
			defer wg.Done()
			for !stop.Load() {
				r := k.runtime("list", "--format", "json")
				lists.Add(1)
				var l []State
				if !r.ok() || json.Unmarshal([]byte(r.Stdout), &l) != nil {
					report("list: %s", r)
					continue
				}
				for _, s := range l {
					if s.ID != k.ID || !valid[s.Status] {
						report("list: unexpected entry %+v: %s", s, r)
					}
				}
			}
		}()
		if r := k.runtime("create", "--bundle", k.Bundle, k.ID); !r.ok() {
			t.Errorf("iteration %d: create: %s", i, r)
		}
		if r := k.runtime("start", k.ID); !r.ok() {
			t.Errorf("iteration %d: start: %s", i, r)
		}
		if r := k.runtime("delete", "--force", k.ID); !r.ok() {
			t.Errorf("iteration %d: delete --force: %s", i, r)
		}
		stop.Store(true)
		wg.Wait()
		for _, p := range problems {
			t.Errorf("iteration %d: %s", i, p)
		}
		for j := 1; j < len(seen); j++ {
			if seen[j] == "creating" && seen[j-1] != "creating" {
				t.Errorf("iteration %d: state said creating after %s: %v", i, seen[j-1], seen)
				break
			}
		}
		t.Logf("iteration %d: %d states, %d lists", i, states.Load(), lists.Load())
		k.checkNoLeftovers(fmt.Sprintf("iteration %d", i))
		if t.Failed() {
			break
		}
	}
}
