package mountinfo

import (
	"reflect"
	"testing"
)

func TestUnescape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/plain", "/plain"},
		{`a\040b`, "a b"},
		{`\040`, " "},
		{`\040\040`, "  "},
		{`\134`, `\`},
		{`/tab\011x\012y`, "/tab\tx\ny"},
		{`/end\040`, "/end "},
		{`/short\04`, `/short\04`},
		{`a\`, `a\`},
		{`/bad\999`, `/bad\999`},
	} {
		if got := Unescape(tc.in); got != tc.want {
			t.Errorf("Unescape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParse(t *testing.T) {
	in := "22 1 0:21 / /proc rw,nosuid shared:12 - proc proc rw\n" +
		"30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw shared:9 - cgroup cgroup rw,cpu,cpuacct\n" +
		"40 22 0:30 /sub /mnt/a\\040b rw - ext4 /dev/vda\\0401 rw,errors=remount-ro\n" +
		"garbage without a separator\n" +
		"41 22 0:31 / /short - tmpfs\n"
	want := []Mount{
		{Root: "/", Point: "/proc", FSType: "proc", Source: "proc", SuperOptions: "rw"},
		{Root: "/", Point: "/sys/fs/cgroup/cpu,cpuacct", FSType: "cgroup", Source: "cgroup", SuperOptions: "rw,cpu,cpuacct"},
		{Root: "/sub", Point: "/mnt/a b", FSType: "ext4", Source: "/dev/vda 1", SuperOptions: "rw,errors=remount-ro"},
		{Root: "/", Point: "/short", FSType: "tmpfs"},
	}
	if got := Parse([]byte(in)); !reflect.DeepEqual(got, want) {
		t.Errorf("Parse:\n got %+v\nwant %+v", got, want)
	}
}
