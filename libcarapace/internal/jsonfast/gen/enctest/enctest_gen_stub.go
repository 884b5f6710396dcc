//go:build jsonfast_gen

package enctest

import "github.com/carapace-oci/carapace/libcarapace/internal/jsonfast"

// The stand-ins for the generated encoders while go generate builds the
// generator, which imports this package.

func appendEdge(e *jsonfast.Encoder, _ *Edge) { e.Fail(jsonfast.ErrUnsupported) }

func appendAllOmit(e *jsonfast.Encoder, _ *AllOmit) { e.Fail(jsonfast.ErrUnsupported) }

func appendEmpty(e *jsonfast.Encoder, _ *Empty) { e.Fail(jsonfast.ErrUnsupported) }
