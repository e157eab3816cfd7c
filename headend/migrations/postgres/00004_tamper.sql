-- Version 4: tamper events and alarms (UC9, spec/Tamper.tla). tamper_events
-- is the head-end's @store `stored`: each signed event that verified, once
-- per meter and number, with the exact bytes the meter signed. tamper_alarms
-- holds one alarm per stored event, raised in the transaction that stores
-- it, and its acknowledgement by an operator. There is no Down: events are
-- evidence and are never dropped by a migration tool.

-- +goose Up
CREATE TABLE tamper_events (
  meter BYTEA NOT NULL, n BIGINT NOT NULL, kind TEXT NOT NULL,
  signed_at BIGINT NOT NULL, stored_at BIGINT NOT NULL, gateway TEXT NOT NULL,
  raw BYTEA NOT NULL,
  PRIMARY KEY (meter, n));
CREATE TABLE tamper_alarms (
  id BIGSERIAL PRIMARY KEY, meter BYTEA NOT NULL, n BIGINT NOT NULL,
  kind TEXT NOT NULL, raised_at BIGINT NOT NULL,
  acked_by TEXT, acked_at BIGINT);
CREATE INDEX tamper_alarms_meter ON tamper_alarms (meter, id);
