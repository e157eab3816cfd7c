package eval

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/verimeter/verimeter/tla/check"
)

// TestStringsAsSequencesAsTLC: TLC's Len, Tail and SubSeq take a string
// for the sequence of its characters (its \o too), and its Head, Append,
// DOMAIN, application and Seq do not. Each outcome is TLC's on this
// machine for Init == v = 7 /\ <expr>: 1 or 0 initial states, or an error.
func TestStringsAsSequencesAsTLC(t *testing.T) {
	const fails, yes = -1, 1
	cases := []struct {
		expr string
		tlc  int
	}{
		{`Len("abc") = 3`, yes},
		{`Len("") = 0`, yes},
		{`Len("a\"b") = 3`, yes},
		{`Len("ab") + 1 = 3`, yes},
		{`LET s == "xyz" IN Len(s) = 3`, yes},
		{`Tail("abc") = "bc"`, yes},
		{`Tail("a") = ""`, yes},
		{`Len(Tail("abc")) = 2`, yes},
		{`Tail("abc") \o "d" = "bcd"`, yes},
		{`SubSeq("abcd", 2, 3) = "bc"`, yes},
		{`SubSeq("abc", 3, 3) = "c"`, yes},
		{`SubSeq("abc", 2, 1) = ""`, yes},
		{`SubSeq("abc", 5, 3) = ""`, yes},
		{`SubSeq(<<1, 2, 3>>, 5, 3) = <<>>`, yes},
		{`"ab" \o "" = "ab"`, yes},
		{`Tail("") = ""`, fails},
		{`SubSeq("abc", 0, 1) = "a"`, fails},
		{`SubSeq("abc", 1, 4) = "abc"`, fails},
		{`Head("abc") = "a"`, fails},
		{`Append("ab", "c") = "abc"`, fails},
		{`"abc"[1] = "a"`, fails},
		{`DOMAIN "abc" = 1..3`, fails},
		{`"abc" \in Seq(STRING)`, fails},
		{`"ab" = <<"a", "b">>`, fails},
	}
	for _, c := range cases {
		checkInitAsTLC(t, "Integers, Sequences", c.expr, c.tlc)
	}
}

// checkInitAsTLC checks the model Init == v = 7 /\ expr (the module
// extending extends) against TLC's outcome: n initial states (1 or 0), or
// an error (n < 0).
func checkInitAsTLC(t *testing.T, extends, expr string, n int) {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"Spec.tla": "---- MODULE Spec ----\nEXTENDS " + extends + "\nVARIABLE v\nInit == v = 7 /\\ " + expr + "\nNext == UNCHANGED v\n====\n",
		"Spec.cfg": "INIT Init\nNEXT Next\n",
	}
	for f, src := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := CheckModel(context.Background(), filepath.Join(dir, "Spec.tla"), filepath.Join(dir, "Spec.cfg"), check.Options{Workers: 1})
	switch {
	case n < 0 && err == nil:
		t.Errorf("%s: %s with %d states; TLC stops with an error", expr, res.Verdict, res.Distinct)
	case n >= 0 && (err != nil || res.Verdict != check.Success || res.Distinct != int64(n)):
		t.Errorf("%s: %v, %+v; TLC: success with %d states", expr, err, res, n)
	}
}
