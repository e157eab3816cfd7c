package eval

import "github.com/verimeter/verimeter/tla/syntax"

// maxAliasDepth bounds how many definitions deep refersTemporal looks.
const maxAliasDepth = 16

// refersTemporal reports whether x is a temporal formula, looking through
// references to definitions without parameters: the Toolbox names the
// specification spec_N == LiveSpec, where LiveSpec == Spec /\ Liveness and
// only Spec's and Liveness's bodies have [] or WF. splitSpec expands such a
// reference as it expands a conjunct's definition.
func (m *Machine) refersTemporal(x syntax.Expr, depth int) bool {
	if containsTemporal(x) {
		return true
	}
	if depth >= maxAliasDepth {
		return false
	}
	switch y := x.(type) {
	case *syntax.Ref:
		if d, ok := m.defs[y.Parts[0].Name]; ok && len(y.Parts) == 1 && y.Parts[0].Args == nil && len(d.Params) == 0 && d.Instance == nil {
			return m.refersTemporal(d.Body, depth+1)
		}
	case *syntax.Junction:
		if y.Op != "/\\" {
			return false
		}
		for _, it := range y.Items {
			if m.refersTemporal(it, depth+1) {
				return true
			}
		}
	}
	return false
}

// boxActionExpr is the action [A]_v as A \/ UNCHANGED v, and <<A>>_v as
// A /\ ~UNCHANGED v (TLA+ book, section 5.5 and 16.2.2), for [A]_v used
// inside an action (BigNext == [NowNext]_now /\ [HCnxt]_hr /\ ...).
func boxActionExpr(b *syntax.BoxAction) syntax.Expr {
	n := syntax.Node{P: b.P}
	unchanged := &syntax.OpApp{Node: n, Op: "UNCHANGED", Args: []syntax.Expr{b.Sub}}
	if b.Angle {
		return &syntax.Junction{Node: n, Op: "/\\", Items: []syntax.Expr{b.Action,
			&syntax.OpApp{Node: n, Op: "~", Args: []syntax.Expr{unchanged}}}}
	}
	return &syntax.Junction{Node: n, Op: "\\/", Items: []syntax.Expr{b.Action, unchanged}}
}
