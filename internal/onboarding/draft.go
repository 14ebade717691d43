package onboarding

import "time"

// Draft is one onboarding draft (a managed_tenant_onboarding_sessions row) as every layer sees
// it. The five lifecycle columns (Lifecycle, CurrentCheckpoint, LastCompletedCheckpoint,
// ReasonCode, BlockingReasonCode) are written only through Apply.
type Draft struct {
	ID          string
	WorkspaceID int64
	// Workspace is the workspace's slug.
	Workspace string

	TenantID, DisplayName, PrimaryDomain string
	// CurrentStep is the wizard step (1..5) the operators last opened.
	CurrentStep          int
	ProviderConnectionID string
	BootstrapOperations  []string
	// State holds per-step form state that is not part of the lifecycle.
	State map[string]any

	// Version moves on every change of the row (optimistic locking); Rev is the global live
	// revision stamped by the database.
	Version int64
	Rev     int64

	Lifecycle                                  Lifecycle
	CurrentCheckpoint, LastCompletedCheckpoint Checkpoint
	ReasonCode, BlockingReasonCode             ReasonCode

	// OverrideReason is the reason an owner gave for activating despite overridable
	// blockers; "" when no override was recorded.
	OverrideReason string
	// CreatedBy and UpdatedBy are users' emails.
	CreatedBy, UpdatedBy     string
	CreatedAt, UpdatedAt     time.Time
	CompletedAt, CancelledAt time.Time

	// ActivationRequestedBy (an email) and ActivationRequestedAt are the open request to the
	// owners to activate the draft (RequestActivation); zero when none is open. A request is
	// open only while the draft is ready for activation: Apply clears it otherwise.
	ActivationRequestedBy string
	ActivationRequestedAt time.Time
}

// Open reports whether the draft is neither completed nor cancelled, by its timestamps or its
// lifecycle state.
func (d Draft) Open() bool {
	return d.CompletedAt.IsZero() && d.CancelledAt.IsZero() && !d.Lifecycle.Terminal()
}

// Apply stores an evaluation in the draft's five lifecycle columns.
func (d *Draft) Apply(e Evaluation) {
	d.Lifecycle = e.Lifecycle
	d.CurrentCheckpoint = e.Current
	d.LastCompletedCheckpoint = e.LastCompleted
	d.ReasonCode = e.Reason
	d.BlockingReasonCode = e.Blocking
	if e.Lifecycle != LifecycleReadyForActivation {
		d.ActivationRequestedBy, d.ActivationRequestedAt = "", time.Time{}
	}
}

// Facts assembles the facts of this draft from the attached connection (nil when none), the
// latest verification run (nil when none) and the latest run per selected bootstrap operation.
// A recorded override reason counts as an override.
func (d Draft) Facts(conn *ConnectionFact, verification *RunFact, bootstrap []RunFact) Facts {
	return Facts{
		TenantID:            d.TenantID,
		DisplayName:         d.DisplayName,
		PrimaryDomain:       d.PrimaryDomain,
		Connection:          conn,
		Verification:        verification,
		BootstrapOperations: d.BootstrapOperations,
		Bootstrap:           bootstrap,
		Overridden:          d.OverrideReason != "",
		CancelledAt:         d.CancelledAt,
		CompletedAt:         d.CompletedAt,
	}
}

// stateBootstrapSkipped is the State key recording that an operator chose to skip bootstrap.
const stateBootstrapSkipped = "bootstrap_skipped"

// BootstrapSkipped reports whether an operator chose to skip bootstrap (as opposed to not
// having decided yet): only then do pages call the step skipped.
func (d Draft) BootstrapSkipped() bool {
	v, _ := d.State[stateBootstrapSkipped].(bool)
	return v
}

// SetBootstrapSkipped records or clears the operator's choice to skip bootstrap.
func (d *Draft) SetBootstrapSkipped(v bool) {
	if d.State == nil {
		d.State = map[string]any{}
	}
	if v {
		d.State[stateBootstrapSkipped] = true
	} else {
		delete(d.State, stateBootstrapSkipped)
	}
}

// Name is how notices and messages name the draft's tenant: its display name, else its
// tenant id.
func (d Draft) Name() string {
	if d.DisplayName != "" {
		return d.DisplayName
	}
	return d.TenantID
}
