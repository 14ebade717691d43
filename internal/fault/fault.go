// Package fault is the error vocabulary every layer shares: the domain packages return (or
// wrap) these sentinels, typed errors unwrap to them, and the web edge maps each to its HTTP
// status, WebSocket close code, poll answer and metric label in one table (internal/web,
// errors.go). It imports only the standard library and nothing imports it for anything else.
package fault

import "errors"

var (
	// ErrNotFound: no such thing for this caller, or the caller is not a member of its
	// workspace (deny as not found).
	ErrNotFound = errors.New("not found")
	// ErrForbidden: a member lacks the capability.
	ErrForbidden = errors.New("forbidden")
	// ErrConflict: the caller's version is stale (onboarding.ConflictError).
	ErrConflict = errors.New("version conflict")
	// ErrPreconditionRequired: a versioned write came without the version it expects.
	ErrPreconditionRequired = errors.New("precondition required")
	// ErrInvalid: invalid input (onboarding.ValidationError) or an invalid live subscription.
	ErrInvalid = errors.New("invalid")
	// ErrBlocked: the action is not allowed in the draft's current state
	// (onboarding.BlockedError).
	ErrBlocked = errors.New("blocked")
	// ErrGone: the thing existed and no longer does (a live Source's draft was deleted).
	ErrGone = errors.New("gone")
)
