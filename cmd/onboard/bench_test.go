package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/bench"
	"github.com/tenantops/onboard/internal/postgres/pgtest"
)

// runAsMainEnv makes the test binary run main() (TestMain), so bench runs in tests can start
// it as the server processes and the raw broadcast server.
const runAsMainEnv = "ONBOARD_TEST_RUN_MAIN"

// benchRows counts the rows of every table a bench run writes to, directly or through the
// server (sign-in, drafts, audit, sessions, attempt counts).
func benchRows(t *testing.T, dbURL string) string {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var s string
	if err := conn.QueryRow(context.Background(), `SELECT concat_ws(' ',
		(SELECT count(*) FROM workspaces), (SELECT count(*) FROM users), (SELECT count(*) FROM workspace_memberships),
		(SELECT count(*) FROM sessions), (SELECT count(*) FROM login_attempts), (SELECT count(*) FROM tenants),
		(SELECT count(*) FROM managed_tenant_onboarding_sessions), (SELECT count(*) FROM operation_runs),
		(SELECT count(*) FROM workspace_audit_log), (SELECT count(*) FROM user_notifications))`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// signalWriter calls fn once when a written line contains substr.
type signalWriter struct {
	substr string
	fn     func()
	once   sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(w.substr)) {
		w.once.Do(w.fn)
	}
	return len(p), nil
}

// TestBenchFanout runs a tiny live bench on two server processes against a real database:
// every frame is accounted for, both processes served clients and frames, and the run leaves
// no row behind — also when it is interrupted while mutating (Ctrl-C). No timings asserted.
func TestBenchFanout(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)
	c := bench.Config{DatabaseURL: dbURL, Serve: true, Processes: 2, Mode: "live", Clients: 6, Drafts: 2, Cohorts: 3,
		Rate: 10, Duration: time.Second, Settle: 10 * time.Second, RawSize: 4800, ConnectTimeout: time.Minute, ChildEnv: []string{runAsMainEnv + "=1", "WORKERS=0", "DB_MAX_CONNS=4"}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	before := benchRows(t, dbURL)
	t.Run("OK", func(t *testing.T) {
		res, err := bench.Run(context.Background(), c, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if res.Mutations == 0 || res.FramesReceived == 0 || res.FramesUnaccounted != 0 || res.MutationErrors != 0 {
			t.Errorf("mutations %d (errors %d), frames received %d, unaccounted %d; want some, none, some, 0",
				res.Mutations, res.MutationErrors, res.FramesReceived, res.FramesUnaccounted)
		}
		if res.FramesReceived+res.Dropped != res.FramesExpected {
			t.Errorf("received %d + superseded %d != expected %d", res.FramesReceived, res.Dropped, res.FramesExpected)
		}
		if len(res.Processes) != 2 {
			t.Fatalf("processes = %d; want 2", len(res.Processes))
		}
		for i, p := range res.Processes {
			if p.Connections != 3 || p.FramesReceived == 0 || p.CPUMicrosPerFrame == nil || p.PID == os.Getpid() {
				t.Errorf("process %d = %+v; want 3 connections, frames, CPU per frame, a process of its own", i, p)
			}
		}
		// One render per cohort per mutation and process, fewer when changes coalesce.
		if r := res.RendersPerMutation; r == nil || *r <= 0 || *r > 3 {
			t.Errorf("renders per mutation = %v; want (0, 3] for 3 cohorts", r)
		}
		if len(res.Errors) != 0 || res.DBStatementsPerS == nil || res.DBStatementsSource == "" {
			t.Errorf("errors %q, db figures %v (%q); want none, a figure and its source", res.Errors, res.DBStatementsPerS, res.DBStatementsSource)
		}
		if after := benchRows(t, dbURL); after != before {
			t.Errorf("rows after the run = %s; want %s (as before)", after, before)
		}
	})
	t.Run("ConnectTimeout", func(t *testing.T) {
		// Clients that do not all connect in time end the run with an error (it used to wait
		// for them forever) and still leave nothing behind.
		tc := c
		tc.ConnectTimeout = time.Millisecond
		if _, err := bench.Run(context.Background(), tc, io.Discard); err == nil || !strings.Contains(err.Error(), "connect-timeout") {
			t.Errorf("Run = %v; want the connect timeout's error", err)
		}
		if after := benchRows(t, dbURL); after != before {
			t.Errorf("rows after the run = %s; want %s (as before)", after, before)
		}
	})
	t.Run("Interrupted", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ic := c
		ic.Duration = time.Minute
		_, err := bench.Run(ctx, ic, &signalWriter{substr: "bench: mutating", fn: cancel})
		if err == nil {
			t.Fatal("Run after cancel = nil error; want the context's")
		}
		if after := benchRows(t, dbURL); after != before {
			t.Errorf("rows after the interrupted run = %s; want %s (as before)", after, before)
		}
	})
}

// TestBenchRaw: the raw baseline is served by a process of its own and accounts for every
// frame.
func TestBenchRaw(t *testing.T) {
	t.Parallel()
	c := bench.Config{Mode: "raw", Processes: 1, Clients: 3, Drafts: 1, Rate: 20, Duration: 500 * time.Millisecond,
		Settle: 10 * time.Second, RawSize: 4800, ConnectTimeout: time.Minute, ChildEnv: []string{runAsMainEnv + "=1"}}
	res, err := bench.Run(context.Background(), c, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res.FramesReceived == 0 || res.FramesUnaccounted != 0 || res.FrameBytesAvg != 4800 {
		t.Errorf("received %d, unaccounted %d, bytes per frame %v; want some, 0, 4800", res.FramesReceived, res.FramesUnaccounted, res.FrameBytesAvg)
	}
	if len(res.Processes) != 1 || res.Processes[0].PID == os.Getpid() || res.Processes[0].PID == 0 {
		t.Errorf("processes = %+v; want one other process", res.Processes)
	}
	if len(res.Errors) != 0 || res.CPUMicrosPerFrame == nil || res.GoroutinesPerConn == nil {
		t.Errorf("errors %q, CPU per frame %v, goroutines per connection %v; want none and figures", res.Errors, res.CPUMicrosPerFrame, res.GoroutinesPerConn)
	}
}

// TestBenchArgs: bad arguments are refused before anything starts.
func TestBenchArgs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, args, want string }{
		{"NoSubcommand", "", "subcommand"},
		{"BadRate", "fanout -serve -rate fast", "-rate"},
		{"NegativeRate", "fanout -serve -rate -1", "-rate"},
		{"ProcessesWithURL", "fanout -url http://127.0.0.1:1 -processes 2", "-processes"},
		{"ServeAndURL", "fanout -serve -url http://127.0.0.1:1", "exactly one"},
		{"RawWithURL", "fanout -mode raw -url http://127.0.0.1:1", "raw mode"},
		{"TooManyClients", "fanout -serve -clients 10001", "-clients"},
		{"TooManyCohorts", "fanout -serve -cohorts 4", "-cohorts"},
		{"NotifyWriters", "notify -writers 0", "-writers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			args := append([]string{"onboard", "bench"}, strings.Fields(tc.args)...)
			err := run(context.Background(), args, func(string) string { return "" }, io.Discard, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%q) = %v; want an error about %s", tc.args, err, tc.want)
			}
		})
	}
}
