package main

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/liveedge"
	"github.com/tenantops/onboard/internal/postgres"
	"github.com/tenantops/onboard/internal/postgres/pgtest"
	"github.com/tenantops/onboard/internal/testkit"
)

// tabWatch is one open tab: a /live socket subscribed to drafts, remembering the newest
// version (and rev) it was sent of each. A tab must never be sent an older version after a
// newer one. Like live.js, it reconnects after a close that is not final (1013 for a reader
// that fell behind, 1001, 1011, a dropped connection), sending the revs it shows, and counts
// those reconnections; a final close (1008, 4401, 4403, 4404) is an error.
type tabWatch struct {
	mu         sync.Mutex
	shown      map[string]int64 // draft id → newest version received
	revs       map[string]int64 // draft id → newest rev received
	backwards  int              // fragments older than the one shown
	frames     int
	reconnects map[string]int // by the close code that caused them
	err        error          // a final close
}

var revRE = regexp.MustCompile(`data-rev="(\d+)"`)

// watchTab opens a tab on ids as c and reads it until ctx ends.
func watchTab(t *testing.T, ctx context.Context, base string, c *http.Client, ids []string) *tabWatch {
	w := &tabWatch{shown: map[string]int64{}, revs: map[string]int64{}, reconnects: map[string]int{}}
	conn := mustDial(t, base, c, w.query(ids))
	go func() {
		for {
			code := w.read(ctx, conn)
			conn.CloseNow()
			if ctx.Err() != nil {
				return
			}
			switch code {
			case websocket.StatusPolicyViolation, 4401, 4403, 4404:
				w.mu.Lock()
				w.err = fmt.Errorf("socket closed %d", code)
				w.mu.Unlock()
				return
			}
			w.mu.Lock()
			w.reconnects[strconv.Itoa(int(code))]++
			w.mu.Unlock()
			for conn = nil; conn == nil; {
				time.Sleep(100 * time.Millisecond) // live.js backs off too
				if ctx.Err() != nil {
					return
				}
				dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				conn, _, _ = websocket.Dial(dctx, "ws"+strings.TrimPrefix(base, "http")+"/live?"+w.query(ids),
					&websocket.DialOptions{HTTPClient: c, HTTPHeader: http.Header{"Origin": {base}}})
				cancel()
			}
		}
	}()
	return w
}

// query subscribes to ids with the revs the tab shows.
func (w *tabWatch) query(ids []string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var q []string
	for _, id := range ids {
		q = append(q, fmt.Sprintf("draft=%s&rev=%d", id, w.revs[id]))
	}
	return strings.Join(q, "&")
}

// read records frames until the socket ends and returns its close code (-1: none).
func (w *tabWatch) read(ctx context.Context, conn *websocket.Conn) websocket.StatusCode {
	conn.SetReadLimit(4 << 20)
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			return websocket.CloseStatus(err)
		}
		w.mu.Lock()
		w.frames++
		w.backwards += recordShown(b, w.shown, w.revs)
		w.mu.Unlock()
	}
}

// tabReconnects adds up the tabs' reconnections by close code.
func tabReconnects(tabs []*tabWatch) map[string]int {
	all := map[string]int{}
	for _, tab := range tabs {
		for code, n := range tab.reconnected() {
			all[code] += n
		}
	}
	return all
}

// reconnected returns the reconnections by close code.
func (w *tabWatch) reconnected() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.reconnects)
}

// counts returns the frames received and the fragments older than one shown.
func (w *tabWatch) counts() (frames, backwards int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.frames, w.backwards
}

// behind returns a draft the tab shows older than want, or "" when it shows every one.
func (w *tabWatch) behind(want map[string]int64) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return shownBehind(w.shown, want), w.err
}

// recordShown reads the draft fragments of a frame (or a poll's answer) into shown and revs,
// the newest version and rev of each draft, and returns how many were older than shown.
func recordShown(frame []byte, shown, revs map[string]int64) (backwards int) {
	for _, f := range fragments(frame) {
		id, v, r := draftIDRE.FindSubmatch(f), versionRE.FindSubmatch(f), revRE.FindSubmatch(f)
		if id == nil || v == nil || r == nil {
			continue
		}
		n, _ := strconv.ParseInt(string(v[1]), 10, 64)
		rev, _ := strconv.ParseInt(string(r[1]), 10, 64)
		if n < shown[string(id[1])] {
			backwards++
		}
		shown[string(id[1])] = max(shown[string(id[1])], n)
		revs[string(id[1])] = max(revs[string(id[1])], rev)
	}
	return backwards
}

