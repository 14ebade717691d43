package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tenantops/onboard/internal/envflag"
	"github.com/tenantops/onboard/internal/provider"
	"github.com/tenantops/onboard/internal/worker"
)

// workerConfig configures the run workers of `serve` and `worker`.
type workerConfig struct {
	Workers     int
	JobTimeout  time.Duration
	MaxAttempts int
	RescueAfter time.Duration
	SlowRun     time.Duration
}

func (c *workerConfig) register(f *envflag.Set) {
	f.Int(&c.Workers, "workers", "WORKERS", 10, "operation runs executed at once by this process (0 disables the workers)")
	f.Duration(&c.JobTimeout, "job-timeout", "JOB_TIMEOUT", 2*time.Minute, "longest attempt of one operation run")
	f.Int(&c.MaxAttempts, "max-attempts", "MAX_ATTEMPTS", 3, "attempts per operation run, retries included")
	f.Duration(&c.RescueAfter, "rescue-after", "RESCUE_AFTER", 2*time.Minute, "bound within which a run whose worker died is failed or retried")
	f.Duration(&c.SlowRun, "sim-slow-duration", "SIM_SLOW_DURATION", 20*time.Second, "duration of a simulated *.slow.test run")
}

// newWorkers builds the run workers from the pool, the operation-run service and a provider.
func newWorkers(pool *pgxpool.Pool, runs worker.Runs, p provider.Provider, cfg workerConfig, log *slog.Logger) (*worker.Workers, error) {
	return worker.New(pool, runs, p, worker.Options{
		Workers:     cfg.Workers,
		JobTimeout:  cfg.JobTimeout,
		MaxAttempts: cfg.MaxAttempts,
		RescueAfter: cfg.RescueAfter,
		Logger:      log,
	})
}

// startWorkers builds the workers over runs (the operation-run service) with the simulated
// provider and, unless cfg.Workers is 0, starts them. The returned *worker.Workers provides
// Enqueue for the start gate even when not started: a web-only process still enqueues. The
// returned stop waits for running attempts until its context ends, then hands them back to
// the queue.
func startWorkers(ctx context.Context, pool *pgxpool.Pool, runs worker.Runs, cfg workerConfig, log *slog.Logger) (*worker.Workers, func(context.Context) error, error) {
	noop := func(context.Context) error { return nil }
	started := cfg.Workers > 0
	cfg.Workers = max(cfg.Workers, 1)
	w, err := newWorkers(pool, runs, provider.NewSimulated(provider.Options{SlowDuration: cfg.SlowRun}), cfg, log)
	if err != nil {
		return nil, nil, err
	}
	if !started {
		log.Info("workers not started in this process (-workers 0); runs are only enqueued")
		return w, noop, nil
	}
	if err := w.Start(ctx); err != nil {
		return nil, nil, fmt.Errorf("start workers: %w", err)
	}
	return w, w.Stop, nil
}
