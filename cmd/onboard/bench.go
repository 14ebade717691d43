package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5"
)

// benchConfig is the fanout load test's settings.
type benchConfig struct {
	DB           dbConfig
	URL          string
	Serve        bool
	Mode         string
	Clients      int
	Drafts       int
	Rate         float64
	Duration     time.Duration
	JSON         bool
	Email        string
	Password     string
	PollInterval time.Duration
	Settle       time.Duration
}

// benchResult is what one run reports (CONTRACT §6).
type benchResult struct {
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

func runBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "fanout" {
		fmt.Fprintln(stderr, "usage: onboard bench fanout [flags]   (onboard bench fanout -h lists them)")
		return errors.New("bench: want the fanout subcommand")
	}
	f := newFlags("bench fanout", "Drive the real live path (database write → trigger → NOTIFY → hub → render → WebSocket)\nand report throughput and latency.", getenv, stderr)
	var c benchConfig
	c.DB.register(f)
	f.str(&c.URL, "url", "BENCH_URL", "", "base URL of a running server (instead of -serve)")
	f.boolean(&c.Serve, "serve", "BENCH_SERVE", false, "start `onboard serve` on a free loopback port against DATABASE_URL")
	f.str(&c.Mode, "mode", "BENCH_MODE", "live", "live (WebSocket), poll (checkpoint polling with If-None-Match) or raw (bare WebSocket broadcast baseline, no database)")
	f.integer(&c.Clients, "clients", "BENCH_CLIENTS", 100, "connections (tabs)")
	f.integer(&c.Drafts, "drafts", "BENCH_DRAFTS", 10, "drafts the clients are spread over")
	var rate string
	f.str(&rate, "rate", "BENCH_RATE", "20", "mutations per second (all drafts together)")
	f.duration(&c.Duration, "duration", "BENCH_DURATION", 10*time.Second, "how long to mutate")
	f.boolean(&c.JSON, "json", "BENCH_JSON", false, "print one JSON object instead of a table")
	f.str(&c.Email, "email", "BENCH_EMAIL", "owner@acme.test", "operator who mutates (needs edit rights in acme)")
	f.str(&c.Password, "password", "BENCH_PASSWORD", "demo-password-1", "that operator's password")
	f.duration(&c.PollInterval, "poll-interval", "BENCH_POLL_INTERVAL", 5*time.Second, "poll mode: interval per client")
	f.duration(&c.Settle, "settle", "BENCH_SETTLE", 3*time.Second, "wait after the last mutation for frames in flight")
	if err := f.parse(args[1:]); err != nil {
		return err
	}
	r, err := strconv.ParseFloat(rate, 64)
	if err != nil || r <= 0 || r > 10000 {
		return fmt.Errorf("-rate %q: want a number in (0, 10000]", rate)
	}
	c.Rate = r
	switch {
	case c.Mode != "live" && c.Mode != "poll" && c.Mode != "raw":
		return fmt.Errorf("-mode %q: want live, poll or raw", c.Mode)
	case c.Clients < 1 || c.Clients > 10000:
		return errors.New("-clients: want 1..10000 (one client process; see DESIGN for the port and fd limits)")
	case c.Drafts < 1 || c.Drafts > c.Clients:
		return errors.New("-drafts: want 1..clients")
	case c.Duration <= 0 || c.Duration > time.Hour:
		return errors.New("-duration: want (0, 1h]")
	case c.Mode == "raw" && c.Clients > 9000:
		return errors.New("-clients: raw mode holds both ends of every connection in this process; at most 9000 under the 20,000 file limit")
	case c.Mode != "raw" && c.Serve == (c.URL != ""):
		return errors.New("bench: give exactly one of -serve or -url")
	}
	var res benchResult
	if c.Mode == "raw" {
		res, err = benchRaw(ctx, c)
	} else {
		res, err = benchServer(ctx, c, stderr)
	}
	if err != nil {
		return err
	}
	if c.JSON {
		enc := json.NewEncoder(stdout)
		return enc.Encode(res)
	}
	printBench(stdout, res)
	return nil
}

func printBench(w io.Writer, r benchResult) {
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

// serverStats are read from the server's /metrics before and after the run.
type serverStats struct {
	rss, goroutines, cpu, renders float64
}

func readServerStats(ctx context.Context, hc *http.Client, base string) (serverStats, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	resp, err := hc.Do(req)
	if err != nil {
		return serverStats{}, err
	}
	defer resp.Body.Close()
	var st serverStats
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			continue
		}
		switch {
		case name == "process_resident_memory_bytes":
			st.rss = v
		case name == "go_goroutines":
			st.goroutines = v
		case name == "process_cpu_seconds_total":
			st.cpu = v
		case strings.HasPrefix(name, "onboard_live_renders_total"):
			st.renders += v
		}
	}
	return st, sc.Err()
}

