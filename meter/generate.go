package meter

// machine_gen.go holds the meter's state machines generated from the spec
// (statemachine/gen). The Commands machine runs the meter's command path
// (HandleAPDU: a verified command runs if the machine takes its step, after
// the counter is persisted), the Channel machine its sealing counters
// (channel.go), the Collection machine its signed readings and blocks
// (collection.go: Take decides the counter, Acked the gateway's
// acknowledgement) and the Firmware machine the fixed legally relevant core
// (Core: every install decision is a step, each durable write follows one)
// and the Tamper machine its event log (tamper.go: detection, resend, the
// head-end's signed acknowledgement). The directive below regenerates every
// role's machine_gen.go (meter, gateway, headend).
//go:generate go run ../cmd/verimeter gen -write -spec ../spec -root ..
