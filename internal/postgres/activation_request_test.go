package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/operation"
)

// TestRequestActivation: one open request per draft, refused per role and state, closed when
// the draft leaves ready_for_activation and possible again once it is back.
func TestRequestActivation(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	d := f.verified(t, operation.OutcomeSucceeded, "")
	if d.Lifecycle != onboarding.LifecycleReadyForActivation {
		t.Fatalf("lifecycle = %s, want ready", d.Lifecycle)
	}

	t.Run("Refused", func(t *testing.T) {
		_, err := f.svc.RequestActivation(ctx, f.globex, d.ID, d.Version)
		wantErr(t, err, fault.ErrNotFound)
		_, err = f.svc.RequestActivation(ctx, f.owner, d.ID, d.Version)
		wantErr(t, err, fault.ErrForbidden)
		_, err = f.svc.RequestActivation(ctx, f.viewer, d.ID, d.Version)
		wantErr(t, err, fault.ErrForbidden)
		_, err = f.svc.RequestActivation(ctx, f.operator, d.ID, d.Version-1)
		var ce *onboarding.ConflictError
		if !errors.As(err, &ce) {
			t.Fatalf("stale version: err = %v, want a conflict", err)
		}
	})

	var requested onboarding.Draft
	t.Run("OK", func(t *testing.T) {
		var err error
		requested, err = f.svc.RequestActivation(ctx, f.operator, d.ID, d.Version)
		if err != nil {
			t.Fatal(err)
		}
		if requested.ActivationRequestedBy != "operator@acme.test" || requested.ActivationRequestedAt.IsZero() {
			t.Errorf("request = %q at %v", requested.ActivationRequestedBy, requested.ActivationRequestedAt)
		}
		if requested.Version != d.Version || requested.Rev <= d.Rev {
			t.Errorf("version %d → %d, rev %d → %d: want the version unmoved and the rev grown", d.Version, requested.Version, d.Rev, requested.Rev)
		}
		var owners, audits int
		if err := f.store.Pool.QueryRow(ctx, `SELECT
				(SELECT count(*) FROM user_notifications WHERE kind = $2 AND draft_id = $1::uuid AND user_id = $3),
				(SELECT count(*) FROM workspace_audit_log WHERE action = $4 AND subject_id = $1::text)`,
			d.ID, onboarding.NotificationActivationRequested, f.owner.User.ID, onboarding.ActionActivationRequested).Scan(&owners, &audits); err != nil {
			t.Fatal(err)
		}
		if owners != 1 || audits != 1 {
			t.Errorf("owner notifications %d, audit entries %d; want 1 and 1", owners, audits)
		}
	})

	t.Run("Duplicate", func(t *testing.T) {
		_, err := f.svc.RequestActivation(ctx, f.operator, d.ID, requested.Version)
		wantBlocked(t, err, onboarding.ReasonActivationAlreadyRequested)
	})

	t.Run("ClosedWhenNotReady", func(t *testing.T) {
		// Verifying again takes the draft out of ready_for_activation: the request closes.
		v, run, _, err := f.svc.StartVerification(ctx, f.owner, d.ID, requested.Version)
		if err != nil {
			t.Fatal(err)
		}
		if !v.ActivationRequestedAt.IsZero() || !f.get(t, d.ID).ActivationRequestedAt.IsZero() {
			t.Fatalf("the request is still open on a %s draft", v.Lifecycle)
		}
		_, err = f.svc.RequestActivation(ctx, f.operator, d.ID, v.Version)
		wantBlocked(t, err, onboarding.ReasonNotReadyForActivation)
		f.runToEnd(t, run.ID, operation.OutcomeSucceeded, "")
		again := f.get(t, d.ID)
		if _, err := f.svc.RequestActivation(ctx, f.operator, d.ID, again.Version); err != nil {
			t.Fatalf("a new request once ready again: %v", err)
		}
	})
}

// TestDashboard: the one query's numbers, the open requests, the present drafts' names (of
// this workspace only) and the checkpoint filter of the drafts list selecting the same set.
func TestDashboard(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	ready := f.verified(t, operation.OutcomeSucceeded, "")
	f.verified(t, operation.OutcomeFailed, "missing_permissions") // blocked: action required
	fresh := f.create(t)
	cancelled := f.create(t)
	if _, err := f.svc.Cancel(ctx, f.owner, cancelled.ID, cancelled.Version); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.RequestActivation(ctx, f.operator, ready.ID, ready.Version); err != nil {
		t.Fatal(err)
	}
	other, _, err := f.svc.Create(ctx, f.globex, onboarding.CreateInput{TenantID: newTenantID(), DisplayName: "Elsewhere", PrimaryDomain: "elsewhere.healthy.test"})
	if err != nil {
		t.Fatal(err)
	}

	d, names, err := f.store.DB.Dashboard(ctx, f.owner.WorkspaceID, f.clock.Now().Add(-24*time.Hour), []string{fresh.ID, other.ID, "not-a-uuid"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Workspace != "acme" || d.Rev == 0 {
		t.Errorf("workspace %q, rev %d", d.Workspace, d.Rev)
	}
	wantCounts := func(what string, got map[string]int, want map[string]int) {
		t.Helper()
		for k, n := range want {
			if got[k] != n {
				t.Errorf("%s[%s] = %d, want %d (all: %v)", what, k, got[k], n, got)
			}
		}
	}
	wantCounts("lifecycle", d.Lifecycle, map[string]int{"ready_for_activation": 1, "action_required": 1, "cancelled": 1})
	wantCounts("runs", d.Runs, map[string]int{"succeeded": 1, "failed": 1})
	if len(d.Requested) != 1 || d.Requested[0].ID != ready.ID || d.Requested[0].By != "operator@acme.test" {
		t.Errorf("requested = %+v", d.Requested)
	}
	if len(names) != 1 || names[fresh.ID] != "Contoso" {
		t.Errorf("present names = %v, want only acme's draft", names)
	}
	total := 0
	for _, c := range onboarding.Checkpoints {
		page, err := f.store.DraftPage(ctx, f.owner.WorkspaceID, onboarding.DraftFilter{Checkpoint: string(c), ListPage: onboarding.ListPage{Limit: 500}})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != d.Checkpoint[string(c)] {
			t.Errorf("checkpoint %s: the list has %d drafts, the dashboard %d", c, len(page), d.Checkpoint[string(c)])
		}
		total += len(page)
	}
	if total != 3 { // ready, blocked, fresh: the cancelled draft is not open
		t.Errorf("open drafts by checkpoint = %d, want 3", total)
	}
}
