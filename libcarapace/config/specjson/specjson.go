// Package specjson decodes config.json (a specs.Spec) and process JSON (a
// specs.Process) without reflection, on the fast path of
// libcarapace/internal/jsonfast: Spec and Process answer false on anything
// they would not decode exactly as encoding/json, and the caller then
// decodes with encoding/json.
//
// The decoders for each type are generated (specjson_gen.go); the
// exported Decode<Type> ones are for other generated decoders (state's).
package specjson

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/carapace-oci/carapace/libcarapace/internal/jsonfast"
)

//go:generate go run -tags jsonfast_gen ../../internal/jsonfast/gen/cmd -config specjson

// Spec decodes data into v, which must be zero, when it can do so exactly
// as json.Unmarshal would. On false v holds a partial result: decode into
// a fresh value with encoding/json.
func Spec(data []byte, v *specs.Spec) bool { return jsonfast.Take(data, v, DecodeSpec) }

// Process is Spec for a specs.Process (exec --process).
func Process(data []byte, v *specs.Process) bool { return jsonfast.Take(data, v, DecodeProcess) }
