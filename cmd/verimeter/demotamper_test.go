//go:build !device

package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/statemachine/tracecheck"
)

func tamperResult(t *testing.T, dir string) traceCheckResult {
	t.Helper()
	results, _ := validateSpecTraces(dir)
	return results.module("Tamper")
}

// tamperLog is a role's Tamper log of meter 4 (gateway 0's third meter,
// which detects one event) in a demo with -spec-trace.
func tamperLog(t *testing.T, dir, role string) string {
	t.Helper()
	path := filepath.Join(dir, "tamper", "564d520000000004", role+".ndjson")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no Tamper log: %v", err)
	}
	return path
}

// TestDemoTamperTracesAreExplained: the demo's tamper step leaves logs of
// its three meters that the demo validates.
func TestDemoTamperTracesAreExplained(t *testing.T) {
	dir, _ := demoTraces(t)
	res := tamperResult(t, dir)
	if res.Err != nil || res.Groups != 3 || res.Logs != 9 || res.Steps < 3*8 {
		t.Fatalf("Tamper %+v: want 3 groups of 3 logs, >= 24 steps", res)
	}
	t.Logf("Tamper: %d steps in %d logs of %d meters explained", res.Steps, res.Logs, res.Groups)
}

// TestDemoTamperedTamperTraceIsRejected: the head-end's log edited so that
// the duplicate's Ingest raises an alarm for an event it did not ingest is
// reported at that line.
func TestDemoTamperedTamperTraceIsRejected(t *testing.T) {
	dir, _ := demoTraces(t)
	path := tamperLog(t, dir, "headend")
	rewrite(t, path, 2, `"alarms":[1]`, `"alarms":[1,2]`)
	_, err := validateSpecTraces(dir)
	var u *tracecheck.Unexplained
	if !errors.As(err, &u) || u.Step.File != path || u.Step.Line != 2 || u.Step.Action != "Ingest" {
		t.Fatalf("err = %v, want the head-end's second Ingest at %s:2 unexplained", err, path)
	}
	t.Log(err)
}

// TestDemoReorderedTamperTraceIsRejected: the meter's log with its first
// Send moved before its Detect (an event sent before it was persisted) is
// rejected.
func TestDemoReorderedTamperTraceIsRejected(t *testing.T) {
	dir, _ := demoTraces(t)
	path := tamperLog(t, dir, "meter")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(src), "\n"), "\n")
	if len(lines) < 2 || !strings.Contains(lines[0], `"action":"Detect"`) || !strings.Contains(lines[1], `"action":"Send"`) {
		t.Fatalf("%s does not start with Detect, Send:\n%s", path, src)
	}
	clock := func(l string) string {
		i := strings.Index(l, `"clock":`)
		return l[i : i+strings.IndexByte(l[i:], ',')]
	}
	a, b := lines[0], lines[1]
	ca, cb := clock(a), clock(b)
	lines[0], lines[1] = strings.Replace(b, cb, ca, 1), strings.Replace(a, ca, cb, 1)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = validateSpecTraces(dir)
	var u *tracecheck.Unexplained
	if !errors.As(err, &u) || u.Step.File != path {
		t.Fatalf("err = %v, want a step of %s unexplained", err, path)
	}
	t.Log(err)
}
