package check

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// lop is an operator of a formula in negation normal form.
type lop uint8

const (
	lTrue lop = iota
	lFalse
	lLit // a state or step predicate, possibly negated
	lAnd
	lOr
	lBox
	lDia
)

// lf is a formula in negation normal form, interned by key.
type lf struct {
	op     lop
	a, b   *lf
	leaf   int // index into liveCtx.leaves (lLit)
	neg    bool
	action bool // lLit on a step predicate
	key    string
}

func (x *lf) temporal() bool {
	switch x.op {
	case lBox, lDia:
		return true
	case lAnd, lOr:
		return x.a.temporal() || x.b.temporal()
	}
	return false
}

func (x *lf) hasAction() bool {
	switch x.op {
	case lLit:
		return x.action
	case lAnd, lOr:
		return x.a.hasAction() || x.b.hasAction()
	case lBox, lDia:
		return x.a.hasAction()
	}
	return false
}

type leaf struct {
	t *Temporal
}

// nnfBuilder turns Temporal formulas into interned NNF formulas.
type nnfBuilder struct {
	leaves []leaf
	ids    map[*Temporal]int
	tab    map[string]*lf
}

func (nb *nnfBuilder) mk(op lop, a, b *lf, leafID int, neg, action bool) *lf {
	var key string
	switch op {
	case lTrue:
		key = "T"
	case lFalse:
		key = "F"
	case lLit:
		key = "L" + strconv.Itoa(leafID)
		if neg {
			key = "!" + key
		}
	case lAnd, lOr:
		// constant folding keeps trivial formulas small
		if op == lAnd && (a.op == lFalse || b.op == lFalse) || op == lOr && (a.op == lTrue || b.op == lTrue) {
			return nb.mk(map[bool]lop{true: lFalse, false: lTrue}[op == lAnd], nil, nil, 0, false, false)
		}
		if op == lAnd && a.op == lTrue || op == lOr && a.op == lFalse {
			return b
		}
		if op == lAnd && b.op == lTrue || op == lOr && b.op == lFalse {
			return a
		}
		key = map[lop]string{lAnd: "&", lOr: "|"}[op] + "(" + a.key + "," + b.key + ")"
	case lBox:
		key = "G(" + a.key + ")"
	case lDia:
		key = "E(" + a.key + ")"
	}
	if x, ok := nb.tab[key]; ok {
		return x
	}
	x := &lf{op: op, a: a, b: b, leaf: leafID, neg: neg, action: action, key: key}
	nb.tab[key] = x
	return x
}

func (nb *nnfBuilder) nnf(t *Temporal, neg bool) (*lf, error) {
	bin := func(op lop, xs []*Temporal) (*lf, error) {
		if neg {
			op = map[lop]lop{lAnd: lOr, lOr: lAnd}[op]
		}
		var out *lf
		for _, x := range xs {
			y, err := nb.nnf(x, neg)
			if err != nil {
				return nil, err
			}
			if out == nil {
				out = y
			} else {
				out = nb.mk(op, out, y, 0, false, false)
			}
		}
		if out == nil {
			return nb.mk(map[bool]lop{true: lTrue, false: lFalse}[op == lAnd], nil, nil, 0, false, false), nil
		}
		return out, nil
	}
	switch t.Op {
	case TState, TAction:
		id, ok := nb.ids[t]
		if !ok {
			id = len(nb.leaves)
			nb.ids[t] = id
			nb.leaves = append(nb.leaves, leaf{t})
		}
		return nb.mk(lLit, nil, nil, id, neg, t.Op == TAction), nil
	case TNot:
		return nb.nnf(t.Args[0], !neg)
	case TAnd:
		return bin(lAnd, t.Args)
	case TOr:
		return bin(lOr, t.Args)
	case TImplies:
		return nb.nnf(&Temporal{Op: TOr, Args: []*Temporal{{Op: TNot, Args: t.Args[:1]}, t.Args[1]}}, neg)
	case TAlways, TEventually:
		a, err := nb.nnf(t.Args[0], neg)
		if err != nil {
			return nil, err
		}
		if (t.Op == TAlways) != neg {
			return nb.mk(lBox, a, nil, 0, false, false), nil
		}
		return nb.mk(lDia, a, nil, 0, false, false), nil
	case TLeadsTo:
		f := &Temporal{Op: TAlways, Args: []*Temporal{{Op: TImplies, Args: []*Temporal{t.Args[0], {Op: TEventually, Args: t.Args[1:2]}}}}}
		return nb.nnf(f, neg)
	}
	return nil, fmt.Errorf("check: unknown temporal operator %d", t.Op)
}

// dnf splits a formula into disjuncts of conjunct lists at its top level
// (temporal subformulas are atoms).
func dnf(x *lf) [][]*lf {
	switch x.op {
	case lOr:
		return append(dnf(x.a), dnf(x.b)...)
	case lAnd:
		var out [][]*lf
		for _, l := range dnf(x.a) {
			for _, r := range dnf(x.b) {
				c := append(append([]*lf{}, l...), r...)
				out = append(out, c)
			}
		}
		return out
	case lFalse:
		return nil
	case lTrue:
		return [][]*lf{{}}
	}
	return [][]*lf{{x}}
}

