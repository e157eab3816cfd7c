package gen

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/verimeter/verimeter/tla/syntax"
)

// Diag is a positioned report: a convention violation, a type error, or a
// construct outside the subset the generator translates.
type Diag struct {
	Pos syntax.Pos
	Msg string
}

func (d Diag) String() string { return d.Pos.String() + ": " + d.Msg }

// Error makes a Diag usable as an error.
func (d Diag) Error() string { return d.String() }

// Machine is the generator's view of one role in one module: its variables,
// the foreign variables it sends on, and its actions.
type Machine struct {
	Module string // module name, e.g. "Channel"
	// Unexported makes the Go names of the machine's declarations
	// unexported (channelParams, channelState, ...); see Target.Unexported.
	Unexported bool
	File       string // display path, e.g. "spec/Channel.tla"
	Role       string
	Vars       []*Var    // the role's state, in declaration order
	Sends      []*Var    // variables of other roles the actions only add messages to
	Consts     []string  // constants the generated code reads, sorted
	Init       []*Assign // the initial values of Vars
	// Actions of the role in source order.
	Actions []*Action

	mod     *syntax.Module
	defs    map[string]*syntax.Def
	isVar   map[string]bool
	isConst map[string]bool
	ann     *annotations
	types   map[string]*Type // variable types (all variables that typecheck)
}

// Var is a state variable of a role (or a channel it sends on).
type Var struct {
	Name    string
	Type    *Type
	Persist bool
	// Store: the role keeps the variable outside the machine (a set in
	// its journal or database): Step reads it through <M>Store and asks
	// for its changes in <M>Output.
	Store bool
	Roles []string
	Pos   syntax.Pos
}

// Action is an annotated action of the role.
type Action struct {
	Name    string
	Event   string
	Params  []*Param // the event's parameters: the action's, typed from Next
	Pos     syntax.Pos
	Guards  []*Guard   // kept, in conjunct order
	Bounds  []*Guard   // model bounds, dropped from the generated code
	History []*Assign  // assignments to history variables, dropped from the generated code
	Assigns []*Assign  // to the role's variables, in conjunct order
	Sends   []*Assign  // v' = v \cup {msg} on a foreign variable
	Ifs     []*IfBlock // IF c THEN (conjunction) ELSE (conjunction) over assignments
}

// Block is a branch of an IF over assignments: guards and assignments.
type Block struct {
	Guards  []*Guard
	Assigns []*Assign
	Ifs     []*IfBlock
}

// IfBlock is IF Cond THEN Then ELSE Else at the level of an action.
type IfBlock struct {
	Cond       syntax.Expr
	Then, Else *Block
}

// AllAssigns lists the action's assignments, those in IF branches included.
func (a *Action) AllAssigns() []*Assign {
	out := append([]*Assign(nil), a.Assigns...)
	var walk func([]*IfBlock)
	walk = func(ifs []*IfBlock) {
		for _, f := range ifs {
			out = append(out, f.Then.Assigns...)
			out = append(out, f.Else.Assigns...)
			walk(f.Then.Ifs)
			walk(f.Else.Ifs)
		}
	}
	walk(a.Ifs)
	return out
}

// Param is a parameter of an action, carried by its event.
type Param struct {
	Name string
	Type *Type
	// Domain is the set Next draws it from (printed), which the role
	// does not check: the value arrives in the event.
	Domain string
	From   string // the variable it is drawn from, if any
	// Lo and Hi bound a parameter drawn from Lo..Hi (else nil).
	Lo, Hi syntax.Expr
	// Enum lists the literals of a parameter drawn from a set written out
	// ({"a", "b"}) or named by a definition of one (else nil).
	Enum []syntax.Expr
}

// Guard is one conjunct without primes.
type Guard struct {
	Expr syntax.Expr
	Text string // printed TLA+ and position, as GuardError.Conjunct says it
}

// Assign is v' = e (or v = e in Init).
type Assign struct {
	Var  *Var
	Expr syntax.Expr
	Pos  syntax.Pos
}

// cryptoCall is an application of an operator marked @crypto, kept whole
// (not inlined): generated code calls it through the module's Crypto
// interface.
type cryptoCall struct {
	syntax.Node
	Def  *syntax.Def
	Args []syntax.Expr
}

// CryptoOp is an operator marked @crypto that the role's actions call,
// with the Go types of its parameters (from the calls).
type CryptoOp struct {
	Name   string
	Def    *syntax.Def
	Params []*Type
}

// boolLit is TRUE or FALSE after folding Mutant = "none".
type boolLit struct {
	syntax.Node
	V bool
}

// readModule reads <module>.tla under specDir and names it as
// spec/Channel.tla whatever the working directory, so that positions (and
// the generated code that cites them) do not depend on it.
func readModule(specDir, module string) (file string, src []byte, err error) {
	src, err = os.ReadFile(filepath.Join(specDir, module+".tla"))
	if err != nil {
		return "", nil, err
	}
	abs, err := filepath.Abs(specDir)
	if err != nil {
		return "", nil, err
	}
	return filepath.Base(abs) + "/" + module + ".tla", src, nil
}

