package sim

import (
	"errors"
	"testing"
)

// TestRunSmallWorldChecksHold: a small world runs every step and each
// step's checks hold (trace validation is the command's: no rows here).
func TestRunSmallWorldChecksHold(t *testing.T) {
	rep, err := Run(Config{Meters: 4, Gateways: 2, Days: 1, Seed: 3, ReportDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Check(); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{StepPKI, StepCommission, StepReadings, StepCollection, StepFirmware, StepAttacker, StepTamper, StepOperator, StepMarket} {
		if err := rep.CheckStep(s); err != nil {
			t.Error(err)
		}
	}
	if err := rep.CheckStep(StepTrace); !errors.Is(err, ErrNoChecks) {
		t.Errorf("trace step without a validator: %v, want ErrNoChecks", err)
	}
	if f := rep.Fig; f.ReadingsTaken != 4*96 || f.IntervalsLost != 0 || f.Commissioned != 4 {
		t.Errorf("figures: taken %d, lost %d, commissioned %d", f.ReadingsTaken, f.IntervalsLost, f.Commissioned)
	}
}

// TestCheckNamesTheBrokenGuarantee: one stored signature altered after
// ingest fails the report with a *CheckError naming the outsider's
// verification, and only the collection step.
func TestCheckNamesTheBrokenGuarantee(t *testing.T) {
	rep, err := Run(Config{Meters: 3, Gateways: 1, Days: 1, Seed: 2, BreakSignature: true, ReportDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	err = rep.Check()
	var ce *CheckError
	if !errors.As(err, &ce) || !errors.Is(err, ErrCheckFailed) {
		t.Fatalf("Check: %v, want a *CheckError", err)
	}
	if len(ce.Failed) != 1 || ce.Failed[0].Check != "signatures verified by an outsider (roots and meter certificates only)" {
		t.Fatalf("failed rows %+v, want the outsider's verification only", ce.Failed)
	}
	if err := rep.CheckStep(StepCollection); !errors.As(err, &ce) {
		t.Fatalf("collection step: %v", err)
	}
	if err := rep.CheckStep(StepMarket); err != nil {
		t.Fatalf("market step: %v", err)
	}
}
