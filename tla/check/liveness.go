package check

import (
	"context"
	"errors"
	"fmt"

	"github.com/verimeter/verimeter/tla/value"
)

// ErrEnabledBySuccessors, wrapped in an error of Fairness.Enabled, asks the
// checker to decide ENABLED <<A>>_v from the states it found instead: true
// when some recorded successor of the state, or else some reachable state,
// makes an <<A>>_v step from it. It is for actions the System cannot enable
// on its own (A gives a value to an expression, not to a variable, as under
// INSTANCE substitutions: TLC stops with an error on some of them); it sees
// only reachable states as candidate next states.
var ErrEnabledBySuccessors = errors.New("check: ENABLED decided on the state graph")

// Liveness is decided after the breadth-first search on the recorded state
// graph, with stuttering steps added to every state: for each PROPERTY
// formula F the checker looks for a fair behaviour satisfying ~F. ~F is put
// in negation normal form and split into disjuncts; in each, conjuncts
// []<>X and <>[]X (X without temporal operators, possibly a step
// predicate) are decided on strongly connected components directly, as TLC
// does, and the rest becomes a tableau (a generalized Büchi automaton) whose
// product with the state graph is searched for a reachable strongly
// connected component that fulfils every eventuality, every []<>X, every
// fairness condition of the specification, and whose steps all satisfy the
// <>[]X. Strong fairness that fails in a component is retried on the part
// of the component where its action is disabled (the Streett refinement).

type pnode struct {
	s, g int32
}

type pedge struct {
	to     int32
	action int32 // -1: stuttering
	ok     int8  // allowed by the <>[] conditions: 0 unknown, 1 no, 2 yes
}

type liveCtx struct {
	c *checker
	// limit, when at least 0, restricts the graph to the states stored
	// before it, all of them explored (a check during the search);
	// -1: the whole graph.
	limit int32
	*liveMemo
	ctx context.Context
}

// liveMemo is what one liveness check leaves to the next: the leaves of the
// formulas (the values below are keyed by leaf number) and the values of
// leaves, ENABLED and fairness steps on stored states, which depend on the
// states alone. ENABLED decided on the graph (ErrEnabledBySuccessors) is
// kept too: found true, a larger graph keeps it true; found false during
// the search, it is no answer (errPartial) and is not kept.
type liveMemo struct {
	nb       *nnfBuilder
	stateVal map[[2]int32]bool
	stepVal  map[[3]int32]bool
	enVal    map[[2]int32]bool
	fstepVal map[[3]int32]bool
	// subVal holds the value of the subscript v of an ENABLED <<A>>_v
	// decided on the graph in each state the search met, keyed by the
	// state and the literal (its leaf, or -1-f for fairness f).
	subVal map[[2]int32]value.Value
}

func (c *checker) liveMemo() *liveMemo {
	if c.p.memo == nil {
		c.p.memo = &liveMemo{nb: &nnfBuilder{ids: map[*Temporal]int{}, tab: map[string]*lf{}},
			stateVal: map[[2]int32]bool{}, stepVal: map[[3]int32]bool{}, enVal: map[[2]int32]bool{}, fstepVal: map[[3]int32]bool{},
			subVal: map[[2]int32]value.Value{}}
	}
	return c.p.memo
}

func (c *checker) liveness(ctx context.Context) error {
	_, err := c.livenessUpTo(ctx, -1)
	return err
}

// errPartial stops a liveness check during the search that would need the
// states not explored yet (ENABLED decided on the graph, found false).
var errPartial = errors.New("check: the explored graph does not decide")

// livenessUpTo decides the properties' liveness on the graph of the states
// stored before limit (-1: all), and reports whether it found a violation
// (the result is then filled in). With a limit, every state below it must
// be explored (its successors recorded): a fair cycle among them is a
// behaviour of the whole graph, so a violation found is one; finding none
// proves nothing, nor does a check that would need the rest of the graph.
func (c *checker) livenessUpTo(ctx context.Context, limit int32) (bool, error) {
	lc := &liveCtx{c: c, limit: limit, liveMemo: c.liveMemo(), ctx: ctx}
	for _, p := range c.p.list {
		for _, f := range p.Liveness {
			neg, err := lc.nb.nnf(f, true)
			if err != nil {
				return false, c.fail(ctx, err, nil)
			}
			for _, d := range dnf(neg) {
				found, err := lc.disjunct(p.Name, d)
				if limit >= 0 && errors.Is(err, errPartial) {
					return false, nil
				}
				if err != nil {
					return false, c.fail(ctx, err, nil)
				}
				if found {
					return true, nil
				}
			}
		}
	}
	return false, nil
}

