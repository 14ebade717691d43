package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SessionStore keeps HTTP sessions in the sessions table under the SHA-256 of their token:
// the token (the cookie's value) never reaches SQL, so the table alone cannot sign anybody
// in. It implements scs.Store over pgxstore, without pgxstore's cleanup goroutine (which
// cannot be stopped without a data race): DeleteExpiredSessions, swept by every serving
// process, deletes expired rows.
type SessionStore struct {
	rows *pgxstore.PostgresStore
	pool *pgxpool.Pool
}

// NewSessionStore returns the session store of db.
func NewSessionStore(db *DB) *SessionStore {
	return &SessionStore{rows: pgxstore.NewWithCleanupInterval(db.Pool, 0), pool: db.Pool}
}

// Find returns the data of the session with token.
func (s *SessionStore) Find(token string) ([]byte, bool, error) {
	return s.rows.Find(tokenHash(token))
}

// Commit stores the session with token until expiry and records its use (last_seen_at:
// scs commits on every request, as sessions have an idle timeout). A token whose session was
// ended (sessions_ended) is not stored again: a request of that session still in flight when
// it was signed out elsewhere must not bring it back.
func (s *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	_, err := s.pool.Exec(context.Background(), `INSERT INTO sessions (token, data, expiry)
		SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM sessions_ended WHERE token = $1)
		ON CONFLICT (token) DO UPDATE SET data = EXCLUDED.data, expiry = EXCLUDED.expiry, last_seen_at = now()`,
		tokenHash(token), b, expiry)
	if err != nil {
		return fmt.Errorf("commit session: %w", err)
	}
	return nil
}

// Delete removes the session with token.
func (s *SessionStore) Delete(token string) error {
	return s.rows.Delete(tokenHash(token))
}

// tokenHash is what the sessions table stores for token. A plain digest suffices (no salt,
// no stretching): tokens are 256-bit random values, not guessable passwords.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
