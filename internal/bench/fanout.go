package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/live"
	"github.com/tenantops/onboard/internal/onboarding"
)

// benchDraft is one draft the clients watch and the mutator writes.
type benchDraft struct {
	id      string
	mu      sync.Mutex
	version int64
	sent    sync.Map // version → time the PATCH producing it was sent
	subs    int
}

// fanout is one run of the live or poll mode against a server.
type fanout struct {
	c      Config
	stderr io.Writer
	base   string
	hc     *http.Client
	cookie string // the session cookie, as a Cookie header
	drafts []*benchDraft
	db     *pgx.Conn // nil: no transaction counts

	lat                       latencies
	received, dropped, resync atomic.Int64
	mutations, mutErrors      atomic.Int64
	expected                  atomic.Int64
}

// runFanout signs in, creates the drafts, connects the clients, mutates at the configured
// rate, lets frames in flight settle, and reads the server's figures around it all.
func runFanout(ctx context.Context, c Config, stderr io.Writer) (Result, error) {
	f := &fanout{c: c, stderr: stderr, base: strings.TrimRight(c.URL, "/")}
	metricsURL := c.MetricsURL
	if c.Serve {
		child, stop, err := StartChild(ctx, c.DatabaseURL, stderr)
		u, mu := child.URL, child.MetricsURL
		if err != nil {
			return Result{}, err
		}
		defer stop()
		f.base, metricsURL = u, mu
	}
	if err := f.signIn(); err != nil {
		return Result{}, err
	}
	if err := f.createDrafts(); err != nil {
		return Result{}, err
	}
	if c.DatabaseURL != "" {
		if conn, err := pgx.Connect(ctx, c.DatabaseURL); err == nil {
			f.db = conn
			defer f.db.Close(context.Background())
		}
	}

	before, _ := readServerStats(ctx, f.hc, metricsURL)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	if err := f.connectClients(runCtx, &wg); err != nil {
		return Result{}, err
	}
	connected, _ := readServerStats(ctx, f.hc, metricsURL)

	x0 := f.xacts(ctx)
	elapsed := f.mutate(ctx)
	x1 := f.xacts(ctx)
	settle(c.Settle, func() bool { return f.received.Load()+f.dropped.Load() >= f.expected.Load() })
	after, _ := readServerStats(ctx, f.hc, metricsURL)
	cancel()
	wg.Wait()
	return f.result(elapsed, before, connected, after, x1-x0), nil
}

// signIn creates the session the clients and the mutator share.
func (f *fanout) signIn() error {
	jar, _ := cookiejar.New(nil)
	f.hc = &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	body, _ := json.Marshal(map[string]string{"email": f.c.Email, "password": f.c.Password})
	resp, err := f.hc.Post(f.base+"/api/v1/session", "application/json", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("sign in as %s: status %d", f.c.Email, resp.StatusCode)
	}
	bu, _ := url.Parse(f.base)
	for _, ck := range jar.Cookies(bu) {
		f.cookie = ck.Name + "=" + ck.Value
	}
	return nil
}

// createDrafts creates the drafts of new tenants in acme.
func (f *fanout) createDrafts() error {
	f.drafts = make([]*benchDraft, f.c.Drafts)
	for i := range f.drafts {
		b, _ := json.Marshal(map[string]string{"tenant_id": onboarding.NewGUID(), "display_name": "Bench " + strconv.Itoa(i), "primary_domain": "bench" + strconv.Itoa(i) + ".healthy.test"})
		resp, err := f.hc.Post(f.base+"/api/v1/workspaces/acme/onboarding/drafts", "application/json", bytes.NewReader(b))
		if err != nil {
			return err
		}
		var d struct {
			ID      string `json:"id"`
			Version int64  `json:"version"`
		}
		err = json.NewDecoder(resp.Body).Decode(&d)
		resp.Body.Close()
		if err != nil || resp.StatusCode >= 300 {
			return fmt.Errorf("create draft: status %d: %v", resp.StatusCode, err)
		}
		f.drafts[i] = &benchDraft{id: d.ID, version: d.Version}
	}
	return nil
}

// xacts reads the database's committed and rolled back transactions (0 without a database).
func (f *fanout) xacts(ctx context.Context) float64 {
	if f.db == nil {
		return 0
	}
	var n float64
	_ = f.db.QueryRow(ctx, `SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()`).Scan(&n)
	return n
}

// connectClients starts the clients, spread over the drafts, until ctx ends, and waits until
// each has received its first fragment.
func (f *fanout) connectClients(ctx context.Context, wg *sync.WaitGroup) error {
	ready := make(chan struct{}, f.c.Clients)
	for i := 0; i < f.c.Clients; i++ {
		d := f.drafts[i%len(f.drafts)]
		d.subs++
		wg.Add(1)
		switch f.c.Mode {
		case "live":
			go func() { defer wg.Done(); f.liveClient(ctx, d, ready) }()
		case "poll":
			go func() { defer wg.Done(); f.pollClient(ctx, d, ready) }()
		}
	}
	for i := 0; i < f.c.Clients; i++ {
		select {
		case <-ready:
		case <-time.After(60 * time.Second):
			return fmt.Errorf("bench: only %d of %d clients got their first fragment within 60s", i, f.c.Clients)
		}
	}
	return nil
}

