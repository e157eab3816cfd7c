package meter

// machine_gen.go holds the meter's state machines generated from the spec
// (statemachine/gen). They sit beside the hand-written meter for now; the
// running meter is wired onto them in a later step. The directive below
// regenerates every role's machine_gen.go (meter, gateway, headend).
//go:generate go run ../cmd/verimeter gen -write -spec ../spec -root ..
