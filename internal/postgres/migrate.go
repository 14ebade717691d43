package postgres

import (
	"context"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

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

// river returns the migrator of River's own tables (river_job, river_queue, …). River's
// schema is versioned by River (table river_migration), independently of our goose files:
// it changes only when the River module is upgraded.
func (db *DB) river() (*rivermigrate.Migrator[pgx.Tx], error) {
	m, err := rivermigrate.New(riverpgxv5.New(db.Pool), nil)
	if err != nil {
		return nil, fmt.Errorf("river migrator: %w", err)
	}
	return m, nil
}

// RiverSchemaVersion names the River schema MigrateUp installs, e.g. "river:6". Test
// helpers mix it into the name of their template database so that a River upgrade never
// reuses a template built with the older schema.
func RiverSchemaVersion() string {
	m, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		return "river:unknown"
	}
	all := m.AllVersions()
	if len(all) == 0 {
		return "river:0"
	}
	return fmt.Sprintf("river:%d", all[len(all)-1].Version)
}

// MigrateUp applies every pending migration: ours (goose), then River's job tables.
func (db *DB) MigrateUp(ctx context.Context) error {
	p, done, err := db.goose()
	if err != nil {
		return err
	}
	defer done()
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate up: %w", err)
	}
	rm, err := db.river()
	if err != nil {
		return err
	}
	if _, err := rm.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate up river: %w", err)
	}
	return nil
}

// MigrateDown rolls back the latest of our migrations, or, when all is true, every
// migration including River's tables. River's tables are left alone by a single step down:
// they do not depend on ours, and dropping them would lose queued jobs.
func (db *DB) MigrateDown(ctx context.Context, all bool) error {
	if all {
		rm, err := db.river()
		if err != nil {
			return err
		}
		if _, err := rm.Migrate(ctx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{TargetVersion: -1}); err != nil {
			return fmt.Errorf("migrate down river: %w", err)
		}
	}
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

// MigrateDownTo rolls our migrations back until version is the latest applied (River's tables
// stay). Tests of a data migration use it to write rows in the shape before it.
func (db *DB) MigrateDownTo(ctx context.Context, version int64) error {
	p, done, err := db.goose()
	if err != nil {
		return err
	}
	defer done()
	if _, err := p.DownTo(ctx, version); err != nil {
		return fmt.Errorf("migrate down to %d: %w", version, err)
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
	return db.riverStatus(ctx, w)
}

// riverStatus writes one line for River's schema: the version applied, or pending.
func (db *DB) riverStatus(ctx context.Context, w io.Writer) error {
	rm, err := db.river()
	if err != nil {
		return err
	}
	all := rm.AllVersions()
	latest := all[len(all)-1].Version
	var have int
	// ExistingVersions fails while River's migration table does not exist yet.
	var exists bool
	if err := db.Pool.QueryRow(ctx, `SELECT to_regclass('river_migration') IS NOT NULL`).Scan(&exists); err != nil {
		return fmt.Errorf("migrate status river: %w", err)
	}
	if exists {
		existing, err := rm.ExistingVersions(ctx)
		if err != nil {
			return fmt.Errorf("migrate status river: %w", err)
		}
		if n := len(existing); n > 0 {
			have = existing[n-1].Version
		}
	}
	when := fmt.Sprintf("applied (version %d)", have)
	if have < latest {
		when = fmt.Sprintf("pending (version %d of %d)", have, latest)
	}
	fmt.Fprintf(w, "river  %-32s %s\n", "river job tables", when)
	return nil
}
