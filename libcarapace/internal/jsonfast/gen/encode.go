package gen

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/carapace-oci/carapace/libcarapace/internal/jsonfast"
)

// The encoders: one function per struct reachable from Config.Encode,
// appending to a jsonfast.Encoder exactly what json.Marshal writes for the
// value: fields in encoding/json's order (declaration order, embedded
// structs' fields in their place), omitempty as its isEmptyValue, map
// keys sorted, strings escaped as it escapes them (HTML-safe), nil slices
// and maps as null, []byte as base64, time.Time and json.RawMessage as
// their MarshalJSON and encoding/json's compaction of it write them.
// Whatever else has a MarshalJSON or MarshalText, floats, arrays, the
// ",string" and "omitzero" options are refused; an interface is encoded
// only when nil (anything else makes the encoder's Err ErrUnsupported, for
// the caller's fallback to encoding/json).

var (
	marshaler     = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	timeType      = reflect.TypeFor[time.Time]()
	rawType       = reflect.TypeFor[json.RawMessage]()
)

// isLeaf: t is encoded by a method of jsonfast.Encoder.
func isLeaf(t reflect.Type) bool { return t == timeType || t == rawType }

// hasMarshaler: encoding/json would call a method of t (or of *t, for an
// addressable value) to encode it.
func hasMarshaler(t reflect.Type) bool {
	for _, m := range []reflect.Type{marshaler, textMarshaler} {
		if t.Implements(m) || (t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(m)) {
			return true
		}
	}
	return false
}

// encWalk checks t and collects the structs reachable from it.
func (g *generator) encWalk(t reflect.Type) {
	if g.encDone[t] {
		return
	}
	g.encDone[t] = true
	if isLeaf(t) {
		return
	}
	// A pointer's methods are its element's (a pointer type has none of
	// its own): a nil one is null, as here, and the element is checked.
	if hasMarshaler(t) && t.Kind() != reflect.Interface && t.Kind() != reflect.Pointer {
		g.fail("%s has a MarshalJSON or MarshalText", t)
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
		if prev, ok := g.encFuncs[g.encFuncName(t)]; ok {
			g.fail("%s and %s would both be encoded by %s", prev, t, g.encFuncName(t))
		}
		g.encFuncs[g.encFuncName(t)] = t
		g.encStructs = append(g.encStructs, t)
		for _, f := range g.fields(t) {
			for _, o := range strings.Split(f.opts, ",") {
				if o != "" && o != "omitempty" {
					g.fail("%s: field %q: the ,%s option", t, f.name, o)
				}
			}
			g.encWalk(f.typ)
		}
	case reflect.Pointer, reflect.Slice:
		g.encWalk(t.Elem())
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			g.fail("map %s: only string keys", t)
		}
		g.encWalk(t.Key())
		g.encWalk(t.Elem())
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

// encReaches: t is reachable from roots, for encoding.
func encReaches(roots []reflect.Type, t reflect.Type) bool {
	g := newGenerator(Config{})
	for _, r := range roots {
		g.encWalk(r)
	}
	return g.encDone[t]
}

// encFuncName names the encoder of struct t.
func (g *generator) encFuncName(t reflect.Type) string {
	if p := g.extern(t); p != "" {
		return g.pkgName(p) + ".Append" + t.Name()
	}
	if g.c.Export {
		return "Append" + t.Name()
	}
	return "append" + t.Name()
}

// encHelperName names the function encoding a pointer, slice, map or
// interface type t, and queues it for writing.
func (g *generator) encHelperName(t reflect.Type) string {
	name := "append" + g.shapeName(t)
	if prev, ok := g.encHelpers[name]; ok {
		if prev != t {
			g.fail("%s and %s would both be encoded by %s", prev, t, name)
		}
		return name
	}
	g.encHelpers[name] = t
	g.encPending = append(g.encPending, t)
	return name
}

// encoders writes the struct encoders, then the helpers they use.
func (g *generator) encoders(w *bytes.Buffer) {
	structs := append([]reflect.Type(nil), g.encStructs...)
	sortTypes(structs, func(t reflect.Type) string { return t.Name() })
	for _, t := range structs {
		g.encStruct(w, t)
	}
	var helpers []reflect.Type
	for len(g.encPending) > 0 {
		helpers = append(helpers, g.encPending...)
		next := g.encPending
		g.encPending = nil
		for _, t := range next {
			g.encHelper(new(bytes.Buffer), t) // for what it queues
		}
	}
	for _, t := range structs {
		if _, ok := g.encHelpers[g.encFuncName(t)]; ok {
			g.fail("%s is both a struct's encoder and a helper", g.encFuncName(t))
		}
	}
	sortTypes(helpers, g.shapeName)
	for _, t := range helpers {
		g.encHelper(w, t)
	}
}

func sortTypes(ts []reflect.Type, key func(reflect.Type) string) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && key(ts[j]) < key(ts[j-1]); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

// emptyCond is the Go condition under which encoding/json's omitempty
// keeps the value expr of type t (isEmptyValue false); "" if always.
func emptyCond(expr string, t reflect.Type) string {
	switch t.Kind() {
	case reflect.String, reflect.Slice, reflect.Map:
		return "len(" + expr + ") != 0"
	case reflect.Bool:
		return expr
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return expr + " != 0"
	case reflect.Pointer, reflect.Interface:
		return expr + " != nil"
	}
	return "" // a struct is never empty
}

func (g *generator) encStruct(w *bytes.Buffer, t reflect.Type) {
	fs := g.fields(t)
	if g.c.Export {
		fmt.Fprintf(w, "// %s appends a %s as json.Marshal writes it.\n", g.encFuncName(t), g.typeName(t))
	}
	fmt.Fprintf(w, "func %s(e *jsonfast.Encoder, v *%s) {\n", g.encFuncName(t), g.typeName(t))
	// Whether a member precedes is known until the first omitempty
	// field; from there on, until a field always written, more says.
	const (
		none = iota
		some
		unknown
	)
	st, open := none, "{"
	for i, f := range fs {
		expr := "v." + strings.Join(f.path, ".")
		key := string(jsonfast.AppendString(nil, f.name)) + ":"
		cond := ""
		if strings.Contains(","+f.opts+",", ",omitempty,") {
			cond = emptyCond(expr, f.typ)
		}
		if cond != "" && st == none {
			if open != "" {
				w.WriteString("e.Byte('{')\n")
				open = ""
			}
			if i < len(fs)-1 { // more is used only if a field follows
				w.WriteString("more := false\n")
			}
		}
		if cond != "" {
			fmt.Fprintf(w, "if %s {\n", cond)
		}
		switch st {
		case none:
			fmt.Fprintf(w, "e.Raw(%s)\n", strconv.Quote(open+key))
			if cond != "" && i < len(fs)-1 {
				w.WriteString("more = true\n")
			}
		case some:
			fmt.Fprintf(w, "e.Raw(%s)\n", strconv.Quote(","+key))
		case unknown:
			fmt.Fprintf(w, "e.Key(&more, %s)\n", strconv.Quote(key))
		}
		open = ""
		g.encValue(w, expr, f.typ)
		switch {
		case cond != "":
			w.WriteString("}\n")
			if st == none {
				st = unknown
			}
		default:
			st = some
		}
	}
	fmt.Fprintf(w, "e.Raw(%q)\n}\n\n", open+"}")
}

// encValue writes the statement appending expr, an addressable value of
// type t.
func (g *generator) encValue(w *bytes.Buffer, expr string, t reflect.Type) {
	switch {
	case t == timeType:
		fmt.Fprintf(w, "e.Time(%s)\n", expr)
		return
	case t == rawType:
		fmt.Fprintf(w, "e.RawMessage(%s)\n", expr)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		fmt.Fprintf(w, "%s(e, &%s)\n", g.encFuncName(t), expr)
	case reflect.String:
		fmt.Fprintf(w, "e.Str(%s)\n", conv("string", expr, t))
	case reflect.Bool:
		fmt.Fprintf(w, "e.Bool(%s)\n", conv("bool", expr, t))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		fmt.Fprintf(w, "e.Int(%s)\n", conv("int64", expr, t))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		fmt.Fprintf(w, "e.Uint(%s)\n", conv("uint64", expr, t))
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			// encoding/json's base64, as hasMarshaler refused an
			// element type with methods of its own.
			fmt.Fprintf(w, "e.Bytes(%s)\n", conv("[]byte", expr, t))
			return
		}
		fmt.Fprintf(w, "%s(e, %s)\n", g.encHelperName(t), expr)
	case reflect.Pointer, reflect.Map, reflect.Interface:
		fmt.Fprintf(w, "%s(e, %s)\n", g.encHelperName(t), expr)
	default:
		g.fail("unsupported kind %s", t.Kind())
	}
}