// lit evaluates a literal on state s (and step s -> t when t >= 0).
func (lc *liveCtx) lit(x *lf, s, t int32) (bool, error) {
	tm := lc.nb.leaves[x.leaf].t
	var v bool
	if x.action {
		if t < 0 {
			return false, fmt.Errorf("check: step predicate %s evaluated on a state", tm.Text)
		}
		k := [3]int32{s, t, int32(x.leaf)}
		r, ok := lc.stepVal[k]
		if !ok {
			var err error
			r, err = tm.Action(lc.c.p.states[s], lc.c.p.states[t])
			if err != nil {
				return false, fmt.Errorf("evaluating %s: %w", tm.Text, err)
			}
			lc.stepVal[k] = r
		}
		v = r
	} else {
		k := [2]int32{s, int32(x.leaf)}
		r, ok := lc.stateVal[k]
		if !ok {
			var err error
			r, err = tm.State(lc.c.p.states[s])
			if errors.Is(err, ErrEnabledBySuccessors) && tm.Angle != nil {
				r, err = lc.enabledBySearch(s, lc.angleStep(tm.Angle, int32(x.leaf)))
			}
			if err != nil {
				return false, fmt.Errorf("evaluating %s: %w", tm.Text, err)
			}
			lc.stateVal[k] = r
		}
		v = r
	}
	return v != x.neg, nil
}

// pred evaluates a formula without temporal operators on s -> t.
func (lc *liveCtx) pred(x *lf, s, t int32) (bool, error) {
	switch x.op {
	case lTrue:
		return true, nil
	case lFalse:
		return false, nil
	case lLit:
		return lc.lit(x, s, t)
	case lAnd, lOr:
		a, err := lc.pred(x.a, s, t)
		if err != nil {
			return false, err
		}
		if a == (x.op == lOr) {
			return a, nil
		}
		return lc.pred(x.b, s, t)
	}
	return false, fmt.Errorf("check: temporal formula where a predicate was expected")
}

func (lc *liveCtx) enabled(f int, s int32) (bool, error) {
	k := [2]int32{s, int32(f)}
	if r, ok := lc.enVal[k]; ok {
		return r, nil
	}
	fa := lc.c.p.fair[f]
	r, err := fa.Enabled(lc.c.p.states[s])
	if errors.Is(err, ErrEnabledBySuccessors) {
		if fa.Angle != nil {
			r, err = lc.enabledBySearch(s, lc.angleStep(fa.Angle, -1-int32(f)))
		} else {
			r, err = lc.enabledBySearch(s, func(s, t int32) (bool, error) { return lc.step(f, s, t) })
		}
	}
	if err != nil {
		return false, fmt.Errorf("evaluating ENABLED of %s: %w", fa.Name, err)
	}
	lc.enVal[k] = r
	return r, nil
}

func (lc *liveCtx) step(f int, s, t int32) (bool, error) {
	if s == t {
		return false, nil // a stuttering step leaves v unchanged
	}
	k := [3]int32{s, t, int32(f)}
	if r, ok := lc.fstepVal[k]; ok {
		return r, nil
	}
	fa := lc.c.p.fair[f]
	r, err := fa.Step(lc.c.p.states[s], lc.c.p.states[t])
	if err != nil {
		return false, fmt.Errorf("evaluating the action of %s: %w", fa.Name, err)
	}
	lc.fstepVal[k] = r
	return r, nil
}

type product struct {
	nodes  []pnode
	adj    [][]pedge
	parent []int32
	pact   []int32
	g      *gba
}

