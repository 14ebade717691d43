package onboarding

import (
	"context"
	"time"

	"github.com/tenantops/onboard/internal/operation"
)

// Store is what the Service needs from persistence. *postgres.Store implements it.
//
// Reads are single statements. Writes happen inside WithTx: the service locks the draft,
// checks the version, changes facts, re-evaluates and saves, all in one transaction, so that
// the lifecycle columns can never disagree with the facts they were computed from.
type Store interface {
	// WithTx runs fn in one transaction, committing when fn returns nil and rolling back
	// otherwise (the error is returned unchanged, so typed errors survive).
	WithTx(ctx context.Context, fn func(tx Tx) error) error

	// Drafts lists a workspace's drafts, most recently updated first.
	Drafts(ctx context.Context, workspaceID int64) ([]Draft, error)
	// Draft loads one draft by id, in any workspace; fault.ErrNotFound when unknown (or not a UUID).
	Draft(ctx context.Context, id string) (Draft, error)
	// DraftRuns lists a draft's runs, newest first, at most limit.
	DraftRuns(ctx context.Context, draftID string, limit int) ([]operation.Run, error)
	// Run loads one run by id, in any workspace; fault.ErrNotFound when unknown.
	Run(ctx context.Context, id string) (operation.Run, error)
	// WorkspaceRuns lists a workspace's runs matching f, newest first.
	WorkspaceRuns(ctx context.Context, workspaceID int64, f RunFilter) ([]operation.Run, error)
	// DraftConnection describes the connection attached to a draft; nil when none.
	DraftConnection(ctx context.Context, draftID string) (*ConnectionInfo, error)
}

// Tx is one transaction of the Store. Times are passed in, so one transaction uses one now.
type Tx interface {
	// LockDraft loads the draft and locks its row until the transaction ends
	// (SELECT … FOR UPDATE); fault.ErrNotFound when unknown. It does not check the workspace.
	LockDraft(ctx context.Context, id string) (Draft, error)
	// LoadFacts reads the facts of d: the connection d.ProviderConnectionID names, the latest
	// verify_access run of the draft and the latest run per bootstrap type of the draft; the
	// identify fields, selection, override and timestamps are d's own (which may hold
	// unsaved changes).
	LoadFacts(ctx context.Context, d Draft) (Facts, error)
	// CreateDraft ensures the tenant row and inserts d. When the tenant already has an open
	// draft in the workspace it inserts nothing and returns that draft with created=false.
	CreateDraft(ctx context.Context, d Draft, actorID int64, now time.Time) (_ Draft, created bool, _ error)
	// SaveDraft writes d's mutable columns with version = expected+1, only if the stored
	// version is still expected (else a *ConflictError). actorID 0 records the system as the
	// updater. An override reason that changes records actorID as overridden_by.
	SaveDraft(ctx context.Context, d Draft, expected, actorID int64, now time.Time) (Draft, error)
	// ConnectionClientID returns the client id of provider connection id (never its secret).
	ConnectionClientID(ctx context.Context, id string) (string, error)
	// CreateConnection stores a provider connection of the draft's tenant, its secret sealed,
	// and returns its id.
	CreateConnection(ctx context.Context, c NewConnection) (string, error)
	// InsertRun queues a run unless one of the same workspace, tenant and type is active; then
	// it returns that one with created=false. A created run is handed to the job queue in the
	// same transaction when the store has one.
	InsertRun(ctx context.Context, r NewRun) (_ operation.Run, created bool, _ error)
	// CancelQueuedRuns completes the draft's queued runs with outcome cancelled (through
	// operation.Transition) and returns their ids. Running runs are left to their workers.
	CancelQueuedRuns(ctx context.Context, draftID string, now time.Time) ([]string, error)
	// ActivateTenant marks the tenant active with the draft's name and domain.
	ActivateTenant(ctx context.Context, d Draft, now time.Time) error
	// Audit appends one workspace audit entry.
	Audit(ctx context.Context, e AuditEntry) error
	// DraftWorkers lists the users who worked on the draft: who made an audited change to
	// it or started one of its runs.
	DraftWorkers(ctx context.Context, draftID string) ([]int64, error)
	// Notify adds an in-app notification for n.UserID.
	Notify(ctx context.Context, n Notification, now time.Time) error
	// WorkspaceOwners lists the ids of the workspace's owners, in id order.
	WorkspaceOwners(ctx context.Context, workspaceID int64) ([]int64, error)
	// RecordActivationRequest stores actorID's open activation request on the draft (locked by
	// the caller) and returns the draft as stored. It moves the draft's rev, never its version.
	RecordActivationRequest(ctx context.Context, draftID string, actorID int64, now time.Time) (Draft, error)
}

