package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/tenantops/onboard/internal/bench"
)

const usage = `onboard — live onboarding console for managed tenants

usage: onboard <command> [flags]

commands:
  serve     web server and workers in one process
  worker    workers only
  migrate   up | down | status
  demo      load the demo workspaces and users (idempotent)
  bench     load tests (bench fanout)

Run "onboard <command> -h" for the flags of a command; every flag also reads an environment variable.
`

// run is the whole program; main only adds the process's context, arguments and streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return errors.New("missing command")
	}
	cmd, rest := args[1], args[2:]
	var err error
	switch cmd {
	case "serve":
		err = runServe(ctx, rest, getenv, stdout, stderr, true)
	case "worker":
		err = runServe(ctx, rest, getenv, stdout, stderr, false)
	case "migrate":
		err = runMigrate(ctx, rest, getenv, stdout, stderr)
	case "demo":
		err = runDemo(ctx, rest, getenv, stdout, stderr)
	case "bench":
		err = bench.Command(ctx, rest, getenv, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// newLogger builds the structured logger: JSON or text, at the given level.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want json or text", format)
}
