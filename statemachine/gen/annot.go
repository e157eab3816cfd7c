package gen

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/verimeter/verimeter/tla/syntax"
)

// varAnnot is the comment above a variable: `\* @type: T; @role: R[, R2]; @persist`.
type varAnnot struct {
	Pos     syntax.Pos // of the annotation line
	TypePos syntax.Pos // of T
	Type    string
	Roles   []string
	Persist bool
	// Store marks state the role keeps outside the machine (`@store`): a
	// set in its journal or database, reached through <M>Store.
	Store bool
}

// actionAnnot is the comment above an action: `\* @role: R @event: name(params)`.
type actionAnnot struct {
	Pos    syntax.Pos
	Role   string
	Event  string
	Params []string
}

// annotations is what the comments of one module say.
type annotations struct {
	Vars    map[string]*varAnnot
	Actions map[string]*actionAnnot
	Aliases map[string]aliasAnnot
	// Crypto lists the operators marked `\* @crypto`: abstract
	// cryptography that generated code calls through an interface.
	Crypto map[string]syntax.Pos
	// Bounds are the lines marked `\* @bound`: a conjunct starting on one
	// of them that reads a constant is a model bound (it limits the model,
	// not the protocol), which the generator drops. A comment line holding
	// only `\* @bound` marks the next line of code.
	Bounds map[int]bool
	// DefTypes are the `\* @type: T;` annotations (without @role) above
	// operator definitions, as Apalache writes them: the type of a set a
	// parameter is drawn from, when the generator cannot infer it.
	DefTypes map[string]varAnnot
	// Compose is set by a line `\* @compose: reason`: the module composes
	// the others (System) and is model-checked only, never generated.
	Compose *syntax.Pos
}

type aliasAnnot struct {
	Pos  syntax.Pos
	Type string
}

var (
	reVarAnnot    = regexp.MustCompile(`^(\s*\\\*\s*)@type:\s*(.*)$`)
	reActionAnnot = regexp.MustCompile(`^\s*\\\*\s*@role:\s*([A-Za-z_][A-Za-z0-9_]*)\s+@event:\s*([A-Za-z_][A-Za-z0-9_]*)\s*(\(([^)]*)\))?\s*$`)
	reRoleOnly    = regexp.MustCompile(`^\s*\\\*\s*@(role|event)\b`)
	reCrypto      = regexp.MustCompile(`^\s*\\\*\s*@crypto\s*$`)
	reCompose     = regexp.MustCompile(`^\s*\\\*\s*@compose\b`)
	reBound       = regexp.MustCompile(`\\\*\s*@bound\b`)
	reBoundOnly   = regexp.MustCompile(`^\s*\\\*\s*@bound\b`)
	reAlias       = regexp.MustCompile(`^(\s*\\\*\s*@typeAlias:\s*)([A-Z][A-Za-z0-9_]*)\s*=\s*(.*?);?\s*$`)
	reDefLine     = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)\s*(\(.*\))?\s*==`)
	reVarLine     = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*)\s*,?\s*(\\\*.*)?$`)
	reComment     = regexp.MustCompile(`^\s*(\\\*.*)?$`)
	reIdent       = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// scanAnnotations reads the annotations of a module's source, as
// tla/msc.ParseRoles does, with the fields the generator needs: a variable
// annotation applies to the next variable name, an action annotation to the
// next definition, with comment lines in between allowed. Malformed
// annotations are reported, never skipped.
func scanAnnotations(file string, src []byte) (*annotations, []Diag) {
	s := &annotScanner{file: file, a: &annotations{Vars: map[string]*varAnnot{}, Actions: map[string]*actionAnnot{}, Aliases: map[string]aliasAnnot{}, Crypto: map[string]syntax.Pos{}, Bounds: map[int]bool{}, DefTypes: map[string]varAnnot{}}}
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for ln := 1; sc.Scan(); ln++ {
		if line := sc.Text(); !s.annotation(line, ln) {
			s.attach(line, ln)
		}
	}
	return s.a, s.diags
}

