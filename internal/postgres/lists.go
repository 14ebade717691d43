package postgres

import (
	"context"
	"fmt"

	"github.com/tenantops/onboard/views"
)

// DraftRows lists a workspace's drafts, most recently changed first, for list pages.
func (db *DB) DraftRows(ctx context.Context, workspaceID int64) ([]views.DraftRow, error) {
	rows, err := db.Pool.Query(ctx, `SELECT s.id::text, w.slug, s.tenant_id::text, s.display_name, s.primary_domain,
			s.lifecycle_state, s.current_checkpoint, coalesce(s.reason_code, ''), s.version, s.rev,
			coalesce(u.email, ''), s.updated_at
		FROM managed_tenant_onboarding_sessions s
		JOIN workspaces w ON w.id = s.workspace_id
		LEFT JOIN users u ON u.id = s.updated_by
		WHERE s.workspace_id = $1
		ORDER BY s.updated_at DESC, s.id
		LIMIT 500`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("list drafts: %w", err)
	}
	defer rows.Close()
	var out []views.DraftRow
	for rows.Next() {
		var d views.DraftRow
		if err := rows.Scan(&d.ID, &d.Workspace, &d.TenantID, &d.DisplayName, &d.PrimaryDomain, &d.Lifecycle,
			&d.Checkpoint, &d.ReasonCode, &d.Version, &d.Rev, &d.UpdatedBy, &d.UpdatedAt); err != nil {
			return nil, fmt.Errorf("scan draft: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// AuditEntries lists the newest audit entries of a workspace.
func (db *DB) AuditEntries(ctx context.Context, workspaceID int64, limit int) ([]views.AuditEntry, error) {
	rows, err := db.Pool.Query(ctx, `SELECT a.id, coalesce(u.email, 'system'), a.action, a.subject_type, a.subject_id,
			a.metadata::text, a.created_at
		FROM workspace_audit_log a LEFT JOIN users u ON u.id = a.actor_id
		WHERE a.workspace_id = $1 ORDER BY a.id DESC LIMIT $2`, workspaceID, limit)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	defer rows.Close()
	var out []views.AuditEntry
	for rows.Next() {
		var e views.AuditEntry
		if err := rows.Scan(&e.ID, &e.Actor, &e.Action, &e.SubjectType, &e.SubjectID, &e.Metadata, &e.At); err != nil {
			return nil, fmt.Errorf("scan audit: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
