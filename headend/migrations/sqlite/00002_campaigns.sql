-- Version 2: firmware campaigns as records. A campaign is released only
-- with its row and its audit entry committed in one transaction, and a
-- campaign id is approved once (a second approval of the same id is
-- refused, not a second rollout under an old approval).

-- +goose Up
CREATE TABLE campaigns (
  id INTEGER PRIMARY KEY, approved_at INTEGER NOT NULL,
  first_approver TEXT NOT NULL, second_approver TEXT NOT NULL,
  manifest_sha256 BLOB NOT NULL, image_bytes INTEGER NOT NULL);

-- +goose Down
DROP TABLE campaigns;
