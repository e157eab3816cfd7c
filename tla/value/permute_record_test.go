package value

import "testing"

// TestPermuteRecord: permuting a record moves the model values among its
// fields' values and keeps its fields; the result equals (value and hash)
// the record built from the permuted values, and is the record itself when
// nothing in it moves.
func TestPermuteRecord(t *testing.T) {
	in := NewInterner()
	a, b, c := in.Model("a"), in.Model("b"), in.Model("c")
	p := Perm{a: b, b: a}
	rec, err := Record(in, []string{"to", "from", "n"}, []Value{a, c, Int(3)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Permute(rec, p)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Record(in, []string{"to", "from", "n"}, []Value{b, c, Int(3)})
	if err != nil {
		t.Fatal(err)
	}
	if eq, err := Equal(got, want); err != nil || !eq || got.Hash() != want.Hash() || got.String() != want.String() {
		t.Fatalf("Permute(%s) = %s (hash %x), want %s (hash %x)", rec, got, got.Hash(), want, want.Hash())
	}
	fixed, err := Record(in, []string{"to", "n"}, []Value{c, Int(1)})
	if err != nil {
		t.Fatal(err)
	}
	if same, err := Permute(fixed, p); err != nil || same != Value(fixed) {
		t.Fatalf("Permute(%s) = %v, %v: want the record itself", fixed, same, err)
	}
}
