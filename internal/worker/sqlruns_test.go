package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tenantops/onboard/internal/operation"
	"github.com/tenantops/onboard/internal/postgres/pgtest"
	"github.com/tenantops/onboard/internal/provider"
)

// testSecret is the client secret of every test connection; it must never reach the
// database outside provider_connections, nor River's tables, nor logs.
const testSecret = "Xy9Q~abcdefghijklmnopqrstuvwxyz0123456789"

// sqlRuns is a plain-SQL stand-in for the operation-run service (postgres.DB implements
// the real one), enough to run River against real PostgreSQL.
type sqlRuns struct {
	pool *pgxpool.Pool

	mu       sync.Mutex
	progress map[string][]time.Time // ProgressRun calls per run
}

func newSQLRuns(pool *pgxpool.Pool) *sqlRuns {
	return &sqlRuns{pool: pool, progress: map[string][]time.Time{}}
}

func (s *sqlRuns) BeginRun(ctx context.Context, runID string, attempt int) (operation.Run, provider.Connection, error) {
	var (
		run    operation.Run
		typ    string
		counts []byte
		conn   provider.Connection
	)
	err := s.pool.QueryRow(ctx, `UPDATE operation_runs r SET status = 'running', attempt = $2,
			started_at = coalesce(started_at, now()), heartbeat_at = now(), updated_at = now()
		FROM tenants t
		WHERE r.id = $1 AND r.status IN ('queued', 'running')
			AND t.workspace_id = r.workspace_id AND t.tenant_id = r.tenant_id
		RETURNING r.id::text, r.type, r.summary_counts, r.attempt, t.tenant_id::text, t.primary_domain`,
		runID, attempt).Scan(&run.ID, &typ, &counts, &run.Attempt, &conn.TenantID, &conn.PrimaryDomain)
	if errors.Is(err, pgx.ErrNoRows) {
		return operation.Run{}, provider.Connection{}, operation.ErrRunFinished
	}
	if err != nil {
		return operation.Run{}, provider.Connection{}, err
	}
	if run.Type, err = operation.ParseType(typ); err != nil {
		return operation.Run{}, provider.Connection{}, err
	}
	if err := json.Unmarshal(counts, &run.Counts); err != nil {
		return operation.Run{}, provider.Connection{}, err
	}
	run.Status = operation.StatusRunning
	conn.ClientID = "0f6b2c1e-8d3a-4f5b-9c7d-1e2f3a4b5c6d"
	conn.Secret = testSecret
	return run, conn, nil
}

func (s *sqlRuns) ProgressRun(ctx context.Context, runID string, counts operation.Counts) error {
	s.mu.Lock()
	s.progress[runID] = append(s.progress[runID], time.Now())
	s.mu.Unlock()
	tag, err := s.pool.Exec(ctx, `UPDATE operation_runs SET summary_counts = $2, heartbeat_at = now(), updated_at = now()
		WHERE id = $1 AND status = 'running'`, runID, counts)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return operation.ErrRunFinished
	}
	return nil
}

func (s *sqlRuns) CompleteRun(ctx context.Context, runID string, c operation.Completion) error {
	result := c.Result
	if result == nil {
		result = map[string]any{}
	}
	result["message"] = c.Message
	tag, err := s.pool.Exec(ctx, `UPDATE operation_runs SET status = 'completed', outcome = $2,
			reason_code = nullif($3, ''), summary_counts = $4, context = $5, completed_at = now(), updated_at = now()
		WHERE id = $1 AND status <> 'completed'`, runID, string(c.Outcome), c.ReasonCode, c.Counts, result)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return operation.ErrRunFinished
	}
	return nil
}

func (s *sqlRuns) StaleRuns(ctx context.Context, heartbeatBefore time.Time) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT id::text FROM operation_runs
		WHERE status = 'running' AND heartbeat_at < $1 ORDER BY heartbeat_at`, heartbeatBefore)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func (s *sqlRuns) progressCalls(runID string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.progress[runID]...)
}

// env is one test's database and workspace.
type env struct {
	t    *testing.T
	pool *pgxpool.Pool
	url  string
	runs *sqlRuns
	ws   int64
}

func setup(t *testing.T) *env {
	t.Helper()
	url := pgtest.NewURL(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	e := &env{t: t, pool: pool, url: url, runs: newSQLRuns(pool)}
	if err := pool.QueryRow(context.Background(), `INSERT INTO workspaces (slug, name) VALUES ('w', 'W') RETURNING id`).Scan(&e.ws); err != nil {
		t.Fatal(err)
	}
	return e
}

var tenantSeq sync.Mutex
var tenantN int

// newRun inserts a tenant with primaryDomain and a queued run of type typ, and enqueues
// its job through enqueue in the same transaction, as the start gate does.
func (e *env) newRun(primaryDomain, typ string, enqueue func(context.Context, pgx.Tx, string) (int64, error)) string {
	e.t.Helper()
	ctx := context.Background()
	tenantSeq.Lock()
	tenantN++
	tenant := fmt.Sprintf("6f1c0d5e-3b7a-4c2e-9a4b-%012d", tenantN)
	tenantSeq.Unlock()
	var runID string
	err := pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO tenants (workspace_id, tenant_id, primary_domain) VALUES ($1, $2, $3)`, e.ws, tenant, primaryDomain); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO operation_runs (workspace_id, tenant_id, type) VALUES ($1, $2, $3) RETURNING id::text`, e.ws, tenant, typ).Scan(&runID); err != nil {
			return err
		}
		if enqueue == nil {
			return nil
		}
		jobID, err := enqueue(ctx, tx, runID)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE operation_runs SET job_id = $2 WHERE id = $1`, runID, jobID)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return runID
}

// runRow is what a test checks of a run.
type runRow struct {
	Status, Outcome, ReasonCode string
	Attempt                     int
	Counts                      operation.Counts
	Context                     string
}

func (e *env) run(id string) runRow {
	e.t.Helper()
	var r runRow
	err := e.pool.QueryRow(context.Background(), `SELECT status, coalesce(outcome, ''), coalesce(reason_code, ''), attempt, summary_counts, context::text
		FROM operation_runs WHERE id = $1`, id).Scan(&r.Status, &r.Outcome, &r.ReasonCode, &r.Attempt, &r.Counts, &r.Context)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// waitRun polls the run until cond holds or the deadline passes.
func (e *env) waitRun(id string, within time.Duration, what string, cond func(runRow) bool) runRow {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for {
		r := e.run(id)
		if cond(r) {
			return r
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("run %s: not %s within %s; last %+v", id, what, within, r)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func completed(r runRow) bool { return r.Status == "completed" }

// startWorkers builds and starts workers against e's database, stopped at cleanup.
func (e *env) startWorkers(p provider.Provider, opts Options) *Workers {
	e.t.Helper()
	w := e.newWorkers(p, opts)
	if err := w.Start(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := w.Stop(ctx); err != nil {
			e.t.Errorf("stop: %v", err)
		}
	})
	return w
}

func (e *env) newWorkers(p provider.Provider, opts Options) *Workers {
	e.t.Helper()
	if opts.RetryBackoff == nil {
		opts.RetryBackoff = func(int) time.Duration { return 50 * time.Millisecond }
	}
	if opts.Logger == nil {
		opts.Logger = testLogger(e.t)
	}
	w, err := New(e.pool, e.runs, p, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	return w
}
