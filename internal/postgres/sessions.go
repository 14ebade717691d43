package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
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

	mu      sync.Mutex
	written map[string]commitMark // by token hash: what this process last stored
}

// commitMark is what a commit stored: a digest of the data and the expiry.
type commitMark struct {
	sum    [sha256.Size]byte
	expiry time.Time
}

// touchEvery is how much later a session's expiry must be than what this process last
// stored before a commit of the same data is written again. scs commits on every request
// (the idle timeout moves the expiry), which made every request of every tab, every /live
// connect included, a database write; now a session's row is written when its data changes
// and otherwise at most once a minute per process. The idle timeout (2 h) can so end a
// session up to a minute early, and last_seen_at is exact to a minute.
const touchEvery = time.Minute

// maxCommitMarks bounds the marks kept; past it they are forgotten (the next commit of each
// session is written, as after a restart).
const maxCommitMarks = 100_000

// NewSessionStore returns the session store of db.
func NewSessionStore(db *DB) *SessionStore {
	return &SessionStore{rows: pgxstore.NewWithCleanupInterval(db.Pool, 0), pool: db.Pool, written: map[string]commitMark{}}
}

// Find returns the data of the session with token.
func (s *SessionStore) Find(token string) ([]byte, bool, error) {
	return s.rows.Find(tokenHash(token))
}

// Commit stores the session with token until expiry and records its use (last_seen_at:
// scs commits on every request, as sessions have an idle timeout). A token whose session was
// ended (sessions_ended) is not stored again: a request of that session still in flight when
// it was signed out elsewhere must not bring it back.
//
// A commit of the data this process last stored for token, with an expiry less than
// touchEvery later than the stored one, is not written (see touchEvery).
func (s *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	h, mark := tokenHash(token), commitMark{sum: sha256.Sum256(b), expiry: expiry}
	s.mu.Lock()
	last, ok := s.written[h]
	s.mu.Unlock()
	if ok && last.sum == mark.sum && !expiry.Before(last.expiry) && expiry.Sub(last.expiry) < touchEvery {
		return nil
	}
	_, err := s.pool.Exec(context.Background(), `INSERT INTO sessions (token, data, expiry)
		SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM sessions_ended WHERE token = $1)
		ON CONFLICT (token) DO UPDATE SET data = EXCLUDED.data, expiry = EXCLUDED.expiry, last_seen_at = now()`,
		h, b, expiry)
	if err != nil {
		return fmt.Errorf("commit session: %w", err)
	}
	s.mu.Lock()
	if len(s.written) >= maxCommitMarks {
		clear(s.written)
	}
	s.written[h] = mark
	s.mu.Unlock()
	return nil
}

// Delete removes the session with token.
func (s *SessionStore) Delete(token string) error {
	h := tokenHash(token)
	s.mu.Lock()
	delete(s.written, h)
	s.mu.Unlock()
	return s.rows.Delete(h)
}

// tokenHash is what the sessions table stores for token. A plain digest suffices (no salt,
// no stretching): tokens are 256-bit random values, not guessable passwords.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
