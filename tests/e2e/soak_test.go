package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSoak (make soak; CARAPACE_SOAK=<lifecycles>, off otherwise) runs
// that many container lifecycles (create, start, exec, kill, delete; one
// in ten with run instead) and every 1,000 (CARAPACE_SOAK_EVERY) compares
// with the baseline taken after a warm-up: this process's fds, mounts
// under the run's directory, cgroup directories and state directories of
// the container, processes under its directory, and the peak RSS of the
// runtime's processes in the window. Host-wide counts (file handles,
// mounts, processes) are logged: other work on the host moves them.
func TestSoak(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CARAPACE_SOAK"))
	if n <= 0 {
		t.Skip("CARAPACE_SOAK=<lifecycles> runs it (make soak)")
	}
	every := 1000
	if v, err := strconv.Atoi(os.Getenv("CARAPACE_SOAK_EVERY")); err == nil && v > 0 {
		every = v
	}
	c := newContainer(t)
	c.Spec.Process.Args = []string{"sleep", "1000"}
	c.WriteSpec()
	runBundle := filepath.Join(c.Dir, "run-bundle")
	if err := os.Mkdir(runBundle, 0o755); err != nil {
		t.Fatal(err)
	}
	rc := *c
	rc.Bundle = runBundle
	rc.Spec.Process.Args = []string{"true"}
	rc.Spec.Root.Path = c.Rootfs
	rc.WriteSpec()

	var peak int64 // KiB, the largest runtime process of the window
	rt := func(args ...string) {
		cmd := exec.Command(runtimeBin, runtimeArgs(c.Root, args...)...)
		cmd.Dir = c.Dir
		out, err := os.CreateTemp(c.HostDir, "out")
		if err != nil {
			t.Fatal(err)
		}
		defer os.Remove(out.Name())
		defer out.Close()
		cmd.Stdout, cmd.Stderr = out, out
		if err := startTracked(cmd); err != nil {
			t.Fatal(err)
		}
		err = waitTracked(cmd)
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru.Maxrss > peak {
			peak = ru.Maxrss
		}
		if err != nil {
			t.Fatalf("%v: %v: %s", args, err, readFileString(out.Name()))
		}
	}
	lifecycle := func(i int) {
		if i%10 == 0 {
			rt("run", "--bundle", runBundle, c.ID)
			return
		}
		rt("create", "--bundle", c.Bundle, c.ID)
		rt("start", c.ID)
		rt("exec", c.ID, "true")
		rt("kill", c.ID, "KILL")
		rt("delete", "--force", c.ID)
	}
	type sample struct {
		fds, mounts, cgroups, states, procs int
		rss                                 int64
		hostFiles, hostMounts, hostProcs    int
	}
	measure := func() sample {
		s := sample{
			fds:     countDir("/proc/self/fd"),
			mounts:  len(mountsUnder(c.Dir)),
			cgroups: len(cgroupDirsNamed(c.ID)),
			states:  countDir(c.Root),
			procs:   len(procsOf([]string{c.Dir}, []string{c.ID})),
			rss:     peak,
		}
		if b, err := os.ReadFile("/proc/sys/fs/file-nr"); err == nil {
			s.hostFiles, _ = strconv.Atoi(strings.Fields(string(b))[0])
		}
		if b, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
			s.hostMounts = strings.Count(string(b), "\n")
		}
		s.hostProcs = countDir("/proc") // with its non-pid entries: a constant
		peak = 0
		return s
	}
	for i := 1; i <= 20; i++ { // warm-up: page cache, first-use paths
		lifecycle(i)
	}
	base := measure()
	start := time.Now()
	for i := 1; i <= n; i++ {
		lifecycle(i)
		if i%every != 0 && i != n {
			continue
		}
		s := measure()
		rate := float64(i) / time.Since(start).Seconds()
		t.Logf("%d lifecycles (%.1f/s): fds %d (base %d), mounts %d, cgroup dirs %d, state dirs %d, processes %d, runtime peak RSS %d KiB (base %d); host: file handles %+d, mounts %+d, /proc entries %+d",
			i, rate, s.fds, base.fds, s.mounts, s.cgroups, s.states, s.procs, s.rss, base.rss,
			s.hostFiles-base.hostFiles, s.hostMounts-base.hostMounts, s.hostProcs-base.hostProcs)
		var bad []string
		if s.fds != base.fds {
			bad = append(bad, fmt.Sprintf("fds %d, base %d", s.fds, base.fds))
		}
		if s.mounts != 0 || s.cgroups != 0 || s.states != 0 || s.procs != 0 {
			bad = append(bad, fmt.Sprintf("left: mounts %d, cgroup dirs %d, state dirs %d, processes %d", s.mounts, s.cgroups, s.states, s.procs))
		}
		// A fresh process each time: its peak must not grow with the
		// number of containers it has seen (state, records).
		if s.rss > base.rss+base.rss/4+2048 {
			bad = append(bad, fmt.Sprintf("runtime peak RSS %d KiB, base %d KiB", s.rss, base.rss))
		}
		if len(bad) > 0 {
			t.Fatalf("after %d lifecycles: %s", i, strings.Join(bad, "; "))
		}
	}
}

// countDir is the number of entries in dir (0 if it cannot be read).
func countDir(dir string) int {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	return len(ents)
}
