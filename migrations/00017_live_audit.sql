-- +goose Up
-- The audit log's entries appear live (docs/live.md, Topics): every new entry notifies
-- channel onboard_live with its workspace only. PostgreSQL folds identical payloads of one
-- transaction, so a write that audits several entries notifies once. The topic's rev is the
-- newest entry's id, which the existing (workspace_id, id DESC) index answers.

-- +goose StatementBegin
CREATE FUNCTION live_notify_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('onboard_live', json_build_object('k', 'audit', 'w', NEW.workspace_id)::text);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER workspace_audit_log_notify AFTER INSERT ON workspace_audit_log
    FOR EACH ROW EXECUTE FUNCTION live_notify_audit();

-- +goose Down
DROP TRIGGER workspace_audit_log_notify ON workspace_audit_log;
DROP FUNCTION live_notify_audit();
