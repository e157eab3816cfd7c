package syntax

// namedTheorem returns, at THEOREM Name == e (or LEMMA, PROPOSITION,
// COROLLARY), the definition Name == e: TLA+ lets a theorem's name stand
// for its statement in expressions (TLC evaluates it; e.g. ASSUME T1). It
// returns nil for an unnamed theorem and for a statement that is no
// expression (ASSUME ... PROVE ...). It does not move the parser: the
// theorem and its proof are skipped afterwards as before.
func (p *parser) namedTheorem() (d *Def) {
	t := p.toks[p.i]
	switch t.Text {
	case "THEOREM", "LEMMA", "PROPOSITION", "COROLLARY":
	default:
		return nil
	}
	name := p.peekAt(1)
	if name.Kind != Ident || p.peekAt(2).Kind != Op || p.peekAt(2).Text != "==" {
		return nil
	}
	start := p.i + 3
	end := start
	for ; end < len(p.toks); end++ {
		if p.statementEnds(end) {
			break
		}
	}
	if end == start || end >= len(p.toks) {
		return nil
	}
	toks := make([]Token, 0, end-start+1)
	toks = append(toks, p.toks[start:end]...)
	toks = append(toks, Token{Kind: EOF, Pos: p.toks[end].Pos})
	sub := &parser{toks: toks}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(*Error); !ok {
				panic(r)
			}
			d = nil // not an expression: only skipped
		}
	}()
	body := sub.expr()
	if sub.peek().Kind != EOF {
		return nil
	}
	return &Def{Pos: name.Pos, Name: name.Text, Body: body}
}

// statementEnds reports whether token i ends a theorem's statement: the
// start of its proof or of the next module unit.
func (p *parser) statementEnds(i int) bool {
	t := p.toks[i]
	switch {
	case t.Kind == EOF || t.Kind == End || t.Kind == Begin:
		return true
	case t.Kind == Keyword:
		switch t.Text {
		case "PROOF", "BY", "OBVIOUS", "OMITTED", "ASSUME", "PROVE", "USE", "HIDE", "QED":
			return true
		}
	case t.Kind == Op && t.Text == "<" && t.NewLine && i+1 < len(p.toks) && p.toks[i+1].Kind == Number:
		return true // a proof step <1>
	}
	if t.NewLine && t.Pos.Col == 1 {
		if t.Kind == Op && t.Text == "----" {
			return true
		}
		if t.Kind == Keyword || t.Kind == Ident {
			return true
		}
	}
	return false
}
