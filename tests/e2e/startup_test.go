package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// textResidency returns the size and resident size in kB of the one
// file-backed executable mapping of process pid: the runtime's code (the
// binary is static, and its vDSO is not file-backed).
func textResidency(t *testing.T, pid int) (size, rss int) {
	t.Helper()
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var inText bool
	var found int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			// A mapping's header: range, perms, offset, dev, inode[, path].
			inText = fields[1] == "r-xp" && fields[4] != "0"
			if inText {
				found++
			}
			continue
		}
		if !inText || len(fields) < 2 {
			continue
		}
		switch fields[0] {
		case "Size:":
			size, _ = strconv.Atoi(fields[1])
		case "Rss:":
			rss, _ = strconv.Atoi(fields[1])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if found != 1 {
		t.Fatalf("pid %d has %d file-backed executable mappings, want the runtime's one", pid, found)
	}
	return size, rss
}

// requirePopulateRead skips on kernels without MADV_POPULATE_READ (before
// 5.14), where the runtime's code faults in as it runs.
func requirePopulateRead(t *testing.T) {
	t.Helper()
	page, err := unix.Mmap(-1, 0, os.Getpagesize(), unix.PROT_READ, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(page)
	if err := unix.Madvise(page, unix.MADV_POPULATE_READ); errors.Is(err, unix.EINVAL) {
		t.Skip("the kernel has no MADV_POPULATE_READ")
	}
}

// foregroundRun starts c with a foreground run and returns the run
// process's pid once the container runs; the container is killed and run
// waited for at the end of the test.
func foregroundRun(t *testing.T, c *Container) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	cmd := exec.CommandContext(ctx, runtimeBin, runtimeArgs(c.Root, "run", "--bundle", c.Bundle, c.ID)...)
	if err := startTracked(cmd); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Kill("KILL")
		waitTracked(cmd)
		cancel()
	})
	waitFor(t, 10*time.Second, "the container running", func() bool {
		st, r := c.State()
		return r.ok() && st.Status == "running"
	})
	return cmd.Process.Pid
}

// TestTextPrefaulted: every process of the runtime maps its whole code
// in at start (nsenter.c prefault_text, one MADV_POPULATE_READ) rather
// than faulting it in 16 pages at a time: the CLI (a foreground run) and
// a container's init, which gets there through nsenter's namespace joins
// and its fork into the new pid namespace.
func TestTextPrefaulted(t *testing.T) {
	requireCarapace(t)
	requirePopulateRead(t)
	t.Parallel()
	c := newContainer(t)
	c.Spec.Process.Args = []string{"sleep", "1000"}
	c.WriteSpec()

	c.mustCreate()
	st := c.mustState()
	if size, rss := textResidency(t, st.Pid); rss != size {
		t.Errorf("init (created, waiting for start): code resident %d of %d kB, want all of it", rss, size)
	}
	if r := c.Delete(true); !r.ok() {
		t.Fatalf("delete: %s", r)
	}

	pid := foregroundRun(t, c)
	if size, rss := textResidency(t, pid); rss != size {
		t.Errorf("run (the CLI, waiting for the container): code resident %d of %d kB, want all of it", rss, size)
	}
}

// glibcThreadArenas counts the malloc arenas glibc made for threads other
// than the main one in process pid: each is a 64 MiB-aligned reservation
// of 64 MiB whose first part is read-write (132 KiB at first) and the rest
// PROT_NONE. The Go heap's arenas are 64 MiB-aligned too, but their
// read-write part grows in 4 MiB chunks.
func glibcThreadArenas(t *testing.T, pid int) int {
	t.Helper()
	const heapMax = 64 << 20
	type mapping struct {
		lo, hi uint64
		perms  string
		anon   bool
	}
	var maps []mapping
	for _, l := range lines(readFileString("/proc/" + strconv.Itoa(pid) + "/maps")) {
		f := strings.Fields(l)
		if len(f) < 5 {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		if !ok {
			continue
		}
		var m mapping
		var err1, err2 error
		m.lo, err1 = strconv.ParseUint(lo, 16, 64)
		m.hi, err2 = strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("/proc/%d/maps: bad line %q", pid, l)
		}
		m.perms, m.anon = f[1], len(f) == 5 && f[4] == "0"
		maps = append(maps, m)
	}
	n := 0
	for i := 0; i+1 < len(maps); i++ {
		rw, rest := maps[i], maps[i+1]
		if rw.anon && rw.perms == "rw-p" && rw.lo%heapMax == 0 && (rw.hi-rw.lo)%(4<<20) != 0 &&
			rest.anon && rest.perms == "---p" && rest.lo == rw.hi && rest.hi == rw.lo+heapMax {
			n++
		}
	}
	return n
}

// TestOneMallocArena: the runtime's threads all use glibc's main malloc
// arena (nsenter.c one_malloc_arena). Each thread the Go runtime starts
// through pthread_create frees its start record on itself, and glibc
// otherwise gave each such thread an arena of its own: a 128 MiB
// reservation trimmed to 64 MiB, an mprotect and page faults in every
// process of the runtime.
func TestOneMallocArena(t *testing.T) {
	requireCarapace(t)
	t.Parallel()
	c := newContainer(t)
	c.Spec.Process.Args = []string{"sleep", "1000"}
	c.WriteSpec()
	pid := foregroundRun(t, c)
	if n := glibcThreadArenas(t, pid); n != 0 {
		t.Errorf("run (the CLI, waiting for the container) has %d glibc thread arenas, want none (one arena for every thread)", n)
	}
}

// TestHeapProfilingOffFromStart: the binary's compiled-in GODEBUG (the
// Makefile's runtime.godebugDefault) holds memprofilerate=0. The linker
// turns heap profiling off only once schedinit has allocated, and the
// first allocations were sampled (a stack walk and the profiler's tables
// at every start); GODEBUG is read before the heap exists. Nothing outside
// the process sees MemProfileRate, so the build itself is checked.
func TestHeapProfilingOffFromStart(t *testing.T) {
	requireCarapace(t)
	bin, err := os.ReadFile(runtimeBin)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(bin, []byte("memprofilerate=0")) {
		t.Errorf("%s has no memprofilerate=0 in its compiled-in GODEBUG (built without the Makefile?)", runtimeBin)
	}
}
