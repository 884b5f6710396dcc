package container

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/carapace-oci/carapace/libcarapace/state"
)

// TestLoadHalfCreated: Load of a directory whose create is at work, or
// died before it saved the state, is a *HalfCreatedError saying which;
// of no directory, ErrNotExist.
func TestLoadHalfCreated(t *testing.T) {
	r := &Runtime{Store: state.Store{Root: filepath.Join(t.TempDir(), "root")}}
	if _, err := r.Load("none"); !errors.Is(err, state.ErrNotExist) {
		t.Errorf("Load of a missing container = %v, want ErrNotExist", err)
	}
	p := state.NewProgress("/bundle")
	unlock, err := r.Store.Claim("c1", p)
	if err != nil {
		t.Fatal(err)
	}
	// This process is the create: alive, so creating.
	_, err = r.Load("c1")
	var half *HalfCreatedError
	if !errors.As(err, &half) || !half.Creating {
		t.Errorf("Load while create runs = %v, want a creating HalfCreatedError", err)
	}
	unlock()
	p.Creator = 1<<22 + 1 // a create gone: above the largest pid_max
	if err := r.Store.SaveProgress("c1", p); err != nil {
		t.Fatal(err)
	}
	_, err = r.Load("c1")
	if !errors.As(err, &half) || half.Creating {
		t.Errorf("Load after create died = %v, want a HalfCreatedError, not creating", err)
	}
}

func TestHalfCreatedErrorText(t *testing.T) {
	for _, tc := range []struct {
		e          HalfCreatedError
		want       string
		notRunning bool
	}{
		{HalfCreatedError{ID: "x", Creating: true}, `container "x" is being created (its create has not finished)`, false},
		{HalfCreatedError{ID: "x"}, `container "x" was not fully created (its create did not finish): delete it`, false},
		{HalfCreatedError{ID: "x", Kill: true}, `container "x" was not fully created (its create did not finish): delete it: container not running`, true},
		{HalfCreatedError{ID: "x", Creating: true, Kill: true}, `container "x" is being created (its create has not finished): container not running`, true},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.e, got, tc.want)
		}
		if got := errors.Is(&tc.e, ErrNotRunning); got != tc.notRunning {
			t.Errorf("%+v: errors.Is(ErrNotRunning) = %v, want %v", tc.e, got, tc.notRunning)
		}
	}
}
