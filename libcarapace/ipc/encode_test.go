package ipc

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/carapace-oci/carapace/libcarapace/internal/jsonfast"
	"github.com/carapace-oci/carapace/libcarapace/internal/jsonfast/jsonfasttest"
)

// TestEncodeMessage: the messages of the create and exec paths, and the
// odd ones, are written as json.Marshal writes them (Flat is not in the
// JSON; an invalid payload is json.Marshal's error).
func TestEncodeMessage(t *testing.T) {
	for _, m := range []Message{
		{Kind: Bootstrap, Flat: []byte{1, 2, 0}}, {Kind: Ready}, {Kind: RunHooks}, {Kind: Pid, Pid: 42},
		{Kind: Error, Error: "open <x> & \u2028 \xff: no such file"}, {},
		{Kind: "x", Payload: json.RawMessage(` { "a" : [1, "<"] } `)},
		{Kind: "x", Payload: json.RawMessage(`{`)},
		{Kind: "x", Payload: json.RawMessage{}},
	} {
		jsonfasttest.Check(t, &m, appendMessage)
	}
}

// FuzzEncodeMessage: for every Message, the generated encoder writes what
// json.Marshal writes; and the generated decoder decodes as json.Unmarshal
// does whatever it takes.
func FuzzEncodeMessage(f *testing.F) {
	f.Add([]byte(`{"kind":"error","error":"x<y","pid":3,"payload":{"a": 1}}`))
	f.Add([]byte{0x80, 3, 0xff, '<', 9, 1, 2, 3, 4, 5, 6, 7, 8, 200, 7})
	f.Fuzz(func(t *testing.T, data []byte) {
		var m Message
		jsonfasttest.Fill(&m, data)
		jsonfasttest.Check(t, &m, appendMessage)
		m = Message{}
		if json.Unmarshal(data, &m) == nil {
			jsonfasttest.Check(t, &m, appendMessage)
		}
		// What the generated decoder takes, encoding/json decodes to
		// the same message.
		var fast Message
		if d := jsonfast.New(data); decodeMessage(d, &fast) && d.End() {
			var slow Message
			if err := json.Unmarshal(data, &slow); err != nil {
				t.Fatalf("decodeMessage took %q, encoding/json fails: %v", data, err)
			}
			if !reflect.DeepEqual(fast, slow) {
				t.Fatalf("decodeMessage and encoding/json differ on %q:\n%#v\n%#v", data, fast, slow)
			}
		}
	})
}
