// Package gen writes the jsonfast decoders: one function per type
// reachable from a package's roots (specs.Spec and specs.Process for
// config/specjson, state.State for state), in plain Go, so that decoding
// needs no reflection and none of the per-type tables encoding/json
// builds (cold) in every fresh process.
//
// It follows encoding/json's rules for what a field is called (the json
// tag's name, else the Go name; "-" and unexported fields skipped;
// untagged embedded structs promoted) and refuses, rather than guesses at,
// whatever it has no exact equivalent for: a TextUnmarshaler, a
// ",string" option, a field name two fields share, a map with non-string
// keys, floats, arrays.
//
// It also writes encoders, for the types of Config.Encode (see encode.go),
// which write what json.Marshal writes, byte for byte.
package gen

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"go/format"
	"os"
	"reflect"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/carapace-oci/carapace/libcarapace/internal/jsonfast/gen/enctest"
	"github.com/carapace-oci/carapace/libcarapace/ipc"
	"github.com/carapace-oci/carapace/libcarapace/state"
)

const (
	specsPath    = "github.com/opencontainers/runtime-spec/specs-go"
	jsonfastPath = "github.com/carapace-oci/carapace/libcarapace/internal/jsonfast"
	specjsonPath = "github.com/carapace-oci/carapace/libcarapace/config/specjson"
	statePath    = "github.com/carapace-oci/carapace/libcarapace/state"
	ipcPath      = "github.com/carapace-oci/carapace/libcarapace/ipc"
	enctestPath  = "github.com/carapace-oci/carapace/libcarapace/internal/jsonfast/gen/enctest"
)

// Config is one package's generated file.
type Config struct {
	Package string // its name
	PkgPath string // its import path: its own types are not qualified
	// Roots are the types decoded; every struct reachable from them gets a
	// decoder, except those of an Extern package.
	Roots []reflect.Type
	// Encode are the types encoded; every struct reachable from them gets
	// an encoder (see encode.go), except those of an Extern package.
	Encode []reflect.Type
	// Export names the struct decoders Decode<Type> and the encoders
	// Append<Type>, for the Extern of another package.
	Export bool
	// Extern maps a package's path to the path of the package whose
	// exported decoders decode (and encoders encode) its structs.
	Extern map[string]string
	Out    string // file name, in the package's directory
	// Stub, if set, is the build tag under which the generated file is
	// left out (and a hand-written stub is in): for a package the
	// generator imports, which must build while its generated file is
	// stale.
	Stub string
}

// Configs are the generated files, by the name go generate passes.
var Configs = map[string]Config{
	"specjson": {Package: "specjson", PkgPath: specjsonPath, Export: true, Out: "specjson_gen.go",
		Roots: []reflect.Type{reflect.TypeFor[specs.Spec](), reflect.TypeFor[specs.Process]()},
		// What state.State holds, and the hooks' stdin.
		Encode: []reflect.Type{reflect.TypeFor[specs.State](), reflect.TypeFor[specs.Process](), reflect.TypeFor[specs.Hooks](),
			reflect.TypeFor[specs.LinuxResources](), reflect.TypeFor[specs.LinuxDevice](), reflect.TypeFor[specs.LinuxSeccomp](),
			reflect.TypeFor[specs.LinuxPersonality](), reflect.TypeFor[specs.LinuxMemoryPolicy]()}},
	"state": {Package: "state", PkgPath: statePath, Out: "state_gen.go", Stub: "jsonfast_gen",
		Roots:  []reflect.Type{reflect.TypeFor[state.State]()},
		Encode: []reflect.Type{reflect.TypeFor[state.State](), reflect.TypeFor[state.Progress](), reflect.TypeFor[state.Info]()},
		Extern: map[string]string{specsPath: specjsonPath}},
	// The generator's own test types (gen/enctest).
	"enctest": {Package: "enctest", PkgPath: enctestPath, Out: "enctest_gen.go", Stub: "jsonfast_gen",
		Encode: []reflect.Type{reflect.TypeFor[enctest.Edge](), reflect.TypeFor[enctest.AllOmit](), reflect.TypeFor[enctest.Empty]()}},
	"ipc": {Package: "ipc", PkgPath: ipcPath, Out: "ipc_gen.go", Stub: "jsonfast_gen",
		Roots:  []reflect.Type{reflect.TypeFor[ipc.Message]()},
		Encode: []reflect.Type{reflect.TypeFor[ipc.Message]()}},
}

