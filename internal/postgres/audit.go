package postgres

import (
	"context"
	"fmt"

	"github.com/tenantops/onboard/internal/onboarding"
)

// AuditEntries lists the newest audit entries of a workspace, the actor as an email
// ("system" when none).
func (db *DB) AuditEntries(ctx context.Context, workspaceID int64, limit int) ([]onboarding.AuditRecord, error) {
	rows, err := db.Pool.Query(ctx, `SELECT a.id, coalesce(u.email, 'system'), a.action, a.subject_type, a.subject_id,
			a.metadata::text, a.created_at
		FROM workspace_audit_log a LEFT JOIN users u ON u.id = a.actor_id
		WHERE a.workspace_id = $1 ORDER BY a.id DESC LIMIT $2`, workspaceID, limit)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	defer rows.Close()
	var out []onboarding.AuditRecord
	for rows.Next() {
		var e onboarding.AuditRecord
		if err := rows.Scan(&e.ID, &e.Actor, &e.Action, &e.SubjectType, &e.SubjectID, &e.Metadata, &e.At); err != nil {
			return nil, fmt.Errorf("scan audit: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
