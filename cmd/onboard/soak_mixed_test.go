package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/postgres"
	"github.com/tenantops/onboard/internal/testkit"
)

// serverProc is `onboard serve` in a process of its own (this test binary, run as main), on
// fixed ports, so that it can be killed with SIGKILL and started again where tabs find it.
type serverProc struct {
	env           []string
	base, metrics string
	cmd           *exec.Cmd
	log           *testkit.SyncBuffer // stderr: the log
	out           *testkit.SyncBuffer // stdout: addresses and the demo logins
	kills         int
}

// freePort returns a loopback port nobody listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startServerProc(t *testing.T, dbURL string) *serverProc {
	port, mport := freePort(t), freePort(t)
	p := &serverProc{
		base:    fmt.Sprintf("http://127.0.0.1:%d", port),
		metrics: fmt.Sprintf("http://127.0.0.1:%d/metrics", mport),
		log:     &testkit.SyncBuffer{},
		out:     &testkit.SyncBuffer{},
		env: []string{runAsMainEnv + "=1", "DATABASE_URL=" + dbURL,
			fmt.Sprintf("ADDR=127.0.0.1:%d", port), fmt.Sprintf("METRICS_ADDR=127.0.0.1:%d", mport),
			"MIGRATE=true", "DEMO=if-empty", "DEMO_STORY=false", "LOG_LEVEL=warn", "WORKERS=2",
			"SECRET_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "LOGIN_CONCURRENCY=16",
			"DB_MAX_CONNS=8", "RESCUE_AFTER=5s"},
	}
	p.start(t)
	t.Cleanup(func() {
		if p.cmd != nil {
			_ = p.cmd.Process.Signal(os.Interrupt)
			_ = p.cmd.Wait()
		}
		if strings.Contains(p.log.String(), "demo-password-1") {
			t.Error("a password appeared in the server's logs")
		}
		if t.Failed() {
			l := p.log.String()
			t.Logf("server log (last 4000 bytes):\n%s", l[max(0, len(l)-4000):])
		}
	})
	return p
}

// start runs the server and returns once /healthz answers.
func (p *serverProc) start(t *testing.T) {
	t.Helper()
	p.cmd = exec.Command(os.Args[0], "serve")
	p.cmd.Env = append(os.Environ(), p.env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := metricsClient.Get(p.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not answer /healthz within 60 s: %v", err)
		}
	}
}

// kill is a crash: SIGKILL, no shutdown of any kind.
func (p *serverProc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
	p.cmd = nil
	p.kills++
}

// resources are what a leak would grow, read from the server's /metrics.
type resources struct{ goroutines, fds, heapMiB float64 }

func (p *serverProc) resources(t *testing.T) resources {
	return resources{
		goroutines: metricValue(t, p.metrics, "go_goroutines"),
		fds:        metricValue(t, p.metrics, "process_open_fds"),
		heapMiB:    metricValue(t, p.metrics, "go_memstats_heap_inuse_bytes") / (1 << 20),
	}
}

// soakSaves are the versioned saves of the soak and what became of them.
type soakSaves struct {
	mu      sync.Mutex
	acked   map[string]bool // display names a 200 acknowledged
	unknown map[string]bool // display names whose save failed without an answer
	refused int             // 412: a stale If-Match, refused and not applied
}

// soakRuns are the runs started (202) and whether any start failed without an answer.
type soakRuns struct {
	mu     sync.Mutex
	drafts map[string]string // draft id → the run its start acknowledged
	failed int
}

