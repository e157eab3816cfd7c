package eval

import "github.com/verimeter/verimeter/tla/syntax"

// letInstances lists the INSTANCEs written in LET definitions of m's
// definitions and assumptions (G == INSTANCE Graphs inside EWD687a's
// TreeWithRoot, IO == INSTANCE IOUtils inside SVG's SVGSerialize), so that
// the loader reads their modules too.
func letInstances(m *syntax.Module) []*syntax.Instance {
	var out []*syntax.Instance
	var visit func(x syntax.Expr)
	visit = func(x syntax.Expr) {
		if l, ok := x.(*syntax.Let); ok {
			for _, d := range l.Defs {
				if d.Instance != nil {
					out = append(out, d.Instance)
				}
			}
		}
		visitChildren(x, visit)
	}
	for _, u := range m.Units {
		switch u := u.(type) {
		case *syntax.Def:
			if u.Body != nil {
				visit(u.Body)
			}
		case *syntax.Assume:
			visit(u.Expr)
		}
	}
	return out
}
