package state

import (
	"bytes"
	"encoding/json"
	"io"
	"time"

	"github.com/carapace-oci/carapace/libcarapace/internal/jsonfast"
)

// Info is what `list --format json` and `state` print: runc's fields in
// runc's order (runc's own tests match the JSON text of list from
// "ociVersion" on; go-runc decodes both into its Container).
type Info struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Owner       string            `json:"owner"`
}

// WriteInfo writes v to w as the state verb prints it: what a
// json.Encoder with SetIndent("", "  ") writes, through the generated
// encoder (state_gen.go) rather than encoding/json's cold tables.
func WriteInfo(w io.Writer, v *Info) error {
	b, err := jsonfast.Marshal(v, appendInfo)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	// The encoder indents its value and the newline after it.
	if err := json.Indent(&out, append(b, '\n'), "", "  "); err != nil {
		return err
	}
	_, err = w.Write(out.Bytes())
	return err
}