// NewConnection is a provider connection to store. Secret is plaintext only in memory.
type NewConnection struct {
	WorkspaceID      int64
	TenantID         string
	ClientID, Secret string
	CreatedBy        int64
	Now              time.Time
}

// NewRun is a run to queue.
type NewRun struct {
	WorkspaceID int64
	TenantID    string
	DraftID     string
	Type        operation.Type
	InitiatorID int64
	// ConnectionID is the connection the run will use; stored in the run's context.
	ConnectionID string
	Now          time.Time
}

// AuditEntry is one workspace_audit_log row. Metadata never holds secrets.
type AuditEntry struct {
	WorkspaceID int64
	ActorID     int64 // 0: the system
	Action      string
	SubjectType string
	SubjectID   string
	Metadata    map[string]any
	At          time.Time
}

// AuditRecord is one stored audit entry as read back for the audit log page.
type AuditRecord struct {
	ID                             int64
	Actor                          string // the actor's email; "system" when none
	Action, SubjectType, SubjectID string
	Metadata                       string // the metadata as stored, JSON text
	At                             time.Time
	// DraftID and Tenant name the onboarding the entry is about (a draft, or a run of a
	// draft), "" when it is about something else; Tenant is the draft's display name.
	DraftID, Tenant string
}

// AuditFilter selects audit entries; empty fields match everything. Entries come newest
// first (Desc) or oldest first; Page continues a page (keyset by entry id, or an offset).
type AuditFilter struct {
	Action   string // exact action, or a prefix ending in "." (e.g. "onboarding.")
	Actor    string // actor email
	DraftID  string // entries about this draft or its runs
	From, To time.Time
	// Q matches the action, the actor's email, the subject (a tenant's name, the subject
	// id) and the changed values (the metadata as text), case-insensitive, substring;
	// Actions are more actions it matches (those whose words contain it).
	Q       string
	Actions []string
	ListPage
}

// ListPage is where one page of a list starts and how long it is. The lists that grow
// (drafts, runs, audit) continue with keyset cursors (After for the next page, Before for the
// previous one), stable while rows are added; a numbered page jumps there by Offset.
type ListPage struct {
	Desc   bool // the sort's direction: descending
	Offset int
	After  *Cursor // rows after this one in the list's order
	Before *Cursor // rows before this one (the page read backwards, returned in order)
	Limit  int
}

// Cursor is a row's position in a sorted list: its sort value as text and its id.
type Cursor struct{ Value, ID string }

// ConnectionInfo describes a provider connection without its secret.
type ConnectionInfo struct {
	ID        string
	ClientID  string
	Status    ConnectionStatus
	CreatedAt time.Time
}

// RunFilter selects a workspace's runs. Empty fields match everything.
type RunFilter struct {
	Type, Status, DraftID string
	// CreatedAfter keeps the runs created at or after it; zero for all.
	CreatedAfter time.Time
	// Limit bounds the result; 0 means DefaultRunLimit, and it is capped at MaxRunLimit.
	Limit int
}

// RunMatch is a run the global search found, with its draft's display name ("" when the
// run has no draft).
type RunMatch struct {
	Run       operation.Run
	DraftName string
}

// Run list limits.
const (
	DefaultRunLimit = 50
	MaxRunLimit     = 200
)

// Notification is one in-app notification of a user (for example "Verification succeeded").
// It names what it is about by id (DraftID, RunID); the web layer builds the links.
type Notification struct {
	ID          int64
	UserID      int64
	WorkspaceID int64
	Kind        string
	Title       string
	Body        string
	DraftID     string // "" when none
	RunID       string // "" when none
	Payload     map[string]any
	ReadAt      time.Time // zero when unread
	CreatedAt   time.Time
}

// Notification kinds of the draft's end, sent to everyone who worked on it (not its author).
const (
	NotificationActivated = "onboarding_activated"
	NotificationCancelled = "onboarding_cancelled"
	// NotificationActivationRequested is sent to every owner when a member asks them to
	// activate a ready draft.
	NotificationActivationRequested = "onboarding_activation_requested"
)

// Audit actions written by the service and the run service.
const (
	ActionDraftCreated         = "onboarding.draft.created"
	ActionDraftUpdated         = "onboarding.draft.updated"
	ActionVerificationStarted  = "onboarding.verification.started"
	ActionBootstrapStarted     = "onboarding.bootstrap.started"
	ActionActivated            = "onboarding.activated"
	ActionActivationOverridden = "onboarding.activation.overridden"
	ActionCancelled            = "onboarding.cancelled"
	ActionActivationRequested  = "onboarding.activation.requested"
	ActionRunCompleted         = "operation.run.completed"
)

