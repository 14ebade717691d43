package worker

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/tenantops/onboard/internal/operation"
	"github.com/tenantops/onboard/internal/provider"
)

// fakeRuns records ProgressRun calls; ProgressRun takes delay, like a slow database.
type fakeRuns struct {
	delay    time.Duration
	finished bool

	mu    sync.Mutex
	calls []operation.Counts
	at    []time.Time
}

func (f *fakeRuns) BeginRun(context.Context, string, int) (operation.Run, provider.Connection, error) {
	panic("not used")
}

func (f *fakeRuns) ProgressRun(ctx context.Context, _ string, c operation.Counts) error {
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.at = append(f.at, time.Now())
	f.mu.Unlock()
	select {
	case <-time.After(f.delay):
	case <-ctx.Done():
	}
	if f.finished {
		return operation.ErrRunFinished
	}
	return nil
}

func (f *fakeRuns) CompleteRun(context.Context, string, operation.Completion) error {
	panic("not used")
}

func (f *fakeRuns) StaleRuns(context.Context, time.Time) ([]string, error) { panic("not used") }

func (f *fakeRuns) snapshot() ([]operation.Counts, []time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]operation.Counts(nil), f.calls...), append([]time.Time(nil), f.at...)
}

func fakeWorkers(runs Runs, opts Options) *Workers {
	opts = opts.withDefaults()
	return &Workers{runs: runs, opts: opts, log: slog.New(slog.DiscardHandler)}
}

// The progress tests run in a synctest bubble: time is virtual, so the database's delays
// and the coalescing intervals are exact and cost no wall time.

func TestProgressCoalescesAndNeverBlocks(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		runs := &fakeRuns{delay: 300 * time.Millisecond} // a slow database
		w := fakeWorkers(runs, Options{ProgressEvery: 200 * time.Millisecond})
		p := w.startProgress("r1", operation.Counts{}, func() {})
		start := time.Now()
		var slowest time.Duration
		for i := 1; i <= 1000; i++ {
			t0 := time.Now()
			p.report(i, 1000)
			slowest = max(slowest, time.Since(t0))
			time.Sleep(time.Millisecond)
		}
		elapsed := time.Since(start)
		time.Sleep(700 * time.Millisecond) // the last coalesced write happens
		p.stop()
		// Virtual time moves only while every goroutine waits: any wait inside report()
		// (for the database, for the writer) shows as a duration here.
		if slowest != 0 {
			t.Errorf("slowest report() took %s; want it never to wait for the database", slowest)
		}
		calls, at := runs.snapshot()
		// Writes are at least ProgressEvery apart (and the database takes 300 ms each).
		if maxWrites := int((elapsed+700*time.Millisecond)/(200*time.Millisecond)) + 1; len(calls) > maxWrites || len(calls) < 2 {
			t.Fatalf("writes = %d over %s; want 2..%d", len(calls), elapsed, maxWrites)
		}
		for i := 1; i < len(at); i++ {
			if gap := at[i].Sub(at[i-1]); gap < 200*time.Millisecond {
				t.Errorf("writes %d and %d %s apart; want ≥ 200ms", i-1, i, gap)
			}
		}
		if last := calls[len(calls)-1]; last != (operation.Counts{Total: 1000, Succeeded: 1000}) {
			t.Errorf("last write %+v; want the latest counts (latest wins)", last)
		}
	})
}

func TestProgressHeartbeat(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		runs := &fakeRuns{}
		// heartbeatEvery = min(ProgressEvery·10, RescueAfter/4) = 100ms.
		w := fakeWorkers(runs, Options{ProgressEvery: 50 * time.Millisecond, RescueAfter: 400 * time.Millisecond})
		start := time.Now()
		p := w.startProgress("r1", operation.Counts{Total: 5, Succeeded: 2}, func() {})
		time.Sleep(450 * time.Millisecond)
		p.stop()
		calls, at := runs.snapshot()
		if len(calls) != 4 {
			t.Fatalf("heartbeats = %d in 450ms; want 4 (every 100ms)", len(calls))
		}
		for i, c := range calls {
			if c != (operation.Counts{Total: 5, Succeeded: 2}) {
				t.Errorf("heartbeat wrote %+v; want the unchanged counts", c)
			}
			if want := time.Duration(i+1) * 100 * time.Millisecond; at[i].Sub(start) != want {
				t.Errorf("heartbeat %d at %s; want %s", i, at[i].Sub(start), want)
			}
		}
	})
}

func TestProgressRunFinished(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		runs := &fakeRuns{finished: true}
		w := fakeWorkers(runs, Options{ProgressEvery: 10 * time.Millisecond})
		stopped := make(chan struct{})
		p := w.startProgress("r1", operation.Counts{}, func() { close(stopped) })
		p.report(1, 2)
		select {
		case <-stopped:
		case <-time.After(5 * time.Second):
			t.Fatal("provider not stopped after ProgressRun said the run was finished")
		}
		p.stop()
		if !p.runFinished() {
			t.Error("runFinished = false; want true")
		}
	})
}

