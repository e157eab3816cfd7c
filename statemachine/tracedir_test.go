package statemachine

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInstancePersistBeforeRecord: a step whose Persist fails did not
// happen (state back, clock unmoved, nothing recorded); one that persists
// is recorded after Persist ran.
func TestInstancePersistBeforeRecord(t *testing.T) {
	d, err := NewTraceDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rec, err := d.Recorder("counter/c1")
	if err != nil {
		t.Fatal(err)
	}
	in := newCounter(rec)
	disk := errors.New("disk full")
	var persisted []int64
	fail := false
	in.Persist = func(s *counterState, _ *counterOut) error {
		if fail {
			return disk
		}
		persisted = append(persisted, s.N)
		return nil
	}
	var out counterOut
	if _, err := in.Apply(0, counterEvent{Add: 2}, &out); err != nil {
		t.Fatal(err)
	}
	fail = true
	if _, err := in.Apply(0, counterEvent{Add: 3}, &out); !errors.Is(err, disk) {
		t.Fatalf("err = %v, want the persist error", err)
	}
	if in.State.N != 2 || in.State.Seen.Len() != 1 || in.Clock.Now() != 1 || rec.LastClock() != 1 {
		t.Fatalf("after a failed persist: n = %d, seen %v, clock %d, last logged %d", in.State.N, in.State.Seen.Elems(), in.Clock.Now(), rec.LastClock())
	}
	if len(persisted) != 1 || persisted[0] != 2 {
		t.Fatalf("persisted %v", persisted)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(d.Dir(), "counter", "c1.ndjson"))
	if err != nil || strings.Count(string(src), "\n") != 1 {
		t.Fatalf("log: %q, %v", src, err)
	}
}

// TestTraceDirResumeAndNames: a restarted instance asking for the same log
// gets the same recorder and continues its clock; bad names are refused;
// a log is created at its first line only.
func TestTraceDirResumeAndNames(t *testing.T) {
	d, err := NewTraceDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := d.Recorder("g/c1")
	in := newCounter(rec)
	var out counterOut
	for i := int64(1); i <= 3; i++ {
		if _, err := in.Apply(0, counterEvent{Add: i}, &out); err != nil {
			t.Fatal(err)
		}
	}
	again, _ := d.Recorder("g/c1")
	if again != rec {
		t.Fatal("a second Recorder for one log")
	}
	restarted := newCounter(again)
	restarted.Resume()
	if now, err := restarted.Apply(0, counterEvent{Add: 1}, &out); err != nil || now != 4 {
		t.Fatalf("restarted instance: time %d, %v; want 4", now, err)
	}
	lines, err := os.ReadFile(filepath.Join(d.Dir(), "g", "c1.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ReadTrace(strings.NewReader(string(lines))); err != nil || len(got) != 4 || got[3].Clock != 4 {
		t.Fatalf("log: %v, %v", got, err)
	}
	for _, bad := range []string{"", "../x", "a//b", "/abs", "a/../b", "sp ace", ".hidden"} {
		if _, err := d.Recorder(bad); !errors.Is(err, ErrTraceName) {
			t.Errorf("name %q: err = %v", bad, err)
		}
	}
	if _, err := d.Recorder("idle/never"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(d.Dir(), "idle")); !os.IsNotExist(err) {
		t.Errorf("a log without lines exists: %v", err)
	}
	var nilDir *TraceDir
	if r, err := nilDir.Recorder("x"); r != nil || err != nil {
		t.Errorf("nil TraceDir: %v, %v", r, err)
	}
}

// TestOpenTraceDirContinuesLogs: a process started again on the logs of
// one that was killed continues each log after its last complete line (a
// line torn by the kill is cut off), with clocks after the old ones; a
// NewTraceDir replaces the log instead.
func TestOpenTraceDirContinuesLogs(t *testing.T) {
	dir := t.TempDir()
	d, err := NewTraceDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := d.Recorder("counter/c1")
	if err != nil {
		t.Fatal(err)
	}
	in := newCounter(rec)
	var out counterOut
	for range 2 {
		if _, err := in.Apply(0, counterEvent{Add: 1}, &out); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "counter", "c1.ndjson")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"role":"counter","node":"c1","clo`) // torn by the kill
	f.Close()

	d2, err := OpenTraceDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	rec2, err := d2.Recorder("counter/c1")
	if err != nil {
		t.Fatal(err)
	}
	if rec2.LastClock() != 2 {
		t.Fatalf("LastClock %d after a log of 2 steps", rec2.LastClock())
	}
	in2 := newCounter(rec2)
	in2.Resume()
	if now, err := in2.Apply(0, counterEvent{Add: 1}, &out); err != nil || now != 3 {
		t.Fatalf("step after the restart at %d (%v), want 3", now, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := ReadTrace(strings.NewReader(string(b)))
	if err != nil || len(lines) != 3 || lines[2].Clock != 3 {
		t.Fatalf("log after the restart: %v\n%s", err, b)
	}

	d3, err := NewTraceDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	rec3, _ := d3.Recorder("counter/c1")
	if _, err := newCounter(rec3).Apply(0, counterEvent{Add: 1}, &out); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); strings.Count(string(b), "\n") != 1 {
		t.Fatalf("NewTraceDir kept the old log:\n%s", b)
	}
}
