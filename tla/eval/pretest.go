package eval

import (
	"strconv"
	"unsafe"

	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// A pretest decides, for one element x of a quantifier's or a set
// filter's set, whether the body is certainly FALSE before x is bound:
// the body's leading conjuncts are m.f = e (or e = m.f) with e a literal
// or a name other than m, and one of them is false while the ones before
// it are true. This is the shape of a message scan, \E m \in msgs :
// m.type = "phase1a" /\ ..., where most elements fail the first test: the
// pretest reads the field and compares it without binding m and without
// the closures of the conjunction, the field access and the equality.
// It never decides TRUE and never fails: an element it cannot decide (no
// record, no field f, an error in e or in the comparison) is left to
// the body, which evaluates from the first conjunct as before and reports
// what it finds, so the outcome, errors included, is the body's.
type pretest []fieldTest

// fieldTest is one leading conjunct m.f = e.
type fieldTest struct {
	field *value.FieldCache // f
	lit   value.Value       // e when it is a literal
	val   evalFn            // e otherwise, which does not name m: the same value for every element
}

// maxFieldTests bounds a pretest's tests, so that their values (preVals)
// live on the stack.
const maxFieldTests = 4

// preVals holds the values of a pretest's e for one scan: e does not name
// the bound variable, so it has the same value for every element, and is
// evaluated once per scan instead of once per element.
type preVals struct {
	e     [maxFieldTests]value.Value
	n     int  // the tests that can decide: those before the first e that failed to evaluate
	ready bool // e evaluated (by the first element's test: a scan of no element evaluates none)
}

// prepare evaluates the tests' e for a scan. A test whose e fails, and the
// tests after it, decide nothing: the body meets the failure, if it gets
// there, and reports it.
func (p pretest) prepare(r *rt) (pv preVals) {
	pv.ready = true
	for i, t := range p {
		e := t.lit
		if e == nil {
			var err error
			if e, err = t.val(r); err != nil {
				break
			}
		}
		pv.e[i], pv.n = e, i+1
	}
	return pv
}

// fails reports whether the body is FALSE for x by its leading field
// tests, whose e are pv (prepared in r by the first call of a scan);
// false when they hold or cannot decide.
func (p pretest) fails(r *rt, pv *preVals, x value.Value) bool {
	if !pv.ready {
		*pv = p.prepare(r)
	}
	f, ok := x.(*value.Func)
	if !ok {
		return false
	}
	for i := 0; i < pv.n; i++ {
		v, ok := p[i].field.Field(f)
		if !ok {
			return false
		}
		eq, err := value.Equal(v, pv.e[i])
		if err != nil {
			return false
		}
		if !eq {
			return true
		}
	}
	return false
}

// minIndexedScan is the fewest elements of a set whose scans are
// remembered (positions): a smaller one is scanned about as fast.
const minIndexedScan = 8

// positions returns the worker's memo entry (value.WorkerMemo.Scan) of the
// positions of the elements of s that the first test, whose e is a
// literal, does not reject; they are found by a scan of s the first time
// and remembered for the next scans of s here, which the worker makes
// again and again (\E m \in msgs : m.type = "phase1b" /\ ..., for each
// acceptor, each ballot). The first test depends on the element only, so
// a position left out is one the pretest would reject; the positions are
// in the set's order, the order of the scan. Nil where the whole set is
// to be scanned: no literal first test, no memo, a small set, or the
// memo's slot held by a scan going on.
func (p pretest) positions(r *rt, s *value.Set) *value.ScanEntry {
	if len(p) == 0 || p[0].lit == nil || r.memo == nil || s.Len() < minIndexedScan {
		return nil
	}
	t := &p[0]
	e, hit := r.memo.Scan(unsafe.Pointer(t), s)
	if e != nil && !hit {
		e.Start(unsafe.Pointer(t), s)
		for j := 0; j < s.Len(); j++ {
			if !t.litFails(s.At(j)) {
				e.Add(j)
			}
		}
	}
	return e
}

// litFails is fails for the test alone, whose e is the literal lit.
func (t *fieldTest) litFails(x value.Value) bool {
	f, ok := x.(*value.Func)
	if !ok {
		return false
	}
	v, ok := t.field.Field(f)
	if !ok {
		return false
	}
	eq, err := value.Equal(v, t.lit)
	return err == nil && !eq
}

// pretest returns the pretest of a body over bounds bs, compiled in s2,
// the body's scope (the bound name in it); nil unless there is one bound
// of one name, not a tuple, and the body begins with a field test. A
// field test's e must be pure (no printing, no randomness, no TLCGet): the
// pretest evaluates it once per scan of one element or more, also where
// the body would not (the body rejects the elements before it gets to e).
// At most maxFieldTests tests are taken.
func (s2 scope) pretest(bs []syntax.Bound, body syntax.Expr) pretest {
	if len(bs) != 1 || len(bs[0].Names) != 1 || bs[0].Tuple || bs[0].Set == nil {
		return nil
	}
	m := bs[0].Names[0]
	var p pretest
	for _, c := range leadingConjuncts(body, nil) {
		field, e, ok := fieldTestOf(c, m)
		if !ok || len(p) == maxFieldTests {
			break
		}
		ft := fieldTest{field: value.NewFieldCache(s2.c.m.strs.String(field))}
		switch e := e.(type) {
		case *syntax.Str:
			ft.lit = s2.c.m.strs.String(e.Val)
		case *syntax.Num:
			n, err := strconv.ParseInt(e.Text, 10, 32)
			if err != nil {
				return p // the body reports the number
			}
			ft.lit = value.Int(n)
		default:
			t := s2
			t.fl = newFlags()
			ft.val = t.expr(e)
			if t.fl.impure || t.fl.next {
				return p
			}
			s2.fl.merge(t.fl)
		}
		p = append(p, ft)
	}
	return p
}

// leadingConjuncts appends to out the conjuncts of x in the order a
// conjunction evaluates them, nested /\ lists flattened; x itself when it
// is no conjunction.
func leadingConjuncts(x syntax.Expr, out []syntax.Expr) []syntax.Expr {
	for {
		l, ok := x.(*syntax.Label)
		if !ok {
			break
		}
		x = l.Body
	}
	if j, ok := x.(*syntax.Junction); ok && j.Op == "/\\" {
		for _, it := range j.Items {
			out = leadingConjuncts(it, out)
		}
		return out
	}
	return append(out, x)
}

// fieldTestOf matches c against m.f = e and e = m.f, e a string or number
// literal or a name (without arguments) other than m.
func fieldTestOf(c syntax.Expr, m string) (field string, e syntax.Expr, ok bool) {
	op, isOp := c.(*syntax.OpApp)
	if !isOp || op.Op != "=" || len(op.Args) != 2 {
		return "", nil, false
	}
	for k := 0; k < 2; k++ {
		d, isDot := op.Args[k].(*syntax.Dot)
		if !isDot || !isName(d.Rec, m) {
			continue
		}
		other := op.Args[1-k]
		switch o := other.(type) {
		case *syntax.Str, *syntax.Num:
			return d.Field, other, true
		case *syntax.Ref:
			if len(o.Parts) == 1 && o.Parts[0].Args == nil && o.Parts[0].Name != m {
				return d.Field, other, true
			}
		}
	}
	return "", nil, false
}

// isName reports whether x is the bare name m.
func isName(x syntax.Expr, m string) bool {
	r, ok := x.(*syntax.Ref)
	return ok && len(r.Parts) == 1 && r.Parts[0].Args == nil && r.Parts[0].Name == m
}
