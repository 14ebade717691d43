-- +goose Up
-- Sessions a person can see and end (the profile page): whose session it is, when it began,
-- when it was last used and from where. The token column stays the only key the cookie maps
-- to; the id is what pages and the API name a session by, so no token (nor its digest) ever
-- leaves the server. Rows from before this migration get their user when serve starts
-- (postgres.DB.BindSessionOwners reads it out of the session data).
ALTER TABLE sessions
    ADD COLUMN id           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    ADD COLUMN user_id      bigint REFERENCES users (id) ON DELETE CASCADE,
    ADD COLUMN created_at   timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN last_seen_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN user_agent   text NOT NULL DEFAULT '' CHECK (length(user_agent) <= 512),
    ADD COLUMN address      text NOT NULL DEFAULT '' CHECK (length(address) <= 64);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- An ended session stays ended: a request of that session still in flight when it was
-- signed out elsewhere commits its session data at its end, and that commit must not bring
-- the row back. Every deleted token is remembered until the session would have expired; the
-- session store's commit refuses to insert a remembered token.
CREATE TABLE sessions_ended (
    token  text PRIMARY KEY,
    expiry timestamptz NOT NULL
);
CREATE INDEX sessions_ended_expiry_idx ON sessions_ended (expiry);

-- +goose StatementBegin
CREATE FUNCTION sessions_remember_end() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sessions_ended (token, expiry) VALUES (OLD.token, OLD.expiry)
        ON CONFLICT (token) DO NOTHING;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER sessions_remember_end AFTER DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION sessions_remember_end();

-- +goose Down
DROP TRIGGER sessions_remember_end ON sessions;
DROP FUNCTION sessions_remember_end();
DROP TABLE sessions_ended;
DROP INDEX sessions_user_idx;
ALTER TABLE sessions DROP COLUMN id, DROP COLUMN user_id, DROP COLUMN created_at,
    DROP COLUMN last_seen_at, DROP COLUMN user_agent, DROP COLUMN address;
