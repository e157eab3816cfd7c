package eval

import (
	"cmp"
	"slices"

	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// compileCausalOrder is VectorClocks' CausalOrder(log, clock(_), node(_),
// domain(_)): the log (a sequence of lines) reordered so that every line
// comes after the lines its vector clock says happened before it. Its TLA+
// definition is a CHOOSE over all reorderings, which no checker can
// enumerate for a real log; TLC computes it in Java, and so do we, by the
// same algorithm (after ShiViz):
//
//  1. the lines of each node (node(line)), sorted stably by the node's own
//     entry in their clock (clock(line)[node(line)]);
//  2. a graph: a line's parents are, for each node h of its clock's domain
//     (domain(clock(line))) whose entry exceeds every entry for h seen so
//     far on its node, h's line at that entry (entries count a node's
//     lines from 1, without gaps);
//  3. passes over the nodes, each taking the first remaining line of every
//     node in turn whose parents are all taken.
//
// TLC visits the nodes in the order of a Java hash map of their values, a
// hash that varies from run to run with TLC's fingerprint polynomial (-fp);
// we visit them in TLC's order of values. Both orders give a causal order
// of the log; lines that are concurrent may come out in another order
// than in a given TLC run (whose own order changes with -fp). A clock entry
// naming a node without lines, or a line past a node's last, is an error;
// so is a log that is not causally ordered (a cycle), where TLC's Java
// returns the lines it could order and drops the rest.
func compileCausalOrder(s scope, pos syntax.Pos, args []syntax.Expr) evalFn {
	logFn := s.expr(args[0])
	clock, clockSlots, err := s.opValueArg("CausalOrder", args[1], 1)
	if err != nil {
		return errFn(err)
	}
	node, nodeSlots, err := s.opValueArg("CausalOrder", args[2], 1)
	if err != nil {
		return errFn(err)
	}
	domain, domSlots, err := s.opValueArg("CausalOrder", args[3], 1)
	if err != nil {
		return errFn(err)
	}
	apply := func(r *rt, f evalFn, slot int, v value.Value) (value.Value, error) {
		r.slots[slot] = v
		return f(r)
	}
	return func(r *rt) (value.Value, error) {
		log, err := seqOperand(r, logFn, pos, "CausalOrder")
		if err != nil {
			return nil, err
		}
		lines := make([]*causalLine, log.Len())
		for i := range lines {
			l := &causalLine{val: log.RangeAt(i)}
			if l.node, err = apply(r, node, nodeSlots[0], l.val); err != nil {
				return nil, err
			}
			if l.clock, err = apply(r, clock, clockSlots[0], l.val); err != nil {
				return nil, err
			}
			if l.time, err = clockEntry(l.clock, l.node, pos); err != nil {
				return nil, err
			}
			dom, err := apply(r, domain, domSlots[0], l.clock)
			if err != nil {
				return nil, err
			}
			set, ok := dom.(value.SetValue)
			if !ok {
				return nil, evalErr(pos, "CausalOrder: the domain of clock %s is %s, not a set", l.clock, dom)
			}
			en, err := set.Enumerate()
			if err != nil {
				return nil, wrap(pos, err)
			}
			l.hosts = make([]value.Value, en.Len())
			for k := range l.hosts {
				l.hosts[k] = en.At(k)
			}
			lines[i] = l
		}
		sorted, err := causalOrder(lines, pos)
		if err != nil {
			return nil, err
		}
		return value.Tuple(sorted...), nil
	}
}

// causalLine is one line of CausalOrder's log with what the operator
// arguments say of it, and its place in the graph of step 2.
type causalLine struct {
	val, node, clock value.Value
	time             int64
	hosts            []value.Value // the clock's domain
	parents          int           // parents not yet taken
	children         []*causalLine
}

// clockEntry is clock[host], which must be an integer.
func clockEntry(clock, host value.Value, pos syntax.Pos) (int64, error) {
	f, ok := clock.(*value.Func)
	if !ok {
		return 0, evalErr(pos, "CausalOrder: the clock %s is not a function", clock)
	}
	v, err := f.Apply(host)
	if err != nil {
		return 0, wrap(pos, err)
	}
	n, ok := v.(value.Int)
	if !ok {
		return 0, evalErr(pos, "CausalOrder: the entry of %s in clock %s is %s, not an integer", host, clock, v)
	}
	return int64(n), nil
}

// causalOrder runs steps 1 to 3 of compileCausalOrder on the lines.
func causalOrder(lines []*causalLine, pos syntax.Pos) ([]value.Value, error) {
	// Step 1: the nodes in TLC's order of values, each with its lines.
	var nodes []value.Value
	byNode := map[uint64][]int{} // node hash -> indexes into nodes
	find := func(v value.Value) (int, error) {
		for _, k := range byNode[v.Hash()] {
			if eq, err := value.Equal(nodes[k], v); err != nil || eq {
				return k, wrap(pos, err)
			}
		}
		return -1, nil
	}
	at := make([]int, len(lines)) // line -> index of its node in nodes
	for i, l := range lines {
		k, err := find(l.node)
		if err != nil {
			return nil, err
		}
		if k < 0 {
			k = len(nodes)
			byNode[l.node.Hash()] = append(byNode[l.node.Hash()], k)
			nodes = append(nodes, l.node)
		}
		at[i] = k
	}
	var cmpErr error
	order := make([]int, len(nodes))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		c, err := value.Compare(nodes[a], nodes[b])
		if err != nil && cmpErr == nil {
			cmpErr = err
		}
		return c
	})
	if cmpErr != nil {
		return nil, wrap(pos, cmpErr)
	}
	rank := make([]int, len(nodes)) // node index -> position in TLC's order
	for p, k := range order {
		rank[k] = p
	}
	logs := make([][]*causalLine, len(nodes))
	for i, l := range lines {
		logs[rank[at[i]]] = append(logs[rank[at[i]]], l)
	}
	for _, log := range logs {
		slices.SortStableFunc(log, func(a, b *causalLine) int { return cmp.Compare(a.time, b.time) })
	}
	// Step 2: the graph.
	for h, log := range logs {
		global := make([]int64, len(logs))
		for _, l := range log {
			global[h] = l.time
			for _, other := range l.hosts {
				k, err := find(other)
				if err != nil {
					return nil, err
				}
				if k < 0 {
					return nil, evalErr(pos, "CausalOrder: clock %s names %s, which has no line in the log", l.clock, other)
				}
				o := rank[k]
				t, err := clockEntry(l.clock, other, pos)
				if err != nil {
					return nil, err
				}
				if global[o] >= t {
					continue
				}
				global[o] = t
				if t < 1 || t > int64(len(logs[o])) {
					return nil, evalErr(pos, "CausalOrder: clock %s gives %s the entry %d, but the log has %d lines of it", l.clock, other, t, len(logs[o]))
				}
				p := logs[o][t-1]
				if !slices.Contains(p.children, l) {
					p.children = append(p.children, l)
					l.parents++
				}
			}
		}
	}
	return takeCausally(logs, len(lines), pos)
}

// takeCausally is step 3 of compileCausalOrder: passes over the nodes'
// logs, each taking the first remaining line of every node in turn whose
// parents are all taken, n lines in all.
func takeCausally(logs [][]*causalLine, n int, pos syntax.Pos) ([]value.Value, error) {
	sorted := make([]value.Value, 0, n)
	for range n {
		for h, log := range logs {
			if len(log) == 0 || log[0].parents > 0 {
				continue
			}
			l := log[0]
			logs[h] = log[1:]
			for _, c := range l.children {
				c.parents--
			}
			sorted = append(sorted, l.val)
		}
	}
	if len(sorted) != n {
		return nil, evalErr(pos, "CausalOrder: the log is not causally ordered (%d of its %d lines ordered): its clocks form a cycle", len(sorted), n)
	}
	return sorted, nil
}
