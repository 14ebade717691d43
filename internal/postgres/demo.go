package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/access"
)

// DemoPassword is the password of every demo user (demo data only).
const DemoPassword = "demo-password-1"

// DemoUser is one operator of the demo data.
type DemoUser struct {
	Email, Name, Workspace string
	Role                   access.Role
}

// DemoWorkspaces and DemoUsers are the demo data: two workspaces, an owner, two operators (for two-operator work) and a viewer in acme, an owner in globex.
var (
	DemoWorkspaces = []struct{ Slug, Name string }{{"acme", "Acme Corp"}, {"globex", "Globex"}}
	DemoUsers      = []DemoUser{
		{"owner@acme.test", "Olivia Owner", "acme", access.RoleOwner},
		{"operator@acme.test", "Oscar Operator", "acme", access.RoleOperator},
		{"operator2@acme.test", "Otto Operator", "acme", access.RoleOperator},
		{"viewer@acme.test", "Vera Viewer", "acme", access.RoleViewer},
		{"owner@globex.test", "Gloria Owner", "globex", access.RoleOwner},
	}
)

// HasData reports whether any workspace exists (make run loads the demo only into an empty database).
func (db *DB) HasData(ctx context.Context) (bool, error) {
	var ok bool
	if err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM workspaces)`).Scan(&ok); err != nil {
		return false, fmt.Errorf("check for data: %w", err)
	}
	return ok, nil
}

// LoadDemo creates or resets the demo workspaces, users and memberships. It is idempotent:
// running it again leaves the same rows (passwords reset to the demo password, hashed by hash).
func (db *DB) LoadDemo(ctx context.Context, hash func(string) (string, error)) error {
	pwHash, err := hash(DemoPassword)
	if err != nil {
		return fmt.Errorf("hash demo password: %w", err)
	}
	return db.InTx(ctx, func(tx pgx.Tx) error {
		for _, w := range DemoWorkspaces {
			if _, err := tx.Exec(ctx, `INSERT INTO workspaces (slug, name) VALUES ($1, $2)
				ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name`, w.Slug, w.Name); err != nil {
				return fmt.Errorf("demo workspace %s: %w", w.Slug, err)
			}
		}
		for _, u := range DemoUsers {
			if _, err := tx.Exec(ctx, `INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3)
				ON CONFLICT (email) DO UPDATE SET name = EXCLUDED.name, password_hash = EXCLUDED.password_hash`,
				u.Email, u.Name, pwHash); err != nil {
				return fmt.Errorf("demo user %s: %w", u.Email, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO workspace_memberships (workspace_id, user_id, role)
				SELECT w.id, u.id, $3 FROM workspaces w, users u WHERE w.slug = $1 AND u.email = $2
				ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = EXCLUDED.role`,
				u.Workspace, u.Email, string(u.Role)); err != nil {
				return fmt.Errorf("demo membership %s: %w", u.Email, err)
			}
		}
		// Exactly the memberships of the contract: a demo user is in no other demo workspace.
		var pairs []string
		for _, u := range DemoUsers {
			pairs = append(pairs, u.Workspace+"|"+u.Email)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM workspace_memberships m USING users u, workspaces w
			WHERE m.user_id = u.id AND m.workspace_id = w.id AND u.email LIKE '%.test'
			AND w.slug = ANY($1) AND NOT (w.slug || '|' || u.email = ANY($2))`,
			[]string{"acme", "globex"}, pairs); err != nil {
			return fmt.Errorf("demo memberships: %w", err)
		}
		return nil
	})
}
