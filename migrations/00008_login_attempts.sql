-- +goose Up
-- Sign-in attempts counted per key (an account or a client address) in a fixed window, shared
-- by every process on the database. The key is stored as a SHA-256 digest: people type
-- passwords into the email field, and what they typed must not be kept plain.
CREATE TABLE login_attempts (
    key_hash   bytea PRIMARY KEY CHECK (length(key_hash) = 32),
    window_end timestamptz NOT NULL,
    attempts   integer NOT NULL CHECK (attempts >= 0)
);
CREATE INDEX login_attempts_window_end_idx ON login_attempts (window_end);

-- +goose Down
DROP TABLE login_attempts;
