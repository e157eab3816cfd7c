-- Version 7: the head-end's crlKnown of spec/Market.tla, per meter. A row
-- says the head-end took the Market machine's PublishCRL for the meter's
-- signing key: the CRL naming its invalidity date (Unix seconds) reached
-- the head-end at known_at. From then on what the log recorded at or after
-- invalid_from is no evidence (Serve), and nothing more is accepted from
-- that date on (Ingest). There is no Down: a CRL once known stays known.

-- +goose Up
CREATE TABLE market_crl (
  meter BLOB NOT NULL PRIMARY KEY, invalid_from INTEGER NOT NULL, known_at INTEGER NOT NULL) WITHOUT ROWID;
