package static_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"

	"github.com/tenantops/onboard/internal/testkit"
	"github.com/tenantops/onboard/static"
)

// These tests drive live.js and the vendored idiomorph in real headless Chromium.
// A missing browser is a failure, never a skip.

// frag renders one live fragment the way the server would.
type frag struct {
	id, view, lifecycle, pollURL, updatedBy, updatedAt string
	version, rev                                       int
	name, status                                       string
	withForm                                           bool
}

func (f frag) HTML() string {
	var b strings.Builder
	fmt.Fprintf(&b, `<section class="card" data-live=%q data-draft-id=%q data-version="%d" data-rev="%d" data-lifecycle=%q`,
		f.view, f.id, f.version, f.rev, f.lifecycle)
	if f.pollURL != "" {
		fmt.Fprintf(&b, ` data-poll-url=%q`, f.pollURL)
	}
	if f.updatedBy != "" {
		fmt.Fprintf(&b, ` data-updated-by=%q data-updated-at=%q`, f.updatedBy, f.updatedAt)
	}
	fmt.Fprintf(&b, `><p class="status" id="%s-status">%s</p>`, f.id, html.EscapeString(f.status))
	if f.withForm {
		fmt.Fprintf(&b, `<form method="post" action="/submit/%s"><input type="hidden" name="version" value="%d">`+
			`<div class="field"><label for="%s-name">Name</label><input id="%s-name" name="name" value=%q></div>`+
			`<button class="btn btn-primary" id="%s-save">Save</button></form>`,
			f.id, f.version, f.id, f.id, html.EscapeString(f.name), f.id)
	}
	b.WriteString(`</section>`)
	return b.String()
}

var (
	d1 = frag{id: "d1", view: "checkpoint", lifecycle: "verifying", pollURL: "/poll/d1", version: 3, rev: 10,
		name: "Acme", status: "rev 10", withForm: true}
	d2 = frag{id: "d2", view: "checkpoint", lifecycle: "draft", version: 1, rev: 20,
		name: "Globex", status: "rev 20", withForm: true}
)

// wsConn is one browser connection to /live, controlled by the test.
type wsConn struct {
	query url.Values
	send  chan string
	close chan websocket.StatusCode
}

type testServer struct {
	*httptest.Server
	refuse atomic.Bool  // /live answers 403 before the upgrade
	status atomic.Int32 // when set, /live answers this status instead
	// upgrades and probes count /live requests: WebSocket handshakes, and plain GETs (live.js
	// asks a refused handshake's status that way).
	upgrades, probes atomic.Int64
	options          string                                       // window.liveConsoleOptions for the page; "" = the default below
	conns            chan *wsConn                                 // every accepted connection
	poll             func(w http.ResponseWriter, r *http.Request) // /poll/ handler, set per test
	mu               sync.Mutex

	submitted chan string // "METHOD name=value" of each /confirmed request
}

