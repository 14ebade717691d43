package bench

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/password"
)

// workspace is the bench's own workspace and owner, created for one run and removed after
// it, so a run against a shared database leaves nothing behind and never touches demo data.
type workspace struct {
	Slug, Password string
	Emails         []string // one user per cohort: owner, operator, viewer (the cohort is the role)
	id             int64
	userIDs        []int64
	addrKeyExisted bool // the sign-ins' per-address attempt row was there before the run
}

// cohortRoles are the roles of the bench's users, one cohort each.
var cohortRoles = []string{"owner", "operator", "viewer"}

// newWorkspace creates a workspace with a unique slug and one member per cohort (owner first)
// with a random password.
func newWorkspace(ctx context.Context, dbURL string, cohorts int) (*workspace, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("bench: connect to the database: %w", err)
	}
	defer conn.Close(context.Background())
	w := &workspace{}
	suffix := randomHex(6)
	w.Slug, w.Password = "bench-"+suffix, randomHex(16)
	hash, err := password.Hash(w.Password)
	if err != nil {
		return nil, err
	}
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM login_attempts WHERE key_hash = $1)`,
		attemptKey("address:127.0.0.1")).Scan(&w.addrKeyExisted); err != nil {
		return nil, fmt.Errorf("bench: read login attempts (is the database migrated?): %w", err)
	}
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO workspaces (slug, name) VALUES ($1, $2) RETURNING id`,
			w.Slug, "Bench "+suffix).Scan(&w.id); err != nil {
			return err
		}
		for _, role := range cohortRoles[:cohorts] {
			email := "bench-" + suffix + "-" + role + "@bench.invalid"
			var id int64
			if err := tx.QueryRow(ctx, `INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3) RETURNING id`,
				email, "Bench "+role, hash).Scan(&id); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO workspace_memberships (workspace_id, user_id, role) VALUES ($1, $2, $3)`, w.id, id, role); err != nil {
				return err
			}
			w.Emails, w.userIDs = append(w.Emails, email), append(w.userIDs, id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bench: create workspace %s: %w", w.Slug, err)
	}
	return w, nil
}

// remove deletes everything the run created: the workspace (its tenants, drafts, runs, audit
// entries and notifications go with it), the users (memberships), the sessions of tokens
// (the cookies' values; stored as their SHA-256) and the sign-ins' attempt rows. It takes its
// own context so it still runs after Ctrl-C cancelled the run's.
func (w *workspace) remove(dbURL string, tokens []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The run may have just released many connections (servers stopping): retry a refused
	// connection ("too many clients") for a while rather than leave the workspace behind.
	var conn *pgx.Conn
	var err error
	for conn, err = pgx.Connect(ctx, dbURL); err != nil; conn, err = pgx.Connect(ctx, dbURL) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("bench: clean up %s: %w", w.Slug, err)
		case <-time.After(500 * time.Millisecond):
		}
	}
	defer conn.Close(context.Background())
	var errs []error
	exec := func(sql string, args ...any) {
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			errs = append(errs, err)
		}
	}
	for _, token := range tokens {
		exec(`DELETE FROM sessions WHERE token = $1`, tokenHash(token))
	}
	exec(`DELETE FROM workspaces WHERE id = $1`, w.id)
	for i, email := range w.Emails {
		exec(`DELETE FROM users WHERE id = $1`, w.userIDs[i])
		exec(`DELETE FROM login_attempts WHERE key_hash = $1`, attemptKey("account:"+email))
		exec(`DELETE FROM login_attempts WHERE key_hash = $1`, attemptKey("pair:127.0.0.1 "+email))
	}
	if !w.addrKeyExisted {
		exec(`DELETE FROM login_attempts WHERE key_hash = $1 AND attempts = 0`, attemptKey("address:127.0.0.1"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("bench: clean up %s: %w", w.Slug, err)
	}
	return nil
}

// attemptKey and tokenHash are how internal/postgres stores sign-in attempt keys and session
// tokens (login_attempts.go, sessions.go; the key names are internal/web/ratelimit.go's
// reserveSignIn); the bench deletes its own rows by them.
func attemptKey(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
