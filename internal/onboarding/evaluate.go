package onboarding

import (
	"time"

	"github.com/tenantops/onboard/internal/operation"
)

// ConnectionFact is the provider connection attached to a draft.
type ConnectionFact struct {
	ID     string
	Status ConnectionStatus
}

// RunFact is what the evaluation needs to know about one operation run.
type RunFact struct {
	ID      string
	Type    operation.Type
	Status  operation.Status
	Outcome operation.Outcome
	// ReasonCode is the run's failure or partial reason from its context (for example
	// missing_permissions or provider_unreachable); "" when none.
	ReasonCode ReasonCode
	// ConnectionID is, for verification runs, the connection the run verified.
	ConnectionID string
}

// Facts is everything the lifecycle depends on, read in one transaction.
type Facts struct {
	TenantID, DisplayName, PrimaryDomain string
	// Connection is the attached provider connection; nil when none is attached.
	Connection *ConnectionFact
	// Verification is the latest verify_access run of this draft; nil when none.
	Verification *RunFact
	// BootstrapOperations are the selected bootstrap operations (e.g. "inventory_sync").
	BootstrapOperations []string
	// Bootstrap holds the latest run per selected operation; it may hold fewer runs than
	// operations are selected.
	Bootstrap []RunFact
	// Overridden reports that an authorised override of activation blockers was recorded.
	Overridden bool
	// CancelledAt and CompletedAt are zero when not set.
	CancelledAt, CompletedAt time.Time
}

// Evaluation is the value of the five lifecycle columns of a draft.
type Evaluation struct {
	Lifecycle     Lifecycle
	Current       Checkpoint
	LastCompleted Checkpoint
	Reason        ReasonCode
	// Blocking is what blocks activation until it is fixed or overridden; "" when nothing
	// specific does (see Readiness for the complete list of blockers).
	Blocking ReasonCode
}

// Evaluate derives the five lifecycle columns from the facts. It is the only place where the
// lifecycle rules live; every mutation that may change a fact stores its result with
// Draft.Apply. The rules are applied in order, first match wins; docs/lifecycle.md lists them.
func Evaluate(f Facts) Evaluation {
	e := evaluateOpen(f)
	switch {
	case !f.CancelledAt.IsZero():
		// A cancelled draft keeps the checkpoints it had reached, so the wizard can show
		// how far it got.
		if !f.CompletedAt.IsZero() {
			e = completed(f)
		}
		e.Lifecycle, e.Reason, e.Blocking = LifecycleCancelled, ReasonOnboardingCancelled, ReasonNone
		return e
	case !f.CompletedAt.IsZero():
		return completed(f)
	}
	return e
}

func completed(f Facts) Evaluation {
	reason := ReasonOnboardingCompleted
	if f.Overridden {
		reason = ReasonActivatedWithOverride
	}
	return Evaluation{LifecycleCompleted, CheckpointActivate, CheckpointActivate, reason, ReasonNone}
}

// evaluateOpen applies the rules for a draft that is neither cancelled nor completed.
func evaluateOpen(f Facts) Evaluation {
	if !identifyComplete(f) {
		return Evaluation{LifecycleDraft, CheckpointIdentify, CheckpointNone, ReasonIdentifyIncomplete, ReasonNone}
	}
	if f.Connection == nil {
		return Evaluation{LifecycleDraft, CheckpointConnectProvider, CheckpointIdentify, ReasonProviderConnectionMissing, ReasonNone}
	}
	verify := func(l Lifecycle, r, b ReasonCode) Evaluation {
		return Evaluation{l, CheckpointVerifyAccess, CheckpointConnectProvider, r, b}
	}
	switch vs := verificationStateOf(f); vs {
	case verifyMissing:
		return verify(LifecycleDraft, ReasonVerificationNotStarted, ReasonNone)
	case verifyOutdated:
		return verify(LifecycleDraft, ReasonVerificationOutdated, ReasonNone)
	case verifyActive:
		return verify(LifecycleVerifying, ReasonVerificationInProgress, ReasonNone)
	case verifyFailed:
		return verify(LifecycleActionRequired, ReasonVerificationFailed, verificationBlocking(f))
	case verifyCancelled:
		return verify(LifecycleDraft, ReasonVerificationCancelled, ReasonNone)
	case verifyPartial:
		return verify(LifecycleActionRequired, ReasonVerificationPartiallySucceeded, verificationBlocking(f))
	}
	bootstrap := func(l Lifecycle, cur, last Checkpoint, r, b ReasonCode) Evaluation {
		return Evaluation{l, cur, last, r, b}
	}
	switch bootstrapStateOf(f) {
	case bootActive:
		return bootstrap(LifecycleBootstrapping, CheckpointBootstrap, CheckpointVerifyAccess, ReasonBootstrapInProgress, ReasonNone)
	case bootSkipped:
		return bootstrap(LifecycleReadyForActivation, CheckpointActivate, CheckpointVerifyAccess, ReasonBootstrapSkipped, ReasonNone)
	case bootNotStarted:
		return bootstrap(LifecycleDraft, CheckpointBootstrap, CheckpointVerifyAccess, ReasonBootstrapNotStarted, ReasonNone)
	case bootFailed:
		return bootstrap(LifecycleActionRequired, CheckpointBootstrap, CheckpointVerifyAccess, ReasonBootstrapFailed, ReasonBootstrapFailed)
	case bootPartial:
		return bootstrap(LifecycleReadyForActivation, CheckpointActivate, CheckpointBootstrap, ReasonBootstrapPartiallySucceeded, ReasonBootstrapIncomplete)
	}
	return bootstrap(LifecycleReadyForActivation, CheckpointActivate, CheckpointBootstrap, ReasonReadyForActivation, ReasonNone)
}

