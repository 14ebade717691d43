package worker

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tenantops/onboard/internal/operation"
	"github.com/tenantops/onboard/internal/postgres"
	"github.com/tenantops/onboard/internal/provider"
	"github.com/tenantops/onboard/internal/testkit"
)

// testLogger logs at debug level into a buffer that must never contain the secret; it is
// printed when the test fails.
func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	buf := &testkit.SyncBuffer{}
	t.Cleanup(func() {
		logs := buf.String()
		if strings.Contains(logs, testSecret) || strings.Contains(logs, leakedToken) {
			t.Errorf("logs contain a secret:\n%s", logs)
		}
		if t.Failed() {
			t.Logf("logs:\n%s", logs)
		}
	})
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func fastSim() *provider.Simulated {
	return provider.NewSimulated(provider.Options{SlowDuration: 3 * time.Second, ProgressInterval: 50 * time.Millisecond})
}

func TestScenarios(t *testing.T) {
	t.Parallel()
	e := setup(t)
	w := e.startWorkers(fastSim(), Options{})
	for _, tc := range []struct {
		name, domain, typ string
		outcome, reason   string
		counts            [4]int // total, succeeded, failed, skipped
		attempt           int
	}{
		{"Healthy", "contoso.healthy.test", "verify_access", "succeeded", "", [4]int{10, 10, 0, 0}, 1},
		{"MissingPerms", "contoso.missing-perms.test", "verify_access", "failed", "missing_permissions", [4]int{10, 8, 2, 0}, 1},
		{"Slow", "contoso.slow.test", "verify_access", "succeeded", "", [4]int{10, 10, 0, 0}, 1},
		{"Flaky", "contoso.flaky.test", "verify_access", "succeeded", "", [4]int{10, 10, 0, 0}, 2},
		{"FlakyBootstrap", "fabrikam.flaky.test", "bootstrap.baseline_snapshot", "succeeded", "", [4]int{9, 9, 0, 0}, 2},
		{"Partial", "contoso.partial.test", "bootstrap.inventory_sync", "partially_succeeded", "", [4]int{48, 45, 3, 0}, 1},
		{"BootstrapSkipped", "contoso.healthy.test", "bootstrap.policy_sync", "succeeded", "", [4]int{17, 16, 0, 1}, 1},
		{"OtherDomain", "example.com", "verify_access", "succeeded", "", [4]int{10, 10, 0, 0}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			id := e.newRun(tc.domain, tc.typ, w.Enqueue)
			r := e.waitRun(id, 20*time.Second, "completed", completed)
			got := [4]int{r.Counts.Total, r.Counts.Succeeded, r.Counts.Failed, r.Counts.Skipped}
			if r.Outcome != tc.outcome || r.ReasonCode != tc.reason || got != tc.counts || r.Attempt != tc.attempt {
				t.Errorf("got outcome %q reason %q counts %v attempt %d; want %q %q %v %d",
					r.Outcome, r.ReasonCode, got, r.Attempt, tc.outcome, tc.reason, tc.counts, tc.attempt)
			}
			key := `"checks"`
			if strings.HasPrefix(tc.typ, "bootstrap.") {
				key = `"items"`
			}
			if !strings.Contains(r.Context, key) {
				t.Errorf("context = %s; want %s", r.Context, key)
			}
		})
	}
}

// TestProgressCoalesced: the slow scenario reports 20 times a second; the database sees at
// most one write per second.
func TestProgressCoalesced(t *testing.T) {
	t.Parallel()
	e := setup(t)
	w := e.startWorkers(fastSim(), Options{ProgressEvery: time.Second})
	id := e.newRun("contoso.slow.test", "verify_access", w.Enqueue)
	e.waitRun(id, 20*time.Second, "completed", completed)
	calls := e.runs.progressCalls(id)
	// 3 s of work: a first write at the start, then at most one per second.
	if len(calls) < 2 || len(calls) > 4 {
		t.Fatalf("ProgressRun calls = %d over a 3 s run; want 2..4", len(calls))
	}
	for i := 1; i < len(calls); i++ {
		if gap := calls[i].Sub(calls[i-1]); gap < 900*time.Millisecond {
			t.Errorf("progress writes %d and %d are %s apart; want ≥ ~1s", i-1, i, gap)
		}
	}
}

