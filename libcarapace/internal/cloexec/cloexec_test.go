// Package cloexec holds a lint, run as a test: every descriptor the
// runtime opens with a raw syscall wrapper is close-on-exec from the
// start. A descriptor that is not can reach a hook, or the container's
// process if init execs before the close_range sweep (CVE-2024-21626 is
// that class); marking it later (FD_CLOEXEC) leaves a window in which
// another thread's fork+exec inherits it.
package cloexec

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// flagArg is, for each unix wrapper that makes a descriptor, the index
// of its argument that must carry a *CLOEXEC flag (-1: the flags are in
// a struct built nearby, so the enclosing function must name one).
// os.Open and friends set O_CLOEXEC themselves; pidfd_open always does.
var flagArg = map[string]int{
	"Open": 1, "Openat": 2, "Openat2": -1, "OpenTree": 2, "Fsopen": 1,
	"Fsmount": 1, "Fspick": 2, "MemfdCreate": 1, "Socket": 1,
	"Socketpair": 1, "Pipe2": 1, "Accept4": 1, "EpollCreate1": 0,
	"InotifyInit1": 0, "Dup3": 2, "Eventfd": 1, "Signalfd": 2,
	"TimerfdCreate": 1, "PerfEventOpen": 4,
}

// forbidden make descriptors without a way to ask for close-on-exec.
var forbidden = map[string]string{
	"Creat": "Openat with O_CREAT|O_CLOEXEC", "Pipe": "Pipe2 with O_CLOEXEC",
	"Accept": "Accept4 with SOCK_CLOEXEC", "EpollCreate": "EpollCreate1(EPOLL_CLOEXEC)",
	"InotifyInit": "InotifyInit1(IN_CLOEXEC)", "Dup": "FcntlInt(F_DUPFD_CLOEXEC)",
	"Dup2": "Dup3 with O_CLOEXEC",
}

// exempt are calls that deliberately make an inheritable descriptor,
// by file and wrapper, with the reason.
var exempt = map[string]string{
	"console/console.go:Dup2": "the pty becomes the process's stdio: it must survive exec",
}

// check reports the violations in one parsed file.
func check(fset *token.FileSet, name string, f *ast.File) []string {
	var bad []string
	text := func(n ast.Node) string {
		var b bytes.Buffer
		printer.Fprint(&b, fset, n)
		return b.String()
	}
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		body := text(fn.Body)
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); !ok || (pkg.Name != "unix" && pkg.Name != "syscall") {
				return true
			}
			at := fset.Position(call.Pos())
			where := name + ":" + sel.Sel.Name
			if _, ok := exempt[where]; ok {
				return true
			}
			if alt, ok := forbidden[sel.Sel.Name]; ok {
				bad = append(bad, at.String()+": "+sel.Sel.Name+" makes an inheritable descriptor; use "+alt)
				return true
			}
			i, ok := flagArg[sel.Sel.Name]
			if !ok {
				return true
			}
			switch {
			case i < 0 || i >= len(call.Args):
				if !strings.Contains(body, "CLOEXEC") {
					bad = append(bad, at.String()+": "+sel.Sel.Name+" in a function that never asks for CLOEXEC")
				}
			case !strings.Contains(text(call.Args[i]), "CLOEXEC"):
				// A flags variable built in the same function, maybe
				// converted (uint(flags)).
				arg := call.Args[i]
				if conv, ok := arg.(*ast.CallExpr); ok && len(conv.Args) == 1 {
					arg = conv.Args[0]
				}
				if _, isIdent := arg.(*ast.Ident); !isIdent || !strings.Contains(body, "CLOEXEC") {
					bad = append(bad, at.String()+": "+sel.Sel.Name+" without a CLOEXEC flag ("+text(call.Args[i])+")")
				}
			}
			return true
		})
	}
	return bad
}

// TestEveryDescriptorCloseOnExec runs the lint over libcarapace and the
// command files.
func TestEveryDescriptorCloseOnExec(t *testing.T) {
	fset := token.NewFileSet()
	lint := func(root string, recurse bool) {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != root && !recurse {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, p, nil, 0)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel("../..", p)
			for _, b := range check(fset, filepath.ToSlash(rel), f) {
				t.Error(b)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	lint("../..", true)     // libcarapace
	lint("../../..", false) // the command files
}

// TestLintCatches: the lint finds what it is for.
func TestLintCatches(t *testing.T) {
	src := `package x
func f() {
	unix.Open("/x", unix.O_RDONLY, 0)
	unix.Openat(d, "x", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	unix.Pipe(p)
	unix.MemfdCreate("x", unix.MFD_CLOEXEC)
}
func g() {
	flags := unix.O_RDONLY
	unix.Open("/y", flags, 0)
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	bad := check(fset, "x.go", f)
	want := []string{"x.go:3:2: Open without", "x.go:5:2: Socket without", "x.go:6:2: Pipe makes", "x.go:11:2: Open without"}
	if len(bad) != len(want) {
		t.Fatalf("found %d: %q; want %d", len(bad), bad, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(bad[i], w) {
			t.Errorf("finding %d: %q, want %q...", i, bad[i], w)
		}
	}
}
