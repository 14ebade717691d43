package views

import (
	"strings"
	"time"

	"github.com/tenantops/onboard/internal/live"
)

// WizardStage is what the stepper shows: the step whose panel is open and, per step (index
// step-1), whether it may be opened, is done, or shows a blocker. Its fields match
// onboarding.Stage, so handlers convert with views.WizardStage(onboarding.ResolveStage(…)).
type WizardStage struct {
	Step      int
	Reachable [5]bool
	Done      [5]bool
	Blocked   [5]bool
}

// ConnectionView is the provider connection attached to a draft. It never holds the secret.
type ConnectionView struct {
	ClientID  string
	Status    string // unverified, verified, failed
	CreatedBy string // email of who attached it, "" when unknown
	CreatedAt time.Time
}

// BootstrapOpView is one bootstrap operation on the Bootstrap step.
type BootstrapOpView struct {
	Operation string   // inventory_sync, policy_sync, baseline_snapshot
	Selected  bool     // in the draft's bootstrap selection
	Run       *RunView // the latest run of this operation for the draft, nil when none
}

// ReadinessView says whether a draft may be activated; it mirrors onboarding.ReadinessReport
// with reason codes as strings.
type ReadinessView struct {
	Ready       bool
	Blockers    []string // reason codes still blocking, in wizard order
	Lifted      []string // overridable blockers a recorded override lifted
	Overridable bool     // every blocker may be accepted by an owner with a reason
}

// OverrideView is a recorded activation override.
type OverrideView struct {
	Reason string
	By     string // email of the owner who overrode
	At     time.Time
}

// CheckpointData is everything the wizard body (the live "checkpoint" fragment) shows.
//
// A pushed fragment is rendered once per permission cohort and sent to many tabs: handlers and
// the live hub must fill it from the draft and the cohort's capabilities only. Form and Errors
// are for a single response (validation error, conflict re-apply) and stay nil in fragments.
type CheckpointData struct {
	Workspace string // workspace slug
	DraftID   string
	Version   int64 // draft version the fragment was rendered from
	Rev       int64 // max(draft rev, its runs' revs)

	Lifecycle          string // lifecycle_state
	Checkpoint         string // current_checkpoint
	LastCompleted      string // last_completed_checkpoint, "" when none
	ReasonCode         string // reason_code, "" when none
	BlockingReasonCode string // blocking_reason_code, "" when none
	UpdatedBy          string // email of the last change's author
	UpdatedAt          time.Time

	// WizardStage is embedded: d.Step is the open panel, d.Reachable/Done/Blocked the stepper.
	WizardStage

	TenantID, DisplayName, PrimaryDomain string

	Connection   *ConnectionView   // nil when none is attached
	Verification *RunView          // latest verify_access run, nil when none; Checks filled
	Bootstrap    []BootstrapOpView // every offered operation, in display order
	Readiness    ReadinessView
	Override     *OverrideView // recorded override, nil when none

	CompletedAt time.Time
	CompletedBy string // who activated, "" when unknown
	CancelledAt time.Time
	CancelledBy string // who cancelled, "" when unknown

	// StepStates is what the stepper says of each step (index step-1), one of the Step*
	// constants; the presenter derives it from the stored lifecycle and the runs.
	StepStates [5]string
	// BootstrapSkipped: an operator chose to skip bootstrap (not merely selected nothing).
	BootstrapSkipped bool

	// Capabilities of the cohort; a form or button appears only with its capability.
	CanEdit, CanVerify, CanBootstrap, CanActivate, CanOverride, CanCancel bool
	// CanRequestActivation: the cohort may ask the owners to activate (operators).
	CanRequestActivation bool

	// ActivationRequestedBy (an email; "" for a former member) and ActivationRequestedAt are
	// the draft's open activation request; ActivationRequestedAt is zero when none is open.
	ActivationRequestedBy string
	ActivationRequestedAt time.Time

	// View is the live view this fragment answers, "checkpoint:N" for a tab showing step N;
	// "" means "checkpoint" (the step of the draft's current checkpoint).
	View string

	// Form holds submitted values by form field name (display_name, primary_domain, client_id,
	// override_reason, operations as a comma-separated list) to show instead of the stored
	// ones; nil in fragments.
	Form map[string]string
	// Errors holds validation messages by form field name; "" keys a message for the whole
	// form. nil in fragments.
	Errors map[string]string
}

// Terminal reports whether the draft is completed or cancelled and therefore read-only.
func (d CheckpointData) Terminal() bool {
	return d.Lifecycle == "completed" || d.Lifecycle == "cancelled"
}

// TenantName is the display name, or the tenant id while there is none.
func (d CheckpointData) TenantName() string {
	if d.DisplayName != "" {
		return d.DisplayName
	}
	if d.TenantID != "" {
		return d.TenantID
	}
	return "New tenant"
}

