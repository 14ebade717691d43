package worker

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenantops/onboard/internal/provider"
	"github.com/tenantops/onboard/internal/testkit"
)

// runTransitions records every change of an operation run's status or outcome, so the test
// sees each run's whole life, not only where it ended.
const runTransitions = `
CREATE TABLE test_run_transitions (
	run_id uuid NOT NULL, old_status text, new_status text, old_outcome text, new_outcome text,
	attempt int, at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE FUNCTION test_record_run_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO test_run_transitions (run_id, old_status, new_status, old_outcome, new_outcome, attempt)
	VALUES (NEW.id, OLD.status, NEW.status, OLD.outcome, NEW.outcome, NEW.attempt);
	RETURN NEW;
END $$;
CREATE TRIGGER test_run_transitions AFTER UPDATE ON operation_runs FOR EACH ROW
	WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.outcome IS DISTINCT FROM NEW.outcome)
	EXECUTE FUNCTION test_record_run_transition();`

// TestWorkerKilledRepeatedly: worker processes are SIGKILLed one after another while they run
// several runs; each kill is found by the next process's reconciler, which retries the runs
// (a new job, the attempt number going on). When a surviving process finishes them, every run
// has ended exactly once (one transition into completed, nothing changed after it), none is
// stuck, none was duplicated (one run per tenant and type, and at no moment two active runs
// for one: the start gate's invariant). make soak kills for SOAK_DURATION.
func TestWorkerKilledRepeatedly(t *testing.T) {
	t.Parallel()
	const runs = 4
	kills := max(3, int(testkit.SoakDuration(t, 0)/(4*time.Second)))
	maxAttempts := kills + 5 // every kill spends an attempt of each run; a loaded machine may spend more
	e := setup(t)
	ctx := context.Background()
	if _, err := e.pool.Exec(ctx, runTransitions); err != nil {
		t.Fatal(err)
	}
	inserter := e.newWorkers(fastSim(), Options{})
	ids := make([]string, runs)
	for i := range ids {
		ids[i] = e.newRun("contoso.slow.test", "verify_access", inserter.Enqueue)
	}

	// The gate's invariant, sampled all along: never two active runs for a tenant and type.
	var samples, violations atomic.Int64
	sctx, stopSampling := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for sctx.Err() == nil {
			var n int64
			if err := e.pool.QueryRow(sctx, `SELECT count(*) FROM (SELECT 1 FROM operation_runs WHERE status <> 'completed'
				GROUP BY workspace_id, tenant_id, type HAVING count(*) > 1) d`).Scan(&n); err == nil {
				samples.Add(1)
				violations.Add(n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	var rescued []time.Duration // from a kill until the next process runs every run again
	var lastKill time.Time
	for k := range kills {
		kill := e.startHelper(maxAttempts)
		// Every run must be running in this process: attempt k+1 or later (a loaded machine
		// may spend one more), beating.
		for _, id := range ids {
			e.waitRun(id, 30*time.Second, "running in helper", func(r runRow) bool {
				return r.Status == "running" && r.Attempt >= k+1
			})
		}
		if k > 0 {
			rescued = append(rescued, time.Since(lastKill).Round(10*time.Millisecond))
		}
		kill()
		lastKill = time.Now()
	}
	e.startWorkers(provider.NewSimulated(provider.Options{SlowDuration: time.Second, ProgressInterval: 100 * time.Millisecond}),
		Options{RescueAfter: 4 * time.Second, MaxAttempts: maxAttempts})
	attempts := map[int]int{}
	for _, id := range ids {
		r := e.waitRun(id, 30*time.Second, "completed", completed)
		if r.Outcome != "succeeded" {
			t.Errorf("run %s: %q %q attempt %d; want succeeded", id, r.Outcome, r.ReasonCode, r.Attempt)
		}
		attempts[r.Attempt]++
	}
	stopSampling()
	wg.Wait()

	var completions, afterEnd, perTenantType int
	if err := e.pool.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE new_status = 'completed' AND old_status <> 'completed'),
			count(*) FILTER (WHERE old_status = 'completed')
		FROM test_run_transitions WHERE run_id = ANY($1)`, ids).Scan(&completions, &afterEnd); err != nil {
		t.Fatal(err)
	}
	if err := e.pool.QueryRow(ctx, `SELECT coalesce(max(n), 0) FROM (SELECT count(*) n FROM operation_runs
		GROUP BY workspace_id, tenant_id, type) d`).Scan(&perTenantType); err != nil {
		t.Fatal(err)
	}
	var jobs int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE args->>'run_id' = ANY($1)`, ids).Scan(&jobs); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d runs, %d worker processes SIGKILLed mid-run; next process running them again %v after each kill; %d jobs in all; final attempts %v; %d completions, %d changes after one; gate sampled %d times, %d violations",
		runs, kills, rescued, jobs, attempts, completions, afterEnd, samples.Load(), violations.Load())
	if completions != runs || afterEnd != 0 {
		t.Errorf("%d transitions into completed and %d changes after it; want %d and 0", completions, afterEnd, runs)
	}
	if perTenantType != 1 || violations.Load() != 0 || samples.Load() == 0 {
		t.Errorf("runs per tenant and type %d, gate violations %d in %d samples; want 1 and 0", perTenantType, violations.Load(), samples.Load())
	}
}
