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

	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, runtimeBin, runtimeArgs(c.Root, "run", "--bundle", c.Bundle, c.ID)...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := startTracked(cmd); err != nil {
		t.Fatal(err)
	}
	defer waitTracked(cmd)
	defer c.Kill("KILL")
	waitFor(t, 10*time.Second, "the container running", func() bool {
		st, r := c.State()
		return r.ok() && st.Status == "running"
	})
	if size, rss := textResidency(t, cmd.Process.Pid); rss != size {
		t.Errorf("run (the CLI, waiting for the container): code resident %d of %d kB, want all of it", rss, size)
	}
}