// ActivationRequestable reports whether the Activate step offers "Request activation": the
// cohort may request, the draft is ready for activation and no request is open.
func (d CheckpointData) ActivationRequestable() bool {
	return d.CanRequestActivation && d.Lifecycle == "ready_for_activation" && d.ActivationRequestedAt.IsZero()
}

// LiveView is the data-live name of the fragment: View, or "checkpoint".
func (d CheckpointData) LiveView() string {
	if d.View != "" {
		return d.View
	}
	return live.ViewCheckpoint
}

// PollURL is the checkpoint fragment's poll fallback URL, for the same step as the tab.
func (d CheckpointData) PollURL() string {
	u := DraftURL(d.Workspace, d.DraftID) + "/checkpoint"
	if step, ok := strings.CutPrefix(d.View, live.ViewCheckpoint+":"); ok {
		u += "?step=" + step
	}
	return u
}

// StepURL is the wizard page showing step n: looking at a step is a GET, never a write.
func (d CheckpointData) StepURL(n int) string {
	return DraftURL(d.Workspace, d.DraftID) + "?step=" + itoa(n)
}

// ConflictField is one field the operator edited in a refused stale submit: the stored value
// beside the operator's. Collides says the field was also changed elsewhere since the
// operator's version, so re-applying replaces someone else's value.
type ConflictField struct {
	Name     string // form field name, e.g. display_name
	Label    string
	Theirs   string // current stored value
	Mine     string // the operator's submitted value
	Collides bool
}

// ChangeView is one change made to a draft since an operator's version, from the audit
// trail: a field (Field is its form field name, Old → New) or an action (Field empty, Label
// says what happened).
type ChangeView struct {
	Field    string // form field name: display_name, primary_domain, client_id, operations; "" for an action
	Label    string // "Display name", or the action in words
	Old, New string
	By       string // email, "" for the system
	At       time.Time
	Collides bool // the operator edited this field too
}

// ConflictData explains a stale submit the server refused (version conflict).
type ConflictData struct {
	UpdatedBy string // email of who changed the draft meanwhile
	UpdatedAt time.Time
	Since     int64        // the version the operator's form was loaded with
	Changes   []ChangeView // what changed since that version, oldest first
	Fields    []ConflictField
	// FormID is the id of the wizard form that carries the operator's values and the new
	// version ("form-identify", "form-connection", "form-bootstrap", "form-override");
	// "Overwrite with mine" / "Save my changes" submits it. "" shows a link to the form instead.
	FormID string
}

// WizardData is the whole wizard page.
type WizardData struct {
	Checkpoint CheckpointData
	Conflict   *ConflictData // nil unless a stale submit was refused
	Toasts     []Toast       // one-time messages, e.g. "Verification queued"
}

// What the stepper says of a step. A step the tab shows is also marked current (aria-current),
// whatever its state.
const (
	StepDone       = "done"        // completed
	StepWarning    = "warning"     // done with warnings (bootstrap partially succeeded)
	StepFailed     = "failed"      // its run failed; fix and run again
	StepBlocked    = "blocked"     // needs attention before the onboarding can go on
	StepSkipped    = "skipped"     // the operator chose to skip it
	StepOverridden = "overridden"  // its blocker was accepted by an owner's override
	StepActive     = "active"      // a run of it is in progress
	StepOpen       = "open"        // reachable, nothing done yet
	StepLocked     = "locked"      // not reachable until the steps before it are done
	StepNotReached = "not_reached" // the onboarding was cancelled before this step
)

// checkpointForms lists the ids of the forms the checkpoint fragment shows, under the same
// conditions as the templates that render them (TestCheckpointRegions checks that they
// agree): the versions region gives each of them its version input.
func checkpointForms(d CheckpointData) []string {
	var ids []string
	if d.CanCancel && !d.Terminal() {
		ids = append(ids, "form-cancel")
	}
	if d.Terminal() {
		return ids
	}
	switch openStep(d) {
	case 1:
		if d.CanEdit {
			ids = append(ids, "form-identify")
		}
	case 2:
		if d.CanEdit {
			ids = append(ids, "form-connection")
		}
	case 3:
		v := d.Verification
		if d.Connection == nil {
			break
		}
		if v != nil && v.Troubled() && !v.Active() && d.Readiness.Overridable && !d.Readiness.Ready && d.CanOverride {
			ids = append(ids, "form-override")
		}
		if d.CanVerify && (v == nil || !v.Active()) {
			ids = append(ids, "form-verification")
		}
	case 4:
		if d.CanBootstrap {
			ids = append(ids, "form-bootstrap")
		}
	default:
		if d.Readiness.Ready && d.CanActivate {
			ids = append(ids, "form-activation")
		} else if !d.Readiness.Ready && d.Readiness.Overridable && d.CanOverride {
			ids = append(ids, "form-override")
		}
		if d.ActivationRequestable() {
			ids = append(ids, "form-activation-request")
		}
	}
	return ids
}
