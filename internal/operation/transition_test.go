package operation

import (
	"errors"
	"fmt"
	"testing"
)

type runState struct {
	status  Status
	outcome Outcome
}

func (s runState) String() string { return fmt.Sprintf("%s/%s", s.status, outcomeName(s.outcome)) }

// legalTransitions is the complete list of legal moves; every other pair of states, including
// the inconsistent ones and unknown values, must be refused.
var legalTransitions = map[[2]runState]bool{
	{{StatusQueued, OutcomeNone}, {StatusRunning, OutcomeNone}}:                  true,
	{{StatusQueued, OutcomeNone}, {StatusCompleted, OutcomeCancelled}}:           true,
	{{StatusQueued, OutcomeNone}, {StatusCompleted, OutcomeFailed}}:              true,
	{{StatusRunning, OutcomeNone}, {StatusRunning, OutcomeNone}}:                 true,
	{{StatusRunning, OutcomeNone}, {StatusCompleted, OutcomeSucceeded}}:          true,
	{{StatusRunning, OutcomeNone}, {StatusCompleted, OutcomePartiallySucceeded}}: true,
	{{StatusRunning, OutcomeNone}, {StatusCompleted, OutcomeFailed}}:             true,
	{{StatusRunning, OutcomeNone}, {StatusCompleted, OutcomeCancelled}}:          true,
}

func TestTransitionExhaustive(t *testing.T) {
	t.Parallel()
	statuses := []Status{StatusQueued, StatusRunning, StatusCompleted, "bogus", ""}
	outcomes := []Outcome{OutcomeNone, OutcomeSucceeded, OutcomePartiallySucceeded, OutcomeFailed, OutcomeCancelled, "bogus"}
	var states []runState
	for _, s := range statuses {
		for _, o := range outcomes {
			states = append(states, runState{s, o})
		}
	}
	seen := 0
	for _, from := range states {
		for _, to := range states {
			want := legalTransitions[[2]runState{from, to}]
			if want {
				seen++
			}
			t.Run(from.String()+"→"+to.String(), func(t *testing.T) {
				t.Parallel()
				err := Transition(from.status, from.outcome, to.status, to.outcome)
				if got := err == nil; got != want {
					t.Fatalf("Transition(%s → %s) = %v, want legal=%v", from, to, err, want)
				}
				if err != nil && !errors.Is(err, ErrIllegalTransition) {
					t.Errorf("Transition(%s → %s) = %v, want wrapping ErrIllegalTransition", from, to, err)
				}
			})
		}
	}
	if seen != len(legalTransitions) {
		t.Fatalf("legal table has %d entries, %d were enumerated", len(legalTransitions), seen)
	}
}