// startChild starts `onboard serve` on a free loopback port and returns its base URL.
func startChild(ctx context.Context, dbURL string, stderr io.Writer) (string, func(), error) {
	exe, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	cmd := exec.CommandContext(ctx, exe, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "ADDR=127.0.0.1:0", "MIGRATE=true", "DEMO=if-empty",
		"SECRET_KEY="+base64.StdEncoding.EncodeToString(key), "LOG_LEVEL=warn")
	cmd.Stderr = stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 15 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}
	urlc := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`listening on (http://\S+)`)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
			}
		}
	}()
	select {
	case u := <-urlc:
		return u, stop, nil
	case <-time.After(60 * time.Second):
		stop()
		return "", nil, errors.New("bench: the server did not start within 60s")
	case <-ctx.Done():
		stop()
		return "", nil, ctx.Err()
	}
}

var (
	reDraftID = regexp.MustCompile(`data-draft-id="([^"]+)"`)
	reVersion = regexp.MustCompile(`data-version="(\d+)"`)
)

// rootAttr returns an attribute of a fragment's root element (the first occurrence).
func rootAttr(re *regexp.Regexp, b []byte) string {
	end := bytes.IndexByte(b, '>')
	if end < 0 {
		return ""
	}
	m := re.FindSubmatch(b[:end])
	if m == nil {
		return ""
	}
	return string(m[1])
}

type benchDraft struct {
	id      string
	mu      sync.Mutex
	version int64
	sent    sync.Map // version → time the PATCH producing it was sent
	subs    int
}

