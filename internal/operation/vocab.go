// Package operation is the domain of operation runs: their vocabulary, the legal status and
// outcome transitions, summary counts and the start gate's rules. Standard library only.
package operation

import (
	"fmt"
	"regexp"
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

// ParseStatus returns the status named s or an error.
func ParseStatus(s string) (Status, error) {
	switch v := Status(s); v {
	case StatusQueued, StatusRunning, StatusCompleted:
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

// ParseOutcome returns the outcome named s ("" is OutcomeNone) or an error.
func ParseOutcome(s string) (Outcome, error) {
	switch v := Outcome(s); v {
	case OutcomeNone, OutcomeSucceeded, OutcomePartiallySucceeded, OutcomeFailed, OutcomeCancelled:
		return v, nil
	}
	return "", fmt.Errorf("unknown run outcome %q", s)
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