// annotScanner is the state of scanAnnotations between lines: the
// annotations read so far and those waiting for the declaration they
// apply to.
type annotScanner struct {
	file           string
	a              *annotations
	diags          []Diag
	pendingDefType *varAnnot
	pendingBound   bool
	pendingVar     *varAnnot
	pendingAct     *actionAnnot
	pendingCrypto  *syntax.Pos
}

// annotation reads line ln as an annotation or a comment; false when it is
// neither (a declaration, or any other line of the module).
func (s *annotScanner) annotation(line string, ln int) bool {
	pos := syntax.Pos{File: s.file, Line: ln, Col: 1}
	if m := reAlias.FindStringSubmatch(line); m != nil {
		s.a.Aliases[m[2]] = aliasAnnot{Pos: syntax.Pos{File: s.file, Line: ln, Col: len(m[1]) + 1}, Type: m[3]}
		return true
	}
	if reCompose.MatchString(line) {
		p := pos
		s.a.Compose = &p
		return true
	}
	if reBoundOnly.MatchString(line) {
		s.pendingBound = true
		return true
	}
	if reBound.MatchString(line) {
		s.a.Bounds[ln] = true
	}
	if m := reVarAnnot.FindStringSubmatch(line); m != nil && !strings.Contains(m[2], "@role:") {
		// A type without a role: an operator definition's (Apalache).
		v := &varAnnot{Pos: pos, Type: strings.TrimSuffix(strings.TrimSpace(m[2]), ";")}
		v.TypePos = syntax.Pos{File: s.file, Line: ln, Col: strings.Index(line, m[2]) + 1}
		s.pendingDefType = v
		return true
	}
	if m := reVarAnnot.FindStringSubmatch(line); m != nil {
		v, err := parseVarAnnot(pos, strings.Index(line, m[2])+1, m[2])
		if err != nil {
			s.diags = append(s.diags, *err)
		} else {
			s.pendingVar = v
		}
		return true
	}
	if m := reActionAnnot.FindStringSubmatch(line); m != nil {
		act := &actionAnnot{Pos: pos, Role: m[1], Event: m[2]}
		if strings.TrimSpace(m[4]) != "" {
			for _, p := range strings.Split(m[4], ",") {
				act.Params = append(act.Params, strings.TrimSpace(p))
			}
		}
		s.pendingAct = act
		return true
	}
	if reCrypto.MatchString(line) {
		p := pos
		s.pendingCrypto = &p
		return true
	}
	if reRoleOnly.MatchString(line) {
		s.diags = append(s.diags, Diag{Pos: pos, Msg: "malformed action annotation (want `\\* @role: R @event: name(params)`)"})
		return true
	}
	if reComment.MatchString(line) {
		return true
	}
	return false
}

// attach gives the pending annotations to the declaration on line ln, or
// reports them when the line declares nothing they can apply to.
func (s *annotScanner) attach(line string, ln int) {
	if s.pendingBound {
		s.a.Bounds[ln] = true
		s.pendingBound = false
	}
	if s.pendingDefType != nil {
		if m := reDefLine.FindStringSubmatch(line); m != nil {
			s.a.DefTypes[m[1]] = *s.pendingDefType
		} else {
			s.diags = append(s.diags, Diag{Pos: s.pendingDefType.Pos, Msg: "a type annotation without @role is for an operator definition, and none follows (a variable's needs `; @role: R`)"})
		}
		s.pendingDefType = nil
	}
	if s.pendingAct != nil {
		if m := reDefLine.FindStringSubmatch(line); m != nil {
			s.a.Actions[m[1]] = s.pendingAct
		} else {
			s.diags = append(s.diags, Diag{Pos: s.pendingAct.Pos, Msg: "action annotation not followed by a definition"})
		}
		s.pendingAct = nil
	}
	if s.pendingCrypto != nil {
		if m := reDefLine.FindStringSubmatch(line); m != nil {
			s.a.Crypto[m[1]] = *s.pendingCrypto
		} else {
			s.diags = append(s.diags, Diag{Pos: *s.pendingCrypto, Msg: "@crypto not followed by a definition"})
		}
		s.pendingCrypto = nil
	}
	if s.pendingVar != nil {
		if m := reVarLine.FindStringSubmatch(line); m != nil {
			s.a.Vars[m[1]] = s.pendingVar
		} else {
			s.diags = append(s.diags, Diag{Pos: s.pendingVar.Pos, Msg: "type annotation not followed by a variable name"})
		}
		s.pendingVar = nil
	}
}

