// Package enctest holds the types whose generated encoders test the
// generator's edge cases against encoding/json (encode_test.go): the
// runtime's own types have few of them.
package enctest

import (
	"encoding/json"
	"time"
)

//go:generate go run -tags jsonfast_gen ../cmd -config enctest

// Edge has a field of every shape the generator encodes.
type Edge struct {
	Inner    // promoted: x, y, in their place
	*Skipped `json:"-"`
	Dash     string            `json:"-"`
	DashName string            `json:"-,"` // named "-"
	Named    Name              `json:"named,omitempty"`
	Bytes    []byte            `json:"bytes"`
	BytesO   []byte            `json:"bytesO,omitempty"`
	MyBytes  Blob              `json:"myBytes"`
	Raw      json.RawMessage   `json:"raw"`
	RawO     json.RawMessage   `json:"rawO,omitempty"`
	When     time.Time         `json:"when"`
	WhenO    time.Time         `json:"whenO,omitempty"` // a struct: never empty
	WhenP    *time.Time        `json:"whenP,omitempty"`
	Any      any               `json:"any"`
	AnyO     any               `json:"anyO,omitempty"`
	Map      map[Name]int8     `json:"map"`
	MapO     map[string]*Inner `json:"mapO,omitempty"`
	Slice    []Inner           `json:"slice"`
	SliceP   []*int            `json:"sliceP,omitempty"`
	SS       [][]string        `json:"ss"`
	PP       **int             `json:"pp"`
	U8       uint8
	I16      int16  `json:",omitempty"`
	U        uint   `json:"u,omitempty"`
	B        bool   `json:"b,omitempty"`
	HTML     string `json:"<&>"`
	NoTag    string
	Nested   Deep  `json:"nested"`
	MyBool   Flag  `json:"myBool,omitempty"`
	Count    Count `json:"count"`
	hidden   int
}

// Inner is embedded, pointed to and listed.
type Inner struct {
	X string `json:"x,omitempty"`
	Y int64  `json:"y"`
}

// Deep embeds with a name, which makes a field of it.
type Deep struct {
	Inner `json:"inner"`
	All   *AllOmit `json:"all"`
	E     Empty    `json:"e,omitempty"`
}

// AllOmit has only omitempty fields: whether a comma goes before each is
// known only at run time.
type AllOmit struct {
	A string `json:"a,omitempty"`
	B int    `json:"b,omitempty"`
	C *int   `json:"c,omitempty"`
	D []int  `json:"d,omitempty"`
}

// Empty has no fields.
type Empty struct{}

// Skipped is embedded under "-".
type Skipped struct{ Z int }

type (
	Name  string
	Blob  []byte
	Flag  bool
	Count uint16
)

// Use keeps vet quiet about hidden.
func (e *Edge) Use() int { return e.hidden }
