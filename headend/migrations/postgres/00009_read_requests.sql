-- Version 9: on-demand reads (UC3) requested through the operator API. A
-- request is pending until the gateway that forwarded the meter's newest
-- item reports the reading it took (done, with the counter of the stored
-- reading) or the meter's refusal (failed, with the reason). There is no
-- Down: the rows are part of the audit trail.

-- +goose Up
CREATE TABLE read_requests (
  id BIGSERIAL PRIMARY KEY, meter BYTEA NOT NULL,
  requested_by TEXT NOT NULL, requested_at BIGINT NOT NULL,
  status TEXT NOT NULL, gateway TEXT, counter BIGINT, reason TEXT);
CREATE INDEX read_requests_status ON read_requests (status, id);
