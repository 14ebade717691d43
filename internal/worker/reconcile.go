package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/tenantops/onboard/internal/operation"
)

// The reconciler exists because River never calls our code again for a job it rescued,
// discarded or that vanished, and its own rescuer runs every 30 s on the leader only, after
// at least JobTimeout: a run whose worker died would stay "running" far longer than
// RescueAfter. The reconciler looks at runs (our truth) instead of jobs: a running run
// whose heartbeat is older than RescueAfter/2 has lost its worker unless its River job is
// still waiting to be worked (available, scheduled, retryable, pending) or was started
// after the heartbeat cut-off.

// Reconcile actions, for logs and tests.
const (
	actionAlive      = "alive"       // the job is pending or was started recently
	actionBusy       = "busy"        // another process is reconciling this run
	actionRequeued   = "requeued"    // a new job continues the run with the attempts left
	actionWorkerLost = "worker_lost" // no attempt left: completed as failed
)

func (w *Workers) reconcileLoop(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(w.opts.reconcileEvery())
	defer t.Stop()
	for {
		if err := w.reconcile(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn("reconcile failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// reconcile handles every stale run once.
func (w *Workers) reconcile(ctx context.Context) error {
	cutoff := w.opts.Now().Add(-w.opts.staleAfter())
	ids, err := w.runs.StaleRuns(ctx, cutoff)
	if err != nil {
		return fmt.Errorf("stale runs: %w", err)
	}
	var errs []error
	for _, id := range ids {
		action, err := w.reconcileRun(ctx, id, cutoff)
		if err != nil {
			errs = append(errs, fmt.Errorf("run %s: %w", id, err))
			continue
		}
		if action != actionAlive && action != actionBusy {
			w.log.Warn("reconciled a run whose worker stopped", "run_id", id, "action", action)
		}
	}
	return errors.Join(errs...)
}

// latestJob is the newest River job of a run.
type latestJob struct {
	id          int64
	state       rivertype.JobState
	attempt     int
	attemptedAt *time.Time
	args        RunArgs
}

// reconcileRun decides about one stale run in a transaction holding a per-run advisory
// lock, so that two processes never both re-enqueue the same run.
func (w *Workers) reconcileRun(ctx context.Context, runID string, cutoff time.Time) (string, error) {
	tx, err := w.pool.Begin(ctx)
	if err != nil {
		return "", err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var locked bool
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtextextended('onboard.worker.reconcile:' || $1, 0))`, runID).Scan(&locked); err != nil {
		return "", err
	}
	if !locked {
		return actionBusy, nil
	}
	job, found, err := w.latestJob(ctx, tx, runID)
	if err != nil {
		return "", err
	}
	spent := w.opts.MaxAttempts // a run without any job left: nothing is known, nothing retried
	if found {
		switch job.state {
		case rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStateRetryable, rivertype.JobStatePending:
			return actionAlive, nil
		case rivertype.JobStateRunning:
			if job.attemptedAt != nil && !job.attemptedAt.Before(cutoff) {
				return actionAlive, nil
			}
			// Its worker is gone (or wedged and silent). Cancelling makes River's rescuer
			// finalise the row as cancelled instead of retrying it, and cancels the job's
			// context if the worker is in fact alive: it sees the new job and ends quietly.
			if _, err := w.client.JobCancelTx(ctx, tx, job.id); err != nil && !errors.Is(err, river.ErrNotFound) {
				return "", fmt.Errorf("cancel job %d: %w", job.id, err)
			}
		}
		spent = job.args.PriorAttempts + max(job.attempt, 1)
	}
	if spent < w.opts.MaxAttempts {
		args := RunArgs{RunID: runID, PriorAttempts: spent}
		if _, err := w.client.InsertTx(ctx, tx, args, &river.InsertOpts{MaxAttempts: w.opts.MaxAttempts - spent}); err != nil {
			return "", fmt.Errorf("re-enqueue: %w", err)
		}
		return actionRequeued, tx.Commit(ctx)
	}
	// Completed while holding the lock, and before the cancellation above commits, so a
	// worker that is somehow alive finds the run finished rather than completing it itself.
	err = w.runs.CompleteRun(ctx, runID, operation.Completion{
		Outcome:    operation.OutcomeFailed,
		ReasonCode: operation.ReasonWorkerLost,
		Message:    "The worker executing this run stopped and no attempt was left.",
	})
	if err != nil && !errors.Is(err, operation.ErrRunFinished) {
		return "", fmt.Errorf("complete: %w", err)
	}
	return actionWorkerLost, tx.Commit(ctx)
}

// runJobs lists a run's jobs through River's public job API (newest first). River indexes
// args with GIN, which serves the @> predicate.
func runJobs(runID string) *river.JobListParams {
	return river.NewJobListParams().Kinds(Kind).
		Where("args @> jsonb_build_object('run_id', @run_id::text)", river.NamedArgs{"run_id": runID}).
		OrderBy(river.JobListOrderByID, river.SortOrderDesc)
}

// latestJob returns the newest job of a run.
func (w *Workers) latestJob(ctx context.Context, tx pgx.Tx, runID string) (latestJob, bool, error) {
	res, err := w.client.JobListTx(ctx, tx, runJobs(runID).First(1))
	if err != nil {
		return latestJob{}, false, fmt.Errorf("latest job: %w", err)
	}
	if len(res.Jobs) == 0 {
		return latestJob{}, false, nil
	}
	row := res.Jobs[0]
	j := latestJob{id: row.ID, state: row.State, attempt: row.Attempt, attemptedAt: row.AttemptedAt}
	if err := json.Unmarshal(row.EncodedArgs, &j.args); err != nil {
		return latestJob{}, false, fmt.Errorf("job %d args: %w", j.id, err)
	}
	return j, true, nil
}

// superseded reports whether the reconciler gave job's run to a newer job. On a database
// error it answers false: the caller then completes the run as cancelled, which is what
// the remote cancellation asked for anyway.
func (w *Workers) superseded(ctx context.Context, job *river.Job[RunArgs]) bool {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := w.client.JobList(ctx, runJobs(job.Args.RunID).
		Where("id > @job_id", river.NamedArgs{"job_id": job.ID}).First(1))
	if err != nil {
		w.log.Warn("superseded check failed", "run_id", job.Args.RunID, "error", err)
		return false
	}
	return len(res.Jobs) > 0
}
