package onboarding

import (
	"slices"
	"testing"
	"time"

	"github.com/tenantops/onboard/internal/operation"
)

const testTenant = "0f8fad5b-d9cb-469f-a165-70867728950e"

var testNow = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

// identified returns facts with a complete identify step and nothing else.
func identified() Facts {
	return Facts{TenantID: testTenant, DisplayName: "Contoso", PrimaryDomain: "contoso.com"}
}

// connected returns identified facts with connection c1 attached.
func connected() Facts {
	f := identified()
	f.Connection = &ConnectionFact{ID: "c1", Status: ConnectionUnverified}
	return f
}

func verifyRun(st operation.Status, out operation.Outcome, rc ReasonCode) *RunFact {
	return &RunFact{ID: "v1", Type: operation.TypeVerifyAccess, Status: st, Outcome: out, ReasonCode: rc, ConnectionID: "c1"}
}

// verified returns connected facts with a succeeded verification and ops selected.
func verified(ops ...string) Facts {
	f := connected()
	f.Verification = verifyRun(operation.StatusCompleted, operation.OutcomeSucceeded, "")
	f.BootstrapOperations = ops
	return f
}

func bootRun(op string, st operation.Status, out operation.Outcome) RunFact {
	return RunFact{ID: "b-" + op, Type: operation.Type("bootstrap." + op), Status: st, Outcome: out}
}

func done(op string, out operation.Outcome) RunFact {
	return bootRun(op, operation.StatusCompleted, out)
}

const (
	inv    = operation.OpInventorySync
	policy = operation.OpPolicySync
)

func with(f Facts, edit func(*Facts)) Facts {
	edit(&f)
	return f
}

type evaluateCase struct {
	name  string
	facts Facts
	want  Evaluation
}

