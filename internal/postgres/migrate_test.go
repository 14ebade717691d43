package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/tenantops/onboard/internal/postgres"
	"github.com/tenantops/onboard/internal/postgres/pgtest"
	"github.com/tenantops/onboard/migrations"
)

// openEmpty opens an empty database (no migrations applied) for this test.
func openEmpty(t *testing.T) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), pgtest.NewEmptyURL(t), "test", 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

func TestMigrateUpDownUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openEmpty(t)
	tables := func() int {
		var n int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'goose_db_version'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := db.MigrateUp(ctx); err != nil {
		t.Fatalf("up: %v", err)
	}
	riverJob := func() bool {
		var ok bool
		if err := db.Pool.QueryRow(ctx, `SELECT to_regclass('river_job') IS NOT NULL`).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	up := tables()
	// Ours (10) plus River's five: river_job, river_leader, river_migration,
	// river_notification, river_queue.
	if up < 15 {
		t.Fatalf("after up: %d tables, want at least 15", up)
	}
	if !riverJob() {
		t.Fatal("after up: river_job missing; want River's tables created by MigrateUp")
	}
	if err := db.MigrateDown(ctx, true); err != nil {
		t.Fatalf("down: %v", err)
	}
	if got := tables(); got != 0 {
		t.Fatalf("after down: %d tables, want 0 (River's included)", got)
	}
	if err := db.MigrateUp(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if got := tables(); got != up {
		t.Fatalf("after up again: %d tables, want %d", got, up)
	}
	var b strings.Builder
	if err := db.MigrateStatus(ctx, &b); err != nil || strings.Contains(b.String(), "pending") {
		t.Fatalf("status = %q, %v; want every migration applied", b.String(), err)
	}
}

func TestVocabularyConstraints(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.Pool.Exec(ctx, `INSERT INTO workspaces (slug, name) VALUES ('w', 'W');
		INSERT INTO tenants (workspace_id, tenant_id) SELECT id, '6f1c0d5e-3b7a-4c2e-9a4b-0c1d2e3f4a5b' FROM workspaces`); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, sql string }{
		{"UnknownLifecycle", `INSERT INTO managed_tenant_onboarding_sessions (workspace_id, tenant_id, lifecycle_state) SELECT id, '6f1c0d5e-3b7a-4c2e-9a4b-0c1d2e3f4a5b', 'paused' FROM workspaces`},
		{"UnknownCheckpoint", `INSERT INTO managed_tenant_onboarding_sessions (workspace_id, tenant_id, current_checkpoint) SELECT id, '6f1c0d5e-3b7a-4c2e-9a4b-0c1d2e3f4a5b', 'review' FROM workspaces`},
		{"BadReasonCode", `INSERT INTO managed_tenant_onboarding_sessions (workspace_id, tenant_id, reason_code) SELECT id, '6f1c0d5e-3b7a-4c2e-9a4b-0c1d2e3f4a5b', 'Not Snake' FROM workspaces`},
		{"UnknownRunType", `INSERT INTO operation_runs (workspace_id, tenant_id, type) SELECT id, '6f1c0d5e-3b7a-4c2e-9a4b-0c1d2e3f4a5b', 'sync' FROM workspaces`},
		{"CompletedWithoutOutcome", `INSERT INTO operation_runs (workspace_id, tenant_id, type, status, completed_at) SELECT id, '6f1c0d5e-3b7a-4c2e-9a4b-0c1d2e3f4a5b', 'verify_access', 'completed', now() FROM workspaces`},
		{"OutcomeWhileRunning", `INSERT INTO operation_runs (workspace_id, tenant_id, type, status, outcome) SELECT id, '6f1c0d5e-3b7a-4c2e-9a4b-0c1d2e3f4a5b', 'verify_access', 'running', 'failed' FROM workspaces`},
		{"SecondOpenDraft", `INSERT INTO managed_tenant_onboarding_sessions (workspace_id, tenant_id) SELECT id, '6f1c0d5e-3b7a-4c2e-9a4b-0c1d2e3f4a5b' FROM workspaces;
			INSERT INTO managed_tenant_onboarding_sessions (workspace_id, tenant_id) SELECT id, '6f1c0d5e-3b7a-4c2e-9a4b-0c1d2e3f4a5b' FROM workspaces`},
		{"SecondActiveRun", `INSERT INTO operation_runs (workspace_id, tenant_id, type) SELECT id, '6f1c0d5e-3b7a-4c2e-9a4b-0c1d2e3f4a5b', 'verify_access' FROM workspaces;
			INSERT INTO operation_runs (workspace_id, tenant_id, type, status) SELECT id, '6f1c0d5e-3b7a-4c2e-9a4b-0c1d2e3f4a5b', 'verify_access', 'running' FROM workspaces`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tx, err := db.Pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			if _, err := tx.Exec(ctx, tc.sql); err == nil {
				t.Fatalf("%s: accepted; want a constraint violation", tc.name)
			}
		})
	}
}

func TestLoadDemoIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	hash := func(string) (string, error) { return "$argon2id$test", nil }
	snapshot := func() string {
		var s string
		err := db.Pool.QueryRow(ctx, `SELECT coalesce(string_agg(w.slug || ':' || u.email || ':' || m.role, ',' ORDER BY w.slug, u.email), '')
			FROM workspace_memberships m JOIN users u ON u.id = m.user_id JOIN workspaces w ON w.id = m.workspace_id`).Scan(&s)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if has, err := db.HasData(ctx); err != nil || has {
		t.Fatalf("HasData on a new database = %v, %v; want false", has, err)
	}
	if err := db.LoadDemo(ctx, hash); err != nil {
		t.Fatal(err)
	}
	first := snapshot()
	want := "acme:operator2@acme.test:operator,acme:operator@acme.test:operator,acme:owner@acme.test:owner,acme:viewer@acme.test:viewer,globex:owner@globex.test:owner"
	if first != want {
		t.Fatalf("memberships = %q, want %q", first, want)
	}
	// A stray membership is removed again: the demo is exactly what README.md lists.
	if _, err := db.Pool.Exec(ctx, `INSERT INTO workspace_memberships (workspace_id, user_id, role)
		SELECT w.id, u.id, 'viewer' FROM workspaces w, users u WHERE w.slug = 'acme' AND u.email = 'owner@globex.test'`); err != nil {
		t.Fatal(err)
	}
	if err := db.LoadDemo(ctx, hash); err != nil {
		t.Fatal(err)
	}
	if got := snapshot(); got != first {
		t.Fatalf("after second load memberships = %q, want %q", got, first)
	}
	var users int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&users); err != nil || users != len(postgres.DemoUsers) {
		t.Fatalf("users = %d, %v; want %d", users, err, len(postgres.DemoUsers))
	}
}

