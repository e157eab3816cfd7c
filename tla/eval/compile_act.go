package eval

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// kont is the compiled continuation of an action: what runs once the action
// has been satisfied, for the action name that reached it (compiled once per
// name).
type kont struct {
	f    func(name string) runFn
	memo map[string]runFn
}

func (k *kont) get(name string) runFn {
	if fn, ok := k.memo[name]; ok {
		return fn
	}
	if k.memo == nil {
		k.memo = map[string]runFn{}
	}
	fn := k.f(name)
	k.memo[name] = fn
	return fn
}

// act compiles action x: the run function enumerates the ways x can be
// satisfied from the partial next state r.nxt (nil entries unassigned),
// running the continuation with each completed assignment. Assignments are
// made in place and undone on return. The action name is the innermost
// operator reached from Next through disjunctions, existentials and
// definitions (TLC's naming); naming is true until a conjunction is entered.
func (s scope) act(x syntax.Expr, name string, naming bool, k *kont) runFn {
	switch y := x.(type) {
	case *syntax.Label:
		return s.act(y.Body, name, naming, k)
	case *syntax.Junction:
		return s.actJunction(y, name, naming, k)
	case *syntax.Quant:
		if f := s.actQuant(y, name, naming, k); f != nil {
			return f
		}
	case *syntax.If:
		return s.actIf(y, name, naming, k)
	case *syntax.Case:
		return s.actCase(y, name, naming, k)
	case *syntax.BoxAction:
		return s.act(boxActionExpr(y), name, naming, k)
	case *syntax.Let:
		return s.actLet(y, name, naming, k)
	case *syntax.Ref:
		if f := s.actRef(y, name, naming, k); f != nil {
			return f
		}
	case *syntax.OpApp:
		if f := s.actOpApp(y, name, naming, k); f != nil {
			return f
		}
	}
	return s.predicate(x, name, k)
}

// predicate compiles x as a condition on the assignment so far.
func (s scope) predicate(x syntax.Expr, name string, k *kont) runFn {
	b := s.boolean(x)
	next := k.get(name)
	return func(r *rt) error {
		ok, err := b(r)
		if err != nil || !ok {
			return err
		}
		return next(r)
	}
}

func (s scope) conj(items []syntax.Expr, i int, name string, k *kont) runFn {
	if i == len(items) {
		return k.get(name)
	}
	rest := &kont{f: func(n string) runFn { return s.conj(items, i+1, n, k) }}
	act := s.act(items[i], name, false, rest)
	if i == 0 || s.noProbe || s.plainPredicate(items[i]) {
		return act
	}
	// TLC, between two conjuncts, looks whether the next state has all
	// its variables (TLCState.allAssigned); if so it evaluates the rest of
	// the action as a condition, and the state is generated once, however
	// many ways the rest holds: \E x \in S : P stops at the first x. The
	// probe is the conjunct stopped at its first success (compiled without
	// probes of its own: inside it, every variable has its value).
	p := s
	p.noProbe = true
	probesCompiled.Add(1)
	probe := p.act(items[i], name, false, &kont{f: func(string) runFn { return holds }})
	next := rest.get(name)
	return func(r *rt) error {
		if !r.allAssigned() {
			return act(r)
		}
		if err := probe(r); !errors.Is(err, errHolds) {
			return err // nil: the conjunct does not hold
		}
		return next(r)
	}
}

// probesCompiled counts the probes conj compiles (for tests: they grow
// with the conjuncts, not with the nesting of conjunctions).
var probesCompiled atomic.Int64

// errHolds stops a probe (conj) at the first way its conjunct holds.
var errHolds = errors.New("eval: the conjunct holds")

func holds(*rt) error { return errHolds }

// allAssigned reports whether every variable has its value in the next
// state.
func (r *rt) allAssigned() bool {
	for _, v := range r.nxt {
		if v == nil {
			return false
		}
	}
	return true
}

