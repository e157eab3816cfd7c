-- Version 1: the schema the head-end kept by hand before it had versions,
-- statement for statement. A database made by that version has every table
-- and no goose_db_version; applying this (every statement IF NOT EXISTS) to
-- it changes nothing and stamps it as version 1. There is no Down: the
-- evidence is never dropped by a migration tool.

-- +goose Up
CREATE TABLE IF NOT EXISTS data (
  meter BYTEA NOT NULL, counter BIGINT NOT NULL, kind INTEGER NOT NULL,
  signed_at BIGINT NOT NULL, ingested_at BIGINT NOT NULL, gateway TEXT NOT NULL,
  value BIGINT, raw BYTEA NOT NULL, span_end BIGINT NOT NULL, intervals INTEGER NOT NULL,
  PRIMARY KEY (meter, counter));
CREATE INDEX IF NOT EXISTS data_span ON data (meter, kind, signed_at);
CREATE TABLE IF NOT EXISTS contracts (
  participant TEXT NOT NULL, role TEXT NOT NULL, meter BYTEA NOT NULL,
  valid_from BIGINT NOT NULL, valid_to BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS contracts_meter ON contracts (meter, participant);
CREATE TABLE IF NOT EXISTS audit (
  seq BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, actor TEXT NOT NULL,
  action TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS command_counters (
  meter BYTEA PRIMARY KEY, issued BIGINT NOT NULL);
