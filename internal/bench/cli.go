package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/tenantops/onboard/internal/envflag"
)

// Command is `onboard bench ...`; with fanout: flags and environment → Config → Run → a
// table or, with -json, one JSON object on stdout.
func Command(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "signin" {
		return runBenchSignIn(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "notify" {
		return runBenchNotify(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "presence" {
		return runBenchPresence(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "storm" {
		return runBenchStorm(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "raw-server" {
		// Hidden: the raw mode's broadcast server, started by `bench fanout -mode raw`.
		return ServeRaw(ctx, stdout)
	}
	if len(args) == 0 || args[0] != "fanout" {
		fmt.Fprintln(stderr, "usage: onboard bench fanout|storm|notify|presence|signin [flags]   (onboard bench fanout -h lists them)")
		return errors.New("bench: want the fanout, storm, notify, presence or signin subcommand")
	}
	f := envflag.New("bench fanout", "Drive the real live path (database write → trigger → NOTIFY → hub → render → WebSocket)\nand report throughput and latency.", getenv, stderr)
	var c Config
	var db envflag.DB
	db.Register(f)
	f.Str(&c.URL, "url", "BENCH_URL", "", "base URL of a running server (instead of -serve)")
	f.Str(&c.MetricsURL, "metrics-url", "BENCH_METRICS_URL", "http://127.0.0.1:9090/metrics", "with -url: that server's /metrics (its METRICS_ADDR); -serve finds its own")
	f.Bool(&c.Serve, "serve", "BENCH_SERVE", false, "start `onboard serve` on a free loopback port against DATABASE_URL")
	f.Int(&c.Processes, "processes", "BENCH_PROCESSES", 1, "with -serve: server processes on the same database; clients and mutations go round-robin over them")
	f.Str(&c.Mode, "mode", "BENCH_MODE", "live", "live (WebSocket), poll (checkpoint polling with If-None-Match) or raw (bare WebSocket broadcast baseline in a process of its own, no database)")
	f.Int(&c.Clients, "clients", "BENCH_CLIENTS", 100, "connections (tabs)")
	f.Int(&c.Drafts, "drafts", "BENCH_DRAFTS", 10, "drafts the clients are spread over")
	f.Int(&c.Cohorts, "cohorts", "BENCH_COHORTS", 1, "permission cohorts the clients are spread over: 1 owner, 2 + an operator, 3 + a viewer (renders per mutation should equal it)")
	var rate string
	f.Str(&rate, "rate", "BENCH_RATE", "20", "mutations per second requested (all drafts together; writes to one draft are serial, the achieved rate is reported); 0 = idle: a quiet window of -duration without tabs, then one with them")
	f.Duration(&c.Duration, "duration", "BENCH_DURATION", 10*time.Second, "how long to mutate")
	var asJSON bool
	f.Bool(&asJSON, "json", "BENCH_JSON", false, "print one JSON object instead of a table")
	f.Duration(&c.PollInterval, "poll-interval", "BENCH_POLL_INTERVAL", 5*time.Second, "poll mode: interval per client")
	f.Duration(&c.Settle, "settle", "BENCH_SETTLE", 10*time.Second, "wait at most this long after the last mutation for frames in flight (ends as soon as every frame is accounted for)")
	f.Duration(&c.ConnectTimeout, "connect-timeout", "BENCH_CONNECT_TIMEOUT", 5*time.Minute, "give up when the clients have not all got their first fragment (raw: connected) within this")
	f.Bool(&c.Deltas, "deltas", "BENCH_DELTAS", true, "live mode: clients ask for delta fragments (delta=1) as the browser does; false: whole fragments every time")
	f.Int(&c.RawSize, "raw-size", "BENCH_RAW_SIZE", 4800, "raw mode: bytes per broadcast frame (the checkpoint fragment is about 4.8 KB)")
	if err := f.Parse(args[1:]); err != nil {
		return err
	}
	r, err := strconv.ParseFloat(rate, 64)
	if err != nil {
		return fmt.Errorf("-rate %q: want a number in [0, 10000]", rate)
	}
	c.Rate, c.DatabaseURL = r, db.URL
	if err := c.Validate(); err != nil {
		return err
	}
	res, err := Run(ctx, c, stderr)
	if err != nil {
		return err
	}
	for _, e := range res.Errors {
		fmt.Fprintln(stderr, "bench: error:", e)
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	Print(stdout, res)
	return nil
}

// runBenchNotify is `onboard bench notify`: commits per second of concurrent one-row UPDATEs
// with and without a NOTIFY trigger (docs/scaling.md).
func runBenchNotify(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := envflag.New("bench notify", "Measure commits/s of concurrent one-row UPDATEs without and with a NOTIFY trigger\n(a scratch table with a unique name, dropped at the end).", getenv, stderr)
	var c NotifyConfig
	var db envflag.DB
	db.Register(f)
	f.Int(&c.Writers, "writers", "BENCH_WRITERS", 8, "concurrent writer connections")
	f.Duration(&c.Duration, "duration", "BENCH_DURATION", 10*time.Second, "length of each of the three phases")
	var asJSON bool
	f.Bool(&asJSON, "json", "BENCH_JSON", false, "print one JSON object instead of a table")
	if err := f.Parse(args); err != nil {
		return err
	}
	c.DatabaseURL = db.URL
	res, err := RunNotify(ctx, c)
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	PrintNotify(stdout, res)
	return nil
}

// runBenchPresence is `onboard bench presence`: presence's messages, database transactions
// and join → seen latency across processes (docs/live.md, Presence).
func runBenchPresence(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := envflag.New("bench presence", "Measure presence across processes: registries with their own pools and LISTEN connections\non the real database, tabs joining drafts and changing step or field (no WebSockets).", getenv, stderr)
	var c PresenceConfig
	var db envflag.DB
	db.Register(f)
	f.Int(&c.Processes, "processes", "BENCH_PROCESSES", 2, "server processes (registries, each with its own pool and listener)")
	f.Int(&c.Tabs, "tabs", "BENCH_TABS", 5000, "tabs, one person each, spread over the processes and drafts")
	f.Int(&c.Drafts, "drafts", "BENCH_DRAFTS", 100, "drafts the tabs have open")
	var changing string
	f.Str(&changing, "changing", "BENCH_CHANGING", "0.1", "share of tabs changing step or field")
	f.Duration(&c.Every, "every", "BENCH_EVERY", 3*time.Second, "each changing tab changes once per this period")
	f.Duration(&c.Duration, "duration", "BENCH_DURATION", 30*time.Second, "how long the steady phase lasts")
	f.Duration(&c.LeaseInterval, "lease-interval", "BENCH_LEASE_INTERVAL", 20*time.Second, "presence lease renewal interval")
	var asJSON bool
	f.Bool(&asJSON, "json", "BENCH_JSON", false, "print one JSON object instead of a table")
	if err := f.Parse(args); err != nil {
		return err
	}
	share, err := strconv.ParseFloat(changing, 64)
	if err != nil {
		return fmt.Errorf("-changing %q: want a number in [0, 1]", changing)
	}
	c.Changing, c.DatabaseURL = share, db.URL
	res, err := RunPresence(ctx, c, stderr)
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	PrintPresence(stdout, res)
	return nil
}

// runBenchStorm is `onboard bench storm`: a deploy's (or a lost listener's) reconnect storm.
func runBenchStorm(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := envflag.New("bench storm", "Tabs watch drafts over /live; the server restarts (or its listener is cut) while every draft\nchanges. Report how soon every tab is current and what it cost the database and the server.", getenv, stderr)
	var c StormConfig
	var db envflag.DB
	db.Register(f)
	f.Int(&c.Tabs, "tabs", "BENCH_TABS", 2000, "tabs (WebSocket connections)")
	f.Int(&c.Drafts, "drafts", "BENCH_DRAFTS", 20, "drafts the tabs are spread over")
	f.Int(&c.Cohorts, "cohorts", "BENCH_COHORTS", 1, "permission cohorts the tabs are spread over: 1 owner, 2 + an operator, 3 + a viewer (one session each)")
	f.Str(&c.Scenario, "scenario", "BENCH_SCENARIO", "restart", "restart (SIGTERM, drafts changed, started again on the same address) or listener (the listener's connection cut, drafts changed)")
	f.Duration(&c.Timeout, "timeout", "BENCH_TIMEOUT", 2*time.Minute, "give up when the tabs are not all connected, or not all current, within this")
	var asJSON bool
	f.Bool(&asJSON, "json", "BENCH_JSON", false, "print one JSON object instead of a table")
	if err := f.Parse(args); err != nil {
		return err
	}
	c.DatabaseURL = db.URL
	res, err := RunStorm(ctx, c, stderr)
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	PrintStorm(stdout, res)
	return nil
}
