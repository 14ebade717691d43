package main

import (
	"context"
	"fmt"
	"io"

	"github.com/tenantops/onboard/internal/envflag"
	"github.com/tenantops/onboard/internal/postgres"
)

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := envflag.New("migrate", "migrate up | down | status: apply, roll back (one, or all with -all) or list migrations.", getenv, stderr)
	var db envflag.DB
	db.Register(f)
	var all bool
	f.BoolVar(&all, "all", false, "with down: roll back every migration")
	if err := f.Parse(args); err != nil {
		return err
	}
	if f.NArg() != 1 {
		f.Usage()
		return fmt.Errorf("migrate: want exactly one of up, down, status")
	}
	conn, err := postgres.Open(ctx, db.URL, "onboard-migrate", 2)
	if err != nil {
		return err
	}
	defer conn.Close()
	switch f.Arg(0) {
	case "up":
		if err := conn.MigrateUp(ctx); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "migrations applied")
	case "down":
		if err := conn.MigrateDown(ctx, all); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "migrations rolled back")
	case "status":
		return conn.MigrateStatus(ctx, stdout)
	default:
		return fmt.Errorf("migrate: unknown action %q (want up, down or status)", f.Arg(0))
	}
	return nil
}
