package eval

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"unicode/utf16"

	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// ErrEval is wrapped by every evaluation error raised here (as opposed to
// the value package's own classes, which are wrapped as they come).
var ErrEval = errors.New("evaluation error")

func evalErr(pos syntax.Pos, format string, a ...any) error {
	return &PosError{pos, fmt.Sprintf(format, a...), ErrEval}
}

func unsupported(pos syntax.Pos, what string) error {
	return &PosError{pos, "unsupported: " + what, ErrUnsupported}
}

func wrap(pos syntax.Pos, err error) error {
	if err == nil {
		return nil
	}
	return wrapErr(pos, err)
}

// wrapErr is wrap's slow path (wrap itself is inlined).
func wrapErr(pos syntax.Pos, err error) error {
	var pe *PosError
	if errors.As(err, &pe) {
		return err
	}
	if errors.Is(err, value.ErrInfinite) {
		// TLC enumerates some infinite sets lazily where we do not yet.
		return fmt.Errorf("%s: %w: %w", pos, ErrUnsupported, err)
	}
	return fmt.Errorf("%s: %w", pos, err)
}

// printOut receives TLC's Print and PrintT output (standard error, as TLC's
// own output goes to standard output); printMu keeps lines whole.
var (
	printOut io.Writer = os.Stderr
	printMu  sync.Mutex
)

func (s scope) opApp(x *syntax.OpApp) evalFn {
	if f := s.opSpecial(x); f != nil {
		return f
	}
	// user-defined infix/prefix operators
	if e := s.find(x.Op); e != nil {
		switch e.kind {
		case eLet:
			return s.callLet(x.P, e, x.Args)
		case eDef:
			return s.callDef(x.P, e.def, e.denv, x.Args)
		}
	}
	if d, ok := s.c.m.defs[x.Op]; ok {
		return s.call(x.P, d, x.Args)
	}
	args := s.exprs(x.Args)
	if len(args) == 1 {
		return s.opPrefix(x, args[0])
	}
	if len(args) != 2 {
		return errFn(unsupported(x.P, "operator "+x.Op))
	}
	return s.opInfix(x, args[0], args[1])
}

// opSpecial compiles the operators that are not functions of their
// arguments' values (prime, the boolean connectives, UNCHANGED, ENABLED,
// the temporal operators) and the fast paths of \in, \cup and UNION; nil
// when x is none of these.
func (s scope) opSpecial(x *syntax.OpApp) evalFn {
	pos := x.P
	switch x.Op {
	case "'":
		if s.primed {
			return errFn(evalErr(x.P, "double prime"))
		}
		t := s
		t.primed = true
		return t.expr(x.Args[0])
	case "~":
		a := s.boolean(x.Args[0])
		return func(r *rt) (value.Value, error) {
			b, err := a(r)
			return value.Bool(!b), err
		}
	case "=>":
		a, b := s.boolean(x.Args[0]), s.boolean(x.Args[1])
		return func(r *rt) (value.Value, error) {
			x, err := a(r)
			if err != nil || !x {
				return value.True, err
			}
			y, err := b(r)
			return value.Bool(y), err
		}
	case "<=>":
		a, b := s.boolean(x.Args[0]), s.boolean(x.Args[1])
		return func(r *rt) (value.Value, error) {
			x, err := a(r)
			if err != nil {
				return nil, err
			}
			y, err := b(r)
			return value.Bool(x == y), err
		}
	case "UNCHANGED":
		t := s
		if s.primed {
			return errFn(evalErr(x.P, "double prime"))
		}
		t.primed = true
		a, b := s.expr(x.Args[0]), t.expr(x.Args[0])
		return func(r *rt) (value.Value, error) {
			x, y, err := operands(a, b, r)
			if err != nil {
				return nil, err
			}
			eq, err := value.Equal(x, y)
			return value.Bool(eq), wrap(pos, err)
		}
	case "ENABLED":
		return s.enabled(x)
	case "[]", "<>", "~>", "-+->", "\\cdot":
		return errFn(unsupported(x.P, x.Op+" (temporal and action operators are only evaluated in a PROPERTY or the SPECIFICATION)"))
	case "\\in", "\\notin":
		if rs, ok := x.Args[1].(*syntax.RecordSet); ok {
			return s.inRecordSet(x, rs)
		}
		if rf, ok := s.recordLit(x.Args[0]); ok {
			return s.inRecordLit(x, rf)
		}
		if f := s.inFilter(x); f != nil {
			return f
		}
	case "\\cup":
		if e, ok := singleton(x.Args[1]); ok {
			return s.insertElem(x, e, false)
		}
	case "\\":
		if e, ok := singleton(x.Args[1]); ok {
			return s.removeElem(x, e)
		}
	case "UNION":
		if se, ok := x.Args[0].(*syntax.SetEnum); ok {
			return s.unionEnum(se)
		}
	}
	return nil
}