// conv converts expr of type t to the basic type to, if t is not it.
func conv(to, expr string, t reflect.Type) string {
	if t.PkgPath() == "" && t.Name() == to || to == "[]byte" && t == reflect.TypeFor[[]byte]() {
		return expr
	}
	return to + "(" + expr + ")"
}

// encHelper writes the function encHelperName named for t.
func (g *generator) encHelper(w *bytes.Buffer, t reflect.Type) {
	fmt.Fprintf(w, "func %s(e *jsonfast.Encoder, v %s) {\n", g.encHelperName(t), g.typeName(t))
	switch t.Kind() {
	case reflect.Interface:
		// Only nil is written here; encoding/json writes the rest.
		w.WriteString("if v != nil {\ne.Fail(jsonfast.ErrUnsupported)\nreturn\n}\ne.Null()\n}\n\n")
	case reflect.Pointer:
		w.WriteString("if v == nil {\ne.Null()\nreturn\n}\n")
		if t.Elem().Kind() == reflect.Struct && !isLeaf(t.Elem()) {
			fmt.Fprintf(w, "%s(e, v)\n", g.encFuncName(t.Elem()))
		} else {
			g.encValue(w, "(*v)", t.Elem())
		}
		w.WriteString("}\n\n")
	case reflect.Slice:
		w.WriteString("if v == nil {\ne.Null()\nreturn\n}\ne.Byte('[')\nfor i := range v {\nif i > 0 {\ne.Byte(',')\n}\n")
		g.encValue(w, "v[i]", t.Elem())
		w.WriteString("}\ne.Byte(']')\n}\n\n")
	case reflect.Map:
		w.WriteString("if v == nil {\ne.Null()\nreturn\n}\ne.Byte('{')\nfor i, k := range jsonfast.SortedKeys(v) {\nif i > 0 {\ne.Byte(',')\n}\n")
		fmt.Fprintf(w, "e.Str(%s)\ne.Byte(':')\nx := v[k]\n", conv("string", "k", t.Key()))
		g.encValue(w, "x", t.Elem())
		w.WriteString("}\ne.Byte('}')\n}\n\n")
	default:
		g.fail("unsupported kind %s", t.Kind())
	}
}