// gba is a generalized Büchi automaton built from an NNF formula by the
// tableau construction of Gerth, Peled, Vardi and Wolper (1995).
type gba struct {
	labels [][]*lf // literals each node requires of its state
	succ   [][]int
	init   []int
	accept [][]bool // per eventuality: nodes that fulfil it
}

type gnode struct {
	incoming map[int]bool
	old      map[string]*lf
	next     map[string]*lf
	new      []*lf
}

func setKey(m map[string]*lf) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ";")
}

// maxGBANodes bounds the tableau, so that a huge formula fails clearly.
const maxGBANodes = 1 << 16

// buildGBA builds the generalized Büchi automaton of f by the tableau
// construction: one acceptance set per eventuality <>X of f.
func buildGBA(f *lf, nb *nnfBuilder) (*gba, error) {
	t := &tableau{nb: nb, index: map[string]int{}}
	if err := t.expand(&gnode{incoming: map[int]bool{-1: true}, old: map[string]*lf{}, next: map[string]*lf{}, new: []*lf{f}}); err != nil {
		return nil, err
	}
	g := &gba{labels: make([][]*lf, len(t.nodes)), succ: make([][]int, len(t.nodes))}
	evs := map[string]*lf{}
	for i, n := range t.nodes {
		for _, v := range n.old {
			if v.op == lLit {
				g.labels[i] = append(g.labels[i], v)
			}
			if v.op == lDia {
				evs[v.key] = v
			}
		}
		sort.Slice(g.labels[i], func(a, b int) bool { return g.labels[i][a].key < g.labels[i][b].key })
		for k := range n.incoming {
			if k == -1 {
				g.init = append(g.init, i)
			} else {
				g.succ[k] = append(g.succ[k], i)
			}
		}
	}
	for i := range g.succ {
		sort.Ints(g.succ[i])
	}
	sort.Ints(g.init)
	for _, k := range sortedKeys(evs) {
		ev := evs[k]
		acc := make([]bool, len(t.nodes))
		for i, n := range t.nodes {
			_, has := n.old[ev.key]
			_, ful := n.old[ev.a.key]
			acc[i] = !has || ful
		}
		g.accept = append(g.accept, acc)
	}
	return g, nil
}

// tableau is the graph of buildGBA while it is expanded: the nodes so far,
// indexed by their old and next sets.
type tableau struct {
	nb    *nnfBuilder
	nodes []*gnode
	index map[string]int
}

// copyNode is a copy of n that shares no set with it.
func copyNode(n *gnode) *gnode {
	m := &gnode{incoming: map[int]bool{}, old: map[string]*lf{}, next: map[string]*lf{}, new: append([]*lf{}, n.new...)}
	for k := range n.incoming {
		m.incoming[k] = true
	}
	for k, v := range n.old {
		m.old[k] = v
	}
	for k, v := range n.next {
		m.next[k] = v
	}
	return m
}

// expand processes the formulas of n still to be decided (new), one
// operator at a time, splitting n on disjunctions and eventualities; a
// fully processed node joins the graph (merged with an equal one) and its
// next formulas start its successor.
func (t *tableau) expand(n *gnode) error {
	if len(n.new) == 0 {
		key := setKey(n.old) + "|" + setKey(n.next)
		if i, ok := t.index[key]; ok {
			for k := range n.incoming {
				t.nodes[i].incoming[k] = true
			}
			return nil
		}
		if len(t.nodes) >= maxGBANodes {
			return fmt.Errorf("check: the liveness tableau exceeds %d t.nodes", maxGBANodes)
		}
		id := len(t.nodes)
		t.nodes = append(t.nodes, n)
		t.index[key] = id
		nx := &gnode{incoming: map[int]bool{id: true}, old: map[string]*lf{}, next: map[string]*lf{}}
		for _, v := range n.next {
			nx.new = append(nx.new, v)
		}
		sort.Slice(nx.new, func(i, j int) bool { return nx.new[i].key < nx.new[j].key })
		return t.expand(nx)
	}
	eta := n.new[len(n.new)-1]
	n.new = n.new[:len(n.new)-1]
	if _, done := n.old[eta.key]; done {
		return t.expand(n)
	}
	switch eta.op {
	case lTrue:
		n.old[eta.key] = eta
		return t.expand(n)
	case lFalse:
		return nil
	case lLit:
		neg := t.nb.mk(lLit, nil, nil, eta.leaf, !eta.neg, eta.action)
		if _, clash := n.old[neg.key]; clash {
			return nil
		}
		n.old[eta.key] = eta
		return t.expand(n)
	case lAnd:
		n.old[eta.key] = eta
		n.new = append(n.new, eta.a, eta.b)
		return t.expand(n)
	case lOr:
		n.old[eta.key] = eta
		n2 := copyNode(n)
		n.new = append(n.new, eta.a)
		n2.new = append(n2.new, eta.b)
		if err := t.expand(n); err != nil {
			return err
		}
		return t.expand(n2)
	case lBox:
		n.old[eta.key] = eta
		n.new = append(n.new, eta.a)
		n.next[eta.key] = eta
		return t.expand(n)
	case lDia:
		n.old[eta.key] = eta
		n2 := copyNode(n)
		n.new = append(n.new, eta.a)
		n2.next[eta.key] = eta
		if err := t.expand(n); err != nil {
			return err
		}
		return t.expand(n2)
	}
	return fmt.Errorf("check: bad formula")
}

func sortedKeys(m map[string]*lf) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
