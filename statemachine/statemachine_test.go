package statemachine

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestLamportClockMergesAndNeverGoesBack(t *testing.T) {
	var c LamportClock
	if n, _ := c.Tick(); n != 1 {
		t.Fatalf("first tick = %d, want 1", n)
	}
	if n, _ := c.Observe(10); n != 11 {
		t.Fatalf("observe(10) = %d, want 11", n)
	}
	if n, _ := c.Observe(3); n != 12 {
		t.Fatalf("observe of an older time = %d, want 12", n)
	}
	c.now = ^uint64(0)
	if _, err := c.Tick(); !errors.Is(err, ErrClockOverflow) {
		t.Fatalf("tick at max: err = %v, want ErrClockOverflow", err)
	}
}

func TestRecorderRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	r := NewRecorder(&buf)
	type st struct{ Counter int }
	if err := r.Record("meter", "m1", 1, "TakeReading", map[string]int{"t": 4}, st{Counter: 7}); err != nil {
		t.Fatal(err)
	}
	if err := r.Record("gateway", "g1", 2, "Collect", nil, st{Counter: 1}); err != nil {
		t.Fatal(err)
	}
	lines, err := ReadTrace(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || lines[0].Action != "TakeReading" || lines[1].Role != "gateway" || lines[1].Clock != 2 {
		t.Fatalf("lines = %+v", lines)
	}
	if string(lines[0].State) != `{"Counter":7}` {
		t.Fatalf("state = %s", lines[0].State)
	}
}

func TestReadTraceRejectsBadLines(t *testing.T) {
	for _, in := range []string{
		`{"role":"meter"}`,
		`{"role":"meter","action":"A","extra":1}`,
		`{"role":"meter","action":"A"`,
	} {
		if _, err := ReadTrace(strings.NewReader(in)); err == nil {
			t.Errorf("ReadTrace(%q) accepted a bad line", in)
		}
	}
}

func TestNilRecorderIsOff(t *testing.T) {
	var r *Recorder
	if r.Enabled() {
		t.Fatal("nil recorder reports enabled")
	}
	if err := r.Record("meter", "m1", 1, "A", nil, nil); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() { _ = r.Record("meter", "m1", 1, "A", nil, nil) })
	if allocs != 0 {
		t.Fatalf("disabled recorder allocates %v per step", allocs)
	}
}

func TestGuardErrorIsNotEnabled(t *testing.T) {
	var err error = &GuardError{Role: "meter", Action: "AcceptCommand", Conjunct: "cmd.counter > lastCommand"}
	if !errors.Is(err, ErrNotEnabled) {
		t.Fatal("GuardError does not match ErrNotEnabled")
	}
	if !strings.Contains(err.Error(), "cmd.counter > lastCommand") {
		t.Fatalf("message %q does not name the conjunct", err)
	}
}

func BenchmarkRecordOff(b *testing.B) {
	var r *Recorder
	b.ReportAllocs()
	for b.Loop() {
		_ = r.Record("meter", "m1", 1, "TakeReading", nil, nil)
	}
}

// FuzzReadTrace: traces come from devices in the field and are read by
// trace validation; a bad line must be an error, never a panic, and every
// accepted line has a role and an action.
func FuzzReadTrace(f *testing.F) {
	f.Add([]byte(`{"role":"meter","node":"m1","clock":1,"action":"Sign","event":{},"state":{}}` + "\n"))
	f.Add([]byte(`{"role":"meter","action":"Sign"}` + "\n" + `{"role":"gateway","action":"Collect","clock":2}`))
	f.Add([]byte(`{"role":"","action":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		lines, err := ReadTrace(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, l := range lines {
			if l.Role == "" || l.Action == "" {
				t.Fatalf("accepted a line without role or action: %+v", l)
			}
		}
		// The writer and the reader are the two directions of one format:
		// what was read, recorded again, reads back the same (parse∘marshal
		// = identity; JSON has other spellings of one value, so the bytes
		// may differ), and recording that gives the same bytes again.
		re := recordAll(t, lines)
		again, err := ReadTrace(bytes.NewReader(re))
		if err != nil || len(again) != len(lines) {
			t.Fatalf("recorded trace does not read back: %v (%d lines, want %d)\n%s", err, len(again), len(lines), re)
		}
		for i := range lines {
			if !sameTraceLine(lines[i], again[i]) {
				t.Fatalf("line %d: read %+v, after a round trip %+v", i+1, lines[i], again[i])
			}
		}
		if re2 := recordAll(t, again); !bytes.Equal(re, re2) {
			t.Fatalf("recording is not a fixed point:\n%s\n%s", re, re2)
		}
	})
}

// recordAll writes lines with a Recorder, as a role's run does.
func recordAll(t *testing.T, lines []TraceLine) []byte {
	t.Helper()
	var buf bytes.Buffer
	r := NewRecorder(&buf)
	for _, l := range lines {
		if err := r.Record(l.Role, l.Node, l.Clock, l.Action, l.Event, l.State); err != nil {
			t.Fatalf("recording %+v: %v", l, err)
		}
	}
	return buf.Bytes()
}

// sameTraceLine compares two lines as values: event and state as JSON
// values (an absent event is recorded as null).
func sameTraceLine(a, b TraceLine) bool {
	return a.Role == b.Role && a.Node == b.Node && a.Clock == b.Clock && a.Action == b.Action &&
		sameJSON(a.Event, b.Event) && sameJSON(a.State, b.State)
}

func sameJSON(a, b json.RawMessage) bool {
	decode := func(m json.RawMessage) (any, error) {
		if len(m) == 0 {
			m = json.RawMessage("null")
		}
		d := json.NewDecoder(bytes.NewReader(m))
		d.UseNumber()
		var v any
		err := d.Decode(&v)
		return v, err
	}
	va, errA := decode(a)
	vb, errB := decode(b)
	return errA == nil && errB == nil && reflect.DeepEqual(va, vb)
}
