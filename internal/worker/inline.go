package worker

import (
	"context"
	"fmt"

	"github.com/tenantops/onboard/internal/operation"
	"github.com/tenantops/onboard/internal/provider"
)

// RunInline executes one queued run to its end in the calling goroutine, through the same
// path as a job (BeginRun → provider → CompleteRun) but without the queue and without
// retries: a transient provider error fails the run. Demo data uses it, so a new database
// shows runs with real reports.
func RunInline(ctx context.Context, runs Runs, p provider.Provider, runID string) error {
	run, conn, err := runs.BeginRun(ctx, runID, 1)
	if err != nil {
		return fmt.Errorf("begin run %s: %w", runID, err)
	}
	w := &Workers{prov: p}
	c, err := w.execute(ctx, run, conn, func(int, int) {})
	if err != nil {
		c = &operation.Completion{Outcome: operation.OutcomeFailed, ReasonCode: operation.ReasonProviderError, Message: operation.Redact(err.Error())}
	}
	return runs.CompleteRun(ctx, runID, *c)
}
