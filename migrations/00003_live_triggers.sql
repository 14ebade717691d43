-- +goose Up
-- Live path: every write of a draft or a run is stamped with a revision from live_rev_seq and
-- notifies channel onboard_live with a tiny JSON payload (ids, version, revision; never secrets).
-- NOTIFY is delivered at commit, so listeners never see uncommitted state.

-- +goose StatementBegin
CREATE FUNCTION live_stamp_rev() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.rev := nextval('live_rev_seq');
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION live_notify_draft() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('onboard_live', json_build_object(
        'k', 'draft', 'd', NEW.id, 'w', NEW.workspace_id, 'v', NEW.version, 'r', NEW.rev)::text);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION live_notify_run() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.draft_id IS NOT NULL THEN
        PERFORM pg_notify('onboard_live', json_build_object(
            'k', 'run', 'd', NEW.draft_id, 'w', NEW.workspace_id, 'run', NEW.id, 'r', NEW.rev)::text);
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION live_notify_membership() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    m workspace_memberships;
BEGIN
    IF TG_OP = 'DELETE' THEN m := OLD; ELSE m := NEW; END IF;
    PERFORM pg_notify('onboard_live', json_build_object(
        'k', 'membership', 'w', m.workspace_id, 'u', m.user_id)::text);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER onboarding_sessions_rev BEFORE INSERT OR UPDATE ON managed_tenant_onboarding_sessions
    FOR EACH ROW EXECUTE FUNCTION live_stamp_rev();
CREATE TRIGGER onboarding_sessions_notify AFTER INSERT OR UPDATE ON managed_tenant_onboarding_sessions
    FOR EACH ROW EXECUTE FUNCTION live_notify_draft();
CREATE TRIGGER operation_runs_rev BEFORE INSERT OR UPDATE ON operation_runs
    FOR EACH ROW EXECUTE FUNCTION live_stamp_rev();
CREATE TRIGGER operation_runs_notify AFTER INSERT OR UPDATE ON operation_runs
    FOR EACH ROW EXECUTE FUNCTION live_notify_run();
CREATE TRIGGER workspace_memberships_notify AFTER INSERT OR UPDATE OR DELETE ON workspace_memberships
    FOR EACH ROW EXECUTE FUNCTION live_notify_membership();

-- +goose Down
DROP TRIGGER workspace_memberships_notify ON workspace_memberships;
DROP TRIGGER operation_runs_notify ON operation_runs;
DROP TRIGGER operation_runs_rev ON operation_runs;
DROP TRIGGER onboarding_sessions_notify ON managed_tenant_onboarding_sessions;
DROP TRIGGER onboarding_sessions_rev ON managed_tenant_onboarding_sessions;
DROP FUNCTION live_notify_membership();
DROP FUNCTION live_notify_run();
DROP FUNCTION live_notify_draft();
DROP FUNCTION live_stamp_rev();