// LoadMachine parses spec/<module>.tla under specDir and builds the
// machine of role. Diagnostics about other roles or variables the role's
// actions do not touch come back in diags; an error means the role's
// machine cannot be generated.
func LoadMachine(specDir, module, role string) (*Machine, []Diag, error) {
	file, src, err := readModule(specDir, module)
	if err != nil {
		return nil, nil, err
	}
	mod, err := syntax.ParseModule(file, src)
	if err != nil {
		return nil, nil, err
	}
	ann, diags := scanAnnotations(file, src)
	m := &Machine{Module: mod.Name, File: file, Role: role, mod: mod, ann: ann,
		defs: map[string]*syntax.Def{}, isVar: map[string]bool{}, isConst: map[string]bool{}, types: map[string]*Type{}}
	for _, u := range mod.Units {
		if d, ok := u.(*syntax.Def); ok {
			m.defs[d.Name] = d
		}
	}
	for _, c := range mod.Constants {
		m.isConst[c.Name] = true
	}
	ds, typeErrs := m.typeVars(role)
	diags = append(diags, ds...)
	for _, name := range sortedKeys(ann.Actions) {
		a := ann.Actions[name]
		d, ok := m.defs[name]
		if !ok {
			diags = append(diags, Diag{Pos: a.Pos, Msg: fmt.Sprintf("annotated action %s is not a definition", name)})
			continue
		}
		if len(a.Params) != len(d.Params) {
			diags = append(diags, Diag{Pos: a.Pos, Msg: fmt.Sprintf("@event: %s lists %d parameters but action %s takes %d", a.Event, len(a.Params), name, len(d.Params))})
		}
	}
	// Convention checks on every annotated action (all roles), reported
	// as diagnostics; the role's own actions are built below.
	for _, name := range m.actionNames() {
		a := ann.Actions[name]
		if a.Role == role {
			continue
		}
		diags = append(diags, m.checkForeign(name, a)...)
	}
	errs := typeErrs
	for _, v := range m.Vars {
		if _, ok := m.types[v.Name]; !ok {
			errs = append(errs, Diag{Pos: v.Pos, Msg: "variable of the role has no usable type"})
		}
		if d := m.checkGoType(v.Type, v.Pos); d != nil {
			errs = append(errs, *d)
		}
	}
	for _, name := range m.actionNames() {
		a := ann.Actions[name]
		if a.Role != role {
			continue
		}
		act, ds := m.buildAction(name, a)
		errs = append(errs, ds...)
		if act != nil {
			m.Actions = append(m.Actions, act)
		}
	}
	if len(m.Actions) == 0 && len(errs) == 0 {
		errs = append(errs, Diag{Pos: mod.Pos, Msg: fmt.Sprintf("module %s has no actions of role %s", mod.Name, role)})
	}
	errs = append(errs, m.buildInit()...)
	if len(errs) > 0 {
		return nil, diags, joinDiags(errs)
	}
	return m, diags, nil
}

// typeVars types the module's variables from their annotations and keeps
// role's in m.Vars. Diagnostics about the variables of other roles, and
// about variables of several roles, come back in diags; typeErrs are those
// that stop role's machine from being generated.
func (m *Machine) typeVars(role string) (diags, typeErrs []Diag) {
	for _, v := range m.mod.Variables {
		m.isVar[v.Name] = true
		a, ok := m.ann.Vars[v.Name]
		if !ok {
			diags = append(diags, Diag{Pos: v.Pos, Msg: fmt.Sprintf("variable %s has no `\\* @type: T; @role: R` annotation", v.Name)})
			continue
		}
		t, d := parseType(a.TypePos, a.Type, m.ann.Aliases)
		if d != nil {
			if hasRole(a.Roles, role) {
				typeErrs = append(typeErrs, *d)
			} else {
				diags = append(diags, *d)
			}
			continue
		}
		m.types[v.Name] = t
		if hasRole(a.Roles, role) {
			if a.Store && t.Kind != TSet {
				typeErrs = append(typeErrs, Diag{Pos: a.Pos, Msg: fmt.Sprintf("@store on %s of type %s: a store holds a set", v.Name, t)})
			}
			m.Vars = append(m.Vars, &Var{Name: v.Name, Type: t, Persist: a.Persist, Store: a.Store, Roles: a.Roles, Pos: v.Pos})
		}
	}
	for _, v := range m.mod.Variables {
		if a, ok := m.ann.Vars[v.Name]; ok {
			n := 0
			for _, r := range a.Roles {
				if principal([]string{r}) {
					n++
				}
			}
			if n > 1 {
				diags = append(diags, Diag{Pos: a.Pos, Msg: fmt.Sprintf("variable %s belongs to several roles (%s): each role's machine holds its own copy, so a write by one role is a step the others cannot see", v.Name, strings.Join(a.Roles, ", "))})
			}
		}
	}
	return diags, typeErrs
}

func sortedKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func joinDiags(ds []Diag) error {
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(d.String())
	}
	return fmt.Errorf("%s", b.String())
}

