package syntax

import (
	"strings"
	"testing"
)

// TestPrecedenceConflictsAsSANY: a op1 b op2 c with two operators of one
// precedence level is an error unless they are one associative operator,
// as SANY (TLC's parser) decides, and so is a prefix minus as the right
// operand of an operator above it (a * -b); every verdict below is SANY's
// on this machine. Operators whose precedence is a range (%, |, \X,
// \cdot, ...) conflict with the operators whose range they overlap.
func TestPrecedenceConflictsAsSANY(t *testing.T) {
	assoc := []string{`/\`, `\/`, `@@`, `\cap`, `\intersect`, `\cup`, `\union`, `+`, `++`, `(+)`, `\oplus`,
		`-`, `--`, `(-)`, `\ominus`, `*`, `**`, `\o`, `\circ`, `&`, `&&`, `(.)`, `\odot`, `(\X)`, `\otimes`,
		`\bigcirc`, `\bullet`, `\star`}
	nonassoc := []string{`=>`, `<=>`, `\equiv`, `~>`, `-+->`, `=`, `#`, `/=`, `<`, `>`, `<=`, `>=`, `=<`, `\leq`,
		`\geq`, `\in`, `\notin`, `\subseteq`, `\subset`, `\supseteq`, `\supset`, `\sqsubseteq`, `\sqsupseteq`,
		`\sqsubset`, `\sqsupset`, `|-`, `-|`, `=|`, `|=`, `\prec`, `\succ`, `\preceq`, `\succeq`, `\sim`,
		`\simeq`, `\approx`, `\cong`, `\doteq`, `\propto`, `\asymp`, `\ll`, `\gg`, `::=`, `:>`, `\`, `..`,
		`...`, `/`, `//`, `\div`, `(/)`, `\oslash`, `^`, `^^`, `<:`, `!!`}
	type pair struct {
		op1, op2 string
		conflict bool
	}
	var cases []pair
	for _, op := range assoc {
		cases = append(cases, pair{op, op, false})
	}
	for _, op := range nonassoc {
		cases = append(cases, pair{op, op, true})
	}
	cases = append(cases,
		pair{`/\`, `\/`, true}, pair{`\land`, `\/`, true}, pair{`/\`, `\land`, false}, pair{`\/`, `\lor`, false},
		pair{`+`, `++`, true}, pair{`+`, `\oplus`, true}, pair{`+`, `(+)`, true}, pair{`-`, `--`, true},
		pair{`-`, `\ominus`, true}, pair{`*`, `\o`, true}, pair{`*`, `**`, true}, pair{`\o`, `\circ`, false},
		pair{`*`, `\div`, true}, pair{`\div`, `*`, true}, pair{`\cup`, `\cap`, true}, pair{`\cap`, `\cup`, true},
		pair{`\cup`, `\union`, false}, pair{`\cap`, `\intersect`, false}, pair{`=`, `#`, true},
		pair{`#`, `/=`, true}, pair{`\in`, `=`, true}, pair{`..`, `...`, true},
		pair{`*`, `&`, true}, pair{`(\X)`, `\otimes`, false},
		// Operators whose precedence is a range conflict with those it
		// overlaps (SANY's % conflicts are reported by an exception).
		pair{`%`, `+`, true}, pair{`+`, `%`, true}, pair{`%`, `-`, true}, pair{`%`, `%`, true},
		pair{`%`, `*`, false}, pair{`*`, `%`, false}, pair{`%`, `..`, false}, pair{`%%`, `+`, true},
		pair{`%%`, `%%`, false}, pair{`|`, `+`, true}, pair{`|`, `*`, false}, pair{`|`, `|`, false},
		pair{`$`, `..`, true}, pair{`..`, `$`, true},
		pair{`$`, `*`, true}, pair{`*`, `$`, true}, pair{`$`, `^`, false}, pair{`$`, `=`, false},
		pair{`$`, `$$`, true}, pair{`$$`, `$$`, false}, pair{`##`, `##`, false}, pair{`??`, `??`, false},
		pair{`||`, `-`, true}, pair{`||`, `||`, false}, pair{`:>`, `<:`, true}, pair{`<:`, `=`, false},
		pair{`<:`, `@@`, false},
		pair{`\sqcap`, `\sqcup`, true}, pair{`\sqcup`, `+`, true}, pair{`\sqcup`, `\cup`, false},
		pair{`\uplus`, `@@`, false}, pair{`\wr`, `^`, true}, pair{`\wr`, `\wr`, true}, pair{`\wr`, `@@`, false},
		pair{`\X`, `+`, true}, pair{`+`, `\X`, true}, pair{`\X`, `*`, true}, pair{`\X`, `..`, false},
		pair{`\X`, `\X`, false}, pair{`\X`, `^`, false}, pair{`\cdot`, `=`, true}, pair{`\cup`, `\cdot`, true},
		pair{`\cdot`, `^`, true}, pair{`\cdot`, `\cdot`, false}, pair{`\cdot`, `@@`, true},
		// Different levels: the higher one binds first.
		pair{`-`, `+`, false}, pair{`+`, `-`, false}, pair{`..`, `+`, false}, pair{`=`, `/\`, false},
		pair{`\in`, `\cup`, false}, pair{`=>`, `/\`, false}, pair{`%`, `*`, false},
	)
	for _, c := range cases {
		src := "---- MODULE P ----\nCONSTANT a, b, c\nE == a " + c.op1 + " b " + c.op2 + " c\n====\n"
		_, err := ParseModule("P.tla", []byte(src))
		switch {
		case c.conflict && (err == nil || !strings.Contains(err.Error(), "precedence conflict")):
			t.Errorf("a %s b %s c: %v; SANY: precedence conflict", c.op1, c.op2, err)
		case !c.conflict && err != nil:
			t.Errorf("a %s b %s c: %v; SANY accepts it", c.op1, c.op2, err)
		}
	}
	// A prefix minus as the right operand of an operator above its level
	// (SANY's verdicts; only the minus among the prefix operators).
	for _, c := range []struct {
		expr     string
		conflict bool
	}{
		{`a * -b`, true}, {`a ^ -b`, true}, {`a \div -b`, true}, {`a / -b`, true}, {`a \o -b`, true},
		{`a ** -b`, true}, {`a * b * -c`, true}, {`a + -b`, false}, {`a - -b`, false}, {`a .. -b`, false},
		{`a = -b`, false}, {`a % -b`, false}, {`a % b * c - d`, true}, {`- a % b`, false}, {`-a * b`, false}, {`a * (-b)`, false}, {`f(-a) * b`, false},
		{`a * f[-b]`, false}, {`<<-a>>`, false}, {`a * ~b`, false}, {`a * SUBSET b`, false}, {`a \cup ~b`, false},
	} {
		src := "---- MODULE P ----\nCONSTANT a, b, c, d, f(_)\nE == " + c.expr + "\n====\n"
		_, err := ParseModule("P.tla", []byte(src))
		switch {
		case c.conflict && (err == nil || !strings.Contains(err.Error(), "precedence conflict")):
			t.Errorf("%s: %v; SANY: precedence conflict", c.expr, err)
		case !c.conflict && err != nil:
			t.Errorf("%s: %v; SANY accepts it", c.expr, err)
		}
	}
	// Parentheses and bulleted lists settle it.
	for _, ok := range []string{`(a = b) = c`, `a = (b = c)`, `(a /\ b) \/ c`, "\n  /\\ a \\/ b\n  /\\ c"} {
		src := "---- MODULE P ----\nCONSTANT a, b, c\nE == " + ok + "\n====\n"
		if _, err := ParseModule("P.tla", []byte(src)); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}