// identifyComplete is the identify checkpoint's rule: a GUID tenant and a non-blank name and
// domain. Full input validation is ValidateIdentify's job, at the edge.
func identifyComplete(f Facts) bool {
	return IsGUID(f.TenantID) && !blank(f.DisplayName) && !blank(f.PrimaryDomain)
}

// runState is what a run means to the lifecycle. A run counts as finished only when its status
// is completed; a finished run counts as succeeded only with outcome succeeded, and a completed
// run without a known outcome counts as failed.
type runState int

const (
	runActive runState = iota
	runSucceeded
	runPartial
	runFailed
	runCancelled
)

func classify(r RunFact) runState {
	if r.Status != operation.StatusCompleted {
		return runActive
	}
	switch r.Outcome {
	case operation.OutcomeSucceeded:
		return runSucceeded
	case operation.OutcomePartiallySucceeded:
		return runPartial
	case operation.OutcomeCancelled:
		return runCancelled
	}
	return runFailed
}

type verifyState int

const (
	verifyMissing verifyState = iota
	verifyOutdated
	verifyActive
	verifyFailed
	verifyCancelled
	verifyPartial
	verifySucceeded
)

func verificationStateOf(f Facts) verifyState {
	v := f.Verification
	switch {
	case v == nil:
		return verifyMissing
	case f.Connection == nil || v.ConnectionID != f.Connection.ID:
		// A verification of another (detached or replaced) connection proves nothing
		// about the attached one.
		return verifyOutdated
	}
	switch classify(*v) {
	case runActive:
		return verifyActive
	case runSucceeded:
		return verifySucceeded
	case runPartial:
		return verifyPartial
	case runCancelled:
		return verifyCancelled
	}
	return verifyFailed
}

// verificationBlocking is the blocking code of a failed or partially succeeded verification:
// the run's own reason when it is a known verification blocker; missing_permissions for a
// partial result; else verification_unanswered, because a failure without a finding (a
// timeout, a provider error, a lost worker) checked nothing and must not be overridable.
func verificationBlocking(f Facts) ReasonCode {
	if f.Verification == nil {
		return ReasonNone
	}
	if rc := f.Verification.ReasonCode; verificationBlocker(rc) {
		return rc
	}
	if classify(*f.Verification) == runPartial {
		return ReasonMissingPermissions
	}
	return ReasonVerificationUnanswered
}

type bootstrapState int

const (
	bootActive bootstrapState = iota
	bootSkipped
	bootNotStarted
	bootFailed
	bootPartial
	bootSucceeded
)

func bootstrapStateOf(f Facts) bootstrapState {
	// Any run still going wins, even one of an operation deselected meanwhile: its result
	// is about to land on the tenant.
	for _, r := range f.Bootstrap {
		if classify(r) == runActive {
			return bootActive
		}
	}
	if len(f.BootstrapOperations) == 0 {
		return bootSkipped
	}
	// Latest run per operation; should a caller pass several, the first one counts.
	latest := make(map[string]RunFact, len(f.Bootstrap))
	for _, r := range f.Bootstrap {
		if !r.Type.IsBootstrap() {
			continue
		}
		if _, seen := latest[r.Type.Operation()]; !seen {
			latest[r.Type.Operation()] = r
		}
	}
	failed, partial := false, false
	for _, op := range f.BootstrapOperations {
		r, ok := latest[op]
		if !ok {
			return bootNotStarted
		}
		switch classify(r) {
		case runCancelled:
			return bootNotStarted
		case runFailed:
			failed = true
		case runPartial:
			partial = true
		}
	}
	switch {
	case failed:
		return bootFailed
	case partial:
		return bootPartial
	}
	return bootSucceeded
}
