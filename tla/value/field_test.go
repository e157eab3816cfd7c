package value

import (
	"fmt"
	"testing"
)

// TestFieldCache reads a field from records of more shapes than the cache
// remembers, from records that lack it and from functions that are not
// records: every answer is the record's own (Apply's), whether found at the
// field's position in the first record that had it, by a
// remembered position or by the search.
func TestFieldCache(t *testing.T) {
	in := NewInterner()
	for j := 0; j < 12; j++ {
		in.String(fmt.Sprint("f", string(rune('a'+j)))) // before "type": the fields sort before it
	}
	c := NewFieldCache(in.String("type"))
	var recs []*Func
	for k := 0; k < 12; k++ {
		// Shape k: "type" and k other fields, so its position is k.
		names := []string{"type"}
		vals := []Value{in.String(fmt.Sprint("t", k))}
		for j := 0; j < k; j++ {
			names = append(names, fmt.Sprint("f", string(rune('a'+j))))
			vals = append(vals, Int(j))
		}
		r, err := Record(in, names, vals)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	for round := 0; round < 3; round++ {
		for k, r := range recs {
			v, ok := c.Field(r)
			want, err := r.Apply(in.String("type"))
			if err != nil || !ok || v != want {
				t.Fatalf("round %d, shape %d: Field = %v, %v; Apply = %v, %v", round, k, v, ok, want, err)
			}
		}
	}
	other, err := Record(in, []string{"kind"}, []Value{Int(1)})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []*Func{other, Tuple(in.String("type"))} {
		if v, ok := c.Field(f); ok {
			t.Errorf("Field(%s) = %v, want none", f, v)
		}
	}
}
