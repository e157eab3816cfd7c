// Package procs runs the roles as real processes. Set is the
// infrastructure of the multi-process campaigns (the crash campaign, the
// WAN fault campaign): it builds the verimeter binary, provisions a
// deployment with `verimeter provision`, and starts, kills and restarts
// `meter run`, `gateway run` and `headend serve` with their spec trace logs
// in one directory, all killed when the test ends. UseCases is the process
// demo (`verimeter demo -processes`, and the use-case tests of `make test`):
// the ten use cases played by such processes, every operator action
// through the operator API, each outcome a row of its Report.
package procs
