package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/live"
)

// LiveDraft is a minimal snapshot of a draft for the live hub: enough for the placeholder
// fragment wired in cmd/onboard until the views' snapshot replaces it. It implements
// live.Snapshot.
type LiveDraft struct {
	id, lifecycle, checkpoint string
	workspace, version, rev   int64
}

// DraftID returns the draft's id.
func (d LiveDraft) DraftID() string { return d.id }

// WorkspaceID returns the draft's workspace.
func (d LiveDraft) WorkspaceID() int64 { return d.workspace }

// Version returns the draft's optimistic-locking version.
func (d LiveDraft) Version() int64 { return d.version }

// Rev returns the greatest rev of the draft and its runs.
func (d LiveDraft) Rev() int64 { return d.rev }

// Lifecycle returns the draft's lifecycle_state.
func (d LiveDraft) Lifecycle() string { return d.lifecycle }

// Checkpoint returns the draft's current_checkpoint.
func (d LiveDraft) Checkpoint() string { return d.checkpoint }

// LiveDraft reads draft id's snapshot in one query; an error wrapping live.ErrGone when it
// does not exist.
func (db *DB) LiveDraft(ctx context.Context, id string) (LiveDraft, error) {
	var d LiveDraft
	err := db.Pool.QueryRow(ctx, `
		SELECT d.id::text, d.workspace_id, d.version,
		       greatest(d.rev, coalesce((SELECT max(r.rev) FROM operation_runs r WHERE r.draft_id = d.id), 0)),
		       d.lifecycle_state, d.current_checkpoint
		FROM managed_tenant_onboarding_sessions d WHERE d.id = $1`, id).
		Scan(&d.id, &d.workspace, &d.version, &d.rev, &d.lifecycle, &d.checkpoint)
	var pgErr *pgconn.PgError
	if errors.Is(err, pgx.ErrNoRows) || errors.As(err, &pgErr) && pgErr.Code == "22P02" { // not a uuid
		return LiveDraft{}, fmt.Errorf("draft %s: %w", id, live.ErrGone)
	}
	if err != nil {
		return LiveDraft{}, fmt.Errorf("load live draft: %w", err)
	}
	return d, nil
}

// LiveCohort is the live hub's authorisation: the viewer's permission cohort in workspace, an
// error wrapping live.ErrNotFound when they are not a member, or live.ErrForbidden when their
// role lacks the view capability.
func (db *DB) LiveCohort(ctx context.Context, userID, workspaceID int64) (string, error) {
	role, err := db.MemberRole(ctx, userID, workspaceID)
	if errors.Is(err, access.ErrNotMember) {
		return "", fmt.Errorf("user %d in workspace %d: %w", userID, workspaceID, live.ErrNotFound)
	}
	if err != nil {
		return "", err
	}
	if !access.For(role).Has(access.View) {
		return "", fmt.Errorf("role %s: %w", role, live.ErrForbidden)
	}
	return access.Cohort(role), nil
}
