-- +goose Up
-- Sessions end streams: deleting a session row (sign-out, the expiry sweep, a token renewal,
-- an operator's DELETE) notifies channel onboard_live, so every process's listener closes
-- that session's /live sockets (docs/live.md, Sessions). The payload carries the SHA-256 of
-- the stored token value, never the value itself.

-- +goose StatementBegin
CREATE FUNCTION live_notify_session_end() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('onboard_live', json_build_object(
        'k', 'session', 's', encode(sha256(convert_to(OLD.token, 'UTF8')), 'hex'))::text);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER sessions_notify_end AFTER DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION live_notify_session_end();

-- +goose Down
DROP TRIGGER sessions_notify_end ON sessions;
DROP FUNCTION live_notify_session_end();
