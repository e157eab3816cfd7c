-- Version 5: firmware campaigns as durable objects. A campaign keeps its
-- manifest and image, its state (running, paused, stopped, done; legacy for
-- a record of version 2, whose image was never stored) and its current
-- stage, so a head-end started again resumes it where it was. A request
-- waits in campaign_requests for a second, different operator's approval.
-- campaign_meters lists the campaign's meters in rollout order (pos) with
-- each meter's outcome ('' while pending, installed or failed), which
-- gateway reported it and when: a meter that reported is never offered the
-- campaign again.

-- +goose Up
ALTER TABLE campaigns ADD COLUMN manifest BLOB;
ALTER TABLE campaigns ADD COLUMN image BLOB;
ALTER TABLE campaigns ADD COLUMN state TEXT NOT NULL DEFAULT 'legacy';
ALTER TABLE campaigns ADD COLUMN stage INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN reason TEXT NOT NULL DEFAULT '';
CREATE TABLE campaign_requests (
  id INTEGER PRIMARY KEY, requested_at INTEGER NOT NULL, requester TEXT NOT NULL,
  manifest BLOB NOT NULL, image BLOB NOT NULL, meters BLOB NOT NULL);
CREATE TABLE campaign_meters (
  campaign INTEGER NOT NULL, meter BLOB NOT NULL, pos INTEGER NOT NULL,
  outcome TEXT NOT NULL DEFAULT '', gateway TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '', reported_at INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (campaign, meter)) WITHOUT ROWID;
CREATE INDEX campaign_meters_pos ON campaign_meters (campaign, pos);

-- +goose Down
DROP TABLE campaign_meters;
DROP TABLE campaign_requests;
ALTER TABLE campaigns DROP COLUMN reason;
ALTER TABLE campaigns DROP COLUMN stage;
ALTER TABLE campaigns DROP COLUMN state;
ALTER TABLE campaigns DROP COLUMN image;
ALTER TABLE campaigns DROP COLUMN manifest;
