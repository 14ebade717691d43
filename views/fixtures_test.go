package views

import "time"

// Representative view data shared by the tests: the demo tenants of a workspace at each step.

var (
	t0       = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
	testNav  = Nav{UserEmail: "owner@acme.test", Workspace: "acme", WSName: "Acme MSP", Section: "onboarding", CanAudit: true, Bell: BellData{Topic: "user:1", Rev: 9, Unread: 2}, Workspaces: []WorkspaceLink{{Slug: "acme", Name: "Acme MSP", Role: "owner"}}}
	draftID  = "5b0e3c52-8f1d-4f7a-9c3e-2d6a1b7e4f10"
	tenantID = "0f8fad5b-d9cb-469f-a165-70867728950e"
)

// cohort sets the capabilities of a role on d.
func cohort(d CheckpointData, role string) CheckpointData {
	d.CanEdit, d.CanVerify, d.CanBootstrap, d.CanActivate, d.CanOverride, d.CanCancel = false, false, false, false, false, false
	d.CanRequestActivation = false
	switch role {
	case "owner":
		d.CanEdit, d.CanVerify, d.CanBootstrap, d.CanActivate, d.CanOverride, d.CanCancel = true, true, true, true, true, true
	case "operator":
		d.CanEdit, d.CanVerify, d.CanBootstrap, d.CanRequestActivation = true, true, true, true
	}
	return d
}

func baseDraft() CheckpointData {
	return CheckpointData{
		Workspace: "acme", DraftID: draftID, Version: 7, Rev: 42,
		Lifecycle: "draft", Checkpoint: "identify", ReasonCode: "identify_incomplete",
		UpdatedBy: "operator@acme.test", UpdatedAt: t0,
		WizardStage: WizardStage{Step: 1, Reachable: [5]bool{true}},
		TenantID:    tenantID, DisplayName: "Contoso Ltd", PrimaryDomain: "contoso.missing-perms.test",
		Bootstrap: []BootstrapOpView{{Operation: "inventory_sync"}, {Operation: "policy_sync"}, {Operation: "baseline_snapshot"}},
		Readiness: ReadinessView{Blockers: []string{"identify_incomplete", "provider_connection_missing", "verification_required"}},
	}
}

func connected(d CheckpointData) CheckpointData {
	d.Connection = &ConnectionView{ClientID: "3f2504e0-4f89-11d3-9a0c-0305e82c3301", Status: "unverified", CreatedBy: "operator@acme.test", CreatedAt: t0}
	return d
}

var failedChecks = []CheckView{
	{Name: "tenant_reachable", Title: "Tenant reachable", Status: "passed", Message: "Microsoft Entra tenant for contoso.missing-perms.test answered."},
	{Name: "admin_consent", Title: "Admin consent granted", Status: "passed", Message: "An administrator consented to the application in this tenant."},
	{Name: "graph_permission.Directory.Read.All", Title: "Graph permission Directory.Read.All", Status: "failed", Permission: "Directory.Read.All",
		Message:        "The application permission Directory.Read.All is not granted. Add it under API permissions of the app registration and grant admin consent.",
		RemediationURL: "https://learn.microsoft.com/en-us/graph/permissions-reference#directoryreadall"},
	{Name: "intune_license", Title: "Intune license", Status: "warning", Message: "Intune license assignment could not be confirmed."},
}

// stepData returns a draft as it looks on wizard step n.
func stepData(n int) CheckpointData {
	d := baseDraft()
	switch n {
	case 1:
	case 2:
		d.Checkpoint, d.LastCompleted, d.ReasonCode = "connect_provider", "identify", "provider_connection_missing"
		d.WizardStage = WizardStage{Step: 2, Reachable: [5]bool{true, true}, Done: [5]bool{true}}
	case 3:
		d = connected(d)
		d.Lifecycle, d.Checkpoint, d.LastCompleted = "action_required", "verify_access", "connect_provider"
		d.ReasonCode, d.BlockingReasonCode = "verification_failed", "missing_permissions"
		d.WizardStage = WizardStage{Step: 3, Reachable: [5]bool{true, true, true}, Done: [5]bool{true, true}, Blocked: [5]bool{false, false, true}}
		d.Verification = &RunView{ID: "9d4c1f7a-0000-4000-8000-000000000001", Type: "verify_access", Status: "completed", Outcome: "failed",
			ReasonCode: "missing_permissions", Counts: RunCounts{Total: 4, Succeeded: 3, Failed: 1}, Initiator: "operator@acme.test", Attempt: 1,
			CreatedAt: t0, StartedAt: t0.Add(2 * time.Second), CompletedAt: t0.Add(80 * time.Second), Checks: failedChecks}
		d.Readiness = ReadinessView{Blockers: []string{"missing_permissions"}, Overridable: true}
	case 4:
		d = connected(d)
		d.Connection.Status = "verified"
		d.Lifecycle, d.Checkpoint, d.LastCompleted, d.ReasonCode = "bootstrapping", "bootstrap", "verify_access", "bootstrap_in_progress"
		d.WizardStage = WizardStage{Step: 4, Reachable: [5]bool{true, true, true, true}, Done: [5]bool{true, true, true}}
		d.Bootstrap = []BootstrapOpView{
			{Operation: "inventory_sync", Selected: true, Run: &RunView{ID: "9d4c1f7a-0000-4000-8000-000000000002", Type: "bootstrap.inventory_sync", Status: "running",
				Counts: RunCounts{Total: 48, Succeeded: 20, Failed: 1}, Initiator: "operator@acme.test", CreatedAt: t0, StartedAt: t0.Add(time.Second)}},
			{Operation: "policy_sync", Selected: true, Run: &RunView{ID: "9d4c1f7a-0000-4000-8000-000000000003", Type: "bootstrap.policy_sync", Status: "completed", Outcome: "succeeded",
				Counts: RunCounts{Total: 17, Succeeded: 16, Skipped: 1}, Initiator: "operator@acme.test", CreatedAt: t0, StartedAt: t0.Add(time.Second), CompletedAt: t0.Add(30 * time.Second)}},
			{Operation: "baseline_snapshot"},
		}
		d.Readiness = ReadinessView{Blockers: []string{"bootstrap_in_progress"}}
	case 5:
		d = connected(d)
		d.Connection.Status = "verified"
		d.Lifecycle, d.Checkpoint, d.LastCompleted, d.ReasonCode = "ready_for_activation", "activate", "verify_access", "bootstrap_skipped"
		d.WizardStage = WizardStage{Step: 5, Reachable: [5]bool{true, true, true, true, true}, Done: [5]bool{true, true, true}}
		d.Readiness = ReadinessView{Ready: true}
	}
	return d
}

