package syntax

import "testing"

// TestSpans: a definition's body and each disjunct of a junction end at
// their last character, strings and multi-character operators included
// (TLC names an action by this span: "line 5, col 11 to line 6, col 19").
func TestSpans(t *testing.T) {
	src := "---- MODULE S ----\n" +
		"Inc(n) == /\\ x' = x + n\n" +
		"          /\\ y' = \"a,b\"\n" +
		"Next == \\/ Inc(1)\n" +
		"        \\/ x = 2 /\\\n" +
		"           x' <= 3\n" +
		"Or == x = 1 \\/ y = \"q\" \\/ x \\in {1}\n" +
		"====\n"
	m, err := ParseModule("S.tla", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	defs := map[string]*Def{}
	for _, u := range m.Units {
		if d, ok := u.(*Def); ok {
			defs[d.Name] = d
		}
	}
	at := func(p Pos) [2]int { return [2]int{p.Line, p.Col} }
	if got := at(defs["Inc"].End); got != [2]int{3, 23} {
		t.Errorf("Inc's body ends at %v, want line 3, col 23", got)
	}
	next := defs["Next"].Body.(*Junction)
	if len(next.Ends) != 2 || at(next.Ends[0]) != [2]int{4, 17} || at(next.Ends[1]) != [2]int{6, 18} {
		t.Errorf("Next's disjuncts end at %v, want line 4, col 17 and line 6, col 18", next.Ends)
	}
	or := defs["Or"].Body.(*Junction)
	if len(or.Ends) != 3 || at(or.Ends[0]) != [2]int{7, 11} || at(or.Ends[1]) != [2]int{7, 22} || at(or.Ends[2]) != [2]int{7, 35} {
		t.Errorf("Or's disjuncts end at %v, want line 7, cols 11, 22, 35", or.Ends)
	}
}
