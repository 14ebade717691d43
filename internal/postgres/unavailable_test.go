package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tenantops/onboard/internal/postgres"
)

// TestUnavailable: errors of a database that cannot be reached or went away are Unavailable
// (answered 503), errors of the request itself are not (500 or their own status).
func TestUnavailable(t *testing.T) {
	// A real refused connection: nothing listens on port 1.
	_, refused := postgres.Open(context.Background(), "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=2", "t", 1)
	if refused == nil {
		t.Fatal("connecting to port 1 succeeded")
	}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"ConnectionRefused", refused, true},
		{"ConnClosed", fmt.Errorf("update draft: %w", pgconn.ErrConnClosed), true},
		{"UnexpectedEOF", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{"AdminShutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"CannotConnectNow", &pgconn.PgError{Code: "57P03"}, true},
		{"ConnectionFailure", &pgconn.PgError{Code: "08006"}, true},
		{"UniqueViolation", &pgconn.PgError{Code: "23505"}, false},
		{"InvalidEncoding", &pgconn.PgError{Code: "22021"}, false},
		{"NoRows", pgx.ErrNoRows, false},
		{"Other", errors.New("boom"), false},
		{"Nil", nil, false},
	} {
		if got := postgres.Unavailable(tc.err); got != tc.want {
			t.Errorf("%s: Unavailable(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
