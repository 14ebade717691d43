-- Notifications name what they are about by id (draft, run); the web layer builds the links.
-- +goose Up
ALTER TABLE user_notifications ADD COLUMN draft_id uuid, ADD COLUMN run_id uuid;
UPDATE user_notifications SET
    draft_id = coalesce(
        substring(payload->>'draft_id' FROM '^[0-9a-fA-F-]{36}$'),
        substring(link FROM '/onboarding/([0-9a-fA-F-]{36})'))::uuid,
    run_id = substring(payload->>'run_id' FROM '^[0-9a-fA-F-]{36}$')::uuid;
ALTER TABLE user_notifications DROP COLUMN link;

-- +goose Down
ALTER TABLE user_notifications ADD COLUMN link text NOT NULL DEFAULT '';
UPDATE user_notifications n SET link = '/admin/workspaces/' || w.slug || '/onboarding/' || n.draft_id
    FROM workspaces w WHERE w.id = n.workspace_id AND n.draft_id IS NOT NULL;
ALTER TABLE user_notifications DROP COLUMN draft_id, DROP COLUMN run_id;
