package onboarding

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/operation"
	"github.com/tenantops/onboard/internal/provider"
)

// RunService is the operation-run service: workers move runs through it (queued → running →
// completed). A run's status and outcome change only here and in Service (queued by a start,
// cancelled while queued by a cancellation), each change checked with operation.Transition.
//
// It lives beside Service, not in package operation, because a completion re-evaluates the
// run's draft (Recalculate) in the same transaction, and package onboarding already depends
// on package operation.
type RunService struct {
	store RunStore
	clock func() time.Time
}

// NewRunService returns a RunService over store. clock gives the one "now" of each call.
func NewRunService(store RunStore, clock func() time.Time) *RunService {
	if clock == nil {
		clock = time.Now
	}
	return &RunService{store: store, clock: clock}
}

// RunStore is what the RunService needs from persistence. *postgres.Store implements it.
type RunStore interface {
	// WithRunTx runs fn in one durable transaction, committing when fn returns nil; fn's
	// error is returned unchanged.
	WithRunTx(ctx context.Context, fn func(tx RunTx) error) error
	// TickRun stamps a running run's heartbeat and, when counts is not nil, its summary
	// counts, in one statement committed asynchronously (a lost tick is replaced by the next
	// one). It reports whether the run was running and updated, and otherwise its current
	// status ("" when there is no such run).
	TickRun(ctx context.Context, runID string, counts *operation.Counts, now time.Time) (updated bool, status operation.Status, err error)
	// StaleRuns lists ids of active runs (queued or running) whose last sign of life
	// (heartbeat, else start, else creation) is before heartbeatBefore, oldest first.
	StaleRuns(ctx context.Context, heartbeatBefore time.Time) ([]string, error)
}

// RunTx is one transaction of the RunStore. It is also a Tx, so a completion can
// re-evaluate the run's draft and audit in the same transaction.
type RunTx interface {
	Tx
	// RunDraftID reads (without locking) the id of the run's draft, "" when it has none;
	// fault.ErrNotFound when there is no such run. The caller locks the draft before the run.
	RunDraftID(ctx context.Context, runID string) (string, error)
	// LockRun loads the run and locks its row until the transaction ends; fault.ErrNotFound when unknown.
	LockRun(ctx context.Context, runID string) (operation.Run, error)
	// MarkRunning records a worker's attempt: status running, the attempt, started_at (once)
	// and the heartbeat. It returns the run as stored.
	MarkRunning(ctx context.Context, runID string, attempt int, now time.Time) (operation.Run, error)
	// RunConnection returns the provider connection named in the run's context, its secret
	// opened, with the draft's (else the tenant's) primary domain.
	RunConnection(ctx context.Context, runID string) (provider.Connection, error)
	// MarkCompleted records c (already redacted) as the run's terminal result: status
	// completed, outcome, reason code, counts, and context.result / context.message. It
	// returns the run as stored.
	MarkCompleted(ctx context.Context, runID string, c operation.Completion, now time.Time) (operation.Run, error)
	// SetConnectionStatus records what a verification found about a provider connection.
	SetConnectionStatus(ctx context.Context, connectionID string, status ConnectionStatus) error
	// Notify adds an in-app notification for n.UserID.
	Notify(ctx context.Context, n Notification, now time.Time) error
	// BatchRuns lists the bootstrap runs started together with r (r included).
	BatchRuns(ctx context.Context, r operation.Run) ([]operation.Run, error)
}

// BeginRun moves a run to running for a worker's attempt (queued → running, or running →
// running on a retry) and returns it with the connection to use, its secret opened. A
// completed run → operation.ErrRunFinished.
func (s *RunService) BeginRun(ctx context.Context, runID string, attempt int) (operation.Run, provider.Connection, error) {
	if attempt < 0 {
		return operation.Run{}, provider.Connection{}, fmt.Errorf("begin run: negative attempt %d", attempt)
	}
	if !IsGUID(runID) {
		return operation.Run{}, provider.Connection{}, fmt.Errorf("run %q: %w", runID, fault.ErrNotFound)
	}
	now := s.clock()
	var run operation.Run
	var conn provider.Connection
	err := s.store.WithRunTx(ctx, func(tx RunTx) error {
		locked, err := tx.LockRun(ctx, runID)
		if err != nil {
			return err
		}
		if locked.Status == operation.StatusCompleted {
			return operation.ErrRunFinished
		}
		if err := operation.Transition(locked.Status, locked.Outcome, operation.StatusRunning, operation.OutcomeNone); err != nil {
			return err
		}
		if run, err = tx.MarkRunning(ctx, runID, attempt, now); err != nil {
			return err
		}
		conn, err = tx.RunConnection(ctx, runID)
		return err
	})
	if err != nil {
		return operation.Run{}, provider.Connection{}, err
	}
	return run, conn, nil
}

