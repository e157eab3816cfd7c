package eval

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// The evaluator compiles every expression once into Go closures. Names are
// resolved at compile time: bound identifiers, LET values and @ live in
// slots of an activation record (rt), operator calls are expanded in place
// (TLA+ passes arguments by name, which is substitution), so only recursive
// operators and functions create activations at run time. Compilation never
// fails: a construct that cannot be evaluated compiles to a closure that
// reports the error when (and only if) it is evaluated.

// rt is one activation: the states, the slots of the compiled unit and the
// activation it is nested in (for recursive definitions inside LET).
type rt struct {
	cur, nxt []value.Value
	slots    []value.Value
	up       *rt
	depth    int
	emit     func(nxt []value.Value, action int) error
	sink     func(check.State, int) error // NextInto's caller, which its emit calls
	outer    [][]value.Value              // the states before the steps of open \cdot compositions
	// arena, for the checker (NextIntoPending): an assignment x' = e may
	// leave in nxt a value made in it (a union S \cup {e} unbuilt, the
	// copies of an EXCEPT); every read of nxt materializes it.
	arena *value.Arena
	// memo is the checker's worker's memory of the sets it asks (its
	// arena's, or the one it gives an invariant), nil for other callers.
	memo *value.WorkerMemo
	// noLevel marks an evaluation whose states' levels are not the
	// checker's now (tlcLevel): the copy a lazily filtered set evaluates
	// its predicate in, later; ENABLED's action and subscript.
	noLevel bool
}

type evalFn func(r *rt) (value.Value, error)
type runFn func(r *rt) error

// unit counts the slots of one kind of activation.
type unit struct{ n int }

func (u *unit) alloc() int { u.n++; return u.n - 1 }

type bindKind uint8

const (
	eSlot  bindKind = iota // bound identifier or @: a slot
	eParam                 // operator parameter: the argument, compiled where used
	eLet                   // LET definition
	eScope                 // the names of a module instance (mod)
	eDef                   // a definition of a module instance (or a LET of a property), body in denv
	eSubst                 // by name: arg compiled in argEnv where used (instance substitutions, property arguments)
	eConst                 // a value fixed before compilation (a property's \A over a constant set)
)

type bind struct {
	name   string
	kind   bindKind
	level  int
	slot   int
	arg    syntax.Expr // eParam
	argSc  *scope      // eParam: the caller's scope; eLet: the LET's scope
	def    *syntax.Def // eLet
	cache  int         // eLet of arity 0: slot caching its value
	rec    *recUnit    // eLet with function bounds or RECURSIVE: compiled on first use
	val    evalFn      // eLet cached value, compiled on first use
	valFl  *flags      // what val reads
	mod    *modScope   // eScope
	denv   *bind       // eDef: the scope of the definition's body
	argEnv *bind       // eSubst: the scope of arg (built before compilation: no slots)
	cval   value.Value // eConst
	memo   int         // eParam: 1 + the caller's slot caching the argument's value (0: none)
	next   *bind
}

// flags record what compiled code reads, to decide what may be cached: the
// current or next state, the lowest slot (level, then index) read, and
// whether it prints.
type flags struct {
	state, next, impure bool
	lowLevel, lowSlot   int
}

func newFlags() *flags { return &flags{lowLevel: 1 << 30} }

func (f *flags) readSlot(level, slot int) {
	if level < f.lowLevel || level == f.lowLevel && slot < f.lowSlot {
		f.lowLevel, f.lowSlot = level, slot
	}
}

// constant reports whether code compiled with these flags, at level
// with mark slots allocated before it, gives the same value wherever it
// runs: it reads no state, prints nothing and reads no slot bound
// outside it.
func (f *flags) constant(level, mark int) bool {
	return !(f.state || f.next || f.impure || f.lowLevel < level || f.lowLevel == level && f.lowSlot < mark)
}

func (f *flags) merge(o *flags) {
	if f == o {
		return
	}
	f.state = f.state || o.state
	f.next = f.next || o.next
	f.impure = f.impure || o.impure
	f.readSlot(o.lowLevel, o.lowSlot)
}

// hoist compiles x and, when it reads no state and no slot bound outside
// it, evaluates it once (on first use) and shares the value.
func (s scope) hoist(x syntax.Expr) evalFn {
	mark, level := s.unit().n, s.level
	t := s
	t.fl = newFlags()
	fn := t.expr1(x)
	s.fl.merge(t.fl)
	if !t.fl.constant(level, mark) {
		return fn
	}
	var cached atomic.Pointer[constVal]
	var once sync.Once
	return func(r *rt) (value.Value, error) {
		if p := cached.Load(); p != nil {
			return p.v, p.err
		}
		once.Do(func() {
			v, err := fn(r)
			cached.Store(&constVal{v, err})
		})
		p := cached.Load()
		return p.v, p.err
	}
}

// scope is the compile-time context of an expression.
type scope struct {
	c      *compiler
	env    *bind
	level  int
	units  []*unit // units[level]
	primed bool
	init   bool
	fl     *flags
	inline int
	// noProbe: conjunctions compile no probe for a next state whose
	// variables all have values (conj), as inside such a probe.
	noProbe bool
}

func (s scope) unit() *unit { return s.units[s.level] }

func (s scope) find(name string) *bind {
	return findIn(s.env, name)
}

// findIn looks name up in a chain of bindings; a module instance's node
// (eScope) holds all of its names at once.
func findIn(env *bind, name string) *bind {
	for e := env; e != nil; e = e.next {
		if e.kind == eScope {
			if b, ok := e.mod.names[name]; ok {
				return b
			}
			continue
		}
		if e.name == name {
			return e
		}
	}
	return nil
}

func (s scope) bindSlot(name string) (scope, int) {
	k := s.unit().alloc()
	s.env = &bind{name: name, kind: eSlot, level: s.level, slot: k, next: s.env}
	return s, k
}

// compiler holds what is shared by every compilation of a Machine.
type compiler struct {
	m       *Machine
	mu      sync.Mutex
	consts  map[constKey]*constDef
	recs    map[constKey]*recUnit
	srecs   map[scopedKey]*recUnit
	actions []string
	actIdx  map[string]int
}

type constKey struct {
	d            *syntax.Def
	primed, init bool
}

// constDef is a top-level definition without parameters: evaluated once if
// it reads no variable (a constant-level definition), else expanded in place.
type constDef struct {
	isConst bool
	fn      evalFn
	once    sync.Once
	v       atomic.Pointer[constVal]
}

