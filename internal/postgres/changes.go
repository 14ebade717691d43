package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/onboarding"
)

// ConnectionClientID implements onboarding.Tx.
func (t *storeTx) ConnectionClientID(ctx context.Context, id string) (string, error) {
	var clientID string
	err := t.tx.QueryRow(ctx, `SELECT client_id::text FROM provider_connections WHERE id = $1`, id).Scan(&clientID)
	if err != nil {
		return "", fmt.Errorf("connection %s: %w", id, err)
	}
	return clientID, nil
}

// DraftChanges implements onboarding.ChangeStore: the draft's audit entries whose write
// produced a version above since, oldest first. Entries without a recorded version (none are
// written today) are left out rather than guessed at.
func (s *Store) DraftChanges(ctx context.Context, draftID string, since int64, limit int) ([]onboarding.Change, error) {
	rows, err := s.Pool.Query(ctx, `SELECT a.action, a.metadata, coalesce(u.email, ''), a.created_at
		FROM workspace_audit_log a LEFT JOIN users u ON u.id = a.actor_id
		WHERE a.subject_type = $1 AND a.subject_id = $2
		  AND jsonb_typeof(a.metadata->'after'->'version') = 'number'
		  AND (a.metadata->'after'->>'version')::numeric > $3
		ORDER BY a.id
		LIMIT $4`, onboarding.SubjectDraft, draftID, since, limit)
	if err != nil {
		return nil, fmt.Errorf("draft changes: %w", err)
	}
	defer rows.Close()
	var out []onboarding.Change
	for rows.Next() {
		var (
			action, by string
			raw        []byte
			at         time.Time
		)
		if err := rows.Scan(&action, &raw, &by, &at); err != nil {
			return nil, fmt.Errorf("scan draft change: %w", err)
		}
		var meta map[string]any
		if err := json.Unmarshal(raw, &meta); err != nil {
			meta = nil // a damaged row still says that something happened
		}
		out = append(out, onboarding.ChangesFromMetadata(action, meta, by, at)...)
	}
	return out, rows.Err()
}

// DraftWorkers implements onboarding.Tx: the users with an audited change to the draft or a
// run of it they started, in id order.
func (t *storeTx) DraftWorkers(ctx context.Context, draftID string) ([]int64, error) {
	rows, err := t.tx.Query(ctx, `SELECT actor_id FROM workspace_audit_log
			WHERE subject_type = $1 AND subject_id = $2 AND actor_id IS NOT NULL
		UNION SELECT initiator_id FROM operation_runs WHERE draft_id = $2::uuid AND initiator_id IS NOT NULL
		ORDER BY 1`, onboarding.SubjectDraft, draftID)
	if err != nil {
		return nil, fmt.Errorf("draft workers: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("scan draft worker: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// WorkspaceOwners implements onboarding.Tx.
func (t *storeTx) WorkspaceOwners(ctx context.Context, workspaceID int64) ([]int64, error) {
	rows, err := t.tx.Query(ctx, `SELECT user_id FROM workspace_memberships
		WHERE workspace_id = $1 AND role = 'owner' ORDER BY user_id`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("workspace owners: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// RecordActivationRequest implements onboarding.Tx. The update touches no versioned column:
// the draft's triggers stamp a new rev and notify, so every open wizard shows the request.
func (t *storeTx) RecordActivationRequest(ctx context.Context, draftID string, actorID int64, now time.Time) (onboarding.Draft, error) {
	d, err := scanDraft(t.tx.QueryRow(ctx, `WITH s AS (UPDATE managed_tenant_onboarding_sessions SET
			activation_requested_by = $2, activation_requested_at = $3
		WHERE id = $1 RETURNING *)
		SELECT `+draftColumns+` FROM s`+draftJoins, draftID, actorID, now))
	if errors.Is(err, pgx.ErrNoRows) {
		return onboarding.Draft{}, fault.ErrNotFound
	}
	if err != nil {
		return onboarding.Draft{}, fmt.Errorf("record activation request: %w", err)
	}
	return d, nil
}
