package onboarding

import (
	"testing"

	"github.com/tenantops/onboard/internal/operation"
)

func TestCompletionNotification(t *testing.T) {
	t.Parallel()
	const draftID, runID = "6f1c2a4e-0000-4000-8000-000000000001", "6f1c2a4e-0000-4000-8000-000000000002"
	for _, tc := range []struct {
		name      string
		run       operation.Run
		message   string
		wantTitle string
		wantBody  string
	}{
		{"VerifySucceeded", operation.Run{Type: operation.TypeVerifyAccess, Outcome: operation.OutcomeSucceeded}, "all checks passed",
			"Verification succeeded", "all checks passed"},
		{"VerifyFailed", operation.Run{Type: operation.TypeVerifyAccess, Outcome: operation.OutcomeFailed, ReasonCode: "missing_permissions"}, "",
			"Verification needs action", "missing_permissions"},
		{"Bootstrap", operation.Run{Type: "bootstrap.inventory_sync", Outcome: operation.OutcomePartiallySucceeded}, "",
			"Bootstrap inventory_sync finished: partially_succeeded", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := tc.run
			r.ID, r.DraftID, r.WorkspaceID, r.InitiatorID = runID, draftID, 7, 9
			n := completionNotification(r, tc.message)
			if n.Title != tc.wantTitle || n.Body != tc.wantBody {
				t.Errorf("title, body = %q, %q; want %q, %q", n.Title, n.Body, tc.wantTitle, tc.wantBody)
			}
			if n.DraftID != draftID || n.RunID != runID || n.WorkspaceID != 7 || n.UserID != 9 || n.Kind != NotificationRunCompleted {
				t.Errorf("notification = %+v; want ids of the run, its draft, workspace and initiator", n)
			}
		})
	}
}

func TestVerifiedConnection(t *testing.T) {
	t.Parallel()
	const conn = "6f1c2a4e-0000-4000-8000-000000000003"
	ctx := map[string]any{"connection_id": conn}
	for _, tc := range []struct {
		name string
		run  operation.Run
		want ConnectionStatus
	}{
		{"Succeeded", operation.Run{Type: operation.TypeVerifyAccess, Outcome: operation.OutcomeSucceeded, Context: ctx}, ConnectionVerified},
		{"Failed", operation.Run{Type: operation.TypeVerifyAccess, Outcome: operation.OutcomeFailed, Context: ctx}, ConnectionFailed},
		{"Cancelled", operation.Run{Type: operation.TypeVerifyAccess, Outcome: operation.OutcomeCancelled, Context: ctx}, ""},
		{"Bootstrap", operation.Run{Type: "bootstrap.inventory_sync", Outcome: operation.OutcomeSucceeded, Context: ctx}, ""},
		{"NoConnection", operation.Run{Type: operation.TypeVerifyAccess, Outcome: operation.OutcomeSucceeded}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			id, got := verifiedConnection(tc.run)
			if got != tc.want || (got != "" && id != conn) {
				t.Errorf("verifiedConnection = %q, %q; want %q", id, got, tc.want)
			}
		})
	}
}
