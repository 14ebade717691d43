-- +goose Up
-- An ended session stays ended, also when its last request's commit races the sign-out.
-- The commit (postgres.SessionStore.Commit) inserts only when the token is not in
-- sessions_ended, but if it waits for the row the sign-out is deleting, PostgreSQL retries
-- the insert after the sign-out commits, with the snapshot the statement started with: the
-- check cannot see the sign-out, and the session would come back. This trigger runs after
-- the insert, with a snapshot of its own (READ COMMITTED, one per query in PL/pgSQL), sees
-- the committed sign-out and removes the row again.

-- +goose StatementBegin
CREATE FUNCTION sessions_refuse_ended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM sessions_ended WHERE token = NEW.token) THEN
        DELETE FROM sessions WHERE token = NEW.token;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER sessions_refuse_ended AFTER INSERT ON sessions
    FOR EACH ROW EXECUTE FUNCTION sessions_refuse_ended();

-- +goose Down
DROP TRIGGER sessions_refuse_ended ON sessions;
DROP FUNCTION sessions_refuse_ended();
