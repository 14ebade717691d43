package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tenantops/onboard/internal/onboarding"
)

// benchDraft is one draft the clients watch and the mutator writes.
type benchDraft struct {
	id      string
	mu      sync.Mutex
	version int64
	sent    sync.Map // version → time the PATCH producing it was sent
	acked   sync.Map // version → time its 200 response was read (the commit acknowledged)
	subs    int
}

// server is one server process the clients are spread over.
type server struct {
	base, metricsURL string
	pid              int
	clients          int
	received         atomic.Int64
	stats            [3]serverStats // before the clients connected, once they had, after the run
	statsOK          [3]bool
}

// fanout is one run of the live or poll mode against one or more servers.
type fanout struct {
	c       Config
	stderr  io.Writer
	ws      *workspace
	servers []*server
	hc      *http.Client // mutations and sign-in
	pollHC  *http.Client // poll clients: one idle connection each, not one new connection per poll
	tokens  []string     // the session cookies' values, one per cohort (the owner's first)
	cookies []string     // the same as Cookie headers
	drafts  []*benchDraft
	errs    errorList

	lat, ackLat               latencies
	received, dropped, resync atomic.Int64
	beforeAck, bytes          atomic.Int64
	mutations, mutErrors      atomic.Int64
	skipped                   atomic.Int64 // ticks that found their draft's previous PATCH still running
	expected                  atomic.Int64
}

// runFanout creates the bench's workspace, starts or finds the servers, signs in, creates the
// drafts, connects the clients, mutates at the configured rate (or stays quiet at rate 0),
// lets frames in flight settle and reads the servers' and the database's figures around it
// all. Whatever happens, ctx cancelled (Ctrl-C) included, the workspace and everything in it
// are removed at the end.
func runFanout(ctx context.Context, c Config, stderr io.Writer) (res Result, err error) {
	f := &fanout{c: c, stderr: stderr}
	// Servers first: a server started here migrates the database the workspace goes into.
	stopServers, err := f.startServers(ctx)
	var once sync.Once
	stop := func() { once.Do(stopServers) }
	defer stop()
	if err != nil {
		return Result{}, err
	}
	if f.ws, err = newWorkspace(ctx, c.DatabaseURL, c.Cohorts); err != nil {
		return Result{}, err
	}
	fmt.Fprintf(stderr, "bench: workspace %s created\n", f.ws.Slug)
	defer func() {
		// The servers this run started stop first (each waits for its requests in flight):
		// a request of a client the run gave up on (connect timeout, Ctrl-C) could otherwise
		// save a session after the removal and leave it behind.
		stop()
		if rerr := f.ws.remove(c.DatabaseURL, f.tokens); rerr != nil {
			fmt.Fprintln(stderr, rerr)
			err = errors.Join(err, rerr)
			return
		}
		fmt.Fprintf(stderr, "bench: workspace %s and everything the run created removed\n", f.ws.Slug)
	}()
	if err := f.signIn(ctx); err != nil {
		return Result{}, err
	}
	if err := f.createDrafts(ctx); err != nil {
		return Result{}, err
	}
	return f.measure(ctx)
}

