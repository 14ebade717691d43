// Package operation is the domain of operation runs: their vocabulary, the legal status and
// outcome transitions, summary counts and the start gate's rules. Standard library only.
package operation

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Status is where a run is in its life: queued → running → completed.
type Status string

// Statuses, as stored.
const (
	StatusQueued    Status = "queued"
	StatusRunning   Status = "running"
	StatusCompleted Status = "completed"
)

// Statuses lists every status in the order a run passes through them.
var Statuses = []Status{StatusQueued, StatusRunning, StatusCompleted}

// ParseStatus returns the status named s or an error.
func ParseStatus(s string) (Status, error) {
	if v := Status(s); slices.Contains(Statuses, v) {
		return v, nil
	}
	return "", fmt.Errorf("unknown run status %q", s)
}

// Active reports whether a run in this status still counts as the one active run of its
// tenant and type.
func (s Status) Active() bool { return s == StatusQueued || s == StatusRunning }

// Outcome is set exactly when a run is completed.
type Outcome string

// Outcomes, as stored. The zero value means "not completed yet".
const (
	OutcomeNone               Outcome = ""
	OutcomeSucceeded          Outcome = "succeeded"
	OutcomePartiallySucceeded Outcome = "partially_succeeded"
	OutcomeFailed             Outcome = "failed"
	OutcomeCancelled          Outcome = "cancelled"
)

// Outcomes lists every outcome of a completed run (not OutcomeNone).
var Outcomes = []Outcome{OutcomeSucceeded, OutcomePartiallySucceeded, OutcomeFailed, OutcomeCancelled}

// ParseOutcome returns the outcome named s ("" is OutcomeNone) or an error.
func ParseOutcome(s string) (Outcome, error) {
	if v := Outcome(s); v == OutcomeNone || slices.Contains(Outcomes, v) {
		return v, nil
	}
	return "", fmt.Errorf("unknown run outcome %q", s)
}

// Reason codes a completed run's reason_code may hold: why it did not succeed. The provider
// reports the first four in its verification report; the workers give the others. This is
// their one home: the provider, the workers and the onboarding rules all name them from here.
const (
	// ReasonMissingPermissions: the app registration lacks required permissions.
	ReasonMissingPermissions = "missing_permissions"
	// ReasonConsentMissing: no administrator consented to the app in the tenant.
	ReasonConsentMissing = "consent_missing"
	// ReasonInvalidCredentials: the client id or secret was rejected.
	ReasonInvalidCredentials = "invalid_credentials"
	// ReasonProviderUnreachable: the provider could not be reached; for the workers, every
	// attempt failed transiently (throttled, unavailable).
	ReasonProviderUnreachable = "provider_unreachable"
	// ReasonProviderTimeout: the last attempt ran longer than the job timeout.
	ReasonProviderTimeout = "provider_timeout"
	// ReasonProviderError: the provider failed permanently (e.g. unknown operation).
	ReasonProviderError = "provider_error"
	// ReasonWorkerLost: the worker died and no attempt was left to retry.
	ReasonWorkerLost = "worker_lost"
)

// ReportReasons lists the reasons a provider's verification report may carry: each is a
// finding that fails the verification and is shown as the draft's blocking reason.
var ReportReasons = []string{
	ReasonMissingPermissions, ReasonConsentMissing, ReasonInvalidCredentials, ReasonProviderUnreachable,
}

// RunReasons lists every reason code a run may carry.
var RunReasons = []string{
	ReasonMissingPermissions, ReasonConsentMissing, ReasonInvalidCredentials, ReasonProviderUnreachable,
	ReasonProviderTimeout, ReasonProviderError, ReasonWorkerLost,
}

// Type is what a run does: verify_access, or bootstrap.<operation>.
type Type string

// TypeVerifyAccess is the verification run's type.
const TypeVerifyAccess Type = "verify_access"

// bootstrapPrefix starts every bootstrap run type.
const bootstrapPrefix = "bootstrap."

// Bootstrap operations offered by the console.
const (
	OpInventorySync    = "inventory_sync"
	OpPolicySync       = "policy_sync"
	OpBaselineSnapshot = "baseline_snapshot"
)

// BootstrapOperations lists the known bootstrap operations in display order.
var BootstrapOperations = []string{OpInventorySync, OpPolicySync, OpBaselineSnapshot}

var opName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// BootstrapType returns the run type of one bootstrap operation, or an error for an unknown one.
func BootstrapType(op string) (Type, error) {
	for _, known := range BootstrapOperations {
		if op == known {
			return Type(bootstrapPrefix + op), nil
		}
	}
	return "", fmt.Errorf("unknown bootstrap operation %q", op)
}

// Types lists every run type: verification, then each bootstrap operation's in display order.
func Types() []Type {
	out := []Type{TypeVerifyAccess}
	for _, op := range BootstrapOperations {
		out = append(out, Type(bootstrapPrefix+op))
	}
	return out
}

// ParseType returns the run type named s or an error.
func ParseType(s string) (Type, error) {
	if Type(s) == TypeVerifyAccess {
		return TypeVerifyAccess, nil
	}
	if op, ok := strings.CutPrefix(s, bootstrapPrefix); ok && opName.MatchString(op) {
		return BootstrapType(op)
	}
	return "", fmt.Errorf("unknown run type %q", s)
}

// Operation returns the bootstrap operation of a bootstrap type, or "" for other types.
func (t Type) Operation() string {
	op, _ := strings.CutPrefix(string(t), bootstrapPrefix)
	if op == string(t) {
		return ""
	}
	return op
}

// IsBootstrap reports whether t is a bootstrap run type.
func (t Type) IsBootstrap() bool { return strings.HasPrefix(string(t), bootstrapPrefix) }
