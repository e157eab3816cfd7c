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

// TestDemoMarketTracesAreExplained: the demo's ingest and market steps
// leave the head-end's Market logs (one per meter and supplier switch),
// which the demo validates: every meter's with its Ingest, the switched
// meter's with its Tick, the Ingest of what was stored after the switch
// and both suppliers' fetches.
func TestDemoMarketTracesAreExplained(t *testing.T) {
	dir, _ := demoTraces(t)
	results, _ := validateSpecTraces(dir)
	res := results.module("Market")
	if res.Err != nil || res.Groups < 8 || res.Steps < res.Logs+2 {
		t.Fatalf("Market %+v: want every meter's Ingest, the switched meter's Tick and two fetches beside the others' fetches", res)
	}
	src, err := os.ReadFile(marketLog(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(logActions(string(src)), " "); got != "Tick Ingest Fetch Fetch" {
		t.Fatalf("switched meter's log: %s, want Tick Ingest Fetch Fetch:\n%s", got, src)
	}
	others, err := filepath.Glob(filepath.Join(dir, "market", "564d52000000000[1-7]", "headend.ndjson"))
	if err != nil || len(others) != 7 {
		t.Fatalf("the other meters' Market logs: %v, %v", others, err)
	}
	for _, p := range others {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if a := logActions(string(src)); len(a) == 0 || a[0] != "Ingest" {
			t.Fatalf("%s: %v, want Ingest first", p, a)
		}
	}
	t.Logf("Market: %d steps in %d logs of %d groups explained", res.Steps, res.Logs, res.Groups)
}

// TestDemoTamperedMarketTraceIsRejected: the head-end's log edited so that
// the old supplier is served the slot after the switch (S5) is reported at
// that line.
func TestDemoTamperedMarketTraceIsRejected(t *testing.T) {
	dir, _ := demoTraces(t)
	path := marketLog(t, dir)
	rewrite(t, path, 3, `"p":"A","t":1`, `"p":"A","t":2`)
	rewrite(t, path, 3, `"served":[{"1":"A","2":1}]`, `"served":[{"1":"A","2":2}]`)
	_, err := validateSpecTraces(dir)
	var u *tracecheck.Unexplained
	if !errors.As(err, &u) || u.Step.File != path || u.Step.Line != 3 || u.Step.Action != "Fetch" {
		t.Fatalf("err = %v, want the old supplier's Fetch at %s:3 unexplained", err, path)
	}
	t.Log(err)
}

// TestDemoTamperedMarketIngestIsRejected: the head-end's log edited so that
// a reading stored after the supplier switch is recorded as logged before
// it (a backdated log time, which would keep a thief's reading evidence,
// S8) is reported at that line.
func TestDemoTamperedMarketIngestIsRejected(t *testing.T) {
	dir, _ := demoTraces(t)
	path := marketLog(t, dir)
	rewrite(t, path, 2, `"accepted":[{"t":1,"by":"meter","k":"k1","c":1,"at":2}]`, `"accepted":[{"t":1,"by":"meter","k":"k1","c":1,"at":1}]`)
	_, err := validateSpecTraces(dir)
	var u *tracecheck.Unexplained
	if !errors.As(err, &u) || u.Step.File != path || u.Step.Line != 2 || u.Step.Action != "Ingest" {
		t.Fatalf("err = %v, want the Ingest at %s:2 unexplained", err, path)
	}
	t.Log(err)
}

// logActions lists the actions of a log's lines.
func logActions(src string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(src), "\n") {
		if i := strings.Index(l, `"action":"`); i >= 0 {
			l = l[i+len(`"action":"`):]
			out = append(out, l[:strings.IndexByte(l, '"')])
		}
	}
	return out
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
	if len(lines) < 3 || !strings.Contains(lines[0], `"action":"Tick"`) || !strings.Contains(lines[2], `"action":"Fetch"`) {
		t.Fatalf("%s does not start with Tick, Ingest, Fetch:\n%s", path, src)
	}
	clock := func(l string) string {
		i := strings.Index(l, `"clock":`)
		return l[i : i+strings.IndexByte(l[i:], ',')]
	}
	a, b := lines[0], lines[2]
	ca, cb := clock(a), clock(b)
	lines[0], lines[2] = strings.Replace(b, cb, ca, 1), strings.Replace(a, ca, cb, 1)
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