type constVal struct {
	v   value.Value
	err error
}

// recUnit is a recursive operator or a function definition f[x \in S] == e,
// evaluated in its own activation.
type recUnit struct {
	def      *syntax.Def
	defLevel int // level of the scope defining it (-1 at top level)
	u        *unit
	dom      evalFn // for functions
	body     evalFn
	argSlot  int // a function's bound name (after the domain's slots)
	// at applies the function value of the body to an argument without
	// building it, when the body is a function constructor (f[n][x, y] in
	// a recursive definition: TLC's functions are lazy there too).
	at func(r *rt, a value.Value) (value.Value, error)
	fl flags
	// memo keeps a constant top-level function's values (constfn.go).
	memo fnMemo
}

func newCompiler(m *Machine) *compiler {
	return &compiler{m: m, consts: map[constKey]*constDef{}, recs: map[constKey]*recUnit{}, actIdx: map[string]int{}}
}

func (c *compiler) actionID(name string) int {
	if i, ok := c.actIdx[name]; ok {
		return i
	}
	c.actIdx[name] = len(c.actions)
	c.actions = append(c.actions, name)
	return len(c.actions) - 1
}

// top returns a scope for a new top-level unit.
func (c *compiler) top(init bool) scope {
	return scope{c: c, units: []*unit{{}}, init: init, fl: newFlags()}
}

func errFn(err error) evalFn { return func(*rt) (value.Value, error) { return nil, err } }

func constFn(v value.Value) evalFn { return func(*rt) (value.Value, error) { return v, nil } }

// upTo returns fn, compiled at level from, adjusted to run at level to >= from.
func upTo(fn evalFn, from, to int) evalFn {
	d := to - from
	if d <= 0 {
		return fn
	}
	return func(r *rt) (value.Value, error) {
		for i := 0; i < d; i++ {
			r = r.up
		}
		return fn(r)
	}
}

func (s scope) slotRead(level, slot int) evalFn {
	s.fl.readSlot(level, slot)
	at := s.level
	d := at - level
	if d == 0 {
		return func(r *rt) (value.Value, error) { return r.slots[slot], nil }
	}
	return func(r *rt) (value.Value, error) {
		for i := 0; i < d; i++ {
			r = r.up
		}
		return r.slots[slot], nil
	}
}

const maxInline = 400

// expr compiles x in value context; constant subexpressions are evaluated
// once.
func (s scope) expr(x syntax.Expr) evalFn {
	switch y := x.(type) {
	case *syntax.Num, *syntax.Str, *syntax.AtSign, *syntax.Label:
		return s.expr1(x)
	case *syntax.Ref:
		if len(y.Parts) == 1 && y.Parts[0].Args == nil {
			return s.expr1(x)
		}
	}
	return s.hoist(x)
}

func (s scope) expr1(x syntax.Expr) evalFn {
	m := s.c.m
	switch x := x.(type) {
	case *syntax.Num:
		n, err := strconv.ParseInt(x.Text, 10, 32)
		if err != nil {
			return errFn(unsupported(x.P, "number "+x.Text+" (32-bit decimal integers only)"))
		}
		return constFn(value.Int(n))
	case *syntax.Str:
		return constFn(m.strs.String(x.Val))
	case *syntax.AtSign:
		e := s.find("@")
		if e == nil {
			return errFn(evalErr(x.P, "@ outside EXCEPT"))
		}
		return s.slotRead(e.level, e.slot)
	case *syntax.Ref:
		return s.ref(x)
	case *syntax.OpApp:
		return s.opApp(x)
	case *syntax.Label:
		return s.expr(x.Body)
	case *syntax.Junction:
		return s.exprJunction(x)
	case *syntax.If:
		return s.exprIf(x)
	case *syntax.Case:
		return s.exprCase(x)
	case *syntax.Let:
		return s.exprLet(x)
	case *syntax.Quant:
		return s.quant(x)
	case *syntax.SetEnum:
		return s.exprSetEnum(x)
	case *syntax.SetFilter:
		return s.exprSetFilter(x)
	case *syntax.SetMap:
		return s.exprSetMap(x)
	case *syntax.Tuple:
		return s.exprTuple(x)
	case *syntax.FuncCons:
		return s.funcCons(x.P, x.Bounds, x.Body)
	case *syntax.FuncSet:
		return s.exprFuncSet(x)
	case *syntax.Record:
		return s.exprRecord(x)
	case *syntax.RecordSet:
		return s.exprRecordSet(x)
	case *syntax.Times:
		return s.exprTimes(x)
	case *syntax.Except:
		return s.except(x)
	case *syntax.Apply:
		return s.apply(x)
	case *syntax.Dot:
		return s.exprDot(x)
	case *syntax.BoxAction:
		return s.expr(boxActionExpr(x))
	}
	return errFn(unsupported(x.At(), fmt.Sprintf("expression %T", x)))
}

func (s scope) exprs(xs []syntax.Expr) []evalFn {
	out := make([]evalFn, len(xs))
	for i, x := range xs {
		out[i] = s.expr(x)
	}
	return out
}

func evalAll(r *rt, fs []evalFn) ([]value.Value, error) {
	vs := make([]value.Value, len(fs))
	for i, f := range fs {
		v, err := f(r)
		if err != nil {
			return nil, err
		}
		vs[i] = v
	}
	return vs, nil
}

func (s scope) boolean(x syntax.Expr) func(*rt) (bool, error) {
	if b := s.booleanOp(x); b != nil {
		return b
	}
	f := s.expr(x)
	pos := x.At()
	return func(r *rt) (bool, error) {
		v, err := f(r)
		if err != nil {
			return false, err
		}
		b, ok := v.(value.Bool)
		if !ok {
			return false, evalErr(pos, "expected a boolean, got %s", v)
		}
		return bool(b), nil
	}
}

func (s scope) set(x syntax.Expr) func(*rt) (value.SetValue, error) {
	f := s.expr(x)
	pos := x.At()
	return func(r *rt) (value.SetValue, error) {
		v, err := f(r)
		if err != nil {
			return nil, err
		}
		st, ok := v.(value.SetValue)
		if !ok {
			return nil, evalErr(pos, "expected a set, got %s", v)
		}
		return st, nil
	}
}

