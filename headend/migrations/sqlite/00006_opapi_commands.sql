-- Version 6: the operator API's four-eyes command workflow. A command is a
-- row from its request on: requested by one operator (pending), approved by
-- another (signing), then signed by the head-end with the meter's next
-- command counter (ready, the signed COSE_Sign1 kept for the gateway) or
-- refused by the head-end's rules (refused, with the reason). The
-- requester's certificate is kept so that the approval can check it is
-- still valid. There is no Down: the rows are part of the audit trail.

-- +goose Up
CREATE TABLE operator_commands (
  id INTEGER PRIMARY KEY AUTOINCREMENT, meter BLOB NOT NULL, kind INTEGER NOT NULL,
  tariff INTEGER NOT NULL, clock_step INTEGER NOT NULL,
  requested_by TEXT NOT NULL, requester_cert BLOB NOT NULL, requested_at INTEGER NOT NULL,
  status TEXT NOT NULL, approved_by TEXT, approved_at INTEGER,
  counter INTEGER, signed BLOB, reason TEXT);
CREATE INDEX operator_commands_status ON operator_commands (status, id);
