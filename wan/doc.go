// Package wan is the WAN's wire contract between gateways and participants
// on one side and the head-end on the other, beside plc/ for the power
// line: ingest items and batches, and the replies. Both ends import it and
// neither imports the other (a gateway never links the head-end). It has no
// database dependency, so device builds (gateways on linux/mips) link it
// without the head-end's SQLite.
package wan
