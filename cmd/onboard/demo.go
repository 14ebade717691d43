package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/tenantops/onboard/internal/demo"
	"github.com/tenantops/onboard/internal/envflag"
	"github.com/tenantops/onboard/internal/postgres"
)

func runDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := envflag.New("demo", "Load the demo workspaces and users of the contract. Safe to run again.", getenv, stderr)
	var db envflag.DB
	db.Register(f)
	var migrate bool
	f.Bool(&migrate, "migrate", "MIGRATE", true, "apply pending migrations first")
	var secretKey string
	f.Str(&secretKey, "secret-key", "SECRET_KEY", "", "with it, also load the demo onboardings (drafts in every state, runs, history) when acme has none; base64 of 32 bytes")
	if err := f.Parse(args); err != nil {
		return err
	}
	conn, err := postgres.Open(ctx, db.URL, "onboard-demo", 2)
	if err != nil {
		return err
	}
	defer conn.Close()
	if migrate {
		if err := conn.MigrateUp(ctx); err != nil {
			return err
		}
	}
	if err := conn.LoadDemo(ctx, hashPassword); err != nil {
		return err
	}
	if secretKey != "" {
		key, err := decodeKey(secretKey)
		if err != nil {
			return err
		}
		if err := demo.Story(ctx, conn, key, slog.New(slog.DiscardHandler)); err != nil {
			return err
		}
	}
	fmt.Fprintln(stdout, "demo data loaded")
	printLogins(stdout)
	return nil
}

func printLogins(w io.Writer) {
	fmt.Fprintf(w, "demo logins (password %q):\n", postgres.DemoPassword)
	for _, u := range postgres.DemoUsers {
		fmt.Fprintf(w, "  %-22s %s in %s\n", u.Email, u.Role, u.Workspace)
	}
}