// evaluateCases is shared with the coverage test: every lifecycle state and reason code must
// appear in some case.
var evaluateCases = []evaluateCase{
	{"IdentifyIncompleteEmpty", Facts{}, Evaluation{LifecycleDraft, CheckpointIdentify, CheckpointNone, ReasonIdentifyIncomplete, ""}},
	{"IdentifyIncompleteBadGUID", with(connected(), func(f *Facts) { f.TenantID = "contoso" }),
		Evaluation{LifecycleDraft, CheckpointIdentify, CheckpointNone, ReasonIdentifyIncomplete, ""}},
	{"IdentifyIncompleteBlankName", with(connected(), func(f *Facts) { f.DisplayName = "  " }),
		Evaluation{LifecycleDraft, CheckpointIdentify, CheckpointNone, ReasonIdentifyIncomplete, ""}},
	{"IdentifyIncompleteNoDomain", with(verified(), func(f *Facts) { f.PrimaryDomain = "" }),
		Evaluation{LifecycleDraft, CheckpointIdentify, CheckpointNone, ReasonIdentifyIncomplete, ""}},
	{"ProviderConnectionMissing", identified(),
		Evaluation{LifecycleDraft, CheckpointConnectProvider, CheckpointIdentify, ReasonProviderConnectionMissing, ""}},
	{"ProviderConnectionMissingStaleVerification", with(verified(), func(f *Facts) { f.Connection = nil }),
		Evaluation{LifecycleDraft, CheckpointConnectProvider, CheckpointIdentify, ReasonProviderConnectionMissing, ""}},
	{"VerificationNotStarted", connected(),
		Evaluation{LifecycleDraft, CheckpointVerifyAccess, CheckpointConnectProvider, ReasonVerificationNotStarted, ""}},
	{"VerificationOutdated", with(verified(), func(f *Facts) { f.Connection = &ConnectionFact{ID: "c2"} }),
		Evaluation{LifecycleDraft, CheckpointVerifyAccess, CheckpointConnectProvider, ReasonVerificationOutdated, ""}},
	{"VerificationQueued", with(connected(), func(f *Facts) { f.Verification = verifyRun(operation.StatusQueued, "", "") }),
		Evaluation{LifecycleVerifying, CheckpointVerifyAccess, CheckpointConnectProvider, ReasonVerificationInProgress, ""}},
	{"VerificationRunning", with(connected(), func(f *Facts) { f.Verification = verifyRun(operation.StatusRunning, "", "") }),
		Evaluation{LifecycleVerifying, CheckpointVerifyAccess, CheckpointConnectProvider, ReasonVerificationInProgress, ""}},
	{"VerificationUnknownStatusCountsAsActive", with(connected(), func(f *Facts) { f.Verification = verifyRun("", "", "") }),
		Evaluation{LifecycleVerifying, CheckpointVerifyAccess, CheckpointConnectProvider, ReasonVerificationInProgress, ""}},
	{"VerificationFailedMissingPermissions", with(connected(), func(f *Facts) {
		f.Verification = verifyRun(operation.StatusCompleted, operation.OutcomeFailed, ReasonMissingPermissions)
	}), Evaluation{LifecycleActionRequired, CheckpointVerifyAccess, CheckpointConnectProvider, ReasonVerificationFailed, ReasonMissingPermissions}},
	{"VerificationFailedConsentMissing", with(connected(), func(f *Facts) {
		f.Verification = verifyRun(operation.StatusCompleted, operation.OutcomeFailed, ReasonConsentMissing)
	}), Evaluation{LifecycleActionRequired, CheckpointVerifyAccess, CheckpointConnectProvider, ReasonVerificationFailed, ReasonConsentMissing}},
	{"VerificationFailedProviderUnreachable", with(connected(), func(f *Facts) {
		f.Verification = verifyRun(operation.StatusCompleted, operation.OutcomeFailed, ReasonProviderUnreachable)
	}), Evaluation{LifecycleActionRequired, CheckpointVerifyAccess, CheckpointConnectProvider, ReasonVerificationFailed, ReasonProviderUnreachable}},
	{"VerificationFailedInvalidCredentials", with(connected(), func(f *Facts) {
		f.Verification = verifyRun(operation.StatusCompleted, operation.OutcomeFailed, ReasonInvalidCredentials)
	}), Evaluation{LifecycleActionRequired, CheckpointVerifyAccess, CheckpointConnectProvider, ReasonVerificationFailed, ReasonInvalidCredentials}},
	{"VerificationFailedNoReason", with(connected(), func(f *Facts) {
		f.Verification = verifyRun(operation.StatusCompleted, operation.OutcomeFailed, "")
	}), Evaluation{LifecycleActionRequired, CheckpointVerifyAccess, CheckpointConnectProvider, ReasonVerificationFailed, ReasonVerificationUnanswered}},
	{"VerificationFailedNonBlockingReason", with(connected(), func(f *Facts) {
		f.Verification = verifyRun(operation.StatusCompleted, operation.OutcomeFailed, ReasonBootstrapFailed)
	}), Evaluation{LifecycleActionRequired, CheckpointVerifyAccess, CheckpointConnectProvider, ReasonVerificationFailed, ReasonVerificationUnanswered}},
	{"VerificationCompletedWithoutOutcomeCountsAsFailed", with(connected(), func(f *Facts) {
		f.Verification = verifyRun(operation.StatusCompleted, "", "")
	}), Evaluation{LifecycleActionRequired, CheckpointVerifyAccess, CheckpointConnectProvider, ReasonVerificationFailed, ReasonVerificationUnanswered}},
	{"VerificationCancelled", with(connected(), func(f *Facts) {
		f.Verification = verifyRun(operation.StatusCompleted, operation.OutcomeCancelled, ReasonMissingPermissions)
	}), Evaluation{LifecycleDraft, CheckpointVerifyAccess, CheckpointConnectProvider, ReasonVerificationCancelled, ""}},
	{"VerificationPartiallySucceeded", with(connected(), func(f *Facts) {
		f.Verification = verifyRun(operation.StatusCompleted, operation.OutcomePartiallySucceeded, "")
	}), Evaluation{LifecycleActionRequired, CheckpointVerifyAccess, CheckpointConnectProvider, ReasonVerificationPartiallySucceeded, ReasonMissingPermissions}},
	{"VerificationPartiallySucceededConsentMissing", with(connected(), func(f *Facts) {
		f.Verification = verifyRun(operation.StatusCompleted, operation.OutcomePartiallySucceeded, ReasonConsentMissing)
	}), Evaluation{LifecycleActionRequired, CheckpointVerifyAccess, CheckpointConnectProvider, ReasonVerificationPartiallySucceeded, ReasonConsentMissing}},
	{"BootstrapInProgress", with(verified(inv, policy), func(f *Facts) {
		f.Bootstrap = []RunFact{done(inv, operation.OutcomeFailed), bootRun(policy, operation.StatusRunning, "")}
	}), Evaluation{LifecycleBootstrapping, CheckpointBootstrap, CheckpointVerifyAccess, ReasonBootstrapInProgress, ""}},
	{"BootstrapInProgressDeselected", with(verified(), func(f *Facts) {
		f.Bootstrap = []RunFact{bootRun(inv, operation.StatusQueued, "")}
	}), Evaluation{LifecycleBootstrapping, CheckpointBootstrap, CheckpointVerifyAccess, ReasonBootstrapInProgress, ""}},
	{"BootstrapSkipped", verified(),
		Evaluation{LifecycleReadyForActivation, CheckpointActivate, CheckpointVerifyAccess, ReasonBootstrapSkipped, ""}},
	{"BootstrapNotStarted", verified(inv),
		Evaluation{LifecycleDraft, CheckpointBootstrap, CheckpointVerifyAccess, ReasonBootstrapNotStarted, ""}},
	{"BootstrapNotStartedOneMissing", with(verified(inv, policy), func(f *Facts) {
		f.Bootstrap = []RunFact{done(inv, operation.OutcomeFailed)}
	}), Evaluation{LifecycleDraft, CheckpointBootstrap, CheckpointVerifyAccess, ReasonBootstrapNotStarted, ""}},
	{"BootstrapNotStartedCancelledRun", with(verified(inv, policy), func(f *Facts) {
		f.Bootstrap = []RunFact{done(inv, operation.OutcomeSucceeded), done(policy, operation.OutcomeCancelled)}
	}), Evaluation{LifecycleDraft, CheckpointBootstrap, CheckpointVerifyAccess, ReasonBootstrapNotStarted, ""}},
	{"BootstrapNotStartedWrongTypeIgnored", with(verified(inv), func(f *Facts) {
		f.Bootstrap = []RunFact{{Type: operation.TypeVerifyAccess, Status: operation.StatusCompleted, Outcome: operation.OutcomeSucceeded}}
	}), Evaluation{LifecycleDraft, CheckpointBootstrap, CheckpointVerifyAccess, ReasonBootstrapNotStarted, ""}},
	{"BootstrapFailed", with(verified(inv, policy), func(f *Facts) {
		f.Bootstrap = []RunFact{done(inv, operation.OutcomePartiallySucceeded), done(policy, operation.OutcomeFailed)}
	}), Evaluation{LifecycleActionRequired, CheckpointBootstrap, CheckpointVerifyAccess, ReasonBootstrapFailed, ReasonBootstrapFailed}},
	{"BootstrapFailedOverriddenUnchanged", with(verified(inv), func(f *Facts) {
		f.Bootstrap = []RunFact{done(inv, operation.OutcomeFailed)}
		f.Overridden = true
	}), Evaluation{LifecycleActionRequired, CheckpointBootstrap, CheckpointVerifyAccess, ReasonBootstrapFailed, ReasonBootstrapFailed}},
	{"BootstrapPartiallySucceeded", with(verified(inv, policy), func(f *Facts) {
		f.Bootstrap = []RunFact{done(inv, operation.OutcomeSucceeded), done(policy, operation.OutcomePartiallySucceeded)}
	}), Evaluation{LifecycleReadyForActivation, CheckpointActivate, CheckpointBootstrap, ReasonBootstrapPartiallySucceeded, ReasonBootstrapIncomplete}},
	{"ReadyForActivation", with(verified(inv, policy), func(f *Facts) {
		f.Bootstrap = []RunFact{done(policy, operation.OutcomeSucceeded), done(inv, operation.OutcomeSucceeded)}
	}), Evaluation{LifecycleReadyForActivation, CheckpointActivate, CheckpointBootstrap, ReasonReadyForActivation, ""}},
	{"ReadyForActivationFirstRunPerOperationCounts", with(verified(inv), func(f *Facts) {
		f.Bootstrap = []RunFact{done(inv, operation.OutcomeSucceeded), done(inv, operation.OutcomeFailed)}
	}), Evaluation{LifecycleReadyForActivation, CheckpointActivate, CheckpointBootstrap, ReasonReadyForActivation, ""}},
	{"Completed", with(verified(), func(f *Facts) { f.CompletedAt = testNow }),
		Evaluation{LifecycleCompleted, CheckpointActivate, CheckpointActivate, ReasonOnboardingCompleted, ""}},
	{"CompletedWithOverride", with(verified(inv), func(f *Facts) {
		f.Bootstrap = []RunFact{done(inv, operation.OutcomeFailed)}
		f.Overridden, f.CompletedAt = true, testNow
	}), Evaluation{LifecycleCompleted, CheckpointActivate, CheckpointActivate, ReasonActivatedWithOverride, ""}},
	{"CancelledAtIdentify", Facts{CancelledAt: testNow},
		Evaluation{LifecycleCancelled, CheckpointIdentify, CheckpointNone, ReasonOnboardingCancelled, ""}},
	{"CancelledKeepsCheckpointsDropsBlocking", with(connected(), func(f *Facts) {
		f.Verification = verifyRun(operation.StatusCompleted, operation.OutcomeFailed, ReasonMissingPermissions)
		f.CancelledAt = testNow
	}), Evaluation{LifecycleCancelled, CheckpointVerifyAccess, CheckpointConnectProvider, ReasonOnboardingCancelled, ""}},
	{"CancelledAfterCompleted", with(verified(), func(f *Facts) { f.CancelledAt, f.CompletedAt = testNow, testNow }),
		Evaluation{LifecycleCancelled, CheckpointActivate, CheckpointActivate, ReasonOnboardingCancelled, ""}},
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	for _, tc := range evaluateCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Evaluate(tc.facts); got != tc.want {
				t.Errorf("Evaluate() = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestCoverage fails when a lifecycle state or reason code is added without a rule and a case
// that reaches it.
func TestCoverage(t *testing.T) {
	t.Parallel()
	reasons := map[ReasonCode]bool{}
	states := map[Lifecycle]bool{}
	for _, tc := range evaluateCases {
		e := Evaluate(tc.facts)
		states[e.Lifecycle] = true
		reasons[e.Reason], reasons[e.Blocking] = true, true
	}
	for _, tc := range readinessCases {
		r := Readiness(tc.facts, Evaluate(tc.facts))
		for _, c := range slices.Concat(r.Blockers, r.Lifted) {
			reasons[c] = true
		}
	}
	t.Run("ReasonCodes", func(t *testing.T) {
		t.Parallel()
		for _, c := range ReasonCodes {
			if !reasons[c] {
				t.Errorf("reason code %q is reached by no Evaluate or Readiness case", c)
			}
		}
	})
	t.Run("Lifecycles", func(t *testing.T) {
		t.Parallel()
		for _, l := range Lifecycles {
			if !states[l] {
				t.Errorf("lifecycle %q is reached by no Evaluate case", l)
			}
		}
	})
}

func TestDraftApply(t *testing.T) {
	t.Parallel()
	f := with(verified(inv), func(f *Facts) { f.Bootstrap = []RunFact{done(inv, operation.OutcomeFailed)} })
	var d Draft
	d.Apply(Evaluate(f))
	got := [5]string{string(d.Lifecycle), string(d.CurrentCheckpoint), string(d.LastCompletedCheckpoint), string(d.ReasonCode), string(d.BlockingReasonCode)}
	want := [5]string{"action_required", "bootstrap", "verify_access", "bootstrap_failed", "bootstrap_failed"}
	if got != want {
		t.Errorf("after Apply: got %q, want %q", got, want)
	}
}

func TestDraftOpen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		draft Draft
		want  bool
	}{
		{"New", Draft{Lifecycle: LifecycleDraft}, true},
		{"Ready", Draft{Lifecycle: LifecycleReadyForActivation}, true},
		{"CompletedAt", Draft{Lifecycle: LifecycleReadyForActivation, CompletedAt: testNow}, false},
		{"CancelledAt", Draft{CancelledAt: testNow}, false},
		{"CompletedState", Draft{Lifecycle: LifecycleCompleted}, false},
		{"CancelledState", Draft{Lifecycle: LifecycleCancelled}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.draft.Open(); got != tc.want {
				t.Errorf("Open() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDraftFacts(t *testing.T) {
	t.Parallel()
	d := Draft{TenantID: testTenant, DisplayName: "Contoso", PrimaryDomain: "contoso.com",
		BootstrapOperations: []string{inv}, OverrideReason: "accepted by owner", CompletedAt: testNow}
	conn := &ConnectionFact{ID: "c1"}
	v := verifyRun(operation.StatusCompleted, operation.OutcomeSucceeded, "")
	f := d.Facts(conn, v, nil)
	if !f.Overridden || f.Connection != conn || f.Verification != v || !f.CompletedAt.Equal(testNow) ||
		f.TenantID != testTenant || !slices.Equal(f.BootstrapOperations, d.BootstrapOperations) {
		t.Errorf("Facts() = %+v, want the draft's fields, Overridden true", f)
	}
	if got, want := Evaluate(f).Reason, ReasonActivatedWithOverride; got != want {
		t.Errorf("Evaluate(Facts()).Reason = %q, want %q", got, want)
	}
}