// argValue compiles f[a] or f[a, b] (a tuple) arguments.
func (s scope) argValue(args []syntax.Expr) evalFn {
	if len(args) == 1 {
		return s.expr(args[0])
	}
	fs := s.exprs(args)
	return func(r *rt) (value.Value, error) {
		vs, err := evalAll(r, fs)
		if err != nil {
			return nil, err
		}
		return value.Tuple(vs...), nil
	}
}

// bindBound binds the names of one bound to fresh slots.
func (s scope) bindBound(b syntax.Bound) (scope, []int) {
	slots := make([]int, len(b.Names))
	for i, n := range b.Names {
		s, slots[i] = s.bindSlot(n)
	}
	return s, slots
}

func assignBound(r *rt, pos syntax.Pos, tuple bool, slots []int, v value.Value) error {
	if !tuple {
		r.slots[slots[0]] = v
		return nil
	}
	fn, ok := v.(*value.Func)
	if !ok || fn.Len() != len(slots) || !fn.IsSeq() {
		return evalErr(pos, "%s does not match <<%d names>>", v, len(slots))
	}
	for i, k := range slots {
		r.slots[k] = fn.RangeAt(i)
	}
	return nil
}

// binder enumerates the values of bounds x \in S, y \in T in TLC's order.
type binder struct {
	sets   []func(*rt) (value.SetValue, error)
	slots  [][]int
	tuple  []bool
	pos    []syntax.Pos
	single bool // one bound with one name (functions key on the value itself)
	all    []int
	// pre, when set (single only), skips the elements for which the body
	// is certainly FALSE, as visit would have taken them: preStop is what
	// visit returns for a FALSE body (true for \A, which stops there).
	pre     pretest
	preStop bool
}

func (s scope) binder(bs []syntax.Bound) (*binder, scope) {
	b := &binder{}
	for _, bd := range bs {
		if bd.Set == nil {
			return &binder{sets: []func(*rt) (value.SetValue, error){func(*rt) (value.SetValue, error) {
				return nil, unsupported(syntax.Pos{}, "unbounded quantifier")
			}}, slots: [][]int{nil}, tuple: []bool{false}, pos: []syntax.Pos{{}}}, s
		}
		b.sets = append(b.sets, s.set(bd.Set)) // a bound's set sees the earlier bounds
		var slots []int
		s, slots = s.bindBound(bd)
		b.slots = append(b.slots, slots)
		b.tuple = append(b.tuple, bd.Tuple)
		b.pos = append(b.pos, bd.Set.At())
		b.all = append(b.all, slots...)
	}
	b.single = len(bs) == 1 && len(bs[0].Names) == 1 && !bs[0].Tuple
	return b, s
}

// each calls visit for every combination; visit returns true to stop, and
// each reports whether it stopped.
func (b *binder) each(r *rt, i int, visit func(*rt) (bool, error)) (bool, error) {
	if i == len(b.sets) {
		return visit(r)
	}
	sv, err := b.sets[i](r)
	if err != nil {
		return false, err
	}
	elems, err := sv.Enumerate()
	if err != nil {
		return false, wrap(b.pos[i], err)
	}
	if b.tuple[i] {
		for j := 0; j < elems.Len(); j++ {
			if err := assignBound(r, b.pos[i], true, b.slots[i], elems.At(j)); err != nil {
				return false, err
			}
			if stop, err := b.each(r, i+1, visit); stop || err != nil {
				return stop, err
			}
		}
		return false, nil
	}
	return b.names(r, i, 0, elems, visit)
}

// independent reports whether the binder has several names, none bound
// as a tuple: its sets can then be evaluated before any name is bound (a
// bound's set cannot name an earlier bound: SANY and our resolver refuse
// \E a \in S, b \in a..3), as TLC's enumeration of an action's \E does.
func (b *binder) independent(bs []syntax.Bound) bool {
	if len(b.all) < 2 {
		return false
	}
	for _, bd := range bs {
		if bd.Tuple {
			return false
		}
	}
	return true
}

// eachFirstFastest calls visit for every combination in TLC's order for an
// action's \E: the first name varies fastest (TLC's ContextEnumerator), so
// that a model stopped at a violation has explored what TLC explored. The
// sets are evaluated once, before any name is bound (independent).
func (b *binder) eachFirstFastest(r *rt, visit func(*rt) (bool, error)) (bool, error) {
	var elemsBuf [8]*value.Set // no allocation for up to 8 names
	var idxBuf [8]int
	elems := elemsBuf[:0]
	for i, set := range b.sets {
		sv, err := set(r)
		if err != nil {
			return false, err
		}
		es, err := sv.Enumerate()
		if err != nil {
			return false, wrap(b.pos[i], err)
		}
		for range b.slots[i] {
			if es.Len() == 0 {
				return false, nil
			}
			elems = append(elems, es)
		}
	}
	var idx []int
	if len(elems) > len(idxBuf) {
		idx = make([]int, len(elems))
	} else {
		idx = idxBuf[:len(elems)]
	}
	for {
		for j, k := range b.all {
			r.slots[k] = elems[j].At(idx[j])
		}
		if stop, err := visit(r); stop || err != nil {
			return stop, err
		}
		j := 0
		for ; j < len(idx); j++ {
			if idx[j]++; idx[j] < elems[j].Len() {
				break
			}
			idx[j] = 0
		}
		if j == len(idx) {
			return false, nil
		}
	}
}

func (b *binder) names(r *rt, i, k int, elems *value.Set, visit func(*rt) (bool, error)) (bool, error) {
	if k == len(b.slots[i]) {
		return b.each(r, i+1, visit)
	}
	slot := b.slots[i][k]
	// Where the scan goes on past a rejected element (not preStop), only
	// the positions the pretest's first test keeps are visited (see
	// pretest.positions), if the worker remembers them.
	n, pos := elems.Len(), []int32(nil)
	if b.pre != nil && !b.preStop {
		if e := b.pre.positions(r, elems); e != nil {
			defer e.Release() // also where the body panics: the slot is not kept from later scans
			pos = e.Hold()
			n = len(pos)
		}
	}
	var pv preVals
	for j := 0; j < n; j++ {
		at := j
		if pos != nil {
			at = int(pos[j])
		}
		x := elems.At(at)
		if b.pre != nil && b.pre.fails(r, &pv, x) {
			if b.preStop {
				return true, nil
			}
			continue
		}
		r.slots[slot] = x
		if stop, err := b.names(r, i, k+1, elems, visit); stop || err != nil {
			return stop, err
		}
	}
	return false, nil
}

