// Package procs starts the roles as real processes for the multi-process
// campaigns (the crash campaign, the WAN fault campaign): it builds the
// verimeter binary, provisions a deployment with `verimeter provision`, and
// starts, kills and restarts `meter run`, `gateway run` and `headend
// serve` with their spec trace logs in one directory. It is test
// infrastructure: the processes are killed when the test ends.
package procs
