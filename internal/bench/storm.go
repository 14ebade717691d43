package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/live"
)

// `onboard bench storm`: what a deploy (or a lost listener) costs when many tabs are open.
// Tabs watch drafts over /live; the server is stopped (SIGTERM), every draft changes while
// it is down, and the server starts again on the same address; the tabs reconnect as a good
// browser does (full jitter in [0, 1 s), backing off up to 2 s) and the storm ends when
// every tab shows its draft's new version. With -scenario listener the server keeps running
// and its listener's database connection is cut instead (the tabs stay connected; the hub
// resyncs every draft). The report: how long after the restart (or the cut) each tab was
// current, the dials refused on the way, and what the database and the server did for it.

// StormConfig is one storm.
type StormConfig struct {
	DatabaseURL string
	Tabs        int
	Drafts      int
	Cohorts     int
	Scenario    string        // "restart" or "listener"
	Timeout     time.Duration // give up when the tabs are not all current within it
	ChildEnv    []string      // extra environment for the server
}

// Validate checks the figures.
func (c StormConfig) Validate() error {
	switch {
	case c.DatabaseURL == "":
		return errors.New("bench storm: DATABASE_URL (-database-url) is required")
	case c.Tabs < 1 || c.Tabs > 100_000:
		return fmt.Errorf("-tabs %d: want 1..100000", c.Tabs)
	case c.Drafts < 1 || c.Drafts > c.Tabs:
		return fmt.Errorf("-drafts %d: want 1..tabs", c.Drafts)
	case c.Cohorts < 1 || c.Cohorts > len(cohortRoles):
		return fmt.Errorf("-cohorts %d: want 1..%d", c.Cohorts, len(cohortRoles))
	case c.Scenario != "restart" && c.Scenario != "listener":
		return fmt.Errorf("-scenario %q: want restart or listener", c.Scenario)
	case c.Timeout <= 0:
		return errors.New("-timeout: want a positive duration")
	}
	return nil
}

// StormResult is what a storm cost.
type StormResult struct {
	Scenario string `json:"scenario"`
	Tabs     int    `json:"tabs"`
	Drafts   int    `json:"drafts"`
	Cohorts  int    `json:"cohorts"`
	// Seconds from the restarted server listening (or the listener cut) until each tab
	// showed its draft's new version.
	CurrentP50 float64 `json:"current_p50_s"`
	CurrentP99 float64 `json:"current_p99_s"`
	CurrentMax float64 `json:"current_max_s"`
	NotCurrent int     `json:"not_current"` // tabs still behind when the storm gave up
	// RefusedDials: reconnects refused (nothing listening, 503 while shutting down, a
	// close before the first frame); each was retried.
	RefusedDials int64            `json:"refused_dials"`
	Refusals     map[string]int64 `json:"refusals,omitempty"` // by why: "dial" (no answer, or an HTTP refusal), "close N"
	// Transactions the database committed or rolled back from the restart (or the cut) until
	// every tab was current (pg_stat_database; statements instead with pg_stat_statements).
	DBWork       float64 `json:"db_work"`
	DBWorkSource string  `json:"db_work_source"`
	// From the server's /metrics over the same span: snapshot queries (hub loads) and
	// renders, and the session cache's lookups.
	SnapshotQueries float64  `json:"snapshot_queries"`
	Renders         float64  `json:"renders"`
	SessionHits     float64  `json:"session_cache_hits"`
	SessionMisses   float64  `json:"session_cache_misses"`
	PaceWait        float64  `json:"load_pace_wait_s"` // seconds the loads waited for the load pace, in all
	Errors          []string `json:"errors,omitempty"`
}

// stormTab is one tab: its draft, and when it showed the draft's version target.
type stormTab struct {
	d       *benchDraft
	cookie  string
	shown   atomic.Int64 // the newest version received
	current atomic.Int64 // unix nanoseconds when shown reached target; 0 before
}

