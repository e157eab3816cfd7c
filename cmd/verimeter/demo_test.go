//go:build !device

package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/internal/sim"
	"github.com/verimeter/verimeter/statemachine"
)

func TestDemoSmallIsGreen(t *testing.T) {
	var trace bytes.Buffer
	rep, err := runScenario(sim.Config{Meters: 20, Gateways: 2, Days: 2, Seed: 5, Trace: &trace})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep.Write(&out)
	if err := rep.Check(); err != nil {
		t.Fatalf("demo checks failed: %v\n%s", err, out.String())
	}
	if err := rep.CheckStep(sim.StepTrace); err != nil {
		t.Fatalf("trace validation: %v", err)
	}
	for _, want := range []string{"readings lost", "supplier switch at noon", "forced self-test failure rolled back", "replayed request to a meter"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	lines, err := statemachine.ReadTrace(&trace)
	if err != nil || len(lines) == 0 {
		t.Fatalf("trace: %d lines, %v", len(lines), err)
	}
}

// TestDemoDetectsAlteredStore is the broken variant: one stored signature
// altered after ingest must turn the verification check red and make the
// report fail.
func TestDemoDetectsAlteredStore(t *testing.T) {
	rep, err := runScenario(sim.Config{Meters: 8, Gateways: 2, Days: 1, Seed: 2, BreakSignature: true})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep.Write(&out)
	var ce *sim.CheckError
	if err := rep.Check(); !errors.As(err, &ce) {
		t.Fatalf("an altered signature went unnoticed (%v):\n%s", err, out.String())
	}
	if len(ce.Failed) != 1 || ce.Failed[0].Check != "signatures verified by an outsider (roots and meter certificates only)" {
		t.Fatalf("failed checks %+v, want the outsider's verification", ce.Failed)
	}
}

func TestDemoCommand(t *testing.T) {
	var out, errb bytes.Buffer
	db := filepath.Join(t.TempDir(), "he.db")
	if code := run([]string{"demo", "-meters", "6", "-gateways", "2", "-seed", "3", "-db", db}, &out, &errb); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("-db not used: %v", err)
	}
	if code := run([]string{"demo", "-meters", "1", "-gateways", "2"}, &out, &errb); code != 2 {
		t.Fatalf("bad size: exit %d", code)
	}
}
