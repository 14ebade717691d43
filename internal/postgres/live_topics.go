package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/tenantops/onboard/internal/onboarding"
)

// This file reads the live topics' snapshots (docs/live.md, Topics): one round trip each,
// served by the (workspace_id, rev) indexes of migration 00011.

// DraftsDigest reads the drafts list topic of a workspace: counts per lifecycle state and
// the DigestSize drafts changed last.
func (db *DB) DraftsDigest(ctx context.Context, workspaceID int64) (onboarding.DraftsDigest, error) {
	d := onboarding.DraftsDigest{WorkspaceID: workspaceID, Counts: map[string]int{}}
	rows, err := db.Pool.Query(ctx, `
		WITH counts AS (SELECT lifecycle_state, count(*) AS n FROM managed_tenant_onboarding_sessions
			WHERE workspace_id = $1 GROUP BY lifecycle_state)
		SELECT '', lifecycle_state, '', '', '', 0::bigint, n FROM counts
		UNION ALL
		(SELECT id::text, lifecycle_state, display_name, primary_domain, tenant_id::text, rev, 0
			FROM managed_tenant_onboarding_sessions WHERE workspace_id = $1 ORDER BY rev DESC LIMIT $2)`,
		workspaceID, onboarding.DigestSize)
	if err != nil {
		return d, fmt.Errorf("drafts digest: %w", err)
	}
	defer rows.Close()
	total := 0
	for rows.Next() {
		var c onboarding.DraftChange
		var n int
		if err := rows.Scan(&c.ID, &c.Lifecycle, &c.DisplayName, &c.PrimaryDomain, &c.TenantID, &c.Rev, &n); err != nil {
			return d, fmt.Errorf("scan drafts digest: %w", err)
		}
		if c.ID == "" {
			d.Counts[c.Lifecycle] = n
			total += n
			continue
		}
		d.Rev = max(d.Rev, c.Rev)
		d.Changed = append(d.Changed, c)
	}
	if err := rows.Err(); err != nil {
		return d, fmt.Errorf("drafts digest: %w", err)
	}
	if total > len(d.Changed) && len(d.Changed) > 0 {
		d.Floor = d.Changed[len(d.Changed)-1].Rev
	}
	return d, nil
}

// RunsDigest reads the operations list topic of a workspace: its newest rev and the
// DigestSize runs created last.
func (db *DB) RunsDigest(ctx context.Context, workspaceID int64) (onboarding.RunsDigest, error) {
	d := onboarding.RunsDigest{WorkspaceID: workspaceID}
	if err := db.Pool.QueryRow(ctx, `SELECT coalesce(max(rev), 0) FROM operation_runs WHERE workspace_id = $1`,
		workspaceID).Scan(&d.Rev); err != nil {
		return d, fmt.Errorf("runs digest: %w", err)
	}
	rows, err := db.Pool.Query(ctx, `SELECT id::text, coalesce(draft_id::text, ''), type, status, coalesce(outcome, ''), created_at
		FROM operation_runs WHERE workspace_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, workspaceID, onboarding.DigestSize)
	if err != nil {
		return d, fmt.Errorf("runs digest: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r onboarding.RunBrief
		if err := rows.Scan(&r.ID, &r.DraftID, &r.Type, &r.Status, &r.Outcome, &r.CreatedAt); err != nil {
			return d, fmt.Errorf("scan runs digest: %w", err)
		}
		d.Latest = append(d.Latest, r)
	}
	return d, rows.Err()
}

// BellSize is how many notifications the bell lists.
const BellSize = 5

// Bell reads a user's notifications topic: the unread count (every notification, as the
// page counts them) and the latest BellSize notifications of workspaces the user is still
// a member of, with their workspace's slug and their draft's name.
func (db *DB) Bell(ctx context.Context, userID int64) (onboarding.Bell, error) {
	b := onboarding.Bell{UserID: userID}
	if err := db.Pool.QueryRow(ctx, `SELECT coalesce(max(rev), 0), count(*) FILTER (WHERE read_at IS NULL)
		FROM user_notifications WHERE user_id = $1`, userID).Scan(&b.Rev, &b.Unread); err != nil {
		return b, fmt.Errorf("bell: %w", err)
	}
	rows, err := db.Pool.Query(ctx, `SELECT n.id, n.workspace_id, n.kind, n.title, n.body,
			coalesce(n.draft_id::text, ''), coalesce(n.run_id::text, ''), n.payload, n.read_at, n.created_at,
			w.slug, coalesce(nullif(s.display_name, ''), s.tenant_id::text, '')
		FROM user_notifications n
		JOIN workspace_memberships m ON m.workspace_id = n.workspace_id AND m.user_id = n.user_id
		JOIN workspaces w ON w.id = n.workspace_id
		LEFT JOIN managed_tenant_onboarding_sessions s ON s.id = n.draft_id
		WHERE n.user_id = $1 ORDER BY n.id DESC LIMIT $2`, userID, BellSize)
	if err != nil {
		return b, fmt.Errorf("bell: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		it := onboarding.BellItem{Notification: onboarding.Notification{UserID: userID}}
		var readAt *time.Time
		if err := rows.Scan(&it.ID, &it.WorkspaceID, &it.Kind, &it.Title, &it.Body, &it.DraftID, &it.RunID,
			&it.Payload, &readAt, &it.CreatedAt, &it.Workspace, &it.Tenant); err != nil {
			return b, fmt.Errorf("scan bell: %w", err)
		}
		if readAt != nil {
			it.ReadAt = *readAt
		}
		b.Latest = append(b.Latest, it)
	}
	return b, rows.Err()
}

// DraftRev is a draft's workspace and the greatest rev of the draft and all its runs: no
// fragment of the draft is newer.
type DraftRev struct {
	Workspace int64
	Rev       int64
}

// DraftRevs reads DraftRev for each of ids (draft UUIDs) in one query; unknown ids are left
// out. The poll fallback uses it to skip drafts that did not move (docs/live.md, Poll).
func (db *DB) DraftRevs(ctx context.Context, ids []string) (map[string]DraftRev, error) {
	rows, err := db.Pool.Query(ctx, `SELECT d.id::text, d.workspace_id,
			greatest(d.rev, coalesce((SELECT max(r.rev) FROM operation_runs r WHERE r.draft_id = d.id), 0))
		FROM managed_tenant_onboarding_sessions d WHERE d.id = ANY($1::uuid[])`, ids)
	if err != nil {
		return nil, fmt.Errorf("draft revs: %w", err)
	}
	defer rows.Close()
	out := make(map[string]DraftRev, len(ids))
	for rows.Next() {
		var id string
		var r DraftRev
		if err := rows.Scan(&id, &r.Workspace, &r.Rev); err != nil {
			return nil, fmt.Errorf("scan draft revs: %w", err)
		}
		out[id] = r
	}
	return out, rows.Err()
}