func (b *binder) key(r *rt) value.Value {
	if b.single {
		return r.slots[b.all[0]]
	}
	vs := make([]value.Value, len(b.all))
	for i, k := range b.all {
		vs[i] = r.slots[k]
	}
	return value.Tuple(vs...)
}

func (s scope) funcCons(pos syntax.Pos, bs []syntax.Bound, body syntax.Expr) evalFn {
	b, s2 := s.binder(bs)
	bf := s2.expr(body)
	return func(r *rt) (value.Value, error) {
		var dom, rng []value.Value
		_, err := b.each(r, 0, func(r *rt) (bool, error) {
			v, err := bf(r)
			if err != nil {
				return true, err
			}
			dom, rng = append(dom, b.key(r)), append(rng, v)
			return false, nil
		})
		if err != nil {
			return nil, err
		}
		if b.single {
			// one name over an enumerated set: the domain comes in the
			// set's order, sorted and distinct
			return value.NewFuncOnSet(dom, rng), nil
		}
		fn, err := value.NewFunc(dom, rng)
		return fn, wrap(pos, err)
	}
}

func (s scope) quant(x *syntax.Quant) evalFn {
	switch x.Kind {
	case "\\A", "\\E":
		b, s2 := s.binder(x.Bounds)
		body := s2.boolean(x.Body)
		want := x.Kind == "\\E"
		b.pre, b.preStop = s2.pretest(x.Bounds, x.Body), !want
		visit := func(r *rt) (bool, error) {
			v, err := body(r)
			return v == want, err
		}
		return func(r *rt) (value.Value, error) {
			stopped, err := b.each(r, 0, visit)
			if err != nil {
				return nil, err
			}
			return value.Bool(stopped == want), nil
		}
	case "CHOOSE":
		if len(x.Bounds) != 1 || x.Bounds[0].Set == nil {
			return errFn(unsupported(x.P, "CHOOSE without exactly one bounded variable"))
		}
		bd := x.Bounds[0]
		set := s.set(bd.Set)
		s2, slots := s.bindBound(bd)
		body := s2.boolean(x.Body)
		pre := s2.pretest(x.Bounds, x.Body)
		pos := x.P
		return func(r *rt) (value.Value, error) {
			sv, err := set(r)
			if err != nil {
				return nil, err
			}
			var pv preVals
			v, err := value.Choose(sv, func(v value.Value) (bool, error) {
				if pre != nil && pre.fails(r, &pv, v) {
					return false, nil
				}
				if err := assignBound(r, pos, bd.Tuple, slots, v); err != nil {
					return false, err
				}
				return body(r)
			})
			return v, wrap(pos, err)
		}
	}
	return errFn(unsupported(x.P, x.Kind))
}

// let brings LET definitions into scope; reset lists the cache slots to
// clear on entry.
func (s scope) let(x *syntax.Let) (scope, []int) {
	var reset []int
	for _, d := range x.Defs {
		e := &bind{name: d.Name, kind: eLet, level: s.level, def: d, cache: -1, next: s.env}
		if len(d.Params) == 0 && d.FnBounds == nil {
			e.cache = s.unit().alloc()
			reset = append(reset, e.cache)
		}
		s.env = e
		sc := s // a definition sees itself (RECURSIVE, recursive functions) and earlier ones
		e.argSc = &sc
	}
	return s, reset
}

func (s scope) except(x *syntax.Except) evalFn {
	fn, ups := s.exceptParts(x, false)
	pos := x.P
	if !sharedCopies(x) {
		// Each update copies the functions on its path.
		return func(r *rt) (value.Value, error) {
			fv, err := fn(r)
			if err != nil {
				return nil, err
			}
			for i := range ups {
				if fv, err = ups[i].update(r, fv, 0, nil, pos); err != nil {
					return nil, err
				}
			}
			return fv, nil
		}
	}
	return exceptShared(fn, ups, pos, false)
}

// sharedCopies reports whether the updates of x can share their copies
// (value.Updater, which changes the functions it copied in place and
// hashes them at the end): no update reads as @ a function an earlier one
// copied. An update copies the functions along its path, above its last
// key; @ is the value at the end of a path. So an update may read @ if no
// earlier path is longer than its own: at the end of its path it finds
// an original value or one an earlier update computed, never a copy.
func sharedCopies(x *syntax.Except) bool {
	for i, u := range x.Updates {
		if !usesAt(u.Val) {
			continue
		}
		for _, v := range x.Updates[:i] {
			if len(v.Path) > len(u.Path) {
				return false
			}
		}
	}
	return true
}

// exceptParts compiles an EXCEPT's function and updates; inArena: for
// exceptArena, each update makes its value in the arena where it can
// (arenaExpr). A later update on the same path then finds it as @, which
// update copies out of the arena before binding it: @ is never an arena
// value, so no value made outside the arena can hold one
// ([h EXCEPT ![1] = Tail(@), ![1] = <<@>>]). Paths that differ, as in
// [network EXCEPT ![q][p] = Tail(@), ![p][q] = Append(@, m)], copy nothing.
func (s scope) exceptParts(x *syntax.Except, inArena bool) (evalFn, []exceptUpd) {
	m := s.c.m
	fn := s.expr(x.Fn)
	ups := make([]exceptUpd, len(x.Updates))
	for i, u := range x.Updates {
		ks := make([]evalFn, len(u.Path))
		for j, k := range u.Path {
			if k.Field != "" {
				ks[j] = constFn(m.strs.String(k.Field))
			} else {
				ks[j] = s.argValue(k.Index)
			}
		}
		s2, at := s.bindSlot("@")
		val := s2.expr(u.Val)
		if inArena {
			if a := s2.arenaExpr(u.Val); a != nil {
				val = a
			}
		}
		ups[i] = exceptUpd{ks, val, at}
	}
	return fn, ups
}

// exceptShared applies the updates through one value.Updater, its copies
// in the arena if inArena (and the evaluation has one).
func exceptShared(fn evalFn, ups []exceptUpd, pos syntax.Pos, inArena bool) evalFn {
	return func(r *rt) (value.Value, error) {
		fv, err := fn(r)
		if err != nil {
			return nil, err
		}
		var up value.Updater
		if inArena {
			up.Arena = r.arena
		}
		for i := range ups {
			if fv, err = ups[i].update(r, fv, 0, &up, pos); err != nil {
				return nil, err
			}
		}
		up.Done()
		return fv, nil
	}
}