func (lc *liveCtx) labels(g *gba, gi int, s int32) (bool, error) {
	for _, l := range g.labels[gi] {
		ok, err := lc.lit(l, s, -1)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func (lc *liveCtx) buildProduct(g *gba) (*product, error) {
	c := lc.c
	pr := &product{g: g}
	index := map[int64]int32{}
	ng := int64(len(g.labels))
	get := func(s int32, gi int, parent, act int32) int32 {
		k := int64(s)*ng + int64(gi)
		if id, ok := index[k]; ok {
			return id
		}
		id := int32(len(pr.nodes))
		index[k] = id
		pr.nodes = append(pr.nodes, pnode{s, int32(gi)})
		pr.adj = append(pr.adj, nil)
		pr.parent = append(pr.parent, parent)
		pr.pact = append(pr.pact, act)
		return id
	}
	for _, s := range c.p.inits {
		if lc.limit >= 0 && s >= lc.limit {
			continue
		}
		for _, gi := range g.init {
			ok, err := lc.labels(g, gi, s)
			if err != nil {
				return nil, err
			}
			if ok {
				get(s, gi, -1, 0)
			}
		}
	}
	for u := int32(0); int(u) < len(pr.nodes); u++ {
		if u%4096 == 0 && lc.ctx.Err() != nil {
			return nil, lc.ctx.Err()
		}
		n := pr.nodes[u]
		edges := append(c.p.succ[n.s], gedge{to: n.s, action: 0xFFFF})
		for _, e := range edges {
			if lc.limit >= 0 && e.to >= lc.limit {
				continue
			}
			act := int32(e.action)
			if e.action == 0xFFFF {
				act = -1
			}
			for _, g2 := range g.succ[n.g] {
				ok, err := lc.labels(g, g2, e.to)
				if err != nil {
					return nil, err
				}
				if !ok {
					continue
				}
				v := get(e.to, g2, u, act)
				pr.adj[u] = append(pr.adj[u], pedge{to: v, action: act})
			}
		}
	}
	return pr, nil
}

// disjunct looks for a fair behaviour satisfying every formula of conj; if
// it finds one it fills in the result and reports true.
func (lc *liveCtx) disjunct(name string, conj []*lf) (bool, error) {
	var ae, ea []*lf
	rest := lc.nb.mk(lTrue, nil, nil, 0, false, false)
	for _, x := range conj {
		switch {
		case x.op == lBox && x.a.op == lDia && !x.a.a.temporal():
			ae = append(ae, x.a.a)
		case x.op == lDia && x.a.op == lBox && !x.a.a.temporal():
			ea = append(ea, x.a.a)
		default:
			rest = lc.nb.mk(lAnd, rest, x, 0, false, false)
		}
	}
	if rest.hasAction() {
		return false, fmt.Errorf("check: unsupported temporal formula in property %s: the step predicate at %s may appear only as []<>A or <>[]A (or in [][A]_v, WF, SF)", name, lc.actionText(rest))
	}
	g, err := buildGBA(rest, lc.nb)
	if err != nil {
		return false, err
	}
	pr, err := lc.buildProduct(g)
	if err != nil {
		return false, err
	}
	allowed := func(u int32, i int) (bool, error) {
		e := &pr.adj[u][i]
		if e.ok == 0 {
			e.ok = 2
			for _, x := range ea {
				ok, err := lc.pred(x, pr.nodes[u].s, pr.nodes[e.to].s)
				if err != nil {
					return false, err
				}
				if !ok {
					e.ok = 1
					break
				}
			}
		}
		return e.ok == 2, nil
	}
	members := make([]int32, len(pr.nodes))
	for i := range members {
		members[i] = int32(i)
	}
	scc, err := lc.search(pr, members, allowed, ae)
	if err != nil || scc == nil {
		return false, err
	}
	return true, lc.counterexample(name, pr, scc, allowed, ae)
}

// search returns a strongly connected set of product nodes, within members,
// that a fair violating cycle can stay in, or nil.
func (lc *liveCtx) search(pr *product, members []int32, allowed func(int32, int) (bool, error), ae []*lf) ([]int32, error) {
	in := make(map[int32]bool, len(members))
	for _, u := range members {
		in[u] = true
	}
	sccs, err := tarjan(pr, members, in, allowed)
	if err != nil {
		return nil, err
	}
	for _, scc := range sccs {
		set := make(map[int32]bool, len(scc))
		for _, u := range scc {
			set[u] = true
		}
		// Nontrivial: some allowed edge inside.
		inner := false
		for _, u := range scc {
			for i, e := range pr.adj[u] {
				if set[e.to] {
					if ok, err := allowed(u, i); err != nil {
						return nil, err
					} else if ok {
						inner = true
						break
					}
				}
			}
			if inner {
				break
			}
		}
		if !inner {
			continue
		}
		ok, refine, err := lc.fair(pr, scc, set, allowed, ae)
		if err != nil {
			return nil, err
		}
		if ok {
			return scc, nil
		}
		if refine != nil {
			sub, err := lc.search(pr, refine, allowed, ae)
			if err != nil || sub != nil {
				return sub, err
			}
		}
	}
	return nil, nil
}

// fair judges a component: ok, or the nodes to retry on (strong fairness
// disabled there), or neither.
func (lc *liveCtx) fair(pr *product, scc []int32, set map[int32]bool, allowed func(int32, int) (bool, error), ae []*lf) (bool, []int32, error) {
	for _, acc := range pr.g.accept {
		hit := false
		for _, u := range scc {
			if acc[pr.nodes[u].g] {
				hit = true
				break
			}
		}
		if !hit {
			return false, nil, nil
		}
	}
	anyEdge := func(p func(s, t int32) (bool, error)) (bool, error) {
		for _, u := range scc {
			for i, e := range pr.adj[u] {
				if !set[e.to] {
					continue
				}
				if ok, err := allowed(u, i); err != nil || !ok {
					if err != nil {
						return false, err
					}
					continue
				}
				ok, err := p(pr.nodes[u].s, pr.nodes[e.to].s)
				if err != nil || ok {
					return ok, err
				}
			}
		}
		return false, nil
	}
	for _, x := range ae {
		ok, err := anyEdge(func(s, t int32) (bool, error) { return lc.pred(x, s, t) })
		if err != nil || !ok {
			return false, nil, err
		}
	}
	var disable []int
	for f, fa := range lc.c.p.fair {
		ok, err := anyEdge(func(s, t int32) (bool, error) { return lc.step(f, s, t) })
		if err != nil {
			return false, nil, err
		}
		if ok {
			continue
		}
		nEn := 0
		for _, u := range scc {
			en, err := lc.enabled(f, pr.nodes[u].s)
			if err != nil {
				return false, nil, err
			}
			if en {
				nEn++
			}
		}
		switch {
		case !fa.Strong && nEn < len(scc):
			continue
		case fa.Strong && nEn == 0:
			continue
		case fa.Strong && nEn < len(scc):
			disable = append(disable, f)
			continue
		}
		return false, nil, nil
	}
	if len(disable) == 0 {
		return true, nil, nil
	}
	var sub []int32
	for _, u := range scc {
		keep := true
		for _, f := range disable {
			en, _ := lc.enabled(f, pr.nodes[u].s)
			if en {
				keep = false
			}
		}
		if keep {
			sub = append(sub, u)
		}
	}
	return false, sub, nil
}

// tarjan computes the strongly connected components of the subgraph of
// allowed edges between members, iteratively.
func tarjan(pr *product, members []int32, in map[int32]bool, allowed func(int32, int) (bool, error)) ([][]int32, error) {
	index := map[int32]int32{}
	low := map[int32]int32{}
	onStack := map[int32]bool{}
	var stack []int32
	var out [][]int32
	next := int32(0)
	type frame struct {
		u int32
		i int
	}
	for _, root := range members {
		if _, seen := index[root]; seen {
			continue
		}
		call := []frame{{root, 0}}
		index[root], low[root] = next, next
		next++
		stack = append(stack, root)
		onStack[root] = true
		for len(call) > 0 {
			fr := &call[len(call)-1]
			u := fr.u
			if fr.i < len(pr.adj[u]) {
				i := fr.i
				fr.i++
				v := pr.adj[u][i].to
				if !in[v] {
					continue
				}
				ok, err := allowed(u, i)
				if err != nil {
					return nil, err
				}
				if !ok {
					continue
				}
				if _, seen := index[v]; !seen {
					index[v], low[v] = next, next
					next++
					stack = append(stack, v)
					onStack[v] = true
					call = append(call, frame{v, 0})
				} else if onStack[v] && index[v] < low[u] {
					low[u] = index[v]
				}
				continue
			}
			call = call[:len(call)-1]
			if len(call) > 0 {
				p := call[len(call)-1].u
				if low[u] < low[p] {
					low[p] = low[u]
				}
			}
			if low[u] == index[u] {
				var scc []int32
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					scc = append(scc, w)
					if w == u {
						break
					}
				}
				out = append(out, scc)
			}
		}
	}
	return out, nil
}

type pstep struct {
	node   int32
	action int32
}

// counterexample builds the prefix to the component and a cycle through it
// that visits a witness of every condition, and fills in the result.
func (lc *liveCtx) counterexample(name string, pr *product, scc []int32, allowed func(int32, int) (bool, error), ae []*lf) error {
	w := &sccWalk{pr: pr, scc: scc, set: make(map[int32]bool, len(scc)), allowed: allowed}
	r := scc[0]
	for _, u := range scc {
		w.set[u] = true
		if u < r {
			r = u
		}
	}
	w.cur = r
	for _, acc := range w.pr.g.accept {
		if err := w.walkTo(func(v int32) bool { return acc[w.pr.nodes[v].g] }); err != nil {
			return err
		}
	}
	for _, x := range ae {
		u, e, ok, err := w.edgeWitness(func(s, t int32) (bool, error) { return lc.pred(x, s, t) })
		if err != nil {
			return err
		}
		if ok {
			if err := w.walkEdge(u, e); err != nil {
				return err
			}
		}
	}
	for f := range lc.c.p.fair {
		u, e, ok, err := w.edgeWitness(func(s, t int32) (bool, error) { return lc.step(f, s, t) })
		if err != nil {
			return err
		}
		if ok {
			if err := w.walkEdge(u, e); err != nil {
				return err
			}
			continue
		}
		if err := w.walkTo(func(v int32) bool { en, _ := lc.enabled(f, w.pr.nodes[v].s); return !en }); err != nil {
			return err
		}
	}
	if len(w.cycle) == 0 || w.cur != r {
		if w.cur == r {
			// leave r by some inner edge first
			for i, e := range w.pr.adj[r] {
				if ok, _ := w.allowed(r, i); ok && w.set[e.to] {
					w.cycle = append(w.cycle, pstep{e.to, e.action})
					w.cur = e.to
					break
				}
			}
		}
		if w.cur != r {
			if err := w.walkTo(func(v int32) bool { return v == r }); err != nil {
				return err
			}
		}
	}
	lc.reportLasso(name, pr, r, w.cycle)
	return nil
}

// reportLasso fills in the result: a liveness violation, its trace the
// prefix from an initial node to r, then cycle (which returns to r).
func (lc *liveCtx) reportLasso(name string, pr *product, r int32, cycle []pstep) {
	var prefix []pstep
	for v := r; v >= 0; v = pr.parent[v] {
		prefix = append([]pstep{{v, pr.pact[v]}}, prefix...)
	}
	prefix, cycle = earliestCycle(pr, prefix, cycle)
	c := lc.c
	actName := func(a int32) string {
		if a < 0 {
			return StutteringAction
		}
		return c.actions[a]
	}
	var trace []TraceStep
	for i, st := range prefix {
		a := InitialAction
		if i > 0 {
			a = actName(st.action)
		}
		trace = append(trace, TraceStep{a, c.p.states[pr.nodes[st.node].s]})
	}
	c.res.CycleStart = len(trace) - 1
	for _, st := range cycle[:len(cycle)-1] {
		trace = append(trace, TraceStep{actName(st.action), c.p.states[pr.nodes[st.node].s]})
	}
	if last := cycle[len(cycle)-1]; last.action < 0 && len(cycle) == 1 {
		trace = append(trace, TraceStep{StutteringAction, c.p.states[pr.nodes[r].s]})
	} else {
		c.res.CycleAction = actName(last.action)
	}
	c.res.Verdict = LivenessViolated
	c.res.Property = name
	c.res.Trace = trace
}

// earliestCycle starts the lasso's cycle as early as its behaviour
// allows, as TLC's counterexamples do: while the state before the cycle's
// start is the cycle's last state before it returns, the cycle starts one
// step earlier (the infinite behaviour is the same, its trace a state
// shorter). The product's nodes differ (the tableau's part), the states
// not.
func earliestCycle(pr *product, prefix, cycle []pstep) ([]pstep, []pstep) {
	for len(prefix) >= 2 && len(cycle) >= 2 {
		before, last := prefix[len(prefix)-2], cycle[len(cycle)-2]
		if pr.nodes[before.node].s != pr.nodes[last.node].s || last.action < 0 {
			break
		}
		start := prefix[len(prefix)-1]
		rotated := make([]pstep, 0, len(cycle))
		rotated = append(rotated, start)
		rotated = append(rotated, cycle[:len(cycle)-2]...)
		cycle = append(rotated, pstep{before.node, last.action})
		prefix = prefix[:len(prefix)-1]
	}
	return prefix, cycle
}

// sccWalk walks inside one strongly connected component of the product
// along allowed edges, recording the cycle it walks.
type sccWalk struct {
	pr      *product
	scc     []int32
	set     map[int32]bool // the nodes of scc
	allowed func(int32, int) (bool, error)
	cycle   []pstep
	cur     int32
}

// path finds the shortest allowed path inside the component.
func (w *sccWalk) path(from int32, to func(int32) bool) ([]pstep, error) {
	if to(from) {
		return nil, nil
	}
	prev := map[int32]pstep{from: {-1, 0}}
	queue := []int32{from}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for i, e := range w.pr.adj[u] {
			if !w.set[e.to] {
				continue
			}
			if _, seen := prev[e.to]; seen {
				continue
			}
			ok, err := w.allowed(u, i)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			prev[e.to] = pstep{u, e.action}
			if to(e.to) {
				var out []pstep
				for v := e.to; v != from; v = prev[v].node {
					out = append([]pstep{{v, prev[v].action}}, out...)
				}
				return out, nil
			}
			queue = append(queue, e.to)
		}
	}
	return nil, fmt.Errorf("check: no path inside a strongly connected component")
}

