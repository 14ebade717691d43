package onboarding

import (
	"fmt"
	"slices"

	"github.com/tenantops/onboard/internal/operation"
)

// Lifecycle is a draft's lifecycle_state, derived by Evaluate and never set by hand.
type Lifecycle string

// Lifecycle states, as stored.
const (
	LifecycleDraft              Lifecycle = "draft"
	LifecycleVerifying          Lifecycle = "verifying"
	LifecycleActionRequired     Lifecycle = "action_required"
	LifecycleBootstrapping      Lifecycle = "bootstrapping"
	LifecycleReadyForActivation Lifecycle = "ready_for_activation"
	LifecycleCompleted          Lifecycle = "completed"
	LifecycleCancelled          Lifecycle = "cancelled"
)

// Lifecycles lists every lifecycle state in the order a draft normally passes through them.
var Lifecycles = []Lifecycle{
	LifecycleDraft, LifecycleVerifying, LifecycleActionRequired, LifecycleBootstrapping,
	LifecycleReadyForActivation, LifecycleCompleted, LifecycleCancelled,
}

// ParseLifecycle returns the lifecycle state named s or an error; "" is not a state.
func ParseLifecycle(s string) (Lifecycle, error) {
	for _, l := range Lifecycles {
		if Lifecycle(s) == l {
			return l, nil
		}
	}
	return "", fmt.Errorf("unknown lifecycle state %q", s)
}

// Terminal reports whether no further evaluation can change the state: completed or cancelled.
func (l Lifecycle) Terminal() bool { return l == LifecycleCompleted || l == LifecycleCancelled }

// Checkpoint is one of the five wizard checkpoints. The zero value CheckpointNone is stored as
// NULL (last_completed_checkpoint of a draft that has completed nothing).
type Checkpoint string

// Checkpoints, as stored, in wizard order.
const (
	CheckpointNone            Checkpoint = ""
	CheckpointIdentify        Checkpoint = "identify"
	CheckpointConnectProvider Checkpoint = "connect_provider"
	CheckpointVerifyAccess    Checkpoint = "verify_access"
	CheckpointBootstrap       Checkpoint = "bootstrap"
	CheckpointActivate        Checkpoint = "activate"
)

// Checkpoints lists the five checkpoints in wizard order; Checkpoints[i].Step() == i+1.
var Checkpoints = []Checkpoint{
	CheckpointIdentify, CheckpointConnectProvider, CheckpointVerifyAccess, CheckpointBootstrap, CheckpointActivate,
}

// Steps is the number of wizard steps, one per checkpoint.
const Steps = 5

// ParseCheckpoint returns the checkpoint named s ("" is CheckpointNone) or an error.
func ParseCheckpoint(s string) (Checkpoint, error) {
	if s == "" {
		return CheckpointNone, nil
	}
	for _, c := range Checkpoints {
		if Checkpoint(s) == c {
			return c, nil
		}
	}
	return "", fmt.Errorf("unknown checkpoint %q", s)
}

// Step returns the wizard step of c, 1..5, or 0 for CheckpointNone and unknown values.
func (c Checkpoint) Step() int {
	for i, k := range Checkpoints {
		if c == k {
			return i + 1
		}
	}
	return 0
}

// CheckpointForStep returns the checkpoint of wizard step n (1..5), or CheckpointNone when n is
// out of range.
func CheckpointForStep(n int) Checkpoint {
	if n < 1 || n > Steps {
		return CheckpointNone
	}
	return Checkpoints[n-1]
}

// ReasonCode explains a draft's lifecycle state (reason_code) or what blocks its activation
// (blocking_reason_code). The zero value means none and is stored as NULL.
type ReasonCode string

// Reason codes. Each is documented, with the rule that yields it, in docs/lifecycle.md.
const (
	ReasonNone ReasonCode = ""

	// Terminal states.
	ReasonOnboardingCancelled   ReasonCode = "onboarding_cancelled"
	ReasonOnboardingCompleted   ReasonCode = "onboarding_completed"
	ReasonActivatedWithOverride ReasonCode = "activated_with_override"

	// Identify and connect.
	ReasonIdentifyIncomplete        ReasonCode = "identify_incomplete"
	ReasonProviderConnectionMissing            = ReasonCode(operation.ReasonProviderConnectionMissing)

	// Verification.
	ReasonVerificationNotStarted         ReasonCode = "verification_not_started"
	ReasonVerificationOutdated           ReasonCode = "verification_outdated"
	ReasonVerificationInProgress         ReasonCode = "verification_in_progress"
	ReasonVerificationFailed             ReasonCode = "verification_failed"
	ReasonVerificationCancelled          ReasonCode = "verification_cancelled"
	ReasonVerificationPartiallySucceeded ReasonCode = "verification_partially_succeeded"
	ReasonVerificationRequired                      = ReasonCode(operation.ReasonVerificationRequired)
	// ReasonVerificationUnanswered blocks activation after a verification that got no answer
	// from the provider (it timed out, errored or its worker was lost): nothing was checked,
	// so it must be run again; it is never overridable.
	ReasonVerificationUnanswered ReasonCode = "verification_unanswered"

	// Bootstrap and activation.
	ReasonBootstrapInProgress         ReasonCode = "bootstrap_in_progress"
	ReasonBootstrapSkipped            ReasonCode = "bootstrap_skipped"
	ReasonBootstrapNotStarted         ReasonCode = "bootstrap_not_started"
	ReasonBootstrapFailed             ReasonCode = "bootstrap_failed"
	ReasonBootstrapPartiallySucceeded ReasonCode = "bootstrap_partially_succeeded"
	ReasonBootstrapIncomplete         ReasonCode = "bootstrap_incomplete"
	ReasonReadyForActivation          ReasonCode = "ready_for_activation"

	// Verification run failure reasons shown as blocking_reason_code: the run's own reason
	// (operation.RunReasons), named here with the draft's type.
	ReasonMissingPermissions  = ReasonCode(operation.ReasonMissingPermissions)
	ReasonConsentMissing      = ReasonCode(operation.ReasonConsentMissing)
	ReasonProviderUnreachable = ReasonCode(operation.ReasonProviderUnreachable)
	ReasonInvalidCredentials  = ReasonCode(operation.ReasonInvalidCredentials)
)

