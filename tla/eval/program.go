package eval

import (
	"fmt"
	"sync"

	"github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// program is a Machine's compiled code: Init and Next as action
// enumerators, and every predicate evaluated from outside (invariants,
// constraints, ASSUME), compiled on first use.
type program struct {
	once, cOnce  sync.Once
	c            *compiler
	init, next   runFn
	initN, nextN int
	names        []string
	preds        sync.Map // predKey -> *compiledPred
	acts         sync.Map // predKey -> *compiledAct
	argActs      sync.Map // name and canonical arguments -> *compiledAct (ActionSuccessors)
	mu           sync.Mutex
}

type predKey struct {
	x    syntax.Expr
	init bool
	env  *env
}

type compiledPred struct {
	fn evalFn
	n  int
}

func (m *Machine) compiler() *compiler {
	m.prog.cOnce.Do(func() { m.prog.c = newCompiler(m) })
	return m.prog.c
}

// actions compiles Init and Next (once Build has found them).
func (m *Machine) actions() {
	m.prog.once.Do(func() {
		c := m.compiler()
		m.prog.mu.Lock()
		defer m.prog.mu.Unlock()
		leaf := func(what string) *kont {
			return &kont{f: func(name string) runFn {
				id := c.actionID(name)
				pos := m.next.At()
				if what == "init" {
					pos = m.init.At()
				}
				return func(r *rt) error {
					for i, v := range r.nxt {
						if v == nil {
							if what == "init" {
								return evalErr(pos, "the initial predicate does not determine %s", m.vars[i])
							}
							return evalErr(pos, "action %s does not determine %s'", name, m.vars[i])
						}
					}
					return r.emit(r.nxt, id)
				}
			}}
		}
		if m.init != nil {
			t := c.top(true)
			m.prog.init = t.act(m.init, "", false, leaf("init"))
			m.prog.initN = t.units[0].n
		}
		if m.next != nil {
			t := c.top(false)
			m.prog.next = t.act(m.next, "", true, leaf("next"))
			m.prog.nextN = t.units[0].n
		}
		m.prog.names = c.actions
	})
}

// pred returns x compiled as a predicate (in Init mode, unprimed variables
// are read from the next state), in the scope e (nil: the root module's).
func (m *Machine) pred(x syntax.Expr, init bool, e *env) *compiledPred {
	key := predKey{x, init, e}
	if p, ok := m.prog.preds.Load(key); ok {
		return p.(*compiledPred)
	}
	c := m.compiler()
	m.prog.mu.Lock() // compilation is not concurrent
	defer m.prog.mu.Unlock()
	if p, ok := m.prog.preds.Load(key); ok {
		return p.(*compiledPred)
	}
	t := c.top(init)
	t.env = e
	p := &compiledPred{fn: t.expr(x)}
	p.n = t.units[0].n
	m.prog.preds.Store(key, p)
	return p
}

// frame is the state an expression is evaluated in from outside the
// compiled code: the current state and the next one (both may be nil).
type frame struct {
	cur, nxt []value.Value
	init     bool
}

// env is the scope of an expression evaluated from outside: nil for the
// root module, else bindings made before compilation (instances, and the
// bound names and arguments of a property's expanded definitions: eScope,
// eDef, eSubst and eConst only, never slots).
type env = bind

func (m *Machine) eval(x syntax.Expr, e *env, f *frame) (value.Value, error) {
	return m.run(m.pred(x, f.init, e), f.cur, f.nxt, nil)
}

// run evaluates p on the states cur and nxt in an activation of the
// machine's pool: an invariant or a constraint is evaluated on every new
// state, and its activation (slots included) would be garbage right after.
// No value keeps an activation: a lazily filtered set copies the one it is
// built in (lazyFilter).
func (m *Machine) run(p *compiledPred, cur, nxt []value.Value, memo *value.WorkerMemo) (value.Value, error) {
	r, _ := m.predRT.Get().(*rt)
	if r == nil {
		r = &rt{}
	}
	if cap(r.slots) < p.n {
		r.slots = make([]value.Value, p.n)
	}
	r.slots = r.slots[:p.n]
	r.cur, r.nxt, r.memo = cur, nxt, memo
	v, err := p.fn(r)
	clear(r.slots)
	*r = rt{slots: r.slots[:0]}
	m.predRT.Put(r)
	return v, err
}

func (m *Machine) evalBool(x syntax.Expr, e *env, f *frame) (bool, error) {
	v, err := m.eval(x, e, f)
	return asBool(x, v, err)
}

// asBool is the value v of x (or its error err) as a boolean.
func asBool(x syntax.Expr, v value.Value, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	b, ok := v.(value.Bool)
	if !ok {
		return false, evalErr(x.At(), "expected a boolean, got %s", v)
	}
	return bool(b), nil
}

type compiledAct struct {
	run runFn
	n   int
}

// action returns x compiled as an action in scope e, whose run calls r.emit
// with every (partial) next state it allows: ENABLED of a property or of
// fairness.
func (m *Machine) action(x syntax.Expr, e *env) *compiledAct {
	key := predKey{x, false, e}
	if p, ok := m.prog.acts.Load(key); ok {
		return p.(*compiledAct)
	}
	c := m.compiler()
	m.prog.mu.Lock()
	defer m.prog.mu.Unlock()
	if p, ok := m.prog.acts.Load(key); ok {
		return p.(*compiledAct)
	}
	a := compileAction(c, x, e)
	m.prog.acts.Store(key, a)
	return a
}

// compileAction compiles x with c as action does, without keeping it (the
// caller holds m.prog.mu).
func compileAction(c *compiler, x syntax.Expr, e *env) *compiledAct {
	t := c.top(false)
	t.env = e
	a := &compiledAct{run: t.act(x, "", false, emitLeaf())}
	a.n = t.units[0].n
	return a
}

// emitLeaf is the continuation that reports the next state as it is.
func emitLeaf() *kont {
	return &kont{f: func(string) runFn {
		return func(r *rt) error { return r.emit(r.nxt, 0) }
	}}
}

func (m *Machine) initStates(emit func(check.State) error) error {
	m.actions()
	r := &rt{nxt: make([]value.Value, len(m.vars)), slots: make([]value.Value, m.prog.initN)}
	r.emit = func(nxt []value.Value, _ int) error { return emit(append(check.State(nil), nxt...)) }
	return m.prog.init(r)
}

// ActionNames lists the action names NextInto reports by index (TLC's
// names: the operator of each disjunct of Next); it implements
// check.BufferedSystem.
func (m *Machine) ActionNames() []string {
	m.actions()
	return m.prog.names
}

// NextInto enumerates the successors of s like Next, into one buffer reused
// from one successor to the next (valid only during emit), so that the
// checker can reject a duplicate before anything is allocated for it; it
// implements check.BufferedSystem.
func (m *Machine) NextInto(s check.State, emit func(check.State, int) error) error {
	return m.nextInto(s, emit, nil)
}

// NextIntoPending is NextInto, except that a successor may hold values
// made in a (x' = S \cup {e} as a value.Pending, the copies of x' = [f
// EXCEPT ...]): the checker fingerprints it as it is and materializes it
// only if it is new; it implements check.PendingSystem.
func (m *Machine) NextIntoPending(s check.State, emit func(check.State, int) error, a *value.Arena) error {
	a.Begin()
	return m.nextInto(s, emit, a)
}

// nextInto is NextInto, with successor values made in a if not nil.
func (m *Machine) nextInto(s check.State, emit func(check.State, int) error, a *value.Arena) error {
	m.actions()
	r, _ := m.nextRT.Get().(*rt)
	if r == nil {
		r = &rt{nxt: make([]value.Value, len(m.vars)), slots: make([]value.Value, m.prog.nextN)}
		// made once per activation, not per call: it calls this call's emit
		r.emit = func(nxt []value.Value, action int) error { return r.sink(check.State(nxt), action) }
	}
	r.cur, r.sink, r.arena, r.memo = s, emit, a, a.Memo()
	err := m.prog.next(r)
	// The activation goes back to the pool holding no values (its slots
	// would keep the state's values alive) and no emit.
	r.cur, r.sink, r.arena, r.memo = nil, nil, nil, nil
	clear(r.nxt)
	clear(r.slots)
	m.nextRT.Put(r)
	return err
}

// Str is s interned in the machine's table, equal to the machine's own
// values of s (strings are interned per machine, in TLC's order of first
// sighting); tools that build values to hand back to the machine use it.
func (m *Machine) Str(s string) value.Str { return m.strs.String(s) }

// ActionSuccessors enumerates the successors of s by the root module's
// definition name applied to args, taken as an action. Next's successors
// name the action each came from but not its arguments; a differential
// test of a generated machine asks whether the action is enabled for the
// very arguments an event carries, and what it then leads to. Variables
// the action leaves unassigned keep their values from s.
func (m *Machine) ActionSuccessors(name string, args []value.Value, s check.State, emit func(check.State) error) error {
	d, ok := m.defs[name]
	if !ok {
		return fmt.Errorf("%w: no definition %s", ErrEval, name)
	}
	if len(d.Params) != len(args) {
		return fmt.Errorf("%w: %s takes %d arguments, got %d", ErrEval, name, len(d.Params), len(args))
	}
	key := name
	for _, a := range args {
		key += "\x00" + value.Canonical(a)
	}
	var p *compiledAct
	if c, ok := m.prog.argActs.Load(key); ok {
		p = c.(*compiledAct)
	} else {
		// The arguments are bound as constants, so each distinct argument
		// list compiles once.
		var e *env
		part := syntax.RefPart{Name: name}
		for i, a := range args {
			n := fmt.Sprintf("action argument %d", i+1) // not an identifier: cannot clash with the module's names
			e = &bind{name: n, kind: eConst, cval: a, next: e}
			part.Args = append(part.Args, &syntax.Ref{Node: syntax.Node{P: d.Pos}, Parts: []syntax.RefPart{{Name: n}}})
		}
		x := &syntax.Ref{Node: syntax.Node{P: d.Pos}, Parts: []syntax.RefPart{part}}
		p = m.action(x, e)
		m.prog.argActs.Store(key, p)
	}
	r := &rt{cur: s, nxt: make([]value.Value, len(m.vars)), slots: make([]value.Value, p.n)}
	r.emit = func(nxt []value.Value, _ int) error {
		full := make(check.State, len(nxt))
		for i := range nxt {
			full[i] = nxt[i]
			if full[i] == nil {
				full[i] = s[i]
			}
		}
		return emit(full)
	}
	return p.run(r)
}
