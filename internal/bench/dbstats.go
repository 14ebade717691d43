package bench

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

const (
	sourceStatements = "pg_stat_statements"
	sourceXacts      = "xact_commit"
)

// dbCounter reads a monotonic count of the database's work: statements executed when the
// pg_stat_statements extension is installed in the database (and its library loaded),
// otherwise transactions committed and rolled back, named so in the report. The bench never
// changes the server's configuration to get statements.
type dbCounter struct {
	conn   *pgx.Conn
	source string
}

const (
	statementsQuery = `SELECT coalesce(sum(calls), 0)::float8 FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`
	xactsQuery = `SELECT (xact_commit + xact_rollback)::float8 FROM pg_stat_database WHERE datname = current_database()`
)

func newDBCounter(ctx context.Context, dbURL string) (*dbCounter, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("database figures: %w", err)
	}
	d := &dbCounter{conn: conn, source: sourceXacts}
	var installed bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements')`).Scan(&installed); err != nil {
		conn.Close(ctx)
		return nil, fmt.Errorf("database figures: %w", err)
	}
	if installed {
		// Installed but not in shared_preload_libraries, the view raises an error.
		var n float64
		if err := conn.QueryRow(ctx, statementsQuery).Scan(&n); err == nil {
			d.source = sourceStatements
		}
	}
	return d, nil
}

// read returns the current count; a nil counter (no connection) reports why.
func (d *dbCounter) read(ctx context.Context) (float64, error) {
	if d == nil {
		return 0, fmt.Errorf("database figures: no connection")
	}
	q := xactsQuery
	if d.source == sourceStatements {
		q = statementsQuery
	}
	var n float64
	if err := d.conn.QueryRow(ctx, q).Scan(&n); err != nil {
		return 0, fmt.Errorf("database figures: %w", err)
	}
	return n, nil
}

func (d *dbCounter) close() {
	if d != nil {
		d.conn.Close(context.Background())
	}
}
