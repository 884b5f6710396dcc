//go:build jsonfast_gen

package ipc

import "github.com/carapace-oci/carapace/libcarapace/internal/jsonfast"

// appendMessage and decodeMessage stand in for the generated ones while
// go generate builds the generator, which imports this package:
// ipc_gen.go may be stale then, or missing. They leave every message to
// encoding/json.
func appendMessage(e *jsonfast.Encoder, _ *Message) { e.Fail(jsonfast.ErrUnsupported) }

func decodeMessage(*jsonfast.Decoder, *Message) bool { return false }