// edgeWitness finds an allowed inner edge satisfying p.
func (w *sccWalk) edgeWitness(p func(s, t int32) (bool, error)) (int32, pedge, bool, error) {
	for _, u := range w.scc {
		for i, e := range w.pr.adj[u] {
			if !w.set[e.to] {
				continue
			}
			ok, err := w.allowed(u, i)
			if err != nil {
				return 0, pedge{}, false, err
			}
			if !ok {
				continue
			}
			ok, err = p(w.pr.nodes[u].s, w.pr.nodes[e.to].s)
			if err != nil {
				return 0, pedge{}, false, err
			}
			if ok {
				return u, e, true, nil
			}
		}
	}
	return 0, pedge{}, false, nil
}

// walkTo extends the cycle from the current node to the nearest node that
// accepts.
func (w *sccWalk) walkTo(to func(int32) bool) error {
	p, err := w.path(w.cur, to)
	if err != nil {
		return err
	}
	w.cycle = append(w.cycle, p...)
	if len(p) > 0 {
		w.cur = p[len(p)-1].node
	}
	return nil
}

// walkEdge extends the cycle to u, then along e.
func (w *sccWalk) walkEdge(u int32, e pedge) error {
	if err := w.walkTo(func(v int32) bool { return v == u }); err != nil {
		return err
	}
	w.cycle = append(w.cycle, pstep{e.to, e.action})
	w.cur = e.to
	return nil
}

