package check

import "github.com/verimeter/verimeter/tla/value"

// State is one state: the values of the variables in the order of System.Variables.
type State []value.Value

// System is what the checker explores. Implementations must be safe for concurrent
// calls from several workers (no shared mutable state per call).
type System interface {
	// Variables names the state variables, in declaration order.
	Variables() []string
	// Init calls emit once for each initial state (duplicates allowed).
	Init(emit func(State) error) error
	// Next calls emit once for each successor of s, with the name of the action that
	// produced it (the name TLC prints: the operator of the disjunct of Next). The
	// checker may keep `next`; the System must not reuse its backing array afterwards.
	Next(s State, emit func(next State, action string) error) error
	// Invariants are checked on every generated state (also those outside constraints).
	Invariants() []Invariant
	// Constraints are state constraints (CONSTRAINT): a state outside them is counted
	// as generated but never stored nor explored.
	Constraints() []StatePredicate
	// ActionConstraints (ACTION_CONSTRAINT) judge a transition s -> t.
	ActionConstraints() []ActionPredicate
}

// Invariant is a named state predicate that must hold in every reachable state.
type Invariant struct {
	Name  string
	Holds func(State) (bool, error)
	// HoldsMemo, if not nil, is Holds for one of the checker's workers,
	// with the worker's memory of the sets the predicate asks (a type
	// invariant's [RM -> ...] and SUBSET Message), which the worker alone
	// writes: see value.WorkerMemo.
	HoldsMemo func(State, *value.WorkerMemo) (bool, error)
}

// StatePredicate is a named state constraint.
type StatePredicate struct {
	Name  string
	Holds func(State) (bool, error)
}

// ActionPredicate is a named action constraint on a transition s -> t.
type ActionPredicate struct {
	Name  string
	Holds func(s, t State) (bool, error)
}

// BufferedSystem is a System that can also generate successors into a buffer
// it reuses, naming actions by index: the checker fingerprints each
// successor and rejects a duplicate (most successors, in large models)
// before copying or judging it.
type BufferedSystem interface {
	System
	// ActionNames lists the action names, indexed by NextInto's action.
	ActionNames() []string
	// NextInto calls emit for each successor of s, in the order of Next; next
	// is valid only during the call.
	NextInto(s State, emit func(next State, action int) error) error
}

// PendingSystem is a BufferedSystem that can also make the values of a
// successor in a value.Arena: NextIntoPending is NextInto, except that a
// successor may hold a value.Pending (a set with one element more, not yet
// copied) or arena functions (an EXCEPT's copies), whose hashes are exact.
// It calls a.Begin first. The checker fingerprints such a successor as it
// is and materializes it (value.Materialize) only when it is new, so that
// the duplicates, most of the successors of a large model, cost no
// copies the garbage collector must collect; it releases the arena's
// epochs once their successors are claimed.
type PendingSystem interface {
	BufferedSystem
	NextIntoPending(s State, emit func(next State, action int) error, a *value.Arena) error
}

// LevelSystem is a System whose expressions may ask for the level of a
// state (TLC's TLCGet("level"): an initial state's is 1, a successor's
// one more than its predecessor's; trace validation keeps it in a VIEW to
// tell apart the positions of one state in a log). The checker's search
// is level by level, so one number serves every worker, and a simulation
// walks one behaviour at a time: SetLevel(d) says that the states expanded
// now are at level d (0 while the initial states are computed), and
// SetLevel(-1) that the level is unknown (after the search, in a state
// graph dump, where liveness is checked), where the System must refuse to
// answer rather than guess.
type LevelSystem interface {
	System
	SetLevel(level int)
}
