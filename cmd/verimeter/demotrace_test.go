//go:build !device

package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/statemachine/tracecheck"
)

// demoTraces runs a small demo with -spec-trace and returns the trace
// directory and the directory of the meter that got the approved
// disconnect (the last meter: its log holds Execute with last = 1).
func demoTraces(t *testing.T) (dir, disconnected string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "trace")
	rep, err := runScenario(demoConfig{Meters: 8, Gateways: 2, Days: 1, Seed: 3, SpecTrace: dir})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep.write(&out)
	if !rep.ok() || !strings.Contains(out.String(), "roles' steps are a behaviour of spec/Commands.tla") {
		t.Fatalf("demo with -spec-trace:\n%s", out.String())
	}
	// The last meter (index 7) has system title VMR\0 0 0 0 7.
	disconnected = filepath.Join(dir, "commands", "564d520000000007")
	for _, f := range []string{"headend.ndjson", "meter.ndjson"} {
		if _, err := os.Stat(filepath.Join(disconnected, f)); err != nil {
			t.Fatalf("no log of the disconnected meter's commands: %v", err)
		}
	}
	return dir, disconnected
}

// rewrite replaces old by new in line n (1-based) of a log, failing when
// the line lacks old (an edit that changes nothing proves nothing).
func rewrite(t *testing.T, path string, n int, old, new string) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(src), "\n"), "\n")
	if n > len(lines) || !strings.Contains(lines[n-1], old) {
		t.Fatalf("%s:%d lacks %q:\n%s", path, n, old, src)
	}
	lines[n-1] = strings.Replace(lines[n-1], old, new, 1)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDemoTracesAreExplained: the logs the running head-end, gateways and
// meters of the demo write from their generated machines are behaviours
// of spec/Commands.tla (the demo's own check, and again here).
func TestDemoTracesAreExplained(t *testing.T) {
	dir, _ := demoTraces(t)
	res, err := validateSpecTraces(dir)
	if err != nil {
		t.Fatal(err)
	}
	// 8 meters on 2 gateways: tariffs to meters 0-4, trust lists to gateway
	// 0's meters (0, 2, 4, 6): issue, relay, execute each; the disconnect
	// to meter 7: issue, relay, execute, then after the repeat the gateway
	// refused, its restart and the relay the meter refuses (5 steps); and
	// the wake-up of gateway 0, which only the head-end logs.
	if res.Groups != 8 || res.Steps != 3*(5+4)+5+1 {
		t.Fatalf("%+v: want 8 groups and 33 steps", res)
	}
	t.Logf("%d steps in %d logs of %d groups explained", res.Steps, res.Logs, res.Groups)
}

// TestDemoTamperedTraceIsRejected: the disconnected meter's logged state
// edited (it claims to have run counter 2) is reported as that step, with
// its file:line.
func TestDemoTamperedTraceIsRejected(t *testing.T) {
	dir, m := demoTraces(t)
	path := filepath.Join(m, "meter.ndjson")
	rewrite(t, path, 1, `"state":{"last":1}`, `"state":{"last":2}`)
	_, err := validateSpecTraces(dir)
	var u *tracecheck.Unexplained
	if !errors.As(err, &u) || u.Step.File != path || u.Step.Line != 1 || u.Step.Action != "Execute" {
		t.Fatalf("err = %v, want the meter's Execute at %s:1 unexplained", err, path)
	}
	t.Log(err)
}

// TestDemoReorderedTraceIsRejected: the meter's step restamped before the
// head-end issued the command (a causally impossible order: it ran a
// command not yet signed) is rejected.
func TestDemoReorderedTraceIsRejected(t *testing.T) {
	dir, m := demoTraces(t)
	path := filepath.Join(m, "meter.ndjson")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var clock string
	if i := strings.Index(string(src), `"clock":`); i >= 0 {
		clock = string(src[i : i+strings.IndexByte(string(src[i:]), ',')])
	}
	if clock == "" || clock == `"clock":1` {
		t.Fatalf("the meter's step has clock %q, want one after the relay", clock)
	}
	rewrite(t, path, 1, clock, `"clock":1`)
	_, err = validateSpecTraces(dir)
	var u *tracecheck.Unexplained
	if !errors.As(err, &u) || u.Step.File != path {
		t.Fatalf("err = %v, want the meter's step at %s unexplained", err, path)
	}
}
