package cgroups

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/carapace-oci/carapace/libcarapace/internal/jsonfast/jsonfasttest"
)

// jsonClone is what clone did before: a JSON round trip.
func jsonClone(src, dst *specs.LinuxResources) {
	b, err := json.Marshal(src)
	if err != nil {
		panic(err)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		panic(err)
	}
}

// checkClone: clone gives src itself (deeply), the JSON round trip's
// value up to what JSON cannot tell apart (an empty slice or map it made
// nil: it writes the same text), and shares no memory with src.
func checkClone(t *testing.T, src *specs.LinuxResources) {
	t.Helper()
	var got, old specs.LinuxResources
	clone(src, &got)
	jsonClone(src, &old)
	if !reflect.DeepEqual(&got, src) {
		t.Fatalf("clone differs from its source:\n got %#v\nwant %#v", got, *src)
	}
	a, _ := json.Marshal(&got)
	b, _ := json.Marshal(&old)
	// Strings with invalid UTF-8 (which a decoded config never holds)
	// JSON's round trip changed to U+FFFD; clone copies them exactly.
	if !bytes.Contains(a, []byte(`\ufffd`)) && !bytes.Equal(a, b) {
		t.Fatalf("clone and the JSON round trip differ:\n%s\n%s", a, b)
	}
	if p := shared(reflect.ValueOf(&got).Elem(), reflect.ValueOf(src).Elem()); p != "" {
		t.Fatalf("clone shares %s with its source", p)
	}
}

// shared names the first pointer, slice or map of a that is also b's.
func shared(a, b reflect.Value) string {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return a.Type().String()
		}
		return shared(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.Len() > 0 && b.Len() > 0 && a.Pointer() == b.Pointer() {
			return a.Type().String()
		}
		for i := 0; i < a.Len() && i < b.Len(); i++ {
			if p := shared(a.Index(i), b.Index(i)); p != "" {
				return p
			}
		}
	case reflect.Map:
		if !a.IsNil() && !b.IsNil() && a.Pointer() == b.Pointer() {
			return a.Type().String()
		}
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if p := shared(a.Field(i), b.Field(i)); p != "" {
				return p
			}
		}
	}
	return ""
}

// TestCloneMatchesJSON: clone's flat round trip against the JSON one it
// replaces, for values of every shape LinuxResources takes.
func TestCloneMatchesJSON(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 3000; i++ {
		data := make([]byte, r.Intn(600))
		r.Read(data)
		var src specs.LinuxResources
		jsonfasttest.Fill(&src, data)
		checkClone(t, &src)
	}
	limit, swap := int64(1<<20), int64(2<<20)
	checkClone(t, &specs.LinuxResources{})
	checkClone(t, &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit, Swap: &swap}, Unified: map[string]string{},
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}, HugepageLimits: []specs.LinuxHugepageLimit{}})
}
