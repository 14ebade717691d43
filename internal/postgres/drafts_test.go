package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/operation"
)

func ptr[T any](v T) *T { return &v }

func TestCreate(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	tenant := newTenantID()
	in := onboarding.CreateInput{TenantID: strings.ToUpper(tenant), DisplayName: " Contoso ", PrimaryDomain: "Contoso.Healthy.Test."}

	d, resumed, err := f.svc.Create(ctx, f.operator, in)
	if err != nil || resumed {
		t.Fatalf("Create = resumed %v, %v; want created", resumed, err)
	}
	if d.TenantID != tenant || d.DisplayName != "Contoso" || d.PrimaryDomain != "contoso.healthy.test" {
		t.Errorf("identify = %q %q %q, want normalised", d.TenantID, d.DisplayName, d.PrimaryDomain)
	}
	if d.Version != 1 || d.Lifecycle != onboarding.LifecycleDraft || d.CurrentCheckpoint != onboarding.CheckpointConnectProvider ||
		d.ReasonCode != onboarding.ReasonProviderConnectionMissing || d.CurrentStep != 2 {
		t.Errorf("new draft = v%d %s/%s/%s step %d; want v1 draft/connect_provider/provider_connection_missing step 2",
			d.Version, d.Lifecycle, d.CurrentCheckpoint, d.ReasonCode, d.CurrentStep)
	}
	if d.Workspace != "acme" || d.CreatedBy != "operator@acme.test" || d.UpdatedBy != "operator@acme.test" {
		t.Errorf("workspace/created_by/updated_by = %q %q %q", d.Workspace, d.CreatedBy, d.UpdatedBy)
	}

	t.Run("Resumed", func(t *testing.T) {
		again, resumed, err := f.svc.Create(ctx, f.owner, onboarding.CreateInput{TenantID: tenant, DisplayName: "Other", PrimaryDomain: "other.test"})
		if err != nil || !resumed || again.ID != d.ID || again.Version != d.Version || again.DisplayName != "Contoso" {
			t.Errorf("Create again = %s v%d %q resumed %v, %v; want the open draft %s v%d unchanged",
				again.ID, again.Version, again.DisplayName, resumed, err, d.ID, d.Version)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		_, _, err := f.svc.Create(ctx, f.owner, onboarding.CreateInput{TenantID: "nope", DisplayName: "", PrimaryDomain: "x"})
		var ve *onboarding.ValidationError
		if !errors.As(err, &ve) || len(ve.Fields) != 3 {
			t.Fatalf("err = %v, want a ValidationError naming 3 fields", err)
		}
	})
	t.Run("ErrForbidden", func(t *testing.T) {
		_, _, err := f.svc.Create(ctx, f.viewer, in)
		wantErr(t, err, fault.ErrForbidden)
	})
	t.Run("AfterCancelCreatesNew", func(t *testing.T) {
		d2 := f.create(t)
		if _, err := f.svc.Cancel(ctx, f.owner, d2.ID, d2.Version); err != nil {
			t.Fatal(err)
		}
		d3, resumed, err := f.svc.Create(ctx, f.owner, onboarding.CreateInput{TenantID: d2.TenantID, DisplayName: "Again", PrimaryDomain: "again.test"})
		if err != nil || resumed || d3.ID == d2.ID {
			t.Errorf("Create after cancel = %s resumed %v, %v; want a new draft", d3.ID, resumed, err)
		}
	})
	t.Run("ConcurrentCreatesOneDraft", func(t *testing.T) {
		tenant := newTenantID()
		ids := make(chan string, 10)
		start := make(chan struct{})
		errs := make(chan error, 10)
		for range 10 {
			go func() {
				<-start
				d, _, err := f.svc.Create(ctx, f.owner, onboarding.CreateInput{TenantID: tenant, DisplayName: "Race", PrimaryDomain: "race.test"})
				errs <- err
				ids <- d.ID
			}()
		}
		close(start)
		seen := map[string]bool{}
		for range 10 {
			if err := <-errs; err != nil {
				t.Fatalf("Create: %v", err)
			}
			seen[<-ids] = true
		}
		if len(seen) != 1 {
			t.Errorf("concurrent creates gave %d drafts, want 1", len(seen))
		}
	})
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) { updateOK(t, ctx, f) })
	t.Run("NoChangeKeepsVersion", func(t *testing.T) { updateNoChangeKeepsVersion(t, ctx, f) })
	t.Run("ErrInvalid", func(t *testing.T) { updateErrInvalid(t, ctx, f) })
	t.Run("StepNotReachable", func(t *testing.T) { updateStepNotReachable(t, ctx, f) })
	t.Run("StepWithConnectionInOnePatch", func(t *testing.T) { updateStepWithConnectionInOnePatch(t, ctx, f) })
	t.Run("NewConnectionOutdatesVerification", func(t *testing.T) { updateNewConnectionOutdatesVerification(t, ctx, f) })
	t.Run("ClosedDraft", func(t *testing.T) { updateClosedDraft(t, ctx, f) })
}

