// Package hooks runs the spec's lifecycle hooks: each gets the container's
// state JSON on stdin, its own args and env, and is killed at its timeout.
package hooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/carapace-oci/carapace/libcarapace/config/specjson"
	"github.com/carapace-oci/carapace/libcarapace/internal/jsonfast"
	"github.com/carapace-oci/carapace/libcarapace/internal/timerslack"
)

// Kinds of hook, named as in config.json.
const (
	Prestart        = "prestart"
	CreateRuntime   = "createRuntime"
	CreateContainer = "createContainer"
	StartContainer  = "startContainer"
	Poststart       = "poststart"
	Poststop        = "poststop"
)

// Kinds lists the hook kinds, in lifecycle order.
var Kinds = []string{Prestart, CreateRuntime, CreateContainer, StartContainer, Poststart, Poststop}

// Of returns the hooks of one kind.
func Of(h *specs.Hooks, kind string) []specs.Hook {
	if h == nil {
		return nil
	}
	switch kind {
	case Prestart:
		return h.Prestart //nolint:staticcheck // deprecated in the spec, still run
	case CreateRuntime:
		return h.CreateRuntime
	case CreateContainer:
		return h.CreateContainer
	case StartContainer:
		return h.StartContainer
	case Poststart:
		return h.Poststart
	case Poststop:
		return h.Poststop
	}
	return nil
}

// Run runs the hooks of one kind in order and stops at the first failure.
// As with runc, a hook runs in the bundle directory, and one without env
// gets the runtime's own environment.
func Run(h *specs.Hooks, kind string, st specs.State) error {
	return RunIn(h, kind, st, os.Environ(), st.Bundle)
}

// RunIn is Run with the environment a hook without env gets and the
// directory it runs in ("": the caller's): init runs the createContainer
// hooks in the bundle and the startContainer ones in the process's cwd,
// both with the container process's environment, as runc's init does.
func RunIn(h *specs.Hooks, kind string, st specs.State, env []string, dir string) error {
	list := Of(h, kind)
	if len(list) == 0 {
		return nil
	}
	in, err := marshalState(&st)
	if err != nil {
		return err
	}
	for i, hk := range list {
		if err := runOne(hk, in, env, dir); err != nil {
			return failed(kind, i, hk.Path, err)
		}
	}
	return nil
}

// marshalState is json.Marshal of a hook's stdin, through the generated
// encoder (no encoding/json tables to build, cold, for specs.State).
func marshalState(st *specs.State) ([]byte, error) {
	return jsonfast.Marshal(st, specjson.AppendState)
}

// RunAll runs every hook of one kind, reporting each failure to warn and
// going on: poststart and poststop failures must not stop the lifecycle.
func RunAll(h *specs.Hooks, kind string, st specs.State, warn func(error)) {
	list := Of(h, kind)
	if len(list) == 0 {
		return
	}
	in, err := marshalState(&st)
	if err != nil {
		warn(err)
		return
	}
	for i, hk := range list {
		if err := runOne(hk, in, os.Environ(), st.Bundle); err != nil {
			warn(failed(kind, i, hk.Path, err))
		}
	}
}

// failed names a failed hook: runc's words first ("error running
// createRuntime hook #1:", which runc's own tests and users grep for), then
// the config field and the program.
func failed(kind string, i int, path string, err error) error {
	return fmt.Errorf("error running %s hook #%d: hooks.%s[%d] %s: %w", kind, i, kind, i, path, err)
}

func runOne(h specs.Hook, stdin []byte, env []string, dir string) error {
	ctx := context.Background()
	if h.Timeout != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*h.Timeout)*time.Second)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, h.Path)
	if len(h.Args) > 0 {
		cmd.Args = h.Args
	} else {
		cmd.Args = []string{h.Path}
	}
	cmd.Env = h.Env
	if cmd.Env == nil {
		cmd.Env = env
	}
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	if dir != "" {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			cmd.Dir = dir
		}
	}
	cmd.Stdin = bytes.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// A hook that leaves a child holding its output must not hold us.
	cmd.WaitDelay = time.Second
	// The hook gets the caller's timer slack, not the runtime's.
	err := timerslack.Start(cmd.Start)
	if err == nil {
		err = cmd.Wait()
	}
	if err == nil {
		return nil
	}
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("hook ran past specified timeout of %.1fs", float64(*h.Timeout))
	}
	msg := strings.TrimSpace(out.String())
	if len(msg) > 512 {
		msg = msg[:512] + "..."
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && msg != "" {
		return fmt.Errorf("%v: %s", err, msg)
	}
	return err
}
