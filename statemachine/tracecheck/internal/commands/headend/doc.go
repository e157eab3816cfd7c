// Package headend is the headend's machine of spec/Commands.tla, generated as the
// headend role's own is but with exported names, so that the tests of
// statemachine/tracecheck can run the three roles of a command's journey
// (head-end, gateway, meter) in one process and validate the traces they
// write. The role packages keep their machines unexported; this copy is
// kept current by TestCommandsFixturesUpToDate.
package headend
