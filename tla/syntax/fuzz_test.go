package syntax

import "testing"

// FuzzParseModule checks that no input makes the parser panic or loop, and
// that every failure is a positioned *Error.
func FuzzParseModule(f *testing.F) {
	seeds := []string{
		"---- MODULE M ----\nEXTENDS Naturals\nVARIABLE x\nInit == x = 0\nNext == x' = x + 1\n====\n",
		"---- MODULE M ----\nX == /\\ a\n     /\\ \\/ b\n        \\/ c\n====\n",
		"---- MODULE M ----\nX == [f EXCEPT ![1].a = @ + 1]\nY == {<<a, b>> \\in S \\X T : a}\n====\n",
		"---- MODULE M ----\nX == CASE a -> 1 [] OTHER -> 2\nY == LET f[n \\in Nat] == n IN f[1]\n====\n",
		"---- MODULE M ----\nI == INSTANCE N WITH a <- 1\nSpec == Init /\\ [][Next]_v /\\ WF_v(Next)\n====\n",
		"---- MODULE M ----\nTHEOREM T == TRUE\n<1>1. QED OBVIOUS\nX == P0:: 1\n====\n",
		"---- MODULE M ----\n(* (* nested *) *) X == \"s\\n\" \\* c\n====\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		m, err := ParseModule("f.tla", src)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %v of type %T", err, err)
			}
			return
		}
		if m == nil {
			t.Fatal("nil module without error")
		}
	})
}
