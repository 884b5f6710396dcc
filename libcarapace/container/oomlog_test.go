package container

import (
	"os"
	"testing"
)

// TestOOMLog: a record logged after the log was opened that names a pid as
// the OOM killer's victim is found for that pid, and for no other; records
// from before the log was opened are not read.
func TestOOMLog(t *testing.T) {
	before, err := os.OpenFile("/dev/kmsg", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("cannot write the kernel's log: %v", err)
	}
	defer before.Close()
	// A victim of the past: not to be found.
	before.WriteString("carapace TestOOMLog: Memory cgroup out of memory: Killed process 999001 (old)\n")
	l := openOOMLog()
	if l == nil {
		t.Skip("cannot read /dev/kmsg")
	}
	defer l.close()
	before.WriteString("carapace TestOOMLog: Memory cgroup out of memory: Killed process 999002 (sh) total-vm:1kB\n")
	if l.killed(999001) {
		t.Errorf("a record from before the log was opened was read")
	}
	before.WriteString("carapace TestOOMLog: Memory cgroup out of memory: Killed process 999002 (sh) total-vm:1kB\n")
	if !l.killed(999002) {
		t.Errorf("the kill of 999002 was not found")
	}
	before.WriteString("carapace TestOOMLog: Killed process 9990033 (sh)\n")
	if l.killed(999003) {
		t.Errorf("pid 999003 found in a record of 9990033")
	}
}
