package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/operation"
	"github.com/tenantops/onboard/internal/provider"
)

// The operation-run service. A run's status and outcome change only here: queued by
// InsertRun, cancelled while queued by CancelQueuedRuns, and moved by the worker through
// BeginRun, ProgressRun and CompleteRun, each checked with operation.Transition.

// runSelect reads a run with its initiator's email. Callers append WHERE.
const runSelect = `SELECT r.id::text, r.workspace_id, r.tenant_id::text, coalesce(r.draft_id::text, ''), r.type,
		r.status, coalesce(r.outcome, ''), r.summary_counts, r.context, coalesce(r.reason_code, ''),
		coalesce(r.initiator_id, 0), coalesce(iu.email, ''), r.attempt, r.created_at, r.started_at,
		r.completed_at, r.rev
	FROM operation_runs r LEFT JOIN users iu ON iu.id = r.initiator_id`

func scanRun(row pgx.Row) (operation.Run, error) {
	var r operation.Run
	var typ, status, outcome string
	var started, completed *time.Time
	if err := row.Scan(&r.ID, &r.WorkspaceID, &r.TenantID, &r.DraftID, &typ, &status, &outcome, &r.Counts,
		&r.Context, &r.ReasonCode, &r.InitiatorID, &r.InitiatorEmail, &r.Attempt, &r.CreatedAt, &started,
		&completed, &r.Rev); err != nil {
		return operation.Run{}, err
	}
	r.Type, r.Status, r.Outcome = operationType(typ), operationStatus(status), operationOutcome(outcome)
	if started != nil {
		r.StartedAt = *started
	}
	if completed != nil {
		r.CompletedAt = *completed
	}
	return r, nil
}

