package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/aesgcm"
	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/onboarding"
)

// EnqueueFunc hands a queued run to the job queue inside the transaction that inserted it
// (River's InsertTx), returning the job id. cmd/onboard takes it from the worker package.
type EnqueueFunc func(ctx context.Context, tx pgx.Tx, runID string) (jobID int64, err error)

// StoreConfig configures a Store.
type StoreConfig struct {
	// SecretKey is the 32-byte AES-256-GCM key provider secrets are sealed with.
	SecretKey []byte
	// PreviousKeys are keys SecretKey replaced: secrets sealed under them still open, and
	// ResealSecrets seals them again under SecretKey.
	PreviousKeys [][]byte
	// Enqueue, when set, is called for every run created; nil leaves runs queued for
	// whoever claims them (tests without workers).
	Enqueue EnqueueFunc
}

// Store is the drafts and runs store: it implements onboarding.Store for the onboarding
// service and onboarding.RunStore for the operation-run service (onboarding.RunService).
// It embeds the DB, so the read models are available on it too.
//
// Lock order, everywhere: the draft row before any of its run rows, so that operator writes
// and run completions cannot deadlock.
type Store struct {
	*DB
	box     *aesgcm.Box
	enqueue EnqueueFunc
}

// NewStore returns a Store over db.
func NewStore(db *DB, cfg StoreConfig) (*Store, error) {
	box, err := aesgcm.New(cfg.SecretKey, cfg.PreviousKeys...)
	if err != nil {
		return nil, fmt.Errorf("provider secret key: %w", err)
	}
	return &Store{DB: db, box: box, enqueue: cfg.Enqueue}, nil
}

var _ onboarding.Store = (*Store)(nil)

// WithTx implements onboarding.Store: fn runs in one READ COMMITTED transaction. Errors from
// fn are returned unwrapped so that typed domain errors reach the caller intact.
func (s *Store) WithTx(ctx context.Context, fn func(onboarding.Tx) error) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		return fn(&storeTx{s: s, tx: tx})
	})
}

// storeTx implements onboarding.Tx over one pgx transaction.
type storeTx struct {
	s  *Store
	tx pgx.Tx
}

// querier is what pgx pools and transactions have in common.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// draftSelect reads a draft with its workspace slug and the emails of its creator and last
// updater. Callers append WHERE (and FOR UPDATE OF s).
const draftSelect = `SELECT ` + draftColumns + draftFrom

const draftColumns = `s.id::text, s.workspace_id, w.slug, s.tenant_id::text, s.display_name, s.primary_domain,
		s.current_step, coalesce(s.provider_connection_id::text, ''), s.bootstrap_operations, s.state,
		s.version, s.rev, s.lifecycle_state, s.current_checkpoint, coalesce(s.last_completed_checkpoint, ''),
		coalesce(s.reason_code, ''), coalesce(s.blocking_reason_code, ''), coalesce(s.override_reason, ''),
		coalesce(cu.email, ''), coalesce(uu.email, ''), s.created_at, s.updated_at, s.completed_at, s.cancelled_at,
		coalesce(ru.email, ''), s.activation_requested_at`

const draftFrom = `
	FROM managed_tenant_onboarding_sessions s` + draftJoins

// draftJoins join a draft row s to its workspace and its creator's, updater's and activation
// requester's users.
const draftJoins = `
	JOIN workspaces w ON w.id = s.workspace_id
	LEFT JOIN users cu ON cu.id = s.created_by
	LEFT JOIN users uu ON uu.id = s.updated_by
	LEFT JOIN users ru ON ru.id = s.activation_requested_by`

