// Package bench is the fanout load test (`onboard bench fanout`): it drives the real live
// path (database write → trigger → NOTIFY → hub → render → WebSocket), or a bare WebSocket
// broadcast in a process of its own as the baseline, and reports throughput and latency.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sync"
	"time"
)

// Config is the fanout load test's settings.
type Config struct {
	DatabaseURL    string // the server's database: the bench's workspace is created and removed there
	URL            string // base URL of a running server (instead of Serve)
	MetricsURL     string // with URL: that server's /metrics (its METRICS_ADDR); Serve finds its own
	Serve          bool   // start `onboard serve` (this executable) on a free loopback port
	Processes      int    // with Serve: server processes on the same database (clients round-robin)
	Mode           string // live, poll or raw
	Clients        int
	Drafts         int
	Cohorts        int     // 1..3: clients round-robin over an owner, an operator and a viewer
	Rate           float64 // mutations per second, all drafts together; 0 = idle (a quiet window)
	Duration       time.Duration
	PollInterval   time.Duration // poll mode: interval per client
	Settle         time.Duration // wait after the last mutation for frames in flight
	ConnectTimeout time.Duration // for every client to get its first fragment (raw: to connect)
	RawSize        int           // raw mode: bytes per broadcast frame
	Deltas         bool          // live mode: the clients ask for delta fragments (delta=1), as the browser does
	ChildEnv       []string      // added to the environment of the processes the bench starts
}

// Validate reports the first setting out of range.
func (c Config) Validate() error {
	switch {
	case c.Rate < 0 || c.Rate > 10000 || math.IsNaN(c.Rate):
		return fmt.Errorf("-rate %v: want a number in [0, 10000] (0: idle, no mutations)", c.Rate)
	case c.Mode != "live" && c.Mode != "poll" && c.Mode != "raw":
		return fmt.Errorf("-mode %q: want live, poll or raw", c.Mode)
	case c.Clients < 1 || c.Clients > 10000:
		return errors.New("-clients: want 1..10000 (one client process: its ports and file descriptors limit it)")
	case c.Drafts < 1 || c.Drafts > c.Clients:
		return errors.New("-drafts: want 1..clients")
	case c.Duration <= 0 || c.Duration > time.Hour:
		return errors.New("-duration: want (0, 1h]")
	case c.Mode != "raw" && (c.Cohorts < 1 || c.Cohorts > len(cohortRoles)):
		return errors.New("-cohorts: want 1..3 (owner, operator, viewer)")
	case c.ConnectTimeout <= 0:
		return errors.New("-connect-timeout: want > 0")
	case c.Processes < 1 || c.Processes > 16:
		return errors.New("-processes: want 1..16")
	case c.Mode == "raw" && (c.RawSize < 16 || c.RawSize > 1<<20):
		return errors.New("-raw-size: want 16..1048576 bytes")
	case c.Mode == "raw" && (c.URL != "" || c.Processes > 1):
		return errors.New("bench: raw mode starts its own server process; -url and -processes do not apply")
	case c.Mode != "raw" && c.Serve == (c.URL != ""):
		return errors.New("bench: give exactly one of -serve or -url")
	case c.Mode != "raw" && c.DatabaseURL == "":
		return errors.New("bench: -database-url is needed (the bench creates its own workspace there and removes it)")
	case c.Processes > 1 && !c.Serve:
		return errors.New("-processes: needs -serve (the bench starts the processes)")
	}
	return nil
}