func updateOK(t *testing.T, ctx context.Context, f *fixture) {
	d := f.create(t)
	got, err := f.svc.Update(ctx, f.operator, d.ID, d.Version, onboarding.Patch{
		DisplayName: ptr("Contoso Ltd"), PrimaryDomain: ptr("contoso.com"),
		BootstrapOperations: &[]string{"inventory_sync"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != d.Version+1 || got.DisplayName != "Contoso Ltd" || got.PrimaryDomain != "contoso.com" ||
		len(got.BootstrapOperations) != 1 || got.UpdatedBy != "operator@acme.test" {
		t.Errorf("updated = v%d %q %q %v by %s", got.Version, got.DisplayName, got.PrimaryDomain, got.BootstrapOperations, got.UpdatedBy)
	}
	var action, meta string
	if err := f.store.Pool.QueryRow(ctx, `SELECT action, metadata::text FROM workspace_audit_log
		WHERE subject_id = $1 ORDER BY id DESC LIMIT 1`, d.ID).Scan(&action, &meta); err != nil {
		t.Fatal(err)
	}
	if action != onboarding.ActionDraftUpdated || !strings.Contains(meta, "display_name") || !strings.Contains(meta, `"before"`) {
		t.Errorf("audit = %s %s", action, meta)
	}
}

func updateNoChangeKeepsVersion(t *testing.T, ctx context.Context, f *fixture) {
	d := f.create(t)
	got, err := f.svc.Update(ctx, f.owner, d.ID, d.Version, onboarding.Patch{DisplayName: ptr(d.DisplayName)})
	if err != nil || got.Version != d.Version {
		t.Errorf("no-op patch = v%d, %v; want v%d", got.Version, err, d.Version)
	}
}

func updateErrInvalid(t *testing.T, ctx context.Context, f *fixture) {
	d := f.create(t)
	before := f.dbState(t, d.ID)
	_, err := f.svc.Update(ctx, f.owner, d.ID, d.Version, onboarding.Patch{
		DisplayName: ptr(" "), PrimaryDomain: ptr("bad domain"), CurrentStep: ptr(9),
		BootstrapOperations: &[]string{"nope"},
		Connection:          &onboarding.ConnectionInput{ClientID: "x", ClientSecret: strings.Repeat("s", 1025)}})
	var ve *onboarding.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want ValidationError", err)
	}
	for _, field := range []string{"display_name", "primary_domain", "current_step", "bootstrap_operations",
		"provider_connection.client_id", "provider_connection.client_secret"} {
		if ve.Fields[field] == "" {
			t.Errorf("ValidationError lacks %s: %v", field, ve)
		}
	}
	if after := f.dbState(t, d.ID); after != before {
		t.Errorf("invalid patch changed the database:\n%s\n---\n%s", before, after)
	}
}

func updateStepNotReachable(t *testing.T, ctx context.Context, f *fixture) {
	d := f.create(t)
	_, err := f.svc.Update(ctx, f.owner, d.ID, d.Version, onboarding.Patch{CurrentStep: ptr(4)})
	var ve *onboarding.ValidationError
	if !errors.As(err, &ve) || !strings.Contains(ve.Fields["current_step"], "not reachable") {
		t.Fatalf("err = %v, want current_step not reachable", err)
	}
}

func updateStepWithConnectionInOnePatch(t *testing.T, ctx context.Context, f *fixture) {
	d := f.create(t)
	got, err := f.svc.Update(ctx, f.owner, d.ID, d.Version, onboarding.Patch{CurrentStep: ptr(3),
		Connection: &onboarding.ConnectionInput{ClientID: testClientID, ClientSecret: testSecret}})
	if err != nil || got.CurrentStep != 3 || got.ReasonCode != onboarding.ReasonVerificationNotStarted {
		t.Errorf("patch = step %d %s, %v; want step 3 verification_not_started", got.CurrentStep, got.ReasonCode, err)
	}
	back, err := f.svc.Update(ctx, f.owner, d.ID, got.Version, onboarding.Patch{CurrentStep: ptr(1)})
	if err != nil || back.CurrentStep != 1 {
		t.Errorf("step back = %d, %v; want 1", back.CurrentStep, err)
	}
}

func updateNewConnectionOutdatesVerification(t *testing.T, ctx context.Context, f *fixture) {
	d := f.verified(t, operation.OutcomeSucceeded, "")
	if d.ReasonCode != onboarding.ReasonBootstrapSkipped {
		t.Fatalf("verified draft reason = %s", d.ReasonCode)
	}
	got := f.connect(t, d)
	if got.ReasonCode != onboarding.ReasonVerificationOutdated || got.Lifecycle != onboarding.LifecycleDraft {
		t.Errorf("after new connection = %s/%s, want draft/verification_outdated", got.Lifecycle, got.ReasonCode)
	}
	info, err := f.svc.Connection(ctx, f.viewer, d.ID)
	if err != nil || info == nil || info.ID != got.ProviderConnectionID || info.ClientID != testClientID ||
		info.Status != onboarding.ConnectionUnverified {
		t.Errorf("Connection = %+v, %v", info, err)
	}
}

func updateClosedDraft(t *testing.T, ctx context.Context, f *fixture) {
	d := f.create(t)
	d, err := f.svc.Cancel(ctx, f.owner, d.ID, d.Version)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Update(ctx, f.owner, d.ID, d.Version, onboarding.Patch{DisplayName: ptr("New")})
	wantBlocked(t, err, onboarding.ReasonDraftClosed)
	got, err := f.svc.Update(ctx, f.owner, d.ID, d.Version, onboarding.Patch{CurrentStep: ptr(5)})
	if err != nil || got.CurrentStep != 5 {
		t.Errorf("navigate closed draft = %d, %v; want step 5", got.CurrentStep, err)
	}
}

func TestStartVerification(t *testing.T) {
	t.Parallel()
	f := setup(t, setupOptions{enqueue: true})
	ctx := context.Background()

	t.Run("NoConnection", func(t *testing.T) {
		d := f.create(t)
		before := f.dbState(t, d.ID)
		_, _, _, err := f.svc.StartVerification(ctx, f.operator, d.ID, d.Version)
		wantBlocked(t, err, onboarding.ReasonProviderConnectionMissing)
		if after := f.dbState(t, d.ID); after != before {
			t.Errorf("refused start changed the database")
		}
	})
	t.Run("OKAndDedupe", func(t *testing.T) {
		d := f.connect(t, f.create(t))
		got, run, created, err := f.svc.StartVerification(ctx, f.operator, d.ID, d.Version)
		if err != nil || !created {
			t.Fatalf("StartVerification = created %v, %v", created, err)
		}
		if got.Version != d.Version+1 || got.Lifecycle != onboarding.LifecycleVerifying {
			t.Errorf("draft = v%d %s, want v%d verifying", got.Version, got.Lifecycle, d.Version+1)
		}
		if run.Status != operation.StatusQueued || run.Type != operation.TypeVerifyAccess ||
			run.InitiatorEmail != "operator@acme.test" || run.Context["connection_id"] != d.ProviderConnectionID {
			t.Errorf("run = %+v", run)
		}
		if id := <-f.enqueued; id != run.ID {
			t.Errorf("enqueued %s, want %s", id, run.ID)
		}
		var jobID *int64
		if err := f.store.Pool.QueryRow(ctx, `SELECT job_id FROM operation_runs WHERE id = $1`, run.ID).Scan(&jobID); err != nil || jobID == nil {
			t.Errorf("job_id = %v, %v; want recorded", jobID, err)
		}

		again, run2, created, err := f.svc.StartVerification(ctx, f.owner, d.ID, got.Version)
		if err != nil || created || run2.ID != run.ID || again.Version != got.Version {
			t.Errorf("second start = run %s created %v v%d, %v; want run %s, not created, v%d",
				run2.ID, created, again.Version, err, run.ID, got.Version)
		}
		_, _, _, err = f.svc.StartVerification(ctx, f.owner, d.ID, d.Version)
		wantErr(t, err, fault.ErrConflict)
	})
}

func TestStartBootstrap(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()

	t.Run("VerificationRequired", func(t *testing.T) {
		d := f.connect(t, f.create(t))
		_, _, err := f.svc.StartBootstrap(ctx, f.owner, d.ID, d.Version, []string{"inventory_sync"})
		wantBlocked(t, err, onboarding.ReasonCode(operation.ReasonVerificationRequired))
	})
	t.Run("OKDedupeAndFinish", func(t *testing.T) {
		d := f.verified(t, operation.OutcomeSucceeded, "")
		got, runs, err := f.svc.StartBootstrap(ctx, f.operator, d.ID, d.Version, []string{"inventory_sync", "policy_sync"})
		if err != nil || len(runs) != 2 {
			t.Fatalf("StartBootstrap = %d runs, %v", len(runs), err)
		}
		if got.Lifecycle != onboarding.LifecycleBootstrapping || len(got.BootstrapOperations) != 2 {
			t.Errorf("draft = %s %v, want bootstrapping with the selection", got.Lifecycle, got.BootstrapOperations)
		}
		again, runs2, err := f.svc.StartBootstrap(ctx, f.operator, d.ID, got.Version, []string{"policy_sync"})
		if err != nil || len(runs2) != 1 || runs2[0].ID != runs[1].ID || again.Version != got.Version {
			t.Errorf("dedupe = %v v%d, %v; want run %s and v%d", runs2, again.Version, err, runs[1].ID, got.Version)
		}
		f.runToEnd(t, runs[0].ID, operation.OutcomeSucceeded, "")
		f.runToEnd(t, runs[1].ID, operation.OutcomePartiallySucceeded, "")
		end := f.get(t, d.ID)
		if end.Lifecycle != onboarding.LifecycleReadyForActivation || end.BlockingReasonCode != onboarding.ReasonBootstrapIncomplete {
			t.Errorf("after runs = %s/%s, want ready_for_activation/bootstrap_incomplete", end.Lifecycle, end.BlockingReasonCode)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		d := f.verified(t, operation.OutcomeSucceeded, "")
		_, _, err := f.svc.StartBootstrap(ctx, f.owner, d.ID, d.Version, nil)
		wantErr(t, err, fault.ErrInvalid)
		_, _, err = f.svc.StartBootstrap(ctx, f.owner, d.ID, d.Version, []string{"rm_rf"})
		wantErr(t, err, fault.ErrInvalid)
	})
}

func TestActivate(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		d := f.verified(t, operation.OutcomeSucceeded, "")
		got, err := f.svc.Activate(ctx, f.owner, d.ID, d.Version, "")
		if err != nil || got.Lifecycle != onboarding.LifecycleCompleted || got.ReasonCode != onboarding.ReasonOnboardingCompleted ||
			got.CompletedAt.IsZero() || got.OverrideReason != "" {
			t.Fatalf("Activate = %s/%s completed %v override %q, %v", got.Lifecycle, got.ReasonCode, got.CompletedAt, got.OverrideReason, err)
		}
		var status string
		if err := f.store.Pool.QueryRow(ctx, `SELECT status FROM tenants WHERE tenant_id = $1`, d.TenantID).Scan(&status); err != nil || status != "active" {
			t.Errorf("tenant status = %q, %v; want active", status, err)
		}
		_, err = f.svc.Activate(ctx, f.owner, d.ID, got.Version, "")
		wantBlocked(t, err, onboarding.ReasonOnboardingCompleted)
	})
	t.Run("UnneededOverrideNotRecorded", func(t *testing.T) {
		d := f.verified(t, operation.OutcomeSucceeded, "")
		got, err := f.svc.Activate(ctx, f.owner, d.ID, d.Version, "just because")
		if err != nil || got.OverrideReason != "" || got.ReasonCode != onboarding.ReasonOnboardingCompleted {
			t.Errorf("Activate = override %q %s, %v; want no override recorded", got.OverrideReason, got.ReasonCode, err)
		}
	})
	t.Run("Blocked", func(t *testing.T) {
		d := f.verified(t, operation.OutcomeFailed, "missing_permissions")
		_, err := f.svc.Activate(ctx, f.owner, d.ID, d.Version, "")
		wantBlocked(t, err, onboarding.ReasonMissingPermissions)
		_, err = f.svc.Activate(ctx, f.owner, d.ID, d.Version, strings.Repeat("r", 501))
		wantErr(t, err, fault.ErrInvalid)
		_, err = f.svc.Activate(ctx, f.owner, d.ID, d.Version, "   ")
		wantErr(t, err, fault.ErrInvalid)
	})
	t.Run("NotOverridable", func(t *testing.T) {
		d := f.verified(t, operation.OutcomeFailed, "provider_unreachable")
		_, err := f.svc.Activate(ctx, f.owner, d.ID, d.Version, "accept it")
		wantBlocked(t, err, onboarding.ReasonProviderUnreachable)
	})
	t.Run("Override", func(t *testing.T) {
		d := f.verified(t, operation.OutcomeFailed, "missing_permissions")
		got, err := f.svc.Activate(ctx, f.owner, d.ID, d.Version, "  customer accepted the risk ")
		if err != nil || got.ReasonCode != onboarding.ReasonActivatedWithOverride || got.OverrideReason != "customer accepted the risk" {
			t.Fatalf("override = %s %q, %v", got.ReasonCode, got.OverrideReason, err)
		}
		var by int64
		var meta string
		if err := f.store.Pool.QueryRow(ctx, `SELECT s.overridden_by, a.metadata::text FROM managed_tenant_onboarding_sessions s
			JOIN workspace_audit_log a ON a.subject_id = s.id::text AND a.action = 'onboarding.activation.overridden'
			WHERE s.id = $1`, d.ID).Scan(&by, &meta); err != nil {
			t.Fatal(err)
		}
		if by != f.owner.User.ID || !strings.Contains(meta, "customer accepted the risk") || !strings.Contains(meta, "missing_permissions") {
			t.Errorf("overridden_by %d, audit %s", by, meta)
		}
	})
}

func TestCancel(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	d := f.connect(t, f.create(t))
	d, run, _, err := f.svc.StartVerification(ctx, f.owner, d.ID, d.Version)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.Cancel(ctx, f.owner, d.ID, d.Version)
	if err != nil || got.Lifecycle != onboarding.LifecycleCancelled || got.CancelledAt.IsZero() {
		t.Fatalf("Cancel = %s, %v", got.Lifecycle, err)
	}
	r, err := f.svc.Run(ctx, f.viewer, run.ID)
	if err != nil || r.Status != operation.StatusCompleted || r.Outcome != operation.OutcomeCancelled {
		t.Errorf("queued run after cancel = %s/%s, %v; want completed/cancelled", r.Status, r.Outcome, err)
	}
	_, _, err = f.runs.BeginRun(ctx, run.ID, 1)
	wantErr(t, err, operation.ErrRunFinished)
	_, err = f.svc.Cancel(ctx, f.owner, d.ID, got.Version)
	wantBlocked(t, err, onboarding.ReasonDraftClosed)
}

// TestConflict covers every mutation kind: a stale version yields *ConflictError with the
// current version, who changed the draft and when, and the database is left as it was.
func TestConflict(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	type prep func(t *testing.T) onboarding.Draft
	fresh := func(t *testing.T) onboarding.Draft { return f.create(t) }
	connected := func(t *testing.T) onboarding.Draft { return f.connect(t, f.create(t)) }
	verified := func(t *testing.T) onboarding.Draft { return f.verified(t, operation.OutcomeSucceeded, "") }
	failed := func(t *testing.T) onboarding.Draft {
		return f.verified(t, operation.OutcomeFailed, "missing_permissions")
	}
	tests := []struct {
		name   string
		prep   prep
		mutate func(d onboarding.Draft, v int64) error
	}{
		{"UpdateIdentify", fresh, func(d onboarding.Draft, v int64) error {
			_, err := f.svc.Update(ctx, f.owner, d.ID, v, onboarding.Patch{DisplayName: ptr("Stale")})
			return err
		}},
		{"UpdateConnection", fresh, func(d onboarding.Draft, v int64) error {
			_, err := f.svc.Update(ctx, f.owner, d.ID, v, onboarding.Patch{Connection: &onboarding.ConnectionInput{ClientID: testClientID, ClientSecret: "x"}})
			return err
		}},
		{"UpdateStep", connected, func(d onboarding.Draft, v int64) error {
			_, err := f.svc.Update(ctx, f.owner, d.ID, v, onboarding.Patch{CurrentStep: ptr(1)})
			return err
		}},
		{"UpdateBootstrapSelection", verified, func(d onboarding.Draft, v int64) error {
			_, err := f.svc.Update(ctx, f.owner, d.ID, v, onboarding.Patch{BootstrapOperations: &[]string{"policy_sync"}})
			return err
		}},
		{"StartVerification", connected, func(d onboarding.Draft, v int64) error {
			_, _, _, err := f.svc.StartVerification(ctx, f.owner, d.ID, v)
			return err
		}},
		{"StartBootstrap", verified, func(d onboarding.Draft, v int64) error {
			_, _, err := f.svc.StartBootstrap(ctx, f.owner, d.ID, v, []string{"inventory_sync"})
			return err
		}},
		{"Activate", verified, func(d onboarding.Draft, v int64) error {
			_, err := f.svc.Activate(ctx, f.owner, d.ID, v, "")
			return err
		}},
		{"Override", failed, func(d onboarding.Draft, v int64) error {
			_, err := f.svc.Activate(ctx, f.owner, d.ID, v, "accepted")
			return err
		}},
		{"Cancel", fresh, func(d onboarding.Draft, v int64) error {
			_, err := f.svc.Cancel(ctx, f.owner, d.ID, v)
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := tc.prep(t)
			stale := d.Version
			// Another operator moves the draft on (a change that keeps every action possible).
			moved, err := f.svc.Update(ctx, f.operator, d.ID, d.Version, onboarding.Patch{DisplayName: ptr("Moved on")})
			if err != nil {
				t.Fatal(err)
			}
			before := f.dbState(t, d.ID)
			err = tc.mutate(d, stale)
			var ce *onboarding.ConflictError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *ConflictError", err)
			}
			if ce.CurrentVersion != moved.Version || ce.UpdatedBy != "operator@acme.test" || !ce.UpdatedAt.Equal(moved.UpdatedAt) ||
				ce.Current == nil || ce.Current.DisplayName != "Moved on" {
				t.Errorf("conflict = v%d by %q at %v (current %v); want v%d by operator@acme.test at %v",
					ce.CurrentVersion, ce.UpdatedBy, ce.UpdatedAt, ce.Current != nil, moved.Version, moved.UpdatedAt)
			}
			if after := f.dbState(t, d.ID); after != before {
				t.Errorf("stale %s changed the database:\nbefore %s\nafter  %s", tc.name, before, after)
			}
			// The same call with the current version succeeds.
			if err := tc.mutate(d, moved.Version); err != nil {
				t.Errorf("with the current version: %v", err)
			}
		})
	}
}