// failingProvider fails every call with err; its messages carry a secret.
type failingProvider struct{ err error }

func (f failingProvider) VerifyAccess(context.Context, provider.Connection, provider.Progress) (provider.Report, error) {
	return provider.Report{}, f.err
}

func (f failingProvider) Bootstrap(context.Context, provider.Connection, string, provider.Progress) (provider.BootstrapResult, error) {
	return provider.BootstrapResult{}, f.err
}

func TestProviderErrors(t *testing.T) {
	t.Parallel()
	leak := "POST https://login.example/token?client_secret=" + testSecret + " token=" + leakedToken
	for _, tc := range []struct {
		name    string
		err     error
		reason  string
		attempt int
	}{
		{"TransientExhausted", fmt.Errorf("%s: %w", leak, provider.ErrTransient), operation.ReasonProviderUnreachable, 3},
		{"Permanent", fmt.Errorf("%s: %w", leak, provider.ErrUnknownOperation), operation.ReasonProviderError, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			w := e.startWorkers(failingProvider{tc.err}, Options{MaxAttempts: 3})
			id := e.newRun("contoso.healthy.test", "verify_access", w.Enqueue)
			r := e.waitRun(id, 20*time.Second, "completed", completed)
			if r.Outcome != "failed" || r.ReasonCode != tc.reason || r.Attempt != tc.attempt {
				t.Errorf("got %q %q attempt %d; want failed %q attempt %d", r.Outcome, r.ReasonCode, r.Attempt, tc.reason, tc.attempt)
			}
			var leaks int
			if err := e.pool.QueryRow(context.Background(), `SELECT
				(SELECT count(*) FROM operation_runs WHERE strpos(operation_runs::text, $1) > 0 OR strpos(operation_runs::text, $2) > 0) +
				(SELECT count(*) FROM river_job WHERE strpos(river_job::text, $1) > 0 OR strpos(river_job::text, $2) > 0)`,
				testSecret, leakedToken).Scan(&leaks); err != nil {
				t.Fatal(err)
			}
			if leaks != 0 {
				t.Errorf("%d rows of operation_runs/river_job contain the secret", leaks)
			}
		})
	}
}

