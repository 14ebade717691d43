package postgres

import (
	"bytes"
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

// ReserveLoginAttempts counts one sign-in attempt against each key in its fixed window of
// length window, before the password is checked, and returns for each key the attempts
// counted in its window so far (this one included) and how long until the window ends.
//
// Why one statement: INSERT … ON CONFLICT DO UPDATE takes each row's lock until the statement
// ends, so concurrent reservations — from this process or any other — are serialised on
// every key they share, and each sees the counts its predecessor wrote; "check, then verify,
// then record" let 30 parallel attempts through. The keys are locked in the order given (the
// caller gives every attempt's keys in one order of kinds), so the counts of one attempt are
// one consistent moment of all its keys, and two attempts cannot wait on each other. The
// window is measured with the database's clock, the one every process shares.
func (db *DB) ReserveLoginAttempts(ctx context.Context, keys []string, window time.Duration) ([]int, []time.Duration, error) {
	if reservations.Add(1)%pruneEvery == 0 {
		if _, err := db.Pool.Exec(ctx, `DELETE FROM login_attempts WHERE window_end < now()`); err != nil {
			return nil, nil, fmt.Errorf("prune login attempts: %w", err)
		}
	}
	hashes := make([][]byte, len(keys))
	for i, k := range keys {
		hashes[i] = attemptKey(k)
	}
	rows, err := db.Pool.Query(ctx, `INSERT INTO login_attempts AS a (key_hash, window_end, attempts)
		SELECT k, now() + make_interval(secs => $2), 1 FROM unnest($1::bytea[]) WITH ORDINALITY AS t(k, i) ORDER BY i
		ON CONFLICT (key_hash) DO UPDATE SET
			attempts   = CASE WHEN a.window_end <= now() THEN 1 ELSE a.attempts + 1 END,
			window_end = CASE WHEN a.window_end <= now() THEN EXCLUDED.window_end ELSE a.window_end END
		RETURNING key_hash, attempts, extract(epoch FROM window_end - now())::float8`,
		hashes, window.Seconds())
	if err != nil {
		return nil, nil, fmt.Errorf("reserve login attempts: %w", err)
	}
	counts, left := make([]int, len(keys)), make([]time.Duration, len(keys))
	found := 0
	for rows.Next() {
		var h []byte
		var n int
		var l float64
		if err := rows.Scan(&h, &n, &l); err != nil {
			return nil, nil, fmt.Errorf("reserve login attempts: %w", err)
		}
		for i := range hashes {
			if bytes.Equal(hashes[i], h) {
				counts[i], left[i] = n, time.Duration(math.Max(l, 0)*float64(time.Second))
				found++
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("reserve login attempts: %w", err)
	}
	if found != len(keys) {
		return nil, nil, fmt.Errorf("reserve login attempts: %d of %d keys counted (a key given twice?)", found, len(keys))
	}
	return counts, left, nil
}

// ReleaseLoginAttempts gives back one attempt reserved for each key (the sign-in succeeded).
func (db *DB) ReleaseLoginAttempts(ctx context.Context, keys []string) error {
	hashes := make([][]byte, len(keys))
	for i, k := range keys {
		hashes[i] = attemptKey(k)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE login_attempts SET attempts = attempts - 1
		WHERE key_hash = ANY($1) AND attempts > 0`, hashes); err != nil {
		return fmt.Errorf("release login attempts: %w", err)
	}
	return nil
}

func attemptKey(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}
