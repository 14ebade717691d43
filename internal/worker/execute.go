package worker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/tenantops/onboard/internal/operation"
	"github.com/tenantops/onboard/internal/provider"
)

// completeTimeout bounds the terminal write, which must happen even when the job's own
// context has ended (timeout, cancellation).
const completeTimeout = 30 * time.Second

// errRunFinishedElsewhere cancels the provider call when ProgressRun learns that the run
// was completed by someone else (an operator's cancellation, the reconciler).
var errRunFinishedElsewhere = errors.New("run completed elsewhere")

// runWorker is River's worker of RunArgs jobs.
type runWorker struct {
	river.WorkerDefaults[RunArgs]
	w *Workers
}

// Work executes one attempt of a run. Outcomes:
//   - the provider answered: CompleteRun with the mapped outcome;
//   - a transient provider error or a timeout, attempts left: return the (redacted) error,
//     River retries after the backoff and the run stays running;
//   - the same on the last attempt: failed, provider_unreachable or provider_timeout;
//   - another provider error: failed, provider_error, with the redacted message;
//   - the job was cancelled remotely: cancelled, unless the reconciler replaced the job
//     (then the new job owns the run and this one ends quietly);
//   - the client is stopping: return, River puts the job back without spending an attempt.
func (rw *runWorker) Work(ctx context.Context, job *river.Job[RunArgs]) error {
	w := rw.w
	runID := job.Args.RunID
	attempt := job.Args.PriorAttempts + job.Attempt
	last := job.Attempt >= job.MaxAttempts
	log := w.log.With("run_id", runID, "job_id", job.ID, "attempt", attempt)

	run, conn, err := w.runs.BeginRun(ctx, runID, attempt)
	if errors.Is(err, operation.ErrRunFinished) {
		log.Info("run already completed; job done")
		return nil
	}
	if err != nil {
		return fmt.Errorf("begin run %s: %w", runID, err)
	}

	pctx, cancelProvider := context.WithCancelCause(provider.WithAttempt(ctx, run.ID, attempt))
	defer cancelProvider(nil)
	p := w.startProgress(runID, run.Counts, func() { cancelProvider(errRunFinishedElsewhere) })
	// The writer keeps beating until the attempt's result is recorded: a live worker whose
	// completion is slow to commit must not look dead to the reconciler. A write that lands
	// after the completion changes nothing (only running runs take progress).
	defer p.stop()
	c, err := w.execute(pctx, run, conn, p.report)
	if p.runFinished() {
		log.Info("run completed elsewhere during the attempt; job done")
		return nil
	}

	if err != nil {
		var retry error
		c, retry = w.classify(ctx, job, err, last)
		if retry != nil {
			log.Warn("attempt failed; River retries", "error", retry)
			return retry
		}
		if c == nil {
			log.Info("job replaced by the reconciler; this attempt ends quietly")
			return nil
		}
		// What the run showed last; the work done before the failure is not lost.
		c.Counts = p.latest()
	}
	dbCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), completeTimeout)
	defer cancel()
	if err := w.runs.CompleteRun(dbCtx, runID, *c); err != nil {
		if errors.Is(err, operation.ErrRunFinished) {
			log.Info("run completed elsewhere; result dropped")
			return nil
		}
		// Retrying repeats the attempt; BeginRun ends it if the run was completed meanwhile.
		return fmt.Errorf("complete run %s: %w", runID, err)
	}
	log.Info("run completed", "outcome", c.Outcome, "reason_code", c.ReasonCode)
	return nil
}