// shownBehind names a draft shown older than want, or "" when every one is current.
func shownBehind(shown, want map[string]int64) string {
	for id, v := range want {
		if shown[id] < v {
			return fmt.Sprintf("%s: shows v%d, want v%d", id, shown[id], v)
		}
	}
	return ""
}

// watcher is a tab a fault test watches: a /live socket (tabWatch) or a Chromium tab
// (browserTab).
type watcher interface {
	// behind names a draft shown older than want ("" when none) and reports a tab that
	// broke.
	behind(want map[string]int64) (string, error)
}

// browserTab is a Chromium tab on the drafts list, whose rows live.js keeps current.
type browserTab struct{ p *page }

func (b browserTab) behind(want map[string]int64) (string, error) {
	shown := eval[map[string]int64](b.p, `Object.fromEntries([...document.querySelectorAll('[data-live=row]')]
		.map(r => [r.dataset.draftId, Number(r.dataset.version)]))`)
	if st := eval[string](b.p, `window.liveConsole?.state() || ''`); st != "live" {
		return "", fmt.Errorf("live.js is %q, want live", st)
	}
	for id, v := range want {
		if shown[id] < v {
			return fmt.Sprintf("%s: the row shows v%d, want v%d", id, shown[id], v), nil
		}
	}
	return "", nil
}

// converge waits until every tab shows at least want, within d, and returns how long it took.
func converge[W watcher](tabs []W, want map[string]int64, d time.Duration) (time.Duration, error) {
	start := time.Now()
	for {
		lag := ""
		for i, tab := range tabs {
			b, err := tab.behind(want)
			if err != nil {
				return 0, fmt.Errorf("tab %d: %w", i, err)
			}
			if b != "" && lag == "" {
				lag = fmt.Sprintf("tab %d %s", i, b)
			}
		}
		if lag == "" {
			return time.Since(start), nil
		}
		if time.Since(start) > d {
			return 0, fmt.Errorf("not converged within %v: %s", d, lag)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// draftVersions reads the drafts' versions straight from the database (not through a proxy).
func draftVersions(t *testing.T, db *postgres.DB, ids []string) map[string]int64 {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), `SELECT id::text, version FROM managed_tenant_onboarding_sessions WHERE id = ANY($1)`, ids)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var v int64
		if err := rows.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		out[id] = v
	}
	if err := rows.Err(); err != nil || len(out) != len(ids) {
		t.Fatalf("draft versions: %v (%d of %d)", err, len(out), len(ids))
	}
	return out
}

// metricsClient leaves no connection (and no goroutine) behind, for tests that count them.
var metricsClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// metricValue reads one sample of a /metrics page (0 when absent).
func metricValue(t *testing.T, metricsURL, name string) float64 {
	t.Helper()
	_, body, _ := get(t, metricsClient, metricsURL, "")
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return 0
	}
	f, _ := strconv.ParseFloat(m[1], 64)
	return f
}

var (
	unexpectedStatusRE = regexp.MustCompile(`unexpected status (\d+)`)
	bodyStatusRE       = regexp.MustCompile(`^status (\d+), body`)
)

// outageLog records what the writers saw go wrong and when.
type outageLog struct {
	mu     sync.Mutex
	errors map[string]int  // by kind: an HTTP status or "transport"
	at     []time.Duration // when each failed call returned, since the history's start
	what   []string        // and its error
}

func (o *outageLog) add(err error, at time.Duration) {
	kind := "transport"
	if m := unexpectedStatusRE.FindStringSubmatch(err.Error()); m != nil {
		kind = m[1]
	} else if m := bodyStatusRE.FindStringSubmatch(err.Error()); m != nil {
		kind = m[1] + " (body cut short)"
	}
	o.mu.Lock()
	o.errors[kind]++
	o.at = append(o.at, at)
	o.what = append(o.what, err.Error())
	o.mu.Unlock()
}

