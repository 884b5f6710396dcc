//go:build jsonfast_gen

package ipc

import "github.com/carapace-oci/carapace/libcarapace/internal/jsonfast"

// appendMessage stands in for the generated one while go generate builds
// the generator, which imports this package: ipc_gen.go may be stale
// then, or missing. It leaves every message to encoding/json.
func appendMessage(e *jsonfast.Encoder, _ *Message) { e.Fail(jsonfast.ErrUnsupported) }