// classify turns an execution error into a completion, or into an error for River to retry
// (retry != nil), or into neither when the job was replaced (both nil).
func (w *Workers) classify(ctx context.Context, job *river.Job[RunArgs], err error, last bool) (c *operation.Completion, retry error) {
	msg := operation.Redact(err.Error())
	failed := func(reason, message string) (*operation.Completion, error) {
		return &operation.Completion{Outcome: operation.OutcomeFailed, ReasonCode: reason, Message: message}, nil
	}
	if ctx.Err() != nil {
		cause := context.Cause(ctx)
		switch {
		case errors.Is(cause, rivertype.ErrJobCancelledRemotely):
			if w.superseded(context.WithoutCancel(ctx), job) {
				return nil, nil
			}
			return &operation.Completion{Outcome: operation.OutcomeCancelled, Message: "Cancelled while running."}, nil
		case errors.Is(cause, context.DeadlineExceeded):
			text := fmt.Sprintf("The provider did not answer within %s.", w.opts.JobTimeout)
			if !last {
				return nil, errors.New(text)
			}
			return failed(operation.ReasonProviderTimeout, text)
		default:
			// River is stopping: returning the context error makes it put the job back
			// without spending the attempt.
			return nil, ctx.Err()
		}
	}
	if errors.Is(err, provider.ErrTransient) {
		if !last {
			// River stores and logs this error: only the redacted text.
			return nil, errors.New(msg)
		}
		return failed(operation.ReasonProviderUnreachable, msg)
	}
	return failed(operation.ReasonProviderError, msg)
}

// execute calls the provider for the run's type and maps its answer.
func (w *Workers) execute(ctx context.Context, run operation.Run, conn provider.Connection, progress provider.Progress) (*operation.Completion, error) {
	switch {
	case run.Type == operation.TypeVerifyAccess:
		rep, err := w.prov.VerifyAccess(ctx, conn, progress)
		if err != nil {
			return nil, err
		}
		c := verificationCompletion(rep)
		return &c, nil
	case run.Type.IsBootstrap():
		res, err := w.prov.Bootstrap(ctx, conn, run.Type.Operation(), progress)
		if err != nil {
			return nil, err
		}
		c := bootstrapCompletion(run.Type.Operation(), res)
		return &c, nil
	}
	return nil, fmt.Errorf("unknown run type %q", run.Type)
}

// verificationCompletion maps a verification report: a blocking reason code or any failed
// check → failed (with the report's reason code); only warnings → partially_succeeded;
// otherwise succeeded (skipped checks do not spoil success).
func verificationCompletion(rep provider.Report) operation.Completion {
	checks := make([]provider.Check, len(rep.Checks))
	warnings := 0
	for i, ch := range rep.Checks {
		ch.Message = operation.Redact(ch.Message)
		checks[i] = ch
		if ch.Status == provider.CheckWarning {
			warnings++
		}
	}
	counts := countsOf(rep.Counts())
	c := operation.Completion{Counts: counts, Result: map[string]any{"checks": checks}}
	switch {
	case slices.Contains(operation.ReportReasons, rep.ReasonCode) || !rep.Passed():
		c.Outcome = operation.OutcomeFailed
		c.ReasonCode = rep.ReasonCode
		c.Message = fmt.Sprintf("Verification failed: %d of %d checks failed.", counts.Failed, counts.Total)
	case warnings > 0:
		c.Outcome = operation.OutcomePartiallySucceeded
		c.ReasonCode = rep.ReasonCode
		c.Message = fmt.Sprintf("Verification passed with %d warnings.", warnings)
	default:
		c.Outcome = operation.OutcomeSucceeded
		c.Message = fmt.Sprintf("All %d checks passed.", counts.Total)
	}
	return c
}

// bootstrapCompletion maps a bootstrap result: the outcome follows from the counts.
func bootstrapCompletion(op string, res provider.BootstrapResult) operation.Completion {
	items := make([]provider.Item, len(res.Items))
	for i, it := range res.Items {
		it.Message = operation.Redact(it.Message)
		items[i] = it
	}
	counts := countsOf(res.Counts)
	return operation.Completion{
		Outcome: operation.OutcomeFor(counts, false),
		Counts:  counts,
		Result:  map[string]any{"items": items},
		Message: fmt.Sprintf("%s: %d succeeded, %d failed, %d skipped of %d.",
			op, counts.Succeeded, counts.Failed, counts.Skipped, counts.Total),
	}
}

func countsOf(c provider.Counts) operation.Counts {
	return operation.Counts{Total: c.Total, Succeeded: c.Succeeded, Failed: c.Failed, Skipped: c.Skipped}
}
