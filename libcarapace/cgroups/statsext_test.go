package cgroups

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// Pressure files exist only on cgroup v2, which this host's controllers
// are not: a fake tree.
func TestPSI(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("cpu.pressure", "some avg10=1.50 avg60=2.00 avg300=3.25 total=100000\nfull avg10=0.10 avg60=0.20 avg300=0.30 total=50000\n")
	write("io.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=7\n")
	tests := []struct {
		file string
		want *PSIStats
	}{
		{"cpu.pressure", &PSIStats{Some: PSIData{1.5, 2, 3.25, 100000}, Full: PSIData{0.1, 0.2, 0.3, 50000}}},
		{"io.pressure", &PSIStats{Some: PSIData{Total: 7}}},
		{"memory.pressure", nil}, // no PSI in the kernel
	}
	for _, tc := range tests {
		if got := psi(dir, tc.file); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("psi(%s) = %+v, want %+v", tc.file, got, tc.want)
		}
	}
}

func TestCPUList(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		in   string
		want []uint16
	}{
		{"0", []uint16{0}},
		{"0-2,4", []uint16{0, 1, 2, 4}},
		{"1,3-4\n", []uint16{1, 3, 4}},
		{"", nil},
		{"2-1", nil},
		{"x", nil},
	}
	for _, tc := range tests {
		if err := os.WriteFile(filepath.Join(dir, "cpuset.cpus"), []byte(tc.in), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := cpuList(dir, "cpuset.cpus"); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("cpuList(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
