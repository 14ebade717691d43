// Package worker executes operation runs (verify access, bootstrap operations) in the
// background: River jobs carry a run id, a worker executes the run through the provider
// interface and moves its status, progress and outcome only through the operation-run
// service (Runs). A reconciler finishes or retries runs whose worker died.
package worker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/tenantops/onboard/internal/operation"
	"github.com/tenantops/onboard/internal/provider"
)

// Runs is the operation-run service (onboarding.RunService) as the workers need it. It is
// the only writer of runs: the workers never update operation_runs themselves.
type Runs interface {
	// BeginRun moves a queued or running run to running for the given (1-based) attempt,
	// stamps its heartbeat and returns it with the tenant's connection. It returns
	// operation.ErrRunFinished when the run is already completed.
	BeginRun(ctx context.Context, runID string, attempt int) (operation.Run, provider.Connection, error)
	// ProgressRun records intermediate counts and stamps the heartbeat. Workers call it at
	// most about once per Options.ProgressEvery per run. operation.ErrRunFinished when the
	// run was completed meanwhile (cancelled by an operator, rescued).
	ProgressRun(ctx context.Context, runID string, counts operation.Counts) error
	// CompleteRun records the terminal state. operation.ErrRunFinished when already completed.
	CompleteRun(ctx context.Context, runID string, c operation.Completion) error
	// StaleRuns lists active runs that have shown no sign of life since heartbeatBefore:
	// running runs whose heartbeat is older, and queued runs created before it (the
	// reconciler leaves those whose job still waits in the queue).
	StaleRuns(ctx context.Context, heartbeatBefore time.Time) ([]string, error)
}

// Kind is the River job kind of an operation run.
const Kind = "operation_run"

// Queue is the River queue operation runs are worked from.
const Queue = "operation_runs"

// RunArgs are the arguments of an operation-run job.
type RunArgs struct {
	RunID string `json:"run_id"`
	// PriorAttempts counts attempts spent by earlier jobs of the same run: the reconciler
	// re-enqueues a run whose worker died as a new job, and the run's attempt number (given
	// to BeginRun and the provider) continues from there.
	PriorAttempts int `json:"prior_attempts,omitempty"`
}

// Kind implements river.JobArgs.
func (RunArgs) Kind() string { return Kind }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (RunArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: Queue} }

// Options configure the workers. Zero values take the documented defaults.
type Options struct {
	// Workers is how many runs this process executes at once. Default 10.
	Workers int
	// JobTimeout bounds one attempt; its context is cancelled after it. Default 2m.
	JobTimeout time.Duration
	// MaxAttempts bounds the attempts of one run, retries included. Default 3.
	MaxAttempts int
	// RetryBackoff is the wait before attempt n+1 after attempt n failed transiently.
	// Default 1s·2^(n-1), capped at 30s.
	RetryBackoff func(attempt int) time.Duration
	// RescueAfter bounds how long after its worker died a run reaches a terminal state or
	// is retried. Default 2m.
	RescueAfter time.Duration
	// ProgressEvery is the least time between two progress writes of one run. Default 1s.
	ProgressEvery time.Duration
	// Logger receives the workers' and River's logs. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	o.Workers = cmp.Or(o.Workers, 10)
	o.JobTimeout = cmp.Or(o.JobTimeout, 2*time.Minute)
	o.MaxAttempts = cmp.Or(o.MaxAttempts, 3)
	if o.RetryBackoff == nil {
		o.RetryBackoff = DefaultBackoff
	}
	o.RescueAfter = cmp.Or(o.RescueAfter, 2*time.Minute)
	o.ProgressEvery = cmp.Or(o.ProgressEvery, time.Second)
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// heartbeatEvery is how long a run may go without a progress write before the worker
// writes its unchanged counts as a heartbeat: ProgressEvery·10, but at most a quarter of
// RescueAfter so a live run is never taken for a dead one.
func (o Options) heartbeatEvery() time.Duration { return min(o.ProgressEvery*10, o.RescueAfter/4) }

// staleAfter is how old a heartbeat must be for the reconciler to take the run's worker
// for dead. Half of RescueAfter: detection (≤ staleAfter + one reconcile tick of
// RescueAfter/4) plus the action then fit in RescueAfter.
func (o Options) staleAfter() time.Duration { return o.RescueAfter / 2 }

// reconcileEvery is the reconciler's period.
func (o Options) reconcileEvery() time.Duration { return o.RescueAfter / 4 }

// riverRescueAfter is River's own stuck-job rescue. River requires it to be at least
// JobTimeout; a little more keeps River from rescuing (and re-running) an attempt that
// is still finishing after its timeout. Our reconciler, not River's rescuer, keeps the
// RescueAfter bound: River's rescuer runs only every 30 s, on the leader.
func (o Options) riverRescueAfter() time.Duration {
	return max(o.RescueAfter, o.JobTimeout+10*time.Second)
}

// DefaultBackoff is 1s·2^(attempt-1), capped at 30s.
func DefaultBackoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > 6 {
		return 30 * time.Second
	}
	return min(time.Second<<(attempt-1), 30*time.Second)
}