// outageRig is how a test takes PostgreSQL away and brings it back.
type outageRig struct {
	appURL   string              // the app's DATABASE_URL
	direct   func() *postgres.DB // a pool that reaches the database once it is back
	cut      func(t *testing.T)  // PostgreSQL goes away
	restore  func(t *testing.T)  // PostgreSQL is back (accepting connections) when it returns
	describe func() string       // what the faults did, for the log
}

// An outage test's timing: writing with the database up before each outage, the outage,
// writing after the last recovery (at least; then until a write is applied, within
// outageCatchUp), the errors allowed after a recovery, the bound on the tabs' catch-up.
const (
	outageBefore  = 1500 * time.Millisecond
	outageLength  = 2 * time.Second
	outageAfter   = 2 * time.Second
	outageGrace   = 1500 * time.Millisecond
	outageCatchUp = 10 * time.Second
)

// outageWindow is one outage, in time since the history's start.
type outageWindow struct{ cut, restored time.Duration }

// outageWorkload is the clients of an outage test: writers and readers over the API with
// If-Match (a linearizability history), tabs on /live and a Chromium tab on the drafts list.
type outageWorkload struct {
	ids     []string
	sockets []*tabWatch
	tabs    []watcher // the sockets and the browser
	start   time.Time
	stop    atomic.Bool
	wg      sync.WaitGroup
	mu      sync.Mutex
	history []porcupine.Operation
	log     *outageLog
	// restored is when the database last came back, and appliedAfter the writes applied
	// that were sent after it (time since start, as the history's Call).
	restored     atomic.Int64
	appliedAfter atomic.Int64
}

// recovered notes that the database came back at d (since start).
func (w *outageWorkload) recovered(d time.Duration) {
	w.restored.Store(d.Nanoseconds())
	w.appliedAfter.Store(0)
}

// writeApplied waits until a write sent after the last recovery was applied, at most d
// (checkOutageHistory then reports it if none was).
func (w *outageWorkload) writeApplied(d time.Duration) {
	for deadline := time.Now().Add(d); w.appliedAfter.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
}

// startOutageWorkload signs in, creates drafts, opens the tabs and starts the clients.
func startOutageWorkload(t *testing.T, ctx context.Context, base string, total time.Duration) *outageWorkload {
	const clients, drafts = 6, 3
	tr := &http.Transport{MaxIdleConns: 2 * clients, MaxIdleConnsPerHost: 2 * clients}
	t.Cleanup(tr.CloseIdleConnections)
	owner, operator := client(t, base, "owner@acme.test"), client(t, base, "operator@acme.test")
	owner.Transport, operator.Transport = tr, tr
	w := &outageWorkload{ids: linDrafts(t, owner, base, drafts), log: &outageLog{errors: map[string]int{}}}
	for i := range 4 {
		w.sockets = append(w.sockets, watchTab(t, ctx, base, []*http.Client{owner, operator}[i%2], w.ids))
		w.tabs = append(w.tabs, w.sockets[i])
	}
	bt := browserTab{newSession(t, newBrowser(t), base, "operator@acme.test", sessionOptions{lifetime: total + 2*time.Minute})}
	bt.p.open("/admin/workspaces/acme/onboarding")
	bt.p.liveState("live", waitFor)
	w.tabs = append(w.tabs, bt)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	w.start = time.Now()
	draftURL := func(d int) string { return base + "/api/v1/workspaces/acme/onboarding/drafts/" + w.ids[d] }
	for c := range clients {
		w.wg.Go(func() {
			lw := linWorker{c: c, hc: []*http.Client{owner, operator}[c%2], url: draftURL, drafts: drafts, seed: seed, start: w.start,
				applied: func(op porcupine.Operation) {
					if op.Call > w.restored.Load() {
						w.appliedAfter.Add(1)
					}
				}}
			ops := lw.run(func(int) bool { return !w.stop.Load() }, func(in linInput, j int, err error) bool {
				w.log.add(err, time.Since(w.start))
				// A client that failed backs off a little, as a person or a script would.
				time.Sleep(200 * time.Millisecond)
				return true
			})
			w.mu.Lock()
			w.history = append(w.history, ops...)
			w.mu.Unlock()
		})
	}
	return w
}