// TestPrecedence: 404 before 403 before 412.
func TestPrecedence(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	d := f.verified(t, operation.OutcomeFailed, "missing_permissions")
	wrong := d.Version + 10
	calls := map[string]func(m access.Member, id string) error{
		"Update": func(m access.Member, id string) error {
			_, err := f.svc.Update(ctx, m, id, wrong, onboarding.Patch{DisplayName: ptr("x")})
			return err
		},
		"StartVerification": func(m access.Member, id string) error {
			_, _, _, err := f.svc.StartVerification(ctx, m, id, wrong)
			return err
		},
		"StartBootstrap": func(m access.Member, id string) error {
			_, _, err := f.svc.StartBootstrap(ctx, m, id, wrong, []string{"inventory_sync"})
			return err
		},
		"Activate": func(m access.Member, id string) error {
			_, err := f.svc.Activate(ctx, m, id, wrong, "")
			return err
		},
		"Override": func(m access.Member, id string) error {
			_, err := f.svc.Activate(ctx, m, id, wrong, "reason")
			return err
		},
		"Cancel": func(m access.Member, id string) error {
			_, err := f.svc.Cancel(ctx, m, id, wrong)
			return err
		},
		"Get": func(m access.Member, id string) error {
			_, err := f.svc.Get(ctx, m, id)
			return err
		},
		"Runs": func(m access.Member, id string) error {
			_, err := f.svc.Runs(ctx, m, id)
			return err
		},
		"Connection": func(m access.Member, id string) error {
			_, err := f.svc.Connection(ctx, m, id)
			return err
		},
	}
	before := f.dbState(t, d.ID)
	for name, call := range calls {
		t.Run(name+"/OtherWorkspace", func(t *testing.T) {
			wantErr(t, call(f.globex, d.ID), fault.ErrNotFound)
		})
		t.Run(name+"/UnknownID", func(t *testing.T) {
			wantErr(t, call(f.owner, "6f1c2a4e-0000-4000-8000-000000000000"), fault.ErrNotFound)
			wantErr(t, call(f.owner, "not-a-uuid"), fault.ErrNotFound)
		})
		if name == "Get" || name == "Runs" || name == "Connection" {
			continue
		}
		t.Run(name+"/ViewerForbidden", func(t *testing.T) {
			wantErr(t, call(f.viewer, d.ID), fault.ErrForbidden)
		})
		t.Run(name+"/OwnerStaleVersion", func(t *testing.T) {
			wantErr(t, call(f.owner, d.ID), fault.ErrConflict)
		})
	}
	t.Run("OperatorActivateForbidden", func(t *testing.T) {
		wantErr(t, calls["Activate"](f.operator, d.ID), fault.ErrForbidden)
		wantErr(t, calls["Cancel"](f.operator, d.ID), fault.ErrForbidden)
		_, err := f.svc.Activate(ctx, f.operator, d.ID, d.Version, "")
		wantErr(t, err, fault.ErrForbidden)
	})
	t.Run("RunOfOtherWorkspace", func(t *testing.T) {
		runs, err := f.svc.Runs(ctx, f.owner, d.ID)
		if err != nil || len(runs) != 1 {
			t.Fatalf("Runs = %d, %v", len(runs), err)
		}
		_, err = f.svc.Run(ctx, f.globex, runs[0].ID)
		wantErr(t, err, fault.ErrNotFound)
		got, err := f.svc.WorkspaceRuns(ctx, f.globex, onboarding.RunFilter{})
		if err != nil || len(got) != 0 {
			t.Errorf("globex WorkspaceRuns = %d, %v; want 0", len(got), err)
		}
	})
	if after := f.dbState(t, d.ID); after != before {
		t.Errorf("refused calls changed the database")
	}
}