type storm struct {
	c       StormConfig
	stderr  io.Writer
	f       *fanout // the workspace, sessions and drafts, as fanout makes them
	base    string  // the server's base URL (the same across the restart)
	tabs    []*stormTab
	target  sync.Map // draft id → the version every tab must show
	refused atomic.Int64
	reasons sync.Map // why a reconnect was refused ("dial", "close 1001", …) → *atomic.Int64
}

// RunStorm runs one storm; the workspace and everything in it are removed at the end.
func RunStorm(ctx context.Context, c StormConfig, stderr io.Writer) (res StormResult, err error) {
	if err := c.Validate(); err != nil {
		return StormResult{}, err
	}
	fc := Config{DatabaseURL: c.DatabaseURL, Serve: true, Processes: 1, Clients: c.Tabs, Drafts: c.Drafts, Cohorts: c.Cohorts,
		ChildEnv: c.ChildEnv}
	s := &storm{c: c, stderr: stderr, f: &fanout{c: fc, stderr: stderr}}
	child, stop, err := StartChild(ctx, c.DatabaseURL, stderr, c.ChildEnv...)
	if err != nil {
		return StormResult{}, err
	}
	var stopMu sync.Mutex
	stopServer := func() {
		stopMu.Lock()
		defer stopMu.Unlock()
		if stop != nil {
			stop()
			stop = nil
		}
	}
	defer stopServer()
	s.base = child.URL
	s.f.servers = []*server{{base: child.URL, metricsURL: child.MetricsURL, pid: child.PID}}
	if s.f.ws, err = newWorkspace(ctx, c.DatabaseURL, c.Cohorts); err != nil {
		return StormResult{}, err
	}
	defer func() {
		stopServer()
		if rerr := s.f.ws.remove(c.DatabaseURL, s.f.tokens); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}()
	if err := s.f.signIn(ctx); err != nil {
		return StormResult{}, err
	}
	if err := s.f.createDrafts(ctx); err != nil {
		return StormResult{}, err
	}

	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	if err := s.connect(runCtx, &wg); err != nil {
		return StormResult{}, err
	}
	fmt.Fprintf(stderr, "bench: %d tabs on %d drafts in %d cohorts connected\n", c.Tabs, c.Drafts, c.Cohorts)

	db, err := newDBCounter(ctx, c.DatabaseURL)
	if err != nil {
		return StormResult{}, err
	}
	defer db.close()
	var t0 time.Time
	var before serverStats
	var x0 float64
	switch c.Scenario {
	case "restart":
		fmt.Fprintln(stderr, "bench: stopping the server (SIGTERM)")
		stopServer()
		if err := s.changeAll(ctx); err != nil {
			return StormResult{}, err
		}
		s.f.awaitStatsFlush(ctx, db)
		x0, _ = db.read(ctx)
		env := append(slices.Clone(c.ChildEnv), "ADDR="+strings.TrimPrefix(s.base, "http://"))
		child, stop2, err := StartChild(ctx, c.DatabaseURL, stderr, env...)
		if err != nil {
			return StormResult{}, fmt.Errorf("restart: %w", err)
		}
		t0 = time.Now()
		s.refused.Store(0) // the dials refused while the server was down are not the storm's
		s.reasons.Clear()
		stopMu.Lock()
		stop = stop2
		stopMu.Unlock()
		s.f.servers[0].metricsURL = child.MetricsURL
		fmt.Fprintln(stderr, "bench: server restarted")
	case "listener":
		if before, err = readServerStats(ctx, s.f.hc, child.MetricsURL); err != nil {
			return StormResult{}, err
		}
		s.f.awaitStatsFlush(ctx, db)
		x0, _ = db.read(ctx)
		t0 = time.Now()
		if err := cutListener(ctx, c.DatabaseURL); err != nil {
			return StormResult{}, err
		}
		if err := s.changeAll(ctx); err != nil {
			return StormResult{}, err
		}
		fmt.Fprintln(stderr, "bench: listener cut, drafts changed")
	}

	deadline := time.After(c.Timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
wait:
	for s.behind() > 0 {
		select {
		case <-ctx.Done():
			return StormResult{}, ctx.Err()
		case <-deadline:
			break wait
		case <-tick.C:
		}
	}
	res = s.result(t0)
	s.f.awaitStatsFlush(ctx, db)
	if x1, err := db.read(ctx); err == nil {
		res.DBWork, res.DBWorkSource = x1-x0, db.source
	}
	after, err := readServerStats(ctx, s.f.hc, s.f.servers[0].metricsURL)
	if err != nil {
		res.Errors = append(res.Errors, err.Error())
	} else {
		res.SnapshotQueries, res.Renders = after.loads-before.loads, after.renders-before.renders
		res.SessionHits, res.SessionMisses = after.sessionHits-before.sessionHits, after.sessionMisses-before.sessionMisses
		res.PaceWait = after.paceWait - before.paceWait
	}
	res.Errors = append(res.Errors, s.f.errs.list()...)
	return res, nil
}

// connect starts the tabs (tab i on draft i mod drafts, in cohort i mod cohorts) and waits
// until each has its first fragment.
func (s *storm) connect(ctx context.Context, wg *sync.WaitGroup) error {
	s.tabs = make([]*stormTab, s.c.Tabs)
	ready := make(chan struct{}, s.c.Tabs)
	for i := range s.tabs {
		t := &stormTab{d: s.f.drafts[i%len(s.f.drafts)], cookie: s.f.cookies[i%len(s.f.cookies)]}
		s.tabs[i] = t
		wg.Go(func() { s.tab(ctx, t, ready) })
	}
	timeout := time.After(s.c.Timeout)
	for i := range s.c.Tabs {
		select {
		case <-ready:
		case <-ctx.Done():
			return ctx.Err()
		case <-timeout:
			return fmt.Errorf("bench: only %d of %d tabs got their first fragment within %s", i, s.c.Tabs, s.c.Timeout)
		}
	}
	return nil
}

// tab keeps one /live socket on its draft until ctx ends, reconnecting as live.js does:
// a random wait in [0, backoff), backoff doubling from 1 s up to 2 s, back to 1 s once a
// frame arrived. It asks for the version it last showed (rev=0 the first time: the hub
// sends what is current).
func (s *storm) tab(ctx context.Context, t *stormTab, ready chan<- struct{}) {
	backoff := time.Second
	first := true
	ws := strings.Replace(s.base, "http", "ws", 1)
	for ctx.Err() == nil {
		conn, _, err := websocket.Dial(ctx, ws+"/live?draft="+t.d.id+"&rev=0&delta=1",
			&websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {t.cookie}, "Origin": {s.base}}})
		got := false
		why := "dial"
		if err == nil {
			conn.SetReadLimit(1 << 20)
			for {
				_, msg, err := conn.Read(ctx)
				if err != nil {
					why = fmt.Sprintf("close %d", websocket.CloseStatus(err))
					break
				}
				for _, frag := range live.SplitBatch(msg) {
					if rootAttr(attrDraftID, frag) != t.d.id {
						continue
					}
					v, _ := strconv.ParseInt(rootAttr(attrVersion, frag), 10, 64)
					s.shown(t, v)
					got = true
				}
				if got && first {
					first = false
					ready <- struct{}{}
				}
				if got {
					backoff = time.Second
				}
			}
			conn.CloseNow()
		}
		if ctx.Err() != nil {
			return
		}
		if !got {
			s.refused.Add(1)
			n, _ := s.reasons.LoadOrStore(why, new(atomic.Int64))
			n.(*atomic.Int64).Add(1)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(rand.N(backoff)):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// shown records that t received version v of its draft.
func (s *storm) shown(t *stormTab, v int64) {
	if v <= t.shown.Load() {
		return
	}
	t.shown.Store(v)
	if target, ok := s.target.Load(t.d.id); ok && v >= target.(int64) && t.current.Load() == 0 {
		t.current.Store(time.Now().UnixNano())
	}
}

// changeAll changes every draft (a new display name, a new version) straight in the
// database, the server being down, and sets the versions the tabs must reach.
func (s *storm) changeAll(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.c.DatabaseURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	ids := make([]string, len(s.f.drafts))
	for i, d := range s.f.drafts {
		ids[i] = d.id
	}
	rows, err := conn.Query(ctx, `UPDATE managed_tenant_onboarding_sessions
		SET display_name = display_name || ' (storm)', version = version + 1, updated_at = now()
		WHERE id = ANY($1::uuid[]) RETURNING id::text, version`, ids)
	if err != nil {
		return fmt.Errorf("change the drafts: %w", err)
	}
	n := 0
	for rows.Next() {
		var id string
		var v int64
		if err := rows.Scan(&id, &v); err != nil {
			return err
		}
		s.target.Store(id, v)
		n++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n != len(ids) {
		return fmt.Errorf("changed %d of %d drafts", n, len(ids))
	}
	// A tab that already showed the new version (listener scenario: a frame in flight).
	for _, t := range s.tabs {
		s.shown(t, 0)
	}
	return nil
}

// behind counts the tabs not yet current.
func (s *storm) behind() int {
	n := 0
	for _, t := range s.tabs {
		if t.current.Load() == 0 {
			n++
		}
	}
	return n
}

func (s *storm) result(t0 time.Time) StormResult {
	res := StormResult{Scenario: s.c.Scenario, Tabs: s.c.Tabs, Drafts: s.c.Drafts, Cohorts: s.c.Cohorts,
		RefusedDials: s.refused.Load(), Refusals: map[string]int64{}}
	s.reasons.Range(func(k, v any) bool {
		res.Refusals[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	var ds []float64
	for _, t := range s.tabs {
		at := t.current.Load()
		if at == 0 {
			res.NotCurrent++
			continue
		}
		ds = append(ds, max(0, time.Unix(0, at).Sub(t0).Seconds()))
	}
	slices.Sort(ds)
	if len(ds) > 0 {
		q := func(p float64) float64 { return ds[min(len(ds)-1, int(p*float64(len(ds))))] }
		res.CurrentP50, res.CurrentP99, res.CurrentMax = q(0.50), q(0.99), ds[len(ds)-1]
	}
	return res
}

// cutListener terminates the server's LISTEN connection: the backend whose last query was
// its LISTEN.
func cutListener(ctx context.Context, dbURL string) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var n int
	err = conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query ILIKE 'listen%' AND pid <> pg_backend_pid()`).Scan(&n)
	if err != nil {
		return fmt.Errorf("cut the listener: %w", err)
	}
	if n == 0 {
		return errors.New("cut the listener: no listening backend found")
	}
	return nil
}

// PrintStorm writes r as a table.
func PrintStorm(w io.Writer, r StormResult) {
	fmt.Fprintf(w, "storm (%s): %d tabs on %d drafts in %d cohorts\n", r.Scenario, r.Tabs, r.Drafts, r.Cohorts)
	fmt.Fprintf(w, "  every tab current after the %s: p50 %.2f s, p99 %.2f s, max %.2f s (%d not current)\n",
		map[string]string{"restart": "restart", "listener": "listener cut"}[r.Scenario], r.CurrentP50, r.CurrentP99, r.CurrentMax, r.NotCurrent)
	fmt.Fprintf(w, "  refused dials %d %v\n", r.RefusedDials, r.Refusals)
	fmt.Fprintf(w, "  database: %.0f %s\n", r.DBWork, dbUnit(r.DBWorkSource))
	fmt.Fprintf(w, "  server: %.0f snapshot queries (drafts × cohorts = %d), %.0f renders, session cache %.0f hits / %.0f misses, loads waited %.1f s for the load pace in all\n",
		r.SnapshotQueries, r.Drafts*r.Cohorts, r.Renders, r.SessionHits, r.SessionMisses, r.PaceWait)
	for _, e := range r.Errors {
		fmt.Fprintln(w, "  error:", e)
	}
}