func hasRole(rs []string, r string) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// actionNames lists the annotated actions in source order.
func (m *Machine) actionNames() []string {
	var names []string
	for name := range m.ann.Actions {
		if _, ok := m.defs[name]; ok {
			names = append(names, name)
		}
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := m.defs[names[i]].Pos, m.defs[names[j]].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return names
}

func (m *Machine) owner(v string) []string {
	if a, ok := m.ann.Vars[v]; ok {
		return a.Roles
	}
	return nil
}

func (m *Machine) checkGoType(t *Type, pos syntax.Pos) *Diag {
	switch t.Kind {
	case TInt, TBool, TStr:
		return nil
	case TSet:
		if t.Elem.Kind == TSet || t.Elem.Kind == TSeq {
			return &Diag{Pos: pos, Msg: fmt.Sprintf("type %s: sets of sets or sequences are not generated yet", t)}
		}
		return m.checkGoType(t.Elem, pos)
	case TRecord:
		for _, f := range t.Fields {
			scalar := func(k TypeKind) bool { return k == TInt || k == TBool || k == TStr }
			if !scalar(f.Type.Kind) && !(f.Type.Kind == TSet && scalar(f.Type.Elem.Kind)) {
				return &Diag{Pos: pos, Msg: fmt.Sprintf("type %s: record fields other than Int, Bool, Str and sets of them are not generated yet", t)}
			}
		}
		return nil
	case TFun:
		return &Diag{Pos: pos, Msg: fmt.Sprintf("type %s: a function-typed variable is state the role keeps outside the machine (a @store), not a field of its state", t)}
	case TTuple:
		for _, el := range t.Elems {
			if el.Kind != TInt && el.Kind != TBool && el.Kind != TStr {
				return &Diag{Pos: pos, Msg: fmt.Sprintf("type %s: tuple components other than Int, Bool, Str are not generated yet", t)}
			}
		}
		return nil
	}
	if t.Kind == TSeq {
		if t.Elem.Kind == TSet || t.Elem.Kind == TSeq || t.Elem.Kind == TTuple {
			return &Diag{Pos: pos, Msg: fmt.Sprintf("type %s: sequences of sets, sequences or tuples are not generated yet", t)}
		}
		return m.checkGoType(t.Elem, pos)
	}
	return &Diag{Pos: pos, Msg: fmt.Sprintf("type %s is not generated yet", t)}
}

// simplify inlines user operators (bound to env), folds Mutant to "none",
// TRUE/FALSE and the Boolean connectives over constants.
func (m *Machine) simplify(x syntax.Expr, env map[string]syntax.Expr, depth int) (syntax.Expr, *Diag) {
	if depth > 50 {
		return nil, &Diag{Pos: x.At(), Msg: "operator inlining too deep (recursion is outside the subset)"}
	}
	switch y := x.(type) {
	case *syntax.Ref:
		return m.simplifyRef(y, env, depth)
	case *syntax.OpApp:
		return m.simplifyOpApp(y, env, depth)
	case *syntax.Junction:
		return m.simplifyJunction(y, env, depth)
	case *syntax.If:
		return m.simplifyIf(y, env, depth)
	case *syntax.Case:
		return m.simplifyCase(y, env, depth)
	case *syntax.SetEnum:
		out := &syntax.SetEnum{Node: y.Node}
		for _, el := range y.Elems {
			s, e := m.simplify(el, env, depth)
			if e != nil {
				return nil, e
			}
			out.Elems = append(out.Elems, s)
		}
		return out, nil
	case *syntax.Tuple:
		out := &syntax.Tuple{Node: y.Node}
		for _, el := range y.Elems {
			s, e := m.simplify(el, env, depth)
			if e != nil {
				return nil, e
			}
			out.Elems = append(out.Elems, s)
		}
		return out, nil
	case *syntax.Record:
		out := &syntax.Record{Node: y.Node, Fields: y.Fields}
		for _, v := range y.Vals {
			s, e := m.simplify(v, env, depth)
			if e != nil {
				return nil, e
			}
			out.Vals = append(out.Vals, s)
		}
		return out, nil
	case *syntax.Dot:
		r, e := m.simplify(y.Rec, env, depth)
		if e != nil {
			return nil, e
		}
		return &syntax.Dot{Node: y.Node, Rec: r, Field: y.Field}, nil
	case *syntax.Label:
		return m.simplify(y.Body, env, depth)
	case *syntax.SetFilter, *syntax.SetMap:
		return m.simplifyComprehension(x, env, depth)
	case *syntax.Except:
		return m.simplifyExcept(y, env, depth)
	case *syntax.Let:
		return m.simplifyLet(y, env, depth)
	case *syntax.Num, *syntax.Str, *boolLit, *syntax.AtSign:
		return x, nil
	}
	return nil, &Diag{Pos: x.At(), Msg: fmt.Sprintf("%s is outside the generator's subset", describe(x))}
}

// builtins are the standard-module operators the translator knows, with
// their arity.
var builtins = map[string]int{"Append": 2, "Len": 1}

func describe(x syntax.Expr) string {
	switch x.(type) {
	case *syntax.Quant:
		return "a quantifier"
	case *syntax.Case:
		return "CASE"
	case *syntax.Let:
		return "LET"
	case *syntax.SetFilter, *syntax.SetMap:
		return "a set comprehension"
	case *syntax.FuncCons, *syntax.Apply, *syntax.Except:
		return "a function construct"
	}
	return fmt.Sprintf("%T", x)
}

// mutantTest recognises Mutant = "s" (either side) and says whether the
// protocol ("none") satisfies it.
func (m *Machine) mutantTest(a, b syntax.Expr) (bool, bool) {
	isMutant := func(x syntax.Expr) bool {
		r, ok := x.(*syntax.Ref)
		return ok && len(r.Parts) == 1 && r.Parts[0].Name == "Mutant" && len(r.Parts[0].Args) == 0 && m.isConst["Mutant"]
	}
	if s, ok := b.(*syntax.Str); ok && isMutant(a) {
		return s.Val == "none", true
	}
	if s, ok := a.(*syntax.Str); ok && isMutant(b) {
		return s.Val == "none", true
	}
	return false, false
}

func flatten(x syntax.Expr, out []syntax.Expr) []syntax.Expr {
	if j, ok := x.(*syntax.Junction); ok && j.Op == "/\\" {
		for _, it := range j.Items {
			out = flatten(it, out)
		}
		return out
	}
	return append(out, x)
}

// refs calls fn for every name referenced in x (after simplification).
func refs(x syntax.Expr, fn func(name string, r *syntax.Ref)) {
	switch y := x.(type) {
	case *syntax.Ref:
		for _, p := range y.Parts {
			fn(p.Name, y)
			for _, a := range p.Args {
				refs(a, fn)
			}
		}
	case *syntax.OpApp:
		for _, a := range y.Args {
			refs(a, fn)
		}
	case *syntax.Junction:
		for _, a := range y.Items {
			refs(a, fn)
		}
	case *syntax.If:
		refs(y.Cond, fn)
		refs(y.Then, fn)
		refs(y.Else, fn)
	case *syntax.SetEnum:
		for _, a := range y.Elems {
			refs(a, fn)
		}
	case *syntax.Tuple:
		for _, a := range y.Elems {
			refs(a, fn)
		}
	case *syntax.Record:
		for _, a := range y.Vals {
			refs(a, fn)
		}
	case *syntax.Dot:
		refs(y.Rec, fn)
	}
}

func hasPrime(x syntax.Expr) bool {
	found := false
	var walk func(syntax.Expr)
	walk = func(x syntax.Expr) {
		switch y := x.(type) {
		case *syntax.OpApp:
			if y.Op == "'" || y.Op == "UNCHANGED" {
				found = true
			}
			for _, a := range y.Args {
				walk(a)
			}
		case *syntax.Junction:
			for _, a := range y.Items {
				walk(a)
			}
		case *syntax.If:
			walk(y.Cond)
			walk(y.Then)
			walk(y.Else)
		case *syntax.SetEnum:
			for _, a := range y.Elems {
				walk(a)
			}
		case *syntax.Record:
			for _, a := range y.Vals {
				walk(a)
			}
		case *syntax.Dot:
			walk(y.Rec)
		case *syntax.Tuple:
			for _, a := range y.Elems {
				walk(a)
			}
		}
	}
	walk(x)
	return found
}

// isBound says whether a guard is a model bound: it starts on a line
// marked `\* @bound` and reads a constant. A guard on a constant without
// the mark (a protocol limit such as the counter-exhaustion guard
// next < MaxCtr of Channel) is kept, the constant becoming a field of the
// machine's Params.
func (m *Machine) isBound(x syntax.Expr) bool {
	if !m.ann.Bounds[startPos(x).Line] {
		return false
	}
	b := false
	refs(x, func(n string, _ *syntax.Ref) {
		if m.isConst[n] {
			b = true
		}
	})
	return b
}

// conjuncts simplifies an action body and splits it into its conjuncts.
func (m *Machine) conjuncts(d *syntax.Def) ([]syntax.Expr, *Diag) {
	// The action's parameters stay as they are written (bare names the
	// translator resolves to the event's fields).
	for _, p := range d.Params {
		if m.defs[p.Name] != nil || m.isVar[p.Name] || m.isConst[p.Name] {
			return nil, &Diag{Pos: d.Pos, Msg: fmt.Sprintf("parameter %s of %s shadows a definition, variable or constant", p.Name, d.Name)}
		}
	}
	body, e := m.simplify(d.Body, map[string]syntax.Expr{}, 0)
	if e != nil {
		return nil, e
	}
	if b, ok := body.(*boolLit); ok && !b.V {
		return nil, &Diag{Pos: d.Pos, Msg: fmt.Sprintf("action %s is never enabled with Mutant = \"none\" (a mutant-only action needs no annotation)", d.Name)}
	}
	return flatten(body, nil), nil
}

// primedVar returns v for an expression v'.
func (m *Machine) primedVar(x syntax.Expr) (string, bool) {
	o, ok := x.(*syntax.OpApp)
	if !ok || o.Op != "'" {
		return "", false
	}
	r, ok := o.Args[0].(*syntax.Ref)
	if !ok || len(r.Parts) != 1 || !m.isVar[r.Parts[0].Name] {
		return "", false
	}
	return r.Parts[0].Name, true
}

func (m *Machine) unchangedVars(x syntax.Expr) ([]string, *Diag) {
	var out []string
	var walk func(syntax.Expr) *Diag
	walk = func(x syntax.Expr) *Diag {
		switch y := x.(type) {
		case *syntax.Tuple:
			for _, e := range y.Elems {
				if d := walk(e); d != nil {
					return d
				}
			}
			return nil
		case *syntax.Ref:
			if len(y.Parts) == 1 && m.isVar[y.Parts[0].Name] {
				out = append(out, y.Parts[0].Name)
				return nil
			}
		}
		return &Diag{Pos: x.At(), Msg: "UNCHANGED takes variables or tuples of them"}
	}
	return out, walk(x)
}

// sendElems recognises v' = v \cup {e1, ...} and returns the elements.
func (m *Machine) sendElems(v string, rhs syntax.Expr) ([]syntax.Expr, bool) {
	o, ok := rhs.(*syntax.OpApp)
	if !ok || o.Op != "\\cup" {
		return nil, false
	}
	r, ok := o.Args[0].(*syntax.Ref)
	if !ok || len(r.Parts) != 1 || r.Parts[0].Name != v {
		return nil, false
	}
	s, ok := o.Args[1].(*syntax.SetEnum)
	if !ok || len(s.Elems) == 0 {
		return nil, false
	}
	return s.Elems, true
}

func (m *Machine) buildAction(name string, a *actionAnnot) (*Action, []Diag) {
	d := m.defs[name]
	act := &Action{Name: name, Event: a.Event, Pos: d.Pos}
	var errs []Diag
	if len(d.Params) > 0 {
		ps, e := m.paramTypes(name)
		if e != nil {
			return nil, append(errs, *e)
		}
		for _, p := range ps {
			if d := m.checkGoType(p.Type, d.Pos); d != nil {
				return nil, append(errs, *d)
			}
		}
		act.Params = ps
	}
	items, e := m.conjuncts(d)
	if e != nil {
		return nil, append(errs, *e)
	}
	set := map[string]bool{}
	top := &Block{}
	errs = append(errs, m.block(act, items, top, set, true)...)
	act.Guards, act.Assigns, act.Ifs = top.Guards, top.Assigns, top.Ifs
	for _, v := range m.mod.Variables {
		if !set[v.Name] {
			errs = append(errs, Diag{Pos: d.Pos, Msg: fmt.Sprintf("action %s does not determine %s'", name, v.Name)})
		}
	}
	return act, errs
}

// block sorts the conjuncts of an action (or of an IF branch, top false)
// into guards, assignments, sends and nested IFs, recording in set the
// variables they determine.
func (m *Machine) block(act *Action, items []syntax.Expr, b *Block, set map[string]bool, top bool) []Diag {
	name := act.Name
	var errs []Diag
	for _, it := range items {
		if f, ok := it.(*syntax.If); ok && hasPrime(it) {
			if hasPrime(f.Cond) {
				errs = append(errs, Diag{Pos: f.Cond.At(), Msg: "a primed variable in an IF condition is outside the subset"})
				continue
			}
			ib := &IfBlock{Cond: f.Cond, Then: &Block{}, Else: &Block{}}
			ts, es := map[string]bool{}, map[string]bool{}
			errs = append(errs, m.block(act, flatten(f.Then, nil), ib.Then, ts, false)...)
			errs = append(errs, m.block(act, flatten(f.Else, nil), ib.Else, es, false)...)
			for _, v := range sortedKeys(ts) {
				if !es[v] {
					errs = append(errs, Diag{Pos: f.P, Msg: fmt.Sprintf("the THEN branch determines %s', the ELSE branch does not", v)})
				}
			}
			for _, v := range sortedKeys(es) {
				if !ts[v] {
					errs = append(errs, Diag{Pos: f.P, Msg: fmt.Sprintf("the ELSE branch determines %s', the THEN branch does not", v)})
				}
				if set[v] {
					errs = append(errs, Diag{Pos: f.P, Msg: fmt.Sprintf("%s is determined twice", v)})
				}
				set[v] = true
			}
			b.Ifs = append(b.Ifs, ib)
			continue
		}
		if o, ok := it.(*syntax.OpApp); ok && o.Op == "UNCHANGED" {
			vs, e := m.unchangedVars(o.Args[0])
			if e != nil {
				errs = append(errs, *e)
			}
			for _, v := range vs {
				if set[v] {
					errs = append(errs, Diag{Pos: o.P, Msg: fmt.Sprintf("%s is determined twice", v)})
				}
				set[v] = true
			}
			continue
		}
		if o, ok := it.(*syntax.OpApp); ok && o.Op == "=" {
			if v, ok := m.primedVar(o.Args[0]); ok {
				if set[v] {
					errs = append(errs, Diag{Pos: o.P, Msg: fmt.Sprintf("%s is determined twice", v)})
				}
				set[v] = true
				if hasPrime(o.Args[1]) {
					errs = append(errs, Diag{Pos: o.Args[1].At(), Msg: "a primed variable on the right of an assignment is outside the subset"})
					continue
				}
				owners := m.owner(v)
				if hasRole(owners, m.Role) {
					b.Assigns = append(b.Assigns, &Assign{Var: m.varNamed(v), Expr: o.Args[1], Pos: startPos(o)})
				} else if hasRole(owners, HistoryRole) {
					act.History = append(act.History, &Assign{Var: &Var{Name: v, Type: m.types[v], Roles: owners}, Expr: o.Args[1], Pos: startPos(o)})
				} else if elems, ok := m.sendElems(v, o.Args[1]); ok && top && !principal(owners) && m.types[v] != nil && m.types[v].Kind == TSet {
					sv := m.sendVar(v)
					for _, el := range elems {
						act.Sends = append(act.Sends, &Assign{Var: sv, Expr: el, Pos: startPos(o)})
					}
				} else {
					errs = append(errs, Diag{Pos: startPos(o), Msg: fmt.Sprintf("action %s of role %s writes %s of role %s (only its own variables, or sends of the form %s' = %s \\cup {msg})", name, m.Role, v, strings.Join(owners, ", "), v, v)})
				}
				continue
			}
		}
		if hasPrime(it) {
			errs = append(errs, Diag{Pos: startPos(it), Msg: "primed variables are translated only in conjuncts v' = e and UNCHANGED"})
			continue
		}
		g := &Guard{Expr: it, Text: show(it) + " (" + startPos(it).String() + ")"}
		switch {
		case m.isBound(it) && top:
			act.Bounds = append(act.Bounds, g)
		case m.isBound(it):
			errs = append(errs, Diag{Pos: startPos(it), Msg: "a model bound inside an IF branch cannot be dropped"})
		default:
			b.Guards = append(b.Guards, g)
		}
	}
	return errs
}

// paramTypes types the parameters of an action from the disjunct of Next
// that calls it: \E x \in S : A(x) with S a variable (its element type), a
// range a..b (Int) or BOOLEAN.
func (m *Machine) paramTypes(action string) ([]*Param, *Diag) {
	d := m.defs[action]
	next, ok := m.defs["Next"]
	if !ok {
		return nil, &Diag{Pos: d.Pos, Msg: "no Next to type the parameters of " + action + " from"}
	}
	var found []*Param
	var walk func(x syntax.Expr, bound map[string]syntax.Expr) *Diag
	walk = func(x syntax.Expr, bound map[string]syntax.Expr) *Diag {
		switch y := x.(type) {
		case *syntax.Junction:
			for _, it := range y.Items {
				if e := walk(it, bound); e != nil {
					return e
				}
			}
		case *syntax.Label:
			return walk(y.Body, bound)
		case *syntax.Quant:
			if y.Kind != "\\E" {
				return nil
			}
			nb := map[string]syntax.Expr{}
			for k, v := range bound {
				nb[k] = v
			}
			for _, b := range y.Bounds {
				for _, n := range b.Names {
					nb[n] = b.Set
				}
			}
			return walk(y.Body, nb)
		case *syntax.Ref:
			if len(y.Parts) != 1 || y.Parts[0].Name != action || found != nil {
				return nil
			}
			for i, a := range y.Parts[0].Args {
				r, ok := a.(*syntax.Ref)
				if !ok || len(r.Parts) != 1 || bound[r.Parts[0].Name] == nil {
					return &Diag{Pos: a.At(), Msg: fmt.Sprintf("argument %d of %s in Next is not a name bound by \\E", i+1, action)}
				}
				dom := m.resolveDomain(bound[r.Parts[0].Name])
				t, e := m.domainElem(dom)
				if e != nil {
					return e
				}
				p := &Param{Name: d.Params[i].Name, Type: t, Domain: show(dom)}
				if r, ok := dom.(*syntax.Ref); ok && m.isVar[r.Parts[0].Name] {
					p.From = r.Parts[0].Name
				}
				if o, ok := dom.(*syntax.OpApp); ok && o.Op == ".." {
					p.Lo, p.Hi = o.Args[0], o.Args[1]
				}
				p.Enum = m.enumElems(dom)
				found = append(found, p)
			}
			if len(found) == 0 {
				found = []*Param{}
			}
		}
		return nil
	}
	if e := walk(next.Body, map[string]syntax.Expr{}); e != nil {
		return nil, e
	}
	if found == nil {
		return nil, &Diag{Pos: d.Pos, Msg: fmt.Sprintf("Next does not call %s as \\E x \\in S : %s(x), so its parameters have no type", action, action)}
	}
	return found, nil
}

func (m *Machine) domainElem(dom syntax.Expr) (*Type, *Diag) {
	switch y := dom.(type) {
	case *syntax.Ref:
		if len(y.Parts) == 1 && len(y.Parts[0].Args) == 0 {
			n := y.Parts[0].Name
			if n == "BOOLEAN" {
				return &Type{Kind: TBool}, nil
			}
			if t, ok := m.types[n]; ok && t.Kind == TSet {
				return t.Elem, nil
			}
			if a, ok := m.ann.DefTypes[n]; ok {
				t, d := parseType(a.TypePos, a.Type, m.ann.Aliases)
				if d != nil {
					return nil, d
				}
				if t.Kind != TSet {
					return nil, &Diag{Pos: a.TypePos, Msg: fmt.Sprintf("%s is typed %s: a parameter is drawn from a set", n, t)}
				}
				return t.Elem, nil
			}
			if d, ok := m.defs[n]; ok && len(d.Params) == 0 && !m.isVar[n] {
				if _, ok := d.Body.(*syntax.SetEnum); ok {
					return m.domainElem(d.Body)
				}
			}
		}
	case *syntax.SetEnum:
		// {"a", "b"} or {1, 2}: literals of one type.
		var t *Type
		for _, el := range y.Elems {
			var et *Type
			switch el.(type) {
			case *syntax.Str:
				et = &Type{Kind: TStr}
			case *syntax.Num:
				et = &Type{Kind: TInt}
			default:
				et = nil
			}
			if et == nil || t != nil && t.Kind != et.Kind {
				t = nil
				break
			}
			t = et
		}
		if t != nil {
			return t, nil
		}
	case *syntax.OpApp:
		if y.Op == ".." {
			return &Type{Kind: TInt}, nil
		}
	}
	return nil, &Diag{Pos: dom.At(), Msg: fmt.Sprintf("cannot type a parameter drawn from %s (a Set variable, a..b, BOOLEAN, a set of literals of one type, written out or named by a definition, or a definition typed `\\* @type: Set(T);`)", show(dom))}
}

// resolveDomain replaces a definition without parameters whose body is a
// range a..b (Slots == 1..T) by that range, so that the parameter is
// typed Int and tried over it.
func (m *Machine) resolveDomain(dom syntax.Expr) syntax.Expr {
	r, ok := dom.(*syntax.Ref)
	if !ok || len(r.Parts) != 1 || len(r.Parts[0].Args) != 0 || m.isVar[r.Parts[0].Name] || m.isConst[r.Parts[0].Name] {
		return dom
	}
	if d, ok := m.defs[r.Parts[0].Name]; ok && len(d.Params) == 0 {
		if o, ok := d.Body.(*syntax.OpApp); ok && o.Op == ".." {
			return o
		}
	}
	return dom
}

// enumElems gives the literals of a set written out, or of a definition
// without parameters whose body is one (nil for any other domain).
func (m *Machine) enumElems(dom syntax.Expr) []syntax.Expr {
	if r, ok := dom.(*syntax.Ref); ok && len(r.Parts) == 1 && len(r.Parts[0].Args) == 0 && !m.isVar[r.Parts[0].Name] {
		if d, ok := m.defs[r.Parts[0].Name]; ok && len(d.Params) == 0 {
			dom = d.Body
		}
	}
	if se, ok := dom.(*syntax.SetEnum); ok {
		return se.Elems
	}
	return nil
}

// checkForeign applies the ownership convention to an action of another role.
func (m *Machine) checkForeign(name string, a *actionAnnot) []Diag {
	d := m.defs[name]
	items, e := m.conjuncts(d)
	if e != nil {
		return nil // the subset is checked when that role is generated
	}
	var out []Diag
	for _, it := range items {
		o, ok := it.(*syntax.OpApp)
		if !ok || o.Op != "=" {
			continue
		}
		v, ok := m.primedVar(o.Args[0])
		if !ok {
			continue
		}
		owners := m.owner(v)
		if hasRole(owners, a.Role) || hasRole(owners, HistoryRole) {
			continue
		}
		if _, ok := m.sendElems(v, o.Args[1]); ok && !principal(owners) {
			continue // a send on a channel variable
		}
		out = append(out, Diag{Pos: startPos(o), Msg: fmt.Sprintf("action %s of role %s writes %s of role %s", name, a.Role, v, strings.Join(owners, ", "))})
	}
	return out
}

// HistoryRole owns the spec's history variables: records of what happened
// (the commands run, in order; the approvals each got) that properties
// read and no action's guard does. Any role's action may update them (also
// inside an IF branch); the generated machines keep none of them, so a running meter does not
// carry an ever-growing log only the model needs, and the generator
// reports any guard or kept assignment that reads one (it would make the
// variable part of the protocol). Trace validation recomputes them from
// the model, as it does every variable of a role that keeps no log.
const HistoryRole = "history"

// principal says whether a variable belongs to one of the roles that run
// code (a channel variable belongs to the attacker, the WAN or env).
func principal(owners []string) bool {
	return hasRole(owners, "meter") || hasRole(owners, "gateway") || hasRole(owners, "headend")
}

func (m *Machine) varNamed(n string) *Var {
	for _, v := range m.Vars {
		if v.Name == n {
			return v
		}
	}
	return nil
}

func (m *Machine) sendVar(n string) *Var {
	for _, v := range m.Sends {
		if v.Name == n {
			return v
		}
	}
	a := m.ann.Vars[n]
	v := &Var{Name: n, Type: m.types[n], Roles: a.Roles}
	for _, d := range m.mod.Variables {
		if d.Name == n {
			v.Pos = d.Pos
		}
	}
	m.Sends = append(m.Sends, v)
	sort.Slice(m.Sends, func(i, j int) bool { return m.Sends[i].Name < m.Sends[j].Name })
	return v
}

func (m *Machine) buildInit() []Diag {
	d, ok := m.defs["Init"]
	if !ok {
		return []Diag{{Pos: m.mod.Pos, Msg: "module has no Init"}}
	}
	items, e := m.conjuncts(d)
	if e != nil {
		return []Diag{*e}
	}
	got := map[string]bool{}
	for _, it := range items {
		o, ok := it.(*syntax.OpApp)
		if !ok || o.Op != "=" {
			continue
		}
		r, ok := o.Args[0].(*syntax.Ref)
		if !ok || len(r.Parts) != 1 {
			continue
		}
		if v := m.varNamed(r.Parts[0].Name); v != nil {
			m.Init = append(m.Init, &Assign{Var: v, Expr: o.Args[1], Pos: o.P})
			got[v.Name] = true
		}
	}
	var errs []Diag
	for _, v := range m.Vars {
		if !got[v.Name] {
			errs = append(errs, Diag{Pos: d.Pos, Msg: fmt.Sprintf("Init does not give %s a value as a conjunct %s = e", v.Name, v.Name)})
		}
	}
	return errs
}

// startPos is where an expression's text begins (the parser positions an
// infix application at its operator).
func startPos(x syntax.Expr) syntax.Pos {
	switch y := x.(type) {
	case *syntax.OpApp:
		if len(y.Args) == 2 || y.Op == "'" {
			return startPos(y.Args[0])
		}
	case *syntax.Junction:
		if p := startPos(y.Items[0]); p.Line < y.P.Line || p.Line == y.P.Line && p.Col < y.P.Col {
			return p
		}
	case *syntax.Dot:
		return startPos(y.Rec)
	}
	return x.At()
}

// show prints an expression of the subset as TLA+.
func show(x syntax.Expr) string {
	switch y := x.(type) {
	case *cryptoCall:
		var as []string
		for _, a := range y.Args {
			as = append(as, show(a))
		}
		if len(as) == 0 {
			return y.Def.Name
		}
		return y.Def.Name + "(" + strings.Join(as, ", ") + ")"
	case *boolLit:
		if y.V {
			return "TRUE"
		}
		return "FALSE"
	case *syntax.Num:
		return y.Text
	case *syntax.Str:
		return fmt.Sprintf("%q", y.Val)
	case *syntax.Ref:
		return showRef(y)
	case *syntax.OpApp:
		switch {
		case y.Op == "'":
			return showSub(y.Args[0]) + "'"
		case len(y.Args) == 1:
			op := y.Op
			if op == "-." {
				op = "-"
			}
			if op == "UNCHANGED" {
				op += " "
			}
			return op + showSub(y.Args[0])
		case len(y.Args) == 2:
			return showSub(y.Args[0]) + " " + y.Op + " " + showSub(y.Args[1])
		}
	case *syntax.Junction:
		var s []string
		for _, it := range y.Items {
			s = append(s, showSub(it))
		}
		return strings.Join(s, " "+y.Op+" ")
	case *syntax.If:
		return "IF " + show(y.Cond) + " THEN " + show(y.Then) + " ELSE " + show(y.Else)
	case *syntax.SetEnum:
		var s []string
		for _, it := range y.Elems {
			s = append(s, show(it))
		}
		return "{" + strings.Join(s, ", ") + "}"
	case *syntax.Tuple:
		var s []string
		for _, it := range y.Elems {
			s = append(s, show(it))
		}
		return "<<" + strings.Join(s, ", ") + ">>"
	case *syntax.Record:
		var s []string
		for i, f := range y.Fields {
			s = append(s, f+" |-> "+show(y.Vals[i]))
		}
		return "[" + strings.Join(s, ", ") + "]"
	case *syntax.Dot:
		return showSub(y.Rec) + "." + y.Field
	case *syntax.AtSign:
		return "@"
	case *syntax.SetFilter:
		return "{" + strings.Join(y.Bound.Names, ", ") + " \\in " + show(y.Bound.Set) + " : " + show(y.Pred) + "}"
	case *syntax.SetMap:
		var bs []string
		for _, b := range y.Bounds {
			bs = append(bs, strings.Join(b.Names, ", ")+" \\in "+show(b.Set))
		}
		return "{" + show(y.Elem) + " : " + strings.Join(bs, ", ") + "}"
	case *syntax.Except:
		return showExcept(y)
	}
	return fmt.Sprintf("<%T>", x)
}

func showSub(x syntax.Expr) string {
	switch y := x.(type) {
	case *syntax.Junction, *syntax.If:
		return "(" + show(x) + ")"
	case *syntax.OpApp:
		if len(y.Args) == 2 {
			return "(" + show(x) + ")"
		}
	}
	return show(x)
}

// simplifyRef inlines a reference: a bound name, TRUE/FALSE, a variable or
// constant, a built-in, a @crypto operator (kept as a call) or a user
// operator, whose body is simplified with its arguments bound.
func (m *Machine) simplifyRef(y *syntax.Ref, env map[string]syntax.Expr, depth int) (syntax.Expr, *Diag) {
	if len(y.Parts) != 1 {
		return nil, &Diag{Pos: y.P, Msg: "instance references (M!Op) are outside the generator's subset"}
	}
	p := y.Parts[0]
	if len(p.Args) == 0 {
		if e, ok := env[p.Name]; ok {
			return e, nil
		}
		switch p.Name {
		case "TRUE":
			return &boolLit{Node: y.Node, V: true}, nil
		case "FALSE":
			return &boolLit{Node: y.Node, V: false}, nil
		}
		if m.isVar[p.Name] || m.isConst[p.Name] {
			return y, nil
		}
	}
	d, ok := m.defs[p.Name]
	if !ok && builtins[p.Name] == len(p.Args) && len(p.Args) > 0 {
		out := &syntax.Ref{Node: y.Node, Parts: []syntax.RefPart{{Name: p.Name}}}
		for _, a := range p.Args {
			sa, e := m.simplify(a, env, depth)
			if e != nil {
				return nil, e
			}
			out.Parts[0].Args = append(out.Parts[0].Args, sa)
		}
		return out, nil
	}
	if !ok {
		if len(p.Args) == 0 {
			return y, nil // a bound name (event parameter); the translator decides
		}
		return nil, &Diag{Pos: y.P, Msg: fmt.Sprintf("operator %s is outside the generator's subset", p.Name)}
	}
	if d.FnBounds != nil || d.Instance != nil || d.Recursive {
		return nil, &Diag{Pos: y.P, Msg: fmt.Sprintf("%s: function definitions, instances and recursion are outside the generator's subset", p.Name)}
	}
	if len(d.Params) != len(p.Args) {
		return nil, &Diag{Pos: y.P, Msg: fmt.Sprintf("%s takes %d arguments, got %d", p.Name, len(d.Params), len(p.Args))}
	}
	if _, ok := m.ann.Crypto[p.Name]; ok {
		call := &cryptoCall{Node: y.Node, Def: d}
		for _, a := range p.Args {
			sa, e := m.simplify(a, env, depth+1)
			if e != nil {
				return nil, e
			}
			call.Args = append(call.Args, sa)
		}
		return call, nil
	}
	ne := map[string]syntax.Expr{}
	for i, prm := range d.Params {
		if prm.Arity != 0 {
			return nil, &Diag{Pos: y.P, Msg: "higher-order operator parameters are outside the generator's subset"}
		}
		a, e := m.simplify(p.Args[i], env, depth+1)
		if e != nil {
			return nil, e
		}
		ne[prm.Name] = a
	}
	return m.simplify(d.Body, ne, depth+1)
}

// simplifyOpApp simplifies the arguments and folds Mutant tests and the
// negation of a constant.
func (m *Machine) simplifyOpApp(y *syntax.OpApp, env map[string]syntax.Expr, depth int) (syntax.Expr, *Diag) {
	args := make([]syntax.Expr, len(y.Args))
	for i, a := range y.Args {
		s, e := m.simplify(a, env, depth)
		if e != nil {
			return nil, e
		}
		args[i] = s
	}
	if (y.Op == "=" || y.Op == "/=") && len(args) == 2 {
		if v, ok := m.mutantTest(args[0], args[1]); ok {
			return &boolLit{Node: y.Node, V: v == (y.Op == "=")}, nil
		}
	}
	if y.Op == "~" {
		if b, ok := args[0].(*boolLit); ok {
			return &boolLit{Node: y.Node, V: !b.V}, nil
		}
	}
	return &syntax.OpApp{Node: y.Node, Op: y.Op, Args: args}, nil
}

// simplifyJunction drops the constants that do not decide a conjunction or
// disjunction and folds the one that does.
func (m *Machine) simplifyJunction(y *syntax.Junction, env map[string]syntax.Expr, depth int) (syntax.Expr, *Diag) {
	and := y.Op == "/\\"
	var items []syntax.Expr
	for _, it := range y.Items {
		s, e := m.simplify(it, env, depth)
		if e != nil {
			return nil, e
		}
		if b, ok := s.(*boolLit); ok {
			if b.V == and {
				continue // TRUE in a conjunction, FALSE in a disjunction
			}
			return &boolLit{Node: y.Node, V: !and}, nil
		}
		items = append(items, s)
	}
	switch len(items) {
	case 0:
		return &boolLit{Node: y.Node, V: and}, nil
	case 1:
		return items[0], nil
	}
	return &syntax.Junction{Node: y.Node, Op: y.Op, Items: items}, nil
}

// simplifyIf keeps the branch a constant condition chooses.
func (m *Machine) simplifyIf(y *syntax.If, env map[string]syntax.Expr, depth int) (syntax.Expr, *Diag) {
	c, e := m.simplify(y.Cond, env, depth)
	if e != nil {
		return nil, e
	}
	if b, ok := c.(*boolLit); ok {
		if b.V {
			return m.simplify(y.Then, env, depth)
		}
		return m.simplify(y.Else, env, depth)
	}
	t, e := m.simplify(y.Then, env, depth)
	if e != nil {
		return nil, e
	}
	el, e := m.simplify(y.Else, env, depth)
	if e != nil {
		return nil, e
	}
	return &syntax.If{Node: y.Node, Cond: c, Then: t, Else: el}, nil
}

// simplifyCase: only a CASE whose arms fold to constants (Mutant tests) is
// in the subset; it becomes the arm that holds with Mutant = "none".
func (m *Machine) simplifyCase(y *syntax.Case, env map[string]syntax.Expr, depth int) (syntax.Expr, *Diag) {
	for _, a := range y.Arms {
		c, e := m.simplify(a.Cond, env, depth)
		if e != nil {
			return nil, e
		}
		b, ok := c.(*boolLit)
		if !ok {
			return nil, &Diag{Pos: a.Cond.At(), Msg: "CASE is translated only when its arms are Mutant tests"}
		}
		if b.V {
			return m.simplify(a.Val, env, depth)
		}
	}
	if y.Other == nil {
		return nil, &Diag{Pos: y.P, Msg: "no CASE arm holds with Mutant = \"none\""}
	}
	return m.simplify(y.Other, env, depth)
}

// simplifyComprehension simplifies {x \in S : P} and {e : x \in S}: one
// bound name over a set, which shadows any definition or parameter of the
// same name.
func (m *Machine) simplifyComprehension(x syntax.Expr, env map[string]syntax.Expr, depth int) (syntax.Expr, *Diag) {
	y := x
	var b syntax.Bound
	if f, ok := y.(*syntax.SetFilter); ok {
		b = f.Bound
	} else if sm := y.(*syntax.SetMap); len(sm.Bounds) == 1 {
		b = sm.Bounds[0]
	}
	if len(b.Names) != 1 || b.Tuple || b.Set == nil {
		return nil, &Diag{Pos: x.At(), Msg: "a set comprehension is translated over one name bound in a set"}
	}
	set, e := m.simplify(b.Set, env, depth)
	if e != nil {
		return nil, e
	}
	ne := map[string]syntax.Expr{}
	for k, v := range env {
		if k != b.Names[0] {
			ne[k] = v
		}
	}
	nb := syntax.Bound{Names: b.Names, Set: set}
	if f, ok := y.(*syntax.SetFilter); ok {
		pred, e := m.simplify(f.Pred, ne, depth)
		if e != nil {
			return nil, e
		}
		return &syntax.SetFilter{Node: f.Node, Bound: nb, Pred: pred}, nil
	}
	sm := y.(*syntax.SetMap)
	el, e := m.simplify(sm.Elem, ne, depth)
	if e != nil {
		return nil, e
	}
	return &syntax.SetMap{Node: sm.Node, Elem: el, Bounds: []syntax.Bound{nb}}, nil
}

// simplifyExcept simplifies an EXCEPT on record fields.
func (m *Machine) simplifyExcept(y *syntax.Except, env map[string]syntax.Expr, depth int) (syntax.Expr, *Diag) {
	fn, e := m.simplify(y.Fn, env, depth)
	if e != nil {
		return nil, e
	}
	out := &syntax.Except{Node: y.Node, Fn: fn}
	for _, u := range y.Updates {
		for _, k := range u.Path {
			if k.Field == "" {
				return nil, &Diag{Pos: y.P, Msg: "EXCEPT is translated on records (!.field); a function of the role is state it keeps in a @store"}
			}
		}
		v, e := m.simplify(u.Val, env, depth)
		if e != nil {
			return nil, e
		}
		out.Updates = append(out.Updates, syntax.ExceptUpdate{Path: u.Path, Val: v})
	}
	return out, nil
}

// simplifyLet inlines LET definitions without parameters as the operators
// of the module are.
func (m *Machine) simplifyLet(y *syntax.Let, env map[string]syntax.Expr, depth int) (syntax.Expr, *Diag) {
	ne := map[string]syntax.Expr{}
	for k, v := range env {
		ne[k] = v
	}
	for _, d := range y.Defs {
		if len(d.Params) > 0 || d.FnBounds != nil || d.Recursive {
			return nil, &Diag{Pos: d.Pos, Msg: fmt.Sprintf("LET definition %s: only definitions without parameters are translated", d.Name)}
		}
		v, e := m.simplify(d.Body, ne, depth+1)
		if e != nil {
			return nil, e
		}
		ne[d.Name] = v
	}
	return m.simplify(y.Body, ne, depth)
}

// showRef prints a reference, instance path and arguments included.
func showRef(y *syntax.Ref) string {
	var parts []string
	for _, p := range y.Parts {
		s := p.Name
		if len(p.Args) > 0 {
			var as []string
			for _, a := range p.Args {
				as = append(as, show(a))
			}
			s += "(" + strings.Join(as, ", ") + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "!")
}

// showExcept prints [f EXCEPT !.a[i] = v, ...].
func showExcept(y *syntax.Except) string {
	var us []string
	for _, u := range y.Updates {
		p := "!"
		for _, k := range u.Path {
			if k.Field != "" {
				p += "." + k.Field
			} else {
				var is []string
				for _, i := range k.Index {
					is = append(is, show(i))
				}
				p += "[" + strings.Join(is, ", ") + "]"
			}
		}
		us = append(us, p+" = "+show(u.Val))
	}
	return "[" + show(y.Fn) + " EXCEPT " + strings.Join(us, ", ") + "]"
}

// goPrefix is the prefix of the Go names of the machine's declarations:
// the module's name, its first letter lower-cased when the machine is
// Unexported.
func (m *Machine) goPrefix() string {
	if !m.Unexported || m.Module == "" {
		return m.Module
	}
	return strings.ToLower(m.Module[:1]) + m.Module[1:]
}

// upperFirst upper-cases the first letter of a generated name, for the
// helpers (compare<Name>, new<Name>) whose own prefix decides their export.
func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
