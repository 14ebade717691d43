package onboarding

import (
	"context"
	"errors"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/operation"
)

// Reasons a run cannot be retried, beside the start gate's own.
const (
	// ReasonRunNotRetryable: only a failed or cancelled run is retried.
	ReasonRunNotRetryable ReasonCode = "run_not_retryable"
	// ReasonRunAlreadyActive: a run of the same type is queued or running for the tenant.
	ReasonRunAlreadyActive ReasonCode = "run_already_active"
)

// Retryable reports whether run ended the way a retry is for: failed or cancelled.
func Retryable(run operation.Run) bool {
	return run.Status == operation.StatusCompleted &&
		(run.Outcome == operation.OutcomeFailed || run.Outcome == operation.OutcomeCancelled)
}

// startCapability is the capability that starts runs of typ.
func startCapability(typ operation.Type) access.Capability {
	if typ.IsBootstrap() {
		return access.BootstrapStart
	}
	return access.VerificationStart
}

// RetryCheck says whether m may retry run now, from a snapshot of its draft: fault.ErrForbidden when m lacks the capability that starts runs of its type; otherwise the
// reason it would be refused ("" when it would start). Pages use it to offer or explain the
// action; RetryRun applies the start gate itself, in its transaction.
func RetryCheck(m access.Member, sn Snapshot, run operation.Run) (ReasonCode, error) {
	if !m.Can(startCapability(run.Type)) {
		return "", fault.ErrForbidden
	}
	if !Retryable(run) || run.DraftID == "" {
		return ReasonRunNotRetryable, nil
	}
	var be *BlockedError
	if err := gate(run.Type, sn.Draft, sn.Facts()); errors.As(err, &be) {
		return be.Code, nil
	} else if err != nil {
		return "", err
	}
	for _, r := range sn.Runs {
		if r.Type == run.Type && r.Active() {
			return ReasonRunAlreadyActive, nil
		}
	}
	return "", nil
}

// RetryRun starts a new run of a failed or cancelled run's type on its draft, through the
// same start gate and dedupe as starting it (one active run per tenant and type: an active
// one is returned, created=false). It needs the capability that starts runs of that type;
// the audit entry (verification or bootstrap started) names the run retried. The draft's
// version is the one read here: a retry edits nothing the operator typed, so a concurrent
// change of the draft is taken as it is, once more.
func (s *Service) RetryRun(ctx context.Context, m access.Member, runID string) (operation.Run, bool, error) {
	run, err := s.Run(ctx, m, runID)
	if err != nil {
		return operation.Run{}, false, err
	}
	if !m.Can(startCapability(run.Type)) {
		return operation.Run{}, false, fault.ErrForbidden
	}
	if !Retryable(run) || run.DraftID == "" {
		return operation.Run{}, false, &BlockedError{Code: ReasonRunNotRetryable}
	}
	for attempt := 0; ; attempt++ {
		d, err := s.Get(ctx, m, run.DraftID)
		if err != nil {
			return operation.Run{}, false, err
		}
		out, created, err := s.retryOnce(ctx, m, d, run)
		if errors.Is(err, fault.ErrConflict) && attempt < 2 {
			continue // the draft moved between the read and the lock: read it again
		}
		return out, created, err
	}
}

func (s *Service) retryOnce(ctx context.Context, m access.Member, d Draft, run operation.Run) (operation.Run, bool, error) {
	meta := map[string]any{"retry_of": run.ID}
	if !run.Type.IsBootstrap() {
		_, out, created, err := s.startVerification(ctx, m, d.ID, d.Version, meta)
		return out, created, err
	}
	op := run.Type.Operation()
	_, runs, created, err := s.startBootstrap(ctx, m, d.ID, d.Version, []string{op}, false, meta)
	if err != nil {
		return operation.Run{}, false, err
	}
	return runs[0], len(created) == 1, nil
}
