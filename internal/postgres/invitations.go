package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/invitation"
	"github.com/tenantops/onboard/internal/onboarding"
)

var _ invitation.Store = (*Store)(nil)

const invitationSelect = `SELECT i.id, i.workspace_id, w.slug, w.name, i.email, i.role, coalesce(u.email, ''),
		i.created_at, i.expires_at, coalesce(i.accepted_at, 'epoch'), coalesce(i.revoked_at, 'epoch')
	FROM workspace_invitations i JOIN workspaces w ON w.id = i.workspace_id LEFT JOIN users u ON u.id = i.invited_by`

// maxInvitations bounds the pending invitations a members page lists.
const maxInvitations = 200

// Invitations implements invitation.Store.
func (s *Store) Invitations(ctx context.Context, workspaceID int64) ([]invitation.Invitation, error) {
	rows, err := s.Pool.Query(ctx, invitationSelect+`
		WHERE i.workspace_id = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL
		ORDER BY i.created_at DESC, i.id DESC LIMIT $2`, workspaceID, maxInvitations)
	if err != nil {
		return nil, fmt.Errorf("list invitations: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (invitation.Invitation, error) { return scanInvitation(row) })
}

// WithInvitationsTx implements invitation.Store: fn runs in one READ COMMITTED transaction.
func (s *Store) WithInvitationsTx(ctx context.Context, fn func(invitation.Tx) error) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		return fn(&invitationsTx{tx: tx, members: membersTx{tx: tx}})
	})
}

// invitationsTx implements invitation.Tx over one pgx transaction.
type invitationsTx struct {
	tx      pgx.Tx
	members membersTx
}

func scanInvitation(row pgx.Row) (invitation.Invitation, error) {
	var x invitation.Invitation
	var role string
	err := row.Scan(&x.ID, &x.WorkspaceID, &x.Workspace, &x.WorkspaceName, &x.Email, &role, &x.InvitedBy,
		&x.CreatedAt, &x.ExpiresAt, &x.AcceptedAt, &x.RevokedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return x, fault.ErrNotFound
	}
	if err != nil {
		return x, fmt.Errorf("scan invitation: %w", err)
	}
	x.Role = access.Role(role)
	// "Not (yet)" is the zero time in the domain; the query says it with the epoch.
	if x.AcceptedAt.Equal(time.Unix(0, 0)) {
		x.AcceptedAt = time.Time{}
	}
	if x.RevokedAt.Equal(time.Unix(0, 0)) {
		x.RevokedAt = time.Time{}
	}
	return x, nil
}

// LockWorkspace implements invitation.Tx: the same first lock as membership changes take.
func (t *invitationsTx) LockWorkspace(ctx context.Context, workspaceID int64) error {
	if _, err := t.tx.Exec(ctx, `SELECT 1 FROM workspaces WHERE id = $1 FOR UPDATE`, workspaceID); err != nil {
		return fmt.Errorf("lock workspace: %w", err)
	}
	return nil
}

// UserByEmail implements invitation.Tx.
func (t *invitationsTx) UserByEmail(ctx context.Context, email string) (access.User, error) {
	return t.members.UserByEmail(ctx, email)
}

// MemberRole implements invitation.Tx.
func (t *invitationsTx) MemberRole(ctx context.Context, workspaceID, userID int64) (access.Role, error) {
	var role string
	err := t.tx.QueryRow(ctx, `SELECT role FROM workspace_memberships WHERE workspace_id = $1 AND user_id = $2`, workspaceID, userID).Scan(&role)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("member role: %w", err)
	}
	return access.Role(role), nil
}

// PendingByEmail implements invitation.Tx.
func (t *invitationsTx) PendingByEmail(ctx context.Context, workspaceID int64, email string, now time.Time) (invitation.Invitation, error) {
	return scanInvitation(t.tx.QueryRow(ctx, invitationSelect+`
		WHERE i.workspace_id = $1 AND i.email = $2 AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > $3
		ORDER BY i.created_at DESC LIMIT 1`, workspaceID, email, now))
}

// Insert implements invitation.Tx.
func (t *invitationsTx) Insert(ctx context.Context, inv invitation.Invitation, tokenHash []byte, invitedBy int64) (int64, error) {
	var id int64
	err := t.tx.QueryRow(ctx, `INSERT INTO workspace_invitations (workspace_id, email, role, token_hash, invited_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		inv.WorkspaceID, inv.Email, string(inv.Role), tokenHash, invitedBy, inv.CreatedAt, inv.ExpiresAt).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert invitation: %w", err)
	}
	return id, nil
}

// LockByID implements invitation.Tx.
func (t *invitationsTx) LockByID(ctx context.Context, workspaceID, id int64) (invitation.Invitation, error) {
	return scanInvitation(t.tx.QueryRow(ctx, invitationSelect+` WHERE i.workspace_id = $1 AND i.id = $2 FOR UPDATE OF i`, workspaceID, id))
}

// LockByToken implements invitation.Tx.
func (t *invitationsTx) LockByToken(ctx context.Context, tokenHash []byte) (invitation.Invitation, error) {
	return scanInvitation(t.tx.QueryRow(ctx, invitationSelect+` WHERE i.token_hash = $1 FOR UPDATE OF i`, tokenHash))
}

// Revoke implements invitation.Tx.
func (t *invitationsTx) Revoke(ctx context.Context, id, userID int64, now time.Time) error {
	if _, err := t.tx.Exec(ctx, `UPDATE workspace_invitations SET revoked_at = $2, revoked_by = $3 WHERE id = $1`, id, now, userID); err != nil {
		return fmt.Errorf("revoke invitation: %w", err)
	}
	return nil
}

// CreateUser implements invitation.Tx.
func (t *invitationsTx) CreateUser(ctx context.Context, email, name, passwordHash string, now time.Time) (access.User, error) {
	u := access.User{Email: email, Name: name}
	err := t.tx.QueryRow(ctx, `INSERT INTO users (email, name, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		email, name, passwordHash, now).Scan(&u.ID)
	if err != nil {
		return access.User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// AddMember implements invitation.Tx.
func (t *invitationsTx) AddMember(ctx context.Context, workspaceID, userID int64, role access.Role, now time.Time) error {
	return t.members.SetRole(ctx, workspaceID, userID, role, now)
}

// MarkAccepted implements invitation.Tx.
func (t *invitationsTx) MarkAccepted(ctx context.Context, id, userID int64, now time.Time) error {
	if _, err := t.tx.Exec(ctx, `UPDATE workspace_invitations SET accepted_at = $2, accepted_user_id = $3 WHERE id = $1`, id, now, userID); err != nil {
		return fmt.Errorf("accept invitation: %w", err)
	}
	return nil
}

// Audit implements invitation.Tx.
func (t *invitationsTx) Audit(ctx context.Context, e onboarding.AuditEntry) error {
	return insertAudit(ctx, t.tx, e)
}
