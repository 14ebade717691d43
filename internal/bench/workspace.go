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
	Slug, Email, Password string
	id, userID            int64
	addrKeyExisted        bool // the sign-in's per-address attempt row was there before the run
}

// newWorkspace creates a workspace with a unique slug and its owner with a random password.
func newWorkspace(ctx context.Context, dbURL string) (*workspace, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("bench: connect to the database: %w", err)
	}
	defer conn.Close(context.Background())
	w := &workspace{}
	suffix := randomHex(6)
	w.Slug, w.Email, w.Password = "bench-"+suffix, "bench-"+suffix+"@bench.invalid", randomHex(16)
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
		if err := tx.QueryRow(ctx, `INSERT INTO users (email, name, password_hash) VALUES ($1, 'Bench', $2) RETURNING id`,
			w.Email, hash).Scan(&w.userID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO workspace_memberships (workspace_id, user_id, role) VALUES ($1, $2, 'owner')`, w.id, w.userID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bench: create workspace %s: %w", w.Slug, err)
	}
	return w, nil
}

// remove deletes everything the run created: the workspace (its tenants, drafts, runs, audit
// entries and notifications go with it), the user (memberships), the session of sessionToken
// (the cookie's value; stored as its SHA-256) and the sign-in's attempt rows. It takes its own
// context so it still runs after Ctrl-C cancelled the run's.
func (w *workspace) remove(dbURL, sessionToken string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("bench: clean up %s: %w", w.Slug, err)
	}
	defer conn.Close(context.Background())
	var errs []error
	exec := func(sql string, args ...any) {
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			errs = append(errs, err)
		}
	}
	if sessionToken != "" {
		exec(`DELETE FROM sessions WHERE token = $1`, tokenHash(sessionToken))
	}
	exec(`DELETE FROM workspaces WHERE id = $1`, w.id)
	exec(`DELETE FROM users WHERE id = $1`, w.userID)
	exec(`DELETE FROM login_attempts WHERE key_hash = $1`, attemptKey("account:"+w.Email))
	if !w.addrKeyExisted {
		exec(`DELETE FROM login_attempts WHERE key_hash = $1 AND attempts = 0`, attemptKey("address:127.0.0.1"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("bench: clean up %s: %w", w.Slug, err)
	}
	return nil
}

// attemptKey and tokenHash are how internal/postgres stores sign-in attempt keys and session
// tokens (login_attempts.go, sessions.go); the bench deletes its own rows by them.
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
