package gen

import "testing"

// TestNegateWritesNoDoubleNegation: a guard's refusal test is the guard's
// negation without !(!x) (staticcheck's SA4013) and without dropping the
// parentheses a binary expression needs.
func TestNegateWritesNoDoubleNegation(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"!p.Store.SeenHas(ev.M.C)", "p.Store.SeenHas(ev.M.C)"},
		{"!(a && b)", "a && b"},
		{"!(a) || b", "!(!(a) || b)"},
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
