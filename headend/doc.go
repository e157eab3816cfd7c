// Package headend is the head-end: it ingests what gateways forward, verifies
// every meter signature (certificate status judged at signing time, with an
// ingest timestamp recorded), stores readings and load-profile intervals
// idempotently on (meter, counter) in SQLite (WAL, one transaction per
// batch: a batch is acknowledged only after its durable commit), keeps the
// contracts that say which market participant may read which meter in which
// period, serves participants the signed data they are entitled to with the
// Merkle proofs to verify it offline, issues commands with role checks, rate
// limits and two approvers, runs firmware campaigns, and writes an audit log.
package headend