// measure runs the measured phases and computes the result.
func (f *fanout) measure(ctx context.Context) (Result, error) {
	db, err := newDBCounter(ctx, f.c.DatabaseURL)
	f.errs.add(err)
	defer db.close()
	var noTabs *float64
	if f.c.Rate == 0 {
		// Idle: the same quiet window without tabs first, so the tabs' share can be told apart
		// from the server's own background statements (session sweep, heartbeat, workers).
		f.awaitStatsFlush(ctx, db)
		fmt.Fprintf(f.stderr, "bench: quiet window without tabs (%s)\n", f.c.Duration)
		noTabs = f.quietWindow(ctx, db)
	}
	f.readStats(ctx, 0)
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	// Cancel, then wait: the clients end only once runCtx is cancelled.
	defer func() { cancel(); wg.Wait() }()
	t0 := time.Now()
	if err := f.connectClients(runCtx, &wg); err != nil {
		return Result{}, err
	}
	connectS := time.Since(t0).Seconds()
	if f.c.Rate == 0 {
		f.awaitStatsFlush(ctx, db)
	}
	f.readStats(ctx, 1)
	x0, err0 := db.read(ctx)
	if f.c.Rate == 0 {
		fmt.Fprintf(f.stderr, "bench: quiet window with %d tabs (%s)\n", f.c.Clients, f.c.Duration)
	} else {
		fmt.Fprintf(f.stderr, "bench: mutating at %v/s for %s\n", f.c.Rate, f.c.Duration)
	}
	elapsed := f.mutate(ctx)
	x1, err1 := db.read(ctx)
	settle(f.c.Settle, func() bool { return f.received.Load()+f.dropped.Load() >= f.expected.Load() })
	f.readStats(ctx, 2)
	cancel()
	if ctx.Err() != nil {
		return Result{}, ctx.Err()
	}
	res := f.result(elapsed)
	if err0 == nil && err1 == nil && db != nil {
		res.DBStatementsPerS, res.DBStatementsSource = ptr((x1-x0)/elapsed.Seconds()), db.source
	} else {
		f.errs.add(err0)
		f.errs.add(err1)
	}
	res.DBNoTabsPerS, res.ConnectS = noTabs, connectS
	res.Errors = f.errs.list()
	return res, nil
}

// statsFlush bounds how late PostgreSQL (15) counts a transaction in pg_stat_database: a
// backend reports its pending counters at most once a second and, once idle, within
// PGSTAT_IDLE_INTERVAL (10 s).
const statsFlush = 11 * time.Second

// awaitStatsFlush waits until transactions already committed (the workspace's creation, the
// tabs' sign-ins and connects) are counted, so that a quiet window counts only its own. The
// statement counts of pg_stat_statements are immediate; only xact_commit lags.
func (f *fanout) awaitStatsFlush(ctx context.Context, db *dbCounter) {
	if db == nil || db.source != sourceXacts {
		return
	}
	fmt.Fprintf(f.stderr, "bench: waiting %s for PostgreSQL's transaction counters to catch up\n", statsFlush)
	select {
	case <-ctx.Done():
	case <-time.After(statsFlush):
	}
}

// quietWindow measures the database statements per second over one Duration without tabs.
func (f *fanout) quietWindow(ctx context.Context, db *dbCounter) *float64 {
	x0, err0 := db.read(ctx)
	t0 := time.Now()
	select {
	case <-ctx.Done():
	case <-time.After(f.c.Duration):
	}
	x1, err1 := db.read(ctx)
	if err0 != nil || err1 != nil {
		return nil
	}
	return ptr((x1 - x0) / time.Since(t0).Seconds())
}

// startServers starts Processes servers (-serve) or takes the one at URL; the returned
// function stops those it started.
func (f *fanout) startServers(ctx context.Context) (func(), error) {
	if !f.c.Serve {
		f.servers = []*server{{base: strings.TrimRight(f.c.URL, "/"), metricsURL: f.c.MetricsURL}}
		return func() {}, nil
	}
	var stops []func()
	stopAll := func() {
		for _, s := range stops {
			s()
		}
	}
	for range f.c.Processes {
		child, stop, err := StartChild(ctx, f.c.DatabaseURL, f.stderr, f.c.ChildEnv...)
		if err != nil {
			return stopAll, err
		}
		stops = append(stops, stop)
		f.servers = append(f.servers, &server{base: child.URL, metricsURL: child.MetricsURL, pid: child.PID})
	}
	return stopAll, nil
}

// readStats reads every server's /metrics into slot i; a failure is reported, and the
// figures that need that slot become unavailable.
func (f *fanout) readStats(ctx context.Context, i int) {
	for _, s := range f.servers {
		st, err := readServerStats(ctx, f.hc, s.metricsURL)
		if err != nil {
			f.errs.add(fmt.Errorf("read %s: %w", s.metricsURL, err))
			continue
		}
		s.stats[i], s.statsOK[i] = st, true
	}
}

