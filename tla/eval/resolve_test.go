package eval

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/tla/cfg"
)

func conformanceDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("VERIMETER_CONFORMANCE")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "conformance", "tla-examples")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("conformance examples missing (%v): set VERIMETER_CONFORMANCE", err)
	}
	return dir
}

func TestResolveAllExamples(t *testing.T) {
	var files []string
	filepath.Walk(conformanceDir(t), func(path string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(path, ".tla") {
			files = append(files, path)
		}
		return err
	})
	if len(files) < 40 {
		t.Fatalf("only %d modules", len(files))
	}
	for _, f := range files {
		s, err := Load(f)
		if err != nil {
			t.Errorf("load: %v", err)
			continue
		}
		if err := s.Resolve(); err != nil {
			t.Errorf("resolve: %v", err)
		}
	}
}

func writeSpec(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestResolveErrors(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		kind  error
		want  string
	}{
		{"typo", map[string]string{"M.tla": "---- MODULE M ----\nEXTENDS Naturals\nVARIABLE x\nInit == x = 0\nNext == x' = y + 1\n====\n"},
			ErrUnknownName, "M.tla:5:14: unknown name y"},
		{"bound out of scope", map[string]string{"M.tla": "---- MODULE M ----\nA == \\E i \\in {1} : TRUE\nB == i\n====\n"},
			ErrUnknownName, "M.tla:3:6: unknown name i"},
		{"missing module", map[string]string{"M.tla": "---- MODULE M ----\nEXTENDS Nope\n====\n"},
			ErrModuleNotFound, "module Nope not found"},
		{"bad substitution", map[string]string{
			"M.tla": "---- MODULE M ----\nI == INSTANCE N WITH z <- 1\n====\n",
			"N.tla": "---- MODULE N ----\nCONSTANT c\n====\n"},
			ErrUnknownName, "M.tla:2:22: z is not a constant or variable of module N"},
		{"implicit substitution missing", map[string]string{
			"M.tla": "---- MODULE M ----\nI == INSTANCE N\n====\n",
			"N.tla": "---- MODULE N ----\nCONSTANT c\n====\n"},
			ErrUnknownName, "no substitution for c"},
		{"instance member", map[string]string{
			"M.tla": "---- MODULE M ----\nCONSTANT c\nI == INSTANCE N\nX == I!Nope\n====\n",
			"N.tla": "---- MODULE N ----\nCONSTANT c\nOp == c\n====\n"},
			ErrUnknownName, "M.tla:4:6: module N (instance I) has no Nope"},
		{"defined twice", map[string]string{"M.tla": "---- MODULE M ----\nX == 1\nX == 2\n====\n"},
			ErrDuplicate, "M.tla:3:1: X is already defined or declared"},
		{"redefines an extended name", map[string]string{
			"M.tla": "---- MODULE M ----\nEXTENDS N\nOp == 2\n====\n",
			"N.tla": "---- MODULE N ----\nOp == 1\n====\n"},
			ErrDuplicate, "M.tla:3:1: Op is already"},
		{"record field twice", map[string]string{"M.tla": "---- MODULE M ----\nX == [a |-> 1, a |-> 2]\n====\n"},
			ErrDuplicate, "M.tla:2:6: field a appears twice"},
		{"missing EXTENDS for an operator", map[string]string{"M.tla": "---- MODULE M ----\nX == 1 + 2\n====\n"},
			ErrUnknownName, "M.tla:2:8: unknown operator +"},
		{"bound identifier reused", map[string]string{"M.tla": "---- MODULE M ----\nX == \\A p \\in {1} : \\A p \\in {2} : TRUE\n====\n"},
			ErrDuplicate, "p is already defined"},
		{"used before its definition", map[string]string{"M.tla": "---- MODULE M ----\nA == B\nB == 1\n====\n"},
			ErrUnknownName, "M.tla:2:6: unknown name B"},
		{"local not exported", map[string]string{
			"M.tla": "---- MODULE M ----\nEXTENDS N\nX == Hidden\n====\n",
			"N.tla": "---- MODULE N ----\nLOCAL Hidden == 1\n====\n"},
			ErrUnknownName, "unknown name Hidden"},
	}
	for _, c := range cases {
		dir := writeSpec(t, c.files)
		s, err := Load(filepath.Join(dir, "M.tla"))
		if err == nil {
			err = s.Resolve()
		}
		if !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %v containing %q", c.name, err, c.kind, c.want)
		}
	}
}

func TestResolveAccepts(t *testing.T) {
	dir := writeSpec(t, map[string]string{
		"M.tla": `---- MODULE M ----
EXTENDS Integers, Sequences, TLC
CONSTANT N
VARIABLE x
I == INSTANCE N2 WITH c <- N, v <- x
INSTANCE N2 WITH c <- N, v <- x
RECURSIVE Sum(_)
Sum(s) == IF s = {} THEN 0 ELSE LET e == CHOOSE y \in s : TRUE IN e + Sum(s \ {e})
f[n \in Nat] == IF n = 0 THEN 1 ELSE n * f[n - 1]
Init == x = <<>> /\ I!Op = Op /\ I!Par(1) = 2
Next == x' = Append(x, Sum({1, 2}) + f[3] + Len(x) + (1 :> 2)[1])
Max(S) == LET M[T \in SUBSET S] == IF T = {} THEN -1 ELSE LET n == CHOOSE n \in T : TRUE IN M[T \ {n}] IN M[S]
Inv == [r \in {[a |-> 1]} |-> r.a] # <<>> /\ [x EXCEPT ![1] = @] = x
====
`,
		"N2.tla": "---- MODULE N2 ----\nEXTENDS Naturals\nCONSTANT c\nVARIABLE v\nOp == c\nPar(a) == a + c\n====\n",
	})
	s, err := Load(filepath.Join(dir, "M.tla"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Resolve(); err != nil {
		t.Fatal(err)
	}
}

func TestCheckConfigAcceptsProperties(t *testing.T) {
	c, err := cfg.Parse("m.cfg", []byte("INIT Init\nNEXT Next\nSYMMETRY Perms\nVIEW V\nPROPERTY Live\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckConfig(c); err != nil {
		t.Fatal(err)
	}
}