func scanDraft(row pgx.Row, extra ...any) (onboarding.Draft, error) {
	var d onboarding.Draft
	var lifecycle, current, last, reason, blocking string
	var completed, cancelled, requested *time.Time
	dest := []any{&d.ID, &d.WorkspaceID, &d.Workspace, &d.TenantID, &d.DisplayName, &d.PrimaryDomain,
		&d.CurrentStep, &d.ProviderConnectionID, &d.BootstrapOperations, &d.State,
		&d.Version, &d.Rev, &lifecycle, &current, &last, &reason, &blocking, &d.OverrideReason,
		&d.CreatedBy, &d.UpdatedBy, &d.CreatedAt, &d.UpdatedAt, &completed, &cancelled,
		&d.ActivationRequestedBy, &requested}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return onboarding.Draft{}, err
	}
	// The table's CHECK constraints hold the vocabulary; cast without re-parsing.
	d.Lifecycle = onboarding.Lifecycle(lifecycle)
	d.CurrentCheckpoint = onboarding.Checkpoint(current)
	d.LastCompletedCheckpoint = onboarding.Checkpoint(last)
	d.ReasonCode = onboarding.ReasonCode(reason)
	d.BlockingReasonCode = onboarding.ReasonCode(blocking)
	if completed != nil {
		d.CompletedAt = *completed
	}
	if cancelled != nil {
		d.CancelledAt = *cancelled
	}
	if requested != nil {
		d.ActivationRequestedAt = *requested
	}
	if d.BootstrapOperations == nil {
		d.BootstrapOperations = []string{}
	}
	return d, nil
}

