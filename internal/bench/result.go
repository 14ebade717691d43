package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// result computes the report from the counters and the servers' figures.
func (f *fanout) result(elapsed time.Duration) Result {
	c := f.c
	res := Result{
		Mode: c.Mode, Deltas: c.Deltas && c.Mode == "live", Connections: c.Clients, Drafts: c.Drafts, Cohorts: c.Cohorts, DurationS: elapsed.Seconds(),
		RateRequested: c.Rate, Mutations: f.mutations.Load(), MutationErrors: f.mutErrors.Load(), MutationsSkipped: f.skipped.Load(),
		FramesExpected: f.expected.Load(), FramesReceived: f.received.Load(), Dropped: f.dropped.Load(),
		LatencyMS: f.lat.summary(), AckLatencyMS: f.ackLat.summary(), FramesBeforeAck: f.beforeAck.Load(),
		Resynced: f.resync.Load(),
	}
	res.FramesUnaccounted = res.FramesExpected - res.FramesReceived - res.Dropped
	res.MutationsPerS = float64(res.Mutations) / elapsed.Seconds()
	res.FramesPerS = float64(res.FramesReceived) / elapsed.Seconds()
	if res.FramesReceived > 0 {
		res.FrameBytesAvg = float64(f.bytes.Load()) / float64(res.FramesReceived)
	}
	var total serverStats
	var totalClients int
	allOK := true
	for _, s := range f.servers {
		p := ProcessResult{URL: s.base, PID: s.pid, Connections: s.clients, FramesReceived: s.received.Load()}
		p.FramesPerS = float64(p.FramesReceived) / elapsed.Seconds()
		p.RSSPerConnKiB, p.GoroutinesPerConn, p.CPUMicrosPerFrame = s.perConn(p.FramesReceived)
		res.Processes = append(res.Processes, p)
		if !s.statsOK[0] || !s.statsOK[1] || !s.statsOK[2] {
			allOK = false
			continue
		}
		total.rss += s.stats[1].rss - s.stats[0].rss
		total.goroutines += s.stats[1].goroutines - s.stats[0].goroutines
		total.cpu += s.stats[2].cpu - s.stats[1].cpu
		total.renders += s.stats[2].renders - s.stats[1].renders
		totalClients += s.clients
	}
	if !allOK {
		return res
	}
	res.RSSPerConnKiB = ptr(total.rss / 1024 / float64(totalClients))
	res.GoroutinesPerConn = ptr(total.goroutines / float64(totalClients))
	if res.FramesReceived > 0 {
		res.CPUMicrosPerFrame = ptr(total.cpu * 1e6 / float64(res.FramesReceived))
	}
	if res.Mutations > 0 {
		// Every process renders for its own sockets: renders per mutation per process.
		res.RendersPerMutation = ptr(total.renders / float64(res.Mutations) / float64(len(f.servers)))
	}
	return res
}

// perConn is a server's memory and goroutines per connection and CPU per frame it delivered;
// nil where its /metrics could not be read.
func (s *server) perConn(frames int64) (rss, goroutines, cpu *float64) {
	if s.clients == 0 || !s.statsOK[0] || !s.statsOK[1] {
		return nil, nil, nil
	}
	rss = ptr((s.stats[1].rss - s.stats[0].rss) / 1024 / float64(s.clients))
	goroutines = ptr((s.stats[1].goroutines - s.stats[0].goroutines) / float64(s.clients))
	if s.statsOK[2] && frames > 0 {
		cpu = ptr((s.stats[2].cpu - s.stats[1].cpu) * 1e6 / float64(frames))
	}
	return rss, goroutines, cpu
}

