// Package journal is the durable record log the roles persist their state
// in before its effect is visible (a meter's registers, counters, logbook
// and firmware slots; a gateway's store-and-forward queue): an append-only
// file of length-prefixed, CRC-32C-checksummed records of a kind byte and
// data. A torn last record (power lost during a write that never returned)
// is cut when the journal is opened. An empty path keeps the records in
// memory only.
package journal