// Audit subject types.
const (
	SubjectDraft = "onboarding_draft"
	SubjectRun   = "operation_run"
)

// ReasonDraftClosed refuses changes to a cancelled or completed draft (409).
const ReasonDraftClosed = ReasonCode(operation.ReasonDraftClosed)

// ReasonRunActiveElsewhere refuses a start (409) while the tenant's active run of that type
// belongs to another draft (for example one that was cancelled while it ran): that run would
// never appear in this draft's wizard, so it is not handed back as if it were this draft's.
const ReasonRunActiveElsewhere ReasonCode = "run_active_elsewhere"

// Refusals of an activation request (409): the draft is not ready for activation, or a
// request is already open (one per draft until it leaves ready_for_activation).
const (
	ReasonNotReadyForActivation      ReasonCode = "not_ready_for_activation"
	ReasonActivationAlreadyRequested ReasonCode = "activation_already_requested"
)

// ownRun refuses an existing active run of another draft (see ReasonRunActiveElsewhere).
func ownRun(d Draft, r operation.Run) error {
	if r.DraftID != d.ID {
		return &BlockedError{Code: ReasonRunActiveElsewhere}
	}
	return nil
}

// Input limits of the service.
const (
	MaxOverrideReasonRunes = 500
	MaxClientSecretRunes   = 1024
)

// Recalculate re-evaluates a draft after one of its facts changed outside an operator's
// request (a run completed), inside the caller's transaction: it locks the row, reads the
// current version (so it never overwrites a concurrent edit: that edit either committed
// before the lock and is kept, or waits for this transaction and then sees a new version),
// re-evaluates, and saves with version+1 only when the evaluation changed. The updater is
// recorded as the system.
func Recalculate(ctx context.Context, tx Tx, draftID string, now time.Time) (before, after Draft, changed bool, err error) {
	d, err := tx.LockDraft(ctx, draftID)
	if err != nil {
		return Draft{}, Draft{}, false, err
	}
	facts, err := tx.LoadFacts(ctx, d)
	if err != nil {
		return Draft{}, Draft{}, false, err
	}
	before = d
	e := Evaluate(facts)
	if evaluationOf(d) == e {
		return before, d, false, nil
	}
	d.Apply(e)
	after, err = tx.SaveDraft(ctx, d, d.Version, 0, now)
	if err != nil {
		return Draft{}, Draft{}, false, err
	}
	return before, after, true, nil
}

// evaluationOf returns the evaluation stored in d's lifecycle columns.
func evaluationOf(d Draft) Evaluation {
	return Evaluation{d.Lifecycle, d.CurrentCheckpoint, d.LastCompletedCheckpoint, d.ReasonCode, d.BlockingReasonCode}
}

// LifecycleMetadata is the audit form of a draft's lifecycle columns.
func LifecycleMetadata(d Draft) map[string]any {
	return map[string]any{
		"lifecycle_state":           string(d.Lifecycle),
		"current_checkpoint":        string(d.CurrentCheckpoint),
		"last_completed_checkpoint": nullable(string(d.LastCompletedCheckpoint)),
		"reason_code":               nullable(string(d.ReasonCode)),
		"blocking_reason_code":      nullable(string(d.BlockingReasonCode)),
		"version":                   d.Version,
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// DraftFilter selects one page of a workspace's drafts for the drafts list.
type DraftFilter struct {
	Q         string // matches display name, primary domain or tenant id (case-insensitive, substring)
	Lifecycle string // one lifecycle_state, "" for all
	// Sort is "updated" (the last change, the default), "name", "status" (in lifecycle
	// order) or "checkpoint" (in checkpoint order); ListPage.Desc its direction.
	Sort string
	// Checkpoint selects the open drafts (neither completed nor cancelled) at one
	// current_checkpoint, as the workspace dashboard counts them; "" for all drafts.
	Checkpoint string
	ListPage
}

// RunPageFilter selects one page of a workspace's runs for the operations list.
type RunPageFilter struct {
	Type, Status, Outcome, DraftID string
	// Q matches the run's type, its initiator's email, its tenant's name, domain or tenant id.
	Q string
	// Sort is "started" (creation, the default), "type" or "status"; ListPage.Desc its direction.
	Sort string
	// CreatedAfter, if set, keeps the runs created after it (the dashboard's 24 hours).
	CreatedAfter time.Time
	ListPage
}
