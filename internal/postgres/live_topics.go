package postgres

import (
	"context"
	"fmt"
	"strings"
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
		SELECT '', lifecycle_state, '', '', '', '', 0::bigint, n FROM counts
		UNION ALL
		(SELECT id::text, lifecycle_state,
			CASE WHEN `+openDraftSQL("")+` THEN current_checkpoint ELSE '' END,
			display_name, primary_domain, tenant_id::text, rev, 0
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
		if err := rows.Scan(&c.ID, &c.Lifecycle, &c.OpenCheckpoint, &c.DisplayName, &c.PrimaryDomain, &c.TenantID, &c.Rev, &n); err != nil {
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
	rows, err := db.Pool.Query(ctx, `SELECT r.id::text, coalesce(r.draft_id::text, ''), r.type, r.status, coalesce(r.outcome, ''),
		r.created_at, `+runSearchText+` FROM operation_runs r
		LEFT JOIN users iu ON iu.id = r.initiator_id
		LEFT JOIN managed_tenant_onboarding_sessions ds ON ds.id = r.draft_id
		WHERE r.workspace_id = $1 ORDER BY r.created_at DESC, r.id DESC LIMIT $2`, workspaceID, onboarding.DigestSize)
	if err != nil {
		return d, fmt.Errorf("runs digest: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r onboarding.RunBrief
		if err := rows.Scan(&r.ID, &r.DraftID, &r.Type, &r.Status, &r.Outcome, &r.CreatedAt, &r.Search); err != nil {
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

// Dashboard reads a workspace's dashboard in one statement: drafts per lifecycle state,
// open drafts per checkpoint, runs created since since by status or outcome, the open
// activation requests, the newest rev, and the names of those of present (draft ids of
// anyone's presence) that are drafts of this workspace (the others are left out). Present
// in the result holds draft ids and names only; the caller adds the people.
func (db *DB) Dashboard(ctx context.Context, workspaceID int64, since time.Time, present []string) (onboarding.Dashboard, map[string]string, error) {
	d := onboarding.Dashboard{WorkspaceID: workspaceID, Since: since,
		Lifecycle: map[string]int{}, Checkpoint: map[string]int{}, Runs: map[string]int{}}
	names := map[string]string{}
	ids := make([]string, 0, len(present))
	for _, id := range present {
		if onboarding.IsGUID(id) {
			ids = append(ids, id)
		}
	}
	rows, err := db.Pool.Query(ctx, `
		WITH s AS (SELECT * FROM managed_tenant_onboarding_sessions WHERE workspace_id = $1)
		SELECT 'lifecycle', lifecycle_state, '', count(*), 0::bigint, NULL::timestamptz FROM s GROUP BY lifecycle_state
		UNION ALL
		SELECT 'checkpoint', current_checkpoint, '', count(*), 0, NULL FROM s
			WHERE `+openDraftSQL("")+` GROUP BY current_checkpoint
		UNION ALL
		SELECT 'runs', CASE WHEN status = 'completed' THEN coalesce(outcome, status) ELSE status END, '', count(*), 0, NULL
			FROM operation_runs WHERE workspace_id = $1 AND created_at >= $2 GROUP BY 2
		UNION ALL
		(SELECT 'requested', s.id::text, coalesce(nullif(s.display_name, ''), s.tenant_id::text) || E'\n' || coalesce(u.email, ''),
				0, 0, s.activation_requested_at
			FROM s LEFT JOIN users u ON u.id = s.activation_requested_by
			WHERE s.activation_requested_at IS NOT NULL ORDER BY s.activation_requested_at, s.id LIMIT $3)
		UNION ALL
		SELECT 'present', id::text, coalesce(nullif(display_name, ''), tenant_id::text), 0, 0, NULL
			FROM s WHERE id = ANY($4::uuid[])
		UNION ALL
		SELECT 'slug', slug, '', 0, 0, NULL FROM workspaces WHERE id = $1
		UNION ALL
		SELECT 'rev', '', '', 0, greatest((SELECT max(rev) FROM s),
			(SELECT max(rev) FROM operation_runs WHERE workspace_id = $1)), NULL`,
		workspaceID, since, onboarding.DashboardListSize, ids)
	if err != nil {
		return d, nil, fmt.Errorf("dashboard: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, key, text string
		var n int
		var rev *int64
		var at *time.Time
		if err := rows.Scan(&kind, &key, &text, &n, &rev, &at); err != nil {
			return d, nil, fmt.Errorf("scan dashboard: %w", err)
		}
		switch kind {
		case "lifecycle":
			d.Lifecycle[key] = n
		case "checkpoint":
			d.Checkpoint[key] = n
		case "runs":
			d.Runs[key] = n
		case "requested":
			name, by, _ := strings.Cut(text, "\n")
			r := onboarding.DashboardDraft{ID: key, Name: name, By: by}
			if at != nil {
				r.At = *at
			}
			d.Requested = append(d.Requested, r)
		case "present":
			names[key] = text
		case "slug":
			d.Workspace = key
		case "rev":
			if rev != nil {
				d.Rev = *rev
			}
		}
	}
	if err := rows.Err(); err != nil {
		return d, nil, fmt.Errorf("dashboard: %w", err)
	}
	return d, names, nil
}

// PresenceRev takes a fresh rev from the live sequence (no row is written) and returns it
// with the workspaces of the given drafts, in one statement: a presence change's rev for
// those workspaces' dashboards (livesource.Dashboards).
func (db *DB) PresenceRev(ctx context.Context, draftIDs []string) (int64, []int64, error) {
	var rev int64
	var workspaces []int64
	err := db.Pool.QueryRow(ctx, `SELECT nextval('live_rev_seq'), coalesce(array_agg(DISTINCT workspace_id), '{}')
		FROM managed_tenant_onboarding_sessions WHERE id = ANY($1::uuid[])`, draftIDs).Scan(&rev, &workspaces)
	if err != nil {
		return 0, nil, fmt.Errorf("presence rev: %w", err)
	}
	return rev, workspaces, nil
}