// exceptArena compiles an EXCEPT that is the right side of an assignment
// v' = [f EXCEPT ...], for an evaluation with an arena (arenaExpr): the
// copies are made there. nil where the updates must copy apart
// (sharedCopies).
func (s scope) exceptArena(x *syntax.Except) evalFn {
	if !sharedCopies(x) {
		return nil
	}
	fn, ups := s.exceptParts(x, true)
	return exceptShared(fn, ups, x.P, true)
}

// exceptUpd is one update !p = v of an EXCEPT: the keys of its path, its
// value and the slot of @.
type exceptUpd struct {
	keys []evalFn
	val  evalFn
	at   int
}

// update applies u from key i of its path on to fv, binding @ to the old
// value at the end of the path. Through up (a method, not a closure, so
// that up can stay on the caller's stack) the updates of one EXCEPT share
// their copies; with up nil, when an update reads @ and must see the
// previous updates' results, each update copies the functions on its path.
func (u *exceptUpd) update(r *rt, fv value.Value, i int, up *value.Updater, pos syntax.Pos) (value.Value, error) {
	f, ok := fv.(*value.Func)
	if !ok {
		return nil, evalErr(pos, "EXCEPT on %s, which is not a function", fv)
	}
	key, err := u.keys[i](r)
	if err != nil {
		return nil, err
	}
	at, old, err := f.Find(key)
	if err != nil || at < 0 {
		return f, nil // TLC leaves f unchanged when the key is outside the domain
	}
	var nv value.Value
	if i == len(u.keys)-1 {
		// an earlier update's value made in the arena, copied out (see
		// exceptParts)
		r.slots[u.at] = value.Materialize(old)
		nv, err = u.val(r)
	} else {
		nv, err = u.update(r, old, i+1, up, pos)
	}
	if err != nil {
		return nil, err
	}
	if up == nil {
		out, err := f.Except(key, nv)
		return out, wrap(pos, err)
	}
	return up.Set(f, at, nv, i), nil
}

// usesAt reports whether x contains @ (of this EXCEPT or a nested one).
func usesAt(x syntax.Expr) bool {
	if _, ok := x.(*syntax.AtSign); ok {
		return true
	}
	found := false
	visitChildren(x, func(c syntax.Expr) {
		if !found && usesAt(c) {
			found = true
		}
	})
	return found
}

func (s scope) apply(x *syntax.Apply) evalFn {
	if in, ok := x.Fn.(*syntax.Apply); ok {
		if ru, level := s.recFunc(in.Fn); ru != nil && pointwise(ru.def) != nil {
			return s.callRecAt(x.P, ru, level, s.argValue(in.Args), s.argValue(x.Args))
		}
	}
	if r, ok := x.Fn.(*syntax.Ref); ok && len(r.Parts) == 1 && r.Parts[0].Args == nil {
		name := r.Parts[0].Name
		if e := s.find(name); e != nil {
			if e.kind == eLet && e.def.FnBounds != nil {
				return s.callRec(x.P, s.letRec(e), e.level, []evalFn{s.argValue(x.Args)})
			}
		} else if _, isVar := s.c.m.varIndex[name]; !isVar {
			if _, isConst := s.c.m.consts[name]; !isConst {
				if d, ok := s.c.m.defs[name]; ok && d.FnBounds != nil {
					return s.applyTopFunc(x.P, s.topRec(d), s.argValue(x.Args))
				}
			}
		}
	}
	fn, arg := s.expr(x.Fn), s.argValue(x.Args)
	pos := x.P
	return func(r *rt) (value.Value, error) {
		fv, err := fn(r)
		if err != nil {
			return nil, err
		}
		a, err := arg(r)
		if err != nil {
			return nil, err
		}
		f, ok := fv.(*value.Func)
		if !ok {
			return nil, evalErr(pos, "applying %s, which is not a function, to %s", fv, a)
		}
		v, err := f.Apply(a)
		return v, wrap(pos, err)
	}
}

// pointwise returns the function constructor that is d's body, if d is a
// function definition whose value can be applied without being built.
func pointwise(d *syntax.Def) *syntax.FuncCons {
	if d.FnBounds == nil || len(d.FnBounds) != 1 || len(d.FnBounds[0].Names) != 1 || d.FnBounds[0].Tuple {
		return nil
	}
	body := d.Body
	for {
		l, ok := body.(*syntax.Label)
		if !ok {
			break
		}
		body = l.Body
	}
	fc, ok := body.(*syntax.FuncCons)
	if !ok {
		return nil
	}
	for _, b := range fc.Bounds {
		if b.Set == nil {
			return nil
		}
	}
	return fc
}

// recFunc returns the unit of the function definition x names, if any.
func (s scope) recFunc(x syntax.Expr) (*recUnit, int) {
	r, ok := x.(*syntax.Ref)
	if !ok || len(r.Parts) != 1 || r.Parts[0].Args != nil {
		return nil, 0
	}
	name := r.Parts[0].Name
	m := s.c.m
	if e := s.find(name); e != nil {
		if e.kind == eLet && e.def.FnBounds != nil {
			return s.letRec(e), e.level
		}
		return nil, 0
	}
	if _, isVar := m.varIndex[name]; isVar {
		return nil, 0
	}
	if _, isConst := m.consts[name]; isConst {
		return nil, 0
	}
	if d, ok := m.defs[name]; ok && d.FnBounds != nil {
		return s.topRec(d), -1
	}
	return nil, 0
}