// record handles one received fragment of draft d at version v for a client whose previous
// version was *last.
func (f *fanout) record(d *benchDraft, v int64, last *int64, at time.Time) {
	if v <= *last {
		return
	}
	if *last > 0 {
		f.received.Add(1)
		f.dropped.Add(v - *last - 1)
		if t, ok := d.sent.Load(v); ok {
			f.lat.add(at.Sub(t.(time.Time)))
		}
	}
	*last = v
}

// liveClient watches d over /live, reconnecting (a resync) until ctx ends.
func (f *fanout) liveClient(ctx context.Context, d *benchDraft, ready chan<- struct{}) {
	var last int64
	first := true
	for ctx.Err() == nil {
		u := strings.Replace(f.base, "http", "ws", 1) + "/live?draft=" + d.id + "&rev=0"
		conn, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {f.cookie}, "Origin": {f.base}}})
		if err != nil {
			if ctx.Err() == nil {
				fmt.Fprintln(f.stderr, "bench: dial:", err)
				time.Sleep(200 * time.Millisecond)
			}
			continue
		}
		conn.SetReadLimit(1 << 20)
		for {
			_, msg, err := conn.Read(ctx)
			if err != nil {
				break
			}
			at := time.Now()
			got := false
			for _, frag := range live.SplitBatch(msg) {
				if rootAttr(reDraftID, frag) != d.id {
					continue
				}
				v, _ := strconv.ParseInt(rootAttr(reVersion, frag), 10, 64)
				f.record(d, v, &last, at)
				got = true
			}
			if got && first {
				first = false
				ready <- struct{}{}
			}
		}
		conn.CloseNow()
		if ctx.Err() == nil {
			f.resync.Add(1)
		}
	}
}

// pollClient polls d's checkpoint fragment with If-None-Match every PollInterval until ctx ends.
func (f *fanout) pollClient(ctx context.Context, d *benchDraft, ready chan<- struct{}) {
	var last int64
	etag := ""
	tick := time.NewTicker(f.c.PollInterval)
	defer tick.Stop()
	first := true
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.base+"/admin/workspaces/acme/onboarding/"+d.id+"/checkpoint", nil)
		req.Header.Set("Cookie", f.cookie)
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
				f.record(d, v, &last, at)
			}
			if first {
				first = false
				ready <- struct{}{}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// mutate renames the drafts in turn at the configured rate for the configured duration and
// returns how long it took. Each draft is written by one goroutine at a time.
func (f *fanout) mutate(ctx context.Context) time.Duration {
	interval := time.Duration(float64(time.Second) / f.c.Rate)
	start := time.Now()
	tick := time.NewTicker(interval)
	var mwg sync.WaitGroup
	n := 0
	for time.Since(start) < f.c.Duration && ctx.Err() == nil {
		<-tick.C
		d := f.drafts[n%len(f.drafts)]
		n++
		mwg.Add(1)
		go func(seq int) {
			defer mwg.Done()
			f.rename(ctx, d, seq)
		}(n)
	}
	tick.Stop()
	mwg.Wait()
	return time.Since(start)
}

// rename PATCHes d's display name at its current version.
func (f *fanout) rename(ctx context.Context, d *benchDraft, seq int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	b, _ := json.Marshal(map[string]string{"display_name": "Bench " + strconv.Itoa(seq)})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPatch, f.base+"/api/v1/workspaces/acme/onboarding/drafts/"+d.id, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("If-Match", `"`+strconv.FormatInt(d.version, 10)+`"`)
	d.sent.Store(d.version+1, time.Now())
	resp, err := f.hc.Do(req)
	if err != nil {
		f.mutErrors.Add(1)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		f.mutErrors.Add(1)
		return
	}
	d.version++
	f.mutations.Add(1)
	f.expected.Add(int64(d.subs))
}

// result computes the report from the counters and the server's figures before the clients
// connected, once they had, and after the run.
func (f *fanout) result(elapsed time.Duration, before, connected, after serverStats, xacts float64) Result {
	c := f.c
	res := Result{
		Mode: c.Mode, Connections: c.Clients, Drafts: c.Drafts, DurationS: elapsed.Seconds(),
		Mutations: f.mutations.Load(), MutationErrors: f.mutErrors.Load(),
		FramesExpected: f.expected.Load(), FramesReceived: f.received.Load(),
		LatencyMS: f.lat.summary(), Dropped: f.dropped.Load(), Resynced: f.resync.Load(),
	}
	res.FramesPerS = float64(res.FramesReceived) / elapsed.Seconds()
	if res.Mutations > 0 {
		res.RendersPerMutation = (after.renders - connected.renders) / float64(res.Mutations)
	}
	res.RSSPerConnKiB = (connected.rss - before.rss) / 1024 / float64(c.Clients)
	res.GoroutinesPerConn = (connected.goroutines - before.goroutines) / float64(c.Clients)
	res.DBStatementsPerS = xacts / elapsed.Seconds()
	if res.FramesReceived > 0 {
		res.CPUMicrosPerFrame = (after.cpu - connected.cpu) * 1e6 / float64(res.FramesReceived)
	}
	return res
}
