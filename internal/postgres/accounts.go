package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/fault"
)

// ErrUserNotFound is returned when no user has the given email or id. It wraps
// fault.ErrNotFound so the web layer can tell "no such user" (a session of a deleted
// user is no session) from a database that does not answer (an error, not a sign-out).
var ErrUserNotFound = fmt.Errorf("user %w", fault.ErrNotFound)

// UserCredentials returns the user with email and their password hash.
func (db *DB) UserCredentials(ctx context.Context, email string) (access.User, string, error) {
	var u access.User
	var hash string
	err := db.Pool.QueryRow(ctx,
		`SELECT id, email, name, password_hash FROM users WHERE email = $1`,
		strings.ToLower(strings.TrimSpace(email))).Scan(&u.ID, &u.Email, &u.Name, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return access.User{}, "", ErrUserNotFound
	}
	if err != nil {
		return access.User{}, "", fmt.Errorf("load user: %w", err)
	}
	return u, hash, nil
}

// User returns the user with id.
func (db *DB) User(ctx context.Context, id int64) (access.User, error) {
	var u access.User
	err := db.Pool.QueryRow(ctx, `SELECT id, email, name FROM users WHERE id = $1`, id).Scan(&u.ID, &u.Email, &u.Name)
	if errors.Is(err, pgx.ErrNoRows) {
		return access.User{}, ErrUserNotFound
	}
	if err != nil {
		return access.User{}, fmt.Errorf("load user: %w", err)
	}
	return u, nil
}

const memberColumns = `w.id, w.slug, w.name, m.role`

func scanMember(row pgx.Row, u access.User) (access.Member, error) {
	m := access.Member{User: u}
	var role string
	if err := row.Scan(&m.WorkspaceID, &m.Workspace, &m.WorkspaceName, &role); err != nil {
		return access.Member{}, err
	}
	r, err := access.ParseRole(role)
	if err != nil {
		return access.Member{}, err
	}
	m.Role = r
	return m, nil
}

// Member resolves u's membership of the workspace with slug. Unknown workspace and
// non-member both return access.ErrNotMember.
func (db *DB) Member(ctx context.Context, u access.User, slug string) (access.Member, error) {
	row := db.Pool.QueryRow(ctx, `SELECT `+memberColumns+`
		FROM workspaces w JOIN workspace_memberships m ON m.workspace_id = w.id
		WHERE w.slug = $1 AND m.user_id = $2`, slug, u.ID)
	m, err := scanMember(row, u)
	if errors.Is(err, pgx.ErrNoRows) {
		return access.Member{}, access.ErrNotMember
	}
	if err != nil {
		return access.Member{}, fmt.Errorf("load membership: %w", err)
	}
	return m, nil
}

// MemberRole returns the role of user in workspace id, or access.ErrNotMember.
func (db *DB) MemberRole(ctx context.Context, userID, workspaceID int64) (access.Role, error) {
	var role string
	err := db.Pool.QueryRow(ctx, `SELECT role FROM workspace_memberships WHERE user_id = $1 AND workspace_id = $2`,
		userID, workspaceID).Scan(&role)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", access.ErrNotMember
	}
	if err != nil {
		return "", fmt.Errorf("load membership: %w", err)
	}
	return access.ParseRole(role)
}

// Memberships lists every workspace u belongs to, by workspace name.
func (db *DB) Memberships(ctx context.Context, u access.User) ([]access.Member, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+memberColumns+`
		FROM workspaces w JOIN workspace_memberships m ON m.workspace_id = w.id
		WHERE m.user_id = $1 ORDER BY w.name`, u.ID)
	if err != nil {
		return nil, fmt.Errorf("list memberships: %w", err)
	}
	defer rows.Close()
	var out []access.Member
	for rows.Next() {
		m, err := scanMember(rows, u)
		if err != nil {
			return nil, fmt.Errorf("scan membership: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// SetMembership adds user to workspace with role, or changes the role.
func (db *DB) SetMembership(ctx context.Context, userID, workspaceID int64, role access.Role) error {
	_, err := db.Pool.Exec(ctx, `INSERT INTO workspace_memberships (workspace_id, user_id, role) VALUES ($1, $2, $3)
		ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = EXCLUDED.role`, workspaceID, userID, string(role))
	if err != nil {
		return fmt.Errorf("set membership: %w", err)
	}
	return nil
}

// RemoveMembership removes user from workspace.
func (db *DB) RemoveMembership(ctx context.Context, userID, workspaceID int64) error {
	if _, err := db.Pool.Exec(ctx, `DELETE FROM workspace_memberships WHERE workspace_id = $1 AND user_id = $2`,
		workspaceID, userID); err != nil {
		return fmt.Errorf("remove membership: %w", err)
	}
	return nil
}
