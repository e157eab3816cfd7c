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
ALTER TABLE campaigns ADD COLUMN manifest BYTEA;
ALTER TABLE campaigns ADD COLUMN image BYTEA;
ALTER TABLE campaigns ADD COLUMN state TEXT NOT NULL DEFAULT 'legacy';
ALTER TABLE campaigns ADD COLUMN stage BIGINT NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN reason TEXT NOT NULL DEFAULT '';
CREATE TABLE campaign_requests (
  id BIGINT PRIMARY KEY, requested_at BIGINT NOT NULL, requester TEXT NOT NULL,
  manifest BYTEA NOT NULL, image BYTEA NOT NULL, meters BYTEA NOT NULL);
CREATE TABLE campaign_meters (
  campaign BIGINT NOT NULL, meter BYTEA NOT NULL, pos BIGINT NOT NULL,
  outcome TEXT NOT NULL DEFAULT '', gateway TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '', reported_at BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (campaign, meter));
CREATE INDEX campaign_meters_pos ON campaign_meters (campaign, pos);

-- +goose Down
DROP TABLE campaign_meters;
DROP TABLE campaign_requests;
ALTER TABLE campaigns DROP COLUMN reason;
ALTER TABLE campaigns DROP COLUMN stage;
ALTER TABLE campaigns DROP COLUMN state;
ALTER TABLE campaigns DROP COLUMN image;
ALTER TABLE campaigns DROP COLUMN manifest;