func newTestServer(t *testing.T, options ...string) *testServer {
	t.Helper()
	s := &testServer{conns: make(chan *wsConn, 16), submitted: make(chan string, 4),
		options: `{pollMs: 150, backoffMinMs: 50, backoffMaxMs: 200}`}
	if len(options) > 0 {
		s.options = options[0]
	}
	mux := http.NewServeMux()
	mux.Handle("/static/", http.StripPrefix("/static/", http.FileServerFS(static.FS)))
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>live test</title>
<link rel="stylesheet" href="/static/css/app.css">
<script>window.liveConsoleOptions = %s;
window.__applied = []; window.__states = []; window.__log = []; window.__retries = []; window.__refused = [];
document.addEventListener('live:retry', e => __retries.push(e.detail));
document.addEventListener('live:refused', e => __refused.push(e.detail.reason));
document.addEventListener('submit', e => __log.push('submit ' + e.target.getAttribute('method') + ' ' + (e.submitter && e.submitter.value)), true);
document.addEventListener('close', e => __log.push('close ' + e.target.returnValue), true);
window.addEventListener('error', e => __log.push('error ' + e.message));
window.addEventListener('unhandledrejection', e => __log.push('rejection ' + e.reason));
document.addEventListener('live:applied', e => __applied.push(e.detail.draftId + '@' + e.detail.rev));
document.addEventListener('live:state', e => __states.push(e.detail.state));</script>
<script src="/static/vendor/idiomorph.min.js" defer></script>
<script src="/static/js/live.js" defer></script></head>
<body><div class="shell"><header class="topbar"><span class="live-status" data-live-status></span></header>
<main class="content stack">%s%s</main></div></body></html>`, s.options, d1.HTML(), d2.HTML())
	})
	mux.HandleFunc("/live", func(w http.ResponseWriter, r *http.Request) {
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			s.upgrades.Add(1)
		} else {
			s.probes.Add(1)
		}
		if code := s.status.Load(); code != 0 {
			http.Error(w, "refused by test", int(code))
			return
		}
		if s.refuse.Load() {
			http.Error(w, "blocked by test", http.StatusForbidden)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		wc := &wsConn{query: r.URL.Query(), send: make(chan string), close: make(chan websocket.StatusCode, 1)}
		ctx := c.CloseRead(r.Context())
		s.conns <- wc
		for {
			select {
			case msg := <-wc.send:
				if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
					return
				}
			case code := <-wc.close:
				c.Close(code, "test")
				return
			case <-ctx.Done():
				return
			}
		}
	})
	mux.HandleFunc("/confirmed", func(w http.ResponseWriter, r *http.Request) {
		s.submitted <- r.Method + " name=" + r.PostFormValue("name")
		fmt.Fprint(w, `<!doctype html><p id="confirmed">submitted</p>`)
	})
	mux.HandleFunc("/live/poll", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		h := s.poll
		s.mu.Unlock()
		if h == nil {
			w.WriteHeader(http.StatusNotModified) // nothing newer than what the page shows
			return
		}
		h(w, r)
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *testServer) nextConn(t *testing.T) *wsConn {
	t.Helper()
	select {
	case c := <-s.conns:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("browser did not connect to /live")
		return nil
	}
}

func (c *wsConn) push(t *testing.T, f frag) {
	t.Helper()
	select {
	case c.send <- f.HTML():
	case <-time.After(5 * time.Second):
		t.Fatal("connection handler did not take the frame")
	}
}

// browsers is the package's one headless Chromium; TestMain stops it.
var browsers = testkit.NewSharedBrowser()

// newBrowser returns t's context in the package's Chromium: the tabs it opens are closed at
// t's cleanup.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	return browsers.Context(t)
}

// openPage opens a new tab on the test page and waits until live.js is loaded.
func openPage(t *testing.T, browser context.Context, s *testServer) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab, chromedp.Navigate(s.URL+"/"), waitJS(`!!window.liveConsole && !!window.Idiomorph`)); err != nil {
		t.Fatalf("opening the page: %v", err)
	}
	return tab
}

// waitJS polls a JavaScript condition in the page (no sleeps). On timeout the error
// carries the live state and the fragments' HTML, which is what one needs to debug.
// dialogSettled: the open dialog finished its entry animation, so a click lands where
// the box model says the button is.
const dialogSettled = `document.querySelector('dialog[open]').getAnimations().every(a => a.playState === 'finished')`

func waitJS(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		// Every 50 ms, not on every animation frame (chromedp's default), which kept each
		// waiting tab rendering 60 frames a second.
		_, err := chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(10*time.Second), chromedp.WithPollingInterval(50*time.Millisecond))(ctx, t)
		if err != nil {
			state, _ := chromedp.Evaluate[any](`({state: window.liveConsole && liveConsole.state(),
				active: document.activeElement && document.activeElement.id, path: location.pathname,
				html: (document.querySelector("main") || document.body).innerHTML})`)(ctx, t)
			return fmt.Errorf("waiting for %s: %w\npage: %v", expr, err, state)
		}
		return nil
	})
}

// must runs steps with a deadline: chromedp queries retry forever otherwise.
func must(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

func TestLive(t *testing.T) {
	browser := newBrowser(t)

	t.Run("newer frame morphs and older frame is dropped", func(t *testing.T) { liveNewerFrameMorphs(t, browser) })
	t.Run("batch frame applies every fragment it carries", func(t *testing.T) { liveBatchFrame(t, browser) })
	t.Run("same-field save: banner names the field, Use their version applies it", func(t *testing.T) { liveDirtyFormConflict(t, browser) })
	t.Run("Overwrite with mine keeps the operator's values at the new version", func(t *testing.T) { liveKeepMyChanges(t, browser) })
	t.Run("focus stays in the focused input across a morph", func(t *testing.T) { liveFocusKept(t, browser) })
	t.Run("close 1013 reconnects with the current revs", func(t *testing.T) { liveReconnectCurrentRevs(t, browser) })
	liveRefusals(t, browser)
	t.Run("transient close backs off with full jitter up to a minute", func(t *testing.T) { liveTransientBackoff(t, browser) })
	t.Run("socket refused: one poll request per round covers every fragment shown", func(t *testing.T) { livePollOneRequest(t, browser) })
	t.Run("poll refused 404 stops polling and says so", func(t *testing.T) { livePollRefused(t, browser) })
	t.Run("data-confirm asks with a dialog before submitting", func(t *testing.T) { liveConfirmDialog(t, browser) })
}

func liveNewerFrameMorphs(t *testing.T, browser context.Context) {
	s := newTestServer(t)
	tab := openPage(t, browser, s)
	c := s.nextConn(t)
	if got := c.query["draft"]; len(got) != 2 || got[0] != "d1" || got[1] != "d2" {
		t.Fatalf("draft params = %v, want [d1 d2]", got)
	}
	if got := c.query["rev"]; len(got) != 2 || got[0] != "10" || got[1] != "20" {
		t.Fatalf("rev params = %v, want [10 20]", got)
	}
	must(t, tab, waitJS(`liveConsole.state() === 'live'`),
		waitJS(`document.querySelector('[data-live-status]').dataset.state === 'live'`))

	next := d1
	next.rev, next.status = 11, "rev 11"
	c.push(t, next)
	must(t, tab, waitJS(`liveConsole.shownRev('d1','checkpoint') === '11' && document.getElementById('d1-status').textContent === 'rev 11'`))

	stale := d1
	stale.rev, stale.status = 9, "stale"
	c.push(t, stale)
	newest := d1
	newest.rev, newest.status = 12, "rev 12"
	c.push(t, newest)
	must(t, tab, waitJS(`liveConsole.shownRev('d1','checkpoint') === '12'`))
	if got := eval[[]string](t, tab, `__applied`); strings.Join(got, ",") != "d1@11,d1@12" {
		t.Fatalf("applied frames = %v, want d1@11,d1@12 (rev 9 must be dropped)", got)
	}
	if got := eval[string](t, tab, `liveConsole.applyFragment(document.querySelector('[data-draft-id=d2]').outerHTML)`); got != "dropped" {
		t.Fatalf("applying the shown rev again = %q, want dropped", got)
	}
}

func liveBatchFrame(t *testing.T, browser context.Context) {
	s := newTestServer(t)
	tab := openPage(t, browser, s)
	c := s.nextConn(t)
	must(t, tab, waitJS(`liveConsole.state() === 'live'`))
	a, b, stale := d1, d2, d1
	a.rev, a.status = 40, "batch a"
	b.rev, b.status = 41, "batch b"
	stale.rev = 5
	batch := ""
	for _, f := range []frag{stale, a, b} {
		batch += "<template data-live-batch>" + f.HTML() + "</template>"
	}
	select {
	case c.send <- batch:
	case <-time.After(5 * time.Second):
		t.Fatal("connection handler did not take the frame")
	}
	must(t, tab, waitJS(`liveConsole.shownRev('d1','checkpoint') === '40' && liveConsole.shownRev('d2','checkpoint') === '41'`),
		waitJS(`document.getElementById('d2-status').textContent === 'batch b'`))
	if got := eval[[]string](t, tab, `__applied`); strings.Join(got, ",") != "d1@40,d2@41" {
		t.Fatalf("applied = %v, want d1@40,d2@41", got)
	}
}

func liveDirtyFormConflict(t *testing.T, browser context.Context) {
	s := newTestServer(t)
	tab := openPage(t, browser, s)
	c := s.nextConn(t)
	must(t, tab, waitJS(`liveConsole.state() === 'live'`),
		clearValue("#d1-name"),
		chromedp.SendKeys(chromedp.CSS("#d1-name"), "Acme Corp"),
		waitJS(`document.getElementById('d1-name').value === 'Acme Corp'`),
		chromedp.Blur(chromedp.CSS("#d1-name")))

	// Run progress: newer rev, same version → morphs, typed input survives, no banner.
	progress := d1
	progress.rev, progress.status = 11, "progress 50%"
	c.push(t, progress)
	must(t, tab, waitJS(`liveConsole.shownRev('d1','checkpoint') === '11' && document.getElementById('d1-status').textContent === 'progress 50%'`))
	if v := eval[string](t, tab, `document.getElementById('d1-name').value`); v != "Acme Corp" {
		t.Fatalf("input after a same-version frame = %q, want the typed value", v)
	}

	edited := d1
	edited.version, edited.rev, edited.status, edited.name = 4, 12, "renamed", "Bob's Name"
	edited.updatedBy, edited.updatedAt = "bob@example.com", time.Now().Add(-2*time.Minute).UTC().Format(time.RFC3339)
	c.push(t, edited)
	// Bob saved the very field typed into: the banner (before the fragment, role=alert,
	// focused) names it with the value before, Bob's and the operator's; the rest of the
	// frame is applied, the form's version is held.
	banner := `[data-testid=conflict-banner][data-for-draft=d1][role=alert]`
	must(t, tab, chromedp.WaitVisible(chromedp.CSS(banner)),
		waitJS(`document.activeElement === document.querySelector('[data-testid=conflict-banner]')`))
	text := eval[string](t, tab, `document.querySelector('[data-testid=conflict-banner]').textContent`)
	if !strings.Contains(text, "bob@example.com saved Name") || !strings.Contains(text, "2 minutes ago") {
		t.Fatalf("banner text %q should name who, the field and when", text)
	}
	row := eval[[]string](t, tab, `[...document.querySelectorAll('[data-testid=conflict-fields] tr[data-field=name] > *')].map(c => c.textContent)`)
	if strings.Join(row, "|") != "Name|Acme|Bob's Name|Acme Corp" {
		t.Fatalf("conflict row = %q, want Name|Acme|Bob's Name|Acme Corp", row)
	}
	if v := eval[string](t, tab, `document.getElementById('d1-name').value`); v != "Acme Corp" {
		t.Fatalf("typed input lost on conflict: %q", v)
	}
	if r := eval[string](t, tab, `liveConsole.shownRev('d1','checkpoint') + ' ' + document.getElementById('d1-status').textContent + ' ' +
		document.querySelector('[data-draft-id=d1] input[name=version]').value`); r != "12 renamed 3" {
		t.Fatalf("after a collision: rev, status, form version = %q, want 12 renamed 3 (the rest follows, the version is held)", r)
	}
	if got := eval[string](t, tab, `document.querySelector('[data-testid=conflict-banner] .btn-primary').textContent`); got != "Use their version" {
		t.Fatalf("primary button = %q, want the safe one, Use their version", got)
	}

	must(t, tab, chromedp.Click(chromedp.CSS(`[data-testid=conflict-use-theirs]`)),
		waitJS(`document.getElementById('d1-name').value === "Bob's Name"`),
		waitJS(`!document.querySelector('[data-testid=conflict-banner]')`),
		waitJS(`document.querySelector('[data-draft-id=d1] input[name=version]').value === '4'`))
}

func liveKeepMyChanges(t *testing.T, browser context.Context) {
	s := newTestServer(t)
	tab := openPage(t, browser, s)
	c := s.nextConn(t)
	must(t, tab, waitJS(`liveConsole.state() === 'live'`),
		clearValue("#d1-name"),
		chromedp.SendKeys(chromedp.CSS("#d1-name"), "Acme Ltd"))
	edited := d1
	edited.version, edited.rev, edited.name, edited.updatedBy, edited.updatedAt = 5, 13, "Other", "eve@example.com", time.Now().UTC().Format(time.RFC3339)
	c.push(t, edited)
	must(t, tab, chromedp.WaitVisible(chromedp.CSS(`[data-testid=conflict-banner]`)),
		waitJS(`document.querySelector('[data-draft-id=d1] input[name=version]').value === '3'`),
		chromedp.Click(chromedp.CSS(`[data-testid=conflict-overwrite]`)),
		waitJS(`!document.querySelector('[data-testid=conflict-banner]')`),
		waitJS(`document.querySelector('[data-draft-id=d1] input[name=version]').value === '5'`),
		waitJS(`document.getElementById('d1-name').value === 'Acme Ltd'`))
}

func liveFocusKept(t *testing.T, browser context.Context) {
	s := newTestServer(t)
	tab := openPage(t, browser, s)
	c := s.nextConn(t)
	must(t, tab, waitJS(`liveConsole.state() === 'live'`),
		chromedp.Focus(chromedp.CSS("#d2-name")),
		waitJS(`document.activeElement && document.activeElement.id === 'd2-name'`))
	next := d2
	next.rev, next.status, next.version, next.name = 21, "rev 21", 2, "Globex Inc"
	next.updatedBy = "carol@example.com"
	c.push(t, next)
	must(t, tab,
		waitJS(`liveConsole.shownRev('d2','checkpoint') === '21' && document.getElementById('d2-status').textContent === 'rev 21'`),
		waitJS(`document.activeElement && document.activeElement.id === 'd2-name'`),
		waitJS(`[...document.querySelectorAll('.toasts .toast')].some(t => t.textContent === 'carol@example.com changed Name')`))
}

func liveReconnectCurrentRevs(t *testing.T, browser context.Context) {
	s := newTestServer(t)
	tab := openPage(t, browser, s)
	c := s.nextConn(t)
	must(t, tab, waitJS(`liveConsole.state() === 'live'`))
	next := d1
	next.rev = 15
	c.push(t, next)
	must(t, tab, waitJS(`liveConsole.shownRev('d1','checkpoint') === '15'`))
	must(t, tab, waitJS(`(__states = [], true)`))
	c.close <- websocket.StatusTryAgainLater
	c2 := s.nextConn(t)
	if got := c2.query["rev"]; len(got) != 2 || got[0] != "15" || got[1] != "20" {
		t.Fatalf("reconnect rev params = %v, want [15 20] (query %v)", got, c2.query)
	}
	// d1 is verifying with a poll URL, so while the socket is down the page polls.
	must(t, tab, waitJS(`liveConsole.state() === 'live'`),
		waitJS(`__states.join() === 'polling,live'`))
}

// A refused subscription never loops: permanent refusals stop every retry and say so
// on the page. Counted on the server: exactly one handshake, and nothing left scheduled.
func liveRefusals(t *testing.T, browser context.Context) {
	for _, tc := range []struct {
		name, reason, testid, text, indicator string
		status                                int32                // refuse the handshake with this HTTP status
		close                                 websocket.StatusCode // or accept and close with this code
	}{
		{name: "HTTP 400", status: 400, reason: "invalid", testid: "live-unavailable", text: "not available", indicator: "Not updating"},
		{name: "HTTP 401", status: 401, reason: "signedOut", testid: "session-expired", text: "Signed out — sign in again", indicator: "Signed out"},
		{name: "close 4400", close: 4400, reason: "invalid", testid: "live-unavailable", text: "not available", indicator: "Not updating"},
		{name: "close 4401", close: 4401, reason: "signedOut", testid: "session-expired", text: "Signed out — sign in again", indicator: "Signed out"},
		{name: "close 4403", close: 4403, reason: "revoked", testid: "live-unavailable", text: "No longer available", indicator: "Not updating"},
		{name: "close 4404", close: 4404, reason: "gone", testid: "live-unavailable", text: "No longer available", indicator: "Not updating"},
	} {
		t.Run("refusal "+tc.name+" stops retrying and says so", func(t *testing.T) {
			s := newTestServer(t)
			s.status.Store(tc.status)
			tab := openPage(t, browser, s)
			if tc.close != 0 {
				s.nextConn(t).close <- tc.close
			}
			must(t, tab, waitJS(`liveConsole.state() === 'offline' && !liveConsole.retryPending()`),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid=`+tc.testid+`][data-reason=`+tc.reason+`][role=alert]`)))
			if got := eval[string](t, tab, `document.querySelector('[data-testid=`+tc.testid+`]').textContent`); !strings.Contains(got, tc.text) {
				t.Errorf("notice %q, want it to say %q", got, tc.text)
			}
			if got := eval[string](t, tab, `document.querySelector('[data-live-status]').textContent`); got != tc.indicator {
				t.Errorf("indicator %q, want %q", got, tc.indicator)
			}
			if got := eval[[]string](t, tab, `__refused`); len(got) != 1 || got[0] != tc.reason {
				t.Errorf("live:refused reasons %v, want [%s]", got, tc.reason)
			}
			wantProbes := int64(0)
			if tc.status != 0 {
				wantProbes = 1
			}
			if u, p := s.upgrades.Load(), s.probes.Load(); u != 1 || p != wantProbes {
				t.Errorf("handshakes %d, status probes %d; want 1 and %d", u, p, wantProbes)
			}
			if n := eval[int](t, tab, `__retries.length`); n != 0 {
				t.Errorf("%d retries scheduled, want none", n)
			}
		})
	}
}

