// Package bench is the fanout load test (`onboard bench fanout`): it drives the real live
// path (database write → trigger → NOTIFY → hub → render → WebSocket), or a bare WebSocket
// broadcast as the baseline, and reports throughput and latency.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"text/tabwriter"
	"time"
)

// Config is the fanout load test's settings.
type Config struct {
	DatabaseURL  string // -serve starts the server against it; also read for transaction counts
	URL          string // base URL of a running server (instead of Serve)
	MetricsURL   string // with URL: that server's /metrics (its METRICS_ADDR); Serve finds its own
	Serve        bool   // start `onboard serve` (this executable) on a free loopback port
	Mode         string // live, poll or raw
	Clients      int
	Drafts       int
	Rate         float64 // mutations per second, all drafts together
	Duration     time.Duration
	Email        string // operator who mutates (needs edit rights in acme)
	Password     string
	PollInterval time.Duration // poll mode: interval per client
	Settle       time.Duration // wait after the last mutation for frames in flight
}

// Validate reports the first setting out of range.
func (c Config) Validate() error {
	switch {
	case c.Rate <= 0 || c.Rate > 10000:
		return fmt.Errorf("-rate %v: want a number in (0, 10000]", c.Rate)
	case c.Mode != "live" && c.Mode != "poll" && c.Mode != "raw":
		return fmt.Errorf("-mode %q: want live, poll or raw", c.Mode)
	case c.Clients < 1 || c.Clients > 10000:
		return errors.New("-clients: want 1..10000 (one client process: its ports and file descriptors limit it)")
	case c.Drafts < 1 || c.Drafts > c.Clients:
		return errors.New("-drafts: want 1..clients")
	case c.Duration <= 0 || c.Duration > time.Hour:
		return errors.New("-duration: want (0, 1h]")
	case c.Mode == "raw" && c.Clients > 9000:
		return errors.New("-clients: raw mode holds both ends of every connection in this process; at most 9000 under the 20,000 file limit")
	case c.Mode != "raw" && c.Serve == (c.URL != ""):
		return errors.New("bench: give exactly one of -serve or -url")
	}
	return nil
}

// Result is what one run reports (README: load test; `-json` prints it).
type Result struct {
	Mode               string             `json:"mode"`
	Connections        int                `json:"connections"`
	Drafts             int                `json:"drafts"`
	DurationS          float64            `json:"duration_s"`
	Mutations          int64              `json:"mutations"`
	MutationErrors     int64              `json:"mutation_errors"`
	FramesExpected     int64              `json:"frames_expected"`
	FramesReceived     int64              `json:"frames_received"`
	FramesPerS         float64            `json:"frames_per_s"`
	LatencyMS          map[string]float64 `json:"latency_ms"`
	Dropped            int64              `json:"dropped"`
	Resynced           int64              `json:"resynced"`
	RendersPerMutation float64            `json:"renders_per_mutation"`
	RSSPerConnKiB      float64            `json:"rss_per_conn_kib"`
	GoroutinesPerConn  float64            `json:"goroutines_per_conn"`
	DBStatementsPerS   float64            `json:"db_statements_per_s"`
	CPUMicrosPerFrame  float64            `json:"cpu_us_per_frame"`
}

// Run runs the load test c describes (validate it first); progress and the child server's
// log go to stderr.
func Run(ctx context.Context, c Config, stderr io.Writer) (Result, error) {
	if c.Mode == "raw" {
		return runRaw(ctx, c)
	}
	return runFanout(ctx, c, stderr)
}

// Print writes r as a table.
func Print(w io.Writer, r Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "mode\t%s\n", r.Mode)
	fmt.Fprintf(tw, "connections / drafts\t%d / %d\n", r.Connections, r.Drafts)
	fmt.Fprintf(tw, "mutations (errors)\t%d (%d) in %.1fs\n", r.Mutations, r.MutationErrors, r.DurationS)
	fmt.Fprintf(tw, "frames received / expected\t%d / %d\n", r.FramesReceived, r.FramesExpected)
	fmt.Fprintf(tw, "frames/s\t%.0f\n", r.FramesPerS)
	fmt.Fprintf(tw, "latency ms p50 / p90 / p99 / max\t%.1f / %.1f / %.1f / %.1f\n", r.LatencyMS["p50"], r.LatencyMS["p90"], r.LatencyMS["p99"], r.LatencyMS["max"])
	fmt.Fprintf(tw, "dropped (coalesced or replaced)\t%d\n", r.Dropped)
	fmt.Fprintf(tw, "resynced (reconnects)\t%d\n", r.Resynced)
	fmt.Fprintf(tw, "renders per mutation\t%.2f\n", r.RendersPerMutation)
	fmt.Fprintf(tw, "server RSS per connection\t%.1f KiB\n", r.RSSPerConnKiB)
	fmt.Fprintf(tw, "server goroutines per connection\t%.2f\n", r.GoroutinesPerConn)
	fmt.Fprintf(tw, "database transactions/s\t%.0f\n", r.DBStatementsPerS)
	fmt.Fprintf(tw, "server CPU per frame\t%.1f µs\n", r.CPUMicrosPerFrame)
	tw.Flush()
}

// latencies collects samples from many goroutines.
type latencies struct {
	mu sync.Mutex
	ms []float64
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.ms = append(l.ms, float64(d.Microseconds())/1000)
	l.mu.Unlock()
}

func (l *latencies) summary() map[string]float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]float64{"p50": 0, "p90": 0, "p99": 0, "max": 0}
	if len(l.ms) == 0 {
		return out
	}
	s := slices.Clone(l.ms)
	slices.Sort(s)
	q := func(p float64) float64 { return s[min(len(s)-1, int(math.Ceil(p*float64(len(s))))-1)] }
	out["p50"], out["p90"], out["p99"], out["max"] = q(0.50), q(0.90), q(0.99), s[len(s)-1]
	return out
}

// settle waits up to d for frames in flight: until received+dropped reaches expected.
func settle(d time.Duration, done func() bool) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) && !done() {
		time.Sleep(20 * time.Millisecond)
	}
}
