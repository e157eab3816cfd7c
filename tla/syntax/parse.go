package syntax

import (
	"fmt"
	"slices"
	"strings"
)

// MaxDepth caps expression nesting so that hostile input cannot exhaust the
// stack.
const MaxDepth = 500

// ParseModule parses one file holding a TLA+ module (and any modules nested
// in it). Text outside the outermost module, comments and the PlusCal
// algorithm inside them are skipped; theorems and their proofs are parsed
// only far enough to be skipped.
func ParseModule(file string, src []byte) (m *Module, err error) {
	toks, err := Lex(file, src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			m, err = nil, e
		}
	}()
	m = p.module()
	for p.peek().Kind == Begin {
		m.Following = append(m.Following, p.module())
	}
	if t := p.peek(); t.Kind != EOF {
		p.fail(t.Pos, "expected ---- MODULE after the module, found %s", t)
	}
	return m, nil
}

type parser struct {
	toks  []Token
	i     int
	limit int // column of the innermost junction bullet: tokens at or left of it end an item
	depth int
}

func (p *parser) fail(pos Pos, format string, a ...any) {
	panic(&Error{pos, fmt.Sprintf(format, a...)})
}

// peek returns the next token, or an EOF token if the next token is left of
// the current junction bullet.
func (p *parser) peek() Token {
	t := p.toks[p.i]
	if p.limit > 0 && t.Pos.Col <= p.limit && t.Kind != EOF {
		return Token{Kind: EOF, Pos: t.Pos, Text: ""}
	}
	return t
}

func (p *parser) peekAt(k int) Token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() Token {
	t := p.peek()
	if t.Kind != EOF {
		p.i++
	}
	return t
}

func (p *parser) is(text string) bool {
	t := p.peek()
	return (t.Kind == Op || t.Kind == Keyword) && t.Text == text
}

