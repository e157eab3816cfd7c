package eval

import (
	"context"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// vcEvent is a line of a log of a run of message passing: its node and
// its vector clock (an entry per node, 0 for nodes not heard of).
type vcEvent struct {
	node  int
	clock []int64
}

// happenedBefore is v1 -> v2 for vector clocks: no entry greater, one
// smaller.
func happenedBefore(v1, v2 []int64) bool {
	less := false
	for i := range v1 {
		if v1[i] > v2[i] {
			return false
		}
		less = less || v1[i] < v2[i]
	}
	return less
}

// TestCausalOrderProperty: for random runs of message passing among up to
// five nodes, each line's clock on the nodes it has heard of (local steps, sends, receives of any message in flight),
// CausalOrder of the run's log, shuffled, is a reordering of it in which
// no line comes after a line that happened after it (VectorClocks'
// IsCausalOrder), each node's lines in their order.
func TestCausalOrderProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 5).Draw(rt, "nodes")
		clocks := make([][]int64, n)
		for i := range clocks {
			clocks[i] = make([]int64, n)
		}
		var inFlight [][]int64
		var log []vcEvent
		steps := rapid.IntRange(1, 40).Draw(rt, "steps")
		for range steps {
			p := rapid.IntRange(0, n-1).Draw(rt, "node")
			kind := rapid.IntRange(0, 2).Draw(rt, "kind")
			if kind == 2 && len(inFlight) > 0 {
				k := rapid.IntRange(0, len(inFlight)-1).Draw(rt, "msg")
				for i, v := range inFlight[k] {
					clocks[p][i] = max(clocks[p][i], v)
				}
				inFlight = append(inFlight[:k], inFlight[k+1:]...)
			}
			clocks[p][p]++
			if kind == 1 {
				inFlight = append(inFlight, append([]int64(nil), clocks[p]...))
			}
			log = append(log, vcEvent{p, append([]int64(nil), clocks[p]...)})
		}
		perm := rapid.Permutation(log).Draw(rt, "shuffled")
		strs := value.NewInterner()
		lines := make([]*causalLine, len(perm))
		byVal := map[*value.Func]vcEvent{}
		for i, e := range perm {
			// The clock's domain: the nodes heard of (as ShiViz logs
			// them; TLC fails on a node without lines).
			var dom, rng []value.Value
			for k := range n {
				if e.clock[k] > 0 {
					dom, rng = append(dom, value.Int(k)), append(rng, value.Int(e.clock[k]))
				}
			}
			clock, err := value.NewFunc(dom, rng)
			if err != nil {
				rt.Fatal(err)
			}
			// The line itself: its node and clock, and its place in the
			// shuffled log, so that equal lines stay apart.
			val, err := value.Record(strs, []string{"node", "vc", "at"}, []value.Value{value.Int(e.node), clock, value.Int(i)})
			if err != nil {
				rt.Fatal(err)
			}
			byVal[val] = e
			lines[i] = &causalLine{val: val, node: value.Int(e.node), clock: clock, time: e.clock[e.node], hosts: dom}
		}
		out, err := causalOrder(lines, syntax.Pos{})
		if err != nil {
			rt.Fatalf("CausalOrder of a run's log: %v", err)
		}
		if len(out) != len(log) {
			rt.Fatalf("%d lines out of %d", len(out), len(log))
		}
		seen := map[*value.Func]bool{}
		last := make([]int64, n)
		for i, v := range out {
			f := v.(*value.Func)
			e, ok := byVal[f]
			if !ok || seen[f] {
				rt.Fatalf("line %d (%s) is not one of the log's, or twice", i, v)
			}
			seen[f] = true
			if e.clock[e.node] <= last[e.node] {
				rt.Fatalf("node %d's line %d after its line %d", e.node, e.clock[e.node], last[e.node])
			}
			last[e.node] = e.clock[e.node]
			for _, w := range out[i+1:] {
				if later := byVal[w.(*value.Func)]; happenedBefore(later.clock, e.clock) {
					rt.Fatalf("%v (node %d) after %v (node %d), which happened after it", later.clock, later.node, e.clock, e.node)
				}
			}
		}
	})
}

// TestCausalOrderErrors: a clock naming a node without lines, or an entry
// past a node's last line (a gap in its log), is an error, where TLC's
// Java fails or drops the lines it cannot order.
func TestCausalOrderErrors(t *testing.T) {
	fn := func(entries ...int64) value.Value {
		dom := make([]value.Value, len(entries))
		rng := make([]value.Value, len(entries))
		for i, e := range entries {
			dom[i], rng[i] = value.Int(i), value.Int(e)
		}
		f, err := value.NewFunc(dom, rng)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	line := func(node int, clock value.Value) *causalLine {
		f := clock.(*value.Func)
		var hosts []value.Value
		for i := range f.Len() {
			hosts = append(hosts, value.Int(i))
		}
		c, _ := clockEntry(clock, value.Int(node), syntax.Pos{})
		return &causalLine{val: value.Tuple(value.Int(node), clock), node: value.Int(node), clock: clock, time: c, hosts: hosts}
	}
	cases := map[string][]*causalLine{
		"unknown node": {line(0, fn(1, 1))},
		"gap":          {line(0, fn(1, 0)), line(1, fn(2, 1))},
	}
	for name, lines := range cases {
		if out, err := causalOrder(lines, syntax.Pos{}); err == nil || !strings.Contains(err.Error(), "CausalOrder") {
			t.Errorf("%s: %v, %v; want an error", name, out, err)
		}
	}
}

// TestCausalOrderInModel: CausalOrder called as EWD998ChanTrace calls it
// (LAMBDAs for the clock, the node and the domain), on a log shuffled out
// of its causal order, which here is a chain, so that there is one answer.
// TLC: no error, 1 distinct state.
func TestCausalOrderInModel(t *testing.T) {
	spec := `---- MODULE Spec ----
EXTENDS Naturals, Sequences, VectorClocks
Log == << [node |-> "b", vc |-> [a |-> 1, b |-> 2]],
          [node |-> "a", vc |-> [a |-> 1]],
          [node |-> "a", vc |-> [a |-> 2, b |-> 2]],
          [node |-> "b", vc |-> [a |-> 1, b |-> 1]] >>
Sorted == CausalOrder(Log, LAMBDA l : l.vc, LAMBDA l : l.node, LAMBDA vc : DOMAIN vc)
ASSUME Sorted = << Log[2], Log[4], Log[1], Log[3] >>
VARIABLE x
Init == x = Len(Sorted)
Next == UNCHANGED x
====
`
	dir := writeSpec(t, map[string]string{"Spec.tla": spec, "Spec.cfg": "INIT Init\nNEXT Next\n"})
	res, err := CheckModel(context.Background(), dir+"/Spec.tla", dir+"/Spec.cfg", check.Options{Workers: 1})
	if err != nil || res.Verdict != check.Success || res.Distinct != 1 {
		t.Fatalf("%s, %d distinct, %v; TLC: success, 1", res.Verdict, res.Distinct, err)
	}
}
