package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/tenantops/onboard/internal/presence"
)

// PresenceStore is presence.Store on PostgreSQL: messages are NOTIFYs on the live channel
// (the listener hands them to the registry), leases are rows of the UNLOGGED
// presence_leases table (migrations/00014_presence_leases.sql).
type PresenceStore struct{ db *DB }

// PresenceStore returns the database's presence store.
func (db *DB) PresenceStore() PresenceStore { return PresenceStore{db} }

// Publish sends every payload on the live channel in one statement, so one transaction (and
// one turn of NOTIFY's commit lock) carries a whole flush, whatever the number of drafts.
func (s PresenceStore) Publish(ctx context.Context, payloads []string) error {
	if len(payloads) == 0 {
		return nil
	}
	if _, err := s.db.Pool.Exec(ctx, `SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p`, LiveChannel, payloads); err != nil {
		return fmt.Errorf("publish presence: %w", err)
	}
	return nil
}

// Renew upserts the process's lease and reads the other live leases in one statement (one
// transaction), deleting expired ones on the way. Expiry is returned as the time left by the
// database's clock, added to this process's: clocks of the two hosts need not agree.
func (s PresenceStore) Renew(ctx context.Context, process string, ttl time.Duration, state []byte) ([]presence.Lease, error) {
	rows, err := s.db.Pool.Query(ctx, `
		WITH up AS (
			INSERT INTO presence_leases (process, expires_at, state)
			VALUES ($1, now() + make_interval(secs => $2), $3::jsonb)
			ON CONFLICT (process) DO UPDATE SET expires_at = EXCLUDED.expires_at, state = EXCLUDED.state
		), gone AS (
			DELETE FROM presence_leases WHERE expires_at < now() AND process <> $1
		)
		SELECT process, (extract(epoch FROM expires_at - now()) * 1000)::bigint, state::text
		FROM presence_leases WHERE expires_at >= now() AND process <> $1`,
		process, ttl.Seconds(), string(state))
	if err != nil {
		return nil, fmt.Errorf("renew presence lease: %w", err)
	}
	defer rows.Close()
	now := time.Now()
	var out []presence.Lease
	for rows.Next() {
		var l presence.Lease
		var leftMS int64
		var st string
		if err := rows.Scan(&l.Process, &leftMS, &st); err != nil {
			return nil, fmt.Errorf("renew presence lease: %w", err)
		}
		l.Expires, l.State = now.Add(time.Duration(leftMS)*time.Millisecond), []byte(st)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("renew presence lease: %w", err)
	}
	return out, nil
}

// Drop deletes the process's lease.
func (s PresenceStore) Drop(ctx context.Context, process string) error {
	if _, err := s.db.Pool.Exec(ctx, `DELETE FROM presence_leases WHERE process = $1`, process); err != nil {
		return fmt.Errorf("drop presence lease: %w", err)
	}
	return nil
}
