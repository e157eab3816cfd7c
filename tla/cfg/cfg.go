package cfg

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Pos is a position in a configuration file, 1-based.
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// ErrSyntax is wrapped by every parse error.
var ErrSyntax = errors.New("cfg: syntax error")

// Error is a parse error at a position; it reads file:line:col: message.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Unwrap lets errors.Is match ErrSyntax.
func (e *Error) Unwrap() error { return ErrSyntax }

// ValueKind is the kind of a constant's value.
type ValueKind uint8

// Value kinds TLC accepts in a configuration.
const (
	Int ValueKind = iota + 1
	String
	Bool
	ModelValue // an uninterpreted constant: a name
	Set
	Tuple
)

// Value is a value written in a configuration file.
type Value struct {
	Kind  ValueKind
	Int   int64
	Str   string // String and ModelValue
	Bool  bool
	Elems []Value // Set and Tuple, in source order
	Pos   Pos
}

func (v Value) String() string {
	switch v.Kind {
	case Int:
		return strconv.FormatInt(v.Int, 10)
	case String:
		return quote(v.Str)
	case Bool:
		if v.Bool {
			return "TRUE"
		}
		return "FALSE"
	case ModelValue:
		return v.Str
	}
	parts := make([]string, len(v.Elems))
	for i, e := range v.Elems {
		parts[i] = e.String()
	}
	if v.Kind == Set {
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return "<<" + strings.Join(parts, ", ") + ">>"
}

// Constant is one entry of a CONSTANT(S) section: either an assignment of a
// value (c = v, including the model value NoVal = NoVal) or a substitution
// by a definition (c <- Def, or c <-[Mod] Def for a constant of an
// instantiated module).
type Constant struct {
	Name   string
	Pos    Pos
	Value  *Value // set for c = v
	Def    string // set for c <- Def
	Module string // set for c <-[Mod] Def and c = [Mod] v
}

// Name is a definition named in a section, with its position.
type Name struct {
	Name string
	Pos  Pos
}

// Config is a parsed TLC model configuration.
type Config struct {
	Constants         []Constant
	Init, Next        *Name
	Specification     *Name
	Invariants        []Name
	Properties        []Name
	Constraints       []Name
	ActionConstraints []Name
	Symmetry          *Name
	View              *Name
	// Alias names the expression a counterexample's states are printed
	// through, as TLC prints them (eval.Machine.ApplyAlias).
	Alias *Name
	// Postcondition is evaluated after a successful search
	// (eval.Machine.CheckPostcondition).
	Postcondition *Name
	// CheckDeadlock is nil when the file does not say (TLC then checks).
	CheckDeadlock *bool
}

// keywords maps every section keyword to its canonical form.
var keywords = map[string]string{
	"CONSTANT": "CONSTANTS", "CONSTANTS": "CONSTANTS",
	"INIT": "INIT", "NEXT": "NEXT", "SPECIFICATION": "SPECIFICATION",
	"INVARIANT": "INVARIANTS", "INVARIANTS": "INVARIANTS",
	"PROPERTY": "PROPERTIES", "PROPERTIES": "PROPERTIES",
	"CONSTRAINT": "CONSTRAINTS", "CONSTRAINTS": "CONSTRAINTS",
	"ACTION_CONSTRAINT": "ACTION_CONSTRAINTS", "ACTION_CONSTRAINTS": "ACTION_CONSTRAINTS",
	"SYMMETRY": "SYMMETRY", "VIEW": "VIEW", "ALIAS": "ALIAS", "POSTCONDITION": "POSTCONDITION",
	"CHECK_DEADLOCK": "CHECK_DEADLOCK",
}

// MaxSize caps a configuration file.
const MaxSize = 1 << 20

// Parse parses the configuration src read from file (the name is used in
// error positions only).
func Parse(file string, src []byte) (*Config, error) {
	if len(src) > MaxSize {
		return nil, &Error{Pos{file, 1, 1}, fmt.Sprintf("file of %d bytes exceeds %d", len(src), MaxSize)}
	}
	toks, err := lex(file, src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	c := &Config{}
	for !p.at(tEOF) {
		t := p.next()
		if t.kind != tIdent || keywords[t.text] == "" {
			return nil, p.errAt(t, "expected a section keyword (CONSTANTS, INIT, NEXT, SPECIFICATION, INVARIANTS, PROPERTIES, CONSTRAINTS, ACTION_CONSTRAINTS, SYMMETRY, VIEW, ALIAS, POSTCONDITION, CHECK_DEADLOCK), found %s", t)
		}
		switch keywords[t.text] {
		case "CONSTANTS":
			for p.at(tIdent) && keywords[p.peek().text] == "" {
				k, err := p.constant()
				if err != nil {
					return nil, err
				}
				c.Constants = append(c.Constants, k)
			}
		case "INIT":
			if err := p.single(&c.Init, t); err != nil {
				return nil, err
			}
		case "NEXT":
			if err := p.single(&c.Next, t); err != nil {
				return nil, err
			}
		case "SPECIFICATION":
			if err := p.single(&c.Specification, t); err != nil {
				return nil, err
			}
		case "SYMMETRY":
			if err := p.single(&c.Symmetry, t); err != nil {
				return nil, err
			}
		case "VIEW":
			if err := p.single(&c.View, t); err != nil {
				return nil, err
			}
		case "ALIAS":
			if err := p.single(&c.Alias, t); err != nil {
				return nil, err
			}
		case "POSTCONDITION":
			if err := p.single(&c.Postcondition, t); err != nil {
				return nil, err
			}
		case "INVARIANTS":
			c.Invariants = append(c.Invariants, p.names()...)
		case "PROPERTIES":
			c.Properties = append(c.Properties, p.names()...)
		case "CONSTRAINTS":
			c.Constraints = append(c.Constraints, p.names()...)
		case "ACTION_CONSTRAINTS":
			c.ActionConstraints = append(c.ActionConstraints, p.names()...)
		case "CHECK_DEADLOCK":
			v := p.next()
			if v.kind != tIdent || (v.text != "TRUE" && v.text != "FALSE") {
				return nil, p.errAt(v, "CHECK_DEADLOCK takes TRUE or FALSE, found %s", v)
			}
			if c.CheckDeadlock != nil {
				return nil, p.errAt(t, "CHECK_DEADLOCK given twice")
			}
			b := v.text == "TRUE"
			c.CheckDeadlock = &b
		}
	}
	if c.Specification != nil && (c.Init != nil || c.Next != nil) {
		return nil, &Error{c.Specification.Pos, "SPECIFICATION and INIT/NEXT are exclusive"}
	}
	if (c.Init == nil) != (c.Next == nil) && c.Specification == nil {
		var at Pos
		if c.Init != nil {
			at = c.Init.Pos
		} else {
			at = c.Next.Pos
		}
		return nil, &Error{at, "INIT and NEXT go together"}
	}
	return c, nil
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token       { return p.toks[p.i] }
func (p *parser) at(k tokKind) bool { return p.toks[p.i].kind == k }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errAt(t token, format string, a ...any) error {
	return &Error{t.pos, fmt.Sprintf(format, a...)}
}

// single reads the one name a section like INIT takes.
func (p *parser) single(dst **Name, kw token) error {
	if *dst != nil {
		return p.errAt(kw, "%s given twice", kw.text)
	}
	t := p.next()
	if t.kind != tIdent || keywords[t.text] != "" {
		return p.errAt(t, "%s takes the name of a definition, found %s", kw.text, t)
	}
	*dst = &Name{t.text, t.pos}
	return nil
}

// names reads the definitions of a list section up to the next keyword.
func (p *parser) names() []Name {
	var out []Name
	for p.at(tIdent) && keywords[p.peek().text] == "" {
		t := p.next()
		out = append(out, Name{t.text, t.pos})
	}
	return out
}

func (p *parser) constant() (Constant, error) {
	name := p.next()
	k := Constant{Name: name.text, Pos: name.pos}
	op := p.next()
	switch op.kind {
	case tEq:
		if p.at(tLBracket) && p.i+2 < len(p.toks) && p.toks[p.i+1].kind == tIdent && p.toks[p.i+2].kind == tRBracket {
			// c = [Mod] v: the value of c in module Mod (TLC's Toolbox)
			p.next()
			k.Module = p.next().text
			p.next()
		}
		v, err := p.value(0)
		if err != nil {
			return k, err
		}
		k.Value = &v
	case tArrow:
		if p.at(tLBracket) {
			p.next()
			m := p.next()
			if m.kind != tIdent {
				return k, p.errAt(m, "expected a module name after <-[, found %s", m)
			}
			if r := p.next(); r.kind != tRBracket {
				return k, p.errAt(r, "expected ] after the module name, found %s", r)
			}
			k.Module = m.text
		}
		d := p.next()
		if d.kind != tIdent || keywords[d.text] != "" {
			return k, p.errAt(d, "expected the name of a definition after <-, found %s", d)
		}
		k.Def = d.text
	default:
		return k, p.errAt(op, "expected = or <- after constant %s, found %s", name.text, op)
	}
	return k, nil
}

// maxDepth caps nested sets and tuples.
const maxDepth = 32

func (p *parser) value(depth int) (Value, error) {
	t := p.next()
	if depth > maxDepth {
		return Value{}, p.errAt(t, "values nested deeper than %d", maxDepth)
	}
	switch t.kind {
	case tNumber:
		n, err := strconv.ParseInt(t.text, 10, 32) // TLC's integers are 32-bit
		if err != nil {
			return Value{}, p.errAt(t, "integer %s out of TLC's 32-bit range", t.text)
		}
		return Value{Kind: Int, Int: n, Pos: t.pos}, nil
	case tMinus:
		n := p.next()
		if n.kind != tNumber {
			return Value{}, p.errAt(n, "expected a number after -, found %s", n)
		}
		v, err := strconv.ParseInt("-"+n.text, 10, 32)
		if err != nil {
			return Value{}, p.errAt(n, "integer -%s out of TLC's 32-bit range", n.text)
		}
		return Value{Kind: Int, Int: v, Pos: t.pos}, nil
	case tString:
		return Value{Kind: String, Str: t.text, Pos: t.pos}, nil
	case tIdent:
		switch {
		case t.text == "TRUE" || t.text == "FALSE":
			return Value{Kind: Bool, Bool: t.text == "TRUE", Pos: t.pos}, nil
		case keywords[t.text] != "":
			return Value{}, p.errAt(t, "expected a value, found the keyword %s", t.text)
		}
		return Value{Kind: ModelValue, Str: t.text, Pos: t.pos}, nil
	case tLBrace, tLTuple:
		kind, closer := Set, tRBrace
		if t.kind == tLTuple {
			kind, closer = Tuple, tRTuple
		}
		v := Value{Kind: kind, Pos: t.pos}
		if p.at(closer) {
			p.next()
			return v, nil
		}
		for {
			e, err := p.value(depth + 1)
			if err != nil {
				return Value{}, err
			}
			v.Elems = append(v.Elems, e)
			sep := p.next()
			if sep.kind == closer {
				return v, nil
			}
			if sep.kind != tComma {
				return Value{}, p.errAt(sep, "expected , or the end of the %s, found %s", map[ValueKind]string{Set: "set", Tuple: "tuple"}[kind], sep)
			}
		}
	}
	return Value{}, p.errAt(t, "expected a value, found %s", t)
}

// quote writes s as a .cfg string literal the lexer reads back: only the
// escapes it knows (\", \\, \n, \t); every other byte as it is (strconv.Quote's
// \x escapes are not TLA+).
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
