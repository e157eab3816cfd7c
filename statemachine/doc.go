// Package statemachine is the small runtime that the generated meter, gateway
// and head-end machines share: the shape of an output (a message to send, a
// record to persist), the Lamport clock that orders steps across roles, and an
// optional recorder that writes one NDJSON line per step so a run can be
// validated against the TLA+ specification afterwards.
//
// Machines are pure: Step(state, event) computes the next state and the
// outputs; the caller persists first, then sends (raft's Ready discipline).
// Recording is off unless a *Recorder is supplied; a nil *Recorder costs one
// branch per step and allocates nothing. Instance is the hook: it runs a
// generated Step, ticks the instance's Lamport clock (observing the time the
// consumed message carried) and, only when a recorder is set, writes the
// step; statemachine/tracecheck validates such traces against the spec.
package statemachine
