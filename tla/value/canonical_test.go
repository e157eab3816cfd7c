package value

import "testing"

// TestCanonicalIgnoresInterningOrder: two interners that saw strings in
// different orders print sets of them and records differently in TLC's
// form, but the same canonically.
func TestCanonicalIgnoresInterningOrder(t *testing.T) {
	build := func(first string) Value {
		tab := NewInterner()
		tab.String(first)
		s := mustSet(t, tab.String("b"), tab.String("a"))
		r, err := Record(tab, []string{"z", "a"}, []Value{s, Tuple(Int(2), Bool(true))})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	x, y := build("a"), build("b")
	if x.String() == y.String() {
		t.Fatalf("TLC's forms agree (%s); the test shows nothing", x)
	}
	want := `[a |-> <<2, TRUE>>, z |-> {"a", "b"}]`
	if got := Canonical(x); got != want {
		t.Fatalf("Canonical = %s, want %s", got, want)
	}
	if Canonical(y) != want {
		t.Fatalf("Canonical = %s, want %s", Canonical(y), want)
	}
	if got := CanonicalSet([]string{"2", "1", "2"}); got != "{1, 2}" {
		t.Fatalf("CanonicalSet = %s", got)
	}
}