// Result is what one run reports (README: load test; `-json` prints it). Figures read from
// the server are pointers: null in JSON (and "unavailable" in the table) when they could not
// be read, with the reason in Errors, never a silent zero.
type Result struct {
	Mode               string             `json:"mode"`
	Deltas             bool               `json:"deltas"`
	Connections        int                `json:"connections"`
	Drafts             int                `json:"drafts"`
	Cohorts            int                `json:"cohorts"`
	DurationS          float64            `json:"duration_s"`
	ConnectS           float64            `json:"connect_s"`   // until every client had its first fragment (raw: was connected)
	LoadAvg            [2]float64         `json:"load_avg_1m"` // the machine's 1-minute load average at start and end
	RateRequested      float64            `json:"rate_requested"`
	Mutations          int64              `json:"mutations"`
	MutationsPerS      float64            `json:"mutations_per_s"` // achieved (writes to one draft are serial)
	MutationErrors     int64              `json:"mutation_errors"`
	MutationsSkipped   int64              `json:"mutations_skipped"` // ticks whose draft was still being written (serial writes)
	FramesExpected     int64              `json:"frames_expected"`
	FramesReceived     int64              `json:"frames_received"`
	Dropped            int64              `json:"dropped"`                      // superseded by a newer rev before the client read them
	FramesLost         int64              `json:"frames_lost,omitempty"`        // raw: queued for a connection the server closed
	ConnectionsClosed  int64              `json:"connections_closed,omitempty"` // raw: by the server (write failed or timed out)
	FramesUnaccounted  int64              `json:"frames_unaccounted"`           // expected − received − dropped (− lost)
	FramesPerS         float64            `json:"frames_per_s"`
	FrameBytesAvg      float64            `json:"frame_bytes_avg"`
	LatencyMS          map[string]float64 `json:"latency_ms"`     // PATCH sent → frame read
	AckLatencyMS       map[string]float64 `json:"ack_latency_ms"` // PATCH response read (commit acknowledged) → frame read
	FramesBeforeAck    int64              `json:"frames_before_ack"`
	Resynced           int64              `json:"resynced"`
	RendersPerMutation *float64           `json:"renders_per_mutation"`
	RSSPerConnKiB      *float64           `json:"rss_per_conn_kib"`
	GoroutinesPerConn  *float64           `json:"goroutines_per_conn"`
	CPUMicrosPerFrame  *float64           `json:"cpu_us_per_frame"`
	DBStatementsPerS   *float64           `json:"db_statements_per_s"`
	DBStatementsSource string             `json:"db_statements_source"` // pg_stat_statements, or xact_commit (transactions, not statements)
	DBNoTabsPerS       *float64           `json:"db_statements_per_s_without_tabs,omitempty"`
	Processes          []ProcessResult    `json:"processes,omitempty"`
	Errors             []string           `json:"errors,omitempty"`
}

// ProcessResult is one server process's share of a run.
type ProcessResult struct {
	URL               string   `json:"url"`
	PID               int      `json:"pid,omitempty"` // when the bench started it
	Connections       int      `json:"connections"`
	FramesReceived    int64    `json:"frames_received"`
	FramesPerS        float64  `json:"frames_per_s"`
	CPUMicrosPerFrame *float64 `json:"cpu_us_per_frame"`
	RSSPerConnKiB     *float64 `json:"rss_per_conn_kib"`
	GoroutinesPerConn *float64 `json:"goroutines_per_conn"`
}

// Run runs the load test c describes (validate it first); progress and the child servers'
// logs go to stderr.
func Run(ctx context.Context, c Config, stderr io.Writer) (Result, error) {
	load0 := loadAvg()
	var res Result
	var err error
	if c.Mode == "raw" {
		res, err = runRaw(ctx, c, stderr)
	} else {
		res, err = runFanout(ctx, c, stderr)
	}
	res.LoadAvg = [2]float64{load0, loadAvg()}
	return res, err
}

// loadAvg is the machine's 1-minute load average (0 where /proc/loadavg is missing).
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	var v float64
	_, _ = fmt.Sscan(string(b), &v)
	return v
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

// errorList collects the errors of a run that do not stop it (a /metrics read that failed).
type errorList struct {
	mu   sync.Mutex
	msgs []string
}

func (e *errorList) add(err error) {
	if err == nil {
		return
	}
	e.mu.Lock()
	e.msgs = append(e.msgs, err.Error())
	e.mu.Unlock()
}

func (e *errorList) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.msgs)
}

func ptr(v float64) *float64 { return &v }

// fmtOpt prints an optional figure, or "unavailable".
func fmtOpt(format string, v *float64) string {
	if v == nil {
		return "unavailable (see errors)"
	}
	return fmt.Sprintf(format, *v)
}
