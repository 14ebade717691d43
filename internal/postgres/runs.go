package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/operation"
)

// The SQL of operation runs. The rules of their changes live in onboarding.Service (queue,
// cancel) and onboarding.RunService (begin, progress, complete); this file only reads and
// writes rows.

// runSelect reads a run with its initiator's email. Callers append WHERE. Every read of a run
// row goes through runColumns and scanRun, whatever it selects from.
const runSelect = `SELECT ` + runColumns + ` FROM operation_runs r` + runJoins

const runColumns = `r.id::text, r.workspace_id, r.tenant_id::text, coalesce(r.draft_id::text, ''), r.type,
		r.status, coalesce(r.outcome, ''), r.summary_counts, r.context, coalesce(r.reason_code, ''),
		coalesce(r.initiator_id, 0), coalesce(iu.email, ''), r.attempt, r.created_at, r.started_at,
		r.completed_at, r.rev`

// runJoins join a run row r to its initiator.
const runJoins = `
	LEFT JOIN users iu ON iu.id = r.initiator_id`

// returningRun makes a write of one run row (an INSERT or UPDATE) read that row back, as
// written, the way every read of a run does: one statement, no select after it.
func returningRun(write string) string {
	return `WITH r AS (` + write + ` RETURNING *) SELECT ` + runColumns + ` FROM r` + runJoins
}

// scanWrittenRun scans the row of a returningRun statement; no row is ErrNotFound.
func scanWrittenRun(row pgx.Row, what string) (operation.Run, error) {
	r, err := scanRun(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return operation.Run{}, fault.ErrNotFound
	}
	if err != nil {
		return operation.Run{}, fmt.Errorf("%s: %w", what, err)
	}
	return r, nil
}

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
		return operation.Run{}, fault.ErrNotFound
	}
	sql := runSelect + ` WHERE r.id = $1`
	if lock {
		sql += ` FOR UPDATE OF r`
	}
	r, err := scanRun(q.QueryRow(ctx, sql, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return operation.Run{}, fmt.Errorf("run %s: %w", id, fault.ErrNotFound)
	}
	if err != nil {
		return operation.Run{}, fmt.Errorf("load run: %w", err)
	}
	return r, nil
}

// Run implements onboarding.Store.
func (s *Store) Run(ctx context.Context, id string) (operation.Run, error) {
	r, err := loadRun(ctx, s.Pool, id, false)
	if errors.Is(err, fault.ErrNotFound) {
		return operation.Run{}, fault.ErrNotFound
	}
	return r, err
}

// DraftRuns implements onboarding.Store.
func (s *Store) DraftRuns(ctx context.Context, draftID string, limit int) ([]operation.Run, error) {
	if !onboarding.IsGUID(draftID) {
		return nil, fault.ErrNotFound
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
			AND ($6::timestamptz IS NULL OR r.created_at >= $6)
		ORDER BY r.created_at DESC, r.id DESC LIMIT $5`,
		workspaceID, f.Type, f.Status, draftID, limit, nullTime(f.CreatedAfter)))
}

// InsertRun implements onboarding.Tx. Dedupe rests on the partial unique index of active runs
// (operation_runs_active_idx): concurrent starts for one tenant and type insert at most one
// row; the others do nothing and read the winner's. Should the active run complete between
// the two statements, the insert is tried again.
func (t *storeTx) InsertRun(ctx context.Context, nr onboarding.NewRun) (operation.Run, bool, error) {
	for range 3 {
		r, err := t.insertRun(ctx, nr)
		if err == nil {
			return r, true, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return operation.Run{}, false, err
		}
		r, err = scanRun(t.tx.QueryRow(ctx, runSelect+` WHERE r.workspace_id = $1 AND r.tenant_id = $2 AND r.type = $3
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

// insertRun writes a new run row, with its job id, in one INSERT, or returns pgx.ErrNoRows
// when an active run of the tenant and type exists. The row is written once so a start
// notifies once (the triggers stamp and notify on every write of a run): the run's id is
// made here, so its job (whose arguments carry the id) is enqueued before the row exists,
// inside a savepoint that is rolled back, job and all, when the insert finds an active run.
func (t *storeTx) insertRun(ctx context.Context, nr onboarding.NewRun) (operation.Run, error) {
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
	id := onboarding.NewGUID()
	tx := t.tx
	var jobID *int64
	if t.s.enqueue != nil {
		sp, err := t.tx.Begin(ctx)
		if err != nil {
			return operation.Run{}, fmt.Errorf("savepoint before enqueue: %w", err)
		}
		defer sp.Rollback(ctx) // a no-op once released
		job, err := t.s.enqueue(ctx, sp, id)
		if err != nil {
			return operation.Run{}, fmt.Errorf("enqueue run %s: %w", id, err)
		}
		tx, jobID = sp, &job
	}
	r, err := scanRun(tx.QueryRow(ctx, returningRun(`INSERT INTO operation_runs
				(id, workspace_id, tenant_id, draft_id, type, initiator_id, context, job_id, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
			ON CONFLICT (workspace_id, tenant_id, type) WHERE status IN ('queued', 'running') DO NOTHING`),
		id, nr.WorkspaceID, nr.TenantID, draftID, string(nr.Type), initiator, runCtx, jobID, nr.Now))
	if errors.Is(err, pgx.ErrNoRows) {
		return operation.Run{}, err
	}
	if err != nil {
		return operation.Run{}, fmt.Errorf("insert run: %w", err)
	}
	if tx != t.tx {
		if err := tx.Commit(ctx); err != nil {
			return operation.Run{}, fmt.Errorf("release savepoint: %w", err)
		}
	}
	return r, nil
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

// WithRunTx implements onboarding.RunStore: fn runs in one READ COMMITTED transaction,
// committed durably (a terminal state is never lost). Errors from fn are returned unwrapped.
func (s *Store) WithRunTx(ctx context.Context, fn func(onboarding.RunTx) error) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		return fn(&storeTx{s: s, tx: tx})
	})
}

