package gen

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

type (
	withMarshaler  struct{ A int }
	withPtrMarshal struct{ A int }
	withText       string
	withFloat      struct{ F float64 }
	withString     struct {
		N int `json:"n,string"`
	}
	withOmitZero struct {
		N int `json:"n,omitzero"`
	}
	withArray       struct{ A [2]int }
	withMethodIface struct{ E error }
	withIntKey      struct{ M map[int]string }
	withBadName     struct {
		N int `json:"a'b"`
	}
	withEmbeddedPtr struct{ *withFloat }
	withUnexpNamed  struct {
		inner `json:"in"`
	}
	inner struct{ A int }
	// inside a slice, behind a pointer, as a map value
	deepMarshaler struct{ S []map[string]*withMarshaler }
)

func (withMarshaler) MarshalJSON() ([]byte, error)   { return []byte(`1`), nil }
func (*withPtrMarshal) MarshalJSON() ([]byte, error) { return []byte(`1`), nil }
func (withText) MarshalText() ([]byte, error)        { return []byte(`t`), nil }

var _ json.Marshaler = withMarshaler{}

// TestEncodeRefuses: what the encoders could not write exactly as
// encoding/json does is a generation error naming it.
func TestEncodeRefuses(t *testing.T) {
	for _, c := range []struct {
		typ  reflect.Type
		want string
	}{
		{reflect.TypeFor[withMarshaler](), "MarshalJSON or MarshalText"},
		{reflect.TypeFor[withPtrMarshal](), "MarshalJSON or MarshalText"},
		{reflect.TypeFor[struct{ T withText }](), "anonymous struct"},
		{reflect.TypeFor[map[string]withText](), "MarshalJSON or MarshalText"},
		{reflect.TypeFor[withFloat](), "unsupported kind float64"},
		{reflect.TypeFor[withString](), "the ,string option"},
		{reflect.TypeFor[withOmitZero](), "the ,omitzero option"},
		{reflect.TypeFor[withArray](), "unsupported kind array"},
		{reflect.TypeFor[withMethodIface](), "interface error with methods"},
		{reflect.TypeFor[withIntKey](), "only string keys"},
		{reflect.TypeFor[withBadName](), `field name "a'b"`},
		{reflect.TypeFor[withEmbeddedPtr](), "embedded"},
		{reflect.TypeFor[withUnexpNamed](), "unexported embedded field with a name"},
		{reflect.TypeFor[deepMarshaler](), "MarshalJSON or MarshalText"},
	} {
		_, err := Generate(Config{Package: "gen", PkgPath: reflect.TypeFor[inner]().PkgPath(), Encode: []reflect.Type{c.typ}})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error with %q", c.typ, err, c.want)
		}
	}
}
