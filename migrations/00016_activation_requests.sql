-- +goose Up
-- Request activation (issue 22, item 7): a member who may not activate asks the workspace's
-- owners to activate a draft that is ready. The open request lives on the draft row: who
-- asked and when. One open request per draft by construction; the service clears it when the
-- draft leaves ready_for_activation (activated, cancelled, or no longer ready), so a new
-- request can be made only after that. Setting it stamps a new rev through the draft's
-- trigger (the wizard shows it live) but never moves the version: no field changed.
ALTER TABLE managed_tenant_onboarding_sessions
    ADD COLUMN activation_requested_by bigint REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN activation_requested_at timestamptz;

-- +goose Down
ALTER TABLE managed_tenant_onboarding_sessions
    DROP COLUMN activation_requested_at,
    DROP COLUMN activation_requested_by;