var _ onboarding.RunStore = (*Store)(nil)

// RunDraftID implements onboarding.RunTx.
func (t *storeTx) RunDraftID(ctx context.Context, runID string) (string, error) {
	if !onboarding.IsGUID(runID) {
		return "", fmt.Errorf("run %q: %w", runID, fault.ErrNotFound)
	}
	var draftID *string
	err := t.tx.QueryRow(ctx, `SELECT draft_id::text FROM operation_runs WHERE id = $1`, runID).Scan(&draftID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("run %s: %w", runID, fault.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("read run draft: %w", err)
	}
	if draftID == nil {
		return "", nil
	}
	return *draftID, nil
}

// LockRun implements onboarding.RunTx.
func (t *storeTx) LockRun(ctx context.Context, runID string) (operation.Run, error) {
	return loadRun(ctx, t.tx, runID, true)
}

// MarkRunning implements onboarding.RunTx.
func (t *storeTx) MarkRunning(ctx context.Context, runID string, attempt int, now time.Time) (operation.Run, error) {
	return scanWrittenRun(t.tx.QueryRow(ctx, returningRun(`UPDATE operation_runs SET status = 'running', attempt = $2,
			started_at = coalesce(started_at, $3), heartbeat_at = $3, updated_at = $3 WHERE id = $1`),
		runID, attempt, now), "begin run")
}

// MarkCompleted implements onboarding.RunTx.
func (t *storeTx) MarkCompleted(ctx context.Context, runID string, c operation.Completion, now time.Time) (operation.Run, error) {
	return scanWrittenRun(t.tx.QueryRow(ctx, returningRun(`UPDATE operation_runs SET status = 'completed', outcome = $2,
			reason_code = nullif($3, ''), summary_counts = $4,
			context = context || jsonb_build_object('result', $5::jsonb, 'message', $6::text),
			completed_at = $7, heartbeat_at = $7, updated_at = $7
		WHERE id = $1`), runID, string(c.Outcome), c.ReasonCode, c.Counts, c.Result, c.Message, now), "complete run")
}

// SetConnectionStatus implements onboarding.RunTx.
func (t *storeTx) SetConnectionStatus(ctx context.Context, connectionID string, status onboarding.ConnectionStatus) error {
	if _, err := t.tx.Exec(ctx, `UPDATE provider_connections SET status = $2 WHERE id = $1`,
		connectionID, string(status)); err != nil {
		return fmt.Errorf("update connection status: %w", err)
	}
	return nil
}

// TickRun implements onboarding.RunStore. A tick is pure progress, so it commits
// asynchronously (synchronous_commit off for this transaction only): a tick lost in a crash
// is replaced by the next one, and it keeps progress from queueing behind the NOTIFY commit
// lock's WAL flushes.
func (s *Store) TickRun(ctx context.Context, runID string, counts *operation.Counts, now time.Time) (bool, operation.Status, error) {
	var updated bool
	var status string
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return fmt.Errorf("progress run: %w", err)
		}
		// One statement: the update happens only while running; otherwise the row's
		// current status says why not.
		err := tx.QueryRow(ctx, `WITH u AS (
				UPDATE operation_runs SET summary_counts = coalesce($2, summary_counts),
					heartbeat_at = $3, updated_at = $3
				WHERE id = $1 AND status = 'running' RETURNING status)
			SELECT EXISTS (SELECT 1 FROM u), coalesce((SELECT status FROM operation_runs WHERE id = $1), '')`,
			runID, counts, now).Scan(&updated, &status)
		if err != nil {
			return fmt.Errorf("progress run: %w", err)
		}
		return nil
	})
	return updated, operationStatus(status), err
}

