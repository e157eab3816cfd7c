package eval

import "testing"

// TestSortSeqAsTLC: the TLC module's SortSeq, with TLC's outcome on this
// machine for each expression (1 initial state, or an error): orders that
// are not strict (TRUE, FALSE, by parity) give the order of TLC's
// insertion sort.
func TestSortSeqAsTLC(t *testing.T) {
	const fails, yes = -1, 1
	for _, c := range []struct {
		expr string
		tlc  int
	}{
		{`SortSeq(<<3, 1, 2>>, LAMBDA x, y : x < y) = <<1, 2, 3>>`, yes},
		{`SortSeq(<<3, 1, 2>>, LAMBDA x, y : x > y) = <<3, 2, 1>>`, yes},
		{`SortSeq(<<>>, LAMBDA x, y : x < y) = <<>>`, yes},
		{`SortSeq(<<2, 1, 2, 1>>, LAMBDA x, y : x < y) = <<1, 1, 2, 2>>`, yes},
		{`SortSeq(<<2, 1, 3>>, LAMBDA x, y : TRUE) = <<3, 1, 2>>`, yes},
		{`SortSeq(<<2, 1, 3>>, LAMBDA x, y : FALSE) = <<2, 1, 3>>`, yes},
		{`SortSeq(<<1, 4, 2, 5, 3>>, LAMBDA x, y : x % 2 < y % 2) = <<4, 2, 1, 5, 3>>`, yes},
		{`SortSeq(<<[a |-> 2], [a |-> 1]>>, LAMBDA x, y : x.a < y.a) = <<[a |-> 1], [a |-> 2]>>`, yes},
		{`LET Lt(x, y) == x < y IN SortSeq(<<3, 1, 2>>, Lt) = <<1, 2, 3>>`, yes},
		{`SortSeq(<<"b", "a">>, LAMBDA x, y : x < y) = <<"a", "b">>`, fails},
		{`SortSeq(<<3, 1>>, LAMBDA x, y : 1) = <<1, 3>>`, fails},
		{`SortSeq({1, 2}, LAMBDA x, y : x < y) = <<1, 2>>`, fails},
	} {
		checkInitAsTLC(t, "Integers, Sequences, TLC", c.expr, c.tlc)
	}
}
