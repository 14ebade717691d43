package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/postgres"
)

// TestDraftChanges reads back what changed since a version: each field with who, old and
// new (a connection by its client id, never its secret), actions by name, nothing at or
// before the version.
func TestDraftChanges(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	d := f.create(t) // version 1
	name := "Contoso Holdings"
	d, err := f.svc.Update(ctx, f.operator, d.ID, d.Version, onboarding.Patch{DisplayName: &name})
	if err != nil {
		t.Fatal(err)
	}
	since := d.Version
	domain := "holdings.healthy.test"
	d, err = f.svc.Update(ctx, f.owner, d.ID, d.Version, onboarding.Patch{PrimaryDomain: &domain})
	if err != nil {
		t.Fatal(err)
	}
	d = f.connect(t, d)

	all, err := f.svc.Changes(ctx, f.viewer, d.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 {
		t.Fatalf("changes since 1 = %+v, want 3", all)
	}
	if c := all[0]; c.Field != onboarding.FieldDisplayName || c.Old != "Contoso" || c.New != name || c.By != "operator@acme.test" || c.Version != since {
		t.Errorf("first change = %+v, want display_name Contoso → %s by operator at version %d", c, name, since)
	}
	got, err := f.svc.Changes(ctx, f.viewer, d.ID, since)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Field != onboarding.FieldPrimaryDomain || got[0].New != domain || got[0].By != "owner@acme.test" {
		t.Fatalf("changes since %d = %+v, want primary_domain by owner, then the connection", since, got)
	}
	if c := got[1]; c.Field != onboarding.FieldProviderConnection || c.Old != "" || c.New != testClientID {
		t.Errorf("connection change = %+v, want \"\" → %s", c, testClientID)
	}
	var raw string
	if err := f.store.Pool.QueryRow(ctx, `SELECT string_agg(metadata::text, ' ') FROM workspace_audit_log WHERE subject_id = $1`, d.ID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(raw, testSecret) {
		t.Fatal("the client secret reached the audit trail")
	}
	if _, err := f.svc.Changes(ctx, f.globex, d.ID, 0); err == nil {
		t.Error("a non-member read another workspace's changes")
	}
}

// TestRunOfAnotherDraftIsNotHandedBack: a cancelled draft's verification is still running;
// a new draft for the same tenant must not be handed that run (its wizard would never show
// it): the start is refused with run_active_elsewhere and nothing changes.
func TestRunOfAnotherDraftIsNotHandedBack(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	old := f.connect(t, f.create(t))
	_, run, _, err := f.svc.StartVerification(ctx, f.owner, old.ID, old.Version)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.runs.BeginRun(ctx, run.ID, 1); err != nil {
		t.Fatal(err)
	}
	old = f.get(t, old.ID)
	if _, err := f.svc.Cancel(ctx, f.owner, old.ID, old.Version); err != nil {
		t.Fatal(err)
	}
	nd, resumed, err := f.svc.Create(ctx, f.owner, onboarding.CreateInput{TenantID: old.TenantID, DisplayName: "Contoso", PrimaryDomain: "contoso.healthy.test"})
	if err != nil || resumed {
		t.Fatalf("Create after cancel = resumed %v, %v", resumed, err)
	}
	nd = f.connect(t, nd)
	before := f.dbState(t, nd.ID)
	_, got, _, err := f.svc.StartVerification(ctx, f.owner, nd.ID, nd.Version)
	wantBlocked(t, err, onboarding.ReasonRunActiveElsewhere)
	if got.ID != "" {
		t.Errorf("handed run %s of the cancelled draft", got.ID)
	}
	if after := f.dbState(t, nd.ID); after != before {
		t.Errorf("a refused start changed the database:\n%s\n→\n%s", before, after)
	}
}

// TestSnapshotCarriesLatestRunPerType: a draft with more runs than a snapshot's page still
// shows the latest run of every type, so readiness computed from a snapshot is the stored
// one (a bootstrap run older than 20 verification runs used to fall out of the snapshot).
func TestSnapshotCarriesLatestRunPerType(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	d := f.connect(t, f.create(t))
	_, err := f.store.Pool.Exec(ctx, `INSERT INTO operation_runs (workspace_id, tenant_id, draft_id, type, status, outcome, created_at, completed_at)
		SELECT workspace_id, tenant_id, id, 'bootstrap.inventory_sync', 'completed', 'succeeded', now() - interval '1 hour', now() - interval '1 hour'
		FROM managed_tenant_onboarding_sessions WHERE id = $1`, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.store.Pool.Exec(ctx, `INSERT INTO operation_runs (workspace_id, tenant_id, draft_id, type, status, outcome, created_at, completed_at)
		SELECT workspace_id, tenant_id, id, 'verify_access', 'completed', 'failed', now() - make_interval(secs => g), now() - make_interval(secs => g)
		FROM managed_tenant_onboarding_sessions, generate_series(1, $2::int) g WHERE id = $1`, d.ID, postgres.SnapshotRuns+5)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := f.store.DraftSnapshot(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	for _, r := range snap.Runs {
		types[string(r.Type)]++
	}
	if types["bootstrap.inventory_sync"] != 1 || types["verify_access"] != postgres.SnapshotRuns {
		t.Errorf("snapshot runs by type = %v, want the %d newest and the latest bootstrap run", types, postgres.SnapshotRuns)
	}
}

// TestEndNotices: activation (with an override) and cancellation notify everyone who worked
// on the draft — an edit or a run they started — but not the member who did it.
func TestEndNotices(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	kinds := func(userID int64) map[string]string {
		ns, err := f.store.Notifications(ctx, userID, 50)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, n := range ns {
			out[n.Kind] = n.Title
		}
		return out
	}
	// The operator renames a draft the owner created; its verification fails with missing
	// permissions; the owner activates with an override.
	d := f.connect(t, f.create(t))
	name := "Contoso Holdings"
	d, err := f.svc.Update(ctx, f.operator, d.ID, d.Version, onboarding.Patch{DisplayName: &name})
	if err != nil {
		t.Fatal(err)
	}
	_, run, _, err := f.svc.StartVerification(ctx, f.owner, d.ID, d.Version)
	if err != nil {
		t.Fatal(err)
	}
	f.runToEnd(t, run.ID, "failed", "missing_permissions")
	d = f.get(t, d.ID)
	if _, err := f.svc.Activate(ctx, f.owner, d.ID, d.Version, "Customer confirmed"); err != nil {
		t.Fatal(err)
	}
	if got := kinds(f.operator.User.ID)[onboarding.NotificationActivated]; got != "Contoso Holdings activated with an override" {
		t.Errorf("operator's activation notice = %q", got)
	}
	if _, ok := kinds(f.owner.User.ID)[onboarding.NotificationActivated]; ok {
		t.Error("the owner was notified of their own activation")
	}
	if _, ok := kinds(f.viewer.User.ID)[onboarding.NotificationActivated]; ok {
		t.Error("the viewer, who never worked on it, was notified")
	}

	c := f.create(t)
	c, err = f.svc.Update(ctx, f.operator, c.ID, c.Version, onboarding.Patch{DisplayName: &name})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Cancel(ctx, f.owner, c.ID, c.Version); err != nil {
		t.Fatal(err)
	}
	if got := kinds(f.operator.User.ID)[onboarding.NotificationCancelled]; got != "Onboarding of Contoso Holdings cancelled" {
		t.Errorf("operator's cancellation notice = %q", got)
	}
}

// TestOneNoticePerBootstrap: a bootstrap of two operations notifies its initiator once,
// when the last operation finishes, with the worst outcome.
func TestOneNoticePerBootstrap(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	d := f.verified(t, "succeeded", "")
	_, runs, err := f.svc.StartBootstrap(ctx, f.owner, d.ID, d.Version, []string{"inventory_sync", "policy_sync"})
	if err != nil || len(runs) != 2 {
		t.Fatalf("StartBootstrap = %d runs, %v", len(runs), err)
	}
	bootstrapNotices := func() []string {
		ns, err := f.store.Notifications(ctx, f.owner.User.ID, 50)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, n := range ns {
			if n.Payload["type"] != "verify_access" {
				out = append(out, n.Title)
			}
		}
		return out
	}
	f.runToEnd(t, runs[0].ID, "succeeded", "")
	if got := bootstrapNotices(); len(got) != 0 {
		t.Fatalf("notices after the first operation = %v, want none yet", got)
	}
	f.runToEnd(t, runs[1].ID, "partially_succeeded", "")
	if got := bootstrapNotices(); len(got) != 1 || got[0] != "Bootstrap of 2 operations finished: partially succeeded" {
		t.Fatalf("notices after both = %v, want one for the bootstrap", got)
	}
}
