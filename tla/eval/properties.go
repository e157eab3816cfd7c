package eval

import (
	"errors"
	"fmt"

	"github.com/verimeter/verimeter/tla/cfg"
	"github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// liveParts is what a Machine holds for PROPERTY, fairness, SYMMETRY and VIEW.
type liveParts struct {
	specTemporal []syntax.Expr // temporal conjuncts of SPECIFICATION (fairness)
	specAssume   []texpr       // those that are not WF or SF: the antecedent of each liveness formula
	props        []check.Property
	fair         []check.Fairness
	perms        []value.Perm   // the symmetry group, identity excluded
	permSet      *value.PermSet // perms prepared for orbitHash
	view         syntax.Expr
}

var (
	_ check.PropertySystem      = (*Machine)(nil)
	_ check.Fingerprinter       = (*Machine)(nil)
	_ check.ValuesFingerprinter = (*Machine)(nil)
)

// Properties implements check.PropertySystem.
func (m *Machine) Properties() []check.Property { return m.live.props }

// Fairness implements check.PropertySystem.
func (m *Machine) Fairness() []check.Fairness { return m.live.fair }

// texpr is an expression with the environment it is to be evaluated in.
type texpr struct {
	x syntax.Expr
	e *env
}

func (m *Machine) buildLiveness(c *cfg.Config) error {
	for _, x := range m.live.specTemporal {
		var items []texpr
		if err := m.conjuncts(x, nil, &items, 0); err != nil {
			return err
		}
		for _, it := range items {
			fx, ok := unlabel(it.x).(*syntax.Fairness)
			if !ok {
				// Any other temporal conjunct (<>[][A]_v in FiniteMonotonic)
				// is assumed by each liveness property: checked as F => L.
				m.live.specAssume = append(m.live.specAssume, it)
				continue
			}
			m.live.fair = append(m.live.fair, m.fairness(fx, it.e))
		}
	}
	for _, n := range c.Properties {
		d, ok := m.defs[n.Name]
		pos := syntax.Pos{File: n.Pos.File, Line: n.Pos.Line, Col: n.Pos.Col}
		if !ok {
			return evalErr(pos, "PROPERTY %s is not defined", n.Name)
		}
		p, err := m.property(n.Name, &syntax.Ref{Node: syntax.Node{P: d.Pos}, Parts: []syntax.RefPart{{Name: n.Name}}})
		if err != nil {
			return err
		}
		m.live.props = append(m.live.props, p)
	}
	if c.Symmetry != nil {
		if err := m.buildSymmetry(c.Symmetry); err != nil {
			return err
		}
	}
	if c.View != nil {
		d, ok := m.defs[c.View.Name]
		if !ok {
			return evalErr(syntax.Pos{File: c.View.Pos.File, Line: c.View.Pos.Line, Col: c.View.Pos.Col}, "VIEW %s is not defined", c.View.Name)
		}
		m.live.view = &syntax.Ref{Node: syntax.Node{P: d.Pos}, Parts: []syntax.RefPart{{Name: c.View.Name}}}
	}
	return nil
}

// property splits a PROPERTY as TLC does: state predicates hold initially,
// [][A]_v on every step, []P in every state, the rest is liveness.
func (m *Machine) property(name string, x syntax.Expr) (check.Property, error) {
	p := check.Property{Name: name}
	var items []texpr
	if err := m.conjuncts(x, nil, &items, 0); err != nil {
		return p, err
	}
	for _, it := range items {
		it := it
		x := unlabel(it.x)
		if !m.temporalIn(x, it.e, 0) {
			if m.primed(x, it.e, 0) {
				return p, unsupported(x.At(), "action-level PROPERTY conjunct (write [][A]_v)")
			}
			p.Init = append(p.Init, check.StatePredicate{Name: name, Holds: func(s check.State) (bool, error) {
				return m.evalBool(it.x, it.e, &frame{cur: s})
			}})
			continue
		}
		if o, ok := x.(*syntax.OpApp); ok && o.Op == "[]" {
			arg := unlabel(o.Args[0])
			if b, ok := arg.(*syntax.BoxAction); ok && !b.Angle {
				p.Actions = append(p.Actions, check.ActionPredicate{Name: name, Holds: m.boxAction(b, it.e)})
				continue
			}
			if !m.temporalIn(arg, it.e, 0) && !m.primed(arg, it.e, 0) {
				p.Invariants = append(p.Invariants, check.StatePredicate{Name: name, Holds: func(s check.State) (bool, error) {
					return m.evalBool(arg, it.e, &frame{cur: s})
				}})
				continue
			}
		}
		t, err := m.temporal(it.x, it.e, 0)
		if err != nil {
			return p, err
		}
		if len(m.live.specAssume) > 0 {
			ante := &check.Temporal{Op: check.TAnd, Text: "the SPECIFICATION's temporal conjuncts"}
			for _, a := range m.live.specAssume {
				ta, err := m.temporal(a.x, a.e, 0)
				if err != nil {
					return p, err
				}
				ante.Args = append(ante.Args, ta)
			}
			t = &check.Temporal{Op: check.TImplies, Text: t.Text, Args: []*check.Temporal{ante, t}}
		}
		p.Liveness = append(p.Liveness, t)
	}
	return p, nil
}

func unlabel(x syntax.Expr) syntax.Expr {
	for {
		l, ok := x.(*syntax.Label)
		if !ok {
			return x
		}
		x = l.Body
	}
}

// defOf finds the definition a reference names (through instances), with
// the environment for its body; nil when it is not a plain definition.
func (m *Machine) defOf(r *syntax.Ref, e *env) (*syntax.Def, *env, []syntax.Expr, syntax.Expr, *env) {
	if len(r.Parts) > 1 {
		t, err := m.resolvePath(r, e, bindByName(e))
		if err != nil {
			return nil, nil, nil, nil, nil
		}
		if t.def == nil {
			return nil, nil, nil, t.expr, t.xenv
		}
		return t.def, t.denv, t.args, nil, nil
	}
	p := r.Parts[0]
	if b := findIn(e, p.Name); b != nil {
		if b.kind == eDef {
			return b.def, b.denv, p.Args, nil, nil
		}
		if b.kind == eSubst && p.Args == nil {
			return nil, nil, nil, b.arg, b.argEnv
		}
		return nil, nil, nil, nil, nil
	}
	if d, ok := m.defs[p.Name]; ok {
		return d, nil, p.Args, nil, nil
	}
	return nil, nil, nil, nil, nil
}

// expandRef returns the body of the definition r names with its arguments
// bound, or ok false.
func (m *Machine) expandRef(r *syntax.Ref, e *env) (syntax.Expr, *env, bool, error) {
	d, denv, args, x, xenv := m.defOf(r, e)
	if x != nil {
		return x, xenv, true, nil
	}
	if d == nil || d.FnBounds != nil || d.Instance != nil {
		return nil, nil, false, nil
	}
	ne, err := bindByName(e)(r.P, d, args, denv)
	if err != nil {
		return nil, nil, false, err
	}
	return d.Body, ne, true, nil
}

const maxExpand = 200

// temporalIn reports whether x contains a temporal operator, following definitions.
func (m *Machine) temporalIn(x syntax.Expr, e *env, depth int) bool {
	if depth > maxExpand {
		return false
	}
	found := false
	var walk func(x syntax.Expr, e *env)
	walk = func(x syntax.Expr, e *env) {
		if found {
			return
		}
		switch y := x.(type) {
		case *syntax.OpApp:
			if y.Op == "[]" || y.Op == "<>" || y.Op == "~>" || y.Op == "-+->" {
				found = true
				return
			}
			if y.Op == "ENABLED" {
				return
			}
		case *syntax.Fairness:
			found = true
			return
		case *syntax.Ref:
			if body, be, ok, _ := m.expandRef(y, e); ok && !recursiveBody(y, e, m) {
				if m.temporalIn(body, be, depth+1) {
					found = true
					return
				}
			}
		}
		visitChildren(x, func(c syntax.Expr) { walk(c, e) })
	}
	walk(x, e)
	return found
}

// recursiveBody avoids expanding RECURSIVE operators (never temporal).
func recursiveBody(r *syntax.Ref, e *env, m *Machine) bool {
	d, _, _, _, _ := m.defOf(r, e)
	return d != nil && d.Recursive
}

// primed reports whether x is action-level (a prime or UNCHANGED), following definitions.
func (m *Machine) primed(x syntax.Expr, e *env, depth int) bool {
	if depth > maxExpand {
		return false
	}
	found := false
	var walk func(x syntax.Expr, e *env)
	walk = func(x syntax.Expr, e *env) {
		if found {
			return
		}
		switch y := x.(type) {
		case *syntax.OpApp:
			if y.Op == "'" || y.Op == "UNCHANGED" {
				found = true
				return
			}
			if y.Op == "ENABLED" {
				return
			}
		case *syntax.BoxAction:
			found = true
			return
		case *syntax.Ref:
			if body, be, ok, _ := m.expandRef(y, e); ok && !recursiveBody(y, e, m) {
				if m.primed(body, be, depth+1) {
					found = true
					return
				}
			}
		}
		visitChildren(x, func(c syntax.Expr) { walk(c, e) })
	}
	walk(x, e)
	return found
}

// conjuncts flattens x into its conjuncts, expanding definitions and
// \A over constant sets wherever a temporal operator lies below.
func (m *Machine) conjuncts(x syntax.Expr, e *env, out *[]texpr, depth int) error {
	if depth > maxExpand {
		return unsupported(x.At(), "temporal formula nested too deeply")
	}
	x = unlabel(x)
	if !m.temporalIn(x, e, 0) {
		*out = append(*out, texpr{x, e})
		return nil
	}
	switch y := x.(type) {
	case *syntax.Junction:
		if y.Op == "/\\" {
			for _, it := range y.Items {
				if err := m.conjuncts(it, e, out, depth+1); err != nil {
					return err
				}
			}
			return nil
		}
	case *syntax.Ref:
		body, be, ok, err := m.expandRef(y, e)
		if err != nil {
			return err
		}
		if ok {
			return m.conjuncts(body, be, out, depth+1)
		}
	case *syntax.Quant:
		if y.Kind == "\\A" {
			return m.forBounds(y.Bounds, 0, e, &frame{}, func(e2 *env) error {
				return m.conjuncts(y.Body, e2, out, depth+1)
			})
		}
	}
	*out = append(*out, texpr{x, e})
	return nil
}

// temporal compiles a temporal formula for the checker.
func (m *Machine) temporal(x syntax.Expr, e *env, depth int) (*check.Temporal, error) {
	if depth > maxExpand {
		return nil, unsupported(x.At(), "temporal formula nested too deeply")
	}
	x = unlabel(x)
	text := x.At().String()
	if !m.temporalIn(x, e, 0) {
		if m.primed(x, e, 0) {
			return &check.Temporal{Op: check.TAction, Text: text, Action: func(s, t check.State) (bool, error) {
				return m.evalBool(x, e, &frame{cur: s, nxt: t})
			}}, nil
		}
		return &check.Temporal{Op: check.TState, Text: text, State: func(s check.State) (bool, error) {
			return m.evalBool(x, e, &frame{cur: s})
		}}, nil
	}
	node := func(op check.TemporalOp, xs ...syntax.Expr) (*check.Temporal, error) {
		t := &check.Temporal{Op: op, Text: text}
		for _, a := range xs {
			ta, err := m.temporal(a, e, depth+1)
			if err != nil {
				return nil, err
			}
			t.Args = append(t.Args, ta)
		}
		return t, nil
	}
	switch y := x.(type) {
	case *syntax.Junction:
		if y.Op == "/\\" {
			return node(check.TAnd, y.Items...)
		}
		return node(check.TOr, y.Items...)
	case *syntax.OpApp:
		switch y.Op {
		case "~":
			return node(check.TNot, y.Args...)
		case "=>":
			return node(check.TImplies, y.Args...)
		case "<=>":
			a, err := node(check.TImplies, y.Args[0], y.Args[1])
			if err != nil {
				return nil, err
			}
			b, err := node(check.TImplies, y.Args[1], y.Args[0])
			if err != nil {
				return nil, err
			}
			return &check.Temporal{Op: check.TAnd, Args: []*check.Temporal{a, b}, Text: text}, nil
		case "~>":
			return node(check.TLeadsTo, y.Args...)
		case "[]", "<>":
			op := check.TAlways
			if y.Op == "<>" {
				op = check.TEventually
			}
			if b, ok := unlabel(y.Args[0]).(*syntax.BoxAction); ok {
				var pred func(s, t check.State) (bool, error)
				if b.Angle {
					pred = m.angleAction(b.Action, b.Sub, e)
				} else {
					pred = m.boxAction(b, e)
				}
				return &check.Temporal{Op: op, Text: text, Args: []*check.Temporal{{Op: check.TAction, Text: text, Action: pred}}}, nil
			}
			return node(op, y.Args...)
		}
	case *syntax.Fairness:
		return m.temporalFairness(y, e, text)
	case *syntax.Ref:
		body, be, ok, err := m.expandRef(y, e)
		if err != nil {
			return nil, err
		}
		if ok {
			return m.temporal(body, be, depth+1)
		}
	case *syntax.Quant:
		if t, err := m.temporalQuant(y, e, depth, text); t != nil || err != nil {
			return t, err
		}
	case *syntax.Let:
		return m.temporal(y.Body, m.letEnv(y, e), depth+1)
	case *syntax.If:
		if t, err := m.temporalIf(y, e, depth, text); t != nil || err != nil {
			return t, err
		}
	}
	return nil, unsupported(x.At(), fmt.Sprintf("temporal formula %T in a PROPERTY", x))
}

// boxAction is [A]_v on a step: A or v unchanged.
func (m *Machine) boxAction(b *syntax.BoxAction, e *env) func(s, t check.State) (bool, error) {
	return func(s, t check.State) (bool, error) {
		same, err := m.unchangedSub(b.Sub, e, s, t)
		if err != nil || same {
			return same, err
		}
		return m.evalBool(b.Action, e, &frame{cur: s, nxt: t})
	}
}

// angleAction is <<A>>_v on a step: A and v changed.
func (m *Machine) angleAction(a, sub syntax.Expr, e *env) func(s, t check.State) (bool, error) {
	return m.angle(a, sub, e).Step
}

// angle is <<A>>_v in its parts: v in a state, v unchanged, A on a step.
func (m *Machine) angle(a, sub syntax.Expr, e *env) *check.AngleStep {
	return &check.AngleStep{
		Sub: func(s check.State) (value.Value, error) { return m.eval(sub, e, &frame{cur: s}) },
		Same: func(x, y value.Value) (bool, error) {
			eq, err := value.Equal(x, y)
			return eq, wrap(sub.At(), err)
		},
		Act: func(s, t check.State) (bool, error) { return m.evalBool(a, e, &frame{cur: s, nxt: t}) },
	}
}

func (m *Machine) unchangedSub(sub syntax.Expr, e *env, s, t check.State) (bool, error) {
	a, err := m.eval(sub, e, &frame{cur: s})
	if err != nil {
		return false, err
	}
	b, err := m.eval(sub, e, &frame{cur: t})
	if err != nil {
		return false, err
	}
	eq, err := value.Equal(a, b)
	return eq, wrap(sub.At(), err)
}

// fairness compiles WF_v(A) or SF_v(A).
func (m *Machine) fairness(fx *syntax.Fairness, e *env) check.Fairness {
	ang := m.angle(fx.Action, fx.Sub, e)
	return check.Fairness{
		Name:   fmt.Sprintf("%s_ at %s", fx.Kind, fx.P),
		Strong: fx.Kind == "SF",
		Enabled: func(s check.State) (bool, error) {
			ok, err := m.enabledAngle(fx.Action, fx.Sub, e, s)
			if errors.Is(err, ErrUnassigned) {
				return false, fmt.Errorf("%w: %w", check.ErrEnabledBySuccessors, err)
			}
			return ok, err
		},
		Step:  ang.Step,
		Angle: ang,
	}
}

var errFound = errors.New("found")

// ErrUnassigned is wrapped when an expression reads a variable that has no
// value where it is evaluated (x' before x' is assigned). ENABLED <<A>>_v
// of a fairness condition whose A reads such primed expressions (an
// instance substituting an expression for a variable) is then decided by
// the checker on the state graph (check.ErrEnabledBySuccessors).
var ErrUnassigned = fmt.Errorf("%w: variable without a value", ErrEval)

// enabledAngle is ENABLED <<A>>_v in state s: some successor by A changes v.
func (m *Machine) enabledAngle(a, sub syntax.Expr, e *env, s check.State) (bool, error) {
	v0, err := m.eval(sub, e, &frame{cur: s})
	if err != nil {
		return false, err
	}
	p := m.action(a, e)
	r := &rt{cur: s, nxt: make([]value.Value, len(m.vars)), slots: make([]value.Value, p.n)}
	r.emit = func(nxt []value.Value, _ int) error {
		full := make([]value.Value, len(nxt))
		for i := range nxt {
			full[i] = nxt[i]
			if full[i] == nil {
				full[i] = s[i]
			}
		}
		v1, err := m.eval(sub, e, &frame{cur: full})
		if err != nil {
			return err
		}
		eq, err := value.Equal(v0, v1)
		if err != nil {
			return err
		}
		if !eq {
			return errFound
		}
		return nil
	}
	err = p.run(r)
	if err == errFound {
		return true, nil
	}
	return false, err
}

// enabled compiles ENABLED A (and ENABLED <<A>>_v) in an expression: A is
// compiled as an action in the same scope and run from the current state
// into a fresh next state, sharing the activation's slots.
func (s scope) enabled(x *syntax.OpApp) evalFn {
	arg := unlabel(x.Args[0])
	t := s
	t.primed, t.init = false, false
	var sub evalFn
	if b, ok := arg.(*syntax.BoxAction); ok && b.Angle {
		arg = b.Action
		sub = t.expr(b.Sub)
	}
	run := t.act(arg, "", false, emitLeaf())
	s.fl.state, s.fl.next = true, true // not constant
	nvars := len(s.c.m.vars)
	pos := x.P
	return func(r *rt) (value.Value, error) {
		if r.cur == nil {
			return nil, evalErr(pos, "ENABLED needs a state")
		}
		var v0 value.Value
		if sub != nil {
			var err error
			if v0, err = sub(r); err != nil {
				return nil, err
			}
		}
		r2 := *r
		r2.nxt, r2.noLevel = make([]value.Value, nvars), true
		r2.emit = func(nxt []value.Value, _ int) error {
			if sub == nil {
				return errFound
			}
			full := make([]value.Value, len(nxt))
			for i := range nxt {
				full[i] = nxt[i]
				if full[i] == nil {
					full[i] = r.cur[i]
				}
			}
			r3 := *r
			r3.cur, r3.noLevel = full, true
			v1, err := sub(&r3)
			if err != nil {
				return err
			}
			eq, err := value.Equal(v0, v1)
			if err != nil {
				return wrap(pos, err)
			}
			if !eq {
				return errFound
			}
			return nil
		}
		err := run(&r2)
		if err == errFound {
			return value.True, nil
		}
		return value.False, err
	}
}

// forBounds calls fn with e extended by every combination of values of the
// bounds (constant sets, evaluated before the search).
func (m *Machine) forBounds(bs []syntax.Bound, i int, e *env, f *frame, fn func(*env) error) error {
	if i == len(bs) {
		return fn(e)
	}
	b := bs[i]
	if b.Set == nil {
		return unsupported(syntax.Pos{}, "unbounded quantifier")
	}
	v, err := m.eval(b.Set, e, f)
	if err != nil {
		return err
	}
	set, ok := v.(value.SetValue)
	if !ok {
		return evalErr(b.Set.At(), "expected a set, got %s", v)
	}
	elems, err := set.Enumerate()
	if err != nil {
		return wrap(b.Set.At(), err)
	}
	if b.Tuple {
		for j := 0; j < elems.Len(); j++ {
			t, ok := elems.At(j).(*value.Func)
			if !ok || !t.IsSeq() || t.Len() != len(b.Names) {
				return evalErr(b.Set.At(), "%s does not match <<%d names>>", elems.At(j), len(b.Names))
			}
			e2 := e
			for k, n := range b.Names {
				e2 = &bind{name: n, kind: eConst, cval: t.RangeAt(k), next: e2}
			}
			if err := m.forBounds(bs, i+1, e2, f, fn); err != nil {
				return err
			}
		}
		return nil
	}
	var names func(k int, e *env) error
	names = func(k int, e *env) error {
		if k == len(b.Names) {
			return m.forBounds(bs, i+1, e, f, fn)
		}
		for j := 0; j < elems.Len(); j++ {
			if err := names(k+1, &bind{name: b.Names[k], kind: eConst, cval: elems.At(j), next: e}); err != nil {
				return err
			}
		}
		return nil
	}
	return names(0, e)
}

// letEnv brings the definitions of a LET in a temporal formula into scope,
// as definitions expanded where used.
func (m *Machine) letEnv(x *syntax.Let, e *env) *env {
	for _, d := range x.Defs {
		n := &bind{name: d.Name, kind: eDef, def: d, next: e}
		n.denv = n
		e = n
	}
	return e
}

// temporalFairness is WF/SF as TLC checks it: []<>~ENABLED \/ []<>A for
// weak fairness, <>[]~ENABLED \/ []<>A for strong.
func (m *Machine) temporalFairness(y *syntax.Fairness, e *env, text string) (*check.Temporal, error) {
	f := m.fairness(y, e)
	en := &check.Temporal{Op: check.TState, Text: text + " (ENABLED)", State: f.Enabled, Angle: f.Angle}
	step := &check.Temporal{Op: check.TAction, Text: text, Action: f.Step}
	notEn := &check.Temporal{Op: check.TNot, Args: []*check.Temporal{en}}
	inf := &check.Temporal{Op: check.TAlways, Args: []*check.Temporal{{Op: check.TEventually, Args: []*check.Temporal{step}}}}
	var dis *check.Temporal
	if f.Strong {
		dis = &check.Temporal{Op: check.TEventually, Args: []*check.Temporal{{Op: check.TAlways, Args: []*check.Temporal{notEn}}}}
	} else {
		dis = &check.Temporal{Op: check.TAlways, Args: []*check.Temporal{{Op: check.TEventually, Args: []*check.Temporal{notEn}}}}
	}
	return &check.Temporal{Op: check.TOr, Text: text, Args: []*check.Temporal{dis, inf}}, nil
}

// temporalQuant expands \A and \E over a temporal body into a conjunction
// or disjunction; nil, nil for other quantifiers.
func (m *Machine) temporalQuant(y *syntax.Quant, e *env, depth int, text string) (*check.Temporal, error) {
	if y.Kind == "\\A" || y.Kind == "\\E" {
		op := check.TAnd
		if y.Kind == "\\E" {
			op = check.TOr
		}
		t := &check.Temporal{Op: op, Text: text}
		err := m.forBounds(y.Bounds, 0, e, &frame{}, func(e2 *env) error {
			a, err := m.temporal(y.Body, e2, depth+1)
			if err == nil {
				t.Args = append(t.Args, a)
			}
			return err
		})
		return t, err
	}
	return nil, nil
}

// temporalIf is IF c THEN A ELSE B as (c /\ A) \/ (~c /\ B), c a state
// predicate; nil, nil when c is temporal.
func (m *Machine) temporalIf(y *syntax.If, e *env, depth int, text string) (*check.Temporal, error) {
	if m.temporalIn(y.Cond, e, 0) {
		return nil, nil
	}
	c, err := m.temporal(y.Cond, e, depth+1)
	if err != nil {
		return nil, err
	}
	c2, err := m.temporal(y.Cond, e, depth+1) // a tree: each node has one parent
	if err != nil {
		return nil, err
	}
	a, err := m.temporal(y.Then, e, depth+1)
	if err != nil {
		return nil, err
	}
	b, err := m.temporal(y.Else, e, depth+1)
	if err != nil {
		return nil, err
	}
	notC := &check.Temporal{Op: check.TNot, Text: text, Args: []*check.Temporal{c2}}
	return &check.Temporal{Op: check.TOr, Text: text, Args: []*check.Temporal{
		{Op: check.TAnd, Text: text, Args: []*check.Temporal{c, a}},
		{Op: check.TAnd, Text: text, Args: []*check.Temporal{notC, b}},
	}}, nil
}
