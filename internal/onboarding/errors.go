package onboarding

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/tenantops/onboard/internal/fault"
)

// The typed errors below carry detail and match their fault sentinel (the error vocabulary
// every layer shares, mapped once in internal/web) with errors.Is.

// ConflictError reports a stale version, with who changed the draft last and, when loaded,
// the current draft.
type ConflictError struct {
	CurrentVersion int64
	UpdatedBy      string
	UpdatedAt      time.Time
	Current        *Draft
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("version conflict: current version %d, updated by %s at %s",
		e.CurrentVersion, e.UpdatedBy, e.UpdatedAt.UTC().Format(time.RFC3339))
}

// Unwrap makes errors.Is(err, fault.ErrConflict) hold.
func (e *ConflictError) Unwrap() error { return fault.ErrConflict }

// ValidationError maps invalid fields (by their JSON names) to a message.
type ValidationError struct {
	Fields map[string]string
}

// Add records msg for field; the first message recorded for a field is kept.
func (v *ValidationError) Add(field, msg string) {
	if v.Fields == nil {
		v.Fields = map[string]string{}
	}
	if _, ok := v.Fields[field]; !ok {
		v.Fields[field] = msg
	}
}

// Merge adds the fields of other (which may be nil) to v.
func (v *ValidationError) Merge(other *ValidationError) {
	if other == nil {
		return
	}
	for _, f := range slices.Sorted(maps.Keys(other.Fields)) {
		v.Add(f, other.Fields[f])
	}
}

// Err returns v as an error, or nil when v is nil or records no field. Use it rather than
// converting a *ValidationError to error directly, which would make a nil pointer non-nil.
func (v *ValidationError) Err() error {
	if v == nil || len(v.Fields) == 0 {
		return nil
	}
	return v
}

func (v *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("invalid input")
	for i, f := range slices.Sorted(maps.Keys(v.Fields)) {
		sep := "; "
		if i == 0 {
			sep = ": "
		}
		fmt.Fprintf(&b, "%s%s: %s", sep, f, v.Fields[f])
	}
	return b.String()
}

// Unwrap makes errors.Is(err, fault.ErrInvalid) hold.
func (v *ValidationError) Unwrap() error { return fault.ErrInvalid }

// BlockedError reports an action refused because of the draft's state, with the reason code
// returned to the client as blocking_reason_code.
type BlockedError struct {
	Code ReasonCode
}

func (e *BlockedError) Error() string { return "blocked: " + string(e.Code) }

// Unwrap makes errors.Is(err, fault.ErrBlocked) hold.
func (e *BlockedError) Unwrap() error { return fault.ErrBlocked }