func collectRuns(rows pgx.Rows, err error) ([]operation.Run, error) {
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	out := []operation.Run{}
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("scan run: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// The table's CHECK constraints hold the vocabulary; these only convert.
func operationType(s string) operation.Type       { return operation.Type(s) }
func operationStatus(s string) operation.Status   { return operation.Status(s) }
func operationOutcome(s string) operation.Outcome { return operation.Outcome(s) }

func loadRun(ctx context.Context, q querier, id string, lock bool) (operation.Run, error) {
	if !onboarding.IsGUID(id) {
		return operation.Run{}, onboarding.ErrNotFound
	}
	sql := runSelect + ` WHERE r.id = $1`
	if lock {
		sql += ` FOR UPDATE OF r`
	}
	r, err := scanRun(q.QueryRow(ctx, sql, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return operation.Run{}, fmt.Errorf("run %s: %w", id, onboarding.ErrNotFound)
	}
	if err != nil {
		return operation.Run{}, fmt.Errorf("load run: %w", err)
	}
	return r, nil
}

// Run implements onboarding.Store.
func (s *Store) Run(ctx context.Context, id string) (operation.Run, error) {
	r, err := loadRun(ctx, s.Pool, id, false)
	if errors.Is(err, onboarding.ErrNotFound) {
		return operation.Run{}, onboarding.ErrNotFound
	}
	return r, err
}

// DraftRuns implements onboarding.Store.
func (s *Store) DraftRuns(ctx context.Context, draftID string, limit int) ([]operation.Run, error) {
	if !onboarding.IsGUID(draftID) {
		return nil, onboarding.ErrNotFound
	}
	return collectRuns(s.Pool.Query(ctx, runSelect+` WHERE r.draft_id = $1 ORDER BY r.created_at DESC, r.id DESC LIMIT $2`,
		draftID, limit))
}

// WorkspaceRuns implements onboarding.Store.
func (s *Store) WorkspaceRuns(ctx context.Context, workspaceID int64, f onboarding.RunFilter) ([]operation.Run, error) {
	var draftID *string
	if f.DraftID != "" {
		if !onboarding.IsGUID(f.DraftID) {
			return []operation.Run{}, nil
		}
		draftID = &f.DraftID
	}
	limit := f.Limit
	if limit <= 0 {
		limit = onboarding.DefaultRunLimit
	}
	return collectRuns(s.Pool.Query(ctx, runSelect+` WHERE r.workspace_id = $1
			AND ($2 = '' OR r.type = $2) AND ($3 = '' OR r.status = $3) AND ($4::uuid IS NULL OR r.draft_id = $4)
		ORDER BY r.created_at DESC, r.id DESC LIMIT $5`,
		workspaceID, f.Type, f.Status, draftID, limit))
}

// InsertRun implements onboarding.Tx. Dedupe rests on the partial unique index of active runs
// (operation_runs_active_idx): concurrent starts for one tenant and type insert at most one
// row; the others do nothing and read the winner's. Should the active run complete between
// the two statements, the insert is tried again.
func (t *storeTx) InsertRun(ctx context.Context, nr onboarding.NewRun) (operation.Run, bool, error) {
	var initiator *int64
	if nr.InitiatorID != 0 {
		initiator = &nr.InitiatorID
	}
	var draftID *string
	if nr.DraftID != "" {
		draftID = &nr.DraftID
	}
	runCtx := map[string]any{}
	if nr.ConnectionID != "" {
		runCtx["connection_id"] = nr.ConnectionID
	}
	for range 3 {
		var id string
		err := t.tx.QueryRow(ctx, `INSERT INTO operation_runs
				(workspace_id, tenant_id, draft_id, type, initiator_id, context, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
			ON CONFLICT (workspace_id, tenant_id, type) WHERE status IN ('queued', 'running') DO NOTHING
			RETURNING id::text`,
			nr.WorkspaceID, nr.TenantID, draftID, string(nr.Type), initiator, runCtx, nr.Now).Scan(&id)
		if err == nil {
			if t.s.enqueue != nil {
				jobID, err := t.s.enqueue(ctx, t.tx, id)
				if err != nil {
					return operation.Run{}, false, fmt.Errorf("enqueue run %s: %w", id, err)
				}
				if _, err := t.tx.Exec(ctx, `UPDATE operation_runs SET job_id = $2 WHERE id = $1`, id, jobID); err != nil {
					return operation.Run{}, false, fmt.Errorf("record job id: %w", err)
				}
			}
			r, err := loadRun(ctx, t.tx, id, false)
			return r, true, err
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return operation.Run{}, false, fmt.Errorf("insert run: %w", err)
		}
		r, err := scanRun(t.tx.QueryRow(ctx, runSelect+` WHERE r.workspace_id = $1 AND r.tenant_id = $2 AND r.type = $3
			AND r.status IN ('queued', 'running')`, nr.WorkspaceID, nr.TenantID, string(nr.Type)))
		if err == nil {
			return r, false, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return operation.Run{}, false, fmt.Errorf("load active run: %w", err)
		}
	}
	return operation.Run{}, false, fmt.Errorf("insert run: the active %s run kept changing", nr.Type)
}

// CancelQueuedRuns implements onboarding.Tx. The caller holds the draft's lock; the runs are
// locked after it (the lock order everywhere), and a run a worker began meanwhile is no
// longer queued when the lock is granted, so it is skipped.
func (t *storeTx) CancelQueuedRuns(ctx context.Context, draftID string, now time.Time) ([]string, error) {
	rows, err := t.tx.Query(ctx, `SELECT id::text, status, coalesce(outcome, '') FROM operation_runs
		WHERE draft_id = $1 AND status = 'queued' ORDER BY id FOR UPDATE`, draftID)
	if err != nil {
		return nil, fmt.Errorf("lock queued runs: %w", err)
	}
	type row struct{ id, status, outcome string }
	var locked []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.status, &r.outcome); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan queued run: %w", err)
		}
		locked = append(locked, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lock queued runs: %w", err)
	}
	var ids []string
	for _, r := range locked {
		if err := operation.Transition(operationStatus(r.status), operationOutcome(r.outcome),
			operation.StatusCompleted, operation.OutcomeCancelled); err != nil {
			return nil, err
		}
		if _, err := t.tx.Exec(ctx, `UPDATE operation_runs SET status = 'completed', outcome = 'cancelled',
				reason_code = 'onboarding_cancelled', completed_at = $2, updated_at = $2 WHERE id = $1`,
			r.id, now); err != nil {
			return nil, fmt.Errorf("cancel run: %w", err)
		}
		ids = append(ids, r.id)
	}
	return ids, nil
}

// lockRunState locks a run row and returns its status and outcome.
func lockRunState(ctx context.Context, tx pgx.Tx, runID string) (operation.Status, operation.Outcome, error) {
	if !onboarding.IsGUID(runID) {
		return "", "", fmt.Errorf("run %q: %w", runID, onboarding.ErrNotFound)
	}
	var status, outcome string
	err := tx.QueryRow(ctx, `SELECT status, coalesce(outcome, '') FROM operation_runs WHERE id = $1 FOR UPDATE`,
		runID).Scan(&status, &outcome)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", fmt.Errorf("run %s: %w", runID, onboarding.ErrNotFound)
	}
	if err != nil {
		return "", "", fmt.Errorf("lock run: %w", err)
	}
	return operationStatus(status), operationOutcome(outcome), nil
}

