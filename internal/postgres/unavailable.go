package postgres

import (
	"errors"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
)

// Unavailable reports whether err means PostgreSQL could not be reached or went away — a
// connection refused, reset or closed, the server shutting down or restarting — rather than
// something wrong with the request: the same request may succeed when retried. The web layer
// answers these 503 with Retry-After (cmd/onboard wires it as web.Deps.Unavailable).
func Unavailable(err error) bool {
	var (
		ce *pgconn.ConnectError
		ne net.Error
		pe *pgconn.PgError
	)
	switch {
	case err == nil:
		return false
	case errors.As(err, &ce), errors.As(err, &ne), errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return true
	case errors.As(err, &pe):
		// Class 08: connection exception; 57P01–57P03: terminated by an administrator, a
		// crash shutdown, or the server cannot accept connections yet.
		return pe.Code[:2] == "08" || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	return false
}
