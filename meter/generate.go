package meter

// machine_gen.go holds the meter's state machines generated from the spec
// (statemachine/gen). The Commands machine runs the meter's command path
// (HandleAPDU: a verified command runs if the machine takes its step, after
// the counter is persisted) and the Firmware machine the fixed legally
// relevant core (Core: every install decision is a step, each durable write
// follows one). The directive below regenerates every role's machine_gen.go (meter, gateway, headend).
//go:generate go run ../cmd/verimeter gen -write -spec ../spec -root ..