// ProgressRun records a running run's summary counts and a heartbeat. Completed →
// operation.ErrRunFinished; queued (not begun) → operation.ErrIllegalTransition.
func (s *RunService) ProgressRun(ctx context.Context, runID string, counts operation.Counts) error {
	if err := counts.Validate(); err != nil {
		return err
	}
	return s.tick(ctx, runID, &counts)
}

// Heartbeat records that a running run's worker is alive. Completed → operation.ErrRunFinished.
func (s *RunService) Heartbeat(ctx context.Context, runID string) error {
	return s.tick(ctx, runID, nil)
}

func (s *RunService) tick(ctx context.Context, runID string, counts *operation.Counts) error {
	if !IsGUID(runID) {
		return fmt.Errorf("run %q: %w", runID, fault.ErrNotFound)
	}
	updated, status, err := s.store.TickRun(ctx, runID, counts, s.clock())
	switch {
	case err != nil:
		return err
	case updated:
		return nil
	case status == "":
		return fmt.Errorf("run %s: %w", runID, fault.ErrNotFound)
	case status == operation.StatusCompleted:
		return operation.ErrRunFinished
	}
	return fmt.Errorf("%w: progress on a %s run (begin it first)", operation.ErrIllegalTransition, status)
}

// StaleRuns lists active runs that have shown no sign of life since heartbeatBefore: running
// runs whose worker stopped beating, and queued runs never begun (the reconciler leaves those
// whose job still waits in the queue, and completes or re-queues the others: a job River
// rescued or discarded never calls back).
func (s *RunService) StaleRuns(ctx context.Context, heartbeatBefore time.Time) ([]string, error) {
	return s.store.StaleRuns(ctx, heartbeatBefore)
}

// CompleteRun records a run's terminal result and, in the same transaction, re-evaluates its
// draft through the versioned path (Recalculate), records what a verification found about
// its connection, audits the completion and notifies the initiator. The result and the
// message are redacted before they are stored.
func (s *RunService) CompleteRun(ctx context.Context, runID string, c operation.Completion) error {
	if err := c.Validate(); err != nil {
		return err
	}
	c, err := c.Redacted()
	if err != nil {
		return err
	}
	if !IsGUID(runID) {
		return fmt.Errorf("run %q: %w", runID, fault.ErrNotFound)
	}
	now := s.clock()
	return s.store.WithRunTx(ctx, func(tx RunTx) error {
		// Lock order: the draft first, then the run (as operators' writes do).
		draftID, err := tx.RunDraftID(ctx, runID)
		if err != nil {
			return err
		}
		if draftID != "" {
			if _, err := tx.LockDraft(ctx, draftID); err != nil {
				return err
			}
		}
		locked, err := tx.LockRun(ctx, runID)
		if err != nil {
			return err
		}
		if locked.Status == operation.StatusCompleted {
			return operation.ErrRunFinished
		}
		if err := operation.Transition(locked.Status, locked.Outcome, operation.StatusCompleted, c.Outcome); err != nil {
			return err
		}
		run, err := tx.MarkCompleted(ctx, runID, c, now)
		if err != nil {
			return err
		}
		if connID, status := verifiedConnection(run); status != "" {
			if err := tx.SetConnectionStatus(ctx, connID, status); err != nil {
				return err
			}
		}
		meta := map[string]any{
			"run_id": run.ID, "type": string(run.Type), "outcome": string(run.Outcome),
			"reason_code": nullable(run.ReasonCode), "summary_counts": run.Counts, "attempt": run.Attempt,
		}
		if run.DraftID != "" {
			before, after, changed, err := Recalculate(ctx, tx, run.DraftID, now)
			if err != nil {
				return fmt.Errorf("recalculate draft: %w", err)
			}
			meta["draft_id"] = run.DraftID
			meta["draft_changed"] = changed
			meta["before"] = LifecycleMetadata(before)
			meta["after"] = LifecycleMetadata(after)
		}
		if err := tx.Audit(ctx, AuditEntry{
			WorkspaceID: run.WorkspaceID, Action: ActionRunCompleted,
			SubjectType: SubjectRun, SubjectID: run.ID, Metadata: meta, At: now,
		}); err != nil {
			return err
		}
		if run.InitiatorID == 0 {
			return nil
		}
		if run.Type.IsBootstrap() && run.DraftID != "" {
			// One notice per bootstrap, not per operation: the last run of the batch to
			// finish sends it for all (completions of one draft are serialised by its lock).
			batch, err := tx.BatchRuns(ctx, run)
			if err != nil {
				return err
			}
			if len(batch) > 1 {
				for _, b := range batch {
					if b.ID != run.ID && b.Status.Active() {
						return nil
					}
				}
				return tx.Notify(ctx, bootstrapNotification(run, batch), now)
			}
		}
		return tx.Notify(ctx, completionNotification(run, c.Message), now)
	})
}

