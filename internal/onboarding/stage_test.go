package onboarding

import "testing"

func TestResolveStage(t *testing.T) {
	t.Parallel()
	const T, F = true, false
	tests := []struct {
		name   string
		e      Evaluation
		stored int
		want   Stage
	}{
		{"IdentifyClampsForwardStep",
			Evaluation{LifecycleDraft, CheckpointIdentify, CheckpointNone, ReasonIdentifyIncomplete, ""}, 3,
			Stage{Step: 1, Reachable: [5]bool{T, F, F, F, F}}},
		{"UnsetStepOpensCurrent",
			Evaluation{LifecycleDraft, CheckpointVerifyAccess, CheckpointConnectProvider, ReasonVerificationNotStarted, ""}, 0,
			Stage{Step: 3, Reachable: [5]bool{T, T, T, F, F}, Done: [5]bool{T, T, F, F, F}}},
		{"NegativeStepOpensCurrent",
			Evaluation{LifecycleDraft, CheckpointConnectProvider, CheckpointIdentify, ReasonProviderConnectionMissing, ""}, -4,
			Stage{Step: 2, Reachable: [5]bool{T, T, F, F, F}, Done: [5]bool{T, F, F, F, F}}},
		{"BackStepKept",
			Evaluation{LifecycleActionRequired, CheckpointVerifyAccess, CheckpointConnectProvider, ReasonVerificationFailed, ReasonMissingPermissions}, 2,
			Stage{Step: 2, Reachable: [5]bool{T, T, T, F, F}, Done: [5]bool{T, T, F, F, F}, Blocked: [5]bool{F, F, T, F, F}}},
		{"OutOfRangeStepClamped",
			Evaluation{LifecycleBootstrapping, CheckpointBootstrap, CheckpointVerifyAccess, ReasonBootstrapInProgress, ""}, 9,
			Stage{Step: 4, Reachable: [5]bool{T, T, T, T, F}, Done: [5]bool{T, T, T, F, F}}},
		{"ReadyWithBlocker",
			Evaluation{LifecycleReadyForActivation, CheckpointActivate, CheckpointBootstrap, ReasonBootstrapPartiallySucceeded, ReasonBootstrapIncomplete}, 5,
			Stage{Step: 5, Reachable: [5]bool{T, T, T, T, T}, Done: [5]bool{T, T, T, T, F}, Blocked: [5]bool{F, F, F, F, T}}},
		{"CompletedAllReadable",
			Evaluation{LifecycleCompleted, CheckpointActivate, CheckpointActivate, ReasonOnboardingCompleted, ""}, 2,
			Stage{Step: 2, Reachable: [5]bool{T, T, T, T, T}, Done: [5]bool{T, T, T, T, T}}},
		{"CancelledAllReadable",
			Evaluation{LifecycleCancelled, CheckpointConnectProvider, CheckpointIdentify, ReasonOnboardingCancelled, ""}, 5,
			Stage{Step: 5, Reachable: [5]bool{T, T, T, T, T}, Done: [5]bool{T, F, F, F, F}}},
		{"CancelledUnsetStepOpensCurrent",
			Evaluation{LifecycleCancelled, CheckpointConnectProvider, CheckpointIdentify, ReasonOnboardingCancelled, ""}, 0,
			Stage{Step: 2, Reachable: [5]bool{T, T, T, T, T}, Done: [5]bool{T, F, F, F, F}}},
		{"ZeroEvaluation", Evaluation{}, 3, Stage{Step: 1, Reachable: [5]bool{T, F, F, F, F}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := ResolveStage(tc.e, tc.stored); got != tc.want {
				t.Errorf("ResolveStage(%+v, %d) = %+v, want %+v", tc.e, tc.stored, got, tc.want)
			}
		})
	}
}