// opPrefix compiles a built-in prefix operator applied to a.
func (s scope) opPrefix(x *syntax.OpApp, a evalFn) evalFn {
	pos := x.P
	var op func(v value.Value) (value.Value, error)
	switch x.Op {
	case "-.":
		op = value.Neg
	case "SUBSET":
		op = func(v value.Value) (value.Value, error) {
			s, ok := v.(value.SetValue)
			if !ok {
				return nil, evalErr(pos, "SUBSET of %s", v)
			}
			return value.NewSubset(s), nil
		}
	case "UNION":
		op = value.BigUnionValue
	case "DOMAIN":
		op = func(v value.Value) (value.Value, error) {
			fn, ok := v.(*value.Func)
			if !ok {
				return nil, evalErr(pos, "DOMAIN of %s, which is not a function", v)
			}
			return fn.Domain(), nil
		}
	default:
		return errFn(unsupported(x.P, "prefix operator "+x.Op))
	}
	return func(r *rt) (value.Value, error) {
		v, err := a(r)
		if err != nil {
			return nil, err
		}
		v, err = op(v)
		return v, wrap(pos, err)
	}
}

// opInfix compiles a built-in infix operator applied to a and b.
func (s scope) opInfix(x *syntax.OpApp, a, b evalFn) evalFn {
	pos := x.P
	bin := func(op func(x, y value.Value) (value.Value, error)) evalFn {
		return func(r *rt) (value.Value, error) {
			x, y, err := operands(a, b, r)
			if err != nil {
				return nil, err
			}
			v, err := op(x, y)
			return v, wrap(pos, err)
		}
	}
	ints := func(op func(x, y int32) value.Value) evalFn {
		name := x.Op
		return bin(func(x, y value.Value) (value.Value, error) {
			ix, ok1 := x.(value.Int)
			iy, ok2 := y.(value.Int)
			if !ok1 || !ok2 {
				return nil, evalErr(pos, "%s of %s and %s, which are not both integers", name, x, y)
			}
			return op(int32(ix), int32(iy)), nil
		})
	}
	switch x.Op {
	case "=", "/=":
		want := x.Op == "="
		return bin(func(x, y value.Value) (value.Value, error) {
			eq, err := value.Equal(x, y)
			return value.Bool(eq == want), err
		})
	case "\\in", "\\notin", "\\subseteq":
		return membership(x.Op, a, b, pos)
	case "\\cup":
		return bin(value.UnionValue)
	case "\\cap":
		return bin(func(x, y value.Value) (value.Value, error) { return value.Intersect(x, y) })
	case "\\":
		return bin(value.DifferenceValue)
	case "+":
		return bin(value.Add)
	case "-":
		return bin(value.Sub)
	case "*":
		return bin(value.Mul)
	case "\\div":
		return bin(value.Div)
	case "%":
		return bin(value.Mod)
	case "^":
		return bin(value.Pow)
	case "<":
		return ints(func(x, y int32) value.Value { return value.Bool(x < y) })
	case ">":
		return ints(func(x, y int32) value.Value { return value.Bool(x > y) })
	case "<=":
		return ints(func(x, y int32) value.Value { return value.Bool(x <= y) })
	case ">=":
		return ints(func(x, y int32) value.Value { return value.Bool(x >= y) })
	case "..":
		return ints(func(x, y int32) value.Value { return value.NewInterval(x, y) })
	case "\\o":
		return bin(s.concat)
	case ":>":
		return bin(func(x, y value.Value) (value.Value, error) { return value.ColonGreater(x, y), nil })
	case "@@":
		return bin(value.AtAt)
	}
	if f := bagInfix(x.Op, bin); f != nil {
		return f
	}
	return errFn(unsupported(x.P, "operator "+x.Op))
}

