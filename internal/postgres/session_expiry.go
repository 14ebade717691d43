package postgres

import (
	"context"
	"fmt"
)

// DeleteExpiredSessions deletes the sessions whose expiry has passed and returns how many.
// The sessions table's delete trigger notifies every process's listener, which closes those
// sessions' /live sockets: this is how session expiry ends streams (docs/live.md, Sessions).
// Concurrent calls from several processes are harmless: each row is deleted once.
func (db *DB) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	tag, err := db.Pool.Exec(ctx, `DELETE FROM sessions WHERE expiry <= now()`)
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	// An ended session's token need not be remembered past its expiry: scs never commits an
	// expired session again (it starts a new one with a new token).
	if _, err := db.Pool.Exec(ctx, `DELETE FROM sessions_ended WHERE expiry <= now()`); err != nil {
		return 0, fmt.Errorf("delete ended sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}
