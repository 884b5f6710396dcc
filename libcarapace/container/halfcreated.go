package container

import (
	"errors"
	"fmt"

	"github.com/carapace-oci/carapace/libcarapace/state"
)

// HalfCreatedError is a container whose create has not saved its state:
// still at work (Creating), or killed half-way. Verbs other than state,
// list and delete cannot act on it; it exists, so they say what it is
// rather than "does not exist", which the directory's owner would find
// false (list shows it, and delete removes it).
type HalfCreatedError struct {
	ID       string
	Creating bool
	// Kill: the error of kill, which also says "container not running":
	// containerd's shim takes that text (or "does not exist") for a
	// process already gone (checkKillError), and nothing runs in such a
	// container yet.
	Kill bool
}

func (e *HalfCreatedError) Error() string {
	var s string
	if e.Creating {
		s = fmt.Sprintf("container %q is being created (its create has not finished)", e.ID)
	} else {
		s = fmt.Sprintf("container %q was not fully created (its create did not finish): delete it", e.ID)
	}
	if e.Kill {
		s += ": " + ErrNotRunning.Error()
	}
	return s
}

// Is makes a kill's error ErrNotRunning.
func (e *HalfCreatedError) Is(target error) bool { return e.Kill && target == ErrNotRunning }

// Load is Store.Load for the verbs that need a whole container: one
// whose create has not saved its state is a *HalfCreatedError.
func (r *Runtime) Load(id string) (*state.State, error) {
	st, err := r.Store.Load(id)
	if !errors.Is(err, state.ErrNotExist) {
		return st, err
	}
	in, ierr := r.Store.Inspect(id)
	if ierr != nil || (in.Partial == nil && !in.Creating) {
		return nil, err
	}
	return nil, &HalfCreatedError{ID: id, Creating: in.Creating}
}
