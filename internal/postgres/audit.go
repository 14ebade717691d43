package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/tenantops/onboard/internal/onboarding"
)

// AuditEntries lists a workspace's audit entries matching f, newest first, with the actor's
// email ("system" when none) and the onboarding each entry is about (a draft, or the draft
// of a run). Pages continue with f.Before = the last id shown (keyset pagination, stable
// while entries are added).
func (db *DB) AuditEntries(ctx context.Context, workspaceID int64, f onboarding.AuditFilter) ([]onboarding.AuditRecord, error) {
	where := []string{"a.workspace_id = $1"}
	args := []any{workspaceID}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
	}
	if f.Before > 0 {
		add("a.id < ?", f.Before)
	}
	switch {
	case strings.HasSuffix(f.Action, "."):
		add("starts_with(a.action, ?)", f.Action)
	case f.Action != "":
		add("a.action = ?", f.Action)
	}
	if f.Actor == "system" {
		where = append(where, "a.actor_id IS NULL")
	} else if f.Actor != "" {
		add("lower(u.email) = lower(?)", f.Actor)
	}
	if f.DraftID != "" {
		add("coalesce(s.id, r.draft_id)::text = ?", f.DraftID)
	}
	if !f.From.IsZero() {
		add("a.created_at >= ?", f.From)
	}
	if !f.To.IsZero() {
		add("a.created_at < ?", f.To)
	}
	limit := f.Limit
	if limit <= 0 || limit > 10000 {
		limit = 50
	}
	args = append(args, limit)
	rows, err := db.Pool.Query(ctx, `SELECT a.id, coalesce(u.email, 'system'), a.action, a.subject_type, a.subject_id,
			a.metadata::text, a.created_at, coalesce(coalesce(s.id, r.draft_id)::text, ''), coalesce(coalesce(s.display_name, rs.display_name), '')
		FROM workspace_audit_log a
		LEFT JOIN users u ON u.id = a.actor_id
		LEFT JOIN managed_tenant_onboarding_sessions s
			ON a.subject_type = '`+onboarding.SubjectDraft+`' AND s.id::text = a.subject_id
		LEFT JOIN operation_runs r ON a.subject_type = '`+onboarding.SubjectRun+`' AND r.id::text = a.subject_id
		LEFT JOIN managed_tenant_onboarding_sessions rs ON rs.id = r.draft_id
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY a.id DESC LIMIT $`+fmt.Sprint(len(args)), args...)
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
	return out, rows.Err()
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
