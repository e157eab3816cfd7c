package statemachine

import (
	"errors"
	"math"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestSetMatchesMap checks Set against a map on random operations: sorted,
// no duplicates, zero tail (so == compares contents), full at SetCap.
func TestMachineSetMatchesMap(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var s Set[int64]
		ref := map[int64]bool{}
		for i, n := 0, rapid.IntRange(0, 200).Draw(rt, "ops"); i < n; i++ {
			x := rapid.Int64Range(-40, 40).Draw(rt, "x")
			if rapid.Bool().Draw(rt, "insert") {
				ok := s.Insert(x, CompareInt)
				if want := ref[x] || len(ref) < SetCap; ok != want {
					rt.Fatalf("Insert(%d) = %v with %d elements", x, ok, len(ref))
				}
				if ok {
					ref[x] = true
				}
			} else {
				s.Remove(x, CompareInt)
				delete(ref, x)
			}
			if s.Len() != len(ref) || !slices.IsSorted(s.Elems()) {
				rt.Fatalf("set %v, reference %v", s.Elems(), ref)
			}
			for _, e := range s.Elems() {
				if !ref[e] || !s.Has(e, CompareInt) {
					rt.Fatalf("element %d", e)
				}
			}
			var u Set[int64]
			for _, e := range s.Elems() {
				u.Insert(e, CompareInt)
			}
			if u != s {
				rt.Fatalf("equal contents, unequal sets: %v", s.Elems())
			}
		}
	})
}

func TestMachineSetAllocatesNothing(t *testing.T) {
	var s Set[int64]
	if a := testing.AllocsPerRun(100, func() {
		s.Insert(3, CompareInt)
		s.Remove(3, CompareInt)
	}); a != 0 {
		t.Fatalf("%v allocs", a)
	}
}

func TestMachineCheckedArithmetic(t *testing.T) {
	for _, c := range []struct {
		f    func(*bool, int64, int64) int64
		a, b int64
		ovf  bool
	}{
		{Add, 1, 2, false}, {Add, math.MaxInt64, 1, true}, {Add, math.MinInt64, -1, true}, {Add, math.MaxInt64, -1, false},
		{Sub, 0, math.MinInt64, true}, {Sub, -1, math.MaxInt64, false}, {Sub, math.MinInt64, 1, true},
		{Mul, 1 << 31, 1 << 31, false}, {Mul, 1 << 32, 1 << 31, true}, {Mul, -1, math.MinInt64, true}, {Mul, 0, math.MinInt64, false},
	} {
		var o bool
		c.f(&o, c.a, c.b)
		if o != c.ovf {
			t.Errorf("%d, %d: overflow %v, want %v", c.a, c.b, o, c.ovf)
		}
	}
}

func TestMachineCapacityErrorIsNotAGuardError(t *testing.T) {
	var err error = &CapacityError{Role: "meter", Action: "Take", What: "meterBuf"}
	if errors.Is(err, ErrNotEnabled) {
		t.Fatal("a full set is not a disabled action")
	}
}

func TestMachineSeqAppendUntilFull(t *testing.T) {
	var s, u Seq[string]
	for i := 0; i < SetCap; i++ {
		if !s.Append("x") {
			t.Fatalf("append %d refused", i)
		}
	}
	if s.Append("y") || s.Len() != SetCap {
		t.Fatal("a full sequence grew")
	}
	s.Clear()
	if s != u {
		t.Fatal("Clear is not <<>>")
	}
}
