// Package headend is the head-end: it ingests what gateways forward, verifies
// every meter signature (certificate status judged at signing time, with an
// ingest timestamp recorded), stores readings and load-profile intervals
// idempotently on (meter, counter) in SQLite (WAL, one transaction per
// batch: a batch is acknowledged only after its durable commit), keeps the
// contracts that say which market participant may read which meter in which
// period, serves participants the signed data they are entitled to with the
// Merkle proofs to verify it offline, issues commands with role checks, rate
// limits and two approvers, runs firmware campaigns, and writes an audit log.
//
// Firmware campaigns (campaign.go) are durable: released with two
// different operators' approvals, they keep manifest, image, state, stage
// and each meter's outcome in the store, which gateways pick up and report
// on their own outbound connections (campaign_http.go), so a head-end
// started again resumes a campaign without offering a meter twice.
//
// The head-end fails closed on its audit log: a command's entry commits in
// the transaction that uses its counter, a campaign's with its record, a
// batch's refusals with the batch, and a fetch is not answered when its
// entry did not commit (ErrAudit). Every database error reaches the caller
// as ErrStore, and a full or read-only disk as ErrDiskFull or ErrReadOnly
// too. The schema is versioned (migrate.go, migrations/): goose migrations
// for SQLite and PostgreSQL, the first of which adopts a database made
// before the schema had versions. The store's crash safety is tested at
// every write and fsync SQLite makes (crashpoints_test.go).
//
// Tamper events (UC9, tamper.go) are verified under the meter's key before
// the head-end's generated machine of spec/Tamper.tla steps (the outcome is
// the event's signed field): only a signed event is stored, once per meter
// and number (tamper_events, the machine's @store stored), with one alarm
// (tamper_alarms, the @store alarms, which an operator acknowledges), and
// each upload is answered with a TamperAck the head-end signs for the exact
// bytes.
//
// The head-end counts what it does for its operators (stats.go): batches,
// items and interval values stored, refused items by wan.RejectClass,
// ingest latency from request to reply, tamper events, fetches and store
// errors, as plain atomic counters read by Stats, and the transparency
// log's size by LogSize. It links no metrics library: `verimeter headend
// serve -metrics ADDR` exposes them to Prometheus on a plain-HTTP listener
// of its own, meant for the loopback interface or the operator's
// management network. That listener needs no client certificate because
// it serves counts only (no meter data, no identities, no keys) and
// changes nothing; the data and the operations stay behind the mutually
// authenticated TLS listener.
//
// Which slots of a meter's data a supplier is served on either side of its
// supplier switch (UC6, UC7) is decided by the generated machine of
// spec/Market.tla, one per meter and switch (market.go, which maps the
// spec's slots onto the code's times).
//
// The operator API (opapi.go, openapi.json) is the grid operator's face on
// the same listener: operators are certificates in role head-end that name
// no host; every call is audited with the operator's name; commands follow
// the four-eyes rule as rows of operator_commands (requested, approved by a
// different operator, then checked against the roles and the hourly limit
// of disconnects, Config.DisconnectsPerHour, signed with the command key and
// kept for the gateway). The operator console (console.go, console/) shows
// the same to a browser as server-rendered pages under /console, behind the
// same gate and with the same code behind its buttons; its POSTs must be
// same-origin.
package headend