// Print writes r as a table.
func Print(w io.Writer, r Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmtOpt := func(format string, v *float64) string {
		if v == nil && len(r.Errors) == 0 {
			return "n/a (nothing to divide by)"
		}
		return fmtOpt(format, v)
	}
	if r.Mode == "live" {
		fmt.Fprintf(tw, "mode\t%s (deltas: %v)\n", r.Mode, r.Deltas)
	} else {
		fmt.Fprintf(tw, "mode\t%s\n", r.Mode)
	}
	fmt.Fprintf(tw, "load average (1 min) at start / end\t%.2f / %.2f\n", r.LoadAvg[0], r.LoadAvg[1])
	fmt.Fprintf(tw, "connections / drafts / cohorts / server processes\t%d / %d / %d / %d\n", r.Connections, r.Drafts, r.Cohorts, max(1, len(r.Processes)))
	fmt.Fprintf(tw, "clients connected in\t%.1fs\n", r.ConnectS)
	fmt.Fprintf(tw, "mutations/s requested / achieved\t%.1f / %.1f\n", r.RateRequested, r.MutationsPerS)
	fmt.Fprintf(tw, "mutations (errors; ticks skipped, draft busy)\t%d (%d; %d) in %.1fs\n", r.Mutations, r.MutationErrors, r.MutationsSkipped, r.DurationS)
	fmt.Fprintf(tw, "frames expected\t%d\n", r.FramesExpected)
	fmt.Fprintf(tw, "  received\t%d\n", r.FramesReceived)
	fmt.Fprintf(tw, "  superseded by a newer rev (dropped)\t%d\n", r.Dropped)
	if r.Mode == "raw" {
		fmt.Fprintf(tw, "  lost (queued for a connection the server closed; %d closed)\t%d\n", r.ConnectionsClosed, r.FramesLost)
	}
	fmt.Fprintf(tw, "  unaccounted\t%d\n", r.FramesUnaccounted)
	fmt.Fprintf(tw, "frames/s\t%.0f\n", r.FramesPerS)
	fmt.Fprintf(tw, "bytes per frame (first frames included)\t%.0f\n", r.FrameBytesAvg)
	lat := func(m map[string]float64) string {
		return fmt.Sprintf("%.1f / %.1f / %.1f / %.1f", m["p50"], m["p90"], m["p99"], m["max"])
	}
	fmt.Fprintf(tw, "latency ms p50 / p90 / p99 / max, sent → frame\t%s\n", lat(r.LatencyMS))
	if r.Mode != "raw" {
		fmt.Fprintf(tw, "  commit acknowledged → frame\t%s (%d frames before the ack, as 0)\n", lat(r.AckLatencyMS), r.FramesBeforeAck)
		fmt.Fprintf(tw, "resynced (reconnects)\t%d\n", r.Resynced)
		fmt.Fprintf(tw, "renders per mutation (per process)\t%s\n", fmtOpt("%.2f", r.RendersPerMutation))
	}
	fmt.Fprintf(tw, "server RSS per connection\t%s\n", fmtOpt("%.1f KiB", r.RSSPerConnKiB))
	fmt.Fprintf(tw, "server goroutines per connection\t%s\n", fmtOpt("%.2f", r.GoroutinesPerConn))
	fmt.Fprintf(tw, "server CPU per frame\t%s\n", fmtOpt("%.1f µs", r.CPUMicrosPerFrame))
	if r.Mode != "raw" {
		fmt.Fprintf(tw, "database work per second\t%s %s\n", fmtOpt("%.1f", r.DBStatementsPerS), dbUnit(r.DBStatementsSource))
	}
	if r.DBNoTabsPerS != nil {
		fmt.Fprintf(tw, "  the same window without tabs\t%s\n", fmtOpt("%.1f", r.DBNoTabsPerS))
	}
	if len(r.Processes) > 1 {
		for i, p := range r.Processes {
			fmt.Fprintf(tw, "process %d (%s)\t%d connections, %d frames (%.0f/s), CPU/frame %s, RSS/conn %s\n", i+1, p.URL,
				p.Connections, p.FramesReceived, p.FramesPerS, fmtOpt("%.1f µs", p.CPUMicrosPerFrame), fmtOpt("%.1f KiB", p.RSSPerConnKiB))
		}
	}
	for _, e := range r.Errors {
		fmt.Fprintf(tw, "error\t%s\n", e)
	}
	tw.Flush()
}

// dbUnit names what db_statements_per_s counts.
func dbUnit(source string) string {
	switch source {
	case sourceStatements:
		return "statements (pg_stat_statements)"
	case sourceXacts:
		return "transactions, not statements (pg_stat_statements not installed)"
	}
	return ""
}
