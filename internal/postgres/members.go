package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/membership"
	"github.com/tenantops/onboard/internal/onboarding"
)

var _ membership.Store = (*Store)(nil)

const memberSelect = `SELECT u.id, u.email, u.name, m.role, m.created_at
	FROM workspace_memberships m JOIN users u ON u.id = m.user_id
	WHERE m.workspace_id = $1`

// Members implements membership.Store.
func (s *Store) Members(ctx context.Context, workspaceID int64) ([]membership.Member, error) {
	return scanMembers(s.Pool.Query(ctx, memberSelect+` ORDER BY u.email`, workspaceID))
}

// WithMembersTx implements membership.Store: fn runs in one READ COMMITTED transaction.
func (s *Store) WithMembersTx(ctx context.Context, fn func(membership.Tx) error) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		return fn(&membersTx{tx: tx})
	})
}

// membersTx implements membership.Tx over one pgx transaction.
type membersTx struct{ tx pgx.Tx }

// LockMembers implements membership.Tx. The workspace row is locked first (lock order:
// workspace, then its memberships), so two owners changing members at once run one after
// the other and the last-owner rule sees the other's change.
func (t *membersTx) LockMembers(ctx context.Context, workspaceID int64) ([]membership.Member, error) {
	if _, err := t.tx.Exec(ctx, `SELECT 1 FROM workspaces WHERE id = $1 FOR UPDATE`, workspaceID); err != nil {
		return nil, fmt.Errorf("lock workspace: %w", err)
	}
	return scanMembers(t.tx.Query(ctx, memberSelect+` ORDER BY u.email FOR UPDATE OF m`, workspaceID))
}

// UserByEmail implements membership.Tx.
func (t *membersTx) UserByEmail(ctx context.Context, email string) (access.User, error) {
	var u access.User
	err := t.tx.QueryRow(ctx, `SELECT id, email, name FROM users WHERE lower(email) = lower($1)`, email).Scan(&u.ID, &u.Email, &u.Name)
	if errors.Is(err, pgx.ErrNoRows) {
		return access.User{}, fault.ErrNotFound
	}
	if err != nil {
		return access.User{}, fmt.Errorf("user by email: %w", err)
	}
	return u, nil
}

// SetRole implements membership.Tx.
func (t *membersTx) SetRole(ctx context.Context, workspaceID, userID int64, role access.Role, now time.Time) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO workspace_memberships (workspace_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = EXCLUDED.role`, workspaceID, userID, string(role), now)
	if err != nil {
		return fmt.Errorf("set role: %w", err)
	}
	return nil
}

// Remove implements membership.Tx.
func (t *membersTx) Remove(ctx context.Context, workspaceID, userID int64) error {
	if _, err := t.tx.Exec(ctx, `DELETE FROM workspace_memberships WHERE workspace_id = $1 AND user_id = $2`, workspaceID, userID); err != nil {
		return fmt.Errorf("remove member: %w", err)
	}
	return nil
}

// Audit implements membership.Tx.
func (t *membersTx) Audit(ctx context.Context, e onboarding.AuditEntry) error {
	return insertAudit(ctx, t.tx, e)
}

func scanMembers(rows pgx.Rows, err error) ([]membership.Member, error) {
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	defer rows.Close()
	var out []membership.Member
	for rows.Next() {
		var m membership.Member
		var role string
		if err := rows.Scan(&m.UserID, &m.Email, &m.Name, &role, &m.Since); err != nil {
			return nil, fmt.Errorf("scan member: %w", err)
		}
		m.Role = access.Role(role)
		out = append(out, m)
	}
	return out, rows.Err()
}
