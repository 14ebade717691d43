package onboarding

import (
	"regexp"
	"slices"
	"testing"

	"github.com/tenantops/onboard/internal/operation"
)

func TestParse(t *testing.T) {
	t.Parallel()
	type parser func(string) (string, error)
	lifecycle := func(s string) (string, error) { v, err := ParseLifecycle(s); return string(v), err }
	checkpoint := func(s string) (string, error) { v, err := ParseCheckpoint(s); return string(v), err }
	reason := func(s string) (string, error) { v, err := ParseReasonCode(s); return string(v), err }
	connection := func(s string) (string, error) { v, err := ParseConnectionStatus(s); return string(v), err }
	tests := []struct {
		name  string
		parse parser
		in    string
		ok    bool
	}{
		{"LifecycleDraft", lifecycle, "draft", true},
		{"LifecycleReady", lifecycle, "ready_for_activation", true},
		{"LifecycleEmpty", lifecycle, "", false},
		{"LifecycleUpperCase", lifecycle, "Draft", false},
		{"LifecycleSpace", lifecycle, " draft", false},
		{"LifecycleUnknown", lifecycle, "active", false},
		{"CheckpointNone", checkpoint, "", true},
		{"CheckpointActivate", checkpoint, "activate", true},
		{"CheckpointUnknown", checkpoint, "finish", false},
		{"CheckpointCamel", checkpoint, "verifyAccess", false},
		{"ReasonNone", reason, "", true},
		{"ReasonKnown", reason, "missing_permissions", true},
		{"ReasonUnknown", reason, "quota_exceeded", false},
		{"ReasonUpperCase", reason, "MISSING_PERMISSIONS", false},
		{"ConnectionVerified", connection, "verified", true},
		{"ConnectionEmpty", connection, "", false},
		{"ConnectionUnknown", connection, "pending", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.parse(tc.in)
			switch {
			case tc.ok && (err != nil || got != tc.in):
				t.Errorf("parse(%q) = %q, %v; want %q, nil", tc.in, got, err, tc.in)
			case !tc.ok && err == nil:
				t.Errorf("parse(%q) = %q, nil; want an error", tc.in, got)
			}
		})
	}
}

func TestVocabularyListsParse(t *testing.T) {
	t.Parallel()
	snake := regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
	t.Run("Lifecycles", func(t *testing.T) {
		t.Parallel()
		for _, l := range Lifecycles {
			if got, err := ParseLifecycle(string(l)); err != nil || got != l {
				t.Errorf("ParseLifecycle(%q) = %q, %v; want %q, nil", l, got, err, l)
			}
		}
	})
	t.Run("ReasonCodes", func(t *testing.T) {
		t.Parallel()
		seen := map[ReasonCode]bool{}
		for _, c := range ReasonCodes {
			if seen[c] {
				t.Errorf("reason code %q listed twice", c)
			}
			seen[c] = true
			if !snake.MatchString(string(c)) {
				t.Errorf("reason code %q is not snake_case", c)
			}
			if got, err := ParseReasonCode(string(c)); err != nil || got != c {
				t.Errorf("ParseReasonCode(%q) = %q, %v; want %q, nil", c, got, err, c)
			}
		}
	})
}

func TestCheckpointSteps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c    Checkpoint
		step int
	}{
		{"None", CheckpointNone, 0},
		{"Identify", CheckpointIdentify, 1},
		{"ConnectProvider", CheckpointConnectProvider, 2},
		{"VerifyAccess", CheckpointVerifyAccess, 3},
		{"Bootstrap", CheckpointBootstrap, 4},
		{"Activate", CheckpointActivate, 5},
		{"Unknown", Checkpoint("finish"), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.c.Step(); got != tc.step {
				t.Errorf("%q.Step() = %d, want %d", tc.c, got, tc.step)
			}
			if tc.step == 0 {
				return
			}
			if got := CheckpointForStep(tc.step); got != tc.c {
				t.Errorf("CheckpointForStep(%d) = %q, want %q", tc.step, got, tc.c)
			}
		})
	}
	for _, n := range []int{-1, 0, 6, 100} {
		if got := CheckpointForStep(n); got != CheckpointNone {
			t.Errorf("CheckpointForStep(%d) = %q, want none", n, got)
		}
	}
}

// TestOverridable is the one override rule over every reason code, the run reasons of an
// unanswered verification included: only a verification that got an answer and found
// blockers, or a bootstrap that ran and failed, may be overridden.
func TestOverridable(t *testing.T) {
	t.Parallel()
	want := map[ReasonCode]bool{
		ReasonMissingPermissions: true, ReasonConsentMissing: true,
		ReasonBootstrapFailed: true, ReasonBootstrapIncomplete: true,
	}
	codes := append(slices.Clone(ReasonCodes), "provider_timeout", "provider_error", "worker_lost")
	for _, c := range codes {
		if got := c.Overridable(); got != want[c] {
			t.Errorf("%q.Overridable() = %v, want %v", c, got, want[c])
		}
	}
	// Whatever an unanswered verification's run reason, the blocker it leaves is not
	// overridable.
	for _, rc := range []ReasonCode{"", "provider_timeout", "provider_error", "worker_lost", ReasonProviderUnreachable, ReasonInvalidCredentials} {
		f := Facts{TenantID: "t", DisplayName: "n", PrimaryDomain: "d.test", Connection: &ConnectionFact{ID: "c"},
			Verification: &RunFact{ID: "r", Type: operation.TypeVerifyAccess, Status: operation.StatusCompleted, Outcome: operation.OutcomeFailed, ReasonCode: rc, ConnectionID: "c"}}
		e := Evaluate(f)
		if r := Readiness(f, e); r.Overridable || r.Ready {
			t.Errorf("verification failed with %q: readiness %+v, want blocked and not overridable", rc, r)
		}
	}
}
