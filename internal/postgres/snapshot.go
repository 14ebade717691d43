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
	"github.com/tenantops/onboard/internal/operation"
)

// SnapshotRuns is how many of a draft's runs a snapshot carries, newest first.
const SnapshotRuns = 20

// DraftSnapshot reads, in one round trip, everything the checkpoint fragment is rendered
// from: the draft (with workspace slug and updater's email), its newest runs (SnapshotRuns,
// plus the latest run of every type when it is older, so facts assembled from a snapshot are
// the facts LoadFacts reads; newest first) and its attached connection (nil when none; never
// the secret).
// Unknown id → fault.ErrNotFound.
func (db *DB) DraftSnapshot(ctx context.Context, draftID string) (onboarding.Snapshot, error) {
	if !onboarding.IsGUID(draftID) {
		return onboarding.Snapshot{}, fault.ErrNotFound
	}
	var runsJSON []byte
	var connID, connClient, connStatus *string
	var connCreated *time.Time
	d, err := scanDraft(db.Pool.QueryRow(ctx, `SELECT `+draftColumns+`,
			runs.runs, pc.id::text, pc.client_id::text, pc.status, pc.created_at`+draftFrom+`
		LEFT JOIN LATERAL (
			SELECT coalesce(json_agg(json_build_object(
				'id', r.id, 'workspace_id', r.workspace_id, 'tenant_id', r.tenant_id, 'draft_id', r.draft_id,
				'type', r.type, 'status', r.status, 'outcome', coalesce(r.outcome, ''),
				'summary_counts', r.summary_counts, 'context', r.context, 'reason_code', coalesce(r.reason_code, ''),
				'initiator_id', coalesce(r.initiator_id, 0), 'initiator_email', coalesce(iu.email, ''),
				'attempt', r.attempt, 'created_at', r.created_at, 'started_at', r.started_at,
				'completed_at', r.completed_at, 'rev', r.rev) ORDER BY r.created_at DESC, r.id DESC), '[]') AS runs
			FROM (SELECT * FROM operation_runs WHERE id IN (
				(SELECT id FROM operation_runs WHERE draft_id = s.id ORDER BY created_at DESC, id DESC LIMIT `+
		fmt.Sprint(SnapshotRuns)+`)
				UNION
				(SELECT DISTINCT ON (type) id FROM operation_runs WHERE draft_id = s.id ORDER BY type, created_at DESC, id DESC))) r
			LEFT JOIN users iu ON iu.id = r.initiator_id) runs ON true
		LEFT JOIN provider_connections pc ON pc.id = s.provider_connection_id
		WHERE s.id = $1`, draftID),
		&runsJSON, &connID, &connClient, &connStatus, &connCreated)
	if errors.Is(err, pgx.ErrNoRows) {
		return onboarding.Snapshot{}, fault.ErrNotFound
	}
	if err != nil {
		return onboarding.Snapshot{}, fmt.Errorf("load snapshot: %w", err)
	}
	var raw []snapshotRun
	if err := json.Unmarshal(runsJSON, &raw); err != nil {
		return onboarding.Snapshot{}, fmt.Errorf("decode snapshot runs: %w", err)
	}
	runs := make([]operation.Run, 0, len(raw))
	for _, r := range raw {
		runs = append(runs, r.run())
	}
	var conn *onboarding.ConnectionInfo
	if connID != nil {
		conn = &onboarding.ConnectionInfo{ID: *connID, ClientID: *connClient,
			Status: onboarding.ConnectionStatus(*connStatus), CreatedAt: *connCreated}
	}
	return onboarding.Snapshot{Draft: d, Runs: runs, Conn: conn}, nil
}

// snapshotRun is a run as the snapshot query's JSON carries it.
type snapshotRun struct {
	ID             string           `json:"id"`
	WorkspaceID    int64            `json:"workspace_id"`
	TenantID       string           `json:"tenant_id"`
	DraftID        string           `json:"draft_id"`
	Type           string           `json:"type"`
	Status         string           `json:"status"`
	Outcome        string           `json:"outcome"`
	Counts         operation.Counts `json:"summary_counts"`
	Context        map[string]any   `json:"context"`
	ReasonCode     string           `json:"reason_code"`
	InitiatorID    int64            `json:"initiator_id"`
	InitiatorEmail string           `json:"initiator_email"`
	Attempt        int              `json:"attempt"`
	CreatedAt      time.Time        `json:"created_at"`
	StartedAt      *time.Time       `json:"started_at"`
	CompletedAt    *time.Time       `json:"completed_at"`
	Rev            int64            `json:"rev"`
}

func (r snapshotRun) run() operation.Run {
	out := operation.Run{
		ID: r.ID, WorkspaceID: r.WorkspaceID, TenantID: r.TenantID, DraftID: r.DraftID,
		Type: operationType(r.Type), Status: operationStatus(r.Status), Outcome: operationOutcome(r.Outcome),
		Counts: r.Counts, Context: r.Context, ReasonCode: r.ReasonCode, InitiatorID: r.InitiatorID,
		InitiatorEmail: r.InitiatorEmail, Attempt: r.Attempt, CreatedAt: r.CreatedAt, Rev: r.Rev,
	}
	if r.StartedAt != nil {
		out.StartedAt = *r.StartedAt
	}
	if r.CompletedAt != nil {
		out.CompletedAt = *r.CompletedAt
	}
	return out
}
