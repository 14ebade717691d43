package postgres_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/tenantops/onboard/internal/postgres"
	"github.com/tenantops/onboard/internal/postgres/pgtest"
)

func TestSessionStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	s := postgres.NewSessionStore(db)
	expiry := time.Now().Add(time.Hour)

	t.Run("TokenNeverStored", func(t *testing.T) {
		if err := s.Commit("token-a", []byte("data"), expiry); err != nil {
			t.Fatal(err)
		}
		if b, found, err := s.Find("token-a"); err != nil || !found || string(b) != "data" {
			t.Fatalf("Find = %q %v, %v; want data", b, found, err)
		}
		var n int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE token LIKE '%token-a%'`).Scan(&n); err != nil || n != 0 {
			t.Errorf("rows holding the token = %d, %v; want 0", n, err)
		}
		if err := s.Delete("token-a"); err != nil {
			t.Fatal(err)
		}
		if _, found, err := s.Find("token-a"); err != nil || found {
			t.Errorf("Find after Delete = %v, %v; want not found", found, err)
		}
	})

	// A request of a session that was ended elsewhere while it ran commits at its end: the
	// session must stay ended (sessions_ended), while a new token is stored as usual.
	t.Run("EndedStaysEnded", func(t *testing.T) {
		if err := s.Commit("token-b", []byte("data"), expiry); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Pool.Exec(ctx, `DELETE FROM sessions WHERE expiry > now() AND data = 'data'`); err != nil {
			t.Fatal(err)
		}
		if err := s.Commit("token-b", []byte("late"), expiry); err != nil {
			t.Fatal(err)
		}
		if _, found, err := s.Find("token-b"); err != nil || found {
			t.Errorf("Find after a late commit of an ended session = %v, %v; want not found", found, err)
		}
		if err := s.Commit("token-c", []byte("new"), expiry); err != nil {
			t.Fatal(err)
		}
		if b, found, err := s.Find("token-c"); err != nil || !found || string(b) != "new" {
			t.Errorf("Find of a new token = %q %v, %v; want new", b, found, err)
		}
	})

	// The same, when the sign-out commits while the late commit waits for the row it deletes:
	// the insert is retried after the wait, with the snapshot it started with, so its own
	// "not ended" check cannot see the sign-out. The session must still stay ended.
	t.Run("EndedDuringCommitStaysEnded", func(t *testing.T) { endedDuringCommitStaysEnded(t, db, s, expiry) })

	// A commit records the session's use; one that changes nothing but moves the expiry by
	// less than a minute is not written (scs commits on every request).
	t.Run("LastSeen", func(t *testing.T) {
		if err := s.Commit("token-d", []byte("d"), expiry); err != nil {
			t.Fatal(err)
		}
		age := func() time.Duration {
			t.Helper()
			var age time.Duration
			if err := db.Pool.QueryRow(ctx, `SELECT extract(epoch FROM now() - last_seen_at)::int * interval '1 second' FROM sessions WHERE data = 'd'`).Scan(&age); err != nil {
				t.Fatal(err)
			}
			return age
		}
		if _, err := db.Pool.Exec(ctx, `UPDATE sessions SET last_seen_at = now() - interval '1 hour' WHERE data = 'd'`); err != nil {
			t.Fatal(err)
		}
		if err := s.Commit("token-d", []byte("d"), expiry.Add(30*time.Second)); err != nil {
			t.Fatal(err)
		}
		if a := age(); a < 50*time.Minute {
			t.Errorf("last_seen_at is %v old after a commit 30 s later with the same data, want it not written (an hour)", a)
		}
		if err := s.Commit("token-d", []byte("d"), expiry.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if a := age(); a > time.Minute {
			t.Errorf("last_seen_at is %v old after a commit two minutes later, want now", a)
		}
		// Changed data is always written; so is any commit of another process (its own store).
		if _, err := db.Pool.Exec(ctx, `UPDATE sessions SET last_seen_at = now() - interval '1 hour' WHERE data = 'd'`); err != nil {
			t.Fatal(err)
		}
		if err := postgres.NewSessionStore(db).Commit("token-d", []byte("d"), expiry.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if a := age(); a > time.Minute {
			t.Errorf("last_seen_at is %v old after another process's commit, want now", a)
		}
		if err := s.Commit("token-d", []byte("d2"), expiry.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if b, _, err := s.Find("token-d"); err != nil || string(b) != "d2" {
			t.Errorf("Find after a commit of new data = %q, %v; want d2", b, err)
		}
	})

	// Sessions from before sessions.user_id get their user at start, read from their data;
	// anonymous ones and unknown users stay without.
	t.Run("BindSessionOwners", func(t *testing.T) {
		var owner int64
		if err := db.Pool.QueryRow(ctx, `INSERT INTO users (email, password_hash) VALUES ('legacy@acme.test', 'x') RETURNING id`).Scan(&owner); err != nil {
			t.Fatal(err)
		}
		for tok, data := range map[string]string{"legacy-1": fmt.Sprint(owner), "legacy-anon": "", "legacy-gone": "999999"} {
			if err := s.Commit(tok, []byte(data), expiry); err != nil {
				t.Fatal(err)
			}
		}
		n, err := db.BindSessionOwners(ctx, func(b []byte) (int64, bool) {
			id, err := strconv.ParseInt(string(b), 10, 64)
			return id, err == nil
		})
		if err != nil || n != 1 {
			t.Fatalf("BindSessionOwners = %d, %v; want 1", n, err)
		}
		var bound int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE user_id = $1`, owner).Scan(&bound); err != nil || bound != 1 {
			t.Errorf("sessions of the legacy user = %d, %v; want 1", bound, err)
		}
	})
}

// endedDuringCommitStaysEnded: a sign-out that commits while a late commit of the same
// session waits for the row it deletes (TestSessionStore).
func endedDuringCommitStaysEnded(t *testing.T, db *postgres.DB, s *postgres.SessionStore, expiry time.Time) {
	ctx := context.Background()
	if err := s.Commit("token-r", []byte("r"), expiry); err != nil {
		t.Fatal(err)
	}
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE data = 'r'`); err != nil {
		t.Fatal(err)
	}
	late := make(chan error, 1)
	go func() { late <- s.Commit("token-r", []byte("late-r"), expiry) }()
	// Wait until the late commit waits for the deleting transaction's row lock.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO sessions%'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the late commit never waited for the sign-out's row lock")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-late; err != nil {
		t.Fatal(err)
	}
	if _, found, err := s.Find("token-r"); err != nil || found {
		t.Errorf("Find after a commit that raced the sign-out = %v, %v; want not found (the session came back)", found, err)
	}
}