func parseVarAnnot(pos syntax.Pos, col int, rest string) (*varAnnot, *Diag) {
	parts := strings.Split(rest, ";")
	v := &varAnnot{Pos: pos, Type: strings.TrimSpace(parts[0])}
	v.TypePos = syntax.Pos{File: pos.File, Line: pos.Line, Col: col}
	for _, p := range parts[1:] {
		p = strings.TrimSpace(p)
		switch {
		case p == "":
		case p == "@persist":
			v.Persist = true
		case p == "@store":
			v.Store = true
		case strings.HasPrefix(p, "@role:"):
			for _, r := range strings.Split(strings.TrimPrefix(p, "@role:"), ",") {
				r = strings.TrimSpace(r)
				if !reIdent.MatchString(r) {
					return nil, &Diag{Pos: pos, Msg: fmt.Sprintf("bad role %q in variable annotation", r)}
				}
				v.Roles = append(v.Roles, r)
			}
		default:
			return nil, &Diag{Pos: pos, Msg: fmt.Sprintf("unknown field %q in variable annotation", p)}
		}
	}
	if len(v.Roles) == 0 {
		return nil, &Diag{Pos: pos, Msg: "variable annotation without @role"}
	}
	return v, nil
}

// Type is an Apalache type of the subset the generator maps to Go.
type Type struct {
	Kind   TypeKind
	Elem   *Type   // Set, Seq; the range of a Fun
	Key    *Type   // the domain of a Fun
	Fields []Field // Record, in annotation order
	Elems  []*Type // Tuple
	Alias  string  // the alias name it was written as, if any
}

// Field is one field of a record type.
type Field struct {
	Name string
	Type *Type
}

// TypeKind classifies a Type.
type TypeKind int

// The kinds of Type.
const (
	TInt TypeKind = iota + 1
	TBool
	TStr
	TSet
	TSeq
	TRecord
	TTuple
	TFun // a function Key -> Elem
)

func (t *Type) String() string {
	switch t.Kind {
	case TInt:
		return "Int"
	case TBool:
		return "Bool"
	case TStr:
		return "Str"
	case TSet:
		return "Set(" + t.Elem.String() + ")"
	case TSeq:
		return "Seq(" + t.Elem.String() + ")"
	case TRecord:
		var b strings.Builder
		b.WriteString("[")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(f.Name + ": " + f.Type.String())
		}
		return b.String() + "]"
	case TTuple:
		var s []string
		for _, e := range t.Elems {
			s = append(s, e.String())
		}
		return "<<" + strings.Join(s, ", ") + ">>"
	case TFun:
		k := t.Key.String()
		if t.Key.Kind == TFun {
			k = "(" + k + ")"
		}
		return k + " -> " + t.Elem.String()
	}
	return "?"
}

func (t *Type) equal(u *Type) bool { return t.String() == u.String() }

// typeParser parses Apalache's type notation, resolving aliases.
type typeParser struct {
	pos     syntax.Pos
	src     string
	i       int
	aliases map[string]aliasAnnot
	depth   int
}

func parseType(pos syntax.Pos, src string, aliases map[string]aliasAnnot) (*Type, *Diag) {
	p := &typeParser{pos: pos, src: src, aliases: aliases}
	t, d := p.typ()
	if d != nil {
		return nil, d
	}
	p.space()
	if p.i != len(p.src) {
		return nil, p.err("unexpected %q after type", p.src[p.i:])
	}
	return t, nil
}

