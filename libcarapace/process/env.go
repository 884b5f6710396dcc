package process

import "strings"

// Environ is the process's environment as runc gives it: each variable
// once, with its last value, in the order of those last occurrences; an
// empty HOME counts as unset; without HOME, home() (the user's directory
// in the container's /etc/passwd, or "/") is added, as a login would.
func Environ(env []string, home func() string) []string {
	seen := make(map[string]bool, len(env))
	out := make([]string, 0, len(env)+1)
	hasHome := false
	for i := len(env) - 1; i >= 0; i-- {
		name, val, _ := strings.Cut(env[i], "=")
		if seen[name] {
			continue
		}
		seen[name] = true
		if name == "HOME" {
			if val == "" {
				continue
			}
			hasHome = true
		}
		out = append(out, env[i])
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	if !hasHome {
		out = append(out, "HOME="+home())
	}
	return out
}