func benchServer(ctx context.Context, c benchConfig, stderr io.Writer) (benchResult, error) {
	base := strings.TrimRight(c.URL, "/")
	if c.Serve {
		u, stop, err := startChild(ctx, c.DB.URL, stderr)
		if err != nil {
			return benchResult{}, err
		}
		defer stop()
		base = u
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	body, _ := json.Marshal(map[string]string{"email": c.Email, "password": c.Password})
	resp, err := hc.Post(base+"/api/v1/session", "application/json", bytes.NewReader(body))
	if err != nil {
		return benchResult{}, fmt.Errorf("sign in: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return benchResult{}, fmt.Errorf("sign in as %s: status %d", c.Email, resp.StatusCode)
	}
	bu, _ := url.Parse(base)
	cookieHeader := ""
	for _, ck := range jar.Cookies(bu) {
		cookieHeader = ck.Name + "=" + ck.Value
	}

	drafts := make([]*benchDraft, c.Drafts)
	for i := range drafts {
		tenant := newGUID()
		b, _ := json.Marshal(map[string]string{"tenant_id": tenant, "display_name": "Bench " + strconv.Itoa(i), "primary_domain": "bench" + strconv.Itoa(i) + ".healthy.test"})
		resp, err := hc.Post(base+"/api/v1/workspaces/acme/onboarding/drafts", "application/json", bytes.NewReader(b))
		if err != nil {
			return benchResult{}, err
		}
		var d struct {
			ID      string `json:"id"`
			Version int64  `json:"version"`
		}
		err = json.NewDecoder(resp.Body).Decode(&d)
		resp.Body.Close()
		if err != nil || resp.StatusCode >= 300 {
			return benchResult{}, fmt.Errorf("create draft: status %d: %v", resp.StatusCode, err)
		}
		drafts[i] = &benchDraft{id: d.ID, version: d.Version}
	}

	var db *pgx.Conn
	if c.DB.URL != "" {
		if conn, err := pgx.Connect(ctx, c.DB.URL); err == nil {
			db = conn
			defer db.Close(context.Background())
		}
	}
	xacts := func() float64 {
		if db == nil {
			return 0
		}
		var n float64
		_ = db.QueryRow(ctx, `SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()`).Scan(&n)
		return n
	}

	before, _ := readServerStats(ctx, hc, base)
	var (
		lat                       latencies
		received, dropped, resync atomic.Int64
		wg                        sync.WaitGroup
	)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := make(chan struct{}, c.Clients)

	// record handles one received fragment of draft d at version v for a client whose
	// previous version was *last.
	record := func(d *benchDraft, v int64, last *int64, at time.Time) {
		if v <= *last {
			return
		}
		if *last > 0 {
			received.Add(1)
			dropped.Add(v - *last - 1)
			if t, ok := d.sent.Load(v); ok {
				lat.add(at.Sub(t.(time.Time)))
			}
		}
		*last = v
	}

	for i := 0; i < c.Clients; i++ {
		d := drafts[i%len(drafts)]
		d.subs++
		wg.Add(1)
		switch c.Mode {
		case "live":
			go func() {
				defer wg.Done()
				var last int64
				first := true
				for runCtx.Err() == nil {
					u := strings.Replace(base, "http", "ws", 1) + "/live?draft=" + d.id + "&rev=0"
					conn, _, err := websocket.Dial(runCtx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {cookieHeader}, "Origin": {base}}})
					if err != nil {
						if runCtx.Err() == nil {
							fmt.Fprintln(stderr, "bench: dial:", err)
							time.Sleep(200 * time.Millisecond)
						}
						continue
					}
					conn.SetReadLimit(1 << 20)
					for {
						_, msg, err := conn.Read(runCtx)
						if err != nil {
							break
						}
						at := time.Now()
						if rootAttr(reDraftID, msg) != d.id {
							continue
						}
						v, _ := strconv.ParseInt(rootAttr(reVersion, msg), 10, 64)
						record(d, v, &last, at)
						if first {
							first = false
							ready <- struct{}{}
						}
					}
					conn.CloseNow()
					if runCtx.Err() == nil {
						resync.Add(1)
					}
				}
			}()
		case "poll":
			go func() {
				defer wg.Done()
				var last int64
				etag := ""
				tick := time.NewTicker(c.PollInterval)
				defer tick.Stop()
				first := true
				for {
					req, _ := http.NewRequestWithContext(runCtx, http.MethodGet, base+"/admin/workspaces/acme/onboarding/"+d.id+"/checkpoint", nil)
					req.Header.Set("Cookie", cookieHeader)
					req.Header.Set("Accept", "text/html")
					if etag != "" {
						req.Header.Set("If-None-Match", etag)
					}
					resp, err := http.DefaultClient.Do(req)
					if err == nil {
						b, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						at := time.Now()
						if resp.StatusCode == http.StatusOK {
							etag = resp.Header.Get("ETag")
							v, _ := strconv.ParseInt(rootAttr(reVersion, b), 10, 64)
							record(d, v, &last, at)
						}
						if first {
							first = false
							ready <- struct{}{}
						}
					}
					select {
					case <-runCtx.Done():
						return
					case <-tick.C:
					}
				}
			}()
		}
	}
	for i := 0; i < c.Clients; i++ {
		select {
		case <-ready:
		case <-time.After(60 * time.Second):
			return benchResult{}, fmt.Errorf("bench: only %d of %d clients got their first fragment within 60s", i, c.Clients)
		}
	}
	connected, _ := readServerStats(ctx, hc, base)

	// Mutations: each draft is written by one goroutine at a time, in turn.
	x0 := xacts()
	var mutations, mutErrors, expected atomic.Int64
	interval := time.Duration(float64(time.Second) / c.Rate)
	start := time.Now()
	tick := time.NewTicker(interval)
	var mwg sync.WaitGroup
	n := 0
	for time.Since(start) < c.Duration && ctx.Err() == nil {
		<-tick.C
		d := drafts[n%len(drafts)]
		n++
		mwg.Add(1)
		go func(seq int) {
			defer mwg.Done()
			d.mu.Lock()
			defer d.mu.Unlock()
			b, _ := json.Marshal(map[string]string{"display_name": "Bench " + strconv.Itoa(seq)})
			req, _ := http.NewRequestWithContext(ctx, http.MethodPatch, base+"/api/v1/workspaces/acme/onboarding/drafts/"+d.id, bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("If-Match", `"`+strconv.FormatInt(d.version, 10)+`"`)
			d.sent.Store(d.version+1, time.Now())
			resp, err := hc.Do(req)
			if err != nil {
				mutErrors.Add(1)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				mutErrors.Add(1)
				return
			}
			d.version++
			mutations.Add(1)
			expected.Add(int64(d.subs))
		}(n)
	}
	tick.Stop()
	mwg.Wait()
	elapsed := time.Since(start)
	x1 := xacts()
	// Let frames in flight arrive.
	deadline := time.Now().Add(c.Settle)
	for time.Now().Before(deadline) && received.Load()+dropped.Load() < expected.Load() {
		time.Sleep(20 * time.Millisecond)
	}
	after, _ := readServerStats(ctx, hc, base)
	cancel()
	wg.Wait()

	res := benchResult{
		Mode: c.Mode, Connections: c.Clients, Drafts: c.Drafts, DurationS: elapsed.Seconds(),
		Mutations: mutations.Load(), MutationErrors: mutErrors.Load(),
		FramesExpected: expected.Load(), FramesReceived: received.Load(),
		LatencyMS: lat.summary(), Dropped: dropped.Load(), Resynced: resync.Load(),
	}
	res.FramesPerS = float64(res.FramesReceived) / elapsed.Seconds()
	if res.Mutations > 0 {
		res.RendersPerMutation = (after.renders - connected.renders) / float64(res.Mutations)
	}
	res.RSSPerConnKiB = (connected.rss - before.rss) / 1024 / float64(c.Clients)
	res.GoroutinesPerConn = (connected.goroutines - before.goroutines) / float64(c.Clients)
	res.DBStatementsPerS = (x1 - x0) / elapsed.Seconds()
	if res.FramesReceived > 0 {
		res.CPUMicrosPerFrame = (after.cpu - connected.cpu) * 1e6 / float64(res.FramesReceived)
	}
	return res, nil
}

func newGUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
