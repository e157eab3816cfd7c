package tracecheck

import (
	"bytes"
	"errors"
	"strings"
	"testing"
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
		_, err = m.Check(steps, Options{MaxHidden: 1, MaxStates: 1000})
		var u *Unexplained
		if err != nil && !errors.As(err, &u) && !errors.Is(err, ErrStateLimit) && !errors.Is(err, ErrRoleNotAnalysable) {
			t.Fatalf("check: %v", err)
		}
	})
}
