package eval

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// Operators of TLC's library modules that TLC evaluates in Java rather than
// by their TLA+ definitions. The modules are carried as TLA+ source (lib/);
// when the loader reads one, overrideLibrary replaces the body of each such
// definition by a call of a hidden built-in ("$Module!Name", a name no
// specification can write), which builtin compiles through libBuiltin.
//
// An operator whose Java meaning has an effect outside the state space
// (writing a file, running a process), or depends on TLC's run (its trace,
// its fingerprints, its random generator's seed), and that we do not compute,
// evaluates to an ErrUnsupported error, never to its TLA+ placeholder
// (TRUE, or a CHOOSE over all values): a model that never evaluates it is
// checked, one that does is unsupported.

// libOp is the Go meaning of one overridden library operator: arity is the
// definition's number of parameters; compile builds the evaluation of a
// call from its compiled arguments, or is nil when the operator is not
// computed here (unsupported, with why).
type libOp struct {
	arity   int
	why     string
	compile func(s scope, pos syntax.Pos, args []evalFn) evalFn
	// higher, for an operator with operator parameters (VectorClocks'
	// CausalOrder), compiles the call from its arguments' syntax instead.
	higher func(s scope, pos syntax.Pos, args []syntax.Expr) evalFn
}

// libOps lists, per library module, the definitions TLC overrides in Java.
var libOps = map[string]map[string]libOp{
	"Randomization": {
		"RandomSubset":       {arity: 2, why: "a pseudo-random choice of TLC's generator"},
		"RandomSetOfSubsets": {arity: 3, why: "a pseudo-random choice of TLC's generator"},
	},
	"Json": {
		"ToJson":            {arity: 1, why: "TLC's JSON rendering is not built in"},
		"ToJsonArray":       {arity: 1, why: "TLC's JSON rendering is not built in"},
		"ToJsonObject":      {arity: 1, why: "TLC's JSON rendering is not built in"},
		"JsonSerialize":     {arity: 2, why: "it writes a file"},
		"ndJsonSerialize":   {arity: 2, why: "it writes a file"},
		"JsonDeserialize":   {arity: 1, compile: compileJSONDeserialize(false)},
		"ndJsonDeserialize": {arity: 1, compile: compileJSONDeserialize(true)},
	},
	"IOUtils": {
		"IOSerialize":       {arity: 3, why: "it writes a file"},
		"IODeserialize":     {arity: 2, why: "reading serialized values is not built in"},
		"Serialize":         {arity: 3, why: "it writes a file"},
		"Deserialize":       {arity: 2, why: "reading serialized values is not built in"},
		"IOExec":            {arity: 1, why: "it runs a process"},
		"IOEnvExec":         {arity: 2, why: "it runs a process"},
		"IOExecTemplate":    {arity: 2, why: "it runs a process"},
		"IOEnvExecTemplate": {arity: 3, why: "it runs a process"},
		"IOEnv":             {arity: 0, compile: compileIOEnv},
		"atoi":              {arity: 1, compile: compileAtoi},
	},
	"DyadicRationals": {
		"GCD":              {arity: 2, compile: compileGCD},
		"IsDyadicRational": {arity: 1, compile: compileIsDyadicRational},
	},
	"VectorClocks": {
		"CausalOrder": {arity: 4}, // higher: compileCausalOrder, set in init (it compiles calls, which read libOps)
	},
	"SVG": {
		"SVGElemToString":           {arity: 1, why: "TLC's SVG rendering is not built in"},
		"NodeOfRingNetwork":         {arity: 5, why: "TLC's layout of a ring is not built in"},
		"NodesOfDirectedMultiGraph": {arity: 3, why: "TLC's graph layout is not built in"},
	},
	"TLCExt": {
		"AssertError":       {arity: 2, why: "it needs TLC's error messages"},
		"TLCGetOrDefault":   {arity: 2, why: "TLC's registers are not built in"},
		"Trace":             {arity: 0, why: "the behaviour's trace is not available to expressions"},
		"CounterExample":    {arity: 0, why: "the counterexample is not available to expressions"},
		"ToTrace":           {arity: 1, why: "the counterexample is not available to expressions"},
		"TLCModelValue":     {arity: 1, compile: compileTLCModelValue},
		"TLCDefer":          {arity: 1, why: "TLC defers it after the state's evaluation"},
		"PickSuccessor":     {arity: 1, why: "TLC's interactive choice of successors"},
		"TLCFP":             {arity: 1, why: "TLC's fingerprints"},
		"TLCEvalDefinition": {arity: 1, why: "TLC's evaluation of a definition by name"},
	},
}

// libPrefix starts the hidden name of an overridden library operator.
const libPrefix = "$"

func libName(module, name string) string { return libPrefix + module + "!" + name }

