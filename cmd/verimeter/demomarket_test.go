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

// marketLog is the head-end's Market log of the demo's switched meter
// (meter 0, its supplier switch at noon) in a demo with -spec-trace.
func marketLog(t *testing.T, dir string) string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "market", "564d520000000000-*", "headend.ndjson"))
	if err != nil || len(paths) != 1 {
		t.Fatalf("the switched meter's Market log: %v, %v", paths, err)
	}
	return paths[0]
}

// TestDemoMarketTracesAreExplained: the demo's market step leaves the
// head-end's Market logs (one per meter its suppliers fetched), which the
// demo validates, the switched meter's with its Tick and both suppliers'
// fetches.
func TestDemoMarketTracesAreExplained(t *testing.T) {
	dir, _ := demoTraces(t)
	results, _ := validateSpecTraces(dir)
	res := results.module("Market")
	if res.Err != nil || res.Groups < 2 || res.Steps < res.Logs+2 {
		t.Fatalf("Market %+v: want the switched meter's Tick and two fetches beside the others' fetches", res)
	}
	src, err := os.ReadFile(marketLog(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(src), "\n"); n != 3 || !strings.Contains(string(src), `"action":"Tick"`) {
		t.Fatalf("switched meter's log, want Tick and two Fetch:\n%s", src)
	}
	t.Logf("Market: %d steps in %d logs of %d groups explained", res.Steps, res.Logs, res.Groups)
}

// TestDemoTamperedMarketTraceIsRejected: the head-end's log edited so that
// the old supplier is served the slot after the switch (S5) is reported at
// that line.
func TestDemoTamperedMarketTraceIsRejected(t *testing.T) {
	dir, _ := demoTraces(t)
	path := marketLog(t, dir)
	rewrite(t, path, 2, `"p":"A","t":1`, `"p":"A","t":2`)
	rewrite(t, path, 2, `"served":[{"1":"A","2":1}]`, `"served":[{"1":"A","2":2}]`)
	_, err := validateSpecTraces(dir)
	var u *tracecheck.Unexplained
	if !errors.As(err, &u) || u.Step.File != path || u.Step.Line != 2 || u.Step.Action != "Fetch" {
		t.Fatalf("err = %v, want the old supplier's Fetch at %s:2 unexplained", err, path)
	}
	t.Log(err)
}

// TestDemoReorderedMarketTraceIsRejected: the head-end's log with the old
// supplier's Fetch moved before the Tick (a step whose state is already
// past the switch) is rejected.
func TestDemoReorderedMarketTraceIsRejected(t *testing.T) {
	dir, _ := demoTraces(t)
	path := marketLog(t, dir)
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(src), "\n"), "\n")
	if len(lines) < 2 || !strings.Contains(lines[0], `"action":"Tick"`) || !strings.Contains(lines[1], `"action":"Fetch"`) {
		t.Fatalf("%s does not start with Tick, Fetch:\n%s", path, src)
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