// StaleRuns implements onboarding.RunStore.
func (s *Store) StaleRuns(ctx context.Context, heartbeatBefore time.Time) ([]string, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id::text FROM operation_runs
		WHERE status IN ('queued', 'running') AND coalesce(heartbeat_at, started_at, created_at) < $1
		ORDER BY coalesce(heartbeat_at, started_at, created_at), id LIMIT 1000`, heartbeatBefore)
	if err != nil {
		return nil, fmt.Errorf("stale runs: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// BatchRuns implements onboarding.RunTx: the bootstrap runs started together with r (same
// draft, same start transaction, so the same created_at), r included.
func (t *storeTx) BatchRuns(ctx context.Context, r operation.Run) ([]operation.Run, error) {
	return collectRuns(t.tx.Query(ctx, runSelect+` WHERE r.draft_id = $1 AND r.created_at = $2 AND r.type LIKE 'bootstrap.%'
		ORDER BY r.type`, r.DraftID, r.CreatedAt))
}

// runSorts are the operations list's sort keys (onboarding.RunPageFilter.Sort).
var runSorts = map[string]sortKey{
	"started": {col: "r.created_at", cast: "timestamptz"},
	"type":    {col: "r.type", cast: "text"},
	"status":  {col: "r.status", cast: "text", fn: inOrder(operation.Statuses)},
}

// MaxRunRows bounds one read of runs: the largest page and the CSV export.
const MaxRunRows = 10001

// runListFrom joins a run to its initiator and its draft (whose name the search matches).
const runListFrom = ` FROM operation_runs r` + runJoins + `
	LEFT JOIN managed_tenant_onboarding_sessions ds ON ds.id = r.draft_id`

func runWhere(workspaceID int64, f onboarding.RunPageFilter) *listSQL {
	q := &listSQL{}
	q.and("r.workspace_id = " + q.arg(workspaceID))
	for col, v := range map[string]string{"r.type": f.Type, "r.status": f.Status, "r.outcome": f.Outcome} {
		if v != "" {
			q.and(col + " = " + q.arg(v))
		}
	}
	if !f.CreatedAfter.IsZero() {
		q.and("r.created_at > " + q.arg(f.CreatedAfter))
	}
	if f.DraftID != "" {
		q.and("r.draft_id::text = " + q.arg(f.DraftID))
	}
	if f.Q != "" {
		p := q.like(f.Q)
		var or []string
		for _, col := range runSearchColumns {
			or = append(or, col+" LIKE "+p)
		}
		q.and("(" + strings.Join(or, " OR ") + ")")
	}
	return q
}

// runSearchColumns are what the operations list's search (q) matches, lower-cased: the run's
// type, who started it, its tenant's name, domain and id (r, iu and ds as in runListFrom).
var runSearchColumns = []string{"r.type", "lower(coalesce(iu.email, ''))", "lower(coalesce(ds.display_name, ''))",
	"lower(coalesce(ds.primary_domain, ''))", "r.tenant_id::text"}

// runSearchText is runSearchColumns in one text, a line each: what the runs digest gives a
// page to count only the new runs its search would list (RunBrief.Search).
var runSearchText = strings.Join(runSearchColumns, " || E'\\n' || ")

// RunPage lists one page of a workspace's runs matching f (keyset pages, or an offset for a
// numbered one).
func (s *Store) RunPage(ctx context.Context, workspaceID int64, f onboarding.RunPageFilter) ([]operation.Run, error) {
	q := runWhere(workspaceID, f)
	k, ok := runSorts[f.Sort]
	if !ok {
		k = runSorts["started"]
	}
	tail, reversed := q.page(k, "r.id::text", "text", f.ListPage, MaxRunRows)
	runs, err := collectRuns(s.Pool.Query(ctx, `SELECT `+runColumns+runListFrom+q.whereSQL()+tail, q.args...))
	return reverse(runs, reversed), err
}

// RunCount counts the runs matching f.
func (s *Store) RunCount(ctx context.Context, workspaceID int64, f onboarding.RunPageFilter) (int, error) {
	q := runWhere(workspaceID, f)
	var n int
	if err := s.Pool.QueryRow(ctx, `SELECT count(*)`+runListFrom+q.whereSQL(), q.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count runs: %w", err)
	}
	return n, nil
}
