package eval

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"sync"

	"github.com/verimeter/verimeter/tla/cfg"
	"github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// Machine is a specification bound to a model configuration, ready to be
// explored: it implements check.System. It is read-only after Build (its
// expressions are compiled once, on first use, and constant definitions
// evaluated once), so workers may call it concurrently.
type Machine struct {
	// nextRT recycles NextInto's activations (slots, next-state buffer),
	// predRT those of invariants and constraints (run).
	nextRT    sync.Pool
	predRT    sync.Pool
	spec      *Spec
	strs      *value.Interner
	vars      []string
	varIndex  map[string]int
	defs      map[string]*syntax.Def
	consts    map[string]value.Value
	constDefs map[string]value.Value
	init      syntax.Expr
	next      syntax.Expr
	invs      []check.Invariant
	cons      []check.StatePredicate
	acons     []check.ActionPredicate
	prog      program
	rootInsts map[string]*bind
	modSubst  map[string]map[string]string      // c <-[Mod] d
	modValue  map[string]map[string]value.Value // c = [Mod] v
	live      liveParts
	tlc       *tlcState   // TLCGet's run information and TLCSet's registers
	post      syntax.Expr // the POSTCONDITION, nil without one
	alias     syntax.Expr // the ALIAS, nil without one
	postName  string
	// NoDeadlock is CHECK_DEADLOCK FALSE.
	NoDeadlock bool
	// ConstantOnly is a specification without variables whose
	// configuration names no INIT, NEXT or SPECIFICATION: its ASSUMEs,
	// checked by Build, are all there is to check.
	ConstantOnly bool
}

var _ check.System = (*Machine)(nil)

// Build binds spec to the configuration c. It interns the string literals
// of every module in the order they were read (TLC orders strings by first
// sighting), binds constants, finds INIT/NEXT (or SPECIFICATION
// Init /\ [][Next]_v ...), and evaluates constant definitions once.
func Build(spec *Spec, c *cfg.Config) (*Machine, error) { return BuildRun(spec, c, RunInfo{}) }

// BuildRun is Build for a run whose options TLCGet("config") reports.
func BuildRun(spec *Spec, c *cfg.Config, run RunInfo) (*Machine, error) {
	if err := CheckConfig(c); err != nil {
		return nil, err
	}
	m := &Machine{spec: spec, strs: value.NewInterner(), varIndex: map[string]int{}, defs: map[string]*syntax.Def{},
		consts: map[string]value.Value{}, constDefs: map[string]value.Value{}, tlc: newTLCState(run, c)}
	m.reserveNames(spec)
	constants, seen, err := m.flatten(spec)
	if err != nil {
		return nil, err
	}
	if err := m.bindConstants(c.Constants, seen); err != nil {
		return nil, err
	}
	for _, d := range constants {
		_, isConst := m.consts[d.Name]
		_, isDef := m.defs[d.Name]
		if !isConst && !isDef {
			return nil, evalErr(d.Pos, "constant %s has no value in the configuration", d.Name)
		}
	}
	if err := m.buildRootInstances(); err != nil {
		return nil, err
	}
	// Constant-level definitions are evaluated once, on first use (see
	// compile.go), not here: a definition the model does not use may be
	// costly (echo's R2) or fail.
	if err := m.checkAssumptions(spec, extendedModules(spec)); err != nil {
		return nil, err
	}
	m.tlc.assumed.Store(true)
	constantOnly, err := m.bindOperators(c)
	if err != nil {
		return nil, err
	}
	if constantOnly {
		return m, nil
	}
	m.NoDeadlock = c.CheckDeadlock != nil && !*c.CheckDeadlock
	if err := m.buildLiveness(c); err != nil {
		return nil, err
	}
	return m, nil
}

