package operation

import (
	"errors"
	"fmt"
)

// ErrIllegalTransition is wrapped by every error Transition returns.
var ErrIllegalTransition = errors.New("illegal run transition")

// Transition reports whether a run may move from (from, fromOutcome) to (to, outcome).
// The only legal moves are:
//
//	queued    → running              (a worker picked it up)
//	running   → running              (progress; counts and rev move, status does not)
//	queued    → completed/cancelled  (cancelled before it started)
//	queued    → completed/failed     (could not start, e.g. the gate closed meanwhile)
//	running   → completed/<any outcome>
//
// completed is final. An outcome is set exactly when the status is completed, on both
// sides: a "from" state that breaks this rule is corrupt and nothing may leave it.
func Transition(from Status, fromOutcome Outcome, to Status, outcome Outcome) error {
	illegal := func(why string) error {
		return fmt.Errorf("%w: %s/%s → %s/%s: %s", ErrIllegalTransition,
			from, outcomeName(fromOutcome), to, outcomeName(outcome), why)
	}
	if !consistent(from, fromOutcome) {
		return illegal("inconsistent current state")
	}
	if !consistent(to, outcome) {
		return illegal("outcome must be set exactly when completed")
	}
	switch from {
	case StatusQueued:
		switch to {
		case StatusRunning:
			return nil
		case StatusCompleted:
			if outcome == OutcomeCancelled || outcome == OutcomeFailed {
				return nil
			}
			return illegal("a run that never started can only be cancelled or fail")
		}
		return illegal("a queued run stays queued without a transition")
	case StatusRunning:
		if to == StatusQueued {
			return illegal("a started run cannot be queued again")
		}
		return nil // running (progress) or completed with any outcome
	}
	return illegal("a completed run is final")
}

// consistent reports whether s and o form a valid stored state.
func consistent(s Status, o Outcome) bool {
	if _, err := ParseStatus(string(s)); err != nil {
		return false
	}
	if _, err := ParseOutcome(string(o)); err != nil {
		return false
	}
	return (s == StatusCompleted) == (o != OutcomeNone)
}

func outcomeName(o Outcome) string {
	if o == OutcomeNone {
		return "-"
	}
	return string(o)
}
