package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/onboarding"
)

// SnapshotRuns is how many of a draft's runs a snapshot carries, newest first.
const SnapshotRuns = 20

// DraftSnapshot reads, in one round trip, everything the checkpoint fragment is rendered
// from: the draft (with workspace slug and updater's email), its newest runs (SnapshotRuns,
// plus the latest run of every type when it is older, so facts assembled from a snapshot are
// the facts LoadFacts reads; newest first) and its attached connection (nil when none; never
// the secret).
// Unknown id → fault.ErrNotFound.
//
// The draft and its runs are two statements sent as one batch, inside one repeatable-read
// transaction: both see the same database snapshot, so a fragment never pairs a run with a
// draft from before or after it (its rev would then hide the newer state from the browser).
func (db *DB) DraftSnapshot(ctx context.Context, draftID string) (onboarding.Snapshot, error) {
	if !onboarding.IsGUID(draftID) {
		return onboarding.Snapshot{}, fault.ErrNotFound
	}
	var snap onboarding.Snapshot
	found := false
	b := &pgx.Batch{}
	b.Queue(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`)
	b.Queue(`SELECT `+draftColumns+`, pc.id::text, pc.client_id::text, pc.status, pc.created_at`+draftFrom+`
		LEFT JOIN provider_connections pc ON pc.id = s.provider_connection_id
		WHERE s.id = $1`, draftID).QueryRow(func(row pgx.Row) error {
		var connID, connClient, connStatus *string
		var connCreated *time.Time
		d, err := scanDraft(row, &connID, &connClient, &connStatus, &connCreated)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // the transaction still ends with COMMIT
		}
		if err != nil {
			return fmt.Errorf("load snapshot draft: %w", err)
		}
		snap.Draft, found = d, true
		if connID != nil {
			snap.Conn = &onboarding.ConnectionInfo{ID: *connID, ClientID: *connClient,
				Status: onboarding.ConnectionStatus(*connStatus), CreatedAt: *connCreated}
		}
		return nil
	})
	b.Queue(runSelect+` WHERE r.id IN (
			(SELECT id FROM operation_runs WHERE draft_id = $1 ORDER BY created_at DESC, id DESC LIMIT `+
		fmt.Sprint(SnapshotRuns)+`)
			UNION
			(SELECT DISTINCT ON (type) id FROM operation_runs WHERE draft_id = $1 ORDER BY type, created_at DESC, id DESC))
		ORDER BY r.created_at DESC, r.id DESC`, draftID).Query(func(rows pgx.Rows) error {
		runs, err := collectRuns(rows, nil)
		snap.Runs = runs
		return err
	})
	b.Queue(`COMMIT`)
	if err := db.Pool.SendBatch(ctx, b).Close(); err != nil {
		return onboarding.Snapshot{}, fmt.Errorf("load snapshot: %w", err)
	}
	if !found {
		return onboarding.Snapshot{}, fault.ErrNotFound
	}
	return snap, nil
}
