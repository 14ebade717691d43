package web

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/operation"
)

// draftJSON is the API's draft representation (internal/web/apidoc/openapi.yaml). It never carries a secret.
type draftJSON struct {
	ID                      string          `json:"id"`
	Workspace               string          `json:"workspace"`
	Version                 int64           `json:"version"`
	LifecycleState          string          `json:"lifecycle_state"`
	CurrentCheckpoint       string          `json:"current_checkpoint"`
	LastCompletedCheckpoint *string         `json:"last_completed_checkpoint"`
	ReasonCode              *string         `json:"reason_code"`
	BlockingReasonCode      *string         `json:"blocking_reason_code"`
	CurrentStep             int             `json:"current_step"`
	TenantID                string          `json:"tenant_id"`
	DisplayName             string          `json:"display_name"`
	PrimaryDomain           string          `json:"primary_domain"`
	ProviderConnection      *connectionJSON `json:"provider_connection"`
	BootstrapOperations     []string        `json:"bootstrap_operations"`
	OverrideReason          *string         `json:"override_reason"`
	CreatedBy               *string         `json:"created_by"`
	CreatedAt               time.Time       `json:"created_at"`
	UpdatedBy               *string         `json:"updated_by"`
	UpdatedAt               time.Time       `json:"updated_at"`
	CompletedAt             *time.Time      `json:"completed_at"`
	CancelledAt             *time.Time      `json:"cancelled_at"`
	// The open activation request (who asked the owners, when); null when none is open.
	ActivationRequestedBy *string    `json:"activation_requested_by"`
	ActivationRequestedAt *time.Time `json:"activation_requested_at"`
}

type connectionJSON struct {
	ID string `json:"id"`
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func toDraftJSON(d onboarding.Draft) draftJSON {
	out := draftJSON{
		ID: d.ID, Workspace: d.Workspace, Version: d.Version,
		LifecycleState:          string(d.Lifecycle),
		CurrentCheckpoint:       string(d.CurrentCheckpoint),
		LastCompletedCheckpoint: strPtr(string(d.LastCompletedCheckpoint)),
		ReasonCode:              strPtr(string(d.ReasonCode)),
		BlockingReasonCode:      strPtr(string(d.BlockingReasonCode)),
		CurrentStep:             d.CurrentStep,
		TenantID:                d.TenantID, DisplayName: d.DisplayName, PrimaryDomain: d.PrimaryDomain,
		BootstrapOperations: d.BootstrapOperations,
		OverrideReason:      strPtr(d.OverrideReason),
		CreatedBy:           strPtr(d.CreatedBy), CreatedAt: d.CreatedAt.UTC(),
		UpdatedBy: strPtr(d.UpdatedBy), UpdatedAt: d.UpdatedAt.UTC(),
		CompletedAt: timePtr(d.CompletedAt), CancelledAt: timePtr(d.CancelledAt),
		ActivationRequestedBy: strPtr(d.ActivationRequestedBy), ActivationRequestedAt: timePtr(d.ActivationRequestedAt),
	}
	if out.BootstrapOperations == nil {
		out.BootstrapOperations = []string{}
	}
	if d.ProviderConnectionID != "" {
		out.ProviderConnection = &connectionJSON{ID: d.ProviderConnectionID}
	}
	return out
}

// runJSON is the API's run representation (CONTRACT.md §4): the JSON encoding of an
// operation.Run, made only by toRunJSON. It is not a row shape: postgres reads a run one way
// (runSelect/scanRun) into operation.Run.
type runJSON struct {
	ID            string           `json:"id"`
	Type          string           `json:"type"`
	Status        string           `json:"status"`
	Outcome       *string          `json:"outcome"`
	ReasonCode    *string          `json:"reason_code"`
	SummaryCounts operation.Counts `json:"summary_counts"`
	Initiator     *string          `json:"initiator"`
	DraftID       *string          `json:"draft_id"`
	TenantID      string           `json:"tenant_id"`
	Attempt       int              `json:"attempt"`
	Result        any              `json:"result"`
	CreatedAt     time.Time        `json:"created_at"`
	StartedAt     *time.Time       `json:"started_at"`
	CompletedAt   *time.Time       `json:"completed_at"`
}

func toRunJSON(r operation.Run) runJSON {
	out := runJSON{
		ID: r.ID, Type: string(r.Type), Status: string(r.Status),
		Outcome:       strPtr(string(r.Outcome)),
		ReasonCode:    strPtr(r.ReasonCode),
		SummaryCounts: r.Counts,
		Initiator:     strPtr(r.InitiatorEmail),
		DraftID:       strPtr(r.DraftID),
		TenantID:      r.TenantID,
		Attempt:       r.Attempt,
		CreatedAt:     r.CreatedAt.UTC(),
		StartedAt:     timePtr(r.StartedAt),
		CompletedAt:   timePtr(r.CompletedAt),
	}
	if res, ok := r.Context["result"]; ok {
		out.Result = res
	}
	return out
}

func toRunsJSON(runs []operation.Run) []runJSON {
	out := make([]runJSON, 0, len(runs))
	for _, r := range runs {
		out = append(out, toRunJSON(r))
	}
	return out
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