func (p *parser) accept(text string) bool {
	if p.is(text) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(text string) Token {
	t := p.peek()
	if (t.Kind == Op || t.Kind == Keyword) && t.Text == text {
		p.i++
		return t
	}
	p.fail(t.Pos, "expected %q, found %s", text, t)
	return t
}

func (p *parser) ident() Token {
	t := p.peek()
	if t.Kind != Ident {
		p.fail(t.Pos, "expected a name, found %s", t)
	}
	p.i++
	return t
}

func (p *parser) module() *Module {
	t := p.next()
	if t.Kind != Begin {
		p.fail(t.Pos, "expected ---- MODULE, found %s", t)
	}
	p.expect("MODULE")
	name := p.ident()
	m := &Module{Pos: t.Pos, Name: name.Text}
	for p.peek().Kind == Op && strings.HasPrefix(p.peek().Text, "-") && p.peek().Text == "----" {
		p.i++
	}
	if p.accept("EXTENDS") {
		for {
			m.Extends = append(m.Extends, p.ident().Text)
			if !p.accept(",") {
				break
			}
		}
	}
	for {
		t := p.peek()
		switch {
		case t.Kind == End:
			p.i++
			markRecursive(m.Units, m.Recursive)
			return m
		case t.Kind == EOF:
			p.fail(t.Pos, "module %s not closed with ====", m.Name)
		case t.Kind == Begin:
			m.Submodules = append(m.Submodules, p.module())
		case t.Kind == Op && t.Text == "----":
			p.i++
		default:
			p.unit(m)
		}
	}
}

func (p *parser) unit(m *Module) {
	t := p.peek()
	local := false
	if t.Kind == Keyword && t.Text == "LOCAL" {
		p.i++
		local = true
		t = p.peek()
	}
	if t.Kind == Keyword {
		switch t.Text {
		case "CONSTANT", "CONSTANTS":
			p.i++
			m.Constants = append(m.Constants, p.declList(true)...)
			return
		case "VARIABLE", "VARIABLES":
			p.i++
			m.Variables = append(m.Variables, p.declList(false)...)
			return
		case "ASSUME", "ASSUMPTION", "AXIOM":
			p.i++
			a := &Assume{Pos: t.Pos}
			if p.peek().Kind == Ident && p.peekAt(1).Text == "==" {
				a.Name = p.ident().Text
				p.i++
			}
			a.Expr = p.expr()
			if a.Name != "" {
				a.Def = &Def{Pos: a.Pos, Name: a.Name, Body: a.Expr}
			}
			m.Units = append(m.Units, a)
			return
		case "INSTANCE":
			in := p.instance()
			in.Local = local
			m.Units = append(m.Units, in)
			return
		case "RECURSIVE":
			p.i++
			for {
				m.Recursive = append(m.Recursive, p.ident().Text)
				if p.accept("(") {
					p.params()
				}
				if !p.accept(",") {
					break
				}
			}
			return
		case "THEOREM", "LEMMA", "PROPOSITION", "COROLLARY", "USE", "HIDE", "PROOF", "BY", "OBVIOUS", "OMITTED", "QED":
			if d := p.namedTheorem(); d != nil {
				m.Units = append(m.Units, d)
			}
			m.Skipped = append(m.Skipped, p.skipProof())
			m.Ignored++
			return
		}
	}
	if t.Kind == Op && t.Text == "<" && p.peekAt(1).Kind == Number {
		m.Skipped = append(m.Skipped, p.skipProof()) // a proof step at the margin
		m.Ignored++
		return
	}
	d := p.definition()
	d.Local = local
	m.Units = append(m.Units, d)
}

// skipProof skips a theorem and its proof: everything up to the next token
// at the left margin that starts a new module unit.
func (p *parser) skipProof() [2]int {
	span := [2]int{p.toks[p.i].Pos.Line, p.toks[p.i].Pos.Line}
	p.i++
	for {
		t := p.toks[p.i]
		if t.Kind == EOF || t.Kind == End || t.Kind == Begin {
			return span
		}
		if t.NewLine && t.Pos.Col == 1 {
			if t.Kind == Op && t.Text == "----" {
				return span
			}
			if t.Kind == Keyword {
				switch t.Text {
				case "CONSTANT", "CONSTANTS", "VARIABLE", "VARIABLES", "ASSUME", "ASSUMPTION", "AXIOM",
					"INSTANCE", "LOCAL", "RECURSIVE", "THEOREM", "LEMMA", "PROPOSITION", "COROLLARY", "USE", "HIDE":
					return span
				}
			}
			if t.Kind == Ident {
				return span
			}
		}
		span[1] = t.Pos.Line
		p.i++
	}
}

func (p *parser) declList(constant bool) []Decl {
	var out []Decl
	for {
		t := p.peek()
		d := Decl{Pos: t.Pos}
		if constant && t.Kind == Op && t.Text != "(" {
			// prefix or infix operator constant: -. _, _ + _
			p.fail(t.Pos, "unsupported: operator-symbol constant declaration")
		}
		d.Name = p.ident().Text
		if constant && p.accept("(") {
			d.Arity = len(p.params())
		}
		out = append(out, d)
		if !p.accept(",") {
			return out
		}
	}
}

// params parses the parameters after "(" up to and including ")".
func (p *parser) params() []Param {
	var ps []Param
	for {
		t := p.peek()
		switch {
		case t.Kind == Ident && t.Text == "_" && p.peekAt(1).Kind == Op && p.peekAt(1).Text != "," &&
			p.peekAt(1).Text != ")" && p.peekAt(2).Text == "_":
			// infix parameter _op_
			p.i++
			op := p.next()
			p.i++
			ps = append(ps, Param{Name: op.Text, Arity: 2})
		case t.Kind == Ident && t.Text == "_":
			p.i++
			ps = append(ps, Param{Name: "_"})
		default:
			name := p.ident().Text
			ar := 0
			if p.accept("(") {
				ar = len(p.params())
			}
			ps = append(ps, Param{Name: name, Arity: ar})
		}
		if !p.accept(",") {
			p.expect(")")
			return ps
		}
	}
}

func (p *parser) instance() *Instance {
	t := p.expect("INSTANCE")
	in := &Instance{Pos: t.Pos, Module: p.ident().Text}
	if p.accept("WITH") {
		for {
			st := p.peek()
			var name string
			if st.Kind == Ident {
				name = p.ident().Text
			} else if st.Kind == Op {
				p.i++
				name = st.Text
			} else {
				p.fail(st.Pos, "expected a name to substitute, found %s", st)
			}
			p.expect("<-")
			in.Subst = append(in.Subst, Subst{Pos: st.Pos, Name: name, Expr: p.expr()})
			if !p.accept(",") {
				break
			}
		}
	}
	return in
}

// definition parses Op == e, Op(p) == e, f[x \in S] == e, a op b == e,
// op a == e, a op == e, and M == INSTANCE N.
func (p *parser) definition() *Def {
	t := p.peek()
	d := &Def{Pos: t.Pos}
	switch {
	case t.Kind == Ident && p.peekAt(1).Kind == Op && p.peekAt(1).Text != "(" && p.peekAt(1).Text != "[" &&
		p.peekAt(1).Text != "==" && p.peekAt(2).Kind == Ident && p.peekAt(3).Text == "==":
		// infix definition a op b ==
		a := p.ident()
		op := p.next()
		b := p.ident()
		d.Name = op.Text
		d.Params = []Param{{Name: a.Text}, {Name: b.Text}}
	case t.Kind == Op && p.peekAt(1).Kind == Ident && p.peekAt(2).Text == "==":
		op := p.next()
		a := p.ident()
		d.Name = op.Text
		if d.Name == "-" {
			d.Name = "-."
		}
		d.Params = []Param{{Name: a.Text}}
	case t.Kind == Ident && p.peekAt(1).Kind == Op && p.peekAt(1).Text != "==" && p.peekAt(2).Text == "==" &&
		p.peekAt(1).Text != "(" && p.peekAt(1).Text != "[":
		a := p.ident()
		op := p.next()
		d.Name = op.Text
		d.Params = []Param{{Name: a.Text}}
	default:
		d.Name = p.ident().Text
		if p.accept("(") {
			d.Params = p.params()
		} else if p.accept("[") {
			d.FnBounds = p.bounds(true)
			p.expect("]")
		}
	}
	p.expect("==")
	if p.is("INSTANCE") {
		d.Instance = p.instance()
		return d
	}
	d.Body = p.expr()
	d.End = p.lastEnd()
	return d
}

// lastEnd is the end of the last token consumed.
func (p *parser) lastEnd() Pos {
	if p.i == 0 {
		return Pos{}
	}
	return p.toks[p.i-1].End
}

// bounds parses x \in S, <<a, b>> \in T, y, z \in U; unbounded names are
// allowed only when requireSet is false.
func (p *parser) bounds(requireSet bool) []Bound {
	var bs []Bound
	for {
		var b Bound
		if p.accept("<<") {
			b.Tuple = true
			for {
				b.Names = append(b.Names, p.ident().Text)
				if !p.accept(",") {
					break
				}
			}
			p.expect(">>")
		} else {
			b.Names = append(b.Names, p.ident().Text)
			// x, y \in S: names up to \in share the set
			for p.is(",") && p.peekAt(1).Kind == Ident && (p.peekAt(2).Text == "," || p.peekAt(2).Text == "\\in") {
				p.i++
				b.Names = append(b.Names, p.ident().Text)
			}
		}
		if p.accept("\\in") {
			b.Set = p.expr()
		} else if requireSet || b.Tuple {
			t := p.peek()
			p.fail(t.Pos, "expected \\in, found %s", t)
		}
		bs = append(bs, b)
		if !p.accept(",") {
			return bs
		}
	}
}

// Binding powers of infix operators (TLA+ book, table 15.1: the low end of
// each range; every infix operator is parsed left-associative).
var infix = map[string]int{
	"=>": 1, "-+->": 2, "<=>": 2, "\\equiv": 2, "~>": 2,
	"/\\": 3, "\\/": 3, "\\land": 3, "\\lor": 3,
	"=": 5, "#": 5, "/=": 5, "<": 5, ">": 5, "<=": 5, ">=": 5, "=<": 5, "\\leq": 5, "\\geq": 5,
	"\\in": 5, "\\notin": 5, "\\subseteq": 5, "\\subset": 5, "\\supseteq": 5, "\\supset": 5,
	"\\sqsubseteq": 5, "\\sqsupseteq": 5, "\\sqsubset": 5, "\\sqsupset": 5,
	"|-": 5, "-|": 5, "=|": 5, "|=": 5, "\\prec": 5, "\\succ": 5, "\\preceq": 5, "\\succeq": 5,
	"\\sim": 5, "\\simeq": 5, "\\approx": 5, "\\cong": 5, "\\doteq": 5, "\\propto": 5, "\\asymp": 5,
	"\\ll": 5, "\\gg": 5, "::=": 5,
	"\\cdot": 5, "@@": 6, ":>": 7, "<:": 7,
	"\\": 8, "\\cap": 8, "\\intersect": 8, "\\cup": 8, "\\union": 8,
	"..": 9, "...": 9, "$": 9, "$$": 9, "##": 9, "??": 9, "!!": 9, "\\sqcap": 9, "\\sqcup": 9, "\\uplus": 9, "\\wr": 9,
	"+": 10, "++": 10, "%": 10, "%%": 10, "|": 10, "||": 10, "(+)": 10, "\\oplus": 10, "\\X": 10, "\\times": 10,
	"-": 11, "--": 11, "(-)": 11, "\\ominus": 11,
	"*": 13, "**": 13, "/": 13, "//": 13, "\\div": 13, "\\o": 13, "\\circ": 13, "&": 13, "&&": 13,
	"(.)": 13, "\\odot": 13, "(/)": 13, "\\oslash": 13, "(\\X)": 13, "\\otimes": 13, "\\bigcirc": 13,
	"\\bullet": 13, "\\star": 13,
	"^": 14, "^^": 14,
}

// ranged holds the top of the precedence range of the infix operators
// whose precedence is a range of levels (TLA+ book, table 15.1, and SANY's
// verdicts); the others are at one level, their binding power, which is
// the low end of a range.
var ranged = map[string]int{
	"%": 11, "%%": 11, "|": 11, "||": 11, "$": 13, "$$": 13, "??": 13, "!!": 13, "##": 13,
	"\\sqcap": 13, "\\sqcup": 13, "\\uplus": 13, "\\wr": 14, "\\X": 13, "\\cdot": 14,
}

// associative holds the operators that may follow each other, a op b op c
// being (a op b) op c (canonical spellings).
var associative = map[string]bool{
	"/\\": true, "\\/": true, "@@": true, "\\cap": true, "\\cup": true,
	"+": true, "++": true, "\\oplus": true, "-": true, "--": true, "\\ominus": true,
	"*": true, "**": true, "\\o": true, "&": true, "&&": true, "\\odot": true, "\\otimes": true,
	"\\bigcirc": true, "\\bullet": true, "\\star": true,
	"%%": true, "|": true, "||": true, "$": true, "$$": true, "??": true, "##": true,
	"\\sqcap": true, "\\sqcup": true, "\\uplus": true, "\\X": true, "\\cdot": true,
}

// levels is the precedence range of an infix operator.
func levels(op string) (lo, hi int) {
	lo = infix[op]
	if h, ok := ranged[canon(op)]; ok {
		return lo, h
	}
	return lo, lo
}

// conflict reports whether op1 and op2, one beside the other (a op1 b op2
// c) or op2 at the top of op1's right operand, are the precedence
// conflict SANY rejects: their ranges overlap and they are not one
// associative operator (a = b = c, a /\ b \/ c, a * b \div c, a % b + c
// are conflicts; a + b - c and a % b * c are not).
func conflict(op1, op2 string) bool {
	lo1, hi1 := levels(op1)
	lo2, hi2 := levels(op2)
	if hi1 < lo2 || hi2 < lo1 {
		return false
	}
	return canon(op1) != canon(op2) || !associative[canon(op1)]
}

// prefix operators and the binding power of their operand.
var prefix = map[string]int{
	"~": 4, "\\lnot": 4, "\\neg": 4, "[]": 4, "<>": 4, "ENABLED": 4, "UNCHANGED": 4,
	"SUBSET": 8, "UNION": 8, "DOMAIN": 9, "-": 12,
}

// canonical maps synonyms to one spelling so the evaluator sees one name.
var canonical = map[string]string{
	"\\land": "/\\", "\\lor": "\\/", "\\lnot": "~", "\\neg": "~", "#": "/=", "=<": "<=",
	"\\leq": "<=", "\\geq": ">=", "\\intersect": "\\cap", "\\union": "\\cup", "\\times": "\\X",
	"\\circ": "\\o", "\\equiv": "<=>", "(+)": "\\oplus", "(-)": "\\ominus", "(.)": "\\odot",
	"(/)": "\\oslash", "(\\X)": "\\otimes",
}

func canon(op string) string {
	if c, ok := canonical[op]; ok {
		return c
	}
	return op
}

func (p *parser) expr() Expr { return p.binary(0, "") }

// binary parses an expression of infix operators that bind tighter than
// min; parent is the infix operator it is the right operand of ("" if
// none), against which its own operators are checked for conflicts.
func (p *parser) binary(min int, parent string) Expr {
	p.depth++
	if p.depth > MaxDepth {
		p.fail(p.peek().Pos, "expression nested deeper than %d", MaxDepth)
	}
	defer func() { p.depth-- }()
	lhs := p.unary(min)
	prev := "" // the infix operator that built lhs in this loop
	for {
		t := p.peek()
		if t.Kind != Op {
			return lhs
		}
		bp, ok := infix[t.Text]
		if !ok || bp <= min {
			return lhs
		}
		for _, op := range [2]string{parent, prev} {
			if op != "" && conflict(op, t.Text) {
				p.fail(t.Pos, "precedence conflict between %s and %s: parenthesize", op, t.Text)
			}
		}
		prev = t.Text

		lhsEnd := p.lastEnd()
		p.i++
		op := canon(t.Text)
		rhs := p.binary(bp, t.Text)
		switch {
		case op == "\\X":
			if tm, ok := lhs.(*Times); ok && tm.P == lhs.At() && !tm.paren {
				tm.Sets = append(tm.Sets, rhs)
			} else {
				lhs = &Times{Node: Node{lhs.At()}, Sets: []Expr{lhs, rhs}}
			}
		case op == "/\\" || op == "\\/":
			if j, ok := lhs.(*Junction); ok && j.Op == op && !j.bullet && !j.paren {
				j.Items = append(j.Items, rhs)
				j.Ends = append(j.Ends, p.lastEnd())
			} else {
				lhs = &Junction{Node: Node{lhs.At()}, Op: op, Items: []Expr{lhs, rhs}, Ends: []Pos{lhsEnd, p.lastEnd()}}
			}
		default:
			lhs = &OpApp{Node: Node{t.Pos}, Op: op, Args: []Expr{lhs, rhs}}
		}
	}
}

// unary parses an operand; min is the binding power of the infix
// operator it is the right operand of (0 if none).
func (p *parser) unary(min int) Expr {
	t := p.peek()
	if t.Kind == Op || t.Kind == Keyword {
		if t.Text == "/\\" || t.Text == "\\/" || t.Text == "\\land" || t.Text == "\\lor" {
			return p.postfix(p.junction())
		}
		if bp, ok := prefix[t.Text]; ok && !(t.Text == "[]" && false) {
			p.i++
			op := canon(t.Text)
			if op == "-" {
				// a * -b, a ^ -b: SANY refuses a prefix minus as the
				// right operand of an operator above its level (12).
				if min > prefix["-"] {
					p.fail(t.Pos, "precedence conflict between the prefix - and the operator before it: parenthesize")
				}
				op = "-."
			}
			arg := p.binary(bp, "")
			return &OpApp{Node: Node{t.Pos}, Op: op, Args: []Expr{arg}}
		}
	}
	return p.postfix(p.primary())
}

// junction parses a bulleted list: items are aligned on the column of the
// first bullet, and an item ends at the first token at or left of it.
func (p *parser) junction() Expr {
	first := p.next()
	op := canon(first.Text)
	col := first.Pos.Col
	j := &Junction{Node: Node{first.Pos}, Op: op, bullet: true}
	saved := p.limit
	for {
		p.limit = col
		j.Items = append(j.Items, p.expr())
		j.Ends = append(j.Ends, p.lastEnd())
		p.limit = saved
		t := p.peek()
		if t.Pos.Col == col && t.Kind == Op && canon(t.Text) == op && t.Pos.Line > first.Pos.Line {
			p.i++
			continue
		}
		return j
	}
}

func (p *parser) postfix(e Expr) Expr {
	for {
		t := p.peek()
		if t.Kind != Op {
			return e
		}
		switch t.Text {
		case "'":
			p.i++
			e = &OpApp{Node: Node{t.Pos}, Op: "'", Args: []Expr{e}}
		case "^+", "^*", "^#":
			p.i++
			e = &OpApp{Node: Node{t.Pos}, Op: t.Text, Args: []Expr{e}}
		case "[":
			p.i++
			args := p.exprList("]")
			e = &Apply{Node: Node{t.Pos}, Fn: e, Args: args}
		case ".":
			nt := p.peekAt(1)
			if nt.Kind != Ident && nt.Kind != Keyword {
				return e
			}
			p.i += 2
			e = &Dot{Node: Node{t.Pos}, Rec: e, Field: nt.Text}
		default:
			return e
		}
	}
}

// exprList parses e, f, g up to and including the closing token.
func (p *parser) exprList(close string) []Expr {
	var es []Expr
	if p.accept(close) {
		return es
	}
	for {
		es = append(es, p.expr())
		if !p.accept(",") {
			p.expect(close)
			return es
		}
	}
}

// primary parses an expression that starts with its own token: a literal,
// a name, a keyword construct, a quantifier, a parenthesis or a bracket.
func (p *parser) primary() Expr {
	t := p.peek()
	pos := Node{t.Pos}
	switch t.Kind {
	case Number:
		p.i++
		return &Num{Node: pos, Text: t.Text}
	case String:
		p.i++
		return &Str{Node: pos, Val: t.Text}
	case Ident:
		if nt := p.peekAt(1); nt.Kind == Op && nt.Text == "::" {
			p.i += 2
			return &Label{Node: pos, Name: t.Text, Body: p.expr()}
		}
		return p.ref()
	case Fair:
		p.i++
		sub := p.subscript()
		p.expect("(")
		a := p.expr()
		p.expect(")")
		return &Fairness{Node: pos, Kind: t.Text, Sub: sub, Action: a}
	case Keyword:
		switch t.Text {
		case "IF":
			p.i++
			c := p.expr()
			p.expect("THEN")
			a := p.expr()
			p.expect("ELSE")
			b := p.expr()
			return &If{Node: pos, Cond: c, Then: a, Else: b}
		case "CASE":
			return p.caseExpr(pos)
		case "LET":
			return p.letExpr(pos)
		case "CHOOSE":
			p.i++
			return p.quant(pos, "CHOOSE")
		case "LAMBDA":
			return p.lambdaExpr(pos)
		}
	case Op:
		switch t.Text {
		case "\\A", "\\E", "\\forall", "\\exists", "\\AA", "\\EE":
			p.i++
			k := t.Text
			if k == "\\forall" {
				k = "\\A"
			} else if k == "\\exists" {
				k = "\\E"
			}
			return p.quant(pos, k)
		case "(":
			p.i++
			saved := p.limit
			p.limit = 0
			e := p.expr()
			p.limit = saved
			p.expect(")")
			switch x := e.(type) {
			case *Junction:
				x.paren = true
			case *Times:
				x.paren = true
			}
			return e
		case "@":
			p.i++
			return &AtSign{Node: pos}
		case "{":
			return p.setExpr()
		case "<<":
			p.i++
			saved := p.limit
			p.limit = 0
			es := p.exprList(">>")
			p.limit = saved
			if p.peek().Kind == Sub {
				p.i++
				if len(es) != 1 {
					p.fail(t.Pos, "<<A>>_v takes one action")
				}
				return &BoxAction{Node: pos, Action: es[0], Sub: p.subscript(), Angle: true}
			}
			return &Tuple{Node: pos, Elems: es}
		case "[":
			return p.bracket()
		}
	}
	p.fail(t.Pos, "unexpected %s", t)
	return nil
}

// subscript parses the v of [A]_v, WF_v(A): a name, a tuple or a
// parenthesized expression.
func (p *parser) subscript() Expr {
	t := p.peek()
	switch {
	case t.Kind == Ident:
		p.i++
		r := &Ref{Node: Node{t.Pos}, Parts: []RefPart{{Name: t.Text}}}
		// an instance's name M!vars (no arguments: WF_M!vars(A) applies WF)
		for p.is("!") && p.peekAt(1).Kind == Ident {
			r.Parts = append(r.Parts, RefPart{Name: p.peekAt(1).Text})
			p.i += 2
		}
		return r
	case t.Kind == Op && (t.Text == "<<" || t.Text == "("):
		return p.primary()
	}
	p.fail(t.Pos, "expected a subscript, found %s", t)
	return nil
}

func (p *parser) ref() Expr {
	t := p.peek()
	r := &Ref{Node: Node{t.Pos}}
	for {
		nt := p.peek()
		var part RefPart
		if nt.Kind == Ident || nt.Kind == Number && len(r.Parts) > 0 {
			p.i++
			part.Name = nt.Text
		} else {
			p.fail(nt.Pos, "expected a name, found %s", nt)
		}
		if p.is("(") {
			p.i++
			saved := p.limit
			p.limit = 0
			part.Args = p.argList()
			p.limit = saved
		}
		r.Parts = append(r.Parts, part)
		if p.is("!") {
			p.i++
			if p.is(":") {
				// Op!: is the body of Op (TLA+2's selector ":"), which
				// as an expression is Op itself
				p.i++
				if p.is("!") {
					p.i++
					continue
				}
				return r
			}
			continue
		}
		return r
	}
}

// argList parses operator arguments (expressions, LAMBDA, or an operator
// symbol) up to and including ")".
func (p *parser) argList() []Expr {
	var es []Expr
	for {
		t := p.peek()
		nt := p.peekAt(1)
		if t.Kind == Op && (nt.Text == "," || nt.Text == ")") {
			if _, ok := infix[t.Text]; ok {
				p.i++
				es = append(es, &OpArg{Node: Node{t.Pos}, Op: canon(t.Text)})
				goto sep
			}
		}
		es = append(es, p.expr())
	sep:
		if !p.accept(",") {
			p.expect(")")
			return es
		}
	}
}

func (p *parser) quant(pos Node, kind string) Expr {
	q := &Quant{Node: pos, Kind: kind}
	q.Bounds = p.bounds(false)
	p.expect(":")
	q.Body = p.expr()
	return q
}

func (p *parser) setExpr() Expr {
	t := p.expect("{")
	pos := Node{t.Pos}
	saved := p.limit
	p.limit = 0
	defer func() { p.limit = saved }()
	if p.accept("}") {
		return &SetEnum{Node: pos}
	}
	// {x \in S : P} and {<<x, y>> \in S : P}
	start := p.i
	if b, ok := p.tryFilterBound(); ok {
		pred := p.expr()
		p.expect("}")
		return &SetFilter{Node: pos, Bound: b, Pred: pred}
	}
	p.i = start
	e := p.expr()
	if p.accept(":") {
		bs := p.bounds(true)
		p.expect("}")
		return &SetMap{Node: pos, Elem: e, Bounds: bs}
	}
	es := []Expr{e}
	for p.accept(",") {
		es = append(es, p.expr())
	}
	p.expect("}")
	return &SetEnum{Node: pos, Elems: es}
}

// tryFilterBound recognises "x \in S :" or "<<x, y>> \in S :" at the start
// of a set constructor.
func (p *parser) tryFilterBound() (b Bound, ok bool) {
	t := p.peek()
	if t.Kind == Ident && p.peekAt(1).Text == "\\in" {
		p.i += 2
		b.Names = []string{t.Text}
	} else if t.Kind == Op && t.Text == "<<" {
		j := p.i + 1
		var names []string
		for p.toks[j].Kind == Ident {
			names = append(names, p.toks[j].Text)
			j++
			if p.toks[j].Text != "," {
				break
			}
			j++
		}
		if len(names) == 0 || p.toks[j].Text != ">>" || p.toks[j+1].Text != "\\in" {
			return b, false
		}
		p.i = j + 2
		b.Names, b.Tuple = names, true
	} else {
		return b, false
	}
	b.Set = p.expr()
	if !p.accept(":") {
		return b, false
	}
	return b, true
}

func (p *parser) bracket() Expr {
	t := p.expect("[")
	pos := Node{t.Pos}
	saved := p.limit
	p.limit = 0
	defer func() { p.limit = saved }()
	f := p.peek()
	nt := p.peekAt(1)
	// records [a |-> e] and record sets [a : S]
	if (f.Kind == Ident || f.Kind == String) && (nt.Text == "|->" || nt.Text == ":") && nt.Kind == Op {
		isSet := nt.Text == ":"
		var fields []string
		var vals []Expr
		for {
			ft := p.next()
			if ft.Kind != Ident && ft.Kind != String {
				p.fail(ft.Pos, "expected a field name, found %s", ft)
			}
			if isSet {
				p.expect(":")
			} else {
				p.expect("|->")
			}
			fields = append(fields, ft.Text)
			vals = append(vals, p.expr())
			if !p.accept(",") {
				break
			}
		}
		p.expect("]")
		if isSet {
			return &RecordSet{Node: pos, Fields: fields, Sets: vals}
		}
		return &Record{Node: pos, Fields: fields, Vals: vals}
	}
	// function constructor [x \in S, y \in T |-> e]
	if p.looksLikeFuncCons() {
		bs := p.bounds(true)
		p.expect("|->")
		body := p.expr()
		p.expect("]")
		return &FuncCons{Node: pos, Bounds: bs, Body: body}
	}
	e := p.expr()
	switch {
	case p.accept("->"):
		r := p.expr()
		p.expect("]")
		return &FuncSet{Node: pos, Dom: e, Rng: r}
	case p.accept("EXCEPT"):
		ex := &Except{Node: pos, Fn: e}
		for {
			p.expect("!")
			var u ExceptUpdate
			for {
				if p.accept(".") {
					ft := p.next()
					if ft.Kind != Ident && ft.Kind != Keyword {
						p.fail(ft.Pos, "expected a field name, found %s", ft)
					}
					u.Path = append(u.Path, ExceptKey{Field: ft.Text})
				} else if p.accept("[") {
					u.Path = append(u.Path, ExceptKey{Index: p.exprList("]")})
				} else {
					break
				}
			}
			if len(u.Path) == 0 {
				p.fail(p.peek().Pos, "expected .field or [index] after !")
			}
			p.expect("=")
			u.Val = p.expr()
			ex.Updates = append(ex.Updates, u)
			if !p.accept(",") {
				break
			}
		}
		p.expect("]")
		return ex
	}
	p.expect("]")
	if p.peek().Kind == Sub {
		p.i++
		return &BoxAction{Node: pos, Action: e, Sub: p.subscript()}
	}
	p.fail(p.peek().Pos, "expected _ after [A] (an action [A]_v)")
	return nil
}

// looksLikeFuncCons scans ahead: names or <<names>> followed by \in.
func (p *parser) looksLikeFuncCons() bool {
	j := p.i
	if p.toks[j].Kind == Op && p.toks[j].Text == "<<" {
		j++
		for p.toks[j].Kind == Ident {
			j++
			if p.toks[j].Text != "," {
				break
			}
			j++
		}
		if p.toks[j].Text != ">>" {
			return false
		}
		j++
		return p.toks[j].Text == "\\in"
	}
	for p.toks[j].Kind == Ident {
		j++
		if p.toks[j].Text == "\\in" {
			return true
		}
		if p.toks[j].Text != "," {
			return false
		}
		j++
	}
	return false
}

// caseExpr parses CASE p1 -> e1 [] ... [] OTHER -> e.
func (p *parser) caseExpr(pos Node) Expr {
	p.i++
	cs := &Case{Node: pos}
	for {
		if p.accept("OTHER") {
			p.expect("->")
			cs.Other = p.expr()
			return cs
		}
		c := p.expr()
		p.expect("->")
		cs.Arms = append(cs.Arms, CaseArm{c, p.expr()})
		if !p.accept("[]") {
			return cs
		}
	}
}

// letExpr parses LET definitions (RECURSIVE declarations among them) IN
// body.
func (p *parser) letExpr(pos Node) Expr {
	p.i++
	l := &Let{Node: pos}
	saved := p.limit
	p.limit = 0
	for !p.is("IN") {
		if p.accept("RECURSIVE") {
			for {
				l.Recursive = append(l.Recursive, p.ident().Text)
				if p.accept("(") {
					p.params()
				}
				if !p.accept(",") {
					break
				}
			}
			continue
		}
		if p.peek().Kind == EOF || p.peek().Kind == End {
			p.fail(p.peek().Pos, "LET without IN")
		}
		l.Defs = append(l.Defs, p.definition())
	}
	p.limit = saved
	p.expect("IN")
	l.Body = p.expr()
	for _, d := range l.Defs {
		if slices.Contains(l.Recursive, d.Name) {
			d.Recursive = true
		}
	}
	return l
}

// lambdaExpr parses LAMBDA x, y : body.
func (p *parser) lambdaExpr(pos Node) Expr {
	p.i++
	lm := &Lambda{Node: pos}
	for {
		lm.Params = append(lm.Params, p.ident().Text)
		if !p.accept(",") {
			break
		}
	}
	p.expect(":")
	lm.Body = p.expr()
	return lm
}

// markRecursive sets Def.Recursive on the definitions among units whose
// names a RECURSIVE statement of the module declared, so that the evaluator
// can run them in activations of their own rather than expanding them in
// place at each call.
func markRecursive(units []any, names []string) {
	for _, u := range units {
		if d, ok := u.(*Def); ok && slices.Contains(names, d.Name) {
			d.Recursive = true
		}
	}
}
