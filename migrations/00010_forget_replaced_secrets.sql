-- +goose Up
-- A provider connection replaced on its draft keeps no secret: once no draft holds it and no
-- queued or running run was started with it, its ciphertext and key id are cleared. Triggers
-- do it, so every write path (the service, a worker completing a run) is covered.
ALTER TABLE provider_connections
    ALTER COLUMN secret_ciphertext DROP NOT NULL,
    ALTER COLUMN secret_key_id DROP NOT NULL,
    ADD CONSTRAINT provider_connections_secret_whole CHECK ((secret_ciphertext IS NULL) = (secret_key_id IS NULL));

-- +goose StatementBegin
CREATE FUNCTION provider_connection_forget_secret(conn uuid) RETURNS void LANGUAGE sql AS $$
    UPDATE provider_connections c SET secret_ciphertext = NULL, secret_key_id = NULL
    WHERE c.id = conn AND c.secret_ciphertext IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM managed_tenant_onboarding_sessions s WHERE s.provider_connection_id = conn)
      AND NOT EXISTS (SELECT 1 FROM operation_runs r
          WHERE r.workspace_id = c.workspace_id AND r.tenant_id = c.tenant_id
            AND r.status IN ('queued', 'running') AND r.context->>'connection_id' = conn::text);
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION provider_connection_replaced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM provider_connection_forget_secret(OLD.provider_connection_id);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION provider_connection_run_completed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.context->>'connection_id' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        PERFORM provider_connection_forget_secret((NEW.context->>'connection_id')::uuid);
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER provider_connection_replaced
    AFTER UPDATE OF provider_connection_id ON managed_tenant_onboarding_sessions
    FOR EACH ROW WHEN (OLD.provider_connection_id IS NOT NULL
        AND OLD.provider_connection_id IS DISTINCT FROM NEW.provider_connection_id)
    EXECUTE FUNCTION provider_connection_replaced();

CREATE TRIGGER provider_connection_run_completed
    AFTER UPDATE OF status ON operation_runs
    FOR EACH ROW WHEN (NEW.status = 'completed' AND OLD.status <> 'completed')
    EXECUTE FUNCTION provider_connection_run_completed();

-- Connections replaced before this migration.
SELECT provider_connection_forget_secret(id) FROM provider_connections;

-- +goose Down
DROP TRIGGER provider_connection_run_completed ON operation_runs;
DROP TRIGGER provider_connection_replaced ON managed_tenant_onboarding_sessions;
DROP FUNCTION provider_connection_run_completed();
DROP FUNCTION provider_connection_replaced();
DROP FUNCTION provider_connection_forget_secret(uuid);
-- Secrets already forgotten cannot come back; their rows go, as the NOT NULL requires.
UPDATE managed_tenant_onboarding_sessions SET provider_connection_id = NULL
    WHERE provider_connection_id IN (SELECT id FROM provider_connections WHERE secret_ciphertext IS NULL);
DELETE FROM provider_connections WHERE secret_ciphertext IS NULL;
ALTER TABLE provider_connections
    DROP CONSTRAINT provider_connections_secret_whole,
    ALTER COLUMN secret_ciphertext SET NOT NULL,
    ALTER COLUMN secret_key_id SET NOT NULL;
