package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/alexedwards/scs/pgxstore"
)

// SessionStore keeps HTTP sessions in the sessions table under the SHA-256 of their token:
// the token (the cookie's value) never reaches SQL, so the table alone cannot sign anybody
// in. It implements scs.Store over pgxstore.
//
// Expired rows are deleted every pruneEvery commits instead of by pgxstore's cleanup
// goroutine, which nothing could stop without a data race (its StopCleanup reads a field
// the goroutine writes).
type SessionStore struct {
	db      *DB
	rows    *pgxstore.PostgresStore
	commits atomic.Uint64
}

// NewSessionStore returns the session store of db.
func NewSessionStore(db *DB) *SessionStore {
	return &SessionStore{db: db, rows: pgxstore.NewWithCleanupInterval(db.Pool, 0)}
}

// Find returns the data of the session with token.
func (s *SessionStore) Find(token string) ([]byte, bool, error) {
	return s.rows.Find(tokenHash(token))
}

// Commit stores the session with token until expiry.
func (s *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	if s.commits.Add(1)%pruneEvery == 0 {
		if _, err := s.db.Pool.Exec(context.Background(), `DELETE FROM sessions WHERE expiry < now()`); err != nil {
			return fmt.Errorf("delete expired sessions: %w", err)
		}
	}
	return s.rows.Commit(tokenHash(token), b, expiry)
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
