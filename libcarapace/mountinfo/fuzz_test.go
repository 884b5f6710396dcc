package mountinfo

import (
	"os"
	"strings"
	"testing"
)

// FuzzMountinfo: Parse takes any text (a kernel with more fields, a line
// cut short, escapes) and never panics; the fields it returns are the
// line's, unescaped, so never longer than the line.
func FuzzMountinfo(f *testing.F) {
	b, err := os.ReadFile("testdata/host-mountinfo")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	for _, s := range []string{"", " - ", "1 2 3:4 / /mnt rw - ", `36 35 98:0 /mnt\0401 /a\134b rw,noatime master:1 - ext3 /dev/root rw,errors=continue`,
		`1 2 3 / /x\04 - t s o`, `1 2 3 / /x\999 - t s o`, "1 2 3 4 5 6 7 8 9 - a b c d e f"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, m := range Parse(data) {
			for _, v := range []string{m.Root, m.Point, m.FSType, m.Source, m.SuperOptions} {
				if len(v) > len(data) {
					t.Errorf("field %q longer than the input", v)
				}
				if strings.Contains(v, "\n") && !strings.Contains(string(data), `\012`) {
					t.Errorf("field %q spans lines", v)
				}
			}
		}
		u := Unescape(string(data))
		if len(u) > len(data) {
			t.Errorf("Unescape made %d bytes of %d", len(u), len(data))
		}
	})
}