func liveTransientBackoff(t *testing.T, browser context.Context) {
	// The default cap (60 s) with a short base, so the doubling shows within a second.
	s := newTestServer(t, `{pollMs: 150, backoffMinMs: 20}`)
	tab := openPage(t, browser, s)
	for range 6 {
		s.nextConn(t).close <- websocket.StatusInternalError
	}
	must(t, tab, waitJS(`__retries.length >= 6`))
	type retry struct {
		Attempt int     `json:"attempt"`
		Code    int     `json:"code"`
		CapMs   float64 `json:"capMs"`
		DelayMs float64 `json:"delayMs"`
	}
	retries := eval[[]retry](t, tab, `__retries`)
	for i, r := range retries[:6] {
		want := 20 * float64(int(1)<<i)
		if r.Attempt != i || r.Code != 1011 || r.CapMs != want || r.DelayMs < 0 || r.DelayMs > r.CapMs {
			t.Errorf("retry %d = %+v, want attempt %d, code 1011, cap %v, delay within it", i, r, i, want)
		}
	}
	if got := eval[float64](t, tab, `liveConsole.backoffCap(30)`); got != 60000 {
		t.Errorf("backoff cap = %v ms, want 60000", got)
	}
	// Each scheduled retry is one handshake: no attempt outside the schedule.
	if u := s.upgrades.Load(); u > int64(len(retries))+1 {
		t.Errorf("%d handshakes for %d retries", u, len(retries))
	}
}

