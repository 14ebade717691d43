package presenter

import (
	"testing"
	"time"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/operation"
	"github.com/tenantops/onboard/views"
)

// snapshotOf builds a consistent snapshot: a connected draft, the runs given (newest first)
// and the lifecycle columns evaluated from them, after mut has set the draft's own facts.
func snapshotOf(mut func(*onboarding.Draft), runs ...operation.Run) (onboarding.Draft, []operation.Run, *onboarding.ConnectionInfo) {
	d := onboarding.Draft{ID: "d1", WorkspaceID: 1, Workspace: "acme", TenantID: "0f8fad5b-d9cb-469f-a165-70867728950e",
		DisplayName: "Contoso", PrimaryDomain: "contoso.test", ProviderConnectionID: "c1",
		BootstrapOperations: []string{}, State: map[string]any{}, Version: 3}
	if mut != nil {
		mut(&d)
	}
	conn := &onboarding.ConnectionInfo{ID: "c1", ClientID: "6ba7b810-9dad-41d1-80b4-00c04fd430c8", Status: onboarding.ConnectionVerified}
	facts := onboarding.Snapshot{Draft: d, Runs: runs, Conn: conn}.Facts()
	d.Apply(onboarding.Evaluate(facts))
	return d, runs, conn
}

func run(typ operation.Type, outcome operation.Outcome, reason string) operation.Run {
	r := operation.Run{ID: string(typ) + "-run", Type: typ, Status: operation.StatusCompleted, Outcome: outcome,
		ReasonCode: reason, Context: map[string]any{"connection_id": "c1"}, CreatedAt: time.Unix(100, 0)}
	if outcome == "" {
		r.Status = operation.StatusRunning
	}
	return r
}

var (
	verifyOK     = run(operation.TypeVerifyAccess, operation.OutcomeSucceeded, "")
	verifyDenied = run(operation.TypeVerifyAccess, operation.OutcomeFailed, "missing_permissions")
	inventory    = operation.Type("bootstrap.inventory_sync")
)

// TestStepStates: the stepper tells the truth after skip, override, partial bootstrap and
// cancel, and no "ready" badge stands beside a blocker.
func TestStepStates(t *testing.T) {
	t.Parallel()
	selectInventory := func(d *onboarding.Draft) { d.BootstrapOperations = []string{"inventory_sync"} }
	tests := []struct {
		name  string
		d     func() (onboarding.Draft, []operation.Run, *onboarding.ConnectionInfo)
		want  [5]string
		badge string // data the lifecycle badge must not contradict; "" skips
	}{
		{"VerifiedBootstrapUndecided", func() (onboarding.Draft, []operation.Run, *onboarding.ConnectionInfo) {
			return snapshotOf(nil, verifyOK)
		}, [5]string{"done", "done", "done", "open", "open"}, "Ready for activation"},
		{"BootstrapSkippedByOperator", func() (onboarding.Draft, []operation.Run, *onboarding.ConnectionInfo) {
			return snapshotOf(func(d *onboarding.Draft) { d.SetBootstrapSkipped(true) }, verifyOK)
		}, [5]string{"done", "done", "done", "skipped", "open"}, ""},
		{"BootstrapRunning", func() (onboarding.Draft, []operation.Run, *onboarding.ConnectionInfo) {
			return snapshotOf(selectInventory, run(inventory, "", ""), verifyOK)
		}, [5]string{"done", "done", "done", "active", "locked"}, ""},
		{"PartialBootstrap", func() (onboarding.Draft, []operation.Run, *onboarding.ConnectionInfo) {
			return snapshotOf(selectInventory, run(inventory, operation.OutcomePartiallySucceeded, ""), verifyOK)
		}, [5]string{"done", "done", "done", "warning", "blocked"}, "Activation blocked"},
		{"VerificationFailed", func() (onboarding.Draft, []operation.Run, *onboarding.ConnectionInfo) {
			return snapshotOf(nil, verifyDenied)
		}, [5]string{"done", "done", "failed", "locked", "locked"}, ""},
		{"CompletedWithOverride", func() (onboarding.Draft, []operation.Run, *onboarding.ConnectionInfo) {
			return snapshotOf(func(d *onboarding.Draft) {
				d.OverrideReason, d.CompletedAt, d.UpdatedAt, d.UpdatedBy = "Customer confirmed", time.Unix(200, 0), time.Unix(200, 0), "owner@acme.test"
			}, verifyDenied)
		}, [5]string{"done", "done", "overridden", "skipped", "done"}, "Completed"},
		{"Cancelled", func() (onboarding.Draft, []operation.Run, *onboarding.ConnectionInfo) {
			return snapshotOf(func(d *onboarding.Draft) { d.CancelledAt = time.Unix(200, 0) }, verifyDenied)
		}, [5]string{"done", "done", "failed", "not_reached", "not_reached"}, "Cancelled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, runs, conn := tc.d()
			cd := CheckpointView(onboarding.Snapshot{Draft: d, Runs: runs, Conn: conn}, access.For(access.RoleOwner), 0)
			if cd.StepStates != tc.want {
				t.Errorf("step states = %v, want %v (lifecycle %s, reason %s, blocking %s)", cd.StepStates, tc.want, d.Lifecycle, d.ReasonCode, d.BlockingReasonCode)
			}
			if tc.badge != "" {
				if got := views.LifecycleBadgeOf(cd).Label; got != tc.badge {
					t.Errorf("lifecycle badge = %q, want %q", got, tc.badge)
				}
			}
		})
	}
}