// builtin compiles the constants and operators of the standard modules.
func (s scope) builtin(x *syntax.Ref, p syntax.RefPart) evalFn {
	m := s.c.m
	pos := x.P
	nargs := func(n int) ([]evalFn, error) {
		if len(p.Args) != n {
			return nil, evalErr(pos, "expected %d arguments, got %d", n, len(p.Args))
		}
		return s.exprs(p.Args), nil
	}
	unary := func(op func(v value.Value) (value.Value, error)) evalFn {
		as, err := nargs(1)
		if err != nil {
			return errFn(err)
		}
		return func(r *rt) (value.Value, error) {
			v, err := as[0](r)
			if err != nil {
				return nil, err
			}
			v, err = op(v)
			return v, wrap(pos, err)
		}
	}
	switch p.Name {
	case "TRUE":
		return constFn(value.True)
	case "FALSE":
		return constFn(value.False)
	case "BOOLEAN":
		return constFn(value.BooleanSet)
	case "Nat":
		return constFn(value.NatSet)
	case "Int":
		return constFn(value.IntSet)
	case "STRING":
		return constFn(value.StringSet)
	case "Len":
		return unary(seqLen)
	case "Head":
		return unary(value.Head)
	case "Tail":
		return unary(s.tail)
	case "Cardinality":
		return unary(value.Cardinality)
	case "IsFiniteSet":
		return unary(value.IsFiniteSet)
	case "Seq":
		return unary(func(v value.Value) (value.Value, error) {
			s, ok := v.(value.SetValue)
			if !ok {
				return nil, evalErr(pos, "Seq of %s, which is not a set", v)
			}
			return value.NewSeqSet(s), nil
		})
	case "SelectSeq":
		return s.selectSeq(x, p)
	case "SortSeq":
		return s.sortSeq(x, p)
	case "TLCGet":
		return s.tlcGetCall(pos, p)
	case "Permutations":
		return unary(func(v value.Value) (value.Value, error) { return value.Permutations(v) })
	case "ToString":
		return unary(func(v value.Value) (value.Value, error) { return value.ToString(m.strs, v), nil })
	case "PrintT":
		s.fl.impure = true
		return unary(func(v value.Value) (value.Value, error) {
			printMu.Lock()
			fmt.Fprintln(printOut, v.String())
			printMu.Unlock()
			return value.True, nil
		})
	case "Append", "SubSeq", "Print", "Assert":
		return s.builtinEffect(x, p)
	}
	if f := s.libBuiltin(x, p); f != nil {
		return f
	}
	if f := s.bagBuiltin(x, p); f != nil {
		return f
	}
	return errFn(unsupported(x.P, "operator "+p.Name+" (not defined, or not built in yet)"))
}

// seqLen is Len(v), of a sequence or of a string (its characters, counted
// as Java counts them).
func seqLen(v value.Value) (value.Value, error) {
	if str, ok := v.(value.Str); ok {
		n := 0
		for _, r := range str.Go() {
			n += utf16.RuneLen(r)
		}
		return value.Int(int32(n)), nil
	}
	return value.Len(v)
}

// tail is Tail(v), of a sequence or of a string.
func (s scope) tail(v value.Value) (value.Value, error) {
	if str, ok := v.(value.Str); ok {
		return s.substring(str, 2, -1)
	}
	return value.Tail(v)
}