func livePollOneRequest(t *testing.T, browser context.Context) {
	s := newTestServer(t)
	s.refuse.Store(true)
	var (
		mu      sync.Mutex
		queries []string // the query of each poll
	)
	s.mu.Lock()
	s.poll = func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		queries = append(queries, r.URL.RawQuery)
		if r.Header.Get("Accept") != "text/html" {
			http.Error(w, "want Accept: text/html", http.StatusBadRequest)
			return
		}
		q := r.URL.Query()
		switch {
		case len(queries) < 3 || q.Get("rev") == "30":
			w.WriteHeader(http.StatusNotModified) // nothing newer than the revs sent
		default:
			// d2 is a draft that is not verifying: before, it was never polled.
			a, b := d1, d2
			a.rev, a.status = 30, "polled a"
			b.rev, b.status = 31, "polled b"
			fmt.Fprint(w, "<template data-live-batch>"+a.HTML()+"</template><template data-live-batch>"+b.HTML()+"</template>")
		}
	}
	s.mu.Unlock()

	tab := openPage(t, browser, s)
	must(t, tab, waitJS(`liveConsole.state() === 'polling'`),
		waitJS(`document.querySelector('[data-live-status]').dataset.state === 'polling'`),
		waitJS(`liveConsole.shownRev('d1','checkpoint') === '30' && liveConsole.shownRev('d2','checkpoint') === '31'`),
		waitJS(`document.getElementById('d2-status').textContent === 'polled b'`))
	mu.Lock()
	for i, raw := range queries {
		q, _ := url.ParseQuery(raw)
		if got := strings.Join(q["draft"], ","); got != "d1,d2" {
			t.Errorf("poll %d asked for drafts %s, want d1,d2 in one request", i, got)
		}
		if i == 0 && strings.Join(q["rev"], ",") != "10,20" {
			t.Errorf("first poll revs %v, want 10,20", q["rev"])
		}
	}
	mu.Unlock()
	if got := eval[[]string](t, tab, `__applied`); strings.Join(got, ",") != "d1@30,d2@31" {
		t.Fatalf("applied = %v, want d1@30,d2@31", got)
	}

	// Socket back: the client reconnects with the polled revs and leaves polling.
	s.refuse.Store(false)
	c := s.nextConn(t)
	if got := c.query["rev"]; len(got) != 2 || got[0] != "30" || got[1] != "31" {
		t.Fatalf("reconnect revs = %v, want [30 31]", got)
	}
	must(t, tab, waitJS(`liveConsole.state() === 'live'`),
		waitJS(`document.querySelector('[data-live-status]').textContent === 'Live'`))
}

