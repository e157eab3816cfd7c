//go:build !device

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/internal/pgtest"
	"github.com/verimeter/verimeter/internal/sim/procs"
)

// TestUseCasesThroughTheOperatorAPI is the process demo (`verimeter demo
// -processes`, internal/sim/procs/usecases.go) on SQLite: UC1–UC10 across real processes,
// every operator action through the operator API, each outcome checked in
// the head-end's database, on the meters and in the spec trace logs. Every
// check of its report must hold, and each use case must have one.
func TestUseCasesThroughTheOperatorAPI(t *testing.T) { testUseCases(t, "") }

// TestUseCasesOnPostgresTwoHeadEnds is the same with two head-ends on one
// PostgreSQL database, the first killed (SIGKILL) after the operators'
// approvals: the gateways fail over, the second relays what the first
// signed and finishes the campaign the first released.
func TestUseCasesOnPostgresTwoHeadEnds(t *testing.T) { testUseCases(t, pgtest.Start(t)) }

func testUseCases(t *testing.T, dsn string) {
	bin := filepath.Join(t.TempDir(), "verimeter")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dir, err := os.MkdirTemp("", "vmu") // short: Unix socket paths are limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	var log bytes.Buffer
	rep, err := procs.UseCases{Bin: bin, Dir: dir, Meters: 3, Gateways: 2, Postgres: dsn, Log: &log, Traces: traceSteps}.Run()
	var out bytes.Buffer
	rep.Write(&out)
	t.Logf("report:\n%s", out.String())
	if err != nil {
		t.Fatalf("%v\nsteps:\n%s", err, log.String())
	}
	if !rep.OK() {
		for _, r := range rep.Rows {
			if !r.OK {
				t.Errorf("%s: %s: %s", r.UC, r.Check, r.Figure)
			}
		}
	}
	covered := map[string]bool{}
	for _, r := range rep.Rows {
		covered[strings.Fields(r.UC)[0]] = true
	}
	for _, uc := range []string{"UC1", "UC2", "UC3", "UC4", "UC5", "UC6", "UC7", "UC8", "UC9", "UC10", "spec"} {
		if !covered[uc] {
			t.Errorf("no check of %s in the report", uc)
		}
	}
	if dsn != "" && !covered["scale-out"] {
		t.Error("no check of the fail-over in the report")
	}
}

// TestProcessDemoFlags: the process demo refuses, as a usage error naming
// them, the simulated world's flags and a SQLite -db, and sizes it cannot
// play.
func TestProcessDemoFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-days", "2", "-seed", "3"}, "-days, -seed: not with -processes"},
		{[]string{"-db", "/tmp/he.db"}, "-db with -processes is a PostgreSQL URL"},
		{[]string{"-meters", "1", "-gateways", "1"}, "-processes needs -meters of at least 2"},
		{[]string{"-meters", "2", "-gateways", "3"}, "1 to -meters gateways"},
	} {
		var out, errb bytes.Buffer
		if code := run(append([]string{"demo", "-processes"}, c.args...), &out, &errb); code != 2 || !strings.Contains(errb.String(), c.want) || out.Len() != 0 {
			t.Errorf("demo -processes %v: exit %d, stderr %q; want 2 and %q", c.args, code, errb.String(), c.want)
		}
	}
}
