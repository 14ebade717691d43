package postgres

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math"
	"sync/atomic"
	"time"
)

// pruneEvery is how many reservations pass between deletions of expired attempt windows, so
// the table does not grow without bound and no goroutine is needed for it.
const pruneEvery = 256

var reservations atomic.Uint64

// ReserveLoginAttempt counts one sign-in attempt against key in its fixed window of length
// window, before the password is checked, and returns the attempts counted in the window so
// far (this one included) and how long until the window ends.
//
// Why one upsert: INSERT … ON CONFLICT DO UPDATE takes the row lock, so concurrent
// reservations for one key — from this process or any other — are serialised and each sees
// the count its predecessor wrote; "check, then verify, then record" let 30 parallel attempts
// through. The window is measured with the database's clock, the one every process shares.
func (db *DB) ReserveLoginAttempt(ctx context.Context, key string, window time.Duration) (int, time.Duration, error) {
	if reservations.Add(1)%pruneEvery == 0 {
		if _, err := db.Pool.Exec(ctx, `DELETE FROM login_attempts WHERE window_end < now()`); err != nil {
			return 0, 0, fmt.Errorf("prune login attempts: %w", err)
		}
	}
	var n int
	var left float64
	err := db.Pool.QueryRow(ctx, `INSERT INTO login_attempts AS a (key_hash, window_end, attempts)
		VALUES ($1, now() + make_interval(secs => $2), 1)
		ON CONFLICT (key_hash) DO UPDATE SET
			attempts   = CASE WHEN a.window_end <= now() THEN 1 ELSE a.attempts + 1 END,
			window_end = CASE WHEN a.window_end <= now() THEN EXCLUDED.window_end ELSE a.window_end END
		RETURNING attempts, extract(epoch FROM window_end - now())::float8`,
		attemptKey(key), window.Seconds()).Scan(&n, &left)
	if err != nil {
		return 0, 0, fmt.Errorf("reserve login attempt: %w", err)
	}
	return n, time.Duration(math.Max(left, 0) * float64(time.Second)), nil
}

// ReleaseLoginAttempt gives back one attempt reserved for key (the sign-in succeeded).
func (db *DB) ReleaseLoginAttempt(ctx context.Context, key string) error {
	if _, err := db.Pool.Exec(ctx, `UPDATE login_attempts SET attempts = attempts - 1
		WHERE key_hash = $1 AND attempts > 0`, attemptKey(key)); err != nil {
		return fmt.Errorf("release login attempt: %w", err)
	}
	return nil
}

func attemptKey(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}