// TestCancelRunningJob: cancelling the River job of a running run completes it as cancelled.
func TestCancelRunningJob(t *testing.T) {
	t.Parallel()
	e := setup(t)
	w := e.startWorkers(fastSim(), Options{})
	id := e.newRun("contoso.slow.test", "verify_access", w.Enqueue)
	e.waitRun(id, 10*time.Second, "running", func(r runRow) bool { return r.Status == "running" })
	var jobID int64
	if err := e.pool.QueryRow(context.Background(), `SELECT job_id FROM operation_runs WHERE id = $1`, id).Scan(&jobID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.client.JobCancel(context.Background(), jobID); err != nil {
		t.Fatal(err)
	}
	r := e.waitRun(id, 10*time.Second, "completed", completed)
	if r.Outcome != "cancelled" {
		t.Errorf("outcome = %q; want cancelled", r.Outcome)
	}
}

// TestRunCompletedElsewhere: when the run is completed while its worker runs (an operator
// cancelled it), the worker stops the provider and leaves the outcome alone.
func TestRunCompletedElsewhere(t *testing.T) {
	t.Parallel()
	e := setup(t)
	w := e.startWorkers(fastSim(), Options{ProgressEvery: 100 * time.Millisecond})
	id := e.newRun("contoso.slow.test", "verify_access", w.Enqueue)
	e.waitRun(id, 10*time.Second, "running", func(r runRow) bool { return r.Status == "running" })
	if _, err := e.pool.Exec(context.Background(), `UPDATE operation_runs SET status = 'completed', outcome = 'cancelled', completed_at = now() WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	var jobID int64
	if err := e.pool.QueryRow(context.Background(), `SELECT job_id FROM operation_runs WHERE id = $1`, id).Scan(&jobID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second) // far less than the 3 s run
	for {
		var state string
		if err := e.pool.QueryRow(context.Background(), `SELECT state::text FROM river_job WHERE id = $1`, jobID).Scan(&state); err != nil {
			t.Fatal(err)
		}
		if state == "completed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job state = %s after 2 s; want completed early", state)
		}
		time.Sleep(25 * time.Millisecond)
	}
	if r := e.run(id); r.Outcome != "cancelled" {
		t.Errorf("outcome = %q; want cancelled (unchanged)", r.Outcome)
	}
}

// TestReconcileJobsGone: running runs with stale heartbeats whose job is gone or finished
// are retried while attempts remain, else failed with worker_lost; a run whose job is
// still waiting is left alone.
func TestReconcileJobsGone(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	opts := Options{RescueAfter: 2 * time.Second, MaxAttempts: 3}
	inserter := e.newWorkers(fastSim(), opts) // not started: inserts only
	stale := func(id string, attempt int) {
		t.Helper()
		if _, err := e.pool.Exec(ctx, `UPDATE operation_runs SET status = 'running', attempt = $2, started_at = now() - interval '1 hour',
			heartbeat_at = now() - interval '1 hour' WHERE id = $1`, id, attempt); err != nil {
			t.Fatal(err)
		}
	}
	finishJob := func(id, state string, attempt int) {
		t.Helper()
		if _, err := e.pool.Exec(ctx, `UPDATE river_job SET state = $2::river_job_state, attempt = $3, attempted_at = now() - interval '1 hour',
			finalized_at = now() WHERE id = (SELECT job_id FROM operation_runs WHERE id = $1)`, id, state, attempt); err != nil {
			t.Fatal(err)
		}
	}
	gone := e.newRun("gone.healthy.test", "verify_access", nil)
	stale(gone, 1)
	completedJob := e.newRun("completed.healthy.test", "verify_access", inserter.Enqueue)
	stale(completedJob, 1)
	finishJob(completedJob, "completed", 1)
	discarded := e.newRun("discarded.healthy.test", "verify_access", inserter.Enqueue)
	stale(discarded, 3)
	finishJob(discarded, "discarded", 3)
	waiting := e.newRun("waiting.healthy.test", "verify_access", inserter.Enqueue)
	stale(waiting, 1)
	if _, err := e.pool.Exec(ctx, `UPDATE river_job SET scheduled_at = now() + interval '1 hour', state = 'scheduled'
		WHERE id = (SELECT job_id FROM operation_runs WHERE id = $1)`, waiting); err != nil {
		t.Fatal(err)
	}

	e.startWorkers(fastSim(), opts)
	for _, tc := range []struct {
		name, id, outcome, reason string
		attempt                   int
	}{
		{"Gone", gone, "failed", operation.ReasonWorkerLost, 1},
		{"CompletedJob", completedJob, "succeeded", "", 2},
		{"Discarded", discarded, "failed", operation.ReasonWorkerLost, 3},
	} {
		r := e.waitRun(tc.id, opts.RescueAfter+2*time.Second, "completed", completed)
		if r.Outcome != tc.outcome || r.ReasonCode != tc.reason || r.Attempt != tc.attempt {
			t.Errorf("%s: got %q %q attempt %d; want %q %q %d", tc.name, r.Outcome, r.ReasonCode, r.Attempt, tc.outcome, tc.reason, tc.attempt)
		}
	}
	if r := e.run(waiting); r.Status != "running" {
		t.Errorf("Waiting: status %q; want running (its job is scheduled)", r.Status)
	}
}

const (
	helperEnv            = "ONBOARD_WORKER_HELPER_DATABASE_URL"
	helperMaxAttemptsEnv = "ONBOARD_WORKER_HELPER_MAX_ATTEMPTS"
)

// leakedToken is a second secret, inside provider error messages.
const leakedToken = "abc123def456ghi789"

// TestHelperProcess is not a test: TestWorkerKilled runs the test binary again with only
// this function selected and helperEnv set, to get a worker process it can SIGKILL.
func TestHelperProcess(t *testing.T) {
	url := os.Getenv(helperEnv)
	if url == "" {
		t.Skip("helper process for TestWorkerKilled")
	}
	db, err := postgres.Open(context.Background(), url, "worker-helper", 8)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	runs, _, err := newRunService(db)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	p := provider.NewSimulated(provider.Options{SlowDuration: time.Minute, ProgressInterval: 100 * time.Millisecond})
	maxAttempts, _ := strconv.Atoi(os.Getenv(helperMaxAttemptsEnv)) // 0: the default
	w, err := New(db.Pool, runs, p, Options{RescueAfter: 2 * time.Second, MaxAttempts: maxAttempts,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err == nil {
		err = w.Start(context.Background())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	select {} // until killed
}

// TestWorkerKilled: a worker process dies (SIGKILL) in the middle of a run; workers in
// another process retry the run within RescueAfter and complete it.
func TestWorkerKilled(t *testing.T) {
	t.Parallel()
	e := setup(t)
	// 4 s, not less: the survivor's own attempt must keep beating at RescueAfter/4 on a
	// loaded machine, or its reconciler takes it for dead too and queues a third job.
	const rescueAfter = 4 * time.Second
	inserter := e.newWorkers(fastSim(), Options{})
	id := e.newRun("contoso.slow.test", "verify_access", inserter.Enqueue)

	kill := e.startHelper(0)
	r := e.waitRun(id, 30*time.Second, "running in the helper", func(r runRow) bool { return r.Status == "running" })
	if r.Attempt != 1 {
		t.Fatalf("attempt = %d; want 1", r.Attempt)
	}
	kill()
	killed := time.Now()

	// The survivor's simulated slow runs take 1 s, so the retry finishes quickly.
	e.startWorkers(provider.NewSimulated(provider.Options{SlowDuration: time.Second, ProgressInterval: 100 * time.Millisecond}),
		Options{RescueAfter: rescueAfter})
	r = e.waitRun(id, rescueAfter, "retried", func(r runRow) bool { return r.Attempt >= 2 || completed(r) })
	t.Logf("retried %s after the kill (attempt %d)", time.Since(killed).Round(time.Millisecond), r.Attempt)
	r = e.waitRun(id, 10*time.Second, "completed", completed)
	if r.Outcome != "succeeded" || r.Attempt != 2 {
		t.Errorf("got %q attempt %d; want succeeded attempt 2", r.Outcome, r.Attempt)
	}
	// The dead attempt's job is finalised as cancelled by River's rescuer eventually; it
	// must not be worked again meanwhile.
	var jobs int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE args->>'run_id' = $1`, id).Scan(&jobs); err != nil {
		t.Fatal(err)
	}
	if jobs != 2 {
		t.Errorf("jobs for the run = %d; want 2 (the dead one and its replacement)", jobs)
	}
}

// startHelper starts a worker process (the test binary running TestHelperProcess) on e's
// database, whose simulated slow runs take a minute, and returns a function that SIGKILLs it
// and waits for it to die. maxAttempts 0 is the default.
func (e *env) startHelper(maxAttempts int) (kill func()) {
	t := e.t
	t.Helper()
	var stderr testkit.SyncBuffer
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+e.url, helperMaxAttemptsEnv+"="+strconv.Itoa(maxAttempts))
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("helper stderr:\n%s", stderr.String())
		}
	})
	return func() {
		t.Helper()
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-exited
		if waitErr == nil || !strings.Contains(waitErr.Error(), "killed") {
			t.Fatalf("helper exit: %v; want killed", waitErr)
		}
	}
}
