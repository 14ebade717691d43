package presenter

import (
	"reflect"
	"testing"

	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/views"
)

const auditDraftID = "0b7e4c2a-5d0c-4a8e-9f1e-2c3d4e5f6a7b"

// TestAuditEntry: an entry in words — its action, its subject with a link, field changes as
// old → new (operations by name), a status change, other facts in words — and metadata of
// an unexpected shape left out, never a panic.
func TestAuditEntry(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		record      onboarding.AuditRecord
		wantLabel   string
		wantSubject string
		wantURL     string
		wantChanges []views.AuditChange
		wantDetails []views.AuditDetail
	}{
		{
			name: "DraftUpdated",
			record: onboarding.AuditRecord{Action: onboarding.ActionDraftUpdated, DraftID: auditDraftID, Tenant: "Acme",
				Metadata: `{"fields":{"display_name":{"old":"A","new":"B"},"bootstrap_operations":{"old":"","new":"inventory_sync"}},` +
					`"before":{"lifecycle_state":"draft"},"after":{"lifecycle_state":"verifying"},"tenant_id":"t-1"}`},
			wantLabel: "Details saved", wantSubject: "Acme", wantURL: views.DraftURL("acme", auditDraftID),
			wantChanges: []views.AuditChange{
				{Label: "Operations", Old: "none", New: views.OperationName("inventory_sync")},
				{Label: "Display name", Old: "A", New: "B"},
				{Label: "Status", Old: views.LifecycleBadge("draft").Label, New: views.LifecycleBadge("verifying").Label},
			},
			wantDetails: []views.AuditDetail{{Label: "Tenant ID", Value: "t-1"}},
		},
		{
			name:      "UnknownActionOddMetadata",
			record:    onboarding.AuditRecord{Action: "custom.thing_done", DraftID: auditDraftID, Metadata: `{"fields":[1],"run_ids":"x","attempt":2}`},
			wantLabel: "Custom thing done", wantSubject: "Unnamed tenant", wantURL: views.DraftURL("acme", auditDraftID),
			wantDetails: []views.AuditDetail{{Label: "Runs started", Value: "x"}, {Label: "Attempt", Value: "2"}},
		},
		{
			name:      "NotJSON",
			record:    onboarding.AuditRecord{Action: "", Metadata: `{`},
			wantLabel: "—",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := AuditEntry("acme", tc.record)
			if got.Label != tc.wantLabel || got.Subject != tc.wantSubject || got.SubjectURL != tc.wantURL {
				t.Errorf("label, subject, url = %q, %q, %q, want %q, %q, %q", got.Label, got.Subject, got.SubjectURL, tc.wantLabel, tc.wantSubject, tc.wantURL)
			}
			if !reflect.DeepEqual(got.Changes, tc.wantChanges) {
				t.Errorf("changes = %+v, want %+v", got.Changes, tc.wantChanges)
			}
			if !reflect.DeepEqual(got.Details, tc.wantDetails) {
				t.Errorf("details = %+v, want %+v", got.Details, tc.wantDetails)
			}
		})
	}
}

// TestFormErrors: validation messages by form field; those without an input go to the
// whole form ("") with their field in words.
func TestFormErrors(t *testing.T) {
	t.Parallel()
	ve := &onboarding.ValidationError{Fields: map[string]string{
		"display_name": "is required", "provider_connection.client_id": "must be a GUID", "current_step": "must be between 1 and 5",
	}}
	want := map[string]string{"display_name": "is required", "client_id": "must be a GUID", "": "Step must be between 1 and 5"}
	if got := FormErrors(ve); !reflect.DeepEqual(got, want) {
		t.Errorf("FormErrors = %v, want %v", got, want)
	}
	if got, want := ErrorSummary(ve), "Step must be between 1 and 5; Display name is required; Client ID must be a GUID"; got != want {
		t.Errorf("ErrorSummary = %q, want %q", got, want)
	}
}
