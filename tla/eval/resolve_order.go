package eval

import "github.com/verimeter/verimeter/tla/syntax"

// declOrder tracks a module's constants and variables by position: like a
// definition, a declaration is in scope only after it, so a unit before
// VARIABLE i may bind i itself (SeqToSet(seq) == {seq[i] : i \in ...} in
// the corpus's TLCMC, which declares i further down, as SANY accepts).
type declOrder struct {
	pending []syntax.Decl // declarations not reached yet
}

// newDeclOrder marks in later the constants and variables of m declared
// after its first unit.
func newDeclOrder(m *syntax.Module, later map[string]bool) *declOrder {
	o := &declOrder{}
	if len(m.Units) == 0 {
		return o
	}
	first := unitPos(m.Units[0])
	for _, list := range [][]syntax.Decl{m.Constants, m.Variables} {
		for _, d := range list {
			if before(first, d.Pos) {
				o.pending = append(o.pending, d)
				later[d.Name] = true
			}
		}
	}
	return o
}

// reach brings into scope (removes from later) the declarations before u
// (all of them at a unit from elsewhere, which has no place in the file).
func (o *declOrder) reach(u any, later map[string]bool) {
	at := unitPos(u)
	kept := o.pending[:0]
	for _, d := range o.pending {
		if d.Pos.File != at.File || before(d.Pos, at) {
			delete(later, d.Name)
		} else {
			kept = append(kept, d)
		}
	}
	o.pending = kept
}

func unitPos(u any) syntax.Pos {
	switch u := u.(type) {
	case *syntax.Def:
		return u.Pos
	case *syntax.Assume:
		return u.Pos
	case *syntax.Instance:
		return u.Pos
	}
	return syntax.Pos{}
}

// before tells whether a is strictly before b in the same file.
func before(a, b syntax.Pos) bool {
	return a.File == b.File && (a.Line < b.Line || a.Line == b.Line && a.Col < b.Col)
}