func loadDraft(ctx context.Context, q querier, id string, lock bool) (onboarding.Draft, error) {
	if !onboarding.IsGUID(id) {
		return onboarding.Draft{}, fault.ErrNotFound
	}
	sql := draftSelect + ` WHERE s.id = $1`
	if lock {
		sql += ` FOR UPDATE OF s`
	}
	d, err := scanDraft(q.QueryRow(ctx, sql, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return onboarding.Draft{}, fault.ErrNotFound
	}
	if err != nil {
		return onboarding.Draft{}, fmt.Errorf("load draft: %w", err)
	}
	return d, nil
}

// Drafts implements onboarding.Store.
func (s *Store) Drafts(ctx context.Context, workspaceID int64) ([]onboarding.Draft, error) {
	return collectDrafts(s.Pool.Query(ctx, draftSelect+` WHERE s.workspace_id = $1 ORDER BY s.updated_at DESC, s.id LIMIT 500`, workspaceID))
}

// collectDrafts reads every row of a draftSelect query (the twin of collectRuns).
func collectDrafts(rows pgx.Rows, err error) ([]onboarding.Draft, error) {
	if err != nil {
		return nil, fmt.Errorf("list drafts: %w", err)
	}
	defer rows.Close()
	out := []onboarding.Draft{}
	for rows.Next() {
		d, err := scanDraft(rows)
		if err != nil {
			return nil, fmt.Errorf("scan draft: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Draft implements onboarding.Store.
func (s *Store) Draft(ctx context.Context, id string) (onboarding.Draft, error) {
	return loadDraft(ctx, s.Pool, id, false)
}

// LockDraft implements onboarding.Tx.
func (t *storeTx) LockDraft(ctx context.Context, id string) (onboarding.Draft, error) {
	return loadDraft(ctx, t.tx, id, true)
}

// LoadFacts implements onboarding.Tx: the attached connection, the latest verification run
// and the latest run per bootstrap type of the draft, in one statement.
func (t *storeTx) LoadFacts(ctx context.Context, d onboarding.Draft) (onboarding.Facts, error) {
	return loadFacts(ctx, t.tx, d)
}

func loadFacts(ctx context.Context, q querier, d onboarding.Draft) (onboarding.Facts, error) {
	var conn *onboarding.ConnectionFact
	var connID *string
	if d.ProviderConnectionID != "" {
		connID = &d.ProviderConnectionID
	}
	// The connection arrives as the first row (kind 'c'), the runs after it (kind 'r').
	rows, err := q.Query(ctx, `
		SELECT 'c', id::text, '', status, '', '', '' FROM provider_connections WHERE id = $2::uuid
		UNION ALL
		SELECT * FROM (
			SELECT DISTINCT ON (type) 'r', id::text, type, status, coalesce(outcome, ''), coalesce(reason_code, ''),
				coalesce(context->>'connection_id', '')
			FROM operation_runs WHERE draft_id = $1
			ORDER BY type, created_at DESC, id DESC) runs`, d.ID, connID)
	if err != nil {
		return onboarding.Facts{}, fmt.Errorf("load facts: %w", err)
	}
	defer rows.Close()
	var latest []onboarding.RunFact
	for rows.Next() {
		var kind, id, typ, status, outcome, reason, runConn string
		if err := rows.Scan(&kind, &id, &typ, &status, &outcome, &reason, &runConn); err != nil {
			return onboarding.Facts{}, fmt.Errorf("scan facts: %w", err)
		}
		if kind == "c" {
			conn = &onboarding.ConnectionFact{ID: id, Status: onboarding.ConnectionStatus(status)}
			continue
		}
		latest = append(latest, onboarding.RunFact{ID: id, Type: operationType(typ), Status: operationStatus(status),
			Outcome: operationOutcome(outcome), ReasonCode: onboarding.ReasonCode(reason), ConnectionID: runConn})
	}
	if err := rows.Err(); err != nil {
		return onboarding.Facts{}, fmt.Errorf("load facts: %w", err)
	}
	return d.FactsOfLatest(conn, latest), nil
}

// CreateDraft implements onboarding.Tx. The insert relies on the partial unique index of open
// drafts, so two concurrent creates for one tenant yield one draft: the loser's INSERT waits
// for the winner, does nothing, and the following SELECT (a new snapshot) finds the winner's.
func (t *storeTx) CreateDraft(ctx context.Context, d onboarding.Draft, actorID int64, now time.Time) (onboarding.Draft, bool, error) {
	if _, err := t.tx.Exec(ctx, `INSERT INTO tenants (workspace_id, tenant_id, display_name, primary_domain, created_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (workspace_id, tenant_id) DO NOTHING`,
		d.WorkspaceID, d.TenantID, d.DisplayName, d.PrimaryDomain, now); err != nil {
		return onboarding.Draft{}, false, fmt.Errorf("ensure tenant: %w", err)
	}
	var id string
	err := t.tx.QueryRow(ctx, `INSERT INTO managed_tenant_onboarding_sessions
			(workspace_id, tenant_id, display_name, primary_domain, bootstrap_operations, current_step,
			 lifecycle_state, current_checkpoint, last_completed_checkpoint, reason_code, blocking_reason_code,
			 created_by, created_at, updated_by, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, nullif($9, ''), nullif($10, ''), nullif($11, ''), $12, $13, $12, $13)
		ON CONFLICT (workspace_id, tenant_id) WHERE completed_at IS NULL AND cancelled_at IS NULL DO NOTHING
		RETURNING id::text`,
		d.WorkspaceID, d.TenantID, d.DisplayName, d.PrimaryDomain, d.BootstrapOperations, d.CurrentStep,
		string(d.Lifecycle), string(d.CurrentCheckpoint), string(d.LastCompletedCheckpoint),
		string(d.ReasonCode), string(d.BlockingReasonCode), actorID, now).Scan(&id)
	created := true
	if errors.Is(err, pgx.ErrNoRows) {
		created = false
		err = t.tx.QueryRow(ctx, `SELECT id::text FROM managed_tenant_onboarding_sessions
			WHERE workspace_id = $1 AND tenant_id = $2 AND completed_at IS NULL AND cancelled_at IS NULL`,
			d.WorkspaceID, d.TenantID).Scan(&id)
	}
	if err != nil {
		return onboarding.Draft{}, false, fmt.Errorf("insert draft: %w", err)
	}
	saved, err := loadDraft(ctx, t.tx, id, false)
	return saved, created, err
}

// SaveDraft implements onboarding.Tx. The WHERE on the version repeats the check the service
// made under the row lock: should any path ever skip the lock, a stale write still changes
// nothing.
func (t *storeTx) SaveDraft(ctx context.Context, d onboarding.Draft, expected, actorID int64, now time.Time) (onboarding.Draft, error) {
	var actor *int64
	if actorID != 0 {
		actor = &actorID
	}
	var connID *string
	if d.ProviderConnectionID != "" {
		connID = &d.ProviderConnectionID
	}
	// One statement writes and reads back: the CTE's row is the draft as saved, joined like
	// every other read of a draft.
	saved, err := scanDraft(t.tx.QueryRow(ctx, `WITH s AS (UPDATE managed_tenant_onboarding_sessions SET
			display_name = $3, primary_domain = $4, current_step = $5, provider_connection_id = $6,
			bootstrap_operations = $7,
			-- overridden_by follows the reason: who recorded it, kept while it stays the same.
			overridden_by = CASE WHEN nullif($8, '') IS NULL THEN NULL
				WHEN override_reason IS DISTINCT FROM $8 THEN $9 ELSE overridden_by END,
			override_reason = nullif($8, ''),
			completed_at = $10, cancelled_at = $11,
			lifecycle_state = $12, current_checkpoint = $13, last_completed_checkpoint = nullif($14, ''),
			reason_code = nullif($15, ''), blocking_reason_code = nullif($16, ''),
			state = $18,
			-- The open activation request stays only while the service kept it (Draft.Apply
			-- clears it when the draft leaves ready_for_activation).
			activation_requested_by = CASE WHEN $19::timestamptz IS NULL THEN NULL ELSE activation_requested_by END,
			activation_requested_at = $19,
			version = version + 1, updated_by = $9, updated_at = $17
		WHERE id = $1 AND version = $2 RETURNING *)
		SELECT `+draftColumns+` FROM s`+draftJoins,
		d.ID, expected, d.DisplayName, d.PrimaryDomain, d.CurrentStep, connID, d.BootstrapOperations,
		d.OverrideReason, actor, nullTime(d.CompletedAt), nullTime(d.CancelledAt),
		string(d.Lifecycle), string(d.CurrentCheckpoint), string(d.LastCompletedCheckpoint),
		string(d.ReasonCode), string(d.BlockingReasonCode), now, stateJSON(d.State), nullTime(d.ActivationRequestedAt)))
	if errors.Is(err, pgx.ErrNoRows) {
		// The version moved (or the draft is gone): read what is there for the conflict.
		cur, err := loadDraft(ctx, t.tx, d.ID, false)
		if err != nil {
			return onboarding.Draft{}, err
		}
		return onboarding.Draft{}, &onboarding.ConflictError{
			CurrentVersion: cur.Version, UpdatedBy: cur.UpdatedBy, UpdatedAt: cur.UpdatedAt, Current: &cur}
	}
	if err != nil {
		return onboarding.Draft{}, fmt.Errorf("save draft: %w", err)
	}
	return saved, nil
}

// ActivateTenant implements onboarding.Tx.
func (t *storeTx) ActivateTenant(ctx context.Context, d onboarding.Draft, now time.Time) error {
	if _, err := t.tx.Exec(ctx, `UPDATE tenants SET status = 'active', activated_at = $3,
			display_name = $4, primary_domain = $5
		WHERE workspace_id = $1 AND tenant_id = $2`,
		d.WorkspaceID, d.TenantID, now, d.DisplayName, d.PrimaryDomain); err != nil {
		return fmt.Errorf("activate tenant: %w", err)
	}
	return nil
}

// Audit implements onboarding.Tx.
func (t *storeTx) Audit(ctx context.Context, e onboarding.AuditEntry) error {
	return insertAudit(ctx, t.tx, e)
}

func insertAudit(ctx context.Context, tx pgx.Tx, e onboarding.AuditEntry) error {
	actor, meta := auditColumns(e)
	if _, err := tx.Exec(ctx, `INSERT INTO workspace_audit_log
			(workspace_id, actor_id, action, subject_type, subject_id, metadata, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		e.WorkspaceID, actor, e.Action, e.SubjectType, e.SubjectID, meta, e.At); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// auditColumns are an entry's actor (NULL for the system) and metadata (never NULL) as the
// audit log stores them.
func auditColumns(e onboarding.AuditEntry) (*int64, map[string]any) {
	var actor *int64
	if e.ActorID != 0 {
		actor = &e.ActorID
	}
	meta := e.Metadata
	if meta == nil {
		meta = map[string]any{}
	}
	return actor, meta
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// stateJSON is a draft's State as stored: a JSON object, never null.
func stateJSON(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// draftSorts are the drafts list's sort keys (onboarding.DraftFilter.Sort).
var draftSorts = map[string]sortKey{
	"updated":    {col: "s.updated_at", cast: "timestamptz"},
	"name":       {col: "s.display_name", cast: "text", fn: "lower(%s)"},
	"status":     {col: "s.lifecycle_state", cast: "text", fn: inOrder(onboarding.Lifecycles)},
	"checkpoint": {col: "s.current_checkpoint", cast: "text", fn: inOrder(onboarding.Checkpoints)},
}

// MaxDraftRows bounds one read of drafts: the largest page (500) and the CSV export.
const MaxDraftRows = 10001

// draftWhere is the drafts list's filter: the workspace, the search, the checkpoint (open
// drafts at it) and (withState) the lifecycle state.
func draftWhere(workspaceID int64, f onboarding.DraftFilter, withState bool) *listSQL {
	q := &listSQL{}
	q.and("s.workspace_id = " + q.arg(workspaceID))
	if f.Q != "" {
		p := q.like(f.Q)
		q.and("(lower(s.display_name) LIKE " + p + " OR lower(s.primary_domain) LIKE " + p + " OR s.tenant_id::text LIKE " + p + ")")
	}
	if withState && f.Lifecycle != "" {
		q.and("s.lifecycle_state = " + q.arg(f.Lifecycle))
	}
	if f.Checkpoint != "" {
		// The dashboard's "open drafts by checkpoint" (DB.Dashboard) selects the same set.
		q.and("s.current_checkpoint = " + q.arg(f.Checkpoint) + " AND " + openDraftSQL("s."))
	}
	return q
}

// DraftPage lists one page of a workspace's drafts matching f: keyset pagination (stable
// while drafts change) for the next and previous pages, an offset for a numbered one.
func (s *Store) DraftPage(ctx context.Context, workspaceID int64, f onboarding.DraftFilter) ([]onboarding.Draft, error) {
	q := draftWhere(workspaceID, f, true)
	k, ok := draftSorts[f.Sort]
	if !ok {
		k = draftSorts["updated"]
	}
	tail, reversed := q.page(k, "s.id::text", "text", f.ListPage, MaxDraftRows)
	ds, err := collectDrafts(s.Pool.Query(ctx, draftSelect+q.whereSQL()+tail, q.args...))
	return reverse(ds, reversed), err
}

// DraftCounts counts a workspace's drafts matching f's search, per lifecycle state (its
// lifecycle filter aside: the status tabs show every state's count).
func (s *Store) DraftCounts(ctx context.Context, workspaceID int64, f onboarding.DraftFilter) (map[string]int, error) {
	q := draftWhere(workspaceID, f, false)
	rows, err := s.Pool.Query(ctx, `SELECT s.lifecycle_state, count(*) FROM managed_tenant_onboarding_sessions s`+
		q.whereSQL()+` GROUP BY 1`, q.args...)
	if err != nil {
		return nil, fmt.Errorf("count drafts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("count drafts: %w", err)
		}
		out[state] = n
	}
	return out, rows.Err()
}
