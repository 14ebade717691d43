package onboarding

import (
	"slices"
	"testing"

	"github.com/tenantops/onboard/internal/operation"
)

type readinessCase struct {
	name  string
	facts Facts
	want  ReadinessReport
}

func blockers(cs ...ReasonCode) []ReasonCode { return cs }

var readinessCases = []readinessCase{
	{"ReadyAllSucceeded", with(verified(inv), func(f *Facts) { f.Bootstrap = []RunFact{done(inv, operation.OutcomeSucceeded)} }),
		ReadinessReport{Ready: true}},
	{"ReadyBootstrapSkipped", verified(), ReadinessReport{Ready: true}},
	{"Empty", Facts{}, ReadinessReport{Blockers: blockers(ReasonIdentifyIncomplete, ReasonProviderConnectionMissing, ReasonVerificationRequired)}},
	{"EverythingMissing", with(identified(), func(f *Facts) { f.BootstrapOperations = []string{inv} }),
		ReadinessReport{Blockers: blockers(ReasonProviderConnectionMissing, ReasonVerificationRequired, ReasonBootstrapNotStarted)}},
	{"VerificationRequiredOutdated", with(verified(), func(f *Facts) { f.Connection = &ConnectionFact{ID: "c2"} }),
		ReadinessReport{Blockers: blockers(ReasonVerificationRequired)}},
	{"VerificationRequiredCancelled", with(connected(), func(f *Facts) { f.Verification = verifyRun(operation.StatusCompleted, operation.OutcomeCancelled, "") }),
		ReadinessReport{Blockers: blockers(ReasonVerificationRequired)}},
	{"VerificationInProgress", with(connected(), func(f *Facts) { f.Verification = verifyRun(operation.StatusRunning, "", "") }),
		ReadinessReport{Blockers: blockers(ReasonVerificationInProgress)}},
	{"MissingPermissionsOverridable", with(connected(), func(f *Facts) {
		f.Verification = verifyRun(operation.StatusCompleted, operation.OutcomeFailed, ReasonMissingPermissions)
	}), ReadinessReport{Blockers: blockers(ReasonMissingPermissions), Overridable: true}},
	{"ConsentMissingOverridable", with(connected(), func(f *Facts) {
		f.Verification = verifyRun(operation.StatusCompleted, operation.OutcomePartiallySucceeded, ReasonConsentMissing)
	}), ReadinessReport{Blockers: blockers(ReasonConsentMissing), Overridable: true}},
	// A verification that got no answer checked nothing: rerun it, never override it.
	{"UnansweredVerificationNotOverridable", with(connected(), func(f *Facts) {
		f.Verification = verifyRun(operation.StatusCompleted, operation.OutcomeFailed, "")
	}), ReadinessReport{Blockers: blockers(ReasonVerificationUnanswered)}},
	{"UnansweredVerificationNotLiftedByOverride", with(connected(), func(f *Facts) {
		f.Verification = verifyRun(operation.StatusCompleted, operation.OutcomeFailed, "provider_timeout")
		f.Overridden = true
	}), ReadinessReport{Blockers: blockers(ReasonVerificationUnanswered)}},
	{"AnsweredVerificationOverridable", with(connected(), func(f *Facts) {
		f.Verification = verifyRun(operation.StatusCompleted, operation.OutcomeFailed, ReasonConsentMissing)
	}), ReadinessReport{Blockers: blockers(ReasonConsentMissing), Overridable: true}},
	{"ProviderUnreachableNotOverridable", with(connected(), func(f *Facts) {
		f.Verification = verifyRun(operation.StatusCompleted, operation.OutcomeFailed, ReasonProviderUnreachable)
	}), ReadinessReport{Blockers: blockers(ReasonProviderUnreachable)}},
	{"InvalidCredentialsNotLiftedByOverride", with(connected(), func(f *Facts) {
		f.Verification = verifyRun(operation.StatusCompleted, operation.OutcomeFailed, ReasonInvalidCredentials)
		f.Overridden = true
	}), ReadinessReport{Blockers: blockers(ReasonInvalidCredentials)}},
	{"MissingPermissionsAndBootstrapNotStarted", with(connected(), func(f *Facts) {
		f.Verification = verifyRun(operation.StatusCompleted, operation.OutcomeFailed, ReasonMissingPermissions)
		f.BootstrapOperations = []string{inv}
	}), ReadinessReport{Blockers: blockers(ReasonMissingPermissions, ReasonBootstrapNotStarted)}},
	{"BootstrapInProgress", with(verified(inv), func(f *Facts) { f.Bootstrap = []RunFact{bootRun(inv, operation.StatusQueued, "")} }),
		ReadinessReport{Blockers: blockers(ReasonBootstrapInProgress)}},
	{"BootstrapFailedOverridable", with(verified(inv), func(f *Facts) { f.Bootstrap = []RunFact{done(inv, operation.OutcomeFailed)} }),
		ReadinessReport{Blockers: blockers(ReasonBootstrapFailed), Overridable: true}},
	{"BootstrapFailedLiftedByOverride", with(verified(inv), func(f *Facts) {
		f.Bootstrap = []RunFact{done(inv, operation.OutcomeFailed)}
		f.Overridden = true
	}), ReadinessReport{Ready: true, Lifted: blockers(ReasonBootstrapFailed)}},
	{"BootstrapIncompleteOverridable", with(verified(inv), func(f *Facts) {
		f.Bootstrap = []RunFact{done(inv, operation.OutcomePartiallySucceeded)}
	}), ReadinessReport{Blockers: blockers(ReasonBootstrapIncomplete), Overridable: true}},
	{"PartialEverywhereLiftedByOverride", with(connected(), func(f *Facts) {
		f.Verification = verifyRun(operation.StatusCompleted, operation.OutcomePartiallySucceeded, "")
		f.BootstrapOperations = []string{inv}
		f.Bootstrap = []RunFact{done(inv, operation.OutcomePartiallySucceeded)}
		f.Overridden = true
	}), ReadinessReport{Ready: true, Lifted: blockers(ReasonMissingPermissions, ReasonBootstrapIncomplete)}},
	{"OverrideLiftsOnlyOverridable", with(connected(), func(f *Facts) {
		f.TenantID = ""
		f.Verification = verifyRun(operation.StatusCompleted, operation.OutcomeFailed, ReasonMissingPermissions)
		f.Overridden = true
	}), ReadinessReport{Blockers: blockers(ReasonIdentifyIncomplete), Lifted: blockers(ReasonMissingPermissions)}},
	{"Cancelled", with(verified(), func(f *Facts) { f.CancelledAt = testNow }),
		ReadinessReport{Blockers: blockers(ReasonOnboardingCancelled)}},
	{"Completed", with(verified(), func(f *Facts) { f.CompletedAt, f.Overridden = testNow, true }),
		ReadinessReport{Blockers: blockers(ReasonOnboardingCompleted)}},
}

