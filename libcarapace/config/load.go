// Package config loads an OCI bundle's config.json and checks it before
// anything is done with it, so that bad input fails early, with an error that
// names the field, and leaves nothing behind.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/carapace-oci/carapace/libcarapace/config/specjson"
	"github.com/carapace-oci/carapace/libcarapace/internal/jsonfast"
)

// Name is the file every error about the configuration is reported against.
const Name = "config.json"

// FieldError names the field of config.json that is wrong and why.
type FieldError struct {
	Field  string // JSON path, e.g. linux.namespaces[2].type
	Reason string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return Name + ": " + e.Reason
	}
	return Name + ": " + e.Field + ": " + e.Reason
}

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Bundle is a loaded and validated bundle.
type Bundle struct {
	Dir    string // absolute bundle directory
	Rootfs string // absolute root filesystem path
	Spec   *specs.Spec
	Raw    []byte // config.json as read, passed on to init unchanged
	// Warnings are what the spec says to log and not fail on (unknown
	// capabilities), for the runtime to log.
	Warnings []string
}

// Load reads dir/config.json, decodes it strictly enough to catch type
// errors and validates it.
func Load(dir string) (*Bundle, error) {
	if dir == "" {
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("bundle %q: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("bundle %q: directory does not exist", dir)
		}
		return nil, fmt.Errorf("bundle %q: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("bundle %q: not a directory", dir)
	}
	raw, err := os.ReadFile(filepath.Join(abs, Name))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("bundle %q: %s not found", dir, Name)
		}
		return nil, fmt.Errorf("bundle %q: read %s: %w", dir, Name, err)
	}
	spec, warnings, err := parse(raw)
	if err != nil {
		return nil, err
	}
	b := &Bundle{Dir: abs, Spec: spec, Raw: raw, Warnings: warnings}
	if err := Validate(b); err != nil {
		return nil, err
	}
	return b, nil
}

// Parse decodes config.json text. Syntax errors name the byte offset.
// Relative mount destinations are made absolute (see parse).
func Parse(raw []byte) (*specs.Spec, error) {
	spec, _, err := parse(raw)
	return spec, err
}

// parse is Parse, with the warnings of what it normalized: runtime-spec
// 1.3 says a relative mount destination "MUST be interpreted as relative
// to /" and is deprecated, so it is made absolute (in the runtime and in
// init alike, which both parse the same text) and warned about.
func parse(raw []byte) (*specs.Spec, []string, error) {
	spec, err := decode(raw)
	if err != nil {
		return nil, nil, err
	}
	var warnings []string
	for i, m := range spec.Mounts {
		if m.Destination != "" && !path.IsAbs(m.Destination) {
			spec.Mounts[i].Destination = "/" + m.Destination
			warnings = append(warnings, fmt.Sprintf("%s: mounts[%d].destination %q: relative destinations are deprecated; taken as %q", Name, i, m.Destination, spec.Mounts[i].Destination))
		}
	}
	return spec, warnings, nil
}

// unmarshal is the fallback decoder (a test counts its uses).
var unmarshal = json.Unmarshal

func decode(raw []byte) (*specs.Spec, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, &FieldError{Reason: "empty file"}
	}
	var spec specs.Spec
	// The generated decoder takes the common form without encoding/json's
	// cold, per-process type tables; anything else (errors included) is
	// decoded again, from zero, by encoding/json.
	if err := jsonfast.Unmarshal(raw, &spec, specjson.Spec, unmarshal); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, &FieldError{Reason: fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, err)}
		case errors.As(err, &te):
			field := te.Field
			if p := pathAt(raw, te.Offset); p != "" {
				field = p
			}
			return nil, fieldErr(field, "expected %s, got JSON %s", te.Type, te.Value)
		default:
			return nil, &FieldError{Reason: fmt.Sprintf("invalid JSON: %v", err)}
		}
	}
	return &spec, nil
}

// ParseProcess decodes a process JSON file (exec --process). Its errors
// are encoding/json's, unwrapped: the caller names the file.
func ParseProcess(raw []byte) (*specs.Process, error) {
	var p specs.Process
	if err := jsonfast.Unmarshal(raw, &p, specjson.Process, unmarshal); err != nil {
		return nil, err
	}
	return &p, nil
}
