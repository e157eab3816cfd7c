package gen

import "testing"

// TestNegateWritesNoDoubleNegation: a guard's refusal test is the guard's
// negation without !(!x) (staticcheck's SA4013), nor a negated disjunction
// of negations (!(!a || b) is a && !b), and without dropping the
// parentheses a binary expression needs.
func TestNegateWritesNoDoubleNegation(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"!p.Store.SeenHas(ev.M.C)", "p.Store.SeenHas(ev.M.C)"},
		{"!(a && b)", "a && b"},
		{"!(a) || b", "a && !b"},
		{"(!(x == 1) || (y != 2))", "(x == 1) && !(y != 2)"},
		{"(a || b) && c", "!((a || b) && c)"},
		{"(!s.Known) || (s.Now < p.Invalid)", "s.Known && !(s.Now < p.Invalid)"},
		{"a || \"x || y\" == s", "!a && !(\"x || y\" == s)"},
		{"p.Crypto.SignedBy(ev.M, \"head end\")", "!p.Crypto.SignedBy(ev.M, \"head end\")"},
		{"(a != b)", "!(a != b)"},
		{"(a) && (b)", "!((a) && (b))"},
		{"x < y", "!(x < y)"},
		{"!x == y", "!(!x == y)"},
	} {
		if got := negate(c.in); got != c.want {
			t.Errorf("negate(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
