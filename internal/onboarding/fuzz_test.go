package onboarding

import (
	"slices"
	"testing"

	"github.com/tenantops/onboard/internal/operation"
)

var (
	fuzzStatuses = []operation.Status{operation.StatusQueued, operation.StatusRunning, operation.StatusCompleted, "", "bogus"}
	fuzzOutcomes = []operation.Outcome{operation.OutcomeNone, operation.OutcomeSucceeded, operation.OutcomePartiallySucceeded,
		operation.OutcomeFailed, operation.OutcomeCancelled, "bogus"}
	fuzzOps = append(slices.Clone(operation.BootstrapOperations), "")
)

func pick[T any](xs []T, b byte) T { return xs[int(b)%len(xs)] }

// fuzzFacts decodes fuzz input into facts. verify: 0 = no run, else its status/outcome bytes;
// boot: three bytes per run (operation, status, outcome); flags: bit 0 connection, 1 override,
// 2 cancelled, 3 completed; opsMask selects bootstrap operations.
func fuzzFacts(tenant, name, domain, connID, runConnID, runReason string, verify uint16, boot []byte, opsMask, flags byte) Facts {
	f := Facts{TenantID: tenant, DisplayName: name, PrimaryDomain: domain, Overridden: flags&2 != 0}
	if flags&1 != 0 {
		f.Connection = &ConnectionFact{ID: connID}
	}
	if verify != 0 {
		f.Verification = &RunFact{Type: operation.TypeVerifyAccess, Status: pick(fuzzStatuses, byte(verify)),
			Outcome: pick(fuzzOutcomes, byte(verify>>8)), ReasonCode: ReasonCode(runReason), ConnectionID: runConnID}
	}
	for i, op := range fuzzOps {
		if opsMask&(1<<i) != 0 {
			f.BootstrapOperations = append(f.BootstrapOperations, op)
		}
	}
	for i := 0; i+2 < len(boot) && i < 30; i += 3 {
		f.Bootstrap = append(f.Bootstrap, RunFact{Type: operation.Type("bootstrap." + pick(fuzzOps, boot[i])),
			Status: pick(fuzzStatuses, boot[i+1]), Outcome: pick(fuzzOutcomes, boot[i+2])})
	}
	if flags&4 != 0 {
		f.CancelledAt = testNow
	}
	if flags&8 != 0 {
		f.CompletedAt = testNow
	}
	return f
}

func FuzzEvaluate(f *testing.F) {
	f.Add(testTenant, "Contoso", "contoso.com", "c1", "c1", "", uint16(0x0102), []byte{0, 2, 1, 1, 2, 2}, byte(3), byte(1))
	f.Add(testTenant, "Contoso", "contoso.com", "c1", "c1", "missing_permissions", uint16(0x0302), []byte{}, byte(0), byte(3))
	f.Add(testTenant, "Contoso", "contoso.com", "c1", "c2", "", uint16(0x0102), []byte{}, byte(0), byte(1))
	f.Add(testTenant, "Contoso", "contoso.com", "c1", "c1", "", uint16(0x0102), []byte{0, 2, 3, 1, 1, 0}, byte(3), byte(5))
	f.Add(testTenant, "Contoso", "contoso.com", "c1", "c1", "", uint16(0x0102), []byte{0, 2, 2}, byte(1), byte(10))
	f.Add("", "", "", "", "", "bogus_code", uint16(0x0501), []byte{9, 9, 9}, byte(0xff), byte(0xff))
	f.Fuzz(func(t *testing.T, tenant, name, domain, connID, runConnID, runReason string, verify uint16, boot []byte, opsMask, flags byte) {
		facts := fuzzFacts(tenant, name, domain, connID, runConnID, runReason, verify, boot, opsMask, flags)
		e := Evaluate(facts)
		if again := Evaluate(facts); again != e {
			t.Fatalf("Evaluate is not deterministic: %+v then %+v", e, again)
		}
		if _, err := ParseLifecycle(string(e.Lifecycle)); err != nil {
			t.Errorf("lifecycle: %v", err)
		}
		for _, c := range []Checkpoint{e.Current, e.LastCompleted} {
			if _, err := ParseCheckpoint(string(c)); err != nil {
				t.Errorf("checkpoint: %v", err)
			}
		}
		for _, c := range []ReasonCode{e.Reason, e.Blocking} {
			if _, err := ParseReasonCode(string(c)); err != nil {
				t.Errorf("reason: %v", err)
			}
		}
		if e.Current == CheckpointNone || e.Reason == ReasonNone {
			t.Errorf("Evaluate() = %+v, want a current checkpoint and a reason", e)
		}
		if cur, last := e.Current.Step(), e.LastCompleted.Step(); !(last < cur || cur == Steps && last == Steps) {
			t.Errorf("Evaluate() = %+v: last completed step %d not before current step %d", e, last, cur)
		}
		cancelled, completed := !facts.CancelledAt.IsZero(), !facts.CompletedAt.IsZero()
		if got, want := e.Lifecycle == LifecycleCancelled, cancelled; got != want {
			t.Errorf("lifecycle %q with cancelled=%v", e.Lifecycle, cancelled)
		}
		if got, want := e.Lifecycle == LifecycleCompleted, completed && !cancelled; got != want {
			t.Errorf("lifecycle %q with completed=%v cancelled=%v", e.Lifecycle, completed, cancelled)
		}
		if completed && (e.Current != CheckpointActivate || e.LastCompleted != CheckpointActivate) {
			t.Errorf("completed draft evaluated to %+v, want activate/activate", e)
		}
		if e.Lifecycle.Terminal() && e.Blocking != ReasonNone {
			t.Errorf("terminal draft has blocking code %q", e.Blocking)
		}

		r := Readiness(facts, e)
		if r.Ready != (len(r.Blockers) == 0) {
			t.Errorf("Readiness() = %+v: Ready must mean no blockers", r)
		}
		if r.Overridable {
			for _, c := range r.Blockers {
				if !c.Overridable() {
					t.Errorf("Readiness() = %+v: overridable with blocker %q", r, c)
				}
			}
		}
		if !facts.Overridden && !e.Lifecycle.Terminal() {
			if e.Blocking != ReasonNone && (len(r.Blockers) == 0 || r.Blockers[0] != e.Blocking) {
				t.Errorf("Readiness() = %+v, want first blocker %q", r, e.Blocking)
			}
			if got, want := r.Ready, e.Lifecycle == LifecycleReadyForActivation && e.Blocking == ReasonNone; got != want {
				t.Errorf("Readiness().Ready = %v for %+v, want %v", got, e, want)
			}
		}
		if ok, code := CanActivate(facts, e, true); ok == (code != ReasonNone) {
			t.Errorf("CanActivate() = %v, %q: a refusal needs a code, a grant none", ok, code)
		}

		for _, step := range []int{-1, 0, 1, 3, 5, 6} {
			s := ResolveStage(e, step)
			if s.Step < 1 || s.Step > Steps || !s.Reachable[s.Step-1] {
				t.Errorf("ResolveStage(%+v, %d) = %+v: step not reachable", e, step, s)
			}
		}
	})
}
