-- Version 1: the schema the head-end kept by hand before it had versions,
-- statement for statement. A database made by that version has every table
-- and no goose_db_version; applying this (every statement IF NOT EXISTS) to
-- it changes nothing and stamps it as version 1. There is no Down: the
-- evidence is never dropped by a migration tool.

-- +goose Up
CREATE TABLE IF NOT EXISTS data (
  meter BLOB NOT NULL, counter INTEGER NOT NULL, kind INTEGER NOT NULL,
  signed_at INTEGER NOT NULL, ingested_at INTEGER NOT NULL, gateway TEXT NOT NULL,
  value INTEGER, raw BLOB NOT NULL,
  span_end INTEGER NOT NULL, -- blocks: end of the last interval; others: signed_at
  intervals INTEGER NOT NULL, -- blocks: number of intervals; others: 0
  PRIMARY KEY (meter, counter)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS data_span ON data (meter, kind, signed_at);
CREATE TABLE IF NOT EXISTS contracts (
  participant TEXT NOT NULL, role TEXT NOT NULL, meter BLOB NOT NULL,
  valid_from INTEGER NOT NULL, valid_to INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS contracts_meter ON contracts (meter, participant);
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL,
  action TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS command_counters (
  meter BLOB PRIMARY KEY, issued INTEGER NOT NULL) WITHOUT ROWID;