// BeginRun moves a run to running for a worker's attempt (queued → running, or running →
// running on a retry), records the attempt, started_at once and a heartbeat, and returns the
// run with the connection to use, its secret opened. A completed run → operation.ErrRunFinished.
func (s *Store) BeginRun(ctx context.Context, runID string, attempt int) (operation.Run, provider.Connection, error) {
	if attempt < 0 {
		return operation.Run{}, provider.Connection{}, fmt.Errorf("begin run: negative attempt %d", attempt)
	}
	now := s.clock()
	var run operation.Run
	var conn provider.Connection
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		status, outcome, err := lockRunState(ctx, tx, runID)
		if err != nil {
			return err
		}
		if status == operation.StatusCompleted {
			return operation.ErrRunFinished
		}
		if err := operation.Transition(status, outcome, operation.StatusRunning, operation.OutcomeNone); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE operation_runs SET status = 'running', attempt = $2,
				started_at = coalesce(started_at, $3), heartbeat_at = $3, updated_at = $3 WHERE id = $1`,
			runID, attempt, now); err != nil {
			return fmt.Errorf("begin run: %w", err)
		}
		if conn, err = s.runConnection(ctx, tx, runID); err != nil {
			return err
		}
		run, err = loadRun(ctx, tx, runID, false)
		return err
	})
	if err != nil {
		return operation.Run{}, provider.Connection{}, err
	}
	return run, conn, nil
}

// ProgressRun records a running run's summary counts and a heartbeat. It is a pure progress
// tick, so it commits asynchronously (synchronous_commit off for this transaction only): a
// tick lost in a crash is replaced by the next one, and it keeps progress from queueing behind
// the NOTIFY commit lock's WAL flushes. Completed → operation.ErrRunFinished.
func (s *Store) ProgressRun(ctx context.Context, runID string, counts operation.Counts) error {
	if err := counts.Validate(); err != nil {
		return err
	}
	return s.tick(ctx, runID, &counts)
}

// Heartbeat records that a running run's worker is alive (asynchronous commit, like
// ProgressRun). Completed → operation.ErrRunFinished.
func (s *Store) Heartbeat(ctx context.Context, runID string) error {
	return s.tick(ctx, runID, nil)
}

func (s *Store) tick(ctx context.Context, runID string, counts *operation.Counts) error {
	if !onboarding.IsGUID(runID) {
		return fmt.Errorf("run %q: %w", runID, onboarding.ErrNotFound)
	}
	now := s.clock()
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return fmt.Errorf("progress run: %w", err)
		}
		// One statement: the update happens only while running; otherwise the row's
		// current status says why not.
		var updated bool
		var status string
		err := tx.QueryRow(ctx, `WITH u AS (
				UPDATE operation_runs SET summary_counts = coalesce($2, summary_counts),
					heartbeat_at = $3, updated_at = $3
				WHERE id = $1 AND status = 'running' RETURNING status)
			SELECT EXISTS (SELECT 1 FROM u), coalesce((SELECT status FROM operation_runs WHERE id = $1), '')`,
			runID, counts, now).Scan(&updated, &status)
		if err != nil {
			return fmt.Errorf("progress run: %w", err)
		}
		switch {
		case updated:
			return nil
		case status == "":
			return fmt.Errorf("run %s: %w", runID, onboarding.ErrNotFound)
		case status == string(operation.StatusCompleted):
			return operation.ErrRunFinished
		}
		return fmt.Errorf("%w: progress on a %s run (begin it first)", operation.ErrIllegalTransition, status)
	})
}

// StaleRuns lists active runs that have shown no sign of life since heartbeatBefore: running
// runs whose worker stopped beating, and queued runs never begun (the reconciler leaves those
// whose job still waits in the queue, and completes or re-queues the others: a job River
// rescued or discarded never calls back).
func (s *Store) StaleRuns(ctx context.Context, heartbeatBefore time.Time) ([]string, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id::text FROM operation_runs
		WHERE status IN ('queued', 'running') AND coalesce(heartbeat_at, started_at, created_at) < $1
		ORDER BY coalesce(heartbeat_at, started_at, created_at), id LIMIT 1000`, heartbeatBefore)
	if err != nil {
		return nil, fmt.Errorf("stale runs: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

var reasonCodeRE = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// CompleteRun records a run's terminal result and, in the same transaction, recalculates its
// draft through the versioned path (onboarding.Recalculate), audits the completion and
// notifies the initiator. Strings of the result and the message are redacted before they are
// stored. Durable commit: a terminal state is never lost.
func (s *Store) CompleteRun(ctx context.Context, runID string, c operation.Completion) error {
	if c.Outcome == operation.OutcomeNone {
		return fmt.Errorf("complete run: %w: no outcome", operation.ErrIllegalTransition)
	}
	if _, err := operation.ParseOutcome(string(c.Outcome)); err != nil {
		return fmt.Errorf("complete run: %w", err)
	}
	if err := c.Counts.Validate(); err != nil {
		return err
	}
	if c.ReasonCode != "" && !reasonCodeRE.MatchString(c.ReasonCode) {
		return fmt.Errorf("complete run: reason code %q is not snake_case", c.ReasonCode)
	}
	result, err := redactJSON(c.Result)
	if err != nil {
		return fmt.Errorf("complete run: result: %w", err)
	}
	message := operation.Redact(c.Message)
	if !onboarding.IsGUID(runID) {
		return fmt.Errorf("run %q: %w", runID, onboarding.ErrNotFound)
	}
	now := s.clock()
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		otx := &storeTx{s: s, tx: tx}
		// Lock order: the draft first, then the run (as operators' writes do).
		var draftID *string
		err := tx.QueryRow(ctx, `SELECT draft_id::text FROM operation_runs WHERE id = $1`, runID).Scan(&draftID)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("run %s: %w", runID, onboarding.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("complete run: %w", err)
		}
		if draftID != nil {
			if _, err := otx.LockDraft(ctx, *draftID); err != nil {
				return err
			}
		}
		status, outcome, err := lockRunState(ctx, tx, runID)
		if err != nil {
			return err
		}
		if status == operation.StatusCompleted {
			return operation.ErrRunFinished
		}
		if err := operation.Transition(status, outcome, operation.StatusCompleted, c.Outcome); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE operation_runs SET status = 'completed', outcome = $2,
				reason_code = nullif($3, ''), summary_counts = $4,
				context = context || jsonb_build_object('result', $5::jsonb, 'message', $6::text),
				completed_at = $7, heartbeat_at = $7, updated_at = $7
			WHERE id = $1`, runID, string(c.Outcome), c.ReasonCode, c.Counts, result, message, now); err != nil {
			return fmt.Errorf("complete run: %w", err)
		}
		run, err := loadRun(ctx, tx, runID, false)
		if err != nil {
			return err
		}
		if run.Type == operation.TypeVerifyAccess {
			connStatus := ""
			switch run.Outcome {
			case operation.OutcomeSucceeded:
				connStatus = string(onboarding.ConnectionVerified)
			case operation.OutcomeFailed:
				connStatus = string(onboarding.ConnectionFailed)
			}
			if connID, _ := run.Context["connection_id"].(string); connStatus != "" && onboarding.IsGUID(connID) {
				if _, err := tx.Exec(ctx, `UPDATE provider_connections SET status = $2 WHERE id = $1`,
					connID, connStatus); err != nil {
					return fmt.Errorf("update connection status: %w", err)
				}
			}
		}
		meta := map[string]any{
			"run_id": run.ID, "type": string(run.Type), "outcome": string(run.Outcome),
			"reason_code": nullable(run.ReasonCode), "summary_counts": run.Counts, "attempt": run.Attempt,
		}
		var draft onboarding.Draft
		if run.DraftID != "" {
			before, after, changed, err := onboarding.Recalculate(ctx, otx, run.DraftID, now)
			if err != nil {
				return fmt.Errorf("recalculate draft: %w", err)
			}
			draft = after
			meta["draft_id"] = run.DraftID
			meta["draft_changed"] = changed
			meta["before"] = onboarding.LifecycleMetadata(before)
			meta["after"] = onboarding.LifecycleMetadata(after)
		}
		if err := insertAudit(ctx, tx, onboarding.AuditEntry{
			WorkspaceID: run.WorkspaceID, Action: onboarding.ActionRunCompleted,
			SubjectType: onboarding.SubjectRun, SubjectID: run.ID, Metadata: meta, At: now,
		}); err != nil {
			return err
		}
		if run.InitiatorID == 0 {
			return nil
		}
		return insertNotification(ctx, tx, completionNotification(run, draft, message), run.InitiatorID, now)
	})
}

// completionNotification is the initiator's terminal notification of a run.
func completionNotification(r operation.Run, d onboarding.Draft, message string) onboarding.Notification {
	n := onboarding.Notification{
		WorkspaceID: r.WorkspaceID,
		Kind:        "operation_run_completed",
		Body:        message,
		Payload: map[string]any{
			"run_id": r.ID, "draft_id": nullable(r.DraftID), "type": string(r.Type),
			"outcome": string(r.Outcome), "reason_code": nullable(r.ReasonCode),
		},
	}
	switch {
	case r.Type == operation.TypeVerifyAccess && r.Outcome == operation.OutcomeSucceeded:
		n.Title = "Verification succeeded"
	case r.Type == operation.TypeVerifyAccess:
		n.Title = "Verification needs action"
	default:
		n.Title = fmt.Sprintf("Bootstrap %s finished: %s", r.Type.Operation(), r.Outcome)
	}
	if n.Body == "" && r.ReasonCode != "" {
		n.Body = r.ReasonCode
	}
	if d.ID != "" {
		n.Link = "/admin/workspaces/" + d.Workspace + "/onboarding/" + d.ID
	}
	return n
}

// redactJSON converts v to JSON values and redacts every string in it (keys are field names
// and stay), so whatever a worker put in a result, no secret-looking text is stored.
func redactJSON(v map[string]any) (any, error) {
	if v == nil {
		return map[string]any{}, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return nil, err
	}
	return redactValue(generic), nil
}

func redactValue(v any) any {
	switch x := v.(type) {
	case string:
		return operation.Redact(x)
	case map[string]any:
		for k, e := range x {
			x[k] = redactValue(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = redactValue(e)
		}
		return x
	}
	return v
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
