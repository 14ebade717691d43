-- +goose Up
-- A draft's own history (conflict reports: "what changed since version n") is read by subject.
CREATE INDEX workspace_audit_log_subject_idx ON workspace_audit_log (subject_type, subject_id, id);

-- +goose Down
DROP INDEX workspace_audit_log_subject_idx;