// enabledBySearch decides ENABLED for ErrEnabledBySuccessors: a successor
// of s first, then any reachable state, that makes a step from s.
func (lc *liveCtx) enabledBySearch(s int32, step func(s, t int32) (bool, error)) (bool, error) {
	for _, e := range lc.c.p.succ[s] {
		if e.to == s {
			continue
		}
		if ok, err := step(s, e.to); err != nil || ok {
			return ok, err
		}
	}
	for t := range lc.c.p.states {
		if int32(t) == s {
			continue
		}
		if ok, err := step(s, int32(t)); err != nil || ok {
			return ok, err
		}
	}
	if lc.limit >= 0 {
		return false, errPartial // a state not found yet may be the successor
	}
	return false, nil
}

// angleStep is a's step on stored states, its subscript evaluated once per
// state (memoized under id): the search of enabledBySearch asks for a step
// from s to every reachable state.
func (lc *liveCtx) angleStep(a *AngleStep, id int32) func(s, t int32) (bool, error) {
	sub := func(s int32) (value.Value, error) {
		k := [2]int32{s, id}
		if v, ok := lc.subVal[k]; ok {
			return v, nil
		}
		v, err := a.Sub(lc.c.p.states[s])
		if err == nil {
			lc.subVal[k] = v
		}
		return v, err
	}
	return func(s, t int32) (bool, error) {
		vs, err := sub(s)
		if err != nil {
			return false, err
		}
		vt, err := sub(t)
		if err != nil {
			return false, err
		}
		return a.changed(lc.c.p.states[s], lc.c.p.states[t], vs, vt)
	}
}

// actionText names the first step predicate in x, for messages.
func (lc *liveCtx) actionText(x *lf) string {
	switch x.op {
	case lLit:
		if x.action {
			return lc.nb.leaves[x.leaf].t.Text
		}
	case lAnd, lOr:
		if t := lc.actionText(x.a); t != "" {
			return t
		}
		return lc.actionText(x.b)
	case lBox, lDia:
		return lc.actionText(x.a)
	}
	return ""
}