// TestMigrateNotificationIDs: migration 5 moves what a notification is about from a wizard
// link (and its payload) into draft_id and run_id columns, and its down step rebuilds the link.
func TestMigrateNotificationIDs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if err := db.MigrateDownTo(ctx, 4); err != nil {
		t.Fatalf("down to 4: %v", err)
	}
	const draftID, runID = "6f1c2a4e-0000-4000-8000-000000000001", "6f1c2a4e-0000-4000-8000-000000000002"
	if _, err := db.Pool.Exec(ctx, `WITH w AS (INSERT INTO workspaces (slug, name) VALUES ('acme', 'Acme') RETURNING id),
			u AS (INSERT INTO users (email, password_hash) VALUES ('o@acme.test', 'x') RETURNING id)
		INSERT INTO user_notifications (user_id, workspace_id, kind, title, link, payload)
		SELECT u.id, w.id, 'operation_run_completed', t.title, t.link, t.payload::jsonb FROM w, u,
			(VALUES ('both', '/admin/workspaces/acme/onboarding/' || $1::text, json_build_object('draft_id', $1::text, 'run_id', $2::text)::text),
				('link only', '/admin/workspaces/acme/onboarding/' || $1::text, '{}'),
				('neither', '', '{"draft_id": "not-a-uuid"}')) AS t(title, link, payload)`, draftID, runID); err != nil {
		t.Fatal(err)
	}
	if err := db.MigrateUp(ctx); err != nil {
		t.Fatalf("up: %v", err)
	}
	got := map[string][2]string{}
	rows, err := db.Pool.Query(ctx, `SELECT title, coalesce(draft_id::text, ''), coalesce(run_id::text, '') FROM user_notifications`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var title, d, r string
		if err := rows.Scan(&title, &d, &r); err != nil {
			t.Fatal(err)
		}
		got[title] = [2]string{d, r}
	}
	want := map[string][2]string{"both": {draftID, runID}, "link only": {draftID, ""}, "neither": {"", ""}}
	for title, w := range want {
		if got[title] != w {
			t.Errorf("%s: draft_id, run_id = %v; want %v", title, got[title], w)
		}
	}
	if err := db.MigrateDownTo(ctx, 4); err != nil {
		t.Fatalf("down again: %v", err)
	}
	var link string
	if err := db.Pool.QueryRow(ctx, `SELECT link FROM user_notifications WHERE title = 'link only'`).Scan(&link); err != nil ||
		link != "/admin/workspaces/acme/onboarding/"+draftID {
		t.Errorf("link after down = %q, %v", link, err)
	}
}

// TestMigrateExistingSecrets: rows written before the hardening migrations are brought along
// — a session stored under its plain token still signs in once the token is hashed, and a
// connection replaced before the migration loses its secret while the attached one keeps it.
func TestMigrateExistingSecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openEmpty(t)
	sqlDB := stdlib.OpenDBFromPool(db.Pool)
	defer sqlDB.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 7); err != nil {
		t.Fatalf("up to 7: %v", err)
	}
	const tenant, replaced, attached = "00000000-0000-4000-8000-000000000001",
		"00000000-0000-4000-8000-0000000000c1", "00000000-0000-4000-8000-0000000000c2"
	if _, err := db.Pool.Exec(ctx, `
		INSERT INTO sessions (token, data, expiry) VALUES ('plain-token-before-migration', '\x01', now() + interval '1 hour');
		INSERT INTO workspaces (slug, name) VALUES ('acme', 'Acme');
		INSERT INTO tenants (workspace_id, tenant_id) SELECT id, '`+tenant+`' FROM workspaces;
		INSERT INTO provider_connections (id, workspace_id, tenant_id, client_id, secret_ciphertext, secret_key_id)
			SELECT c, w.id, '`+tenant+`', '`+tenant+`', '\x0102', 'kold' FROM workspaces w, unnest(ARRAY['`+replaced+`', '`+attached+`']::uuid[]) c;
		INSERT INTO managed_tenant_onboarding_sessions (workspace_id, tenant_id, provider_connection_id)
			SELECT id, '`+tenant+`', '`+attached+`' FROM workspaces`); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up: %v", err)
	}
	if b, found, err := postgres.NewSessionStore(db).Find("plain-token-before-migration"); err != nil || !found || string(b) != "\x01" {
		t.Errorf("session stored before the migration: found %v %q, %v; want it found", found, b, err)
	}
	for id, want := range map[string]bool{replaced: false, attached: true} {
		var has bool
		if err := db.Pool.QueryRow(ctx, `SELECT secret_ciphertext IS NOT NULL FROM provider_connections WHERE id = $1`, id).Scan(&has); err != nil {
			t.Fatal(err)
		}
		if has != want {
			t.Errorf("connection %s holds a secret = %v after the migration, want %v", id, has, want)
		}
	}
}
