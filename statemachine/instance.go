package statemachine

import "fmt"

// Instance is one running role instance of a generated machine: its state,
// its Lamport clock and, when Rec is not nil, the recorder of its steps. It
// exists so that every caller of a generated Step stamps and records steps
// the same way, which trace validation (statemachine/tracecheck) relies on:
// one NDJSON line per step taken, in the spec's names, stamped with the
// instance's clock, the clock observing the time carried by the message the
// step consumed.
//
// With Rec nil, Apply costs the Step, a clock tick and one branch: nothing is
// built for the recorder and nothing is allocated (TestInstanceOffAllocatesNothing).
type Instance[S, E, O any] struct {
	Role string // the role as the spec's annotations name it, e.g. "meter"
	Name string // this instance, e.g. "m1"; one trace per instance
	// Step is the generated Step of the role's machine for one module,
	// e.g. (&commandsParams{}).Step in the gateway.
	Step func(s *S, ev E, out *O) error
	// Action reads the spec's action a step took from its output (the
	// generated outputs' Action field).
	Action func(out *O) string
	// Persist, when set, makes a step durable after Step and before the
	// step counts (raft's Ready order: persist, then record and send). If
	// it fails, the state goes back to what it was and the step did not
	// happen.
	Persist func(s *S, out *O) error
	State   S
	Clock   LamportClock
	Rec     *Recorder
}

// Apply runs one event. remote is the Lamport time carried by the message the
// event delivers (0 for a local event: a timer, an operator, a restart). A
// step refused by its guard (or by a capacity limit) is not a step: the
// state and the clock stay as they were and nothing is recorded. On success
// Apply returns the instance's new time, which the messages in out carry.
// When recording fails the step has been taken (the state and clock moved)
// and the error says that the trace lost it.
func (in *Instance[S, E, O]) Apply(remote uint64, ev E, out *O) (uint64, error) {
	var saved S
	if in.Persist != nil {
		saved = in.State
	}
	if err := in.Step(&in.State, ev, out); err != nil {
		return 0, err
	}
	if in.Persist != nil {
		if err := in.Persist(&in.State, out); err != nil {
			in.State = saved
			return 0, err
		}
	}
	now, err := in.Clock.Observe(remote)
	if err != nil {
		return 0, err
	}
	if in.Rec != nil {
		if err := in.Rec.Record(in.Role, in.Name, now, in.Action(out), ev, in.State); err != nil {
			return now, fmt.Errorf("statemachine: recording %s of %s: %w", in.Action(out), in.Name, err)
		}
	}
	return now, nil
}

// Resume continues an instance's clock after the one its recorder last
// wrote: a role that restarts in the same process (or appends to the log of
// an earlier run) keeps its log's clocks strictly increasing.
func (in *Instance[S, E, O]) Resume() {
	if last := in.Rec.LastClock(); last > in.Clock.Now() {
		in.Clock.now = last
	}
}
