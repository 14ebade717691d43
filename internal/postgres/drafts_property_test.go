package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/operation"
)

// TestLifecycleProperty drives drafts through random sequences of operator mutations and run
// events and checks, after every step, that the stored lifecycle columns equal
// onboarding.Evaluate of the facts read back from the database (by a query independent of the
// store's), that the version never goes backwards, and that a tenant never has two active runs
// of one type.
func TestLifecycleProperty(t *testing.T) {
	t.Parallel()
	f := setup(t)
	const sequences, steps = 30, 40
	// Every lifecycle state and most reason codes must be reached, or the test proves little.
	var mu sync.Mutex
	reached := map[string]int{}
	t.Cleanup(func() {
		for _, l := range onboarding.Lifecycles {
			if reached[string(l)] == 0 {
				t.Errorf("no sequence reached lifecycle %s", l)
			}
		}
		t.Logf("states and reasons reached: %v", reached)
	})
	for seq := range sequences {
		t.Run(fmt.Sprintf("Seq%02d", seq), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(uint64(seq), 0x0b0a7d))
			p := &propertyRun{f: f, rng: rng, d: f.create(t), reached: func(d onboarding.Draft) {
				mu.Lock()
				defer mu.Unlock()
				reached[string(d.Lifecycle)]++
				reached["reason:"+string(d.ReasonCode)]++
			}}
			for step := range steps {
				name, err := p.step(t)
				if err != nil && !expectedError(err) {
					t.Fatalf("step %d (%s): unexpected error %v", step, name, err)
				}
				p.check(t, fmt.Sprintf("step %d (%s, err %v)", step, name, err))
				// Half of the time, a closed draft makes way for a new one; otherwise its
				// leftover runs keep completing against the closed draft.
				if d := f.get(t, p.d.ID); d.Lifecycle.Terminal() && rng.IntN(2) == 0 {
					p.d, p.version = f.create(t), 0
				}
			}
		})
	}
}

type propertyRun struct {
	f       *fixture
	rng     *rand.Rand
	d       onboarding.Draft
	version int64
	reached func(onboarding.Draft)
}

