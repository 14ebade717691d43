-- +goose Up
-- Presence (docs/live.md, Presence): each server process renews one row every ~20 s holding
-- who has which draft open through its sockets. Other processes read the rows when they
-- renew theirs, so a crashed process's entries expire with its lease and a starting process
-- learns the current state. UNLOGGED: no WAL, emptied after a database crash, never
-- replicated; presence is ephemeral and rebuilt by the next renewals.
CREATE UNLOGGED TABLE presence_leases (
    process    text PRIMARY KEY,
    expires_at timestamptz NOT NULL,
    state      jsonb NOT NULL
);

-- +goose Down
DROP TABLE presence_leases;
