package onboarding

import (
	"testing"

	"github.com/tenantops/onboard/internal/operation"
)

// TestSnapshot: the rev is the newest of the draft's and its runs'; the facts hold the latest
// run of each type only, whatever older runs the snapshot also carries.
func TestSnapshot(t *testing.T) {
	t.Parallel()
	inventory := operation.Type("bootstrap.inventory_sync")
	s := Snapshot{
		Draft: Draft{ID: "d1", Rev: 7, BootstrapOperations: []string{"inventory_sync"}},
		Runs: []operation.Run{ // newest first
			{ID: "v2", Type: operation.TypeVerifyAccess, Status: operation.StatusCompleted, Outcome: operation.OutcomeSucceeded, Rev: 9,
				Context: map[string]any{"connection_id": "c1"}},
			{ID: "i1", Type: inventory, Status: operation.StatusRunning, Rev: 5},
			{ID: "v1", Type: operation.TypeVerifyAccess, Status: operation.StatusCompleted, Outcome: operation.OutcomeFailed, ReasonCode: "missing_permissions", Rev: 12},
		},
		Conn: &ConnectionInfo{ID: "c1", Status: ConnectionVerified},
	}
	if got := s.Rev(); got != 12 {
		t.Errorf("Rev = %d, want 12 (an older run's newer rev still counts)", got)
	}
	f := s.Facts()
	if f.Verification == nil || f.Verification.ID != "v2" || f.Verification.ConnectionID != "c1" {
		t.Errorf("verification fact = %+v, want the latest run v2 of connection c1", f.Verification)
	}
	if len(f.Bootstrap) != 1 || f.Bootstrap[0].ID != "i1" {
		t.Errorf("bootstrap facts = %+v, want i1", f.Bootstrap)
	}
	if f.Connection == nil || f.Connection.Status != ConnectionVerified {
		t.Errorf("connection fact = %+v", f.Connection)
	}
	if got := (Snapshot{Draft: Draft{Rev: 3}}).Facts(); got.Verification != nil || got.Connection != nil || len(got.Bootstrap) != 0 {
		t.Errorf("facts of a bare draft = %+v, want none", got)
	}
}