func livePollRefused(t *testing.T, browser context.Context) {
	s := newTestServer(t)
	s.refuse.Store(true)
	var polls atomic.Int64
	s.mu.Lock()
	s.poll = func(w http.ResponseWriter, r *http.Request) {
		polls.Add(1)
		http.NotFound(w, r)
	}
	s.mu.Unlock()
	tab := openPage(t, browser, s)
	must(t, tab, waitJS(`liveConsole.state() === 'offline' && !liveConsole.retryPending()`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=live-unavailable][data-reason=gone]`)))
	if n := polls.Load(); n != 1 {
		t.Errorf("%d polls, want 1", n)
	}
}

func liveConfirmDialog(t *testing.T, browser context.Context) {
	s := newTestServer(t)
	tab := openPage(t, browser, s)
	s.nextConn(t)
	must(t, tab,
		waitJS(`(() => { const f = document.querySelector('[data-draft-id=d2] form'); f.dataset.confirm = 'Really save?'; f.action = '/confirmed'; return true })()`),
		chromedp.Click(chromedp.CSS("#d2-save")),
		chromedp.WaitVisible(chromedp.CSS("dialog.confirm-dialog[open]")),
		waitJS(`document.querySelector('dialog .dialog-body').textContent === 'Really save?'`),
		waitJS(dialogSettled),
		chromedp.Click(chromedp.CSS(`dialog button[value=cancel]`)),
		waitJS(`!document.querySelector('dialog[open]') && location.pathname === '/'`),
		chromedp.Click(chromedp.CSS("#d2-save")),
		chromedp.WaitVisible(chromedp.CSS("dialog.confirm-dialog[open]")),
		waitJS(dialogSettled),
		chromedp.Click(chromedp.CSS(`dialog button[value=ok]`)))
	// The form navigates away: wait on the server side, not in the page.
	select {
	case m := <-s.submitted:
		if m != "POST name=Globex" {
			t.Fatalf("submission = %q, want POST name=Globex", m)
		}
	case <-time.After(10 * time.Second):
		st, err := chromedp.Run(tab, chromedp.Evaluate[any](`({open: !!document.querySelector('dialog[open]'), rv: document.querySelector('dialog').returnValue, path: location.pathname, active: document.activeElement.outerHTML, log: __log})`))
		t.Fatalf("confirmed form was not submitted (page %v %v)", st, err)
	}
}

// clearValue empties a field's value as a person would, leaving what the server rendered
// (the value attribute) alone; chromedp.Clear removes that too, which would make live.js
// read the field's stored value as empty.
func clearValue(sel string) chromedp.Action[chromedp.Void] {
	return waitJS(fmt.Sprintf(`(document.querySelector(%q).value = '', true)`, sel))
}
