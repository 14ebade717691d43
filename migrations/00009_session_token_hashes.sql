-- +goose Up
-- Session tokens are stored as the hex SHA-256 of the cookie value, so a read of this table
-- (a backup, a replica, an injection) yields nothing that signs anybody in. Hashing the
-- existing rows in place keeps every current session valid.
UPDATE sessions SET token = encode(sha256(convert_to(token, 'UTF8')), 'hex');

-- +goose Down
-- A digest cannot be turned back into a token: everybody signs in again.
DELETE FROM sessions;
