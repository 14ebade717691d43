package postgres

import (
	"context"
	"fmt"

	"github.com/tenantops/onboard/internal/onboarding"
)

// auditFrom joins an entry to its actor and to the onboarding it is about (a draft, or the
// draft of a run).
const auditFrom = `
		FROM workspace_audit_log a
		LEFT JOIN users u ON u.id = a.actor_id
		LEFT JOIN managed_tenant_onboarding_sessions s
			ON a.subject_type = '` + onboarding.SubjectDraft + `' AND s.id::text = a.subject_id
		LEFT JOIN operation_runs r ON a.subject_type = '` + onboarding.SubjectRun + `' AND r.id::text = a.subject_id
		LEFT JOIN managed_tenant_onboarding_sessions rs ON rs.id = r.draft_id`

// MaxAuditRows bounds one read of the audit log (the CSV export).
const MaxAuditRows = 10001

func auditWhere(workspaceID int64, f onboarding.AuditFilter) *listSQL {
	q := &listSQL{}
	q.and("a.workspace_id = " + q.arg(workspaceID))
	switch {
	case len(f.Action) > 0 && f.Action[len(f.Action)-1] == '.':
		q.and("starts_with(a.action, " + q.arg(f.Action) + ")")
	case f.Action != "":
		q.and("a.action = " + q.arg(f.Action))
	}
	if f.Actor == "system" {
		q.and("a.actor_id IS NULL")
	} else if f.Actor != "" {
		q.and("lower(u.email) = lower(" + q.arg(f.Actor) + ")")
	}
	if f.DraftID != "" {
		q.and("coalesce(s.id, r.draft_id)::text = " + q.arg(f.DraftID))
	}
	if !f.From.IsZero() {
		q.and("a.created_at >= " + q.arg(f.From))
	}
	if !f.To.IsZero() {
		q.and("a.created_at < " + q.arg(f.To))
	}
	if f.Q != "" {
		p := q.like(f.Q)
		q.and("(a.action LIKE " + p + " OR lower(coalesce(u.email, 'system')) LIKE " + p +
			" OR lower(coalesce(s.display_name, rs.display_name, '')) LIKE " + p + " OR lower(a.subject_id) LIKE " + p +
			" OR lower(a.metadata::text) LIKE " + p + " OR a.action = ANY(" + q.arg(append([]string{}, f.Actions...)) + "))")
	}
	return q
}

// AuditEntries lists a workspace's audit entries matching f (newest first unless
// f.Desc is false: oldest first), with the actor's email ("system" when none) and
// the onboarding each entry is about. Pages continue by entry id (keyset pagination, stable
// while entries are added).
func (db *DB) AuditEntries(ctx context.Context, workspaceID int64, f onboarding.AuditFilter) ([]onboarding.AuditRecord, error) {
	q := auditWhere(workspaceID, f)
	tail, reversed := q.page(sortKey{col: "a.id", cast: "bigint"}, "a.id", "bigint", f.ListPage, MaxAuditRows)
	rows, err := db.Pool.Query(ctx, `SELECT a.id, coalesce(u.email, 'system'), a.action, a.subject_type, a.subject_id,
			a.metadata::text, a.created_at, coalesce(coalesce(s.id, r.draft_id)::text, ''), coalesce(coalesce(s.display_name, rs.display_name), '')`+
		auditFrom+q.whereSQL()+tail, q.args...)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	defer rows.Close()
	var out []onboarding.AuditRecord
	for rows.Next() {
		var e onboarding.AuditRecord
		if err := rows.Scan(&e.ID, &e.Actor, &e.Action, &e.SubjectType, &e.SubjectID, &e.Metadata, &e.At, &e.DraftID, &e.Tenant); err != nil {
			return nil, fmt.Errorf("scan audit: %w", err)
		}
		out = append(out, e)
	}
	return reverse(out, reversed), rows.Err()
}

// AuditCount counts the entries matching f.
func (db *DB) AuditCount(ctx context.Context, workspaceID int64, f onboarding.AuditFilter) (int, error) {
	q := auditWhere(workspaceID, f)
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*)`+auditFrom+q.whereSQL(), q.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count audit: %w", err)
	}
	return n, nil
}

// AuditDigest reads a workspace's audit topic: the id of its newest entry (an index-only
// read of workspace_audit_log_workspace_idx).
func (db *DB) AuditDigest(ctx context.Context, workspaceID int64) (onboarding.AuditDigest, error) {
	d := onboarding.AuditDigest{WorkspaceID: workspaceID}
	err := db.Pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM workspace_audit_log WHERE workspace_id = $1`,
		workspaceID).Scan(&d.Rev)
	if err != nil {
		return d, fmt.Errorf("audit digest: %w", err)
	}
	return d, nil
}