// signIn creates one session per cohort (the owner's mutates); sessions live in the shared
// database, so each works on every process.
func (f *fanout) signIn(ctx context.Context) error {
	f.hc = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	f.pollHC = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConns: f.c.Clients, MaxIdleConnsPerHost: f.c.Clients}}
	for _, email := range f.ws.Emails {
		body, _ := json.Marshal(map[string]string{"email": email, "password": f.ws.Password})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.servers[0].base+"/api/v1/session", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := f.hc.Do(req)
		if err != nil {
			return fmt.Errorf("sign in: %w", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent || len(resp.Cookies()) == 0 {
			return fmt.Errorf("sign in as %s: status %d", email, resp.StatusCode)
		}
		ck := resp.Cookies()[0]
		f.tokens, f.cookies = append(f.tokens, ck.Value), append(f.cookies, ck.Name+"="+ck.Value)
	}
	return nil
}

// createDrafts creates the drafts of new tenants in the bench's workspace.
func (f *fanout) createDrafts(ctx context.Context) error {
	f.drafts = make([]*benchDraft, f.c.Drafts)
	for i := range f.drafts {
		b, _ := json.Marshal(map[string]string{"tenant_id": onboarding.NewGUID(), "display_name": "Bench " + strconv.Itoa(i), "primary_domain": "bench" + strconv.Itoa(i) + ".healthy.test"})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.apiBase(0)+"/onboarding/drafts", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Cookie", f.cookies[0])
		resp, err := f.hc.Do(req)
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

// apiBase is the workspace's API prefix on server i (round-robin).
func (f *fanout) apiBase(i int) string {
	return f.servers[i%len(f.servers)].base + "/api/v1/workspaces/" + f.ws.Slug
}

// connectClients starts the clients, spread over the drafts and round-robin over the
// servers, until ctx ends, and waits until each has received its first fragment.
func (f *fanout) connectClients(ctx context.Context, wg *sync.WaitGroup) error {
	ready := make(chan struct{}, f.c.Clients)
	for i := 0; i < f.c.Clients; i++ {
		d := f.drafts[i%len(f.drafts)]
		s := f.servers[i%len(f.servers)]
		cookie := f.cookies[i%len(f.cookies)]
		d.subs++
		s.clients++
		wg.Add(1)
		switch f.c.Mode {
		case "live":
			go func() { defer wg.Done(); f.liveClient(ctx, s, d, cookie, ready) }()
		case "poll":
			go func() { defer wg.Done(); f.pollClient(ctx, s, d, cookie, ready) }()
		}
	}
	timeout := time.After(f.c.ConnectTimeout)
	for i := 0; i < f.c.Clients; i++ {
		select {
		case <-ready:
		case <-ctx.Done():
			return ctx.Err()
		case <-timeout:
			return fmt.Errorf("bench: only %d of %d clients got their first fragment within %s (-connect-timeout)", i, f.c.Clients, f.c.ConnectTimeout)
		}
	}
	return nil
}

// record handles one received fragment (n bytes) of draft d at version v for a client of s
// whose previous version was *last: a newer version is a frame received, and the versions
// between the two were superseded (coalesced or replaced in the queue) before it was read.
func (f *fanout) record(s *server, d *benchDraft, v int64, n int, last *int64, at time.Time) {
	if v <= *last {
		return
	}
	if *last > 0 {
		f.received.Add(1)
		s.received.Add(1)
		f.bytes.Add(int64(n))
		f.dropped.Add(v - *last - 1)
		if t, ok := d.sent.Load(v); ok {
			f.lat.add(at.Sub(t.(time.Time)))
		}
		if t, ok := d.acked.Load(v); ok {
			f.ackLat.add(at.Sub(t.(time.Time)))
		} else if _, sent := d.sent.Load(v); sent {
			// The frame arrived before the PATCH's response was read: counted, and as 0 ms.
			f.beforeAck.Add(1)
			f.ackLat.add(0)
		}
	}
	*last = v
}