// ReasonCodes lists every code a draft's reason_code or blocking_reason_code may hold (not
// ReasonNone). A test asserts that each one is
// produced by Evaluate or Readiness, so a new code needs a rule and a test case.
var ReasonCodes = []ReasonCode{
	ReasonOnboardingCancelled, ReasonOnboardingCompleted, ReasonActivatedWithOverride,
	ReasonIdentifyIncomplete, ReasonProviderConnectionMissing,
	ReasonVerificationNotStarted, ReasonVerificationOutdated, ReasonVerificationInProgress,
	ReasonVerificationFailed, ReasonVerificationCancelled, ReasonVerificationPartiallySucceeded,
	ReasonVerificationRequired, ReasonVerificationUnanswered,
	ReasonBootstrapInProgress, ReasonBootstrapSkipped, ReasonBootstrapNotStarted, ReasonBootstrapFailed,
	ReasonBootstrapPartiallySucceeded, ReasonBootstrapIncomplete, ReasonReadyForActivation,
	ReasonMissingPermissions, ReasonConsentMissing, ReasonProviderUnreachable, ReasonInvalidCredentials,
}

// RefusalCodes lists the codes a refused write carries (BlockedError, 409) that are not
// lifecycle reasons: with ReasonCodes, every code the onboarding service gives.
var RefusalCodes = []ReasonCode{ReasonDraftClosed, ReasonRunNotRetryable, ReasonRunAlreadyActive, ReasonRunActiveElsewhere,
	ReasonNotReadyForActivation, ReasonActivationAlreadyRequested}

// ParseReasonCode returns the reason code named s ("" is ReasonNone) or an error for any code
// not in ReasonCodes.
func ParseReasonCode(s string) (ReasonCode, error) {
	if s == "" {
		return ReasonNone, nil
	}
	for _, c := range ReasonCodes {
		if ReasonCode(s) == c {
			return c, nil
		}
	}
	return "", fmt.Errorf("unknown reason code %q", s)
}

// Overridable reports whether an owner may accept this activation blocker with a recorded
// reason. This is the one override rule (docs/lifecycle.md): only a verification that got an
// answer and found blockers (missing_permissions, consent_missing) may be overridden, and a
// bootstrap that ran and failed in whole or part (bootstrap_failed, bootstrap_incomplete).
// A verification without an answer (verification_unanswered), rejected credentials or an
// unreachable provider must be fixed and verified again.
func (c ReasonCode) Overridable() bool {
	switch c {
	case ReasonMissingPermissions, ReasonConsentMissing,
		ReasonBootstrapFailed, ReasonBootstrapIncomplete:
		return true
	}
	return false
}

// verificationBlocker reports whether a verification run's own reason code is one that may be
// shown as blocking_reason_code (a provider's finding, operation.ReportReasons); other run
// reasons collapse into a generic code.
func verificationBlocker(c ReasonCode) bool {
	return slices.Contains(operation.ReportReasons, string(c))
}

// ConnectionStatus is a provider connection's own status. It is informational: the lifecycle
// follows the latest verification run, not this column.
type ConnectionStatus string

// Connection statuses, as stored.
const (
	ConnectionUnverified ConnectionStatus = "unverified"
	ConnectionVerified   ConnectionStatus = "verified"
	ConnectionFailed     ConnectionStatus = "failed"
)

// ConnectionStatuses lists every connection status.
var ConnectionStatuses = []ConnectionStatus{ConnectionUnverified, ConnectionVerified, ConnectionFailed}

// ParseConnectionStatus returns the connection status named s or an error.
func ParseConnectionStatus(s string) (ConnectionStatus, error) {
	if v := ConnectionStatus(s); slices.Contains(ConnectionStatuses, v) {
		return v, nil
	}
	return "", fmt.Errorf("unknown connection status %q", s)
}
