-- +goose Up
-- Live notifications and list topics (docs/live.md, Topics): a user's notifications are
-- stamped with a revision like drafts and runs, and every insert or update (a run ended, a
-- notification read) notifies channel onboard_live with the user's id only. The payload has
-- no revision, so the rows of one statement (mark all read) fold into one notification per
-- (user, workspace). Indexes let the lists' digests read a workspace's newest revisions.

ALTER TABLE user_notifications ADD COLUMN rev bigint NOT NULL DEFAULT 0;

-- +goose StatementBegin
CREATE FUNCTION live_notify_notification() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('onboard_live', json_build_object(
        'k', 'notification', 'w', NEW.workspace_id, 'u', NEW.user_id)::text);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER user_notifications_rev BEFORE INSERT OR UPDATE ON user_notifications
    FOR EACH ROW EXECUTE FUNCTION live_stamp_rev();
CREATE TRIGGER user_notifications_notify AFTER INSERT OR UPDATE ON user_notifications
    FOR EACH ROW EXECUTE FUNCTION live_notify_notification();
CREATE INDEX onboarding_sessions_workspace_rev_idx ON managed_tenant_onboarding_sessions (workspace_id, rev DESC);
CREATE INDEX operation_runs_workspace_rev_idx ON operation_runs (workspace_id, rev DESC);

-- +goose Down
DROP INDEX operation_runs_workspace_rev_idx;
DROP INDEX onboarding_sessions_workspace_rev_idx;
DROP TRIGGER user_notifications_notify ON user_notifications;
DROP TRIGGER user_notifications_rev ON user_notifications;
DROP FUNCTION live_notify_notification();
ALTER TABLE user_notifications DROP COLUMN rev;
