package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/postgres/pgtest"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := Config{Mode: "live", Serve: true, Processes: 1, Cohorts: 1, Clients: 10, Drafts: 2, Rate: 5, Duration: time.Second, DatabaseURL: "postgres://x", RawSize: 4800, ConnectTimeout: time.Minute}
	for _, tc := range []struct {
		name  string
		edit  func(*Config)
		valid bool
	}{
		{"OK", func(*Config) {}, true},
		{"Idle", func(c *Config) { c.Rate = 0 }, true},
		{"TwoProcesses", func(c *Config) { c.Processes = 2 }, true},
		{"Raw needs no server", func(c *Config) { c.Mode, c.Serve, c.DatabaseURL = "raw", false, "" }, true},
		{"RawTenThousand", func(c *Config) { c.Mode, c.Clients = "raw", 10000 }, true},
		{"UnknownMode", func(c *Config) { c.Mode = "sse" }, false},
		{"NegativeRate", func(c *Config) { c.Rate = -1 }, false},
		{"RateTooHigh", func(c *Config) { c.Rate = 10001 }, false},
		{"MoreDraftsThanClients", func(c *Config) { c.Drafts = 11 }, false},
		{"ServeAndURL", func(c *Config) { c.URL = "http://127.0.0.1:8080" }, false},
		{"NeitherServeNorURL", func(c *Config) { c.Serve = false }, false},
		{"TooManyClients", func(c *Config) { c.Clients = 10001 }, false},
		{"NoDatabase", func(c *Config) { c.DatabaseURL = "" }, false},
		{"ZeroProcesses", func(c *Config) { c.Processes = 0 }, false},
		{"ProcessesWithoutServe", func(c *Config) { c.Serve, c.URL, c.Processes = false, "http://127.0.0.1:8080", 2 }, false},
		{"RawWithURL", func(c *Config) { c.Mode, c.Serve, c.URL = "raw", false, "http://127.0.0.1:8080" }, false},
		{"RawWithProcesses", func(c *Config) { c.Mode, c.Processes = "raw", 2 }, false},
		{"RawTinyFrame", func(c *Config) { c.Mode, c.RawSize = "raw", 8 }, false},
		{"NoDuration", func(c *Config) { c.Duration = 0 }, false},
		{"NoConnectTimeout", func(c *Config) { c.ConnectTimeout = 0 }, false},
		{"ThreeCohorts", func(c *Config) { c.Cohorts = 3 }, true},
		{"FourCohorts", func(c *Config) { c.Cohorts = 4 }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := ok
			tc.edit(&c)
			if err := c.Validate(); (err == nil) != tc.valid {
				t.Errorf("Validate() = %v; want valid %v", err, tc.valid)
			}
		})
	}
}

func TestLatencySummary(t *testing.T) {
	t.Parallel()
	var l latencies
	if got := l.summary(); got["p50"] != 0 || got["max"] != 0 {
		t.Errorf("empty summary = %v; want zeros", got)
	}
	for i := 100; i >= 1; i-- {
		l.add(time.Duration(i) * time.Millisecond)
	}
	got := l.summary()
	want := map[string]float64{"p50": 50, "p90": 90, "p99": 99, "max": 100}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %v; want %v", k, got[k], w)
		}
	}
}

// TestRecordAccounting: every expected frame is received or superseded by a newer version,
// a stale or repeated version counts as neither, and a frame read before its PATCH's
// response counts as "before the ack".
func TestRecordAccounting(t *testing.T) {
	t.Parallel()
	f := &fanout{}
	s := &server{}
	d := &benchDraft{}
	t0 := time.Now()
	for v := int64(2); v <= 6; v++ {
		d.sent.Store(v, t0)
		if v != 6 {
			d.acked.Store(v, t0.Add(time.Millisecond))
		}
	}
	f.expected.Store(5) // versions 2..6 for one client
	var last int64
	f.record(s, d, 1, 100, &last, t0) // the first fragment (subscribe): not a mutation's frame
	f.record(s, d, 2, 100, &last, t0.Add(5*time.Millisecond))
	f.record(s, d, 2, 100, &last, t0.Add(6*time.Millisecond)) // repeated
	f.record(s, d, 5, 100, &last, t0.Add(7*time.Millisecond)) // 3 and 4 superseded
	f.record(s, d, 4, 100, &last, t0.Add(8*time.Millisecond)) // older than shown
	f.record(s, d, 6, 300, &last, t0.Add(9*time.Millisecond)) // before its ack
	res := f.result(time.Second)
	if res.FramesReceived != 3 || res.Dropped != 2 || res.FramesUnaccounted != 0 {
		t.Errorf("received, dropped, unaccounted = %d, %d, %d; want 3, 2, 0", res.FramesReceived, res.Dropped, res.FramesUnaccounted)
	}
	if res.FramesBeforeAck != 1 {
		t.Errorf("frames before ack = %d; want 1", res.FramesBeforeAck)
	}
	if res.FrameBytesAvg != 500.0/3 {
		t.Errorf("bytes per frame = %v; want %v", res.FrameBytesAvg, 500.0/3)
	}
	if res.LatencyMS["max"] != 9 || res.AckLatencyMS["max"] != 6 {
		t.Errorf("latency max = %v, ack latency max = %v; want 9, 6", res.LatencyMS["max"], res.AckLatencyMS["max"])
	}
}