func (p *typeParser) err(f string, args ...any) *Diag {
	pos := p.pos
	pos.Col += p.i
	return &Diag{Pos: pos, Msg: fmt.Sprintf(f, args...)}
}

func (p *typeParser) space() {
	for p.i < len(p.src) && (p.src[p.i] == ' ' || p.src[p.i] == '\t') {
		p.i++
	}
}

func (p *typeParser) ident() string {
	p.space()
	j := p.i
	for p.i < len(p.src) && (p.src[p.i] == '_' || p.src[p.i] >= 'a' && p.src[p.i] <= 'z' || p.src[p.i] >= 'A' && p.src[p.i] <= 'Z' || p.i > j && p.src[p.i] >= '0' && p.src[p.i] <= '9') {
		p.i++
	}
	return p.src[j:p.i]
}

func (p *typeParser) eat(s string) bool {
	p.space()
	if strings.HasPrefix(p.src[p.i:], s) {
		p.i += len(s)
		return true
	}
	return false
}

// typ parses a type, a function type T1 -> T2 (right-associative, as in
// Apalache) included.
func (p *typeParser) typ() (*Type, *Diag) {
	t, d := p.atom()
	if d != nil {
		return nil, d
	}
	if p.eat("->") {
		r, d := p.typ()
		if d != nil {
			return nil, d
		}
		return &Type{Kind: TFun, Key: t, Elem: r}, nil
	}
	return t, nil
}

func (p *typeParser) atom() (*Type, *Diag) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > 20 {
		return nil, p.err("type nested too deeply (recursive alias?)")
	}
	p.space()
	start := p.i
	switch {
	case p.eat("("):
		t, d := p.typ()
		if d != nil {
			return nil, d
		}
		if !p.eat(")") {
			return nil, p.err("want ) closing a parenthesised type")
		}
		return t, nil
	case p.eat("<<"):
		t := &Type{Kind: TTuple}
		for {
			e, d := p.typ()
			if d != nil {
				return nil, d
			}
			t.Elems = append(t.Elems, e)
			if p.eat(">>") {
				return t, nil
			}
			if !p.eat(",") {
				return nil, p.err("want , or >> in tuple type")
			}
		}
	case p.eat("["):
		t := &Type{Kind: TRecord}
		for {
			name := p.ident()
			if name == "" {
				return nil, p.err("want a field name in record type")
			}
			if !p.eat(":") {
				return nil, p.err("want : after field %s", name)
			}
			ft, d := p.typ()
			if d != nil {
				return nil, d
			}
			t.Fields = append(t.Fields, Field{Name: name, Type: ft})
			if p.eat("]") {
				return t, nil
			}
			if !p.eat(",") {
				return nil, p.err("want , or ] in record type")
			}
		}
	}
	name := p.ident()
	switch name {
	case "Int":
		return &Type{Kind: TInt}, nil
	case "Bool":
		return &Type{Kind: TBool}, nil
	case "Str":
		return &Type{Kind: TStr}, nil
	case "Set", "Seq":
		if !p.eat("(") {
			return nil, p.err("want ( after %s", name)
		}
		e, d := p.typ()
		if d != nil {
			return nil, d
		}
		if !p.eat(")") {
			return nil, p.err("want ) closing %s(", name)
		}
		k := TSet
		if name == "Seq" {
			k = TSeq
		}
		return &Type{Kind: k, Elem: e}, nil
	case "":
		return nil, p.err("want a type")
	}
	al, ok := p.aliases[name]
	if !ok {
		p.i = start
		return nil, p.err("unknown type or undefined alias %s (no `\\* @typeAlias: %s = ...;` in the module)", name, name)
	}
	sub := &typeParser{pos: al.Pos, src: al.Type, aliases: p.aliases, depth: p.depth}
	t, d := sub.typ()
	if d != nil {
		return nil, d
	}
	c := *t
	c.Alias = name
	return &c, nil
}