// retryPolicy adapts Options.RetryBackoff to River.
type retryPolicy struct {
	backoff func(int) time.Duration
	now     func() time.Time
}

func (p retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return p.now().Add(max(p.backoff(job.Attempt), 0))
}

// Workers executes operation runs. Build it with New, insert jobs with Enqueue (also
// before Start, e.g. in a process that only serves the web), then Start and Stop.
type Workers struct {
	pool   *pgxpool.Pool
	runs   Runs
	prov   provider.Provider
	opts   Options
	log    *slog.Logger
	client *river.Client[pgx.Tx]

	mu         sync.Mutex
	stopRecon  context.CancelFunc
	reconDone  chan struct{}
	progressed func(runID string) // test hook: called after each ProgressRun
}

// New builds the workers. River's tables must exist (postgres.DB.MigrateUp creates them).
func New(pool *pgxpool.Pool, runs Runs, p provider.Provider, opts Options) (*Workers, error) {
	if pool == nil || runs == nil || p == nil {
		return nil, errors.New("worker: pool, runs and provider are required")
	}
	opts = opts.withDefaults()
	if opts.MaxAttempts < 1 || opts.Workers < 1 || opts.JobTimeout < 0 || opts.RescueAfter <= 0 || opts.ProgressEvery <= 0 {
		return nil, fmt.Errorf("worker: invalid options %+v", opts)
	}
	w := &Workers{pool: pool, runs: runs, prov: p, opts: opts, log: opts.Logger.With("component", "worker")}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &runWorker{w: w}); err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues:               map[string]river.QueueConfig{Queue: {MaxWorkers: opts.Workers}},
		Workers:              workers,
		JobTimeout:           opts.JobTimeout,
		MaxAttempts:          opts.MaxAttempts,
		RetryPolicy:          retryPolicy{backoff: opts.RetryBackoff, now: opts.Now},
		RescueStuckJobsAfter: opts.riverRescueAfter(),
		Logger:               opts.Logger.With("component", "river"),
	})
	if err != nil {
		return nil, fmt.Errorf("worker: river client: %w", err)
	}
	w.client = client
	return w, nil
}

// Enqueue inserts the job of run runID in the caller's transaction, so the job exists
// exactly when the run row does. It returns River's job id.
func (w *Workers) Enqueue(ctx context.Context, tx pgx.Tx, runID string) (int64, error) {
	if runID == "" {
		return 0, errors.New("worker: enqueue: empty run id")
	}
	res, err := w.client.InsertTx(ctx, tx, RunArgs{RunID: runID}, nil)
	if err != nil {
		return 0, fmt.Errorf("worker: enqueue run %s: %w", runID, err)
	}
	return res.Job.ID, nil
}

// Start starts working jobs and the reconciler. The workers keep running after ctx is
// done: call Stop to end them gracefully.
func (w *Workers) Start(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopRecon != nil {
		return errors.New("worker: already started")
	}
	// River cancels running jobs when its start context ends (a hard stop that consumes
	// their attempts); detach so shutdown goes through Stop.
	if err := w.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("worker: start river: %w", err)
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w.stopRecon, w.reconDone = cancel, make(chan struct{})
	go w.reconcileLoop(rctx, w.reconDone)
	w.log.Info("workers started", "workers", w.opts.Workers, "job_timeout", w.opts.JobTimeout,
		"max_attempts", w.opts.MaxAttempts, "rescue_after", w.opts.RescueAfter)
	return nil
}

// Stop stops fetching jobs and waits for running ones until ctx is done; then it cancels
// them, and River puts them back without spending their attempt (another worker resumes
// the run).
func (w *Workers) Stop(ctx context.Context) error {
	w.mu.Lock()
	stop, done := w.stopRecon, w.reconDone
	w.stopRecon = nil
	w.mu.Unlock()
	if stop == nil {
		return nil
	}
	stop()
	<-done
	err := w.client.Stop(ctx)
	if err != nil && ctx.Err() != nil {
		hard, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = w.client.StopAndCancel(hard)
	}
	if err != nil {
		return fmt.Errorf("worker: stop: %w", err)
	}
	w.log.Info("workers stopped")
	return nil
}