func TestVerificationCompletion(t *testing.T) {
	t.Parallel()
	check := func(status string) provider.Check { return provider.Check{Name: "c", Status: status} }
	for _, tc := range []struct {
		name    string
		rep     provider.Report
		outcome operation.Outcome
		reason  string
	}{
		{"AllPassed", provider.Report{Checks: []provider.Check{check("passed"), check("skipped")}}, operation.OutcomeSucceeded, ""},
		{"Warnings", provider.Report{Checks: []provider.Check{check("passed"), check("warning")}}, operation.OutcomePartiallySucceeded, ""},
		{"Blocking", provider.Report{Checks: []provider.Check{check("passed"), check("failed")}, ReasonCode: "missing_permissions"}, operation.OutcomeFailed, "missing_permissions"},
		{"BlockingWithoutFailedCheck", provider.Report{Checks: []provider.Check{check("passed")}, ReasonCode: "consent_missing"}, operation.OutcomeFailed, "consent_missing"},
		{"FailedWithoutReason", provider.Report{Checks: []provider.Check{check("failed")}}, operation.OutcomeFailed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := verificationCompletion(tc.rep)
			if c.Outcome != tc.outcome || c.ReasonCode != tc.reason {
				t.Errorf("got %q %q; want %q %q", c.Outcome, c.ReasonCode, tc.outcome, tc.reason)
			}
			if err := c.Counts.Validate(); err != nil || c.Counts.Total != len(tc.rep.Checks) {
				t.Errorf("counts %+v (%v); want total %d", c.Counts, err, len(tc.rep.Checks))
			}
		})
	}
}

func TestCompletionRedactsMessages(t *testing.T) {
	t.Parallel()
	c := bootstrapCompletion("inventory_sync", provider.BootstrapResult{
		Counts: provider.Counts{Total: 1, Failed: 1},
		Items:  []provider.Item{{Name: "x", Status: "failed", Message: "GET /devices?client_secret=" + testSecret}},
	})
	items := c.Result["items"].([]provider.Item)
	if items[0].Message == "" || strings.Contains(items[0].Message, testSecret) {
		t.Errorf("item message %q; want it redacted", items[0].Message)
	}
	if c.Outcome != operation.OutcomeFailed {
		t.Errorf("outcome %q; want failed", c.Outcome)
	}
}

func TestDefaultBackoff(t *testing.T) {
	t.Parallel()
	for attempt, want := range map[int]time.Duration{0: time.Second, 1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 6: 30 * time.Second, 60: 30 * time.Second} {
		if got := DefaultBackoff(attempt); got != want {
			t.Errorf("DefaultBackoff(%d) = %s; want %s", attempt, got, want)
		}
	}
}

// completingRuns is a run service whose CompleteRun is slow: it returns once a heartbeat
// arrived while it was completing, or after a generous bound.
type completingRuns struct {
	completing atomic.Bool
	beat       chan struct{} // a ProgressRun call during CompleteRun
	beatSeen   atomic.Bool
}

func (c *completingRuns) BeginRun(_ context.Context, runID string, _ int) (operation.Run, provider.Connection, error) {
	return operation.Run{ID: runID, Type: operation.TypeVerifyAccess, Status: operation.StatusRunning}, provider.Connection{}, nil
}

func (c *completingRuns) ProgressRun(context.Context, string, operation.Counts) error {
	if c.completing.Load() {
		select {
		case c.beat <- struct{}{}:
		default:
		}
	}
	return nil
}

func (c *completingRuns) CompleteRun(context.Context, string, operation.Completion) error {
	c.completing.Store(true)
	select {
	case <-c.beat:
		c.beatSeen.Store(true)
	case <-time.After(5 * time.Second):
	}
	return nil
}

func (c *completingRuns) StaleRuns(context.Context, time.Time) ([]string, error) { panic("not used") }

// instantProvider answers every verification at once.
type instantProvider struct{}

func (instantProvider) VerifyAccess(context.Context, provider.Connection, provider.Progress) (provider.Report, error) {
	return provider.Report{}, nil
}

func (instantProvider) Bootstrap(context.Context, provider.Connection, string, provider.Progress) (provider.BootstrapResult, error) {
	return provider.BootstrapResult{}, nil
}

// TestHeartbeatWhileCompleting: the worker keeps beating until its completion is recorded,
// so a slow completion never makes a live run look stale to the reconciler (which would
// hand the finished run to a new job).
func TestHeartbeatWhileCompleting(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		runs := &completingRuns{beat: make(chan struct{}, 1)}
		// heartbeatEvery = min(ProgressEvery·10, RescueAfter/4) = 50ms.
		w := fakeWorkers(runs, Options{ProgressEvery: 10 * time.Millisecond, RescueAfter: 200 * time.Millisecond})
		w.prov = instantProvider{}
		job := &river.Job[RunArgs]{JobRow: &rivertype.JobRow{ID: 1, Attempt: 1, MaxAttempts: 3}, Args: RunArgs{RunID: "r1"}}
		if err := (&runWorker{w: w}).Work(context.Background(), job); err != nil {
			t.Fatal(err)
		}
		if !runs.beatSeen.Load() {
			t.Error("no heartbeat while the completion was being recorded; want the worker to keep beating until it is")
		}
	})
}
