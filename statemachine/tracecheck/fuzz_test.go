package tracecheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/statemachine"
)

// FuzzReadLog: logs come from devices in the field. A bad line must be a
// *ParseError, never a panic; an accepted log is one node's, with clocks
// strictly increasing; and checking it against spec/Commands ends in a
// result, an *Unexplained or the state cap, never in anything else.
func FuzzReadLog(f *testing.F) {
	for _, lines := range commandsRun() {
		f.Add([]byte(strings.Join(lines, "\n") + "\n"))
	}
	f.Add([]byte(line("meter", "m1", 1, "Execute", `{"kind":"command","m":{"id":"x","by":1}}`, `{"last":[],"ran":{}}`)))
	f.Add([]byte(line("gateway", "g1", 1, "Relay", `{"kind":"relay","c":1e99}`, `{"relayed":[1,1,1],"restarts":-1}`)))
	f.Add([]byte(`{"role":"meter"}` + "\n"))
	m, err := Load(commandsSpec, "")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		steps, err := ReadLog("f.ndjson", bytes.NewReader(b))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line < 1 {
				t.Fatalf("error without file:line: %v", err)
			}
			return
		}
		for i, s := range steps {
			if s.Role == "" || s.Node == "" || s.Action == "" || s.Clock == 0 {
				t.Fatalf("accepted an incomplete line: %+v", s)
			}
			if i > 0 && (s.Clock <= steps[i-1].Clock || s.Node != steps[i-1].Node) {
				t.Fatalf("accepted clocks or nodes out of order: %+v after %+v", s, steps[i-1])
			}
		}
		// statemachine.Recorder writes these logs: what was read, recorded
		// again, reads back as the same steps on lines 1..n (parse∘marshal
		// = identity on the values; JSON has other spellings of a value).
		var buf bytes.Buffer
		rec := statemachine.NewRecorder(&buf)
		for _, s := range steps {
			if err := rec.Record(s.Role, s.Node, s.Clock, s.Action, s.Event, s.State); err != nil {
				t.Fatalf("recording %s: %v", s.Where(), err)
			}
		}
		again, err := ReadLog("again.ndjson", bytes.NewReader(buf.Bytes()))
		if err != nil || len(again) != len(steps) {
			t.Fatalf("recorded log does not read back: %v (%d steps, want %d)\n%s", err, len(again), len(steps), buf.Bytes())
		}
		for i, s := range steps {
			a := again[i]
			if a.Line != i+1 || a.Role != s.Role || a.Node != s.Node || a.Clock != s.Clock || a.Action != s.Action ||
				!sameJSON(a.Event, s.Event) || !sameJSON(a.State, s.State) {
				t.Fatalf("%s: read %+v, after a round trip %+v at line %d", s.Where(), s.TraceLine, a.TraceLine, a.Line)
			}
		}
		_, err = m.Check(steps, Options{MaxHidden: 1, MaxStates: 1000})
		var u *Unexplained
		if err != nil && !errors.As(err, &u) && !errors.Is(err, ErrStateLimit) && !errors.Is(err, ErrRoleNotAnalysable) {
			t.Fatalf("check: %v", err)
		}
	})
}

// sameJSON compares two JSON texts as values (an absent event is recorded
// as null).
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
