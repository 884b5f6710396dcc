//go:build jsonfast_gen

package state

import "github.com/carapace-oci/carapace/libcarapace/internal/jsonfast"

// decodeState stands in for the generated one while go generate builds
// the generator, which imports this package: state_gen.go may be stale
// then, or missing.
func decodeState(*jsonfast.Decoder, *State) bool { return false }

// The encoders' stand-ins leave every value to encoding/json.

func appendState(e *jsonfast.Encoder, _ *State) { e.Fail(jsonfast.ErrUnsupported) }

func appendProgress(e *jsonfast.Encoder, _ *Progress) { e.Fail(jsonfast.ErrUnsupported) }

func appendInfo(e *jsonfast.Encoder, _ *Info) { e.Fail(jsonfast.ErrUnsupported) }