func expectedError(err error) bool {
	for _, target := range []error{fault.ErrInvalid, fault.ErrBlocked, fault.ErrConflict,
		operation.ErrIllegalTransition, operation.ErrRunFinished} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

func (p *propertyRun) randomOps() []string {
	var ops []string
	for _, op := range operation.BootstrapOperations {
		if p.rng.IntN(2) == 0 {
			ops = append(ops, op)
		}
	}
	return ops
}

// activeRun picks one of the draft's runs in the given statuses, or "".
func (p *propertyRun) pickRun(t *testing.T, statuses ...operation.Status) string {
	t.Helper()
	runs, err := p.f.svc.Runs(context.Background(), p.f.owner, p.d.ID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range runs {
		for _, s := range statuses {
			if r.Status == s {
				ids = append(ids, r.ID)
			}
		}
	}
	if len(ids) == 0 {
		return ""
	}
	return ids[p.rng.IntN(len(ids))]
}

func (p *propertyRun) step(t *testing.T) (string, error) {
	t.Helper()
	ctx := context.Background()
	f, rng := p.f, p.rng
	cur := f.get(t, p.d.ID)
	v := cur.Version
	stale := rng.IntN(10) == 0
	if stale && v > 1 {
		v--
	}
	switch k := rng.IntN(100); {
	case k < 8:
		names := []string{"Contoso", "Fabrikam", " ", "Northwind Traders"}
		domains := []string{"contoso.healthy.test", "fabrikam.partial.test", "not a domain", "northwind.com"}
		_, err := f.svc.Update(ctx, f.owner, p.d.ID, v, onboarding.Patch{
			DisplayName: &names[rng.IntN(len(names))], PrimaryDomain: &domains[rng.IntN(len(domains))]})
		return "update identify", err
	case k < 23:
		if cur.ProviderConnectionID != "" && rng.IntN(5) != 0 {
			return "connect (skipped)", nil
		}
		_, err := f.svc.Update(ctx, f.operator, p.d.ID, v, onboarding.Patch{
			Connection: &onboarding.ConnectionInput{ClientID: testClientID, ClientSecret: testSecret}})
		return "connect", err
	case k < 30:
		ops := p.randomOps()
		_, err := f.svc.Update(ctx, f.owner, p.d.ID, v, onboarding.Patch{BootstrapOperations: &ops})
		return fmt.Sprintf("select %v", ops), err
	case k < 35:
		step := rng.IntN(5) + 1
		_, err := f.svc.Update(ctx, f.owner, p.d.ID, v, onboarding.Patch{CurrentStep: &step})
		return fmt.Sprintf("step %d", step), err
	case k < 47:
		_, _, _, err := f.svc.StartVerification(ctx, f.operator, p.d.ID, v)
		return "start verification", err
	case k < 57:
		ops := p.randomOps()
		_, _, err := f.svc.StartBootstrap(ctx, f.owner, p.d.ID, v, ops)
		return fmt.Sprintf("start bootstrap %v", ops), err
	case k < 67:
		id := p.pickRun(t, operation.StatusQueued, operation.StatusRunning)
		if id == "" {
			return "begin (none)", nil
		}
		_, _, err := f.runs.BeginRun(ctx, id, rng.IntN(3)+1)
		return "begin", err
	case k < 71:
		id := p.pickRun(t, operation.StatusRunning, operation.StatusQueued)
		if id == "" {
			return "progress (none)", nil
		}
		return "progress", f.runs.ProgressRun(ctx, id, operation.Counts{Total: 10, Succeeded: rng.IntN(5), Failed: rng.IntN(5)})
	case k < 91:
		id := p.pickRun(t, operation.StatusQueued, operation.StatusRunning)
		if rng.IntN(10) == 0 {
			id = p.pickRun(t, operation.StatusCompleted) // ErrRunFinished expected
		}
		if id == "" {
			return "complete (none)", nil
		}
		if rng.IntN(10) < 7 {
			// Usually a worker begins before it completes; sometimes it fails a queued run.
			if _, _, err := f.runs.BeginRun(ctx, id, 1); err != nil && !expectedError(err) {
				return "begin+complete", err
			}
		}
		outcomes := []operation.Outcome{operation.OutcomeSucceeded, operation.OutcomeSucceeded, operation.OutcomeSucceeded,
			operation.OutcomeSucceeded, operation.OutcomePartiallySucceeded,
			operation.OutcomeFailed, operation.OutcomeCancelled}
		reasons := []string{"", "missing_permissions", "consent_missing", "provider_unreachable", "invalid_credentials", "timeout"}
		o, r := outcomes[rng.IntN(len(outcomes))], reasons[rng.IntN(len(reasons))]
		return fmt.Sprintf("complete %s/%s", o, r), f.runs.CompleteRun(ctx, id, operation.Completion{Outcome: o, ReasonCode: r})
	case k < 94:
		if rng.IntN(3) != 0 {
			return "cancel (skipped)", nil
		}
		_, err := f.svc.Cancel(ctx, f.owner, p.d.ID, v)
		return "cancel", err
	default:
		reason := ""
		if rng.IntN(2) == 0 {
			reason = "accepted by the customer"
		}
		_, err := f.svc.Activate(ctx, f.owner, p.d.ID, v, reason)
		return fmt.Sprintf("activate override=%v", reason != ""), err
	}
}

// check recomputes the evaluation from the facts, read with its own queries.
func (p *propertyRun) check(t *testing.T, where string) {
	t.Helper()
	ctx := context.Background()
	pool := p.f.store.Pool
	d := p.f.get(t, p.d.ID)
	if d.Version < p.version {
		t.Fatalf("%s: version went back from %d to %d", where, p.version, d.Version)
	}
	p.version = d.Version
	p.reached(d)

	var conn *onboarding.ConnectionFact
	var connID, connStatus string
	err := pool.QueryRow(ctx, `SELECT c.id::text, c.status FROM managed_tenant_onboarding_sessions s
		JOIN provider_connections c ON c.id = s.provider_connection_id WHERE s.id = $1`, d.ID).Scan(&connID, &connStatus)
	if err == nil {
		conn = &onboarding.ConnectionFact{ID: connID, Status: onboarding.ConnectionStatus(connStatus)}
	}
	rows, err := pool.Query(ctx, `SELECT id::text, type, status, coalesce(outcome, ''), coalesce(reason_code, ''),
			coalesce(context->>'connection_id', '')
		FROM operation_runs WHERE draft_id = $1 ORDER BY created_at DESC, id DESC`, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	var verification *onboarding.RunFact
	var bootstrap []onboarding.RunFact
	seen := map[string]bool{}
	active := map[string]int{}
	for rows.Next() {
		var id, typ, status, outcome, reason, runConn string
		if err := rows.Scan(&id, &typ, &status, &outcome, &reason, &runConn); err != nil {
			t.Fatal(err)
		}
		if status != "completed" {
			active[typ]++
		}
		if seen[typ] {
			continue
		}
		seen[typ] = true
		r := onboarding.RunFact{ID: id, Type: operation.Type(typ), Status: operation.Status(status),
			Outcome: operation.Outcome(outcome), ReasonCode: onboarding.ReasonCode(reason), ConnectionID: runConn}
		if r.Type == operation.TypeVerifyAccess {
			verification = &r
		} else {
			bootstrap = append(bootstrap, r)
		}
	}
	rows.Close()
	for typ, n := range active {
		if n > 1 {
			t.Fatalf("%s: %d active %s runs", where, n, typ)
		}
	}
	want := onboarding.Evaluate(d.Facts(conn, verification, bootstrap))
	got := onboarding.Evaluation{Lifecycle: d.Lifecycle, Current: d.CurrentCheckpoint, LastCompleted: d.LastCompletedCheckpoint,
		Reason: d.ReasonCode, Blocking: d.BlockingReasonCode}
	if got != want {
		t.Fatalf("%s: stored lifecycle %+v, Evaluate of the stored facts %+v", where, got, want)
	}
}