// verifiedConnection returns the connection a completed verification ran with and what the
// run says about it: succeeded → verified, failed → failed (informational; the lifecycle
// follows the run). Other runs and outcomes say nothing ("").
func verifiedConnection(r operation.Run) (string, ConnectionStatus) {
	if r.Type != operation.TypeVerifyAccess {
		return "", ""
	}
	connID, _ := r.Context["connection_id"].(string)
	if !IsGUID(connID) {
		return "", ""
	}
	switch r.Outcome {
	case operation.OutcomeSucceeded:
		return connID, ConnectionVerified
	case operation.OutcomeFailed:
		return connID, ConnectionFailed
	}
	return "", ""
}

// bootstrapNotification is the initiator's one notice for a bootstrap of several operations
// (batch), sent when the last of them (r) finished: the worst outcome, and each operation's.
func bootstrapNotification(r operation.Run, batch []operation.Run) Notification {
	rank := map[operation.Outcome]int{operation.OutcomeSucceeded: 0, operation.OutcomePartiallySucceeded: 1,
		operation.OutcomeCancelled: 2, operation.OutcomeFailed: 3}
	worst := operation.OutcomeSucceeded
	var parts []string
	for _, b := range batch {
		outcome := b.Outcome
		if b.ID == r.ID {
			outcome = r.Outcome
		}
		if rank[outcome] > rank[worst] {
			worst = outcome
		}
		parts = append(parts, fmt.Sprintf("%s: %s", b.Type.Operation(), outcome))
	}
	n := completionNotification(r, strings.Join(parts, "; "))
	n.RunID = ""
	n.Title = fmt.Sprintf("Bootstrap of %d operations finished: %s", len(batch), strings.ReplaceAll(string(worst), "_", " "))
	n.Payload["type"], n.Payload["outcome"], n.Payload["run_id"] = "bootstrap", string(worst), nil
	n.Payload["operations"] = len(batch)
	return n
}

// NotificationRunCompleted is the kind of a run's terminal notification.
const NotificationRunCompleted = "operation_run_completed"

// completionNotification is the initiator's terminal notification of a run. It names the
// run and its draft by id; the web layer turns them into links.
func completionNotification(r operation.Run, message string) Notification {
	n := Notification{
		UserID:      r.InitiatorID,
		WorkspaceID: r.WorkspaceID,
		Kind:        NotificationRunCompleted,
		Body:        message,
		DraftID:     r.DraftID,
		RunID:       r.ID,
		Payload: map[string]any{
			"run_id": r.ID, "draft_id": nullable(r.DraftID), "type": string(r.Type),
			"outcome": string(r.Outcome), "reason_code": nullable(r.ReasonCode),
		},
	}
	switch {
	case r.Type == operation.TypeVerifyAccess && r.Outcome == operation.OutcomeSucceeded:
		n.Title = "Verification succeeded"
	case r.Type == operation.TypeVerifyAccess:
		n.Title = "Verification needs action"
	default:
		n.Title = fmt.Sprintf("Bootstrap %s finished: %s", r.Type.Operation(), r.Outcome)
	}
	if n.Body == "" && r.ReasonCode != "" {
		n.Body = r.ReasonCode
	}
	return n
}
