// Package logging sets up the runtime's log: text or runc's JSON lines
// ({"level":"error","msg":"...","time":"..."}) to the --log file, which is
// where containerd's shim looks for the cause of a failure.
package logging

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"time"
)

// Options are the global logging flags.
type Options struct {
	File   string // --log; stderr when empty
	Format string // --log-format: text or json
	Debug  bool
}

// New opens the log. The returned closer flushes and closes the file.
func New(o Options) (*slog.Logger, func(), error) {
	var w io.Writer = os.Stderr
	closer := func() {}
	if o.File != "" {
		f, err := os.OpenFile(o.File, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_SYNC|syscall.O_CLOEXEC, 0o644)
		if err != nil {
			return nil, nil, err
		}
		w, closer = f, func() { f.Close() }
	}
	level := slog.LevelWarn
	if o.Debug {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: replace}
	var h slog.Handler
	if o.Format == "json" {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(h), closer, nil
}

// replace gives records runc's field names and values: logrus's level
// names (lower case, "warning") and RFC 3339 times.
func replace(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.LevelKey:
		if a.Value.Any() == slog.LevelWarn {
			a.Value = slog.StringValue("warning")
			break
		}
		a.Value = slog.StringValue(strings.ToLower(a.Value.String()))
	case slog.TimeKey:
		a.Value = slog.StringValue(a.Value.Time().Format(time.RFC3339Nano))
	}
	return a
}

// Error logs err at error level, with no attributes: the message alone is
// what the shim shows the user.
func Error(l *slog.Logger, err error) {
	l.Log(context.Background(), slog.LevelError, err.Error())
}
