package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/tenantops/onboard/internal/live"
	"github.com/tenantops/onboard/internal/liveedge"
	"github.com/tenantops/onboard/internal/livesource"
	"github.com/tenantops/onboard/internal/membership"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/password"
	"github.com/tenantops/onboard/internal/postgres"
	"github.com/tenantops/onboard/internal/postgres/pgtest"
	"github.com/tenantops/onboard/internal/testkit"
	"github.com/tenantops/onboard/internal/web"
)

// liveApp is one server process's worth of the app (pool, hub, listener, web server) on a
// real port, built by the same wiring as serve.
type liveApp struct {
	base    string
	metrics string // /metrics, served apart as serve does with METRICS_ADDR
	db      *postgres.DB
	lv      *liveRuntime
	srv     *web.Server
	stop    func() // the serve shutdown sequence; idempotent
}

// startLiveApp starts an app on dbURL and returns once its listener listens.
func startLiveApp(t *testing.T, dbURL string, opts liveOptions, wrap func(net.Listener) net.Listener) *liveApp {
	t.Helper()
	db, err := postgres.Open(context.Background(), dbURL, "onboard-test", 8)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	log := slog.New(slog.DiscardHandler)
	reg := prometheus.NewRegistry()
	lv, err := startLive(ctx, db, dbURL, livesource.NewSource(db), reg, log, opts)
	if err != nil {
		t.Fatal(err)
	}
	store, err := postgres.NewStore(db, postgres.StoreConfig{SecretKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(nil) // its listener's address gives the origins /live accepts
	srv := webServer(serveConfig{}, liveOrigins("", hs.Listener.Addr()), store, onboarding.NewService(store, time.Now), membership.NewService(store, time.Now), reg, log, lv)
	hs.Config.Handler = srv.Handler()
	hs.Config.BaseContext = func(net.Listener) context.Context { return ctx }
	if wrap != nil {
		hs.Listener = wrap(hs.Listener)
	}
	hs.Start()
	ms := httptest.NewServer(srv.MetricsHandler())
	t.Cleanup(ms.Close)
	a := &liveApp{base: hs.URL, metrics: ms.URL + "/metrics", db: db, lv: lv, srv: srv}
	a.stop = sync.OnceFunc(func() {
		cancel()
		sctx, scancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer scancel()
		if err := shutdownWeb(sctx, hs.Config, srv); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		hs.Close()
		if err := lv.wait(); err != nil {
			t.Errorf("live: %v", err)
		}
		db.Close()
	})
	t.Cleanup(a.stop)
	select {
	case <-lv.Listener.Listening():
	case <-time.After(20 * time.Second):
		t.Fatal("listener did not connect")
	}
	return a
}

var testHash = sync.OnceValues(func() (string, error) { return hashPassword("live-password-1") })

// seed is one workspace with a draft, a member, and a user who belongs elsewhere.
type seed struct {
	ws                   int64
	draft                string
	member, outsider     string // emails
	memberID, outsiderID int64
}

func seedDraft(t *testing.T, db *postgres.DB) seed {
	t.Helper()
	ctx := context.Background()
	hash, err := testHash()
	if err != nil {
		t.Fatal(err)
	}
	tag := strings.ToLower(strconv.FormatInt(time.Now().UnixNano(), 36))
	s := seed{member: "member-" + tag + "@live.test", outsider: "outsider-" + tag + "@live.test"}
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		var other int64
		var tenant string
		for _, q := range []struct {
			sql  string
			args []any
			dest any
		}{
			{`INSERT INTO workspaces (slug, name) VALUES ($1, 'Live') RETURNING id`, []any{"live-" + tag}, &s.ws},
			{`INSERT INTO workspaces (slug, name) VALUES ($1, 'Other') RETURNING id`, []any{"other-" + tag}, &other},
			{`INSERT INTO users (email, password_hash) VALUES ($1, $2) RETURNING id`, []any{s.member, hash}, &s.memberID},
			{`INSERT INTO users (email, password_hash) VALUES ($1, $2) RETURNING id`, []any{s.outsider, hash}, &s.outsiderID},
		} {
			if err := tx.QueryRow(ctx, q.sql, q.args...).Scan(q.dest); err != nil {
				return fmt.Errorf("%s: %w", q.sql, err)
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO workspace_memberships (workspace_id, user_id, role)
			VALUES ($1, $2, 'operator'), ($3, $4, 'owner')`, s.ws, s.memberID, other, s.outsiderID); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO tenants (workspace_id, tenant_id, display_name)
			VALUES ($1, gen_random_uuid(), 'Contoso') RETURNING tenant_id::text`, s.ws).Scan(&tenant); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO managed_tenant_onboarding_sessions (workspace_id, tenant_id, display_name)
			VALUES ($1, $2, 'Contoso') RETURNING id::text`, s.ws, tenant).Scan(&s.draft)
	})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	return s
}

// bump changes the draft through pool (as the onboarding service would) and returns the new
// version.
func bump(t *testing.T, db *postgres.DB, draft string) int64 {
	t.Helper()
	var v int64
	if err := db.Pool.QueryRow(context.Background(), `UPDATE managed_tenant_onboarding_sessions
		SET version = version + 1, current_step = 1 + version % 5 WHERE id = $1 RETURNING version`, draft).Scan(&v); err != nil {
		t.Fatalf("update draft: %v", err)
	}
	return v
}

func currentRev(t *testing.T, db *postgres.DB, draft string) int64 {
	t.Helper()
	// The fragment's rev: the greatest of the draft's and its runs' (see docs/live.md).
	var rev int64
	if err := db.Pool.QueryRow(context.Background(), `SELECT greatest(d.rev, coalesce((SELECT max(r.rev) FROM operation_runs r WHERE r.draft_id = d.id), 0))
		FROM managed_tenant_onboarding_sessions d WHERE d.id = $1`, draft).Scan(&rev); err != nil {
		t.Fatal(err)
	}
	return rev
}

// signIn returns an HTTP client holding a session for email (live tests' password) that
// follows redirects.
func signIn(t *testing.T, base, email string) *http.Client {
	t.Helper()
	c := testkit.SignIn(t, base, email, "live-password-1")
	c.CheckRedirect = nil
	return c
}

// dialLive opens /live with query as c, same-origin unless origin says otherwise.
func dialLive(t *testing.T, base string, c *http.Client, query, origin string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	return dialLiveHost(t, base, c, query, origin)
}

// dialLiveHost is dialLive with a Host header of the caller's choosing (host[0], when given).
func dialLiveHost(t *testing.T, base string, c *http.Client, query, origin string, host ...string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	if origin == "" {
		origin = base
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	opts := &websocket.DialOptions{HTTPClient: c, HTTPHeader: http.Header{"Origin": {origin}}}
	if len(host) > 0 {
		// http.Client sends no jar cookie under a Host of another name: the session goes
		// along by hand, so that only the Origin check can refuse the socket.
		opts.Host = host[0]
		if u, err := url.Parse(base); err == nil && c.Jar != nil {
			for _, ck := range c.Jar.Cookies(u) {
				opts.HTTPHeader.Add("Cookie", ck.String())
			}
		}
	}
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/live?"+query, opts)
	if err == nil {
		t.Cleanup(func() { conn.CloseNow() })
	}
	return conn, resp, err
}

func mustDial(t *testing.T, base string, c *http.Client, query string) *websocket.Conn {
	t.Helper()
	conn, resp, err := dialLive(t, base, c, query, "")
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial /live?%s: %v (HTTP %d)", query, err, status)
	}
	return conn
}

var versionRE = regexp.MustCompile(`data-version="(\d+)"`)

// waitConns waits until the hub has n subscribed connections: /live subscribes after the
// handshake, so a dial returns before its subscription exists. The bound is generous: a
// subscription to 500 drafts loads each, which can take over 10 s on two busy cores.
func waitConns(t *testing.T, a *liveApp, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for a.lv.Hub.Stats().Connections != n {
		if time.Now().After(deadline) {
			t.Fatalf("hub has %d connections, want %d", a.lv.Hub.Stats().Connections, n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func versionOf(t *testing.T, frame []byte) int64 {
	t.Helper()
	m := versionRE.FindSubmatch(frame)
	if m == nil {
		t.Fatalf("frame without data-version: %s", frame)
	}
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return n
}

// untilVersion reads frames until one carries version want or newer, within d.
func untilVersion(t *testing.T, conn *websocket.Conn, want int64, d time.Duration) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		typ, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for version %d: %v", want, err)
		}
		if typ != websocket.MessageText {
			t.Fatalf("frame type %v, want text", typ)
		}
		if versionOf(t, b) >= want {
			return b
		}
	}
}

// closeCode reads until the connection ends and returns its close code (-1: no close frame).
func closeCode(t *testing.T, conn *websocket.Conn, d time.Duration) websocket.StatusCode {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		_, _, err := conn.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatalf("connection still open after %v", d)
			}
			return websocket.CloseStatus(err)
		}
	}
}

func TestLiveChange(t *testing.T) {
	t.Parallel()
	a := startLiveApp(t, pgtest.NewURL(t), liveOptions{}, nil)
	s := seedDraft(t, a.db)
	c := signIn(t, a.base, s.member)

	t.Run("CurrentFragmentOnSubscribe", func(t *testing.T) {
		conn := mustDial(t, a.base, c, "draft="+s.draft+"&rev=0")
		b := untilVersion(t, conn, 1, 5*time.Second)
		for _, attr := range []string{`data-draft-id="` + s.draft + `"`, `data-rev="`, `data-live="checkpoint"`} {
			if !strings.Contains(string(b), attr) {
				t.Errorf("frame %s lacks %s", b, attr)
			}
		}
	})

	t.Run("ChangePushed", func(t *testing.T) {
		rev := currentRev(t, a.db, s.draft)
		// Upper-case id, view and version alias: all accepted.
		conn := mustDial(t, a.base, c, fmt.Sprintf("draft=%s&version=1&rev=%d&view=row&draft=%s&rev=%d",
			strings.ToUpper(s.draft), rev, s.draft, rev))
		waitConns(t, a, 1) // CurrentFragmentOnSubscribe closed its own
		v := bump(t, a.db, s.draft)
		// Both fragments may come in one batch message (queued together for one socket).
		got := map[string]bool{}
		for len(got) < 2 {
			b := untilVersion(t, conn, v, 5*time.Second)
			for _, p := range live.SplitBatch(b) {
				if versionOf(t, p) >= v {
					got[regexp.MustCompile(`data-live="(\w+)"`).FindStringSubmatch(string(p))[1]] = true
				}
			}
		}
		if !got["row"] || !got["checkpoint"] {
			t.Errorf("views pushed = %v, want row and checkpoint", got)
		}
	})

	t.Run("Metrics", func(t *testing.T) {
		scrape := func() []byte {
			resp, err := http.Get(a.metrics)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return body
		}
		// The server counts a frame once its write returned, which can be after the client
		// read it: wait (at most 5 s) for ChangePushed's frame to be counted.
		latency := regexp.MustCompile(`(?m)^onboard_live_frame_latency_seconds_count [1-9]`)
		body := scrape()
		for deadline := time.Now().Add(5 * time.Second); !latency.Match(body) && time.Now().Before(deadline); body = scrape() {
			time.Sleep(50 * time.Millisecond)
		}
		for _, re := range []string{
			`onboard_live_frames_sent_total [1-9]`,
			`onboard_live_frame_latency_seconds_count [1-9]`,
			`onboard_live_listener_notifications_total\{kind="draft"\} [1-9]`,
			`onboard_live_notifications_total\{kind="draft",outcome="accepted"\} [1-9]`,
			`onboard_live_renders_total\{result="changed",view="checkpoint"\} [1-9]`,
			`onboard_live_listener_connected 1`,
			`onboard_live_resyncs_total 1`,
			`onboard_live_sockets [0-9]`,
			`onboard_live_connections [0-9]`,
			`onboard_live_subscriptions [0-9]`,
		} {
			if !regexp.MustCompile(`(?m)^` + re).Match(body) {
				t.Errorf("/metrics lacks %s", re)
			}
		}
	})

	// Deltas: a socket that asks for them gets the whole fragment first, then a rename as
	// the regions it changed, which rebuild exactly what a socket without deltas receives.
	t.Run("Deltas", func(t *testing.T) {
		read := func(conn *websocket.Conn) []byte {
			t.Helper()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, b, err := conn.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		withDeltas := mustDial(t, a.base, c, "delta=1&draft="+s.draft+"&rev=0")
		plain := mustDial(t, a.base, c, "draft="+s.draft+"&rev=0")
		first, full := read(withDeltas), read(plain)
		if live.IsDelta(first) || string(first) != string(full) {
			t.Fatalf("first frames differ or are deltas:\n%s\n%s", first, full)
		}
		base := currentRev(t, a.db, s.draft)
		if _, err := a.db.Pool.Exec(context.Background(), `UPDATE managed_tenant_onboarding_sessions
			SET display_name = 'Contoso Renamed', version = version + 1 WHERE id = $1`, s.draft); err != nil {
			t.Fatal(err)
		}
		d, want := read(withDeltas), read(plain)
		got, ok := live.ApplyDelta(first, d, base)
		if !live.IsDelta(d) || !ok || string(got) != string(want) {
			t.Fatalf("delta %s (%d bytes) on rev %d rebuilds %v\n%s\nwant\n%s", d, len(d), base, ok, got, want)
		}
		t.Logf("rename: whole fragment %d bytes, delta %d bytes", len(want), len(d))
	})
}

func TestLiveRefused(t *testing.T) {
	t.Parallel()
	a := startLiveApp(t, pgtest.NewURL(t), liveOptions{}, nil)
	s := seedDraft(t, a.db)
	member := signIn(t, a.base, s.member)
	outsider := signIn(t, a.base, s.outsider)

	status := func(resp *http.Response) int {
		if resp == nil {
			return 0
		}
		return resp.StatusCode
	}
	t.Run("NoSession401", func(t *testing.T) {
		_, resp, err := dialLive(t, a.base, http.DefaultClient, "draft="+s.draft, "")
		if err == nil || status(resp) != http.StatusUnauthorized {
			t.Fatalf("dial without session = %v (HTTP %d), want 401", err, status(resp))
		}
	})
	t.Run("PlainGETProbe", func(t *testing.T) {
		// live.js reads a refused handshake's status with a plain GET of the same URL
		// (docs/ui.md): 401 and 400 are final, anything else is retried.
		for _, tc := range []struct {
			c    *http.Client
			q    string
			want int
		}{
			{http.DefaultClient, "draft=" + s.draft, http.StatusUnauthorized},
			{member, "draft=12", http.StatusBadRequest},
			{member, "draft=" + s.draft, http.StatusUpgradeRequired},
		} {
			if code, _, _ := get(t, tc.c, a.base+"/live?"+tc.q, ""); code != tc.want {
				t.Errorf("GET /live?%s = %d, want %d", tc.q, code, tc.want)
			}
		}
	})
	t.Run("ForeignOrigin403", func(t *testing.T) {
		_, resp, err := dialLive(t, a.base, member, "draft="+s.draft, "https://evil.example")
		if err == nil || status(resp) != http.StatusForbidden {
			t.Fatalf("dial from a foreign origin = %v (HTTP %d), want 403", err, status(resp))
		}
	})
	for name, q := range map[string]string{
		"NoDraft":        "",
		"NotUUID":        "draft=12",
		"NegativeRev":    "draft=" + s.draft + "&rev=-1",
		"RevNotInteger":  "draft=" + s.draft + "&rev=1.5",
		"RevFirst":       "rev=1&draft=" + s.draft,
		"RevTwice":       "draft=" + s.draft + "&rev=1&rev=2",
		"UnknownView":    "draft=" + s.draft + "&view=page",
		"BadRunView":     "draft=" + s.draft + "&view=run:1",
		"UnknownParam":   "draft=" + s.draft + "&x=1",
		"TooManyDrafts":  strings.Repeat("draft="+s.draft+"&", 501),
		"BadEscape":      "draft=%zz",
		"EmptyDraft":     "draft=",
		"RevOutOfRange":  "draft=" + s.draft + "&rev=99999999999999999999",
		"ViewBeforeDraf": "view=row",
	} {
		t.Run("BadQuery400/"+name, func(t *testing.T) {
			_, resp, err := dialLive(t, a.base, member, q, "")
			if err == nil || status(resp) != http.StatusBadRequest {
				t.Fatalf("dial ?%s = %v (HTTP %d), want 400", q, err, status(resp))
			}
		})
	}
	t.Run("FiveHundredDraftsOK", func(t *testing.T) {
		conn := mustDial(t, a.base, member, strings.Repeat("draft="+s.draft+"&", 500)+"view=row")
		untilVersion(t, conn, 1, 5*time.Second)
	})
	t.Run("NonMember4404", func(t *testing.T) {
		conn := mustDial(t, a.base, outsider, "draft="+s.draft)
		if got := closeCode(t, conn, 5*time.Second); got != 4404 {
			t.Fatalf("close code = %d, want 4404", got)
		}
	})
	t.Run("UnknownDraft4404", func(t *testing.T) {
		conn := mustDial(t, a.base, member, "draft=00000000-0000-4000-8000-000000000000")
		if got := closeCode(t, conn, 5*time.Second); got != 4404 {
			t.Fatalf("close code = %d, want 4404", got)
		}
	})
	t.Run("DataMessage1008", func(t *testing.T) {
		conn := mustDial(t, a.base, member, "draft="+s.draft)
		untilVersion(t, conn, 1, 5*time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := conn.Write(ctx, websocket.MessageText, []byte("hello")); err != nil {
			t.Fatal(err)
		}
		if got := closeCode(t, conn, 5*time.Second); got != websocket.StatusPolicyViolation {
			t.Fatalf("close code = %d, want 1008", got)
		}
	})
}

func TestLiveRevoked(t *testing.T) {
	t.Parallel()
	a := startLiveApp(t, pgtest.NewURL(t), liveOptions{}, nil)
	s := seedDraft(t, a.db)
	conn := mustDial(t, a.base, signIn(t, a.base, s.member), "draft="+s.draft)
	untilVersion(t, conn, 1, 5*time.Second)
	if _, err := a.db.Pool.Exec(context.Background(), `DELETE FROM workspace_memberships WHERE workspace_id = $1 AND user_id = $2`,
		s.ws, s.memberID); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if got := closeCode(t, conn, 5*time.Second); got != websocket.StatusPolicyViolation {
		t.Fatalf("close code = %d, want 1008", got)
	}
	t.Logf("revoked after %v", time.Since(start).Round(time.Millisecond))
}

func TestLiveListenerKilled(t *testing.T) {
	t.Parallel()
	a := startLiveApp(t, pgtest.NewURL(t), liveOptions{Listener: postgres.ListenerConfig{ReconnectDelay: 500 * time.Millisecond}}, nil)
	s := seedDraft(t, a.db)
	conn := mustDial(t, a.base, signIn(t, a.base, s.member), fmt.Sprintf("draft=%s&rev=%d", s.draft, currentRev(t, a.db, s.draft)))
	waitConns(t, a, 1)

	var n int
	if err := a.db.Pool.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`, postgres.ListenerAppName).Scan(&n); err != nil || n != 1 {
		t.Fatalf("terminate listener: %d, %v", n, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for a.lv.Listener.Connected() {
		if time.Now().After(deadline) {
			t.Fatal("listener did not notice its backend was terminated")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Made while nobody listens: its NOTIFY is lost; the reconnect's resync must deliver it.
	missed := bump(t, a.db, s.draft)
	if st := a.lv.Listener.Stats(); st.Connects != 1 {
		t.Fatalf("listener reconnected before the change was made (%+v); raise ReconnectDelay", st)
	}
	untilVersion(t, conn, missed, 10*time.Second)
	if st := a.lv.Listener.Stats(); st.Connects != 2 || a.lv.Hub.Stats().Resyncs != 2 {
		t.Errorf("listener %+v, hub resyncs %d; want a second connection and a second resync", st, a.lv.Hub.Stats().Resyncs)
	}
	next := bump(t, a.db, s.draft)
	untilVersion(t, conn, next, 5*time.Second)
}

func TestLiveSlowClient(t *testing.T) {
	t.Parallel()
	// Small socket buffers so a client that stops reading blocks the server's writes after
	// a few frames rather than after megabytes.
	small := func(ln net.Listener) net.Listener { return smallBufListener{ln} }
	a := startLiveApp(t, pgtest.NewURL(t), liveOptions{
		Hub:      liveHubOptions(300 * time.Millisecond),
		Endpoint: liveedge.Config{WriteTimeout: time.Second},
	}, small)
	s := seedDraft(t, a.db)
	c := signIn(t, a.base, s.member)
	rev := currentRev(t, a.db, s.draft)
	q := fmt.Sprintf("draft=%s&rev=%d", s.draft, rev)

	slowDialer := &net.Dialer{Control: func(_, _ string, rc syscallRawConn) error { return setRcvBuf(rc, 1024) }}
	slowClient := &http.Client{Jar: c.Jar, Transport: &http.Transport{DialContext: slowDialer.DialContext}}
	slow := mustDial(t, a.base, slowClient, q) // never read until the end
	fast := mustDial(t, a.base, c, q)
	waitConns(t, a, 2)

	versions := make(chan int64, 1024)
	go func() {
		for {
			_, b, err := fast.Read(context.Background())
			if err != nil {
				close(versions)
				return
			}
			if m := versionRE.FindSubmatch(b); m != nil {
				n, _ := strconv.ParseInt(string(m[1]), 10, 64)
				versions <- n
			}
		}
	}()
	waitFast := func(v int64) {
		t.Helper()
		timeout := time.After(2 * time.Second)
		for {
			select {
			case got, ok := <-versions:
				if !ok {
					t.Fatal("fast client disconnected")
				}
				if got >= v {
					return
				}
			case <-timeout:
				t.Fatalf("fast client did not get version %d within 2s", v)
			}
		}
	}
	start := time.Now()
	for i := 0; a.lv.Hub.Stats().Connections > 1; i++ {
		if i == 2000 || time.Since(start) > 30*time.Second {
			t.Fatalf("slow client still connected after %d updates: %+v", i, a.lv.Hub.Stats())
		}
		waitFast(bump(t, a.db, s.draft))
	}
	t.Logf("slow client dropped after %v; hub %+v", time.Since(start).Round(time.Millisecond), a.lv.Hub.Stats())
	// The fast client is unaffected.
	waitFast(bump(t, a.db, s.draft))
	// The slow one, reading at last, finds its connection closed (1013 if the close frame
	// got through, else without one).
	if got := closeCode(t, slow, 15*time.Second); got != websocket.StatusTryAgainLater && got != -1 {
		t.Errorf("slow client close code = %d, want 1013 or none", got)
	}
}

// moreDrafts adds n drafts to workspace ws and returns their ids.
func moreDrafts(t *testing.T, db *postgres.DB, ws int64, n int) []string {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), `WITH t AS (
			INSERT INTO tenants (workspace_id, tenant_id, display_name)
			SELECT $1, gen_random_uuid(), 'Tenant ' || i FROM generate_series(1, $2) i
			RETURNING tenant_id, display_name)
		INSERT INTO managed_tenant_onboarding_sessions (workspace_id, tenant_id, display_name)
		SELECT $1, tenant_id, display_name FROM t RETURNING id::text`, ws, n)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(ids) != n {
		t.Fatalf("seeding %d drafts: %v (%d)", n, err, len(ids))
	}
	return ids
}

var (
	liveViewRE  = regexp.MustCompile(`data-live="(\w+)"`)
	draftIDRE   = regexp.MustCompile(`data-draft-id="([0-9a-f-]+)"`)
	batchPartRE = regexp.MustCompile(`(?s)<template data-live-batch>(.*?)</template>`)
)

// fragments returns a frame's fragments: a batch frame's parts, or the frame itself.
func fragments(frame []byte) [][]byte {
	parts := batchPartRE.FindAllSubmatch(frame, -1)
	if parts == nil {
		return [][]byte{frame}
	}
	out := make([][]byte, len(parts))
	for i, p := range parts {
		out[i] = p[1]
	}
	return out
}

// TestLiveCatchUp: a reconnect behind on 100 items (50 drafts, row and checkpoint each)
// receives every current fragment and keeps its socket. Before, the ninth queued catch-up
// frame closed it as a slow consumer (1013) before anything was sent.
func TestLiveCatchUp(t *testing.T) {
	t.Parallel()
	a := startLiveApp(t, pgtest.NewURL(t), liveOptions{}, nil)
	s := seedDraft(t, a.db)
	ids := append([]string{s.draft}, moreDrafts(t, a.db, s.ws, 49)...)
	var q []string
	for i, id := range ids {
		// Half say they show nothing, half an old rev: both are behind.
		q = append(q, fmt.Sprintf("draft=%s&rev=%d&view=row&draft=%s&rev=0", id, i%2, id))
	}
	conn := mustDial(t, a.base, signIn(t, a.base, s.member), strings.Join(q, "&"))
	conn.SetReadLimit(4 << 20)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	seen := map[string]bool{}
	frames := 0
	for len(seen) < 2*len(ids) {
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("after %d fragments in %d frames: %v (close %d)", len(seen), frames, err, websocket.CloseStatus(err))
		}
		frames++
		for _, f := range fragments(b) {
			seen[draftIDRE.FindStringSubmatch(string(f))[1]+"/"+liveViewRE.FindStringSubmatch(string(f))[1]] = true
		}
	}
	t.Logf("100 current fragments in %d frames", frames)
	if st := a.lv.Hub.Stats(); st.SlowCloses != 0 || st.Connections != 1 {
		t.Fatalf("hub %+v, want the connection kept and no slow close", st)
	}
	// The socket stays live.
	v := bump(t, a.db, ids[30])
	untilVersion(t, conn, v, 5*time.Second)
}

// sessionToken returns the session cookie's value of c for base.
func sessionToken(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	u, _ := url.Parse(base)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "onboard_session" {
			return ck.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

// closeWithin reads until the connection ends and returns its close code and reason and how
// long that took.
func closeWithin(t *testing.T, conn *websocket.Conn, d time.Duration) (websocket.StatusCode, string, time.Duration) {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		if _, _, err := conn.Read(ctx); err != nil {
			if ctx.Err() != nil {
				t.Fatalf("connection still open after %v", d)
			}
			var ce websocket.CloseError
			errors.As(err, &ce)
			return websocket.CloseStatus(err), ce.Reason, time.Since(start)
		}
	}
}

// TestLiveSessionEnd: sign-out and expiry close that session's sockets on every server
// process with 4401; the same user's other session keeps its socket. Before, a socket outlived
// its session (access was re-checked against membership only).
func TestLiveSessionEnd(t *testing.T) {
	t.Parallel()
	a, b, s := twoLiveApps(t)
	q := fmt.Sprintf("draft=%s&rev=%d", s.draft, currentRev(t, a.db, s.draft))
	leaving := signIn(t, a.base, s.member)
	staying := signIn(t, a.base, s.member)
	onA, onB := mustDial(t, a.base, leaving, q), mustDial(t, b.base, leaving, q)
	other := mustDial(t, a.base, staying, q)
	waitConns(t, a, 2)
	waitConns(t, b, 1)

	t.Run("SignOut", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodDelete, a.base+"/api/v1/session", nil)
		resp, err := leaving.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("DELETE /api/v1/session = %d", resp.StatusCode)
		}
		for name, conn := range map[string]*websocket.Conn{"same process": onA, "other process": onB} {
			code, reason, took := closeWithin(t, conn, 5*time.Second)
			t.Logf("%s: closed %d %q after %v", name, code, reason, took.Round(time.Millisecond))
			if code != 4401 || reason != "signed out" {
				t.Errorf("%s: close %d %q, want 4401 \"signed out\"", name, code, reason)
			}
		}
		// The other session of the same user is untouched.
		untilVersion(t, other, bump(t, a.db, s.draft), 5*time.Second)
		// And the ended one cannot come back.
		if _, resp, err := dialLive(t, a.base, leaving, q, ""); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("dial after sign-out = %v, want HTTP 401", err)
		}
	})

	t.Run("Expiry", func(t *testing.T) {
		expiring := signIn(t, b.base, s.member)
		conn := mustDial(t, b.base, expiring, q)
		waitConns(t, b, 1)
		token := sessionToken(t, expiring, b.base)
		sum := sha256.Sum256([]byte(token))
		// The sessions table holds the token or its SHA-256, depending on the store.
		tag, err := a.db.Pool.Exec(context.Background(), `UPDATE sessions SET expiry = now() - interval '1 second'
			WHERE token = ANY($1)`, []string{token, hex.EncodeToString(sum[:])})
		if err != nil || tag.RowsAffected() != 1 {
			t.Fatalf("expire the session: %v (%d rows)", err, tag.RowsAffected())
		}
		code, reason, took := closeWithin(t, conn, 5*time.Second)
		t.Logf("expired session: closed %d %q after %v", code, reason, took.Round(time.Millisecond))
		if code != 4401 {
			t.Errorf("close %d %q, want 4401", code, reason)
		}
		untilVersion(t, other, bump(t, a.db, s.draft), 5*time.Second)
	})
}

// TestLiveSocketCaps: sockets beyond the per-user or per-address cap are closed with 4429 and
// a reason naming the cap. Before, one session could open any number (400 were seen).
func TestLiveSocketCaps(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)
	for _, tc := range []struct {
		name   string
		ep     liveedge.Config
		reason string
	}{
		{"PerUser", liveedge.Config{MaxSocketsPerUser: 2}, "too many live connections for this user (limit 2)"},
		{"PerAddress", liveedge.Config{MaxSocketsPerUser: -1, MaxSocketsPerAddress: 2}, "too many live connections for this address (limit 2)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := startLiveApp(t, dbURL, liveOptions{Endpoint: tc.ep}, nil)
			s := seedDraft(t, a.db)
			c := signIn(t, a.base, s.member)
			q := "draft=" + s.draft
			for range 2 {
				untilVersion(t, mustDial(t, a.base, c, q), 1, 5*time.Second)
			}
			code, reason, _ := closeWithin(t, mustDial(t, a.base, signIn(t, a.base, s.member), q), 5*time.Second)
			if code != 4429 || reason != tc.reason {
				t.Errorf("third socket closed %d %q, want 4429 %q", code, reason, tc.reason)
			}
			if got := a.lv.Hub.Stats().Connections; got != 2 {
				t.Errorf("hub has %d connections, want 2", got)
			}
		})
	}
}

// TestLivePoll: GET /live/poll answers one request for every fragment a page shows: 304 when
// nothing is newer than the revs sent, else one frame of every newer fragment; refusals are
// HTTP statuses. Before, there was no such endpoint (only one checkpoint URL per draft).
func TestLivePoll(t *testing.T) {
	t.Parallel()
	a := startLiveApp(t, pgtest.NewURL(t), liveOptions{}, nil)
	s := seedDraft(t, a.db)
	member := signIn(t, a.base, s.member)
	poll := func(c *http.Client, q string) (int, string) {
		t.Helper()
		code, body, h := get(t, c, a.base+"/live/poll?"+q, "text/html")
		if code == http.StatusOK && h.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control %q, want no-store", h.Get("Cache-Control"))
		}
		return code, body
	}
	rev := currentRev(t, a.db, s.draft)
	both := func(r int64) string {
		return fmt.Sprintf("draft=%s&rev=%d&view=row&draft=%s&rev=%d", s.draft, r, s.draft, r)
	}
	if code, body := poll(member, both(rev)); code != http.StatusNotModified || body != "" {
		t.Errorf("poll at the current rev = %d %q, want 304 and no body", code, body)
	}
	code, body := poll(member, both(0))
	if code != http.StatusOK || len(fragments([]byte(body))) != 2 ||
		!strings.Contains(body, `data-live="row"`) || !strings.Contains(body, `data-live="checkpoint"`) {
		t.Errorf("poll showing nothing = %d %s, want both fragments in one frame", code, body)
	}
	v := bump(t, a.db, s.draft)
	code, body = poll(member, both(rev))
	if code != http.StatusOK || len(fragments([]byte(body))) != 2 {
		t.Fatalf("poll after a change = %d %s, want both fragments", code, body)
	}
	for _, f := range fragments([]byte(body)) {
		if got := versionOf(t, f); got != v {
			t.Errorf("polled version %d, want %d", got, v)
		}
	}
	for name, tc := range map[string]struct {
		c    *http.Client
		q    string
		want int
	}{
		"NoSession":    {http.DefaultClient, both(0), http.StatusUnauthorized},
		"BadQuery":     {member, "draft=12", http.StatusBadRequest},
		"UnknownDraft": {member, "draft=" + newUUID(), http.StatusNotFound},
		"NotAMember":   {signIn(t, a.base, s.outsider), both(0), http.StatusNotFound},
	} {
		if code, _ := poll(tc.c, tc.q); code != tc.want {
			t.Errorf("%s: poll = %d, want %d", name, code, tc.want)
		}
	}
	_, metrics, _ := get(t, http.DefaultClient, a.metrics, "")
	for _, re := range []string{`onboard_live_polls_total\{result="not_modified"\} 1`, `onboard_live_polls_total\{result="changed"\} 2`,
		`onboard_live_polls_total\{result="refused"\} 2`} {
		if !regexp.MustCompile(`(?m)^` + re).MatchString(metrics) {
			t.Errorf("/metrics lacks %s", re)
		}
	}
}

// twoLiveApps starts two server processes on one fresh database with a seeded draft.
func twoLiveApps(t *testing.T) (a, b *liveApp, s seed) {
	t.Helper()
	dbURL := pgtest.NewURL(t)
	a = startLiveApp(t, dbURL, liveOptions{}, nil)
	b = startLiveApp(t, dbURL, liveOptions{}, nil)
	return a, b, seedDraft(t, a.db)
}

func TestLiveTwoProcesses(t *testing.T) {
	t.Parallel()
	a, b, s := twoLiveApps(t)
	conn := mustDial(t, a.base, signIn(t, a.base, s.member), fmt.Sprintf("draft=%s&rev=%d", s.draft, currentRev(t, a.db, s.draft)))
	waitConns(t, a, 1)
	// Written through B's pool; A's listener hears it.
	v := bump(t, b.db, s.draft)
	untilVersion(t, conn, v, 5*time.Second)
	if got := b.lv.Hub.Stats().Connections; got != 0 {
		t.Errorf("B has %d connections, want 0", got)
	}
}

func TestLiveShutdown(t *testing.T) {
	t.Parallel()
	a := startLiveApp(t, pgtest.NewURL(t), liveOptions{}, nil)
	s := seedDraft(t, a.db)
	c := signIn(t, a.base, s.member)
	var conns []*websocket.Conn
	for range 3 {
		conn := mustDial(t, a.base, c, "draft="+s.draft)
		untilVersion(t, conn, 1, 5*time.Second)
		conns = append(conns, conn)
	}
	done := make(chan struct{})
	go func() {
		a.stop()
		close(done)
	}()
	for i, conn := range conns {
		if got := closeCode(t, conn, 10*time.Second); got != websocket.StatusGoingAway {
			t.Errorf("socket %d close code = %d, want 1001", i, got)
		}
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("shutdown did not finish")
	}
}

// TestServeLive goes through run: the serve command wires the live path and closes sockets
// with 1001 when its context ends.
func TestServeLive(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)
	db, err := postgres.Open(context.Background(), dbURL, "test", 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	s := seedDraft(t, db)
	base := startApp(t, map[string]string{"DATABASE_URL": dbURL, "DEMO": "never"})
	if code, _, _ := get(t, http.DefaultClient, base+"/readyz", ""); code != http.StatusOK {
		t.Fatalf("/readyz = %d, want 200", code)
	}
	conn := mustDial(t, base, signIn(t, base, s.member), fmt.Sprintf("draft=%s&rev=%d", s.draft, currentRev(t, db, s.draft)))
	v := bump(t, db, s.draft)
	untilVersion(t, conn, v, 5*time.Second)
}

func liveHubOptions(slow time.Duration) live.Options {
	return live.Options{SlowTimeout: slow}
}

// smallBufListener shrinks the send and receive buffers of accepted connections.
type smallBufListener struct{ net.Listener }

func (l smallBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
		_ = tc.SetReadBuffer(4096)
	}
	return c, err
}

type syscallRawConn = syscall.RawConn

// setRcvBuf sets SO_RCVBUF before connecting, so the advertised window stays small.
func setRcvBuf(rc syscall.RawConn, n int) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, n)
	})
	if err != nil {
		return err
	}
	return serr
}

// minParallel is how many of this package's tests run at once, at least, unless -parallel
// says otherwise (go test's default is GOMAXPROCS: 2 on the two-core machines we test on).
// Most of these tests wait (on Chromium, on timers, on PostgreSQL) more than they compute:
// a whole run takes under 5 minutes of CPU (README, Tests). At 8 the apps exhausted the
// shared PostgreSQL's 100 connections (an app holds 5 to 7).
const minParallel = 4

// flagSet reports whether the command line set the flag name.
func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func TestMain(m *testing.M) {
	// Hundreds of sign-ins under the race detector: at the recommended argon2id cost each
	// costs about a second of CPU. The cost is the hash's own (Verify reads it), so only the
	// time changes; internal/password tests the recommended cost.
	hashPassword = func(pw string) (string, error) {
		return password.HashCost(pw, password.Cost{MemoryKiB: 64, Passes: 1})
	}
	if os.Getenv(runAsMainEnv) == "1" {
		// The bench tests start this test binary as the processes `onboard bench` starts
		// (it runs os.Executable()): `serve`, `bench raw-server`.
		main()
		return
	}
	flag.Parse()
	if !flagSet("test.parallel") {
		_ = flag.Set("test.parallel", strconv.Itoa(max(minParallel, runtime.GOMAXPROCS(0))))
	}
	// Every test stops what it started: hubs, listeners, sockets, pools, servers. scs starts
	// cleanup goroutines (its memstore default and pgxstore) that nothing stops today.
	goleak.VerifyTestMain(closeBrowserAfter{m},
		goleak.IgnoreTopFunction("github.com/alexedwards/scs/v2/memstore.(*MemStore).startCleanup"),
		goleak.IgnoreTopFunction("github.com/alexedwards/scs/pgxstore.(*PostgresStore).startCleanup"))
}

// closeBrowserAfter runs the tests and then stops the package's Chromium, before goleak
// looks for goroutines left running.
type closeBrowserAfter struct{ m *testing.M }

func (c closeBrowserAfter) Run() int {
	defer browsers.Close()
	return c.m.Run()
}