// target reports whether x is x' (or, in Init, x) for a state variable x:
// then = and \in assign it when it is not assigned yet.
// Operator arguments and instance substitutions standing for x or x' are
// followed (q' = ... in Lose(q) == ..., called as Lose(msgQ)).
func (s scope) target(x syntax.Expr) (int, bool) {
	if s.primed {
		return 0, false
	}
	primed := false
	env := s.env
	for depth := 0; depth < maxInline; depth++ {
		switch y := x.(type) {
		case *syntax.Label:
			x = y.Body
			continue
		case *syntax.OpApp:
			if y.Op != "'" || primed || s.init {
				return 0, false
			}
			primed = true
			x = y.Args[0]
			continue
		case *syntax.Ref:
			if len(y.Parts) != 1 || y.Parts[0].Args != nil {
				return 0, false
			}
			if e := findIn(env, y.Parts[0].Name); e != nil {
				switch {
				case e.kind == eParam && !e.argSc.primed && e.argSc.init == s.init:
					x, env = e.arg, e.argSc.env
					continue
				case e.kind == eSubst:
					x, env = e.arg, e.argEnv
					continue
				}
				return 0, false
			}
			i, ok := s.c.m.varIndex[y.Parts[0].Name]
			if !ok || primed == s.init {
				return 0, false
			}
			s.fl.next = true
			return i, true
		}
		return 0, false
	}
	return 0, false
}

// unchangedVars lists the variables of UNCHANGED <<x, y, vars>>, or false
// if the expression is not a tuple of variables.
func (s scope) unchangedVars(x syntax.Expr) ([]int, bool) {
	m := s.c.m
	var vars []int
	var collect func(x syntax.Expr, env *bind, depth int) bool
	collect = func(x syntax.Expr, env *bind, depth int) bool {
		if depth > maxInline {
			return false
		}
		switch y := x.(type) {
		case *syntax.Label:
			return collect(y.Body, env, depth+1)
		case *syntax.Tuple:
			for _, el := range y.Elems {
				if !collect(el, env, depth+1) {
					return false
				}
			}
			return true
		case *syntax.Ref:
			if len(y.Parts) != 1 || y.Parts[0].Args != nil {
				return false
			}
			if e := findIn(env, y.Parts[0].Name); e != nil {
				switch {
				case e.kind == eParam && !e.argSc.primed:
					return collect(e.arg, e.argSc.env, depth+1)
				case e.kind == eSubst:
					return collect(e.arg, e.argEnv, depth+1)
				case e.kind == eDef && e.denv != nil && len(e.def.Params) == 0 && e.def.FnBounds == nil && e.def.Instance == nil && !e.def.Recursive:
					return collect(e.def.Body, e.denv, depth+1)
				}
				return false
			}
			if i, ok := m.varIndex[y.Parts[0].Name]; ok {
				vars = append(vars, i)
				return true
			}
			if _, ok := m.consts[y.Parts[0].Name]; ok {
				return false
			}
			if d, ok := m.defs[y.Parts[0].Name]; ok && len(d.Params) == 0 && d.FnBounds == nil && d.Instance == nil && !d.Recursive {
				return collect(d.Body, nil, depth+1)
			}
		}
		return false
	}
	if !collect(x, s.env, 0) {
		return nil, false
	}
	s.fl.state, s.fl.next = true, true
	return vars, true
}

// combos holds the bound values of a \A in action context, in a hidden
// slot: instance i's values are vals[i*width:(i+1)*width].
type combos struct {
	vals  []value.Value
	width int
	n     int
}

// combosPool recycles combos: a \A in an action is entered for most states
// a worker explores, and its instances are dead once its body returns.
var combosPool = sync.Pool{New: func() any { return &combos{} }}

func (*combos) Kind() value.Kind { return value.KindSet }
func (*combos) Hash() uint64     { return 0 }
func (*combos) String() string   { return "<combos>" }

