package views

import (
	"testing"

	"github.com/tenantops/onboard/internal/invitation"
	"github.com/tenantops/onboard/internal/membership"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/operation"
	"github.com/tenantops/onboard/internal/provider"
)

// reasonCodes is every reason code the domain gives: a draft's reason and blocking reason, a
// refused write's, the start gate's, a run's and a membership change's.
func reasonCodes() []string {
	out := codeStrings(onboarding.ReasonCodes)
	out = append(out, codeStrings(onboarding.RefusalCodes)...)
	out = append(out, operation.GateReasons...)
	out = append(out, operation.RunReasons...)
	return append(out, string(membership.ReasonLastOwner), string(invitation.ReasonAccepted), string(invitation.ReasonRevoked))
}

// TestEveryCodeHasWords: every code the domain defines — reason codes, lifecycle states,
// checkpoints, run statuses, outcomes and types, bootstrap operations, connection, check and
// item statuses — reads as words, never as the raw code; and the word tables speak of no
// code the domain does not define (a renamed code cannot leave its words behind).
func TestEveryCodeHasWords(t *testing.T) {
	t.Parallel()
	words := func(t *testing.T, code, got string) {
		t.Helper()
		if got == "" || got == code || got == "—" {
			t.Errorf("%q reads %q, want words", code, got)
		}
	}
	t.Run("ReasonCode", func(t *testing.T) {
		for _, c := range reasonCodes() {
			words(t, c, ReasonText(c))
		}
	})
	t.Run("Lifecycle", func(t *testing.T) {
		for _, l := range onboarding.Lifecycles {
			words(t, string(l), LifecycleBadge(string(l)).Label)
		}
	})
	t.Run("Checkpoint", func(t *testing.T) {
		if len(stepTitles) != onboarding.Steps || len(onboarding.Checkpoints) != onboarding.Steps {
			t.Fatalf("%d step titles, %d checkpoints, want %d", len(stepTitles), len(onboarding.Checkpoints), onboarding.Steps)
		}
		for _, c := range onboarding.Checkpoints {
			words(t, string(c), CheckpointBadge(string(c)).Label)
			words(t, string(c), stepTitles[c.Step()-1])
		}
	})
	t.Run("RunStatus", func(t *testing.T) {
		for _, s := range operation.Statuses {
			words(t, string(s), RunBadge(string(s), "").Label)
		}
	})
	t.Run("Outcome", func(t *testing.T) {
		for _, o := range operation.Outcomes {
			words(t, string(o), RunBadge(string(operation.StatusCompleted), string(o)).Label)
		}
	})
	t.Run("RunType", func(t *testing.T) {
		for _, typ := range operation.Types() {
			words(t, string(typ), RunTypeText(string(typ)))
			words(t, string(typ), RunTypeFullText(string(typ)))
		}
		if got, want := RunTypeFullText("bootstrap.baseline_snapshot"), "Bootstrap: Baseline snapshot"; got != want {
			t.Errorf("RunTypeFullText = %q, want %q", got, want)
		}
	})
	t.Run("Operation", func(t *testing.T) {
		for _, op := range operation.BootstrapOperations {
			words(t, op, OperationName(op))
			words(t, op, operationHints[op])
		}
	})
	t.Run("ConnectionStatus", func(t *testing.T) {
		for _, s := range onboarding.ConnectionStatuses {
			words(t, string(s), ConnectionBadge(string(s)).Label)
		}
	})
	t.Run("CheckStatus", func(t *testing.T) {
		for _, s := range provider.CheckStatuses {
			words(t, s, CheckBadge(s).Label)
		}
	})
	t.Run("ItemStatus", func(t *testing.T) {
		for _, s := range provider.ItemStatuses {
			words(t, s, ItemBadge(s).Label)
		}
	})
	t.Run("NoStrayWords", func(t *testing.T) {
		known := func(codes ...[]string) map[string]bool {
			m := map[string]bool{}
			for _, cs := range codes {
				for _, c := range cs {
					m[c] = true
				}
			}
			return m
		}
		for _, table := range []struct {
			name  string
			keys  []string
			codes map[string]bool
		}{
			{"reasonTexts", keysOf(reasonTexts), known(reasonCodes())},
			{"assistAdvice", keysOf(assistAdvice), known(operation.RunReasons)},
			{"operationNames", keysOf(operationNames), known(operation.BootstrapOperations)},
			{"operationHints", keysOf(operationHints), known(operation.BootstrapOperations)},
			{"lifecycleBadges", keysOf(lifecycleBadges), known(codeStrings(onboarding.Lifecycles))},
			{"checkpointBadges", keysOf(checkpointBadges), known(codeStrings(onboarding.Checkpoints))},
			{"runStatusBadges", keysOf(runStatusBadges), known(codeStrings(operation.Statuses))},
			{"outcomeBadges", keysOf(outcomeBadges), known(codeStrings(operation.Outcomes))},
			{"connectionBadges", keysOf(connectionBadges), known(codeStrings(onboarding.ConnectionStatuses))},
			{"checkBadges", keysOf(checkBadges), known(provider.CheckStatuses)},
			{"itemBadges", keysOf(itemBadges), known(provider.ItemStatuses)},
		} {
			for _, k := range table.keys {
				if !table.codes[k] {
					t.Errorf("%s has words for %q, a code the domain does not define", table.name, k)
				}
			}
		}
	})
	t.Run("UnknownCode", func(t *testing.T) {
		if got := ReasonText("quota_exceeded"); got != "quota_exceeded" {
			t.Errorf("ReasonText(unknown) = %q, want the code", got)
		}
	})
}

func codeStrings[T ~string](codes []T) []string {
	out := make([]string, 0, len(codes))
	for _, c := range codes {
		out = append(out, string(c))
	}
	return out
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