// TestSoak mixes saves, run starts, live sockets and polls against a server process of its own
// on a PostgreSQL cluster of its own; a third of the way through PostgreSQL restarts (pg_ctl
// stop -m fast, start), two thirds through the server is killed with SIGKILL and started
// again. Then: every acknowledged save is stored exactly once and no other appears; every
// acknowledged run start has one run, and it completes; every socket tab and every poller
// shows what the database holds; the new process, idle again, holds no more goroutines, file
// descriptors or heap than the first one did idle (within a bound). make test runs it for
// 12 s; make soak for SOAK_DURATION (docs/reliability.md, Soak).
func TestSoak(t *testing.T) {
	t.Parallel()
	total := testkit.SoakDuration(t, 12*time.Second)
	cluster, dbURL := startPrivateCluster(t)
	srv := startServerProc(t, dbURL)
	direct, err := postgres.Open(context.Background(), dbURL, "soak-direct", 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(direct.Close)
	base := srv.base
	idle := srv.resources(t)

	owner, operator := client(t, base, "owner@acme.test"), client(t, base, "operator@acme.test")
	ids := linDrafts(t, owner, base, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var tabs []*tabWatch
	for i := range 4 {
		tabs = append(tabs, watchTab(t, ctx, base, []*http.Client{owner, operator}[i%2], ids))
	}
	polls := make([]*pollWatch, 2)
	for i := range polls {
		polls[i] = watchPoll(ctx, base, []*http.Client{owner, operator}[i%2], ids)
	}

	saves := &soakSaves{acked: map[string]bool{}, unknown: map[string]bool{}}
	runs := &soakRuns{drafts: map[string]string{}}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Go(func() { soakSaver(c, []*http.Client{owner, operator}[c%2], base, ids, saves, &stop) })
	}
	wg.Go(func() { soakRunStarter(operator, base, runs, &stop) })

	start := time.Now()
	sleepUntil := func(d time.Duration) { time.Sleep(time.Until(start.Add(d))) }
	sleepUntil(total / 3)
	cluster.stop(t)
	time.Sleep(time.Second)
	cluster.start(t)
	sleepUntil(2 * total / 3)
	srv.kill(t)
	srv.start(t)
	sleepUntil(total)
	stop.Store(true)
	wg.Wait()

	// Every tab and poller reaches what the database holds.
	want := draftVersions(t, direct, ids)
	if took, err := converge(tabs, want, time.Minute); err != nil {
		t.Errorf("socket tabs: %v", err)
	} else {
		t.Logf("socket tabs current %v after the writers stopped; reconnections by close code %v", took.Round(time.Millisecond), tabReconnects(tabs))
	}
	if _, err := converge(polls, want, time.Minute); err != nil {
		t.Errorf("pollers: %v", err)
	}
	for i, tab := range tabs {
		if _, back := tab.counts(); back != 0 {
			t.Errorf("tab %d was sent %d fragments older than one it showed", i, back)
		}
	}
	checkSoakSaves(t, direct, ids, saves)
	checkSoakRuns(t, direct, runs)
	cancel() // the tabs and pollers hang up
	owner.CloseIdleConnections()
	operator.CloseIdleConnections()

	// Idle again, the second process holds what the first held idle, within a bound: the
	// pool filled up to DB_MAX_CONNS (8) connections and the worker pool started; a leak of
	// one goroutine or descriptor per request, socket or run would be thousands.
	var now resources
	deadline := time.Now().Add(30 * time.Second)
	for {
		now = srv.resources(t)
		ok := now.goroutines <= idle.goroutines+25 && now.fds <= idle.fds+16 && now.heapMiB <= 2*idle.heapMiB+32
		if ok || time.Now().After(deadline) {
			if !ok {
				t.Errorf("idle after the soak: %+v; idle before: %+v (bound: +25 goroutines, +16 fds, 2×heap+32 MiB)", now, idle)
			}
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	saves.mu.Lock()
	defer saves.mu.Unlock()
	t.Logf("%v: %d saves acknowledged, %d unanswered, %d refused stale; %d runs started (%d starts unanswered); "+
		"PostgreSQL restarted %d×, server killed %d×; idle before %+v, after %+v",
		total, len(saves.acked), len(saves.unknown), saves.refused, len(runs.drafts), runs.failed, cluster.restarts, srv.kills, idle, now)
}

// soakSaver saves unique display names with the version it last read, until stop.
func soakSaver(c int, hc *http.Client, base string, ids []string, saves *soakSaves, stop *atomic.Bool) {
	rng := rand.New(rand.NewPCG(uint64(c), uint64(time.Now().UnixNano())))
	for j := 0; !stop.Load(); j++ {
		u := base + "/api/v1/workspaces/acme/onboarding/drafts/" + ids[rng.IntN(len(ids))]
		read, err := linDo(hc, u, linInput{})
		if err != nil {
			time.Sleep(100 * time.Millisecond) // an outage: back off as a script would
			continue
		}
		name := fmt.Sprintf("soak %d-%d", c, j)
		out, err := linDo(hc, u, linInput{Write: true, Expected: read.Version, Value: name})
		saves.mu.Lock()
		switch {
		case err != nil:
			saves.unknown[name] = true
		case out.Status == http.StatusOK:
			saves.acked[name] = true
		default:
			saves.refused++
		}
		saves.mu.Unlock()
		if err != nil {
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// soakRunStarter creates a draft, attaches a connection and starts its verification, again
// and again until stop.
func soakRunStarter(hc *http.Client, base string, runs *soakRuns, stop *atomic.Bool) {
	api := base + "/api/v1/workspaces/acme/onboarding/drafts"
	send := func(method, url, body, ifMatch string) (int, http.Header, []byte, error) {
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if ifMatch != "" {
			req.Header.Set("If-Match", ifMatch)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return 0, nil, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, b, err
	}
	for i := 0; !stop.Load(); i++ {
		code, _, b, err := send(http.MethodPost, api, fmt.Sprintf(`{"tenant_id":%q,"display_name":"soak run %d","primary_domain":"soak%d.example.com"}`,
			onboarding.NewGUID(), i, i), "")
		var d struct {
			ID string `json:"id"`
		}
		if err != nil || code != http.StatusCreated || json.Unmarshal(b, &d) != nil {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		code, h, _, err := send(http.MethodPatch, api+"/"+d.ID,
			fmt.Sprintf(`{"provider_connection":{"client_id":%q,"client_secret":%q}}`, onboarding.NewGUID(), apiSecret), `"1"`)
		if err != nil || code != http.StatusOK {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		code, _, b, err = send(http.MethodPost, api+"/"+d.ID+"/verification", "", h.Get("ETag"))
		var started struct {
			Run struct {
				ID string `json:"id"`
			} `json:"run"`
		}
		runs.mu.Lock()
		if err == nil && code == http.StatusAccepted && json.Unmarshal(b, &started) == nil {
			runs.drafts[d.ID] = started.Run.ID
		} else if err != nil || code >= 500 {
			runs.failed++
		}
		runs.mu.Unlock()
		time.Sleep(200 * time.Millisecond)
	}
}

// checkSoakSaves: every acknowledged save is in the audit trail exactly once, a save that got
// no answer at most once, and nothing else was saved.
func checkSoakSaves(t *testing.T, db *postgres.DB, ids []string, saves *soakSaves) {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), `SELECT metadata->'fields'->'display_name'->>'new', count(*)
		FROM workspace_audit_log WHERE action = $1 AND subject_id = ANY($2) AND metadata->'fields' ? 'display_name'
		GROUP BY 1`, onboarding.ActionDraftUpdated, ids)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	stored := map[string]int{}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		stored[name] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	saves.mu.Lock()
	defer saves.mu.Unlock()
	if len(saves.acked) == 0 {
		t.Fatal("no save was acknowledged")
	}
	for name := range saves.acked {
		if stored[name] != 1 {
			t.Errorf("acknowledged save %q stored %d times, want once", name, stored[name])
		}
	}
	for name, n := range stored {
		switch {
		case saves.unknown[name] && n > 1:
			t.Errorf("unanswered save %q stored %d times, want at most once", name, n)
		case !saves.acked[name] && !saves.unknown[name]:
			t.Errorf("%q stored %d times, but no save of it was acknowledged or unanswered (a refused save applied?)", name, n)
		}
	}
}

// checkSoakRuns: each acknowledged start has exactly one run on its draft, the one it named,
// and every run completes (the killed server's are rescued).
func checkSoakRuns(t *testing.T, db *postgres.DB, runs *soakRuns) {
	t.Helper()
	runs.mu.Lock()
	defer runs.mu.Unlock()
	if len(runs.drafts) == 0 {
		t.Fatal("no run start was acknowledged")
	}
	ids := make([]string, 0, len(runs.drafts))
	for id := range runs.drafts {
		ids = append(ids, id)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		rows, err := db.Pool.Query(context.Background(), `SELECT draft_id::text, id::text, status FROM operation_runs WHERE draft_id = ANY($1)`, ids)
		if err != nil {
			t.Fatal(err)
		}
		byDraft := map[string][]string{}
		open := 0
		for rows.Next() {
			var draft, id, status string
			if err := rows.Scan(&draft, &id, &status); err != nil {
				t.Fatal(err)
			}
			byDraft[draft] = append(byDraft[draft], id)
			if status != "completed" {
				open++
			}
		}
		rows.Close()
		if open == 0 || time.Now().After(deadline) {
			for draft, run := range runs.drafts {
				if got := byDraft[draft]; len(got) != 1 || got[0] != run {
					t.Errorf("draft %s has runs %v, want exactly the acknowledged %s", draft, got, run)
				}
			}
			if open != 0 {
				t.Errorf("%d of %d runs not completed a minute after the soak", open, len(ids))
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pollWatch is a tab on the poll fallback: it polls /live/poll for the drafts with the revs
// it shows, as live.js does while the socket is down, and remembers the newest versions.
type pollWatch struct {
	mu    sync.Mutex
	shown map[string]int64
	revs  map[string]int64
}

func watchPoll(ctx context.Context, base string, c *http.Client, ids []string) *pollWatch {
	w := &pollWatch{shown: map[string]int64{}, revs: map[string]int64{}}
	go func() {
		for ctx.Err() == nil {
			w.poll(ctx, base, c, ids)
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	return w
}

func (w *pollWatch) poll(ctx context.Context, base string, c *http.Client, ids []string) {
	w.mu.Lock()
	var q []string
	for _, id := range ids {
		q = append(q, "draft="+id+"&rev="+strconv.FormatInt(w.revs[id], 10))
	}
	w.mu.Unlock()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/live/poll?"+strings.Join(q, "&"), nil)
	resp, err := c.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	recordShown(b, w.shown, w.revs)
}

func (w *pollWatch) behind(want map[string]int64) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return shownBehind(w.shown, want), nil
}