// funcConsAt compiles [x \in S, y \in T |-> e] applied to an argument:
// the argument is checked against the bounds and e evaluated at it.
func (s scope) funcConsAt(fc *syntax.FuncCons) func(r *rt, a value.Value) (value.Value, error) {
	type bnd struct {
		set   func(*rt) (value.SetValue, error)
		slots []int
		tuple bool
	}
	var bds []bnd
	n := 0
	for _, b := range fc.Bounds {
		set := s.set(b.Set)
		var slots []int
		s, slots = s.bindBound(b)
		bds = append(bds, bnd{set, slots, b.Tuple})
		n += len(slots)
	}
	body := s.expr(fc.Body)
	single := len(bds) == 1 && n == 1 && !bds[0].tuple
	pos := fc.P
	return func(r *rt, a value.Value) (value.Value, error) {
		var comps []value.Value
		if single {
			comps = []value.Value{a}
		} else {
			t, ok := a.(*value.Func)
			if !ok || !t.IsSeq() || t.Len() != n {
				return nil, evalErr(pos, "function applied to %s, outside its domain", a)
			}
			comps = make([]value.Value, n)
			for i := range comps {
				comps[i] = t.RangeAt(i)
			}
		}
		k := 0
		for _, b := range bds {
			set, err := b.set(r)
			if err != nil {
				return nil, err
			}
			var in bool
			if b.tuple {
				in, err = set.Contains(value.Tuple(comps[k : k+len(b.slots) : k+len(b.slots)]...))
			} else {
				in, err = set.Contains(comps[k])
			}
			if err != nil {
				return nil, wrap(pos, err)
			}
			if !in {
				return nil, evalErr(pos, "function applied to %s, outside its domain", a)
			}
			for _, slot := range b.slots {
				r.slots[slot] = comps[k]
				k++
			}
		}
		return body(r)
	}
}

// callRecAt is f[i][j] for a function definition f whose body is a function
// constructor: f[i] is not built, only its value at j computed.
func (s scope) callRecAt(pos syntax.Pos, ru *recUnit, defLevel int, arg, arg2 evalFn) evalFn {
	s.mergeRec(ru)
	up := s.level - defLevel
	return func(r *rt) (value.Value, error) {
		av, err := arg(r)
		if err != nil {
			return nil, err
		}
		bv, err := arg2(r)
		if err != nil {
			return nil, err
		}
		a, err := ru.enter(pos, r, up, make([]value.Value, ru.u.n))
		if err != nil {
			return nil, err
		}
		if err := ru.bindArg(pos, a, av); err != nil {
			return nil, err
		}
		return ru.at(a, bv) // read now: compiled after the calls in the body
	}
}

// ref compiles a name: a bound identifier, an operator argument, a LET
// definition, a variable, a constant, a definition, or a built-in.
func (s scope) ref(x *syntax.Ref) evalFn {
	if len(x.Parts) != 1 {
		t, err := s.resolvePath(x)
		if err != nil {
			return errFn(err)
		}
		return t.compile(s, x.P)
	}
	p := x.Parts[0]
	m := s.c.m
	if e := s.find(p.Name); e != nil {
		switch e.kind {
		case eSlot:
			return s.slotRead(e.level, e.slot)
		case eParam:
			if p.Args != nil {
				return s.applyParam(x.P, e, p.Args)
			}
			return s.param(e)
		case eConst:
			if p.Args != nil {
				return errFn(unsupported(x.P, "operator arguments"))
			}
			return constFn(e.cval)
		case eSubst:
			if p.Args != nil {
				return errFn(unsupported(x.P, "operator arguments"))
			}
			return s.subst(e)
		case eDef:
			return s.callDef(x.P, e.def, e.denv, p.Args)
		default:
			return s.callLet(x.P, e, p.Args)
		}
	}
	if i, ok := m.varIndex[p.Name]; ok {
		name, pos := p.Name, x.P
		if s.primed || s.init {
			s.fl.next = true
			return func(r *rt) (value.Value, error) {
				v := r.nxt[i]
				if v == nil {
					return nil, &PosError{pos, fmt.Sprintf("variable %s has no value here", name), ErrUnassigned}
				}
				if m := value.Materialize(v); m != v {
					// built once: later reads and the successor take the copy
					r.nxt[i], v = m, m
				}
				return v, nil
			}
		}
		s.fl.state = true
		return func(r *rt) (value.Value, error) {
			if r.cur == nil {
				return nil, &PosError{pos, fmt.Sprintf("variable %s has no value here", name), ErrUnassigned}
			}
			return r.cur[i], nil
		}
	}
	if v, ok := m.consts[p.Name]; ok {
		return constFn(v)
	}
	if d, ok := m.defs[p.Name]; ok {
		if len(d.Params) == 0 && d.FnBounds == nil && d.Instance == nil && !d.Recursive {
			if cd := s.constDef(d); cd.isConst {
				return cd.get
			}
		}
		return s.call(x.P, d, p.Args)
	}
	return s.builtin(x, p)
}

// param compiles a use of an operator parameter: its argument, compiled in
// the caller's scope (primed if used under a prime).
func (s scope) param(e *bind) evalFn {
	if e.memo > 0 && s.primed == e.argSc.primed {
		if e.val == nil {
			s.memoParam(e)
		}
		s.fl.merge(e.valFl)
		return upTo(e.val, e.argSc.level, s.level)
	}
	as := *e.argSc
	as.primed = as.primed || s.primed
	as.fl = s.fl
	as.inline = s.inline + 1
	if as.inline > maxInline {
		return errFn(evalErr(e.arg.At(), "definitions nested deeper than %d", maxInline))
	}
	return upTo(as.expr(e.arg), as.level, s.level)
}

// memoParam compiles e's argument once, in the caller's scope. TLC
// evaluates an operator's argument at most once per call, lazily; so do we
// when the argument reads the state or bound names: its value is kept in
// the caller's slot e.memo-1, which the call clears on entry (callMemo). An
// argument that reads the next state (an action) is evaluated at each use,
// and a constant one is shared anyway (hoist).
func (s scope) memoParam(e *bind) {
	as := *e.argSc
	fl := newFlags()
	as.fl = fl
	as.inline = s.inline + 1
	if as.inline > maxInline {
		e.val, e.valFl = errFn(evalErr(e.arg.At(), "definitions nested deeper than %d", maxInline)), fl
		return
	}
	fn := as.expr(e.arg)
	e.val, e.valFl = fn, fl
	if fl.next || !fl.state && !fl.impure && fl.lowLevel == 1<<30 {
		e.argSc.fl.merge(fl)
		return
	}
	slot := e.memo - 1
	e.val = func(r *rt) (value.Value, error) {
		if v := r.slots[slot]; v != nil {
			return v, nil
		}
		v, err := fn(r)
		if err == nil {
			r.slots[slot] = v
		}
		return v, err
	}
	fl.readSlot(e.argSc.level, slot)
	e.argSc.fl.merge(fl)
}

