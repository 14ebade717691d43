package worker

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/operation"
	"github.com/tenantops/onboard/internal/postgres"
	"github.com/tenantops/onboard/internal/postgres/pgtest"
	"github.com/tenantops/onboard/internal/provider"
)

// testSecret is the client secret of every test connection; it must never reach the
// database outside provider_connections (sealed), nor River's tables, nor logs.
const testSecret = "Xy9Q~abcdefghijklmnopqrstuvwxyz0123456789"

// testKey seals the test connections' secrets; the helper process opens them with it too.
var testKey = bytes.Repeat([]byte{7}, 32)

// newRunService returns the real operation-run service over db.
func newRunService(db *postgres.DB) (*onboarding.RunService, *postgres.Store, error) {
	store, err := postgres.NewStore(db, postgres.StoreConfig{SecretKey: testKey})
	if err != nil {
		return nil, nil, err
	}
	return onboarding.NewRunService(store, time.Now), store, nil
}

// recordingRuns is the real operation-run service, recording when ProgressRun was called.
type recordingRuns struct {
	*onboarding.RunService

	mu       sync.Mutex
	progress map[string][]time.Time // ProgressRun calls per run
}

func (r *recordingRuns) ProgressRun(ctx context.Context, runID string, counts operation.Counts) error {
	r.mu.Lock()
	r.progress[runID] = append(r.progress[runID], time.Now())
	r.mu.Unlock()
	return r.RunService.ProgressRun(ctx, runID, counts)
}

func (r *recordingRuns) progressCalls(runID string) []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.progress[runID]...)
}

// env is one test's database and workspace.
type env struct {
	t     *testing.T
	pool  *pgxpool.Pool
	url   string
	runs  *recordingRuns
	svc   *onboarding.Service
	owner access.Member
}

func setup(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	url := pgtest.NewURL(t)
	db, err := postgres.Open(ctx, url, "worker-test", 4) // pgxpool's default on this machine, as before
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	runs, store, err := newRunService(db)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, pool: db.Pool, url: url, svc: onboarding.NewService(store, time.Now),
		runs: &recordingRuns{RunService: runs, progress: map[string][]time.Time{}}}
	var ws, uid int64
	if err := db.Pool.QueryRow(ctx, `INSERT INTO workspaces (slug, name) VALUES ('w', 'W') RETURNING id`).Scan(&ws); err != nil {
		t.Fatal(err)
	}
	if err := db.Pool.QueryRow(ctx, `INSERT INTO users (email, password_hash) VALUES ('owner@w.test', 'x') RETURNING id`).Scan(&uid); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO workspace_memberships (workspace_id, user_id, role) VALUES ($1, $2, 'owner')`, ws, uid); err != nil {
		t.Fatal(err)
	}
	e.owner = access.Member{User: access.User{ID: uid, Email: "owner@w.test"}, WorkspaceID: ws, Workspace: "w", Role: access.RoleOwner}
	return e
}

var tenantSeq sync.Mutex
var tenantN int

// newRun creates, through the onboarding service, a draft of a new tenant with primaryDomain
// and a provider connection (secret testSecret), then inserts a queued run of type typ that
// uses the connection and enqueues its job through enqueue in the same transaction, as the
// start gate does. The run belongs to no draft, so its completion re-evaluates nothing.
func (e *env) newRun(primaryDomain, typ string, enqueue func(context.Context, pgx.Tx, string) (int64, error)) string {
	e.t.Helper()
	ctx := context.Background()
	tenantSeq.Lock()
	tenantN++
	tenant := fmt.Sprintf("6f1c0d5e-3b7a-4c2e-9a4b-%012d", tenantN)
	tenantSeq.Unlock()
	d, _, err := e.svc.Create(ctx, e.owner, onboarding.CreateInput{TenantID: tenant, DisplayName: "T " + primaryDomain, PrimaryDomain: primaryDomain})
	if err != nil {
		e.t.Fatal(err)
	}
	d, err = e.svc.Update(ctx, e.owner, d.ID, d.Version, onboarding.Patch{Connection: &onboarding.ConnectionInput{
		ClientID: "0f6b2c1e-8d3a-4f5b-9c7d-1e2f3a4b5c6d", ClientSecret: testSecret}})
	if err != nil {
		e.t.Fatal(err)
	}
	var runID string
	err = pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO operation_runs (workspace_id, tenant_id, type, initiator_id, context)
			VALUES ($1, $2, $3, $4, jsonb_build_object('connection_id', $5::text)) RETURNING id::text`,
			e.owner.WorkspaceID, tenant, typ, e.owner.User.ID, d.ProviderConnectionID).Scan(&runID); err != nil {
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
