-- +goose Up
-- Invitations (internal/invitation): an owner invites an email that has no account yet; the
-- invitee follows a one-time link to set a password and join with the chosen role. Only the
-- SHA-256 digest of the link's token is stored: the token itself leaves the server once, in
-- the email (or the owner's one-time display) and is never written anywhere. A row is pending
-- until accepted or revoked; past expires_at it can only be revoked.
CREATE TABLE workspace_invitations (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id     bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email            text NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%' AND length(email) <= 254),
    role             text NOT NULL CHECK (role IN ('owner', 'operator', 'viewer')),
    token_hash       bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    invited_by       bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL CHECK (expires_at > created_at),
    accepted_at      timestamptz,
    accepted_user_id bigint REFERENCES users (id) ON DELETE SET NULL,
    revoked_at       timestamptz,
    revoked_by       bigint REFERENCES users (id) ON DELETE SET NULL,
    CHECK (accepted_at IS NULL OR revoked_at IS NULL)
);
CREATE INDEX workspace_invitations_pending_idx ON workspace_invitations (workspace_id, email)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;

-- +goose Down
DROP TABLE workspace_invitations;