// overridableActivate is step 5 with only an overridable blocker left.
func overridableActivate() CheckpointData {
	d := stepData(5)
	d.Lifecycle, d.ReasonCode, d.BlockingReasonCode = "ready_for_activation", "bootstrap_partially_succeeded", "bootstrap_incomplete"
	d.Blocked[4] = true
	d.Readiness = ReadinessView{Blockers: []string{"bootstrap_incomplete"}, Overridable: true}
	return d
}

// requestedActivation is a ready draft whose activation an operator asked the owners for.
func requestedActivation() CheckpointData {
	d := stepData(5)
	d.ActivationRequestedBy, d.ActivationRequestedAt = "operator@acme.test", t0
	return d
}

func completedWithOverride() CheckpointData {
	d := overridableActivate()
	d.Lifecycle, d.ReasonCode, d.BlockingReasonCode = "completed", "activated_with_override", ""
	d.WizardStage = WizardStage{Step: 5, Reachable: [5]bool{true, true, true, true, true}, Done: [5]bool{true, true, true, true, true}}
	d.Readiness = ReadinessView{Blockers: []string{"onboarding_completed"}}
	d.Override = &OverrideView{Reason: "Two devices were retired during the sync; the customer confirmed.", By: "owner@acme.test", At: t0.Add(time.Hour)}
	d.CompletedAt, d.CompletedBy = t0.Add(time.Hour), "owner@acme.test"
	d.Bootstrap = []BootstrapOpView{{Operation: "inventory_sync", Selected: true, Run: &RunView{ID: "r-inv", Type: "bootstrap.inventory_sync", Status: "completed", Outcome: "partially_succeeded"}},
		{Operation: "policy_sync"}, {Operation: "baseline_snapshot"}}
	return d
}

func cancelled() CheckpointData {
	d := stepData(2)
	d.Lifecycle, d.ReasonCode = "cancelled", "onboarding_cancelled"
	d.WizardStage = WizardStage{Step: 2, Reachable: [5]bool{true, true, true, true, true}, Done: [5]bool{true}}
	d.CancelledAt, d.CancelledBy = t0.Add(time.Hour), "owner@acme.test"
	d.Readiness = ReadinessView{Blockers: []string{"onboarding_cancelled"}}
	return d
}

func runPanelData(r RunView) RunPanelData {
	return RunPanelData{Workspace: "acme", Run: r, DraftID: draftID, Version: 7, Rev: 42, Lifecycle: "action_required",
		UpdatedBy: "operator@acme.test", UpdatedAt: t0, Tenant: "Contoso Ltd", PrimaryDomain: "contoso.missing-perms.test"}
}

func sampleRows() []DraftRow {
	return []DraftRow{
		{ID: draftID, Workspace: "acme", TenantID: tenantID, DisplayName: "Contoso Ltd", PrimaryDomain: "contoso.missing-perms.test",
			Lifecycle: "action_required", Checkpoint: "verify_access", ReasonCode: "verification_failed", Version: 7, Rev: 42, UpdatedBy: "operator@acme.test", UpdatedAt: t0},
		{ID: "7c9e6679-7425-40de-944b-e07fc1f90ae7", Workspace: "acme", TenantID: "6ba7b810-9dad-11d1-80b4-00c04fd430c8", DisplayName: "Fabrikam",
			PrimaryDomain: "fabrikam.healthy.test", Lifecycle: "ready_for_activation", Checkpoint: "activate", ReasonCode: "ready_for_activation", Version: 12, Rev: 57, UpdatedBy: "owner@acme.test", UpdatedAt: t0.Add(-time.Hour)},
	}
}