// forallAct compiles \A x \in S : A in action context as TLC does: the
// conjunction of the instances A(x1) /\ A(x2) /\ ..., each of which may
// branch (an \E inside yields a successor per witness) or assign.
//
// The next instance runs inside the continuation of the current one, so it
// re-enters the same compiled body: the body's slots (loops in progress,
// LET values) are saved around it and restored after.
func (s scope) forallAct(y *syntax.Quant, name string, k *kont) runFn {
	if len(y.Bounds) == 1 && len(y.Bounds[0].Names) == 1 && !y.Bounds[0].Tuple && s.plainPredicate(y.Body) {
		// Each instance is a condition: their conjunction is \A itself
		// (with one bound, evaluated in the same order, errors included).
		return s.predicate(y, name, k)
	}
	lo := s.unit().n
	hi := lo
	b, s2 := s.binder(y.Bounds)
	s2, cSlot := s2.bindSlot("\x00combos")
	s2, iSlot := s2.bindSlot("\x00index")
	slots := b.all
	set := func(r *rt, cs *combos, i int) {
		vs := cs.vals[i*cs.width:]
		for j, k := range slots {
			r.slots[k] = vs[j]
		}
	}
	var body runFn
	step := func(outer runFn) runFn {
		return func(r *rt) error {
			cs := r.slots[cSlot].(*combos)
			i := int(r.slots[iSlot].(value.Int))
			if i+1 == cs.n {
				return outer(r)
			}
			var buf [8]value.Value
			saved := append(buf[:0], r.slots[lo:hi]...)
			set(r, cs, i+1)
			r.slots[iSlot] = value.Int(i + 1)
			err := body(r)
			copy(r.slots[lo:hi], saved)
			return err
		}
	}
	body = s2.act(y.Body, name, false, &kont{f: func(n string) runFn { return step(k.get(n)) }})
	hi = s2.unit().n
	empty := k.get(name)
	return func(r *rt) error {
		cs := combosPool.Get().(*combos)
		cs.width, cs.n = len(slots), 0
		// The body's continuations have all run when it returns: nothing
		// refers to cs afterwards.
		defer func() {
			r.slots[cSlot] = nil
			clear(cs.vals)
			cs.vals = cs.vals[:0]
			combosPool.Put(cs)
		}()
		_, err := b.each(r, 0, func(r *rt) (bool, error) {
			for _, k := range slots {
				cs.vals = append(cs.vals, r.slots[k])
			}
			cs.n++
			return false, nil
		})
		if err != nil {
			return err
		}
		if cs.n == 0 {
			return empty(r)
		}
		set(r, cs, 0)
		r.slots[cSlot], r.slots[iSlot] = cs, value.Int(0)
		return body(r)
	}
}

// stored is the value a variable keeps: a lazily defined finite set
// (SUBSET S, [S -> T], a record set, S \X T) is enumerated, as TLC
// normalises a state's values, so that traces print the elements; sets
// that cannot be enumerated (Nat, Seq(S)) and intervals stay as they are.
func stored(v value.Value) value.Value {
	switch v.(type) {
	case *value.Subset, *value.FuncSet, *value.RecordSet, *value.Product:
		if e, err := v.(value.SetValue).Enumerate(); err == nil {
			return e
		}
	}
	return v
}

// plainPredicate reports whether act compiles x as a mere condition on the
// assignment so far (a predicate), neither branching nor assigning: a
// conjunction of such, or an operator application other than =>,
// UNCHANGED, and = or \in with x' on the left.
func (s scope) plainPredicate(x syntax.Expr) bool {
	switch y := x.(type) {
	case *syntax.Junction:
		if y.Op != "/\\" {
			return false
		}
		for _, it := range y.Items {
			if !s.plainPredicate(it) {
				return false
			}
		}
		return true
	case *syntax.OpApp:
		switch y.Op {
		case "=>", "UNCHANGED":
			return false
		case "=", "\\in":
			_, isTarget := s.target(y.Args[0])
			return !isTarget
		}
		return true
	}
	return false
}

// cdot compiles the action composition A \cdot B (TLC's, enabled there by
// -Dtlc2.tool.impl.Tool.cdot=true): a step from s to t such that A leads
// from s to some complete state u and B from u to t. A runs with a
// continuation that makes u the current state and runs B, whose own
// continuation puts s back (r.outer keeps it, a stack for nested
// compositions) before the rest of the action.
func (s scope) cdot(y *syntax.OpApp, name string, naming bool, k *kont) runFn {
	vars := s.c.m.vars
	pos := y.P
	second := s.act(y.Args[1], name, naming, &kont{f: func(n string) runFn {
		rest := k.get(n)
		return func(r *rt) error {
			mid := r.cur
			r.cur = r.outer[len(r.outer)-1]
			r.outer = r.outer[:len(r.outer)-1]
			err := rest(r)
			r.outer = append(r.outer, r.cur)
			r.cur = mid
			return err
		}
	}})
	return s.act(y.Args[0], name, naming, &kont{f: func(string) runFn {
		return func(r *rt) error {
			for i, v := range r.nxt {
				if v == nil {
					return evalErr(pos, "the first action of \\cdot does not determine %s'", vars[i])
				}
			}
			orig, nxt := r.cur, r.nxt
			r.outer = append(r.outer, orig)
			r.cur, r.nxt = materialized(nxt), make([]value.Value, len(nxt))
			err := second(r)
			r.outer = r.outer[:len(r.outer)-1]
			r.cur, r.nxt = orig, nxt
			return err
		}
	}})
}

// actJunction compiles a disjunction (each branch an action) or a
// conjunction (a chain of continuations) in action context.
func (s scope) actJunction(y *syntax.Junction, name string, naming bool, k *kont) runFn {
	if y.Op == "\\/" {
		items := s.disjuncts(y.Items, name, naming, k)
		return func(r *rt) error {
			for _, it := range items {
				if err := it(r); err != nil {
					return err
				}
			}
			return nil
		}
	}
	return s.conj(y.Items, 0, name, k)
}

