package meter

// machine_gen.go holds the meter's state machines generated from the spec
// (statemachine/gen). They sit beside the hand-written meter for now; the
// running meter is wired onto them in a later step.
//go:generate go run ../cmd/verimeter gen -write -spec ../spec -root ..
