package statemachine

import (
	"bytes"
	"errors"
	"testing"
)

// counterState is a tiny machine's state shaped like a generated one: a
// counter and a set, with the spec's names as JSON keys.
type counterState struct {
	N    int64      `json:"n"`
	Seen Set[int64] `json:"seen"`
}

type counterEvent struct {
	Add int64 `json:"add"`
}

type counterOut struct{ Action string }

var errNotPositive = &GuardError{Role: "counter", Action: "Add", Conjunct: "add > 0"}

func counterStep(s *counterState, ev counterEvent, out *counterOut) error {
	out.Action = ""
	if ev.Add <= 0 {
		return errNotPositive
	}
	nx := *s
	nx.N += ev.Add
	if !nx.Seen.Insert(ev.Add, CompareInt) {
		return &CapacityError{Role: "counter", Action: "Add", What: "seen holds SetCap elements"}
	}
	*s = nx
	out.Action = "Add"
	return nil
}

func newCounter(rec *Recorder) *Instance[counterState, counterEvent, counterOut] {
	return &Instance[counterState, counterEvent, counterOut]{
		Role: "counter", Name: "c1", Step: counterStep,
		Action: func(o *counterOut) string { return o.Action }, Rec: rec,
	}
}

func TestInstanceRecordsStepsInSpecNames(t *testing.T) {
	var buf bytes.Buffer
	in := newCounter(NewRecorder(&buf))
	var out counterOut
	if now, err := in.Apply(0, counterEvent{Add: 2}, &out); err != nil || now != 1 {
		t.Fatalf("first step: time %d, %v", now, err)
	}
	if now, err := in.Apply(7, counterEvent{Add: 3}, &out); err != nil || now != 8 {
		t.Fatalf("step observing time 7: time %d, %v", now, err)
	}
	if _, err := in.Apply(20, counterEvent{Add: -1}, &out); !errors.Is(err, ErrNotEnabled) {
		t.Fatalf("refused step: err = %v", err)
	}
	if in.Clock.Now() != 8 {
		t.Fatalf("a refused step moved the clock to %d", in.Clock.Now())
	}
	lines, err := ReadTrace(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2 (a refused step is not recorded)", len(lines))
	}
	l := lines[1]
	if l.Role != "counter" || l.Node != "c1" || l.Clock != 8 || l.Action != "Add" {
		t.Fatalf("line = %+v", l)
	}
	if string(l.Event) != `{"add":3}` || string(l.State) != `{"n":5,"seen":[2,3]}` {
		t.Fatalf("event %s, state %s", l.Event, l.State)
	}
}

func TestInstanceOffAllocatesNothing(t *testing.T) {
	in := newCounter(nil)
	var out counterOut
	allocs := testing.AllocsPerRun(20, func() {
		in.State = counterState{}
		if _, err := in.Apply(0, counterEvent{Add: 1}, &out); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Apply without a recorder allocates %v per step", allocs)
	}
}

func TestSetAndSeqMarshalAsArrays(t *testing.T) {
	var s Set[int64]
	s.Insert(3, CompareInt)
	s.Insert(1, CompareInt)
	var q Seq[string]
	if b, err := q.MarshalJSON(); err != nil || string(b) != `[]` {
		t.Fatalf("empty Seq = %s, %v", b, err)
	}
	q.Append("b")
	q.Append("a")
	bs, _ := s.MarshalJSON()
	bq, _ := q.MarshalJSON()
	if string(bs) != `[1,3]` || string(bq) != `["b","a"]` {
		t.Fatalf("Set = %s, Seq = %s", bs, bq)
	}
}