// actQuant compiles \A and \E in action context; nil for other kinds,
// which are predicates.
func (s scope) actQuant(y *syntax.Quant, name string, naming bool, k *kont) runFn {
	if y.Kind == "\\A" {
		return s.forallAct(y, name, k)
	}
	if y.Kind == "\\E" {
		b, s2 := s.binder(y.Bounds)
		body := s2.act(y.Body, name, naming, k)
		b.pre = s2.pretest(y.Bounds, y.Body) // a FALSE body: no step, go on
		visit := func(r *rt) (bool, error) { return false, body(r) }
		if b.independent(y.Bounds) {
			return func(r *rt) error {
				_, err := b.eachFirstFastest(r, visit)
				return err
			}
		}
		return func(r *rt) error {
			_, err := b.each(r, 0, visit)
			return err
		}
	}
	return nil
}

// actIf compiles IF/THEN/ELSE whose branches are actions.
func (s scope) actIf(y *syntax.If, name string, naming bool, k *kont) runFn {
	c := s.boolean(y.Cond)
	t, e := s.act(y.Then, name, naming, k), s.act(y.Else, name, naming, k)
	return func(r *rt) error {
		b, err := c(r)
		if err != nil {
			return err
		}
		if b {
			return t(r)
		}
		return e(r)
	}
}

// actCase compiles CASE whose arms are actions.
func (s scope) actCase(y *syntax.Case, name string, naming bool, k *kont) runFn {
	conds := make([]func(*rt) (bool, error), len(y.Arms))
	arms := make([]runFn, len(y.Arms))
	for i, a := range y.Arms {
		conds[i], arms[i] = s.boolean(a.Cond), s.act(a.Val, name, naming, k)
	}
	var other runFn
	if y.Other != nil {
		other = s.act(y.Other, name, naming, k)
	}
	pos := y.P
	return func(r *rt) error {
		for i, c := range conds {
			b, err := c(r)
			if err != nil {
				return err
			}
			if b {
				return arms[i](r)
			}
		}
		if other != nil {
			return other(r)
		}
		return evalErr(pos, "no CASE arm applies")
	}
}

// actLet compiles LET/IN whose body is an action.
func (s scope) actLet(y *syntax.Let, name string, naming bool, k *kont) runFn {
	s2, reset := s.let(y)
	body := s2.act(y.Body, name, naming, k)
	return func(r *rt) error {
		for _, k := range reset {
			r.slots[k] = nil
		}
		return body(r)
	}
}

// actRef expands a reference to an action operator (through instances,
// substitutions, parameters and LET definitions) in place; nil when the
// reference is not expanded, and is then a predicate.
func (s scope) actRef(y *syntax.Ref, name string, naming bool, k *kont) runFn {
	m := s.c.m
	if len(y.Parts) > 1 {
		// I!Op(args) through instances, Def!n
		if t, err := s.resolvePath(y); err == nil {
			if t.def == nil {
				u := s
				u.env = t.xenv
				u.inline++
				if u.inline <= maxInline {
					return u.act(t.expr, name, naming, k)
				}
			} else if t.def.FnBounds == nil && t.def.Instance == nil && !t.def.Recursive && len(t.args) == len(t.def.Params) {
				if u, err := s.callee(y.P, t.def, t.args, t.denv); err == nil {
					if naming {
						name = y.Parts[len(y.Parts)-1].Name
					}
					return u.act(t.def.Body, name, naming, k)
				}
			}
		}
	}
	if len(y.Parts) == 1 {
		p := y.Parts[0]
		if e := s.find(p.Name); e != nil {
			switch {
			case e.kind == eDef && e.def.FnBounds == nil && e.def.Instance == nil && !e.def.Recursive && len(p.Args) == len(e.def.Params):
				if t, err := s.callee(y.P, e.def, p.Args, e.denv); err == nil {
					if naming {
						name = p.Name
					}
					return t.act(e.def.Body, name, naming, k)
				}
			case e.kind == eSubst && p.Args == nil:
				t := s
				t.env = e.argEnv
				t.inline++
				if t.inline <= maxInline {
					return t.act(e.arg, name, naming, k)
				}
			case e.kind == eParam && p.Args == nil && e.argSc.level == s.level:
				as := *e.argSc
				as.primed = as.primed || s.primed
				as.fl = s.fl
				as.inline = s.inline + 1
				as.noProbe = as.noProbe || s.noProbe
				if as.inline <= maxInline {
					return as.act(e.arg, name, naming, k)
				}
			case e.kind == eLet && e.def.FnBounds == nil && !e.def.Recursive && len(p.Args) == len(e.def.Params):
				t, err := s.callee(y.P, e.def, p.Args, e.argSc.env)
				if err == nil {
					t.primed = s.primed || e.argSc.primed
					if naming {
						name = p.Name
					}
					return t.act(e.def.Body, name, naming, k)
				}
			}
		} else if _, isVar := m.varIndex[p.Name]; !isVar {
			if _, isConst := m.consts[p.Name]; !isConst {
				if d, ok := m.defs[p.Name]; ok && inlinedAction(d, len(p.Args)) {
					if len(d.Params) > 0 || !s.constDef(d).isConst {
						t, err := s.callee(y.P, d, p.Args, nil)
						if err == nil {
							if naming {
								name = p.Name
							}
							return t.act(d.Body, name, naming, k)
						}
					}
				}
			}
		}
	}
	return nil
}

