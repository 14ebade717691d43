package operation

import (
	"errors"
	"fmt"
	"time"
)

// Run is one execution of an operation (verification or a bootstrap operation) for one
// tenant of a workspace. Zero times mean "not yet".
type Run struct {
	ID             string
	WorkspaceID    int64
	TenantID       string
	DraftID        string
	Type           Type
	Status         Status
	Outcome        Outcome
	Counts         Counts
	Context        map[string]any // free-form, JSON-serialisable details (report, items); never secrets
	ReasonCode     string         // one of RunReasons, "" when none
	InitiatorID    int64
	InitiatorEmail string
	Attempt        int
	CreatedAt      time.Time
	StartedAt      time.Time
	CompletedAt    time.Time
	Rev            int64
}

// Active reports whether r still counts as the one active run of its tenant and type.
func (r Run) Active() bool { return r.Status.Active() }

// ErrInvalidCounts is wrapped by Counts.Validate.
var ErrInvalidCounts = errors.New("invalid summary counts")

// Counts are a run's summary counts. Items not yet accounted for are
// Total - Succeeded - Failed - Skipped.
type Counts struct {
	Total     int `json:"total"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	Skipped   int `json:"skipped"`
}

// Validate reports an error wrapping ErrInvalidCounts when a count is negative or the
// accounted items exceed the total.
func (c Counts) Validate() error {
	if c.Total < 0 || c.Succeeded < 0 || c.Failed < 0 || c.Skipped < 0 {
		return fmt.Errorf("%w: negative count in %+v", ErrInvalidCounts, c)
	}
	// Compare without summing first so huge values cannot overflow into a false pass.
	if c.Succeeded > c.Total || c.Failed > c.Total-c.Succeeded || c.Skipped > c.Total-c.Succeeded-c.Failed {
		return fmt.Errorf("%w: succeeded+failed+skipped exceeds total in %+v", ErrInvalidCounts, c)
	}
	return nil
}

// Done returns how many items have been accounted for.
func (c Counts) Done() int { return c.Succeeded + c.Failed + c.Skipped }

// OutcomeFor derives a completed run's outcome from its counts.
//
//   - failedHard (the run aborted: permanent provider error, could not start) with nothing
//     succeeded → failed; with some items succeeded → partially_succeeded, because that work
//     happened and is visible.
//   - Items never accounted for (Total > Succeeded+Failed+Skipped) count as failed: a run that
//     finished without reporting an item did not do it.
//   - No failures → succeeded (skipped items do not spoil success; an empty run succeeds).
//   - Some succeeded and some failed → partially_succeeded; none succeeded → failed.
func OutcomeFor(counts Counts, failedHard bool) Outcome {
	failed := counts.Failed
	if missing := counts.Total - counts.Done(); missing > 0 {
		failed += missing
	}
	switch {
	case failed == 0 && !failedHard:
		return OutcomeSucceeded
	case counts.Succeeded > 0:
		return OutcomePartiallySucceeded
	default:
		return OutcomeFailed
	}
}
