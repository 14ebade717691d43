package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
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

// BindSessionOwners records the user of every live session that has none yet (sessions from
// before migration 00012, which added sessions.user_id): owner reads the user id out of a
// session's data (the session manager's encoding, which this package does not know). Run at
// start, so the profile lists them and a password change ends them. It returns how many it
// bound; anonymous sessions stay without a user.
func (db *DB) BindSessionOwners(ctx context.Context, owner func(data []byte) (int64, bool)) (int, error) {
	rows, err := db.Pool.Query(ctx, `SELECT token, data FROM sessions WHERE user_id IS NULL AND expiry > now()`)
	if err != nil {
		return 0, fmt.Errorf("list unowned sessions: %w", err)
	}
	type unowned struct {
		token string
		data  []byte
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (unowned, error) {
		var u unowned
		return u, row.Scan(&u.token, &u.data)
	})
	if err != nil {
		return 0, fmt.Errorf("list unowned sessions: %w", err)
	}
	n := 0
	for _, s := range list {
		id, ok := owner(s.data)
		if !ok {
			continue
		}
		tag, err := db.Pool.Exec(ctx, `UPDATE sessions SET user_id = $2
			WHERE token = $1 AND user_id IS NULL AND EXISTS (SELECT 1 FROM users WHERE id = $2)`, s.token, id)
		if err != nil {
			return n, fmt.Errorf("bind session: %w", err)
		}
		n += int(tag.RowsAffected())
	}
	return n, nil
}
