package operation

import (
	"errors"
	"math"
	"testing"
)

func TestCountsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		counts Counts
		ok     bool
	}{
		{"Zero", Counts{}, true},
		{"AllSucceeded", Counts{Total: 3, Succeeded: 3}, true},
		{"Mixed", Counts{Total: 10, Succeeded: 5, Failed: 3, Skipped: 2}, true},
		{"InProgress", Counts{Total: 10, Succeeded: 2}, true},
		{"NegativeTotal", Counts{Total: -1}, false},
		{"NegativeSucceeded", Counts{Total: 1, Succeeded: -1}, false},
		{"NegativeFailed", Counts{Total: 1, Failed: -1}, false},
		{"NegativeSkipped", Counts{Total: 1, Skipped: -1}, false},
		{"SucceededOverTotal", Counts{Total: 1, Succeeded: 2}, false},
		{"SumOverTotal", Counts{Total: 3, Succeeded: 1, Failed: 1, Skipped: 2}, false},
		{"Overflow", Counts{Total: math.MaxInt, Succeeded: math.MaxInt, Failed: math.MaxInt, Skipped: 2}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.counts.Validate()
			if got := err == nil; got != tt.ok {
				t.Fatalf("Validate(%+v) = %v, want ok=%v", tt.counts, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidCounts) {
				t.Errorf("Validate(%+v) = %v, want wrapping ErrInvalidCounts", tt.counts, err)
			}
		})
	}
}

func TestOutcomeFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		counts     Counts
		failedHard bool
		want       Outcome
	}{
		{"Empty", Counts{}, false, OutcomeSucceeded},
		{"AllSucceeded", Counts{Total: 4, Succeeded: 4}, false, OutcomeSucceeded},
		{"SucceededAndSkipped", Counts{Total: 4, Succeeded: 3, Skipped: 1}, false, OutcomeSucceeded},
		{"AllSkipped", Counts{Total: 2, Skipped: 2}, false, OutcomeSucceeded},
		{"SomeFailed", Counts{Total: 4, Succeeded: 3, Failed: 1}, false, OutcomePartiallySucceeded},
		{"AllFailed", Counts{Total: 4, Failed: 4}, false, OutcomeFailed},
		{"FailedAndSkipped", Counts{Total: 4, Failed: 2, Skipped: 2}, false, OutcomeFailed},
		{"UnaccountedCountAsFailed", Counts{Total: 4, Succeeded: 2}, false, OutcomePartiallySucceeded},
		{"NothingAccounted", Counts{Total: 4}, false, OutcomeFailed},
		{"HardNothingDone", Counts{}, true, OutcomeFailed},
		{"HardAfterSomeSucceeded", Counts{Total: 4, Succeeded: 2}, true, OutcomePartiallySucceeded},
		{"HardAllSucceeded", Counts{Total: 4, Succeeded: 4}, true, OutcomePartiallySucceeded},
		{"HardNoneSucceeded", Counts{Total: 4, Failed: 1}, true, OutcomeFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := OutcomeFor(tt.counts, tt.failedHard); got != tt.want {
				t.Errorf("OutcomeFor(%+v, %v) = %q, want %q", tt.counts, tt.failedHard, got, tt.want)
			}
		})
	}
}

func TestRunActive(t *testing.T) {
	t.Parallel()
	for s, want := range map[Status]bool{StatusQueued: true, StatusRunning: true, StatusCompleted: false} {
		if got := (Run{Status: s}).Active(); got != want {
			t.Errorf("Run{Status: %q}.Active() = %v, want %v", s, got, want)
		}
	}
}