// inlinedAction reports whether an action calling definition d with nargs
// arguments compiles d's body in place (actRef; guardOf looks through the
// same calls): an operator, not a function, an instance or a recursive
// definition, called with all its arguments.
func inlinedAction(d *syntax.Def, nargs int) bool {
	return d.FnBounds == nil && d.Instance == nil && !d.Recursive && nargs == len(d.Params)
}

// assign compiles x' = e, x the variable of index i: a condition if x'
// has its value already, else an assignment; with an arena (rt.arena) the
// value may be made there (arenaExpr).
func (s scope) assign(y *syntax.OpApp, i int, name string, k *kont) runFn {
	val := s.expr(y.Args[1])
	inArena := s.arenaExpr(y.Args[1])
	pred := s.predicate(y, name, k)
	next := k.get(name)
	return func(r *rt) error {
		if r.nxt[i] != nil {
			return pred(r)
		}
		var v value.Value
		var err error
		if r.arena != nil && inArena != nil {
			v, err = inArena(r)
		} else {
			v, err = val(r)
		}
		if err != nil {
			return err
		}
		r.nxt[i] = stored(v)
		err = next(r)
		r.nxt[i] = nil
		return err
	}
}

// actOpApp compiles the operators that assign or constrain primed
// variables (=>, \cdot, x' = e, x' \in S, UNCHANGED); nil for the others,
// which are predicates.
func (s scope) actOpApp(y *syntax.OpApp, name string, naming bool, k *kont) runFn {
	switch y.Op {
	case "=>":
		// TLC: the consequent is an action when the antecedent holds
		c := s.boolean(y.Args[0])
		then := s.act(y.Args[1], name, false, k)
		next := k.get(name)
		return func(r *rt) error {
			b, err := c(r)
			if err != nil {
				return err
			}
			if b {
				return then(r)
			}
			return next(r)
		}
	case "\\cdot":
		return s.cdot(y, name, naming, k)
	case "=":
		if i, ok := s.target(y.Args[0]); ok {
			return s.assign(y, i, name, k)
		}
	case "\\in":
		if i, ok := s.target(y.Args[0]); ok {
			set := s.set(y.Args[1])
			pred := s.predicate(y, name, k)
			next := k.get(name)
			pos := y.P
			return func(r *rt) error {
				if r.nxt[i] != nil {
					return pred(r)
				}
				sv, err := set(r)
				if err != nil {
					return err
				}
				elems, err := sv.Enumerate()
				if err != nil {
					return wrap(pos, err)
				}
				for j := 0; j < elems.Len(); j++ {
					r.nxt[i] = stored(elems.At(j))
					if err := next(r); err != nil {
						r.nxt[i] = nil
						return err
					}
				}
				r.nxt[i] = nil
				return nil
			}
		}
	case "UNCHANGED":
		if !s.init {
			if vars, ok := s.unchangedVars(y.Args[0]); ok {
				next := k.get(name)
				return func(r *rt) error {
					var setBuf [16]int
					set := setBuf[:0]
					for _, i := range vars {
						if r.nxt[i] == nil {
							r.nxt[i] = r.cur[i]
							set = append(set, i)
							continue
						}
						eq, err := value.Equal(value.Materialize(r.nxt[i]), r.cur[i])
						if err != nil || !eq {
							for _, j := range set {
								r.nxt[j] = nil
							}
							return err
						}
					}
					err := next(r)
					for _, j := range set {
						r.nxt[j] = nil
					}
					return err
				}
			}
		}
	}
	return nil
}