func TestReadiness(t *testing.T) {
	t.Parallel()
	for _, tc := range readinessCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Readiness(tc.facts, Evaluate(tc.facts))
			if got.Ready != tc.want.Ready || got.Overridable != tc.want.Overridable ||
				!slices.Equal(got.Blockers, tc.want.Blockers) || !slices.Equal(got.Lifted, tc.want.Lifted) {
				t.Errorf("Readiness() = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestReadinessIncludesEvaluationBlocking checks that a blocking code in the evaluation is
// listed even when the facts alone would not yield it.
func TestReadinessIncludesEvaluationBlocking(t *testing.T) {
	t.Parallel()
	e := Evaluation{LifecycleReadyForActivation, CheckpointActivate, CheckpointBootstrap, ReasonBootstrapPartiallySucceeded, ReasonBootstrapIncomplete}
	got := Readiness(verified(), e)
	if want := blockers(ReasonBootstrapIncomplete); !slices.Equal(got.Blockers, want) || got.Ready {
		t.Errorf("Readiness() = %+v, want blockers %v and not ready", got, want)
	}
}

func TestCanActivate(t *testing.T) {
	t.Parallel()
	failedBoot := with(verified(inv), func(f *Facts) { f.Bootstrap = []RunFact{done(inv, operation.OutcomeFailed)} })
	mixed := with(connected(), func(f *Facts) {
		f.Verification = verifyRun(operation.StatusCompleted, operation.OutcomeFailed, ReasonMissingPermissions)
		f.BootstrapOperations = []string{inv}
	})
	tests := []struct {
		name     string
		facts    Facts
		override bool
		wantOK   bool
		wantCode ReasonCode
	}{
		{"Ready", verified(), false, true, ""},
		{"ReadyOverrideUnneeded", verified(), true, true, ""},
		{"BlockedWithoutOverride", failedBoot, false, false, ReasonBootstrapFailed},
		{"OverrideAllowed", failedBoot, true, true, ""},
		{"OverrideRecordedEarlier", with(failedBoot, func(f *Facts) { f.Overridden = true }), false, true, ""},
		{"MixedWithoutOverride", mixed, false, false, ReasonMissingPermissions},
		{"MixedOverrideNamesUnoverridable", mixed, true, false, ReasonBootstrapNotStarted},
		{"VerificationInProgress", with(connected(), func(f *Facts) { f.Verification = verifyRun(operation.StatusQueued, "", "") }), true, false, ReasonVerificationInProgress},
		{"Cancelled", with(verified(), func(f *Facts) { f.CancelledAt = testNow }), true, false, ReasonOnboardingCancelled},
		{"Completed", with(verified(), func(f *Facts) { f.CompletedAt = testNow }), false, false, ReasonOnboardingCompleted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ok, code := CanActivate(tc.facts, Evaluate(tc.facts), tc.override)
			if ok != tc.wantOK || code != tc.wantCode {
				t.Errorf("CanActivate(override=%v) = %v, %q; want %v, %q", tc.override, ok, code, tc.wantOK, tc.wantCode)
			}
		})
	}
}
