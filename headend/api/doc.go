// Package api holds what gateways and participants exchange with the
// head-end on the wire: ingest items and batches, and the replies. It has no
// database dependency, so device builds (gateways on linux/mips) link it
// without the head-end's SQLite.
package api
