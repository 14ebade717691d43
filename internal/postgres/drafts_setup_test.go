package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/operation"
	"github.com/tenantops/onboard/internal/postgres"
	"github.com/tenantops/onboard/internal/postgres/pgtest"
)

// testClock is a deterministic clock that moves 1 ms per reading, safe for concurrent use.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

// fixture is a fresh database with the demo roles (README: demo data), a store and a service.
type fixture struct {
	store                           *postgres.Store
	svc                             *onboarding.Service
	runs                            *onboarding.RunService
	clock                           *testClock
	owner, operator, viewer, globex access.Member
	enqueued                        chan string
}

var testKey = bytes.Repeat([]byte{7}, 32)

type setupOptions struct{ enqueue bool }

func setup(t *testing.T, opts ...setupOptions) *fixture {
	t.Helper()
	ctx := context.Background()
	db := pgtest.New(t)
	f := &fixture{clock: &testClock{t: time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)}}
	cfg := postgres.StoreConfig{SecretKey: testKey}
	if len(opts) > 0 && opts[0].enqueue {
		f.enqueued = make(chan string, 100)
		var mu sync.Mutex
		var next int64
		cfg.Enqueue = func(ctx context.Context, _ pgx.Tx, runID string) (int64, error) {
			mu.Lock()
			defer mu.Unlock()
			next++
			f.enqueued <- runID
			return 1000 + next, nil
		}
	}
	store, err := postgres.NewStore(db, cfg)
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	f.store = store
	f.svc = onboarding.NewService(store, f.clock.Now)
	f.runs = onboarding.NewRunService(store, f.clock.Now)

	for _, ws := range []string{"acme", "globex"} {
		if _, err := db.Pool.Exec(ctx, `INSERT INTO workspaces (slug, name) VALUES ($1, $1)`, ws); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []struct {
		email, ws string
		role      access.Role
		into      *access.Member
	}{
		{"owner@acme.test", "acme", access.RoleOwner, &f.owner},
		{"operator@acme.test", "acme", access.RoleOperator, &f.operator},
		{"viewer@acme.test", "acme", access.RoleViewer, &f.viewer},
		{"owner@globex.test", "globex", access.RoleOwner, &f.globex},
	} {
		var uid, wid int64
		if err := db.Pool.QueryRow(ctx, `INSERT INTO users (email, password_hash) VALUES ($1, 'x') RETURNING id`, u.email).Scan(&uid); err != nil {
			t.Fatal(err)
		}
		if err := db.Pool.QueryRow(ctx, `SELECT id FROM workspaces WHERE slug = $1`, u.ws).Scan(&wid); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Pool.Exec(ctx, `INSERT INTO workspace_memberships (workspace_id, user_id, role) VALUES ($1, $2, $3)`,
			wid, uid, string(u.role)); err != nil {
			t.Fatal(err)
		}
		*u.into = access.Member{User: access.User{ID: uid, Email: u.email}, WorkspaceID: wid, Workspace: u.ws, Role: u.role}
	}
	return f
}

var tenantSeq struct {
	sync.Mutex
	n int
}

// newTenantID returns a GUID unique within the test binary.
func newTenantID() string {
	tenantSeq.Lock()
	defer tenantSeq.Unlock()
	tenantSeq.n++
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", tenantSeq.n)
}

const (
	testClientID = "11111111-2222-4333-8444-555555555555"
	testSecret   = "abc8Q~K9xYzW1vT2uS3rQ4pO5nM6lK7jI8hG9fE"
)

func (f *fixture) create(t *testing.T) onboarding.Draft {
	t.Helper()
	d, resumed, err := f.svc.Create(context.Background(), f.owner, onboarding.CreateInput{
		TenantID: newTenantID(), DisplayName: "Contoso", PrimaryDomain: "contoso.healthy.test"})
	if err != nil || resumed {
		t.Fatalf("Create = resumed %v, %v; want a new draft", resumed, err)
	}
	return d
}

func (f *fixture) connect(t *testing.T, d onboarding.Draft) onboarding.Draft {
	t.Helper()
	d, err := f.svc.Update(context.Background(), f.owner, d.ID, d.Version, onboarding.Patch{
		Connection: &onboarding.ConnectionInput{ClientID: testClientID, ClientSecret: testSecret}})
	if err != nil {
		t.Fatalf("attach connection: %v", err)
	}
	return d
}

// runToEnd begins and completes a run with outcome and reason.
func (f *fixture) runToEnd(t *testing.T, runID string, outcome operation.Outcome, reason string) {
	t.Helper()
	ctx := context.Background()
	if _, _, err := f.runs.BeginRun(ctx, runID, 1); err != nil {
		t.Fatalf("BeginRun: %v", err)
	}
	if err := f.runs.CompleteRun(ctx, runID, operation.Completion{Outcome: outcome, ReasonCode: reason}); err != nil {
		t.Fatalf("CompleteRun: %v", err)
	}
}

// verified returns a draft whose verification ended with outcome (and reason).
func (f *fixture) verified(t *testing.T, outcome operation.Outcome, reason string) onboarding.Draft {
	t.Helper()
	d := f.connect(t, f.create(t))
	_, run, _, err := f.svc.StartVerification(context.Background(), f.owner, d.ID, d.Version)
	if err != nil {
		t.Fatalf("StartVerification: %v", err)
	}
	f.runToEnd(t, run.ID, outcome, reason)
	return f.get(t, d.ID)
}

func (f *fixture) get(t *testing.T, id string) onboarding.Draft {
	t.Helper()
	d, err := f.svc.Get(context.Background(), f.owner, id)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return d
}

// dbState renders everything a mutation of the draft could change, for before/after checks.
func (f *fixture) dbState(t *testing.T, draftID string) string {
	t.Helper()
	var s string
	err := f.store.Pool.QueryRow(context.Background(), `WITH d AS (
			SELECT * FROM managed_tenant_onboarding_sessions WHERE id = $1)
		SELECT concat_ws(E'\n',
		(SELECT row_to_json(d)::text FROM d),
		(SELECT json_agg(r ORDER BY r.id)::text FROM operation_runs r, d WHERE r.workspace_id = d.workspace_id AND r.tenant_id = d.tenant_id),
		(SELECT json_agg(c ORDER BY c.id)::text FROM provider_connections c, d WHERE c.workspace_id = d.workspace_id AND c.tenant_id = d.tenant_id),
		(SELECT row_to_json(t)::text FROM tenants t, d WHERE t.workspace_id = d.workspace_id AND t.tenant_id = d.tenant_id),
		(SELECT count(*)::text FROM workspace_audit_log a WHERE a.subject_id = $1::text
			OR a.subject_id IN (SELECT id::text FROM operation_runs WHERE draft_id = $1)),
		(SELECT count(*)::text FROM user_notifications n WHERE n.payload->>'draft_id' = $1::text))`, draftID).Scan(&s)
	if err != nil {
		t.Fatalf("dbState: %v", err)
	}
	return s
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
}

func wantBlocked(t *testing.T, err error, code onboarding.ReasonCode) {
	t.Helper()
	var be *onboarding.BlockedError
	if !errors.As(err, &be) || be.Code != code {
		t.Fatalf("err = %v, want *BlockedError %s", err, code)
	}
}