// CheckUpToDate reports, for a test in the generated package's directory,
// whether the file Configs[name] writes holds what Generate writes today.
func CheckUpToDate(name string) error {
	c, ok := Configs[name]
	if !ok {
		return fmt.Errorf("no generated file named %q", name)
	}
	want, err := Generate(c)
	if err != nil {
		return err
	}
	got, err := os.ReadFile(c.Out)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("%s is stale: run go generate in %s", c.Out, c.PkgPath)
	}
	return nil
}

// Generate returns the gofmt'ed source of c's generated file.
func Generate(c Config) ([]byte, error) {
	g := newGenerator(c)
	for _, t := range c.Roots {
		g.walk(t)
	}
	for _, t := range c.Encode {
		g.encWalk(t)
	}
	// An Extern decoder must exist: the type must be one its package
	// generates for.
	for t := range g.done {
		if t.Kind() == reflect.Struct && g.extern(t) != "" {
			if ec, ok := configByPath(g.extern(t)); !ok || !reaches(ec.Roots, t) {
				g.fail("%s: %s has no decoder for it", t, g.extern(t))
			}
		}
	}
	for t := range g.encDone {
		if t.Kind() == reflect.Struct && g.extern(t) != "" && !isLeaf(t) {
			if ec, ok := configByPath(g.extern(t)); !ok || !encReaches(ec.Encode, t) {
				g.fail("%s: %s has no encoder for it", t, g.extern(t))
			}
		}
	}
	if g.err != nil {
		return nil, g.err
	}
	sort.Slice(g.structs, func(i, j int) bool { return g.structs[i].Name() < g.structs[j].Name() })
	// Only what the code written below names is imported.
	g.imports = map[string]string{jsonfastPath: "jsonfast"}

	var body bytes.Buffer
	for _, t := range g.structs {
		g.structFunc(&body, t)
	}
	// The helpers, in name order; writing one may queue another.
	var helpers []reflect.Type
	for len(g.pending) > 0 {
		helpers = append(helpers, g.pending...)
		next := g.pending
		g.pending = nil
		for _, t := range next {
			g.helper(new(bytes.Buffer), t) // for what it queues
		}
	}
	for _, t := range g.structs {
		if _, ok := g.helpers[g.funcName(t)]; ok {
			g.fail("%s is both a struct's decoder and a helper", g.funcName(t))
		}
	}
	sort.Slice(helpers, func(i, j int) bool { return g.shapeName(helpers[i]) < g.shapeName(helpers[j]) })
	for _, t := range helpers {
		g.helper(&body, t)
	}
	g.encoders(&body)
	if g.err != nil {
		return nil, g.err
	}

	var out bytes.Buffer
	out.WriteString("// Code generated by jsonfast/gen; DO NOT EDIT.\n\n")
	if c.Stub != "" {
		fmt.Fprintf(&out, "//go:build !%s\n\n", c.Stub)
	}
	fmt.Fprintf(&out, "package %s\n\nimport (\n", c.Package)
	paths := make([]string, 0, len(g.imports))
	for p := range g.imports {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if !strings.Contains(p, ".") {
			fmt.Fprintf(&out, "\t%q\n", p)
		}
	}
	out.WriteString("\n")
	for _, p := range paths {
		if strings.Contains(p, ".") {
			if name := g.imports[p]; name != p[strings.LastIndex(p, "/")+1:] {
				fmt.Fprintf(&out, "\t%s %q\n", name, p)
			} else {
				fmt.Fprintf(&out, "\t%q\n", p)
			}
		}
	}
	out.WriteString(")\n\n")
	out.Write(body.Bytes())
	src, err := format.Source(out.Bytes())
	if err != nil {
		return nil, fmt.Errorf("gen: generated code does not parse: %w\n%s", err, out.Bytes())
	}
	return src, nil
}

func newGenerator(c Config) *generator {
	return &generator{c: c, imports: map[string]string{jsonfastPath: "jsonfast"}, done: map[reflect.Type]bool{},
		helpers: map[string]reflect.Type{}, funcs: map[string]reflect.Type{},
		encDone: map[reflect.Type]bool{}, encHelpers: map[string]reflect.Type{}, encFuncs: map[string]reflect.Type{}}
}

