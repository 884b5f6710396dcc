// Package mountinfo reads the kernel's /proc/<pid>/mountinfo: the one
// parser for the runtime's packages that look at the mount table (cgroup
// hierarchies, the host mounts --no-pivot hides).
package mountinfo

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
)

// Mount is one line of mountinfo, with its paths unescaped.
type Mount struct {
	// Root is the path of the filesystem shown at Point ("/" for its
	// root; a subdirectory for a bind mount of it).
	Root  string
	Point string
	// FSType, Source and SuperOptions come after the " - " separator.
	FSType       string
	Source       string
	SuperOptions string
}

// Self reads the calling process's mount table.
func Self() ([]Mount, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	return Parse(b), nil
}

// Parse reads mountinfo text; lines it cannot read are skipped.
func Parse(b []byte) []Mount {
	var ms []Mount
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if len(pf) < 5 || len(qf) < 1 {
			continue
		}
		m := Mount{Root: Unescape(pf[3]), Point: Unescape(pf[4]), FSType: qf[0]}
		if len(qf) > 1 {
			m.Source = Unescape(qf[1])
		}
		if len(qf) > 2 {
			m.SuperOptions = qf[2]
		}
		ms = append(ms, m)
	}
	return ms
}

// Unescape undoes the kernel's octal escapes (\040 for a space, \011,
// \012, \134) in a mountinfo field; anything else is kept as it is.
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if c, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(c))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