func init() {
	co := libOps["VectorClocks"]["CausalOrder"]
	co.higher = compileCausalOrder
	libOps["VectorClocks"]["CausalOrder"] = co
	// Every module sees the hidden names, as it sees TRUE: only the bodies
	// written by overrideLibrary use them.
	for mod, ops := range libOps {
		for name := range ops {
			builtins = append(builtins, libName(mod, name))
		}
	}
}

// overrideLibrary replaces, in a library module just parsed from lib/, the
// body of each definition TLC overrides in Java by a call of its built-in.
func overrideLibrary(m *syntax.Module) {
	ops := libOps[m.Name]
	for _, u := range m.Units {
		d, ok := u.(*syntax.Def)
		if !ok || d.Instance != nil || d.FnBounds != nil {
			continue
		}
		op, ok := ops[d.Name]
		if !ok || op.arity != len(d.Params) {
			continue
		}
		var args []syntax.Expr
		for _, p := range d.Params {
			args = append(args, &syntax.Ref{Node: syntax.Node{P: d.Pos}, Parts: []syntax.RefPart{{Name: p.Name}}})
		}
		d.Body = &syntax.Ref{Node: syntax.Node{P: d.Pos}, Parts: []syntax.RefPart{{Name: libName(m.Name, d.Name), Args: args}}}
		d.Recursive = false
	}
}

// libBuiltin compiles a call of a hidden library built-in, or returns nil
// when p names none.
func (s scope) libBuiltin(x *syntax.Ref, p syntax.RefPart) evalFn {
	if p.Name == "RandomElement" {
		if len(p.Args) != 1 {
			return errFn(evalErr(x.P, "RandomElement takes 1 argument, got %d", len(p.Args)))
		}
		return compileRandomElement(s, x.P, s.exprs(p.Args)[0])
	}
	if p.Name == "TLCSet" {
		if len(p.Args) != 2 {
			return errFn(evalErr(x.P, "TLCSet takes 2 arguments, got %d", len(p.Args)))
		}
		return compileTLCSet(s, x.P, s.exprs(p.Args))
	}
	mod, name, ok := strings.Cut(strings.TrimPrefix(p.Name, libPrefix), "!")
	if !ok || !strings.HasPrefix(p.Name, libPrefix) {
		return nil
	}
	op, ok := libOps[mod][name]
	if !ok {
		return nil
	}
	if len(p.Args) != op.arity {
		return errFn(evalErr(x.P, "%s takes %d arguments, got %d", name, op.arity, len(p.Args)))
	}
	if op.higher != nil {
		return op.higher(s, x.P, p.Args)
	}
	if op.compile == nil {
		// Not evaluated here: the error comes when a model evaluates it.
		s.fl.impure = true
		return errFn(unsupported(x.P, fmt.Sprintf("operator %s of module %s (%s)", name, mod, op.why)))
	}
	return op.compile(s, x.P, s.exprs(p.Args))
}

// compileIOEnv is IOUtils' IOEnv: the record of the process's environment
// variables, as TLC builds it from its own environment.
func compileIOEnv(s scope, pos syntax.Pos, _ []evalFn) evalFn {
	m := s.c.m
	return func(*rt) (value.Value, error) {
		var names []string
		var vals []value.Value
		seen := map[string]bool{}
		for _, kv := range os.Environ() {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" || seen[k] {
				continue
			}
			seen[k] = true
			names = append(names, k)
			vals = append(vals, m.strs.String(v))
		}
		r, err := value.Record(m.strs, names, vals)
		return r, wrap(pos, err)
	}
}

// compileAtoi is IOUtils' atoi: the integer a string of decimal digits
// (with an optional sign) denotes; TLC's definition, a CHOOSE over Int, is
// not enumerable.
func compileAtoi(_ scope, pos syntax.Pos, args []evalFn) evalFn {
	return func(r *rt) (value.Value, error) {
		str, err := stringArg(r, args[0], pos, "atoi")
		if err != nil {
			return nil, err
		}
		n, err := strconv.ParseInt(str.Go(), 10, 32)
		if err != nil {
			return nil, evalErr(pos, "atoi of %s: %v", str, err)
		}
		return value.Int(n), nil
	}
}

// compileTLCModelValue is TLCExt's TLCModelValue: the model value named
// by its string argument, as TLC makes it (equal to the configuration's
// model value of that name).
func compileTLCModelValue(s scope, pos syntax.Pos, args []evalFn) evalFn {
	m := s.c.m
	return func(r *rt) (value.Value, error) {
		str, err := stringArg(r, args[0], pos, "TLCModelValue")
		if err != nil {
			return nil, err
		}
		return m.strs.Model(str.Go()), nil
	}
}

