package postgres

import (
	"context"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/tenantops/onboard/migrations"
)

func (db *DB) goose() (*goose.Provider, func(), error) {
	sqlDB := stdlib.OpenDBFromPool(db.Pool)
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	if err != nil {
		sqlDB.Close()
		return nil, nil, fmt.Errorf("goose: %w", err)
	}
	return p, func() { sqlDB.Close() }, nil
}

// MigrateUp applies every pending migration.
func (db *DB) MigrateUp(ctx context.Context) error {
	p, done, err := db.goose()
	if err != nil {
		return err
	}
	defer done()
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate up: %w", err)
	}
	return nil
}

// MigrateDown rolls back the latest migration, or every migration when all is true.
func (db *DB) MigrateDown(ctx context.Context, all bool) error {
	p, done, err := db.goose()
	if err != nil {
		return err
	}
	defer done()
	if all {
		_, err = p.DownTo(ctx, 0)
	} else {
		_, err = p.Down(ctx)
	}
	if err != nil {
		return fmt.Errorf("migrate down: %w", err)
	}
	return nil
}

// MigrateStatus writes one line per migration: applied or pending.
func (db *DB) MigrateStatus(ctx context.Context, w io.Writer) error {
	p, done, err := db.goose()
	if err != nil {
		return err
	}
	defer done()
	st, err := p.Status(ctx)
	if err != nil {
		return fmt.Errorf("migrate status: %w", err)
	}
	for _, s := range st {
		when := "pending"
		if s.State != goose.StatePending {
			when = "applied " + s.AppliedAt.UTC().Format("2006-01-02 15:04:05")
		}
		fmt.Fprintf(w, "%05d  %-32s %s\n", s.Source.Version, s.Source.Path, when)
	}
	return nil
}