type generator struct {
	c       Config
	imports map[string]string // package path -> name used
	done    map[reflect.Type]bool
	structs []reflect.Type
	err     error
	helpers map[string]reflect.Type // function name -> pointer, slice, map or interface type
	funcs   map[string]reflect.Type // struct decoder name -> struct
	pending []reflect.Type          // helpers to write

	// The encoders' counterparts of the above.
	encDone    map[reflect.Type]bool
	encStructs []reflect.Type
	encHelpers map[string]reflect.Type
	encFuncs   map[string]reflect.Type
	encPending []reflect.Type
}

func (g *generator) fail(format string, args ...any) {
	if g.err == nil {
		g.err = fmt.Errorf("gen: "+format, args...)
	}
}

var (
	unmarshaler     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// walk checks t and collects the structs reachable from it.
func (g *generator) walk(t reflect.Type) {
	if g.done[t] {
		return
	}
	g.done[t] = true
	if isUnmarshaler(t) {
		return // its UnmarshalJSON decodes it
	}
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface && reflect.PointerTo(t).Implements(textUnmarshaler) {
		g.fail("%s is a TextUnmarshaler", t)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if t.Name() == "" {
			g.fail("anonymous struct %s", t)
			return
		}
		g.typeName(t)
		if g.extern(t) != "" {
			return
		}
		if prev, ok := g.funcs[g.funcName(t)]; ok {
			g.fail("%s and %s would both be decoded by %s", prev, t, g.funcName(t))
		}
		g.funcs[g.funcName(t)] = t
		g.structs = append(g.structs, t)
		for _, f := range g.fields(t) {
			g.walk(f.typ)
		}
	case reflect.Pointer, reflect.Slice:
		g.walk(t.Elem())
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			g.fail("map %s: only string keys", t)
		}
		g.walk(t.Key())
		g.walk(t.Elem())
	case reflect.Interface:
		if t.NumMethod() != 0 {
			g.fail("interface %s with methods", t)
		}
	case reflect.String, reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
	default:
		g.fail("unsupported kind %s (%s)", t.Kind(), t)
	}
}

type field struct {
	name string   // JSON name
	path []string // Go selector path from the struct
	typ  reflect.Type
	opts string // the tag's options, after the name
}

// fields are t's JSON fields as encoding/json sees them, in declaration
// order.
func (g *generator) fields(t reflect.Type) []field {
	var out []field
	var add func(t reflect.Type, path []string)
	add = func(t reflect.Type, path []string) {
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if strings.Contains(","+opts+",", ",string,") {
				g.fail("%s.%s: the ,string option", t, sf.Name)
			}
			p := append(append([]string(nil), path...), sf.Name)
			if sf.Anonymous && name != "" && !sf.IsExported() {
				// encoding/json takes it as a field; nor does this.
				g.fail("%s.%s: unexported embedded field with a name", t, sf.Name)
				continue
			}
			if sf.Anonymous && name == "" {
				if sf.Type.Kind() != reflect.Struct {
					g.fail("%s.%s: embedded %s", t, sf.Name, sf.Type)
					continue
				}
				add(sf.Type, p)
				continue
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			for _, c := range name {
				// encoding/json takes the Go name for a tag name with
				// other characters (isValidTag).
				if c >= 0x80 || !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
					strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c)) {
					g.fail("%s.%s: field name %q", t, sf.Name, name)
				}
			}
			out = append(out, field{name: name, path: p, typ: sf.Type, opts: opts})
		}
	}
	add(t, nil)
	seen := map[string]bool{}
	for _, f := range out {
		if seen[f.name] {
			g.fail("%s: two fields named %q", t, f.name)
		}
		seen[f.name] = true
	}
	if len(out) > 64 {
		g.fail("%s: more than 64 fields", t)
	}
	return out
}

// isUnmarshaler: t (not a pointer) has an UnmarshalJSON, which
// encoding/json calls with the value's text (null included).
func isUnmarshaler(t reflect.Type) bool {
	return t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface && reflect.PointerTo(t).Implements(unmarshaler)
}

// extern is the package whose exported decoder decodes struct t, if not
// this one.
func (g *generator) extern(t reflect.Type) string { return g.c.Extern[t.PkgPath()] }