// callMemo is callee for a call compiled in value context: each argument
// that is more than a name gets a slot of the caller's activation caching
// its value (memoParam); body, compiled in the returned scope, is wrapped by
// enter, which clears those slots at each call.
func (s scope) callMemo(pos syntax.Pos, d *syntax.Def, args []syntax.Expr, denv *bind) (scope, func(evalFn) evalFn, error) {
	t, err := s.callee(pos, d, args, denv)
	if err != nil {
		return t, nil, err
	}
	var reset []int
	for e := t.env; e != denv; e = e.next {
		if e.kind != eParam {
			continue
		}
		if k := s.memoArg(e); k >= 0 {
			reset = append(reset, k)
		}
	}
	return t, resetting(reset), nil
}

// memoArg gives the parameter e, bound to an argument written in s, a slot
// of s's activation caching its value, unless the argument is a name whose
// value is at hand anyway; it returns the slot or -1.
func (s scope) memoArg(e *bind) int {
	if x, ok := e.arg.(*syntax.Ref); ok && len(x.Parts) == 1 && x.Parts[0].Args == nil {
		b := s.find(x.Parts[0].Name)
		if b == nil || b.kind == eSlot || b.kind == eConst || b.kind == eLet || b.kind == eParam && b.memo > 0 {
			return -1
		}
	}
	slot := s.unit().alloc()
	e.memo = slot + 1
	return slot
}

// resetting wraps a call's body so that each call clears the slots caching
// its arguments.
func resetting(reset []int) func(evalFn) evalFn {
	return func(body evalFn) evalFn {
		if len(reset) == 0 {
			return body
		}
		return func(r *rt) (value.Value, error) {
			for _, k := range reset {
				r.slots[k] = nil
			}
			return body(r)
		}
	}
}

func (cd *constDef) get(r *rt) (value.Value, error) {
	if p := cd.v.Load(); p != nil {
		return p.v, p.err
	}
	cd.once.Do(func() {
		v, err := cd.fn(&rt{slots: make([]value.Value, 0)})
		cd.v.Store(&constVal{v, err})
	})
	p := cd.v.Load()
	return p.v, p.err
}

// constDef compiles a top-level definition without parameters once to learn
// whether it reads variables; constant ones are then evaluated once, on
// first use.
func (s scope) constDef(d *syntax.Def) *constDef {
	c := s.c
	key := constKey{d, false, false}
	c.mu.Lock()
	cd, ok := c.consts[key]
	c.mu.Unlock()
	if ok {
		return cd
	}
	t := c.top(false)
	t.inline = s.inline + 1
	body := t.expr(d.Body)
	cd = &constDef{isConst: !t.fl.state && !t.fl.next}
	n := t.units[0].n
	cd.fn = func(*rt) (value.Value, error) { return body(&rt{slots: make([]value.Value, n)}) }
	c.mu.Lock()
	c.consts[key] = cd
	c.mu.Unlock()
	return cd
}

// call expands a top-level definition applied to arguments in place.
func (s scope) call(pos syntax.Pos, d *syntax.Def, args []syntax.Expr) evalFn {
	if d.Instance != nil {
		return errFn(unsupported(pos, "instance "+d.Name))
	}
	if len(args) != len(d.Params) {
		return errFn(evalErr(pos, "%s takes %d arguments, got %d", d.Name, len(d.Params), len(args)))
	}
	if d.FnBounds != nil {
		return s.recFuncValue(pos, s.topRec(d), -1)
	}
	if s.recByValue(d) {
		if ru := s.topRec(d); !ru.fl.next {
			return s.callRec(pos, ru, -1, s.exprs(args))
		}
	}
	t, enter, err := s.callMemo(pos, d, args, nil)
	if err != nil {
		return errFn(err)
	}
	return enter(t.expr(d.Body))
}

// callee is the scope of d's body with its parameters bound to args
// (written in s); denv is the scope d was defined in (nil: top level).
func (s scope) callee(pos syntax.Pos, d *syntax.Def, args []syntax.Expr, denv *bind) (scope, error) {
	t := s
	t.env = denv
	t.inline++
	if t.inline > maxInline {
		return t, evalErr(pos, "definitions nested deeper than %d (%s)", maxInline, d.Name)
	}
	caller := s
	for i, prm := range d.Params {
		// A parameter of arity > 0 is applied by applyParam.
		t.env = &bind{name: prm.Name, kind: eParam, arg: args[i], argSc: &caller, next: t.env}
	}
	return t, nil
}

// callLet compiles a use of a LET definition.
func (s scope) callLet(pos syntax.Pos, e *bind, args []syntax.Expr) evalFn {
	d := e.def
	if len(args) != len(d.Params) {
		return errFn(evalErr(pos, "%s takes %d arguments, got %d", d.Name, len(d.Params), len(args)))
	}
	if d.FnBounds != nil {
		return s.recFuncValue(pos, s.letRec(e), e.level)
	}
	if s.recByValue(d) {
		if ru := s.letRec(e); !ru.fl.next {
			return s.callRec(pos, ru, e.level, s.exprs(args))
		}
	}
	if e.cache >= 0 && s.primed == e.argSc.primed {
		if e.val == nil {
			ds := *e.argSc
			fl := newFlags()
			ds.fl = fl
			ds.inline = s.inline + 1
			body := ds.expr(d.Body)
			if !fl.next {
				slot := e.cache
				e.val = func(r *rt) (value.Value, error) {
					if v := r.slots[slot]; v != nil {
						return v, nil
					}
					v, err := body(r)
					if err == nil {
						r.slots[slot] = v
					}
					return v, err
				}
			} else {
				e.val = body
			}
			e.valFl = fl
			if !fl.next {
				fl.readSlot(e.level, e.cache)
			}
			e.argSc.fl.merge(fl)
		}
		s.fl.merge(e.valFl)
		return upTo(e.val, e.level, s.level)
	}
	t, enter, err := s.callMemo(pos, d, args, e.argSc.env)
	if err != nil {
		return errFn(err)
	}
	t.primed = s.primed || e.argSc.primed
	return enter(t.expr(d.Body))
}

// topRec returns the unit of a top-level recursive operator or function.
func (s scope) topRec(d *syntax.Def) *recUnit {
	c := s.c
	key := constKey{d, false, s.init}
	c.mu.Lock()
	ru, ok := c.recs[key]
	if !ok {
		ru = &recUnit{def: d, defLevel: -1, u: &unit{}, fl: *newFlags()}
		c.recs[key] = ru
	}
	c.mu.Unlock()
	if ok {
		return ru
	}
	t := scope{c: c, units: []*unit{ru.u}, init: s.init, fl: &ru.fl, inline: s.inline + 1}
	s.compileRec(ru, t)
	return ru
}