// finish stops the clients and returns when the last call returned.
func (w *outageWorkload) finish() time.Duration {
	w.stop.Store(true)
	w.wg.Wait()
	return time.Since(w.start)
}

// testOutages runs the workload through outages until total has passed (at least one),
// checks that the tabs catch up after each, then checks the errors and the history.
func testOutages(t *testing.T, rig outageRig, total time.Duration) {
	base, metrics := startAppMetrics(t, map[string]string{"DATABASE_URL": rig.appURL, "LOG_LEVEL": "error", "MIGRATE": "true"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := startOutageWorkload(t, ctx, base, total)
	var windows []outageWindow
	var converged []time.Duration
	for cycle := 0; cycle == 0 || time.Since(w.start) < total; cycle++ {
		time.Sleep(outageBefore)
		cut := time.Since(w.start)
		rig.cut(t)
		time.Sleep(outageLength)
		rig.restore(t)
		windows = append(windows, outageWindow{cut, time.Since(w.start)})
		w.recovered(windows[len(windows)-1].restored)
		// Every tab must reach at least what the database held when it came back.
		took, err := converge(w.tabs, draftVersions(t, rig.direct(), w.ids), outageCatchUp)
		if err != nil {
			w.finish()
			t.Fatalf("outage %d: %v", cycle+1, err)
		}
		converged = append(converged, took)
	}
	// The clients go on for outageAfter since the recovery, and then until one of their
	// writes is applied: on a busy machine the first may take longer (checkOutageHistory
	// wants one).
	time.Sleep(outageAfter - (time.Since(w.start) - windows[len(windows)-1].restored))
	w.writeApplied(outageCatchUp)
	end := w.finish()
	took, err := converge(w.tabs, draftVersions(t, rig.direct(), w.ids), outageCatchUp)
	if err != nil {
		t.Fatalf("after the writers stopped: %v", err)
	}
	converged = append(converged, took)
	slices.Sort(converged)
	for i, tab := range w.sockets {
		if _, back := tab.counts(); back != 0 {
			t.Errorf("tab %d was sent %d fragments older than one it showed", i, back)
		}
	}
	t.Logf("%d outages of %v in %v (%s); %d tabs (sockets and Chromium), caught up within %v (worst) after each recovery; sockets reconnected (by close code) %v; listener reconnects %v, hub resyncs %v",
		len(windows), outageLength, end.Round(time.Millisecond), rig.describe(), len(w.tabs), converged[len(converged)-1].Round(time.Millisecond), tabReconnects(w.sockets),
		metricValue(t, metrics, "onboard_live_listener_reconnects_total"), metricValue(t, metrics, "onboard_live_resyncs_total"))
	checkOutageErrors(t, w.log, windows)
	checkOutageHistory(t, w.history, windows, total)
}

// checkOutageErrors: requests failed, but only while the database was away or just after,
// as 503 (the database is unavailable: retry), never as a sign-out.
func checkOutageErrors(t *testing.T, log *outageLog, windows []outageWindow) {
	lastErrAfter := time.Duration(0) // the latest failure after a recovery
	for i, at := range log.at {
		ok := false
		for _, w := range windows {
			if at >= w.cut && at <= w.restored+outageGrace {
				ok = true
				lastErrAfter = max(lastErrAfter, at-w.restored)
			}
		}
		if !ok {
			t.Errorf("a request failed at %v, outside every outage %v: %.300s", at.Round(time.Millisecond), windows, log.what[i])
		}
	}
	t.Logf("failed calls by kind %v, the last %v after a recovery", log.errors, lastErrAfter.Round(time.Millisecond))
	if len(log.at) == 0 {
		t.Error("no request failed: the outage was not seen")
	}
	if n := log.errors["401"]; n > 0 {
		t.Errorf("%d requests answered 401 during the outage: a database that does not answer must not sign anyone out", n)
	}
	for i, what := range log.what {
		if strings.Contains(what, "status 500") {
			t.Errorf("a request failed with 500 during the outage, want 503 (Unavailable): %.300s", log.what[i])
			break
		}
	}
}

// checkOutageHistory bounds the writes of unknown outcome and checks the history with
// porcupine.
func checkOutageHistory(t *testing.T, history []porcupine.Operation, windows []outageWindow, total time.Duration) {
	var unknown, oks, lastOK int
	for i, op := range history {
		out := op.Output.(linOutput)
		if out.Status == linUnknown {
			unknown++
			// Whether it was applied is never known, but when is bounded: by the end of
			// its outage. A write that failed then either never reached PostgreSQL or its
			// connection was cut, and a backend whose client is gone cannot commit seconds
			// later. One that failed just after the recovery was sent on a connection the
			// outage had killed: it reached nothing.
			for _, w := range windows {
				if time.Duration(op.Return) >= w.cut && time.Duration(op.Call) <= w.restored+outageGrace {
					history[i].Return = max(op.Return, w.restored.Nanoseconds())
				}
			}
		}
		if out.Status == http.StatusOK && op.Input.(linInput).Write {
			oks++
			if time.Duration(op.Call) > windows[len(windows)-1].restored {
				lastOK++
			}
		}
	}
	t.Logf("%d operations checked: %d writes applied (%d after the last recovery), %d writes of unknown outcome",
		len(history), oks, lastOK, unknown)
	if lastOK == 0 {
		t.Error("no write succeeded after the database came back")
	}
	linCheck(t, history, porcupine.Ok, max(time.Minute, total))
}

// TestFaultDatabaseOutage: PostgreSQL vanishes (through a TCP proxy in front of it: every
// connection reset, new ones refused) and comes back, while clients write and read drafts
// over the API with If-Match and tabs watch them over /live. Requests fail only while the
// database is away (and in a short grace after it is back, while the pool finds its dead
// connections), never as a sign-out; every tab keeps its socket and shows the newest version
// of every draft within 10 s of the recovery; and the history of every call, failed writes
// included as writes of unknown outcome, is linearizable. make soak repeats the outage for
// SOAK_DURATION; TestSoakPostgresRestart (make soak) restarts a real cluster instead.
func TestFaultDatabaseOutage(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)
	direct, err := postgres.Open(context.Background(), dbURL, "fault-test", 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(direct.Close)
	u, _ := url.Parse(dbURL)
	proxy := testkit.NewProxy(t, u.Host)
	u.Host = proxy.Addr()
	testOutages(t, outageRig{
		appURL: u.String(),
		direct: func() *postgres.DB { return direct },
		cut:    func(*testing.T) { proxy.Cut() },
		restore: func(t *testing.T) {
			if err := proxy.Restore(); err != nil {
				t.Fatal(err)
			}
		},
		describe: func() string {
			return fmt.Sprintf("TCP proxy: %d connections forwarded, %d reset", proxy.Accepted(), proxy.Reset())
		},
	}, testkit.SoakDuration(t, outageBefore+outageLength))
}

// TestFaultListenerKilledRepeatedly: the listener's backend is terminated every 200 ms while
// writers change drafts and tabs watch them. Each reconnection is a new epoch whose resync
// sends every tab what it missed, so when the writers stop every tab shows the newest version
// of every draft within 10 s, no tab loses its socket, and none is ever sent an older version
// after a newer one. make soak kills for SOAK_DURATION.
func TestFaultListenerKilledRepeatedly(t *testing.T) {
	t.Parallel()
	const every = 200 * time.Millisecond
	kills := int(testkit.SoakDuration(t, 20*every) / every)
	dbURL := pgtest.NewURL(t)
	a := startLiveApp(t, dbURL, liveOptions{Listener: postgres.ListenerConfig{ReconnectDelay: 50 * time.Millisecond}}, nil)
	s := seedDraft(t, a.db)
	ids := append([]string{s.draft}, moreDrafts(t, a.db, s.ws, 4)...)
	c := signIn(t, a.base, s.member)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var tabs []*tabWatch
	for range 8 {
		tabs = append(tabs, watchTab(t, ctx, a.base, c, ids))
	}
	waitConns(t, a, int64(len(tabs)))

	var (
		stop   atomic.Bool
		writes atomic.Int64
		wg     sync.WaitGroup
	)
	for w := range 4 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				if _, err := a.db.Pool.Exec(context.Background(), `UPDATE managed_tenant_onboarding_sessions
					SET version = version + 1 WHERE id = $1`, ids[(w+i)%len(ids)]); err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				writes.Add(1)
			}
		})
	}
	landed := 0
	// awaitUp waits until the listener is connected again after the kills that landed.
	awaitUp := func() {
		up := func() bool { return a.lv.Listener.Connected() && a.lv.Listener.Stats().Disconnects == int64(landed) }
		for deadline := time.Now().Add(30 * time.Second); !up(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				// Say whether the server takes connections at all (the shared server's
				// max_connections is the usual suspect when it does not).
				probe, err := pgx.Connect(context.Background(), dbURL)
				if err == nil {
					probe.Close(context.Background())
				}
				t.Fatalf("listener did not reconnect within 30 s after kill %d (%+v); a new connection now: %v", landed, a.lv.Listener.Stats(), err)
			}
		}
	}
	for range kills {
		time.Sleep(every)
		// Kill a listening connection: not one still connecting (whose loss is no epoch), nor
		// the one just killed whose loss the listener has not noticed yet.
		awaitUp()
		var n int
		if err := a.db.Pool.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE application_name = $1 AND datname = current_database()`, postgres.ListenerAppName).Scan(&n); err != nil {
			t.Fatal(err)
		}
		landed += n
	}
	awaitUp() // the reconnection after the last kill
	stop.Store(true)
	wg.Wait()
	final := draftVersions(t, a.db, ids)
	took, err := converge(tabs, final, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	frames := 0
	for i, tab := range tabs {
		n, back := tab.counts()
		frames += n
		if back != 0 {
			t.Errorf("tab %d was sent %d fragments older than one it showed", i, back)
		}
	}
	ls, hs := a.lv.Listener.Stats(), a.lv.Hub.Stats()
	t.Logf("%d kills every %v, %d landed; listener: %d connections (%d reconnects), %d disconnects; hub: %d resyncs; %d writes to %d drafts; %d tabs received %d frames (reconnected, by close code: %v) and converged %v after the writers stopped",
		kills, every, landed, ls.Connects, ls.Connects-1, ls.Disconnects, hs.Resyncs, writes.Load(), len(ids), len(tabs), frames, tabReconnects(tabs), took.Round(time.Millisecond))
	if landed != kills || ls.Disconnects != int64(kills) || ls.Connects != int64(kills)+1 || hs.Resyncs != ls.Connects {
		t.Errorf("%d of %d kills landed; listener %+v, hub resyncs %d: want a disconnect, a reconnection and a resync per kill", landed, kills, ls, hs.Resyncs)
	}
}

// socketFrames mark a goroutine of the /live path: the endpoint, the socket library, a hub
// client, the test's own socket clients.
var socketFrames = []string{"github.com/coder/websocket", "/internal/web.", "/internal/liveedge.", "/internal/live.(*Client)", "onboard.openAndEnd", "onboard.TestFaultAbruptSocketCloses.func"}

// writerFrame marks a worker of the /live endpoint's writers: a pool shared by every socket,
// which keeps a few workers when idle (liveedge/writers.go), not a socket's goroutine.
const writerFrame = "/internal/liveedge.(*writers).work"

// goroutineKinds counts the process's goroutines by where they wait and who started them,
// and how many of them are on the /live path; the /live endpoint's writers are left out and
// counted apart.
func goroutineKinds() (kinds map[string]int, sockets, writers int) {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	kinds = map[string]int{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, writerFrame) && strings.Contains(g, "sync.runtime_notifyListWait") {
			writers++
			continue
		}
		if slices.ContainsFunc(socketFrames, func(f string) bool { return strings.Contains(g, f) }) {
			sockets++
		}
		lines := strings.Split(g, "\n")
		if len(lines) < 2 {
			continue
		}
		kind := strings.SplitN(lines[1], "(", 2)[0]
		for _, l := range lines {
			if strings.HasPrefix(l, "created by ") {
				kind += " ← " + strings.SplitN(strings.TrimPrefix(l, "created by "), " in goroutine", 2)[0]
			}
		}
		kinds[kind]++
	}
	return kinds, sockets, writers
}

// moreGoroutines lists the kinds of goroutine there are more of in after than in before.
func moreGoroutines(before, after map[string]int) []string {
	var out []string
	for k, n := range after {
		if n > before[k] {
			out = append(out, fmt.Sprintf("%s: %d → %d", k, before[k], n))
		}
	}
	slices.Sort(out)
	return out
}

// socketEnding is how one socket of TestFaultAbruptSocketCloses ends.
type socketEnding int

const (
	endClose      socketEnding = iota // WebSocket close handshake (1000)
	endDrop                           // TCP close (FIN) without a close frame, after the first fragment
	endReset                          // TCP reset (RST), after the first fragment
	endEarlyReset                     // TCP reset right after the upgrade, while the server subscribes
	endTornFrame                      // half a frame header written, then a reset
	socketEndings
)

// openAndEnd opens one /live socket as c and ends it as how says; conn is the TCP connection
// under it.
func openAndEnd(t *testing.T, base string, jar http.CookieJar, q string, how socketEnding) {
	t.Helper()
	var raw net.Conn
	d := &net.Dialer{}
	hc := &http.Client{Jar: jar, Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		raw = c
		return c, err
	}}}
	// Not mustDial: its cleanup would keep every socket (and its buffers) until the test ends.
	dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer dcancel()
	conn, _, err := websocket.Dial(dctx, "ws"+strings.TrimPrefix(base, "http")+"/live?"+q, &websocket.DialOptions{
		HTTPClient: hc, HTTPHeader: http.Header{"Origin": {base}}})
	if err != nil {
		t.Errorf("dial: %v", err)
		return
	}
	defer conn.CloseNow()
	reset := func() {
		_ = raw.(*net.TCPConn).SetLinger(0)
		raw.Close()
	}
	if how == endEarlyReset {
		reset()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, _, err := conn.Read(ctx); err != nil {
		t.Errorf("first fragment: %v", err)
		return
	}
	switch how {
	case endClose:
		if err := conn.Close(websocket.StatusNormalClosure, ""); err != nil {
			t.Errorf("close: %v", err)
		}
	case endDrop:
		raw.Close()
	case endReset:
		reset()
	case endTornFrame:
		_, _ = raw.Write([]byte{0x81, 0xfe}) // a masked text frame, its length never follows
		reset()
	}
}

// aloneEnv names the test that a child process of the test binary runs by itself (runAlone).
const aloneEnv = "ONBOARD_TEST_ALONE"

// runAlone runs the calling test in a child process of the test binary where it is the only
// test, and reports true there, where the caller goes on with its body. In the parent it
// reports false once the child has passed, and the test runs in parallel with the others
// meanwhile. It is for a test that measures the whole process (its goroutines, its heap),
// which used to make the package's parallel tests wait until it had run alone.
func runAlone(t *testing.T) bool {
	t.Helper()
	if os.Getenv(aloneEnv) == t.Name() {
		return true
	}
	t.Parallel()
	args := []string{"-test.run=^" + t.Name() + "$", "-test.count=1", "-test.v=true"}
	if d, ok := t.Deadline(); ok {
		args = append(args, "-test.timeout="+time.Until(d).Round(time.Second).String())
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), aloneEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s in a process of its own: %v\n%s", t.Name(), err, out)
	}
	t.Logf("in a process of its own:\n%s", out)
	return false
}

// closesLine is a series of onboard_live_socket_closes_total in /metrics; its group, the label.
var closesLine = regexp.MustCompile(`(?m)^onboard_live_socket_closes_total\{code="(\w+)"\} \d+`)

// TestFaultAbruptSocketCloses: 1,000 /live sockets end, most of them without a close
// handshake (a dropped or reset TCP connection, some while the server is still subscribing
// them, some in the middle of a frame) and the rest normally. Afterwards the hub has no
// client, the endpoint no socket, and the process's goroutines and heap are back to what they
// were before (the endpoint's writers, a pool shared by every socket, counted apart). It
// counts the whole process's goroutines, so it runs alone in a process of its own (runAlone).
func TestFaultAbruptSocketCloses(t *testing.T) {
	if !runAlone(t) {
		return
	}
	const total, batch = 1000, 25
	a := startLiveApp(t, pgtest.NewURL(t), liveOptions{Endpoint: liveedge.Config{MaxSocketsPerUser: -1, MaxSocketsPerAddress: -1}}, nil)
	s := seedDraft(t, a.db)
	c := signIn(t, a.base, s.member)
	q := fmt.Sprintf("draft=%s&rev=0&view=row&draft=%s&rev=0", s.draft, s.draft)
	run := func(from, to int) {
		var wg sync.WaitGroup
		for i := from; i < to; i += batch {
			for j := i; j < min(i+batch, to); j++ {
				wg.Go(func() { openAndEnd(t, a.base, c.Jar, q, socketEnding(j%int(socketEndings))) })
			}
			wg.Wait()
		}
	}
	// The process's goroutines may vary by a few (a pool connection being made, a request of
	// the test's own in flight); those of the /live path must be back exactly.
	const slack = 3
	type snapshot struct {
		goroutines, sockets int
		heap                uint64
		kinds               map[string]int
	}
	settled := func(what string) snapshot {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for a.lv.Hub.Stats().Connections != 0 || metricValue(t, a.metrics, "onboard_live_sockets") != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s: hub %+v, sockets %v; want none", what, a.lv.Hub.Stats(), metricValue(t, a.metrics, "onboard_live_sockets"))
			}
			time.Sleep(10 * time.Millisecond)
		}
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		kinds, sockets, writers := goroutineKinds()
		return snapshot{runtime.NumGoroutine() - writers, sockets, ms.HeapAlloc, kinds}
	}
	run(0, 2*batch) // warm-up: pools, caches and the first goroutines of each kind
	s0 := settled("before")
	back := func(s1 snapshot) bool {
		return s1.sockets <= s0.sockets && s1.goroutines <= s0.goroutines+slack && s1.heap <= s0.heap+4<<20
	}
	// make soak repeats rounds of 1,000 for SOAK_DURATION; each must end where it began.
	soak := testkit.SoakDuration(t, 0)
	start := time.Now()
	var s1 snapshot
	rounds := 0
	for rounds == 0 || time.Since(start) < soak {
		run(0, total)
		rounds++
		s1 = settled("after")
		// Goroutines of the sockets just closed may still be returning.
		for deadline := time.Now().Add(10 * time.Second); !back(s1) && time.Now().Before(deadline); s1 = settled("after") {
			time.Sleep(20 * time.Millisecond)
		}
		if !back(s1) {
			break
		}
	}
	_, metrics, _ := get(t, metricsClient, a.metrics, "")
	t.Logf("%d sockets in %v (a fifth each: close handshake, FIN, RST, RST while subscribing, RST mid-frame): goroutines %d → %d (on the /live path %d → %d), live heap %.1f → %.1f MiB; server closes: %s",
		rounds*total, time.Since(start).Round(time.Millisecond), s0.goroutines, s1.goroutines, s0.sockets, s1.sockets,
		float64(s0.heap)/(1<<20), float64(s1.heap)/(1<<20),
		strings.Join(closesLine.FindAllString(metrics, -1), ", "))
	// Every socket ended from the browser's side: the server closed none with a code of its own.
	for _, m := range closesLine.FindAllStringSubmatch(metrics, -1) {
		if m[1] != "dropped" && m[1] != "peer" {
			t.Errorf("%s: a socket the browser ended counted under a close code the server sent", m[0])
		}
	}
	if s1.sockets > s0.sockets || s1.goroutines > s0.goroutines+slack {
		t.Errorf("goroutines %d after, %d before (on the /live path %d, %d); more of these: %v",
			s1.goroutines, s0.goroutines, s1.sockets, s0.sockets, moreGoroutines(s0.kinds, s1.kinds))
	}
	h0, h1 := s0.heap, s1.heap
	if h1 > h0+4<<20 { // a leak of 4 KiB per socket would pass 4 MiB
		t.Errorf("live heap %.1f MiB after, %.1f MiB before: more than 4 MiB kept", float64(h1)/(1<<20), float64(h0)/(1<<20))
	}
}