// flatten collects the root module and what it extends (EXTENDS and
// unnamed INSTANCE) into m: its variables, its definitions, its interned
// strings. It returns the constant declarations and the modules seen.
func (m *Machine) flatten(spec *Spec) ([]syntax.Decl, map[string]bool, error) {
	var constants []syntax.Decl
	seen := map[string]bool{}
	var add func(name string) error
	add = func(name string) error {
		if seen[name] {
			return nil
		}
		seen[name] = true
		if _, std := standard[name]; std {
			return nil
		}
		mod, ok := spec.Modules[name]
		if !ok {
			return &PosError{spec.Root.Pos, "module " + name + " not found", ErrModuleNotFound}
		}
		for _, e := range mod.Extends {
			if err := add(e); err != nil {
				return err
			}
		}
		internStrings(m.strs, mod)
		constants = append(constants, mod.Constants...)
		for _, v := range mod.Variables {
			if _, def := m.defs[v.Name]; def {
				// INSTANCE M without a name substitutes M's variable
				// vars implicitly by the instancing module's definition
				// vars (Lock's vars == <<pc, lock>> for Stuttering's vars)
				continue
			}
			if _, dup := m.varIndex[v.Name]; !dup {
				m.varIndex[v.Name] = len(m.vars)
				m.vars = append(m.vars, v.Name)
			}
		}
		for _, u := range mod.Units {
			switch u := u.(type) {
			case *syntax.Def:
				m.defs[u.Name] = u
			case *syntax.Assume:
				if u.Def != nil {
					m.defs[u.Name] = u.Def // ASSUME Name == e: Name is e
				}
			case *syntax.Instance:
				// INSTANCE N without a name: N's definitions join this
				// module's, with N's constants and variables that WITH
				// substitutes standing for their substitutes.
				declared := func(name string) bool {
					if _, v := m.varIndex[name]; v {
						return true
					}
					for _, d := range constants {
						if d.Name == name {
							return true
						}
					}
					return false
				}
				if err := m.substDefs(u, spec, declared); err != nil {
					return err
				}
				if err := add(u.Module); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := add(spec.Root.Name); err != nil {
		return nil, nil, err
	}
	return constants, seen, nil
}

// substDefs makes each substitution c <- e of an INSTANCE without a name
// the definition c == e (for an operator constant c of arity n, e a
// LAMBDA or the name of an operator: c(p1, ..., pn) == e(p1, ..., pn)):
// the instanced module's names join the instancing module's, so its
// definitions that read c read e, as TLA+'s substitution has them (the
// book, 17.5.5). An identity substitution c <- c changes nothing. The
// instanced module's names are the instancing module's only once, so a
// second INSTANCE of it without a name, or a substituted name that the
// instancing modules also define or declare (a constant or variable of
// their own), is unsupported, not resolved to one of them.
func (m *Machine) substDefs(in *syntax.Instance, spec *Spec, declared func(string) bool) error {
	target := spec.Modules[in.Module]
	for _, sb := range in.Subst {
		if isIdentity(sb) {
			continue
		}
		if target == nil {
			return unsupported(sb.Pos, "INSTANCE "+in.Module+" without a name and with substitutions")
		}
		arity := -1
		for _, list := range [][]syntax.Decl{target.Constants, target.Variables} {
			for _, d := range list {
				if d.Name == sb.Name {
					arity = d.Arity
				}
			}
		}
		if arity < 0 {
			return &PosError{sb.Pos, fmt.Sprintf("%s is not a constant or variable of module %s", sb.Name, in.Module), ErrUnknownName}
		}
		if _, dup := m.defs[sb.Name]; dup || declared(sb.Name) {
			return unsupported(sb.Pos, "INSTANCE "+in.Module+" without a name substitutes "+sb.Name+", which is also defined or declared")
		}
		d := &syntax.Def{Pos: sb.Pos, Name: sb.Name, Body: sb.Expr}
		if arity > 0 {
			var err error
			if d.Params, d.Body, err = operatorSubst(sb, arity); err != nil {
				return err
			}
		}
		m.defs[sb.Name] = d
	}
	return nil
}

// operatorSubst is the parameters and body of c(p1, ..., pn) == e(p1, ...,
// pn) for a substitution c <- e of an operator constant of arity n.
func operatorSubst(sb syntax.Subst, arity int) ([]syntax.Param, syntax.Expr, error) {
	switch e := sb.Expr.(type) {
	case *syntax.Lambda:
		if len(e.Params) != arity {
			return nil, nil, evalErr(sb.Pos, "%s <- LAMBDA of %d parameters: %s takes %d", sb.Name, len(e.Params), sb.Name, arity)
		}
		ps := make([]syntax.Param, arity)
		for i, p := range e.Params {
			ps[i] = syntax.Param{Name: p}
		}
		return ps, e.Body, nil
	case *syntax.Ref:
		if len(e.Parts) == 1 && e.Parts[0].Args == nil {
			ps := make([]syntax.Param, arity)
			args := make([]syntax.Expr, arity)
			for i := range ps {
				// Parameter names no TLA+ identifier can take.
				ps[i] = syntax.Param{Name: "_" + sb.Name + "#" + strconv.Itoa(i)}
				args[i] = &syntax.Ref{Node: syntax.Node{P: sb.Pos}, Parts: []syntax.RefPart{{Name: ps[i].Name}}}
			}
			return ps, &syntax.Ref{Node: syntax.Node{P: sb.Pos}, Parts: []syntax.RefPart{{Name: e.Parts[0].Name, Args: args}}}, nil
		}
	}
	return nil, nil, unsupported(sb.Pos, "substitution of operator constant "+sb.Name+" by an expression that is no LAMBDA or operator name")
}

// bindConstants gives the constants their values from the configuration:
// c = v, c <- Def, and the module-scoped c = [Mod] v and c <-[Mod] Def.
func (m *Machine) bindConstants(cs []cfg.Constant, seen map[string]bool) error {
	for _, k := range cs {
		pos := syntax.Pos{File: k.Pos.File, Line: k.Pos.Line, Col: k.Pos.Col}
		switch {
		case k.Module != "" && k.Value != nil && seen[k.Module]:
			// c = [Mod] v for a module whose names are the root's
			v, err := m.cfgValue(*k.Value)
			if err != nil {
				return err
			}
			m.consts[k.Name] = v
			delete(m.defs, k.Name)
		case k.Module != "" && k.Value != nil:
			// c = [Mod] v: c (a constant or a definition) is v in the
			// instances of Mod
			v, err := m.cfgValue(*k.Value)
			if err != nil {
				return err
			}
			if m.modValue == nil {
				m.modValue = map[string]map[string]value.Value{}
			}
			if m.modValue[k.Module] == nil {
				m.modValue[k.Module] = map[string]value.Value{}
			}
			m.modValue[k.Module][k.Name] = v
			m.consts[modValueName(k.Module, k.Name)] = v
		case k.Module != "" && !seen[k.Module]:
			// c <-[Mod] d for a module the root extends falls to c <- d
			// below: TLC substitutes the definition c that Mod sees, the
			// one the root sees too (LeastCircularSubstring's
			// Nat <-[ZSequences] ZSeqNat bounds the root's Nat as well).
			if _, ok := m.defs[k.Def]; !ok {
				return evalErr(pos, "%s <-[%s] %s: no definition %s", k.Name, k.Module, k.Def, k.Def)
			}
			if m.modSubst == nil {
				m.modSubst = map[string]map[string]string{}
			}
			if m.modSubst[k.Module] == nil {
				m.modSubst[k.Module] = map[string]string{}
			}
			m.modSubst[k.Module][k.Name] = k.Def
		case k.Value != nil:
			v, err := m.cfgValue(*k.Value)
			if err != nil {
				return err
			}
			m.consts[k.Name] = v
			delete(m.defs, k.Name) // a model value may replace a definition (NoVal = NoVal)
		default:
			d, ok := m.defs[k.Def]
			if !ok {
				return evalErr(pos, "%s <- %s: no definition %s", k.Name, k.Def, k.Def)
			}
			alias := *d
			alias.Name = k.Name
			m.defs[k.Name] = &alias
		}
	}
	return nil
}

// extendedModules is the root module and the modules it extends, directly
// or through the modules it extends: the modules whose ASSUMEs TLC checks.
// A module instanced, with or without a name, is not among them unless it
// is also extended (TLC does not check an instanced module's ASSUMEs, of
// which the substitutions may make one unevaluable: TLCMC's ASSUME
// quantifies over Nat).
func extendedModules(spec *Spec) map[string]bool {
	ext := map[string]bool{}
	var walk func(name string)
	walk = func(name string) {
		if ext[name] {
			return
		}
		ext[name] = true
		if mod := spec.Modules[name]; mod != nil {
			for _, e := range mod.Extends {
				walk(e)
			}
		}
	}
	walk(spec.Root.Name)
	return ext
}

// checkAssumptions evaluates the ASSUMEs of the root module, then of the
// other modules in ext (extendedModules), each once.
func (m *Machine) checkAssumptions(spec *Spec, ext map[string]bool) error {
	names := []string{spec.Root.Name}
	for _, name := range sortedKeys(ext) {
		if name != spec.Root.Name {
			names = append(names, name)
		}
	}
	for _, name := range names {
		mod := spec.Modules[name]
		if mod == nil {
			continue
		}
		for _, u := range mod.Units {
			if a, ok := u.(*syntax.Assume); ok {
				b, err := m.evalBool(a.Expr, nil, &frame{})
				if err != nil {
					return err
				}
				if !b {
					return &PosError{a.Pos, "assumption is false", ErrAssumption}
				}
			}
		}
	}
	return nil
}

// bindOperators finds the behaviour (INIT/NEXT or SPECIFICATION) and the
// invariants and constraints the configuration names; constantOnly when
// the module has no behaviour to explore.
func (m *Machine) bindOperators(c *cfg.Config) (constantOnly bool, err error) {
	lookup := func(n *cfg.Name, what string) (syntax.Expr, error) {
		d, ok := m.defs[n.Name]
		if !ok {
			return nil, evalErr(syntax.Pos{File: n.Pos.File, Line: n.Pos.Line, Col: n.Pos.Col}, "%s %s is not defined", what, n.Name)
		}
		return &syntax.Ref{Node: syntax.Node{P: d.Pos}, Parts: []syntax.RefPart{{Name: n.Name}}}, nil
	}
	switch {
	case c.Init != nil && c.Next != nil:
		if m.init, err = lookup(c.Init, "INIT"); err != nil {
			return false, err
		}
		if m.next, err = lookup(c.Next, "NEXT"); err != nil {
			return false, err
		}
	case c.Specification != nil:
		d, ok := m.defs[c.Specification.Name]
		if !ok {
			return false, evalErr(syntax.Pos{File: c.Specification.Pos.File, Line: c.Specification.Pos.Line}, "SPECIFICATION %s is not defined", c.Specification.Name)
		}
		if err := m.splitSpec(d.Body); err != nil {
			return false, err
		}
	case len(m.vars) == 0 && len(c.Invariants) == 0 && len(c.Properties) == 0:
		// A constant module: as TLC, evaluate the assumptions (done
		// above) and explore nothing.
		m.ConstantOnly = true
		return true, nil
	default:
		return false, unsupported(m.spec.Root.Pos, "configuration without INIT/NEXT or SPECIFICATION")
	}
	for _, n := range c.Invariants {
		x, err := lookup(&n, "INVARIANT")
		if err != nil {
			return false, err
		}
		in := m.statePredMemo(x)
		m.invs = append(m.invs, check.Invariant{Name: n.Name, Holds: func(s check.State) (bool, error) { return in(s, nil) }, HoldsMemo: in})
	}
	for _, n := range c.Constraints {
		x, err := lookup(&n, "CONSTRAINT")
		if err != nil {
			return false, err
		}
		m.cons = append(m.cons, check.StatePredicate{Name: n.Name, Holds: m.statePred(x)})
	}
	if c.Postcondition != nil {
		if m.post, err = lookup(c.Postcondition, "POSTCONDITION"); err != nil {
			return false, err
		}
		m.postName = c.Postcondition.Name
	}
	if c.Alias != nil {
		if m.alias, err = lookup(c.Alias, "ALIAS"); err != nil {
			return false, err
		}
	}
	for _, n := range c.ActionConstraints {
		x, err := lookup(&n, "ACTION_CONSTRAINT")
		if err != nil {
			return false, err
		}
		m.acons = append(m.acons, check.ActionPredicate{Name: n.Name, Holds: func(s, t check.State) (bool, error) {
			return m.evalBool(x, nil, &frame{cur: s, nxt: t})
		}})
	}
	return false, nil
}

// reserveNames gives the names of the modules their places in the order of
// strings, record fields and model values before any value is made, as
// TLC's table of names has them: every identifier as the parser reads the
// files (the root first), then every string literal as SANY processes the
// modules (each after those it uses). A record's fields are ordered so (a
// field named like an earlier variable comes first), and a set of strings.
// Modules built into the checker (Naturals, Sequences, ...) have no text
// here and take no places.
func (m *Machine) reserveNames(spec *Spec) {
	lexed := make(map[string][]syntax.Token, len(spec.parsed))
	for _, f := range spec.parsed {
		toks, _ := syntax.Lex(f.path, f.src) // parsed already: no error
		lexed[f.path] = toks
		for _, t := range toks {
			if t.Kind == syntax.Ident {
				m.strs.Reserve(t.Text)
			}
		}
	}
	for _, f := range spec.processed {
		for _, t := range lexed[f.path] {
			if t.Kind == syntax.String {
				m.strs.Reserve(t.Text)
			}
		}
	}
}

// splitSpec finds Init and Next in Init /\ [][Next]_v /\ fairness.
func (m *Machine) splitSpec(x syntax.Expr) error {
	var conj []syntax.Expr
	var flat func(x syntax.Expr) error
	flat = func(x syntax.Expr) error {
		switch y := x.(type) {
		case *syntax.Junction:
			if y.Op != "/\\" {
				return unsupported(y.P, "SPECIFICATION that is not a conjunction")
			}
			for _, it := range y.Items {
				if err := flat(it); err != nil {
					return err
				}
			}
			return nil
		case *syntax.Ref:
			if d, ok := m.defs[y.Parts[0].Name]; ok && len(y.Parts) == 1 && len(d.Params) == 0 && m.refersTemporal(d.Body, 0) {
				return flat(d.Body)
			}
		}
		conj = append(conj, x)
		return nil
	}
	if err := flat(x); err != nil {
		return err
	}
	for _, c := range conj {
		switch y := c.(type) {
		case *syntax.OpApp:
			if y.Op == "[]" {
				if b, ok := y.Args[0].(*syntax.BoxAction); ok && !b.Angle {
					if m.next != nil {
						return unsupported(y.P, "two [][Next]_v conjuncts")
					}
					m.next = b.Action
					continue
				}
			}
			if y.Op == "[]" || y.Op == "<>" {
				m.live.specTemporal = append(m.live.specTemporal, c)
				continue
			}
			return unsupported(y.P, "SPECIFICATION conjunct "+y.Op)
		case *syntax.Fairness:
			m.live.specTemporal = append(m.live.specTemporal, c)
			continue
		default:
			if containsTemporal(c) {
				// fairness (possibly quantified), compiled in buildLiveness
				m.live.specTemporal = append(m.live.specTemporal, c)
				continue
			}
			if m.init != nil {
				m.init = &syntax.Junction{Node: syntax.Node{P: c.At()}, Op: "/\\", Items: []syntax.Expr{m.init, c}}
			} else {
				m.init = c
			}
		}
	}
	if m.init == nil || m.next == nil {
		return unsupported(x.At(), "SPECIFICATION without Init and [][Next]_v")
	}
	return nil
}

func containsTemporal(x syntax.Expr) bool {
	switch y := x.(type) {
	case *syntax.OpApp:
		if y.Op == "[]" || y.Op == "<>" {
			return true
		}
		for _, a := range y.Args {
			if containsTemporal(a) {
				return true
			}
		}
	case *syntax.Junction:
		for _, a := range y.Items {
			if containsTemporal(a) {
				return true
			}
		}
	case *syntax.Fairness:
		return true
	case *syntax.Quant:
		return containsTemporal(y.Body)
	}
	return false
}

// statePred is x as a predicate on states (an invariant, a constraint),
// compiled on its first evaluation.
func (m *Machine) statePred(x syntax.Expr) func(check.State) (bool, error) {
	in := m.statePredMemo(x)
	return func(s check.State) (bool, error) { return in(s, nil) }
}

// statePredMemo is statePred for a checker's worker with its memo (see
// value.WorkerMemo; nil: none).
func (m *Machine) statePredMemo(x syntax.Expr) func(check.State, *value.WorkerMemo) (bool, error) {
	p := sync.OnceValue(func() *compiledPred { return m.pred(x, false, nil) })
	return func(s check.State, memo *value.WorkerMemo) (bool, error) {
		v, err := m.run(p(), s, nil, memo)
		return asBool(x, v, err)
	}
}

func (m *Machine) cfgValue(v cfg.Value) (value.Value, error) {
	switch v.Kind {
	case cfg.Int:
		if v.Int != int64(int32(v.Int)) {
			return nil, evalErr(syntax.Pos{File: v.Pos.File, Line: v.Pos.Line, Col: v.Pos.Col}, "integer %d out of TLC's 32-bit range", v.Int)
		}
		return value.Int(v.Int), nil
	case cfg.String:
		return m.strs.String(v.Str), nil
	case cfg.Bool:
		return value.Bool(v.Bool), nil
	case cfg.ModelValue:
		return m.strs.Model(v.Str), nil
	}
	vs := make([]value.Value, len(v.Elems))
	for i, e := range v.Elems {
		x, err := m.cfgValue(e)
		if err != nil {
			return nil, err
		}
		vs[i] = x
	}
	if v.Kind == cfg.Set {
		return value.NewSet(vs...)
	}
	return value.Tuple(vs...), nil
}

// internStrings interns a module's string literals in source order.
func internStrings(t *value.Interner, mod *syntax.Module) {
	// TLC's UniqueString table holds strings and identifiers, record
	// fields among them, in the order the parser first sees them; a
	// record's fields compare in that order, so [ver : S, by : T] is
	// enumerated by ver first even where by is read before ver is.
	type sighting struct {
		p syntax.Pos
		s string
	}
	var strs []sighting
	fields := func(p syntax.Pos, names ...string) {
		for _, n := range names {
			strs = append(strs, sighting{p, n})
		}
	}
	var walk func(x any)
	walk = func(x any) {
		switch y := x.(type) {
		case *syntax.Str:
			strs = append(strs, sighting{y.P, y.Val})
		case *syntax.Record:
			fields(y.P, y.Fields...)
			visitChildren(y, func(c syntax.Expr) { walk(c) })
		case *syntax.RecordSet:
			fields(y.P, y.Fields...)
			visitChildren(y, func(c syntax.Expr) { walk(c) })
		case *syntax.Dot:
			visitChildren(y, func(c syntax.Expr) { walk(c) })
			fields(y.P, y.Field)
		case *syntax.Except:
			for _, u := range y.Updates {
				for _, k := range u.Path {
					if k.Field != "" {
						fields(y.P, k.Field)
					}
				}
			}
			visitChildren(y, func(c syntax.Expr) { walk(c) })
		case *syntax.Def:
			walk(y.Body)
			for _, b := range y.FnBounds {
				walk(b.Set)
			}
		case *syntax.Assume:
			walk(y.Expr)
		case syntax.Expr:
			visitChildren(y, func(c syntax.Expr) { walk(c) })
		}
	}
	for _, u := range mod.Units {
		walk(u)
	}
	sort.SliceStable(strs, func(i, j int) bool {
		a, b := strs[i].p, strs[j].p
		return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
	})
	for _, s := range strs {
		t.String(s.s)
	}
}

// Variables implements check.System.
func (m *Machine) Variables() []string { return m.vars }

// Invariants implements check.System.
func (m *Machine) Invariants() []check.Invariant { return m.invs }

// Constraints implements check.System.
func (m *Machine) Constraints() []check.StatePredicate { return m.cons }

// ActionConstraints implements check.System.
func (m *Machine) ActionConstraints() []check.ActionPredicate { return m.acons }

// Init implements check.System: it enumerates the initial predicate.
func (m *Machine) Init(emit func(check.State) error) error {
	return m.initStates(emit)
}

// Next implements check.System: it enumerates the successors of s.
func (m *Machine) Next(s check.State, emit func(check.State, string) error) error {
	return m.NextInto(s, func(t check.State, action int) error {
		return emit(append(check.State(nil), t...), m.prog.names[action])
	})
}

func visitChildren(x syntax.Expr, fn func(syntax.Expr)) {
	each := func(xs ...syntax.Expr) {
		for _, c := range xs {
			if c != nil {
				fn(c)
			}
		}
	}
	bounds := func(bs []syntax.Bound) {
		for _, b := range bs {
			each(b.Set)
		}
	}
	switch y := x.(type) {
	case *syntax.Ref:
		for _, p := range y.Parts {
			each(p.Args...)
		}
	case *syntax.OpApp:
		each(y.Args...)
	case *syntax.Junction:
		each(y.Items...)
	case *syntax.If:
		each(y.Cond, y.Then, y.Else)
	case *syntax.Case:
		for _, a := range y.Arms {
			each(a.Cond, a.Val)
		}
		each(y.Other)
	case *syntax.Let:
		for _, d := range y.Defs {
			bounds(d.FnBounds)
			each(d.Body)
		}
		each(y.Body)
	case *syntax.Quant:
		bounds(y.Bounds)
		each(y.Body)
	case *syntax.SetEnum:
		each(y.Elems...)
	case *syntax.SetFilter:
		each(y.Bound.Set, y.Pred)
	case *syntax.SetMap:
		each(y.Elem)
		bounds(y.Bounds)
	case *syntax.Tuple:
		each(y.Elems...)
	case *syntax.FuncCons:
		bounds(y.Bounds)
		each(y.Body)
	case *syntax.FuncSet:
		each(y.Dom, y.Rng)
	case *syntax.Record:
		each(y.Vals...)
	case *syntax.RecordSet:
		each(y.Sets...)
	case *syntax.Except:
		each(y.Fn)
		for _, u := range y.Updates {
			for _, k := range u.Path {
				each(k.Index...)
			}
			each(u.Val)
		}
	case *syntax.Apply:
		each(y.Fn)
		each(y.Args...)
	case *syntax.Dot:
		each(y.Rec)
	case *syntax.Times:
		each(y.Sets...)
	case *syntax.BoxAction:
		each(y.Action, y.Sub)
	case *syntax.Fairness:
		each(y.Sub, y.Action)
	case *syntax.Lambda:
		each(y.Body)
	case *syntax.Label:
		each(y.Body)
	}
}

var _ = fmt.Sprint

// HasPostcondition reports whether the configuration names a
// POSTCONDITION, which CheckPostcondition evaluates after the search.
func (m *Machine) HasPostcondition() bool { return m.post != nil }

// CheckPostcondition evaluates the configuration's POSTCONDITION (if any)
// as TLC does once its search has ended without error (trace validation
// asks there whether the whole log was matched): a constant expression in
// which TLCGet("stats") is the record of the search's figures (queue,
// distinct, generated, diameter: the depth, duration in seconds, worker
// 0). A false postcondition is an ErrAssumption error, as TLC reports it
// (the exit code of a false ASSUME).
func (m *Machine) CheckPostcondition(res check.Result) error {
	if m.post == nil {
		return nil
	}
	stats, err := value.Record(m.strs, []string{"queue", "distinct", "generated", "diameter", "duration", "worker"},
		[]value.Value{tlcInt(res.Queue), tlcInt(res.Distinct), tlcInt(res.Generated), tlcInt(int64(res.Depth)), tlcInt(int64(res.Seconds)), value.Int(0)})
	if err != nil {
		return err
	}
	m.tlc.stats.Store(stats)
	ok, err := m.evalBool(m.post, nil, &frame{})
	if err != nil {
		return fmt.Errorf("evaluating postcondition %s: %w", m.postName, err)
	}
	if !ok {
		return &PosError{m.post.At(), "postcondition " + m.postName + " is false", ErrAssumption}
	}
	return nil
}

// tlcInt is a count as TLC's 32-bit Int narrows it (the largest Int past
// its range).
func tlcInt(n int64) value.Value {
	return value.Int(min(n, math.MaxInt32))
}
