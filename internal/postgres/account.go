package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/account"
	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/onboarding"
)

var _ account.Store = (*Store)(nil)

// Sessions implements account.Store. Sessions that are expired but not yet swept are left out.
func (s *Store) Sessions(ctx context.Context, userID int64, current string) ([]account.Session, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, created_at, last_seen_at, expiry, user_agent, address, token = $2
		FROM sessions WHERE user_id = $1 AND expiry > now()
		ORDER BY token = $2 DESC, last_seen_at DESC, id DESC`, userID, tokenHash(current))
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (account.Session, error) {
		var x account.Session
		err := row.Scan(&x.ID, &x.CreatedAt, &x.LastSeenAt, &x.Expires, &x.UserAgent, &x.Address, &x.Current)
		return x, err
	})
}

// WithAccountTx implements account.Store: fn runs in one READ COMMITTED transaction.
func (s *Store) WithAccountTx(ctx context.Context, fn func(account.Tx) error) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		return fn(&accountTx{tx: tx})
	})
}

// accountTx implements account.Tx over one pgx transaction.
type accountTx struct{ tx pgx.Tx }

// LockPasswordHash implements account.Tx.
func (t *accountTx) LockPasswordHash(ctx context.Context, userID int64) (string, error) {
	var hash string
	err := t.tx.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1 FOR UPDATE`, userID).Scan(&hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fault.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("lock user: %w", err)
	}
	return hash, nil
}

// SetPasswordHash implements account.Tx.
func (t *accountTx) SetPasswordHash(ctx context.Context, userID int64, hash string) error {
	if _, err := t.tx.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, userID, hash); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	return nil
}

// BindSession implements account.Tx. The row exists: the caller committed the session first.
func (t *accountTx) BindSession(ctx context.Context, token string, userID int64, c account.Client, now time.Time) error {
	tag, err := t.tx.Exec(ctx, `UPDATE sessions SET user_id = $2, user_agent = $3, address = $4, created_at = $5, last_seen_at = $5
		WHERE token = $1`, tokenHash(token), userID, c.UserAgent, c.Address, now)
	if err != nil {
		return fmt.Errorf("bind session: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("bind session: no session row")
	}
	return nil
}

// EndSessions implements account.Tx. Each deleted row notifies the live layer (trigger
// sessions_notify_end), which closes that session's sockets with 4401, and is remembered in
// sessions_ended so an in-flight request of it cannot store it again.
func (t *accountTx) EndSessions(ctx context.Context, userID int64, keep string, id int64) (int64, error) {
	tag, err := t.tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND token <> $2 AND ($3 = 0 OR id = $3)`,
		userID, tokenHash(keep), id)
	if err != nil {
		return 0, fmt.Errorf("end sessions: %w", err)
	}
	if id != 0 && tag.RowsAffected() == 0 {
		return 0, fault.ErrNotFound
	}
	return tag.RowsAffected(), nil
}

// AuditUser implements account.Tx: one entry per workspace the user belongs to.
func (t *accountTx) AuditUser(ctx context.Context, userID int64, e onboarding.AuditEntry) error {
	actor, meta := auditColumns(e)
	if _, err := t.tx.Exec(ctx, `INSERT INTO workspace_audit_log
			(workspace_id, actor_id, action, subject_type, subject_id, metadata, created_at)
		SELECT m.workspace_id, $2, $3, $4, $5, $6, $7 FROM workspace_memberships m WHERE m.user_id = $1`,
		userID, actor, e.Action, e.SubjectType, e.SubjectID, meta, e.At); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}
