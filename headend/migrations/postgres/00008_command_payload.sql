-- Version 8: a requested command's payload. An operator change (kind
-- trust-list) carries the new trust list, signed by the trust-list signer,
-- from the request to the second operator's approval, where the head-end
-- signs it into the command; other kinds have none (NULL).

-- +goose Up
ALTER TABLE operator_commands ADD COLUMN payload BYTEA;
