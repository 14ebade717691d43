package onboarding

import (
	"errors"
	"fmt"
	"testing"

	"github.com/tenantops/onboard/internal/fault"
)

func TestErrorsMatchSentinels(t *testing.T) {
	t.Parallel()
	invalid := &ValidationError{}
	invalid.Add("tenant_id", "must be a GUID")
	tests := []struct {
		name     string
		err      error
		sentinel error
	}{
		{"ErrConflict", &ConflictError{CurrentVersion: 7, UpdatedBy: "ann@example.com", UpdatedAt: testNow}, fault.ErrConflict},
		{"ErrInvalid", invalid, fault.ErrInvalid},
		{"ErrBlocked", &BlockedError{Code: ReasonProviderConnectionMissing}, fault.ErrBlocked},
	}
	all := []error{fault.ErrNotFound, fault.ErrForbidden, fault.ErrConflict, fault.ErrPreconditionRequired, fault.ErrInvalid, fault.ErrBlocked}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wrapped := fmt.Errorf("update draft: %w", tc.err)
			for _, s := range all {
				if got, want := errors.Is(wrapped, s), s == tc.sentinel; got != want {
					t.Errorf("errors.Is(%v, %v) = %v, want %v", wrapped, s, got, want)
				}
			}
			if tc.err.Error() == "" {
				t.Errorf("Error() is empty")
			}
		})
	}
	t.Run("As", func(t *testing.T) {
		t.Parallel()
		var be *BlockedError
		if err := fmt.Errorf("activate: %w", &BlockedError{Code: ReasonBootstrapFailed}); !errors.As(err, &be) || be.Code != ReasonBootstrapFailed {
			t.Errorf("errors.As(BlockedError) = %v, want code %q", be, ReasonBootstrapFailed)
		}
	})
}

func TestValidationError(t *testing.T) {
	t.Parallel()
	t.Run("NilErr", func(t *testing.T) {
		t.Parallel()
		var v *ValidationError
		if err := v.Err(); err != nil {
			t.Errorf("nil.Err() = %v, want nil", err)
		}
		if err := (&ValidationError{}).Err(); err != nil {
			t.Errorf("empty.Err() = %v, want nil", err)
		}
	})
	t.Run("FirstMessageKeptAndMerged", func(t *testing.T) {
		t.Parallel()
		var v ValidationError
		v.Add("display_name", "is required")
		v.Add("display_name", "too long")
		other := &ValidationError{}
		other.Add("current_step", "must be between 1 and 5")
		other.Add("display_name", "ignored")
		v.Merge(other)
		v.Merge(nil)
		want := "invalid input: current_step: must be between 1 and 5; display_name: is required"
		if got := v.Err(); got == nil || got.Error() != want {
			t.Errorf("Err() = %v, want %q", got, want)
		}
	})
}