// substring is SubSeq(str, m, n) of a string, as TLC's Java operators take
// strings for sequences of characters (Len, Tail and SubSeq; \o in
// concat): the empty string when n < m, else characters m to n (n = -1:
// the last) counted as Java counts them, an error outside the string.
func (s scope) substring(str value.Str, m, n int) (value.Value, error) {
	u := utf16.Encode([]rune(str.Go()))
	if n == -1 {
		if len(u) == 0 {
			return nil, fmt.Errorf("%w: Tail of the empty string", value.ErrDomain)
		}
		n = len(u)
	}
	if n < m {
		return s.c.m.strs.String(""), nil
	}
	if m < 1 || n > len(u) {
		return nil, fmt.Errorf("%w: SubSeq(%s, %d, %d)", value.ErrDomain, str, m, n)
	}
	return s.c.m.strs.String(string(utf16.Decode(u[m-1 : n]))), nil
}

// builtinEffect compiles Append, SubSeq and the operators with an effect
// or a failure of their own, Print and Assert.
func (s scope) builtinEffect(x *syntax.Ref, p syntax.RefPart) evalFn {
	pos := x.P
	if p.Name == "Print" {
		s.fl.impure = true
	}
	n := 2
	if p.Name == "SubSeq" {
		n = 3
	}
	if len(p.Args) != n {
		return errFn(evalErr(pos, "expected %d arguments, got %d", n, len(p.Args)))
	}
	as := s.exprs(p.Args)
	name := p.Name
	return func(r *rt) (value.Value, error) {
		vs, err := evalAll(r, as)
		if err != nil {
			return nil, err
		}
		var v value.Value
		switch name {
		case "Append":
			v, err = value.Append(vs[0], vs[1])
		case "SubSeq":
			str, ok := vs[0].(value.Str)
			if !ok {
				v, err = value.SubSeq(vs[0], vs[1], vs[2])
				break
			}
			m, mok := vs[1].(value.Int)
			n, nok := vs[2].(value.Int)
			if !mok || !nok {
				return nil, evalErr(pos, "SubSeq(%s, %s, %s): the bounds are not integers", vs[0], vs[1], vs[2])
			}
			v, err = s.substring(str, int(m), int(n))
		case "Print":
			printMu.Lock()
			fmt.Fprintln(printOut, vs[0].String()+"  "+vs[1].String())
			printMu.Unlock()
			v = vs[1]
		case "Assert":
			if vs[0] != value.True {
				if _, ok := vs[0].(value.Bool); !ok {
					return nil, evalErr(pos, "the first argument of Assert is %s, not a boolean", vs[0])
				}
				msg := vs[1].String()
				if str, ok := vs[1].(value.Str); ok {
					msg = str.Go()
				}
				return nil, evalErr(pos, "The first argument of Assert evaluated to FALSE; the second argument was:\n%s", msg)
			}
			v = value.True
		}
		return v, wrap(pos, err)
	}
}

// membership compiles a \in b, a \notin b and a \subseteq b, which ask
// with the worker's memo (rt.memo) where there is one: a type invariant
// asks the same constant sets of every state.
func membership(op string, a, b evalFn, pos syntax.Pos) evalFn {
	subset, want := op == "\\subseteq", op == "\\in"
	return func(r *rt) (value.Value, error) {
		x, y, err := operands(a, b, r)
		if err != nil {
			return nil, err
		}
		if !subset {
			in, err := value.InMemo(x, y, r.memo)
			return value.Bool(in == want), wrap(pos, err)
		}
		sa, ok1 := x.(value.SetValue)
		sb, ok2 := y.(value.SetValue)
		if !ok1 || !ok2 {
			return nil, evalErr(pos, "\\subseteq of non-sets %s, %s", x, y)
		}
		in, err := value.IsSubsetMemo(sa, sb, r.memo)
		return value.Bool(in), wrap(pos, err)
	}
}
