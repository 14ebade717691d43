package postgres_test

import (
	"context"
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
}
