//go:build !device

package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// upDown has an action, Reset, that only ever returns to a state Up
// reached first: -coverage-strict fails on it unless the model says why.
const upDown = `---- MODULE UpDown ----
EXTENDS Naturals
VARIABLE x
Init == x = 0
Up == x < 3 /\ x' = x + 1
Reset == x > 0 /\ x' = 0
Next == Up \/ Reset
====
`

func TestCheckCoverageStrict(t *testing.T) {
	base := "INIT Init\nNEXT Next\nCHECK_DEADLOCK FALSE\n"
	p := writeSpec(t, "UpDown", upDown, base)
	code, out, _ := runCLI(t, "check", "-coverage", "-progress", "0", p)
	if code != exitOK || !strings.Contains(out, "<Up>: enabled 3, 3:3") || !strings.Contains(out, "<Reset>: enabled 3, 0:3  <- adds no state") {
		t.Fatalf("-coverage: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "check", "-coverage-strict", "-json", "-progress", "0", p)
	var rep checkReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if code != exitUncovered || rep.Result != resultUncovered || len(rep.Uncovered) != 1 || rep.Uncovered[0] != "Reset" {
		t.Fatalf("-coverage-strict without a reason: exit %d, %+v", code, rep)
	}
	p = writeSpec(t, "UpDown", upDown, "\\* @uncovered Reset: it only returns to the start\n"+base)
	if code, out, _ = runCLI(t, "check", "-coverage-strict", "-progress", "0", p); code != exitOK {
		t.Fatalf("-coverage-strict with a reason: exit %d\n%s", code, out)
	}
	p = writeSpec(t, "UpDown", upDown, "\\* @uncovered Up: stale\n\\* @uncovered Reset: it only returns to the start\n"+base)
	if code, out, _ = runCLI(t, "check", "-coverage-strict", "-progress", "0", p); code != exitUncovered || !strings.Contains(out, "reasons for covered or absent actions: Up") {
		t.Fatalf("-coverage-strict with a stale reason: exit %d\n%s", code, out)
	}
}
