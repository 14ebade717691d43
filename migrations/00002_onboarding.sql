-- +goose Up
-- Tenants, provider connections, onboarding drafts, operation runs, audit and notifications.
CREATE TABLE tenants (
    workspace_id   bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    tenant_id      uuid NOT NULL,
    display_name   text NOT NULL DEFAULT '',
    primary_domain text NOT NULL DEFAULT '',
    status         text NOT NULL DEFAULT 'onboarding' CHECK (status IN ('onboarding', 'active')),
    activated_at   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, tenant_id)
);

-- The client secret is stored only as AES-256-GCM ciphertext under a key from the environment.
CREATE TABLE provider_connections (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id      bigint NOT NULL,
    tenant_id         uuid NOT NULL,
    client_id         uuid NOT NULL,
    secret_ciphertext bytea NOT NULL,
    secret_key_id     text NOT NULL,
    status            text NOT NULL DEFAULT 'unverified' CHECK (status IN ('unverified', 'verified', 'failed')),
    created_by        bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (workspace_id, tenant_id) REFERENCES tenants (workspace_id, tenant_id) ON DELETE CASCADE
);
CREATE INDEX provider_connections_tenant_idx ON provider_connections (workspace_id, tenant_id);

CREATE SEQUENCE live_rev_seq;

CREATE TABLE managed_tenant_onboarding_sessions (
    id                        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id              bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    tenant_id                 uuid NOT NULL,
    display_name              text NOT NULL DEFAULT '' CHECK (length(display_name) <= 200),
    primary_domain            text NOT NULL DEFAULT '' CHECK (length(primary_domain) <= 253),
    provider_connection_id    uuid REFERENCES provider_connections (id) ON DELETE SET NULL,
    bootstrap_operations      text[] NOT NULL DEFAULT '{}',
    override_reason           text,
    overridden_by             bigint REFERENCES users (id) ON DELETE SET NULL,
    -- Fields of the original console.
    state                     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(state) = 'object'),
    current_step              smallint NOT NULL DEFAULT 1 CHECK (current_step BETWEEN 1 AND 5),
    completed_at              timestamptz,
    cancelled_at              timestamptz,
    -- First-class workflow truth, written only by the onboarding service's recalculation.
    version                   bigint NOT NULL DEFAULT 1 CHECK (version > 0),
    lifecycle_state           text NOT NULL DEFAULT 'draft' CHECK (lifecycle_state IN
        ('draft', 'verifying', 'action_required', 'bootstrapping', 'ready_for_activation', 'completed', 'cancelled')),
    current_checkpoint        text NOT NULL DEFAULT 'identify' CHECK (current_checkpoint IN
        ('identify', 'connect_provider', 'verify_access', 'bootstrap', 'activate')),
    last_completed_checkpoint text CHECK (last_completed_checkpoint IN
        ('identify', 'connect_provider', 'verify_access', 'bootstrap', 'activate')),
    reason_code               text CHECK (reason_code ~ '^[a-z][a-z0-9]*(_[a-z0-9]+)*$'),
    blocking_reason_code      text CHECK (blocking_reason_code ~ '^[a-z][a-z0-9]*(_[a-z0-9]+)*$'),
    -- Live revision: stamped from live_rev_seq by trigger on every write.
    rev                       bigint NOT NULL DEFAULT 0,
    created_by                bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_by                bigint REFERENCES users (id) ON DELETE SET NULL,
    updated_at                timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (workspace_id, tenant_id) REFERENCES tenants (workspace_id, tenant_id) ON DELETE CASCADE,
    CHECK ((lifecycle_state = 'completed') = (completed_at IS NOT NULL)),
    CHECK ((lifecycle_state = 'cancelled') = (cancelled_at IS NOT NULL))
);
-- One open draft per tenant per workspace.
CREATE UNIQUE INDEX onboarding_sessions_open_tenant_idx ON managed_tenant_onboarding_sessions (workspace_id, tenant_id)
    WHERE completed_at IS NULL AND cancelled_at IS NULL;
CREATE INDEX onboarding_sessions_workspace_idx ON managed_tenant_onboarding_sessions (workspace_id, updated_at DESC);

CREATE TABLE operation_runs (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id   bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    tenant_id      uuid NOT NULL,
    draft_id       uuid REFERENCES managed_tenant_onboarding_sessions (id) ON DELETE SET NULL,
    type           text NOT NULL CHECK (type = 'verify_access' OR type ~ '^bootstrap\.[a-z][a-z0-9_]*$'),
    status         text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'completed')),
    outcome        text CHECK (outcome IN ('succeeded', 'partially_succeeded', 'failed', 'cancelled')),
    reason_code    text CHECK (reason_code ~ '^[a-z][a-z0-9]*(_[a-z0-9]+)*$'),
    summary_counts jsonb NOT NULL DEFAULT '{"total":0,"succeeded":0,"failed":0,"skipped":0}' CHECK (jsonb_typeof(summary_counts) = 'object'),
    context        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(context) = 'object'),
    initiator_id   bigint REFERENCES users (id) ON DELETE SET NULL,
    attempt        integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    job_id         bigint,
    rev            bigint NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now(),
    started_at     timestamptz,
    heartbeat_at   timestamptz,
    completed_at   timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (workspace_id, tenant_id) REFERENCES tenants (workspace_id, tenant_id) ON DELETE CASCADE,
    CHECK ((status = 'completed') = (outcome IS NOT NULL)),
    CHECK ((status = 'completed') = (completed_at IS NOT NULL))
);
-- One active run per tenant and type.
CREATE UNIQUE INDEX operation_runs_active_idx ON operation_runs (workspace_id, tenant_id, type)
    WHERE status IN ('queued', 'running');
CREATE INDEX operation_runs_draft_idx ON operation_runs (draft_id, created_at DESC);
CREATE INDEX operation_runs_workspace_idx ON operation_runs (workspace_id, created_at DESC);

CREATE TABLE workspace_audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    actor_id     bigint REFERENCES users (id) ON DELETE SET NULL,
    action       text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_.]*$'),
    subject_type text NOT NULL,
    subject_id   text NOT NULL,
    metadata     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workspace_audit_log_workspace_idx ON workspace_audit_log (workspace_id, id DESC);

CREATE TABLE user_notifications (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    kind         text NOT NULL,
    title        text NOT NULL,
    body         text NOT NULL DEFAULT '',
    link         text NOT NULL DEFAULT '',
    payload      jsonb NOT NULL DEFAULT '{}',
    read_at      timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_notifications_user_idx ON user_notifications (user_id, id DESC);

-- +goose Down
DROP TABLE user_notifications;
DROP TABLE workspace_audit_log;
DROP TABLE operation_runs;
DROP TABLE managed_tenant_onboarding_sessions;
DROP SEQUENCE live_rev_seq;
DROP TABLE provider_connections;
DROP TABLE tenants;