func configByPath(path string) (Config, bool) {
	for _, c := range Configs {
		if c.PkgPath == path {
			return c, true
		}
	}
	return Config{}, false
}

// reaches: t is reachable from roots.
func reaches(roots []reflect.Type, t reflect.Type) bool {
	g := &generator{imports: map[string]string{}, done: map[reflect.Type]bool{}, funcs: map[string]reflect.Type{}}
	for _, r := range roots {
		g.walk(r)
	}
	return g.done[t]
}

// pkgName is the name the generated code uses for the package at path.
func (g *generator) pkgName(path string) string {
	name := path[strings.LastIndex(path, "/")+1:]
	if path == specsPath {
		name = "specs"
	}
	g.imports[path] = name
	return name
}

// typeName is how the generated code spells t.
func (g *generator) typeName(t reflect.Type) string {
	if t.Name() != "" {
		if t.PkgPath() == "" || t.PkgPath() == g.c.PkgPath {
			return t.Name()
		}
		return g.pkgName(t.PkgPath()) + "." + t.Name()
	}
	switch t.Kind() {
	case reflect.Pointer:
		return "*" + g.typeName(t.Elem())
	case reflect.Slice:
		return "[]" + g.typeName(t.Elem())
	case reflect.Map:
		return "map[" + g.typeName(t.Key()) + "]" + g.typeName(t.Elem())
	case reflect.Interface:
		return "any"
	}
	g.fail("no name for %s", t)
	return "?"
}

// funcName names the decoder of struct t.
func (g *generator) funcName(t reflect.Type) string {
	if p := g.extern(t); p != "" {
		return g.pkgName(p) + ".Decode" + t.Name()
	}
	if g.c.Export {
		return "Decode" + t.Name()
	}
	return "decode" + t.Name()
}

func (g *generator) structFunc(w *bytes.Buffer, t reflect.Type) {
	fs := g.fields(t)
	if g.c.Export {
		fmt.Fprintf(w, "// %s decodes a %s.\n", g.funcName(t), g.typeName(t))
	}
	fmt.Fprintf(w, "func %s(d *jsonfast.Decoder, v *%s) bool {\n", g.funcName(t), g.typeName(t))
	w.WriteString("if d.Null() {\nreturn true\n}\nif !d.Open('{') {\nreturn false\n}\n")
	if len(fs) > 0 {
		w.WriteString("var seen uint64\n")
	}
	w.WriteString("for first := true; ; first = false {\n")
	w.WriteString("more, ok := d.Next(first, '}')\nif !ok {\nreturn false\n}\nif !more {\nreturn true\n}\n")
	w.WriteString("key, ok := d.Key()\nif !ok {\nreturn false\n}\n")
	if len(fs) == 0 {
		fmt.Fprintf(w, "if d.Folds(key, nil) || !d.Skip() {\nreturn false\n}\n}\n}\n\n")
		return
	}
	w.WriteString("switch string(key) {\n")
	for i, f := range fs {
		fmt.Fprintf(w, "case %q:\n", f.name)
		c, _ := g.cond("&v."+strings.Join(f.path, "."), f.typ)
		fmt.Fprintf(w, "if !jsonfast.Once(&seen, %d) || !%s {\nreturn false\n}\n", i, c)
	}
	w.WriteString("default:\n")
	fmt.Fprintf(w, "if d.Folds(key, fold%s) || !d.Skip() {\nreturn false\n}\n", t.Name())
	w.WriteString("}\n}\n}\n\n")
	fmt.Fprintf(w, "var fold%s = []string{", t.Name())
	for i, f := range fs {
		if i > 0 {
			w.WriteString(", ")
		}
		fmt.Fprintf(w, "%q", strings.ToLower(f.name))
	}
	w.WriteString("}\n\n")
}

// helperName names the function decoding a pointer, slice, map or
// interface type t, and queues it for writing.
func (g *generator) helperName(t reflect.Type) string {
	name := "decode" + g.shapeName(t)
	if prev, ok := g.helpers[name]; ok {
		if prev != t {
			g.fail("%s and %s would both be decoded by %s", prev, t, name)
		}
		return name
	}
	g.helpers[name] = t
	g.pending = append(g.pending, t)
	return name
}

