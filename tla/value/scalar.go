package value

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// Bool is TRUE or FALSE.
type Bool bool

// Kind implements Value.
func (Bool) Kind() Kind { return KindBool }

// Hash implements Value.
func (b Bool) Hash() uint64 {
	if b {
		return mix64(seedBool + 1)
	}
	return mix64(seedBool)
}

func (b Bool) String() string {
	if b {
		return "TRUE"
	}
	return "FALSE"
}

// Int is TLC's 32-bit integer; arithmetic that leaves the range fails with
// ErrOverflow (TLC: "Overflow when computing ...").
type Int int32

// Kind implements Value.
func (Int) Kind() Kind { return KindInt }

// Hash implements Value.
func (i Int) Hash() uint64 { return hashInt(int32(i)) }

func (i Int) String() string { return strconv.FormatInt(int64(i), 10) }

// atom is an interned string or model value name; id is the order of first
// sighting, which is TLC's order for strings (UniqueString) and model values.
type atom struct {
	s    string
	id   uint32
	hash uint64
	// typ is the type letter of a typed model value (A_x has type 'A'), 0 if untyped.
	typ byte
	// gid numbers the atom among all atoms of the process (compact encoding).
	gid uint32
}

// Str is an interned string. Two Str are equal iff they share an atom;
// Compare orders them by first sighting as TLC does, not alphabetically.
type Str struct{ a *atom }

// Model is a model value (declared in the .cfg). An untyped model value is
// unequal to every other value; a typed one (name "T_x") is comparable only
// with model values of the same type.
type Model struct{ a *atom }

// Interner assigns interned strings and model values their TLC order. The
// parser/evaluator must intern in source order (TLC's order of first sighting).
// It is safe for concurrent use.
type Interner struct {
	mu     sync.RWMutex
	strs   map[string]*atom
	models map[string]*atom
	next   uint32
	doms   map[string][]Value // record domains by field names (RecordMaker)
	// reserved holds the places Reserve gave names not yet interned.
	reserved map[string]uint32
}

// Default is the process-wide interner used by S and NewModel.
var Default = NewInterner()

// NewInterner returns an empty table (tests use their own for reproducible order).
func NewInterner() *Interner {
	return &Interner{strs: map[string]*atom{}, models: map[string]*atom{}}
}

// String interns s and returns it as a value.
func (t *Interner) String(s string) Str {
	t.mu.RLock()
	a := t.strs[s]
	t.mu.RUnlock()
	if a != nil {
		return Str{a}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if a = t.strs[s]; a == nil {
		a = &atom{s: s, id: t.place(s), hash: hashString(s)}
		registerAtom(a)
		t.strs[s] = a
	}
	return Str{a}
}

// Reserve gives name its place in the order now, before any value uses
// it, as TLC's table of names takes every identifier while the parser
// reads the modules and every string literal while SANY processes them: a
// string or model value of that name interned later takes the place
// reserved. Reserving a name that has one is a no-op.
func (t *Interner) Reserve(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.reserved[name]; ok {
		return
	}
	if t.strs[name] != nil || t.models[name] != nil {
		return
	}
	if t.reserved == nil {
		t.reserved = map[string]uint32{}
	}
	t.reserved[name] = t.next
	t.next++
}

// place is the id of a new atom named name: the place reserved for it,
// else the next (t.mu held).
func (t *Interner) place(name string) uint32 {
	if id, ok := t.reserved[name]; ok {
		return id
	}
	id := t.next
	t.next++
	return id
}

// Model interns a model value by name. A name of the form "X_rest" with a
// single letter X before the underscore is typed with type X (TLC's rule).
func (t *Interner) Model(name string) Model {
	t.mu.RLock()
	a := t.models[name]
	t.mu.RUnlock()
	if a != nil {
		return Model{a}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if a = t.models[name]; a == nil {
		a = &atom{s: name, id: t.place(name), hash: mix64(hashString(name) ^ seedModel)}
		if len(name) > 2 && name[1] == '_' {
			a.typ = name[0]
		}
		registerAtom(a)
		t.models[name] = a
	}
	return Model{a}
}

// S interns s in the Default table.
func S(s string) Str { return Default.String(s) }

// NewModel interns a model value in the Default table.
func NewModel(name string) Model { return Default.Model(name) }

// Kind implements Value.
func (Str) Kind() Kind { return KindString }

// Hash implements Value.
func (s Str) Hash() uint64 { return s.a.hash }

// Go returns the Go string.
func (s Str) Go() string { return s.a.s }

func (s Str) String() string { return quote(s.a.s) }

// Kind implements Value.
func (Model) Kind() Kind { return KindModel }

// Hash implements Value.
func (m Model) Hash() uint64 { return m.a.hash }

// Name returns the model value's name.
func (m Model) Name() string { return m.a.s }

// Typed reports whether the model value has a type letter (TLC's "A_x").
func (m Model) Typed() bool { return m.a.typ != 0 }

func (m Model) String() string { return m.a.s }

// quote prints a string as TLC does: in double quotes with \" \\ \n \t \r escaped.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case '\f':
			b.WriteString(`\f`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// True and False are the two booleans.
const (
	True  = Bool(true)
	False = Bool(false)
)

func asInt(op string, v Value) (int32, error) {
	i, ok := v.(Int)
	if !ok {
		return 0, typeErr(op, "an integer", v)
	}
	return int32(i), nil
}

var _ = fmt.Sprint
