package postgres

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/alexedwards/scs/pgxstore"
)

// SessionStore keeps HTTP sessions in the sessions table under the SHA-256 of their token:
// the token (the cookie's value) never reaches SQL, so the table alone cannot sign anybody
// in. It implements scs.Store over pgxstore, without pgxstore's cleanup goroutine (which
// cannot be stopped without a data race): DeleteExpiredSessions, swept by every serving
// process, deletes expired rows.
type SessionStore struct {
	rows *pgxstore.PostgresStore
}

// NewSessionStore returns the session store of db.
func NewSessionStore(db *DB) *SessionStore {
	return &SessionStore{rows: pgxstore.NewWithCleanupInterval(db.Pool, 0)}
}

// Find returns the data of the session with token.
func (s *SessionStore) Find(token string) ([]byte, bool, error) {
	return s.rows.Find(tokenHash(token))
}

// Commit stores the session with token until expiry.
func (s *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
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