// TestServerFiguresUnavailable: a /metrics that cannot be read, or lacks the process
// metrics, is an error and leaves the server figures null, never zero.
func TestServerFiguresUnavailable(t *testing.T) {
	t.Parallel()
	empty := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("# nothing here\n"))
	}))
	defer empty.Close()
	for _, u := range []string{empty.URL, "http://127.0.0.1:1/metrics"} {
		f := &fanout{hc: http.DefaultClient, servers: []*server{{metricsURL: u, clients: 1}}}
		for i := range 3 {
			f.readStats(context.Background(), i)
		}
		f.received.Store(10)
		f.mutations.Store(1)
		res := f.result(time.Second)
		if res.CPUMicrosPerFrame != nil || res.RSSPerConnKiB != nil || res.RendersPerMutation != nil {
			t.Errorf("%s: server figures = %v, %v, %v; want nil", u, res.CPUMicrosPerFrame, res.RSSPerConnKiB, res.RendersPerMutation)
		}
		if errs := f.errs.list(); len(errs) != 3 || !strings.Contains(errs[0], u) {
			t.Errorf("%s: errors = %q; want one per read, naming the URL", u, errs)
		}
	}
}

// TestRunNotifyCleansUp runs the NOTIFY commit benchmark briefly and checks that it
// committed in every phase and left no table or function behind.
func TestRunNotifyCleansUp(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)
	res, err := RunNotify(context.Background(), NotifyConfig{DatabaseURL: dbURL, Writers: 2, Duration: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Plain <= 0 || res.Trigger <= 0 || res.TriggerAsync <= 0 || res.NotificationsGot == 0 {
		t.Errorf("result = %+v; want commits in every phase and notifications received", res)
	}
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM pg_class WHERE relname LIKE 'bench_notify_%')
		+ (SELECT count(*) FROM pg_proc WHERE proname LIKE 'bench_notify_%')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d scratch tables, indexes or functions left; want 0", n)
	}
}

// TestRenameSkipsBusyDraft: a tick that finds its draft's previous PATCH still running is
// skipped and counted, not queued behind it (queued writes ran long past -duration).
func TestRenameSkipsBusyDraft(t *testing.T) {
	t.Parallel()
	f := &fanout{}
	d := &benchDraft{}
	d.mu.Lock()
	f.rename(context.Background(), d, 1)
	d.mu.Unlock()
	if f.skipped.Load() != 1 || f.mutations.Load() != 0 || f.mutErrors.Load() != 0 {
		t.Errorf("skipped, mutations, errors = %d, %d, %d; want 1, 0, 0", f.skipped.Load(), f.mutations.Load(), f.mutErrors.Load())
	}
}

func TestRootAttr(t *testing.T) {
	frag := []byte(`<section data-live="checkpoint" data-draft-id="d-1" data-version="12" data-base-rev="9"><p data-version="99">x</p></section>`)
	for name, want := range map[string]string{attrDraftID: "d-1", attrVersion: "12"} {
		if got := rootAttr(name, frag); got != want {
			t.Errorf("rootAttr(%q) = %q, want %q", name, got, want)
		}
	}
	for _, b := range [][]byte{[]byte(`<tr data-rev="1"><td data-version="3"></td></tr>`), []byte(`no tag`), []byte(`<x data-version="4`)} {
		if got := rootAttr(attrVersion, b); got != "" {
			t.Errorf("rootAttr(%s) = %q, want none", b, got)
		}
	}
}

func TestStormConfigValidate(t *testing.T) {
	t.Parallel()
	ok := StormConfig{DatabaseURL: "postgres://x", Tabs: 100, Drafts: 10, Cohorts: 3, Scenario: "restart", Timeout: time.Minute}
	for _, tc := range []struct {
		name  string
		edit  func(*StormConfig)
		valid bool
	}{
		{"OK", func(*StormConfig) {}, true},
		{"Listener", func(c *StormConfig) { c.Scenario = "listener" }, true},
		{"UnknownScenario", func(c *StormConfig) { c.Scenario = "crash" }, false},
		{"NoDatabase", func(c *StormConfig) { c.DatabaseURL = "" }, false},
		{"NoTabs", func(c *StormConfig) { c.Tabs = 0 }, false},
		{"MoreDraftsThanTabs", func(c *StormConfig) { c.Drafts = 101 }, false},
		{"FourCohorts", func(c *StormConfig) { c.Cohorts = 4 }, false},
		{"NoTimeout", func(c *StormConfig) { c.Timeout = 0 }, false},
	} {
		c := ok
		tc.edit(&c)
		if err := c.Validate(); (err == nil) != tc.valid {
			t.Errorf("%s: Validate() = %v, want valid %v", tc.name, err, tc.valid)
		}
	}
}

// TestStormResultQuantiles: the storm's figures are taken from when each tab became current,
// relative to the restart; a tab never current is counted, not averaged in.
func TestStormResultQuantiles(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	s := &storm{c: StormConfig{Tabs: 4, Drafts: 1, Cohorts: 1, Scenario: "restart"}}
	for _, after := range []time.Duration{3 * time.Second, time.Second, 2 * time.Second, 0} {
		tab := &stormTab{}
		if after > 0 {
			tab.current.Store(t0.Add(after).UnixNano())
		}
		s.tabs = append(s.tabs, tab)
	}
	s.refused.Store(7)
	r := s.result(t0)
	if r.CurrentP50 != 2 || r.CurrentMax != 3 || r.NotCurrent != 1 || r.RefusedDials != 7 {
		t.Errorf("result %+v: want p50 2 s, max 3 s, 1 not current, 7 refused", r)
	}
}
