// Package signals parses signal names and numbers the way runc's kill does:
// "KILL", "SIGKILL" and "9" are the same signal.
package signals

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Parse turns a signal name or number into a signal.
func Parse(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		// 0 sends nothing and only checks the process is there: a
		// liveness probe (kill ID 0), as with runc and kill(2).
		if n < 0 || n > 64 {
			return 0, fmt.Errorf("signal %q: out of range", s)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	// Real-time signals: SIGRTMIN+n, SIGRTMAX-n.
	const rtmin, rtmax = 34, 64
	if rest, ok := strings.CutPrefix(name, "SIGRTMIN"); ok {
		return rtOffset(s, rest, rtmin, 1)
	}
	if rest, ok := strings.CutPrefix(name, "SIGRTMAX"); ok {
		return rtOffset(s, rest, rtmax, -1)
	}
	return 0, fmt.Errorf("signal %q: unknown signal", s)
}

func rtOffset(orig, rest string, base, dir int) (unix.Signal, error) {
	if rest == "" {
		return unix.Signal(base), nil
	}
	sign := "+"
	if dir < 0 {
		sign = "-"
	}
	digits, ok := strings.CutPrefix(rest, sign)
	n, err := strconv.Atoi(digits)
	if err != nil || !ok || digits == "" || digits[0] < '0' || digits[0] > '9' || n > 30 {
		return 0, fmt.Errorf("signal %q: unknown signal", orig)
	}
	return unix.Signal(base + dir*n), nil
}
