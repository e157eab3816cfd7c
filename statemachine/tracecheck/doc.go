// Package tracecheck validates traces of running roles against the TLA+
// specification their machines are generated from (trace validation, as in
// Cirstea, Kuppe, Merz et al., "Validating Traces of Distributed Programs
// Against TLA+ Specifications").
//
// Each role instance writes its own NDJSON log through a
// statemachine.Recorder (statemachine.Instance does it for a generated
// machine): one line per step taken, with the role, the instance (node), its
// Lamport clock, the spec's action, the event and the role's state after the
// step, all in the spec's names. ReadFile parses a log strictly: every line
// is a complete TraceLine of at most MaxLineBytes, one node per log, clocks
// strictly increasing; a bad line is a *ParseError with its file:line.
//
// Merge orders the steps of all logs by Lamport clock, ties broken by node
// name. A Lamport clock orders every step after the steps it causally
// depends on (a step that consumes a message observes the sender's clock), so
// clock order is one linearisation of the run consistent with causality.
// Steps with equal clocks are causally unrelated, and Check tries every order
// of them, so it explores every linearisation consistent with the clocks.
// Steps with different clocks are taken in clock order only: that explains
// the run whenever any causally consistent order does, provided that steps of
// different roles that are causally unrelated commute in the spec, which is
// the case when every dependency the spec draws between roles travels as a
// message that carries the sender's clock. A role that learns something
// without such a message (the spec lets it read another role's variable and
// the implementation takes no clock with it) may be reported unexplained;
// the fix is to carry the clock, not to loosen the check.
//
// Check then searches the model's state graph (spec .tla and .cfg, loaded
// with tla/eval as `verimeter check` does). From the initial states, for
// each logged step in order, it takes up to Options.MaxHidden steps of
// actions that no logging role owns (the attacker's, the network's, those
// of roles without a log, and unannotated actions; roles come from the
// spec's annotations as statemachine/gen reads them), then one step of the
// logged action after which the logging role's variables equal the logged
// state, with the logged event's parameters among the values Next draws them
// from in the state before. Candidate states are kept as a set (deduplicated
// by fingerprint, at most Options.MaxStates), so the search covers every
// behaviour of the model up to the bound on hidden steps. If no candidate
// explains a step, Check returns an *Unexplained naming the step (its index
// in merged order, its file:line and line) with some of the states that
// explain the steps before it and what the logged action leads to from
// them. The model's bounds (its Max… constants) apply: a run longer than
// the model allows is unexplained, and a larger .cfg is the remedy.
//
// A variable the role keeps outside its machine (@store: a set in its
// journal or database) may be left out of the logged state; when it is
// logged (the meter's firmware logbook), it is checked like any other
// variable. Left out, it is constrained by the parameters drawn from it (an
// upload of an item the model's queue does not hold is unexplained) and by
// the model's invariants.
//
// Parameters are checked against the domains Next draws them from, and
// when every parameter of the action is logged and drawn from a variable
// or a range, the step is taken with those very arguments (eval's
// ActionSuccessors, among Next's successors of the action): a parameter
// that leaves no trace in the role's state after the step (an item of a
// set the role keeps in its store) still decides which state follows, so
// a later step that depends on it is checked, and the candidate states do
// not multiply with every such step. A parameter drawn from another
// domain (a constant set) is checked for membership only.
package tracecheck
