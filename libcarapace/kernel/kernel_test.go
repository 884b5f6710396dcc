package kernel

import "testing"

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Version
		ok   bool
	}{
		{"6.1.0-27-amd64", Version{6, 1}, true},
		{"5.14.0-427.el9.x86_64", Version{5, 14}, true},
		{"6.18.44-fc-v1272", Version{6, 18}, true},
		{"5.6", Version{5, 6}, true},
		{"4.19+", Version{4, 19}, true},
		{"6", Version{}, false},
		{"x.y", Version{}, false},
	} {
		got, err := Parse(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("Parse(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestMinimum(t *testing.T) {
	for _, tc := range []struct {
		v    Version
		less bool
	}{
		{Version{4, 19}, true}, {Version{5, 5}, true}, {Version{5, 6}, false},
		{Version{5, 10}, false}, {Version{6, 0}, false},
	} {
		if got := tc.v.Less(Minimum); got != tc.less {
			t.Errorf("%v.Less(%v) = %v, want %v", tc.v, Minimum, got, tc.less)
		}
	}
	if err := Check(); err != nil {
		t.Errorf("Check on this machine: %v", err)
	}
}