// stringArg evaluates the argument of a library operator (op) that takes
// a string.
func stringArg(r *rt, arg evalFn, pos syntax.Pos, op string) (value.Str, error) {
	v, err := arg(r)
	if err != nil {
		return value.Str{}, err
	}
	str, ok := v.(value.Str)
	if !ok {
		return value.Str{}, evalErr(pos, "%s of %s, which is not a string", op, v)
	}
	return str, nil
}

// compileRandomElement is the TLC module's RandomElement(S): like TLC, an
// element of S drawn by a pseudo-random generator at each evaluation (so
// {RandomSucc(i) : i \in 1..n} in MisraReachability's ReachabilityTest
// draws n times). TLC seeds its generator anew at each run unless told;
// ours has a fixed seed per call site (its line, column and file name),
// so that a run with one worker is reproducible. The call is impure: not shared as a constant subexpression;
// a top-level definition without parameters that reads no variable is, as
// in TLC, evaluated once (SpanTreeRandom's Edges is one graph in a run).
func compileRandomElement(s scope, pos syntax.Pos, arg evalFn) evalFn {
	s.fl.impure = true
	var mu sync.Mutex
	seed := value.Mix(uint64(pos.Line)<<32|uint64(pos.Col), uint64(len(filepath.Base(pos.File))))
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	return func(r *rt) (value.Value, error) {
		v, err := arg(r)
		if err != nil {
			return nil, err
		}
		set, ok := v.(value.SetValue)
		if !ok {
			return nil, evalErr(pos, "RandomElement of %s, which is not a set", v)
		}
		elems, err := set.Enumerate()
		if err != nil {
			return nil, wrap(pos, err)
		}
		if elems.Len() == 0 {
			return nil, evalErr(pos, "RandomElement of the empty set")
		}
		mu.Lock()
		i := rng.IntN(elems.Len())
		mu.Unlock()
		return elems.At(i), nil
	}
}

// concat is \o: of two sequences, or, as TLC's Java operator also takes
// them, of two strings (DyadicRationals' PrettyPrint joins ToString's).
func (s scope) concat(x, y value.Value) (value.Value, error) {
	if a, ok := x.(value.Str); ok {
		if b, ok := y.(value.Str); ok {
			return s.c.m.strs.String(a.Go() + b.Go()), nil
		}
	}
	return value.Concat(x, y)
}

// compileGCD is DyadicRationals' LOCAL GCD(n, m) == Max(Divisors(n) \cap
// Divisors(m)), which TLC evaluates as written: quadratic in n and m, and
// the bulk of Huang's run. Euclid's algorithm gives the same value for
// positive n and m; for others the set of common divisors is empty and
// its Max an error, as in TLC.
func compileGCD(_ scope, pos syntax.Pos, args []evalFn) evalFn {
	return func(r *rt) (value.Value, error) {
		vs, err := evalAll(r, args)
		if err != nil {
			return nil, err
		}
		n, ok1 := vs[0].(value.Int)
		m, ok2 := vs[1].(value.Int)
		if !ok1 || !ok2 {
			return nil, evalErr(pos, "GCD of %s and %s, which are not both integers", vs[0], vs[1])
		}
		if n < 1 || m < 1 {
			return nil, evalErr(pos, "GCD(%d, %d): Max of the empty set of common divisors", n, m)
		}
		for m != 0 {
			n, m = m, n%m
		}
		return n, nil
	}
}

// compileIsDyadicRational is DyadicRationals' IsDyadicRational(r) ==
// \E i \in 0..r.den : 2^i = r.den, which TLC evaluates as written: it
// enumerates 0..r.den (the other bulk of Huang's run, in TypeOK). The same
// value without the enumeration: TRUE when r.den is a power of two (found
// at i = log2(r.den), before 2^i overflows); otherwise FALSE, or, when
// r.den > 30, the overflow of 2^31 that TLC's enumeration reaches.
func compileIsDyadicRational(s scope, pos syntax.Pos, args []evalFn) evalFn {
	den := s.c.m.strs.String("den")
	return func(r *rt) (value.Value, error) {
		v, err := args[0](r)
		if err != nil {
			return nil, err
		}
		f, ok := v.(*value.Func)
		if !ok {
			return nil, evalErr(pos, "IsDyadicRational of %s, which is not a record", v)
		}
		dv, err := f.Apply(den)
		if err != nil {
			return nil, wrap(pos, err)
		}
		d, ok := dv.(value.Int)
		if !ok {
			return nil, evalErr(pos, "0..%s: not an integer", dv)
		}
		switch {
		case d >= 1 && d&(d-1) == 0:
			return value.True, nil
		case d > 30:
			return nil, wrap(pos, fmt.Errorf("%w: 2^31", value.ErrOverflow))
		}
		return value.False, nil
	}
}