// shapeName spells t in a function name: SliceString, PtrLinuxSeccomp,
// MapStringLinuxNetDevice.
func (g *generator) shapeName(t reflect.Type) string {
	switch {
	case t.Name() != "":
		return strings.ToUpper(t.Name()[:1]) + t.Name()[1:]
	case t.Kind() == reflect.Pointer:
		return "Ptr" + g.shapeName(t.Elem())
	case t.Kind() == reflect.Slice:
		return "Slice" + g.shapeName(t.Elem())
	case t.Kind() == reflect.Map:
		return "Map" + g.shapeName(t.Key()) + g.shapeName(t.Elem())
	case t.Kind() == reflect.Interface:
		return "Any"
	}
	g.fail("no name for %s", t)
	return "?"
}

// helper writes the function helperName named for t.
func (g *generator) helper(w *bytes.Buffer, t reflect.Type) {
	fmt.Fprintf(w, "func %s(d *jsonfast.Decoder, v *%s) bool {\n", g.helperName(t), g.typeName(t))
	switch t.Kind() {
	case reflect.Interface:
		// Only null is taken (it sets nil, as encoding/json does);
		// anything else goes to encoding/json.
		w.WriteString("if !d.Null() {\nreturn false\n}\n*v = nil\nreturn true\n}\n\n")
	case reflect.Pointer:
		c, _ := g.cond("p", t.Elem())
		fmt.Fprintf(w, "if d.Null() {\n*v = nil\nreturn true\n}\np := new(%s)\nif !%s {\nreturn false\n}\n*v = p\nreturn true\n}\n\n", g.typeName(t.Elem()), c)
	case reflect.Slice:
		// [] gives an empty, non-nil slice, as with encoding/json.
		c, _ := g.cond("&s[len(s)-1]", t.Elem())
		fmt.Fprintf(w, "if d.Null() {\n*v = nil\nreturn true\n}\nif !d.Open('[') {\nreturn false\n}\ns := %s{}\n", g.typeName(t))
		fmt.Fprintf(w, "for first := true; ; first = false {\nmore, ok := d.Next(first, ']')\nif !ok {\nreturn false\n}\nif !more {\nbreak\n}\n")
		fmt.Fprintf(w, "s = append(s, *new(%s))\nif !%s {\nreturn false\n}\n}\n*v = s\nreturn true\n}\n\n", g.typeName(t.Elem()), c)
	case reflect.Map:
		// The key is copied before the value is decoded: both may use
		// the decoder's scratch buffer. Each value starts from zero and
		// a repeated key replaces the earlier value, as with
		// encoding/json.
		c, _ := g.cond("&e", t.Elem())
		fmt.Fprintf(w, "if d.Null() {\n*v = nil\nreturn true\n}\nif !d.Open('{') {\nreturn false\n}\nm := %s{}\n", g.typeName(t))
		fmt.Fprintf(w, "for first := true; ; first = false {\nmore, ok := d.Next(first, '}')\nif !ok {\nreturn false\n}\nif !more {\nbreak\n}\n")
		fmt.Fprintf(w, "k, ok := d.Key()\nif !ok {\nreturn false\n}\nks := %s(k)\nvar e %s\nif !%s {\nreturn false\n}\nm[ks] = e\n}\n*v = m\nreturn true\n}\n\n", g.typeName(t.Key()), g.typeName(t.Elem()), c)
	default:
		g.fail("unsupported kind %s", t.Kind())
	}
}

// cond is the call that decodes a value of type t into *ptr.
func (g *generator) cond(ptr string, t reflect.Type) (string, bool) {
	if isUnmarshaler(t) {
		return fmt.Sprintf("jsonfast.Unmarshaler(d, %s)", ptr), true
	}
	switch t.Kind() {
	case reflect.Struct:
		return fmt.Sprintf("%s(d, %s)", g.funcName(t), ptr), true
	case reflect.String:
		return fmt.Sprintf("jsonfast.Str(d, %s)", ptr), true
	case reflect.Bool:
		return fmt.Sprintf("jsonfast.Bool(d, %s)", ptr), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fmt.Sprintf("jsonfast.Signed(d, %s)", ptr), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("jsonfast.Unsigned(d, %s)", ptr), true
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		return fmt.Sprintf("%s(d, %s)", g.helperName(t), ptr), true
	}
	g.fail("unsupported kind %s", t.Kind())
	return "", false
}
