//go:build !device

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/statemachine/gen"
)

func TestGenReportsUpToDateAndStale(t *testing.T) {
	var out, errb bytes.Buffer
	if rc := runGen([]string{"-spec", "../../spec", "-root", "../.."}, &out, &errb); rc != 0 {
		t.Fatalf("gen on the repository: exit %d\n%s%s", rc, out.String(), errb.String())
	}
	if strings.Contains(errb.String(), "warning: ") {
		t.Errorf("convention warnings on the repository's spec:\n%s", errb.String())
	}
	// A root without the generated files: stale, then written, then up to date.
	root := t.TempDir()
	for _, d := range []string{"meter", "gateway", "headend"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	out.Reset()
	if rc := runGen([]string{"-spec", "../../spec", "-root", root}, &out, &errb); rc != 1 || !strings.Contains(out.String(), "stale meter/machine_gen.go") {
		t.Fatalf("missing file: exit %d, %q", rc, out.String())
	}
	if rc := runGen([]string{"-write", "-spec", "../../spec", "-root", root}, &out, &errb); rc != 0 {
		t.Fatalf("-write: exit %d", rc)
	}
	if rc := runGen([]string{"-spec", "../../spec", "-root", root}, &out, &errb); rc != 0 {
		t.Fatalf("after -write: exit %d", rc)
	}
	// A spec edit makes the meter's file stale until it is regenerated.
	spec := filepath.Join(t.TempDir(), "spec")
	if err := os.CopyFS(spec, os.DirFS("../../spec")); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(spec, "Commands.tla"))
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(src), "[] OTHER -> m.id > last", "[] OTHER -> m.id >= last", 1)
	if edited == string(src) {
		t.Fatal("the edit changed nothing")
	}
	if err := os.WriteFile(filepath.Join(spec, "Commands.tla"), []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if rc := runGen([]string{"-spec", spec, "-root", root}, &out, &errb); rc != 1 || !strings.Contains(out.String(), "stale meter/machine_gen.go") || strings.Contains(out.String(), "stale gateway/") {
		t.Fatalf("after a spec edit: exit %d, %q", rc, out.String())
	}
	if rc := runGen([]string{"-write", "-spec", spec, "-root", root}, &out, &errb); rc != 0 {
		t.Fatalf("-write after the edit: exit %d", rc)
	}
	if rc := runGen([]string{"-spec", spec, "-root", root}, &out, &errb); rc != 0 {
		t.Fatalf("regenerated after the edit: exit %d", rc)
	}
	// A convention warning (a variable of two roles) fails -strict.
	src, err = os.ReadFile(filepath.Join(spec, "Tamper.tla"))
	if err != nil {
		t.Fatal(err)
	}
	edited = strings.Replace(string(src), "@type: Set(ITEM); @role: gateway; @persist", "@type: Set(ITEM); @role: gateway, headend; @persist", 1)
	if edited == string(src) {
		t.Fatal("the edit changed nothing")
	}
	if err := os.WriteFile(filepath.Join(spec, "Tamper.tla"), []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	errb.Reset()
	if rc := runGen([]string{"-strict", "-spec", spec, "-root", root}, &out, &errb); rc != exitBadInput || !strings.Contains(errb.String(), "convention warnings with -strict") {
		t.Fatalf("-strict with warnings: exit %d\n%s", rc, errb.String())
	}
	if rc := runGen([]string{"-spec", t.TempDir()}, &out, &errb); rc != exitBadInput {
		t.Fatalf("empty spec dir: exit %d", rc)
	}
}

// TestGenStrictOverSpec: `verimeter gen -strict` passes on every module of
// spec/: every role's machine is generated (none pending), the composed
// model is marked @compose, and no convention warning is left.
func TestGenStrictOverSpec(t *testing.T) {
	var out, errb bytes.Buffer
	if rc := runGen([]string{"-strict", "-spec", "../../spec", "-root", "../.."}, &out, &errb); rc != 0 || errb.Len() != 0 {
		t.Fatalf("gen -strict on spec/: exit %d\n%s%s", rc, out.String(), errb.String())
	}
	for _, tg := range gen.Targets {
		if len(tg.Pending) > 0 {
			t.Errorf("%s: modules still pending: %v", tg.Role, tg.Pending)
		}
	}
}
