// Package check inspects what this host gives a container runtime: kernel,
// syscalls, seccomp, cgroups, systemd, namespaces, user namespace limits,
// idmapped mounts, LSMs, the caller's capabilities, rlimits, /dev/null and
// /proc, subordinate ids. Each probe is a small function that measures by
// trying where it can (a syscall with arguments it refuses harmlessly, a
// namespace unshared in a throwaway child, a detached mount idmapped and
// dropped), and one that interprets the result into a Finding that says
// what the fact means, what fails without it and how to fix it.
//
// It is `carapace check`; the check of a bundle against this host lives
// with create's decisions (container.Runtime.CheckBundle).
package check

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/carapace-oci/carapace/libcarapace/config"
)

// Status says how a fact bears on running containers.
type Status string

const (
	OK      Status = "ok"      // what the runtime needs is there
	Info    Status = "info"    // a fact to know, no verdict
	Warn    Status = "warn"    // some containers or features fail
	Missing Status = "missing" // containers fail, or a feature is gone
)

// Finding is one fact about the host.
type Finding struct {
	Area   string `json:"area"`
	Name   string `json:"name"`
	Status Status `json:"status"`
	Value  string `json:"value"`
	// Meaning says what the fact is for.
	Meaning string `json:"meaning,omitempty"`
	// Impact says what fails because of it (warn and missing only).
	Impact string `json:"impact,omitempty"`
	// Fix says how to get it.
	Fix string `json:"fix,omitempty"`
}

// Problem is one setting of a bundle that this host cannot honour, named
// by its JSON field (or the flag) as create names it when it fails.
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// BundleResult is the verdict on a bundle: OK when create would get past
// every decision it makes before starting the container.
type BundleResult struct {
	Dir      string    `json:"dir"`
	OK       bool      `json:"ok"`
	Problems []Problem `json:"problems"`
	Warnings []string  `json:"warnings,omitempty"`
}

// Report is what `carapace check` prints.
type Report struct {
	Host   []Finding     `json:"host"`
	Bundle *BundleResult `json:"bundle,omitempty"`
}

// NewBundleResult is the verdict on the bundle at dir from what
// container.Runtime.CheckBundle found: the loaded bundle (nil when it did
// not load) and the errors.
func NewBundleResult(dir string, b *config.Bundle, errs []error) *BundleResult {
	r := &BundleResult{Dir: dir, OK: len(errs) == 0, Problems: []Problem{}}
	if b != nil {
		r.Dir, r.Warnings = b.Dir, b.Warnings
	} else if abs, err := filepath.Abs(dir); err == nil {
		r.Dir = abs
	}
	for _, err := range errs {
		r.Problems = append(r.Problems, ProblemOf(err))
	}
	return r
}

// ProblemOf turns an error of create's into a Problem: the field is what
// the message names after "config.json: " (or a leading --flag).
func ProblemOf(err error) Problem {
	msg := err.Error()
	return Problem{Field: fieldOf(msg), Message: msg}
}

func fieldOf(msg string) string {
	rest, ok := strings.CutPrefix(msg, "config.json: ")
	if !ok {
		if strings.HasPrefix(msg, "--") {
			f, _, _ := strings.Cut(msg, ":")
			return f
		}
		return ""
	}
	f, _, _ := strings.Cut(rest, ": ")
	// The project's form `field "value": reason` names the field first.
	f, _, _ = strings.Cut(f, ` "`)
	if strings.ContainsAny(f, " \"") {
		return "" // a reason, not a field
	}
	return f
}

// WriteJSON prints the report for programs (docs/check.md).
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText prints the report for people: a table of the facts, with what
// a missing one breaks and how to fix it below its line; colour marks the
// status when color is set (a terminal).
func (r *Report) WriteText(w io.Writer, color bool) error {
	// Columns sized by hand: the fails/fix lines below a row hang under
	// its value without widening the table.
	width := [3]int{len("STATUS"), len("AREA"), len("ITEM")}
	vw := len("VALUE")
	for _, f := range r.Host {
		for i, s := range []string{string(f.Status), f.Area, f.Name} {
			width[i] = max(width[i], len(s))
		}
		if len(f.Value) <= 48 {
			vw = max(vw, len(f.Value))
		}
	}
	indent := strings.Repeat(" ", width[0]+width[1]+width[2]+6)
	row := func(status, statusText, area, name, value, meaning string) {
		pad := strings.Repeat(" ", width[0]-len(statusText))
		line := fmt.Sprintf("%s%s  %-*s  %-*s  %-*s  %s", status, pad, width[1], area, width[2], name, vw, value, meaning)
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	row("STATUS", "STATUS", "AREA", "ITEM", "VALUE", "MEANING")
	for _, f := range r.Host {
		row(paint(f.Status, color), string(f.Status), f.Area, f.Name, f.Value, f.Meaning)
		if f.Impact != "" {
			fmt.Fprintf(w, "%sfails: %s\n", indent, f.Impact)
		}
		if f.Fix != "" {
			fmt.Fprintf(w, "%sfix: %s\n", indent, f.Fix)
		}
	}
	if b := r.Bundle; b != nil {
		fmt.Fprintf(w, "\nbundle %s: ", b.Dir)
		if b.OK {
			fmt.Fprintln(w, paint(OK, color)+": this host can run it")
		} else {
			fmt.Fprintf(w, "%s: %d setting(s) this host cannot honour\n", paint(Missing, color), len(b.Problems))
		}
		for _, p := range b.Problems {
			field := p.Field
			if field == "" {
				field = "-"
			}
			fmt.Fprintf(w, "  %s\n      %s\n", field, p.Message)
		}
		for _, s := range b.Warnings {
			fmt.Fprintf(w, "  warning: %s\n", s)
		}
	}
	return nil
}

func paint(s Status, color bool) string {
	if !color {
		return string(s)
	}
	code := map[Status]string{OK: "32", Info: "36", Warn: "33", Missing: "31"}[s]
	return "\x1b[" + code + "m" + string(s) + "\x1b[0m"
}