// letRec returns the unit of a recursive LET definition (compiled once per
// expansion of the LET).
func (s scope) letRec(e *bind) *recUnit {
	if e.rec != nil {
		return e.rec
	}
	ru := &recUnit{def: e.def, defLevel: e.level, u: &unit{}, fl: *newFlags()}
	e.rec = ru
	ds := *e.argSc
	t := ds
	t.level = ds.level + 1
	t.units = append(append([]*unit{}, ds.units[:ds.level+1]...), ru.u)
	t.fl = &ru.fl
	t.inline = s.inline + 1
	s.compileRec(ru, t)
	e.argSc.fl.merge(&ru.fl)
	return ru
}

func (s scope) compileRec(ru *recUnit, t scope) {
	d := ru.def
	if d.FnBounds != nil {
		if len(d.FnBounds) != 1 || len(d.FnBounds[0].Names) != 1 || d.FnBounds[0].Tuple {
			s.compileRecSeveral(ru, t)
			return
		}
		ru.dom = t.expr(d.FnBounds[0].Set)
		t2, k := t.bindSlot(d.FnBounds[0].Names[0])
		ru.argSlot = k
		ru.body = t2.expr(d.Body)
		if fc := pointwise(d); fc != nil {
			ru.at = t2.funcConsAt(fc)
		}
		return
	}
	for _, p := range d.Params {
		if p.Arity > 0 {
			err := unsupported(d.Pos, "higher-order parameter "+p.Name)
			ru.body = func(*rt) (value.Value, error) { return nil, err }
			return
		}
		t, _ = t.bindSlot(p.Name)
	}
	ru.body = t.expr(d.Body)
}

// callRec calls a recursive unit with arguments evaluated by value
// (function definitions take one argument, checked against the domain).
func (s scope) callRec(pos syntax.Pos, ru *recUnit, defLevel int, args []evalFn) evalFn {
	s.mergeRec(ru)
	d := ru.def
	if len(args) != len(d.Params) && d.FnBounds == nil {
		return errFn(evalErr(pos, "%s takes %d arguments, got %d", d.Name, len(d.Params), len(args)))
	}
	up := s.level - defLevel
	return func(r *rt) (value.Value, error) {
		vals := make([]value.Value, ru.u.n)
		var arg value.Value
		for i, a := range args {
			v, err := a(r)
			if err != nil {
				return nil, err
			}
			if d.FnBounds != nil {
				arg = v
			} else {
				vals[i] = v
			}
		}
		a, err := ru.enter(pos, r, up, vals)
		if err != nil {
			return nil, err
		}
		if d.FnBounds != nil {
			if err := ru.bindArg(pos, a, arg); err != nil {
				return nil, err
			}
		}
		return ru.body(a)
	}
}

// recFuncValue builds the whole function f defined by f[x \in S] == e.
func (s scope) recFuncValue(pos syntax.Pos, ru *recUnit, defLevel int) evalFn {
	s.mergeRec(ru)
	up := s.level - defLevel
	return func(r *rt) (value.Value, error) {
		a := ru.activation(r, up, make([]value.Value, ru.u.n))
		set, err := ru.domain(pos, a)
		if err != nil {
			return nil, err
		}
		elems, err := set.Enumerate()
		if err != nil {
			return nil, wrap(pos, err)
		}
		ds := make([]value.Value, elems.Len())
		rs := make([]value.Value, elems.Len())
		for i := 0; i < elems.Len(); i++ {
			b := ru.activation(r, up, make([]value.Value, ru.u.n))
			b.slots[ru.argSlot] = elems.At(i)
			v, err := ru.body(b)
			if err != nil {
				return nil, err
			}
			ds[i], rs[i] = elems.At(i), v
		}
		fn, err := value.NewFunc(ds, rs)
		return fn, wrap(pos, err)
	}
}

// activation is a new activation of ru for a call from r, whose
// definition is up levels out.
func (ru *recUnit) activation(r *rt, up int, slots []value.Value) *rt {
	outer := r
	for i := 0; i < up; i++ {
		outer = outer.up
	}
	return &rt{cur: r.cur, nxt: r.nxt, slots: slots, up: outer, depth: r.depth + 1, arena: r.arena, memo: r.memo, noLevel: r.noLevel}
}

// enter is activation for a call, refused past MaxCallDepth.
func (ru *recUnit) enter(pos syntax.Pos, r *rt, up int, slots []value.Value) (*rt, error) {
	if r.depth >= MaxCallDepth {
		return nil, evalErr(pos, "calls nested deeper than %d (unbounded recursion in %s?)", MaxCallDepth, ru.def.Name)
	}
	return ru.activation(r, up, slots), nil
}

// domain evaluates the domain S of a function f[x \in S] == e in a.
func (ru *recUnit) domain(pos syntax.Pos, a *rt) (value.SetValue, error) {
	dom, err := ru.dom(a)
	if err != nil {
		return nil, err
	}
	set, ok := dom.(value.SetValue)
	if !ok {
		return nil, evalErr(pos, "domain of %s is not a set", ru.def.Name)
	}
	return set, nil
}

// bindArg checks that arg is in the function's domain and binds it in a.
func (ru *recUnit) bindArg(pos syntax.Pos, a *rt, arg value.Value) error {
	set, err := ru.domain(pos, a)
	if err != nil {
		return err
	}
	in, err := set.Contains(arg)
	if err != nil {
		return wrap(pos, err)
	}
	if !in {
		return evalErr(pos, "%s[%s]: argument outside the domain", ru.def.Name, arg)
	}
	a.slots[ru.argSlot] = arg
	return nil
}

// mergeRec notes what a call of ru reads: a top-level unit's slots are its
// own (another chain of activations).
func (s scope) mergeRec(ru *recUnit) {
	if ru.defLevel >= 0 {
		s.fl.merge(&ru.fl)
		return
	}
	s.fl.state = s.fl.state || ru.fl.state
	s.fl.next = s.fl.next || ru.fl.next
	s.fl.impure = s.fl.impure || ru.fl.impure
}

// MaxCallDepth caps the nesting of recursive calls.
const MaxCallDepth = 2000
