package postgres_test

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/operation"
)

// queuedRun returns a draft with a queued verification run.
func (f *fixture) queuedRun(t *testing.T) (onboarding.Draft, operation.Run) {
	t.Helper()
	d := f.connect(t, f.create(t))
	d, run, _, err := f.svc.StartVerification(context.Background(), f.owner, d.ID, d.Version)
	if err != nil {
		t.Fatal(err)
	}
	return d, run
}

func TestRunLifecycle(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()

	t.Run("BeginProgressComplete", func(t *testing.T) { runLifecycleBeginProgressComplete(t, ctx, f) })
	t.Run("IllegalTransitions", func(t *testing.T) { runLifecycleIllegalTransitions(t, ctx, f) })
	t.Run("UnknownRun", func(t *testing.T) { runLifecycleUnknownRun(t, ctx, f) })
	t.Run("StaleRuns", func(t *testing.T) { runLifecycleStaleRuns(t, ctx, f) })
	t.Run("StaleQueuedRuns", func(t *testing.T) { runLifecycleStaleQueuedRuns(t, ctx, f) })
	t.Run("BootstrapNotification", func(t *testing.T) { runLifecycleBootstrapNotification(t, ctx, f) })
}

func runLifecycleBeginProgressComplete(t *testing.T, ctx context.Context, f *fixture) {
	d, run := f.queuedRun(t)
	got, conn, err := f.runs.BeginRun(ctx, run.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != operation.StatusRunning || got.Attempt != 1 || got.StartedAt.IsZero() {
		t.Errorf("begun run = %s attempt %d started %v", got.Status, got.Attempt, got.StartedAt)
	}
	if conn.TenantID != d.TenantID || conn.PrimaryDomain != d.PrimaryDomain || conn.ClientID != testClientID || conn.Secret != testSecret {
		t.Errorf("connection = %v (secret ok: %v)", conn, conn.Secret == testSecret)
	}
	again, _, err := f.runs.BeginRun(ctx, run.ID, 2)
	if err != nil || again.Attempt != 2 || !again.StartedAt.Equal(got.StartedAt) {
		t.Errorf("retry begin = attempt %d started %v, %v; want attempt 2, started_at kept", again.Attempt, again.StartedAt, err)
	}
	if err := f.runs.ProgressRun(ctx, run.ID, operation.Counts{Total: 4, Succeeded: 2}); err != nil {
		t.Fatal(err)
	}
	if err := f.runs.ProgressRun(ctx, run.ID, operation.Counts{Total: 1, Succeeded: 2}); !errors.Is(err, operation.ErrInvalidCounts) {
		t.Errorf("invalid counts: err = %v, want ErrInvalidCounts", err)
	}
	if err := f.runs.Heartbeat(ctx, run.ID); err != nil {
		t.Fatal(err)
	}
	mid := f.get(t, d.ID)
	if mid.Version != d.Version {
		t.Errorf("progress moved the draft version %d → %d", d.Version, mid.Version)
	}
	if err := f.runs.CompleteRun(ctx, run.ID, operation.Completion{Outcome: operation.OutcomeSucceeded,
		Counts: operation.Counts{Total: 4, Succeeded: 4}, Message: "all checks passed"}); err != nil {
		t.Fatal(err)
	}
	end := f.get(t, d.ID)
	if end.Version != d.Version+1 || end.Lifecycle != onboarding.LifecycleReadyForActivation || end.UpdatedBy != "" {
		t.Errorf("draft after completion = v%d %s by %q; want v%d ready_for_activation by the system",
			end.Version, end.Lifecycle, end.UpdatedBy, d.Version+1)
	}
	info, _ := f.svc.Connection(ctx, f.owner, d.ID)
	if info == nil || info.Status != onboarding.ConnectionVerified {
		t.Errorf("connection status = %+v, want verified", info)
	}
	r, err := f.svc.Run(ctx, f.owner, run.ID)
	if err != nil || r.Counts.Succeeded != 4 || r.CompletedAt.IsZero() {
		t.Errorf("completed run = %+v, %v", r, err)
	}
	notes, err := f.store.Notifications(ctx, f.owner.User.ID, 10)
	if err != nil || len(notes) == 0 || notes[0].Title != "Verification succeeded" ||
		notes[0].DraftID != d.ID || notes[0].RunID != run.ID || notes[0].WorkspaceID != f.owner.WorkspaceID {
		t.Fatalf("notifications = %+v, %v", notes, err)
	}
	if n, err := f.store.UnreadCount(ctx, f.owner.User.ID); err != nil || n != len(notes) {
		t.Errorf("UnreadCount = %d, %v; want %d", n, err, len(notes))
	}
	if err := f.store.MarkNotificationsRead(ctx, f.owner.User.ID); err != nil {
		t.Fatal(err)
	}
	if n, _ := f.store.UnreadCount(ctx, f.owner.User.ID); n != 0 {
		t.Errorf("UnreadCount after mark read = %d", n)
	}
	var audits int
	if err := f.store.Pool.QueryRow(ctx, `SELECT count(*) FROM workspace_audit_log WHERE action = 'operation.run.completed'
		AND subject_id = $1 AND actor_id IS NULL`, run.ID).Scan(&audits); err != nil || audits != 1 {
		t.Errorf("completion audits = %d, %v; want 1", audits, err)
	}
	// Completed is final.
	_, _, err = f.runs.BeginRun(ctx, run.ID, 3)
	wantErr(t, err, operation.ErrRunFinished)
	wantErr(t, f.runs.ProgressRun(ctx, run.ID, operation.Counts{}), operation.ErrRunFinished)
	wantErr(t, f.runs.Heartbeat(ctx, run.ID), operation.ErrRunFinished)
	wantErr(t, f.runs.CompleteRun(ctx, run.ID, operation.Completion{Outcome: operation.OutcomeFailed}), operation.ErrRunFinished)
}

func runLifecycleIllegalTransitions(t *testing.T, ctx context.Context, f *fixture) {
	d, run := f.queuedRun(t)
	before := f.dbState(t, d.ID)
	wantErr(t, f.runs.CompleteRun(ctx, run.ID, operation.Completion{Outcome: operation.OutcomeSucceeded}), operation.ErrIllegalTransition)
	wantErr(t, f.runs.CompleteRun(ctx, run.ID, operation.Completion{Outcome: operation.OutcomePartiallySucceeded}), operation.ErrIllegalTransition)
	wantErr(t, f.runs.CompleteRun(ctx, run.ID, operation.Completion{}), operation.ErrIllegalTransition)
	wantErr(t, f.runs.ProgressRun(ctx, run.ID, operation.Counts{Total: 1}), operation.ErrIllegalTransition)
	if after := f.dbState(t, d.ID); after != before {
		t.Errorf("refused transitions changed the database")
	}
	// queued → completed/failed is legal (the worker could not start it).
	if err := f.runs.CompleteRun(ctx, run.ID, operation.Completion{Outcome: operation.OutcomeFailed, ReasonCode: "provider_unreachable"}); err != nil {
		t.Fatalf("queued → failed: %v", err)
	}
	if got := f.get(t, d.ID); got.Lifecycle != onboarding.LifecycleActionRequired || got.BlockingReasonCode != onboarding.ReasonProviderUnreachable {
		t.Errorf("draft = %s/%s, want action_required/provider_unreachable", got.Lifecycle, got.BlockingReasonCode)
	}
}

func runLifecycleUnknownRun(t *testing.T, ctx context.Context, f *fixture) {
	_, _, err := f.runs.BeginRun(ctx, "6f1c2a4e-0000-4000-8000-000000000000", 1)
	wantErr(t, err, fault.ErrNotFound)
	wantErr(t, f.runs.CompleteRun(ctx, "nope", operation.Completion{Outcome: operation.OutcomeFailed}), fault.ErrNotFound)
}

func runLifecycleStaleRuns(t *testing.T, ctx context.Context, f *fixture) {
	_, run := f.queuedRun(t)
	if _, _, err := f.runs.BeginRun(ctx, run.ID, 1); err != nil {
		t.Fatal(err)
	}
	cut := f.clock.Now()
	stale, err := f.runs.StaleRuns(ctx, cut)
	if err != nil || !contains(stale, run.ID) {
		t.Errorf("StaleRuns(after beat) = %v, %v; want %s", stale, err, run.ID)
	}
	if err := f.runs.Heartbeat(ctx, run.ID); err != nil {
		t.Fatal(err)
	}
	stale, _ = f.runs.StaleRuns(ctx, cut)
	if contains(stale, run.ID) {
		t.Errorf("StaleRuns after a new heartbeat still lists %s", run.ID)
	}
}

func runLifecycleStaleQueuedRuns(t *testing.T, ctx context.Context, f *fixture) {
	// A queued run whose job was lost (discarded before any attempt began) must reach the
	// reconciler too, or it would hold its tenant's one active run forever.
	_, run := f.queuedRun(t)
	cut := f.clock.Now()
	if now := time.Now(); now.After(cut) {
		cut = now
	}
	stale, err := f.runs.StaleRuns(ctx, cut.Add(time.Hour))
	if err != nil || !contains(stale, run.ID) {
		t.Errorf("StaleRuns = %v, %v; want the queued run %s", stale, err, run.ID)
	}
}

func runLifecycleBootstrapNotification(t *testing.T, ctx context.Context, f *fixture) {
	d := f.verified(t, operation.OutcomeSucceeded, "")
	_, runs, err := f.svc.StartBootstrap(ctx, f.operator, d.ID, d.Version, []string{"policy_sync"})
	if err != nil {
		t.Fatal(err)
	}
	f.runToEnd(t, runs[0].ID, operation.OutcomePartiallySucceeded, "")
	notes, _ := f.store.Notifications(ctx, f.operator.User.ID, 1)
	if len(notes) != 1 || notes[0].Title != "Bootstrap policy_sync finished: partially_succeeded" {
		t.Errorf("operator's notification = %+v", notes)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestCompleteRunRedacts(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	d, run := f.queuedRun(t)
	if _, _, err := f.runs.BeginRun(ctx, run.ID, 1); err != nil {
		t.Fatal(err)
	}
	secrets := []string{
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlMTIzNDU2Nzg5MA",
		"hunter2hunter2",
		testSecret,
		"Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZg",
	}
	msg := "AADSTS7000215: invalid client secret. Authorization: Bearer " + secrets[0] +
		" request body client_secret=" + secrets[1] + "&grant_type=client_credentials; secret " + secrets[2]
	err := f.runs.CompleteRun(ctx, run.ID, operation.Completion{
		Outcome: operation.OutcomeFailed, ReasonCode: "invalid_credentials", Message: msg,
		Result: map[string]any{
			"checks": []map[string]any{{"name": "token", "message": `{"access_token":"` + secrets[3] + `"}`}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var runText, notes, audit string
	if err := f.store.Pool.QueryRow(ctx, `SELECT
			(SELECT r::text FROM operation_runs r WHERE id = $1),
			(SELECT coalesce(string_agg(n::text, ' '), '') FROM user_notifications n),
			(SELECT coalesce(string_agg(a::text, ' '), '') FROM workspace_audit_log a)`, run.ID).Scan(&runText, &notes, &audit); err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		for name, text := range map[string]string{"run": runText, "notifications": notes, "audit": audit} {
			if strings.Contains(text, s) {
				t.Errorf("%s stores the secret %q: %s", name, s, text)
			}
		}
	}
	if !strings.Contains(runText, operation.Redacted) || !strings.Contains(runText, "AADSTS7000215") {
		t.Errorf("run context = %s; want the message kept, secrets replaced by %s", runText, operation.Redacted)
	}
	if got := f.get(t, d.ID); got.BlockingReasonCode != onboarding.ReasonInvalidCredentials {
		t.Errorf("blocking = %s, want invalid_credentials", got.BlockingReasonCode)
	}
}

// TestSecretNeverStoredInPlaintext walks a draft through connection, verification, bootstrap
// and activation, then scans every table of the schema, as text and as hex, for the secret.
func TestSecretNeverStoredInPlaintext(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	d := f.verified(t, operation.OutcomeSucceeded, "")
	d, runs, err := f.svc.StartBootstrap(ctx, f.owner, d.ID, d.Version, []string{"inventory_sync"})
	if err != nil {
		t.Fatal(err)
	}
	f.runToEnd(t, runs[0].ID, operation.OutcomeSucceeded, "")
	d = f.get(t, d.ID)
	if _, err := f.svc.Activate(ctx, f.owner, d.ID, d.Version, ""); err != nil {
		t.Fatal(err)
	}
	rows, err := f.store.Pool.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if !contains(tables, "provider_connections") || !contains(tables, "workspace_audit_log") {
		t.Fatalf("tables = %v", tables)
	}
	hexSecret := hex.EncodeToString([]byte(testSecret))
	for _, table := range tables {
		var text string
		if err := f.store.Pool.QueryRow(ctx, `SELECT coalesce(string_agg(t::text, E'\n'), '') FROM "`+table+`" t`).Scan(&text); err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		if strings.Contains(text, testSecret) || strings.Contains(strings.ToLower(text), hexSecret) {
			t.Errorf("table %s holds the client secret in plaintext", table)
		}
	}
	var keyID string
	var sealed []byte
	if err := f.store.Pool.QueryRow(ctx, `SELECT secret_key_id, secret_ciphertext FROM provider_connections LIMIT 1`).Scan(&keyID, &sealed); err != nil {
		t.Fatal(err)
	}
	if keyID == "" || len(sealed) != 12+len(testSecret)+16 {
		t.Errorf("key id %q, sealed %d bytes; want a key id and nonce+ciphertext+tag (%d bytes)", keyID, len(sealed), 12+len(testSecret)+16)
	}
}

// TestConcurrentStartVerification: 20 callers, each with the version it last read and retrying
// on conflict, yield exactly one active run, and all of them get that run.
func TestConcurrentStartVerification(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	d := f.connect(t, f.create(t))
	const callers = 20
	start := make(chan struct{})
	var wg sync.WaitGroup
	ids := make([]string, callers)
	createdN := make([]bool, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			version := d.Version
			for {
				_, run, created, err := f.svc.StartVerification(ctx, f.operator, d.ID, version)
				var ce *onboarding.ConflictError
				if errors.As(err, &ce) {
					version = ce.CurrentVersion
					continue
				}
				ids[i], createdN[i], errs[i] = run.ID, created, err
				return
			}
		}()
	}
	close(start)
	wg.Wait()
	created := 0
	for i := range callers {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Errorf("caller %d got run %s, caller 0 got %s", i, ids[i], ids[0])
		}
		if createdN[i] {
			created++
		}
	}
	if created != 1 {
		t.Errorf("%d callers created a run, want 1", created)
	}
	var active int
	if err := f.store.Pool.QueryRow(ctx, `SELECT count(*) FROM operation_runs WHERE tenant_id = $1 AND status IN ('queued', 'running')`,
		d.TenantID).Scan(&active); err != nil || active != 1 {
		t.Errorf("active runs = %d, %v; want 1", active, err)
	}
	if got := f.get(t, d.ID); got.Version != d.Version+1 {
		t.Errorf("draft version = %d, want %d (one start, dedupes leave it)", got.Version, d.Version+1)
	}
}

// TestEditRacesCompletion: an operator edit with the version read before a run completes and
// the completion itself both land, in either order. The operator re-applies on a conflict, as
// the UI does; the completion never needs to.
func TestEditRacesCompletion(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	const iterations = 40
	orders := map[string]int{}
	for i := range iterations {
		d, run := f.queuedRun(t)
		if _, _, err := f.runs.BeginRun(ctx, run.ID, 1); err != nil {
			t.Fatal(err)
		}
		seen := f.get(t, d.ID)
		name := "Edited " + strings.Repeat("x", i%5+1)
		outcome := []operation.Outcome{operation.OutcomeSucceeded, operation.OutcomeFailed}[i%2]
		start := make(chan struct{})
		var wg sync.WaitGroup
		var editErr, completeErr error
		conflicted := false
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			completeErr = f.runs.CompleteRun(ctx, run.ID, operation.Completion{Outcome: outcome, ReasonCode: "missing_permissions"})
		}()
		go func() {
			defer wg.Done()
			<-start
			version := seen.Version
			for {
				_, err := f.svc.Update(ctx, f.operator, d.ID, version, onboarding.Patch{DisplayName: &name})
				var ce *onboarding.ConflictError
				if errors.As(err, &ce) {
					conflicted = true
					version = ce.CurrentVersion
					continue
				}
				editErr = err
				return
			}
		}()
		close(start)
		wg.Wait()
		if editErr != nil || completeErr != nil {
			t.Fatalf("iteration %d: edit %v, complete %v", i, editErr, completeErr)
		}
		if conflicted {
			orders["completion first"]++
		} else {
			orders["edit first"]++
		}
		got := f.get(t, d.ID)
		wantLifecycle := onboarding.LifecycleReadyForActivation
		if outcome == operation.OutcomeFailed {
			wantLifecycle = onboarding.LifecycleActionRequired
		}
		if got.DisplayName != name || got.Lifecycle != wantLifecycle || got.Version != seen.Version+2 {
			t.Errorf("iteration %d: draft = %q %s v%d; want %q %s v%d", i, got.DisplayName, got.Lifecycle, got.Version,
				name, wantLifecycle, seen.Version+2)
		}
	}
	t.Logf("orders: %v", orders)
}

func TestDraftSnapshot(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	d := f.verified(t, operation.OutcomeSucceeded, "")
	d, _, err := f.svc.StartBootstrap(ctx, f.owner, d.ID, d.Version, []string{"inventory_sync", "policy_sync"})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := f.store.DraftSnapshot(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, runs, conn := snap.Draft, snap.Runs, snap.Conn
	if got.ID != d.ID || got.Version != d.Version || got.Workspace != "acme" || got.UpdatedBy != "owner@acme.test" ||
		got.Lifecycle != onboarding.LifecycleBootstrapping {
		t.Errorf("snapshot draft = %s v%d %s by %s %s", got.ID, got.Version, got.Workspace, got.UpdatedBy, got.Lifecycle)
	}
	want, err := f.svc.Runs(ctx, f.owner, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 || len(want) != 3 {
		t.Fatalf("snapshot runs = %d, service runs = %d; want 3", len(runs), len(want))
	}
	for i := range runs {
		if runs[i].ID != want[i].ID || runs[i].Status != want[i].Status || runs[i].InitiatorEmail != "owner@acme.test" ||
			!runs[i].CreatedAt.Equal(want[i].CreatedAt) || runs[i].Rev != want[i].Rev || runs[i].Type != want[i].Type {
			t.Errorf("run %d: snapshot %+v, service %+v", i, runs[i], want[i])
		}
	}
	if conn == nil || conn.ID != d.ProviderConnectionID || conn.Status != onboarding.ConnectionVerified {
		t.Errorf("snapshot connection = %+v", conn)
	}
	if _, err := f.store.DraftSnapshot(ctx, "6f1c2a4e-0000-4000-8000-000000000000"); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("unknown id: err = %v, want ErrNotFound", err)
	}
	filtered, err := f.svc.WorkspaceRuns(ctx, f.viewer, onboarding.RunFilter{Type: "bootstrap.policy_sync", Status: "queued", DraftID: d.ID})
	if err != nil || len(filtered) != 1 {
		t.Errorf("WorkspaceRuns filtered = %d, %v; want 1", len(filtered), err)
	}
	if _, err := f.svc.WorkspaceRuns(ctx, f.viewer, onboarding.RunFilter{Status: "exploded"}); !errors.Is(err, fault.ErrInvalid) {
		t.Errorf("bad filter: err = %v, want ErrInvalid", err)
	}
}
