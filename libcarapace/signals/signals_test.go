package signals

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    unix.Signal
		wantErr string // substring; "" means success
	}{
		{"KILL", unix.SIGKILL, ""},
		{"SIGKILL", unix.SIGKILL, ""},
		{"kill", unix.SIGKILL, ""},
		{"sigkill", unix.SIGKILL, ""},
		{"9", unix.SIGKILL, ""},
		{"TERM", unix.SIGTERM, ""},
		{"15", unix.SIGTERM, ""},
		{"USR1", unix.SIGUSR1, ""},
		{"SIGUSR2", unix.SIGUSR2, ""},
		{"HUP", unix.SIGHUP, ""},
		{"WINCH", unix.SIGWINCH, ""},
		{"1", unix.SIGHUP, ""},
		{"64", unix.Signal(64), ""},
		{"SIGRTMIN", unix.Signal(34), ""},
		{"RTMIN", unix.Signal(34), ""},
		{"RTMIN+3", unix.Signal(37), ""},
		{"rtmin+3", unix.Signal(37), ""},
		{"SIGRTMIN+30", unix.Signal(64), ""},
		{"SIGRTMAX", unix.Signal(64), ""},
		{"SIGRTMAX-2", unix.Signal(62), ""},
		{"RTMAX-30", unix.Signal(34), ""},
		{"0", 0, ""}, // kill ID 0: a liveness probe, as with runc
		{"-1", 0, "out of range"},
		{"-9", 0, "out of range"},
		{"65", 0, "out of range"},
		{"SIGFOO", 0, `signal "SIGFOO": unknown signal`},
		{"FOO", 0, `signal "FOO": unknown signal`},
		{"", 0, "unknown signal"},
		{"SIG", 0, "unknown signal"},
		{"RTMIN+31", 0, `signal "RTMIN+31": unknown signal`},
		{"RTMAX-31", 0, "unknown signal"},
		{"RTMIN-1", 0, "unknown signal"},
		{"RTMAX+1", 0, "unknown signal"},
		{"RTMIN+", 0, "unknown signal"},
		{"RTMIN+x", 0, "unknown signal"},
		{"RTMIN3", 0, "unknown signal"},
		{"9x", 0, "unknown signal"},
		{" KILL", 0, "unknown signal"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.wantErr == "" {
				if err != nil || got != tc.want {
					t.Fatalf("Parse(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Parse(%q) = %d, %v; want error containing %q", tc.in, got, err, tc.wantErr)
			}
		})
	}
}

func TestParseRealtimeDoubleSign(t *testing.T) {
	for _, s := range []string{"RTMIN++3", "SIGRTMAX-+2", "RTMIN+-0"} {
		if n, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) = %d, want an error", s, n)
		}
	}
}
