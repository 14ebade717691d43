package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/tenantops/onboard/internal/testkit"
)

// Helpers shared by the browser tests: one headless Chromium per package, one browser
// context (own cookies, own tab) per signed-in user, and a page type whose waits are all
// bounded and explicit (a JavaScript condition, never a sleep).

// waitFor bounds every wait for the page to reach a state. Typing is a CDP round trip per
// key into the package's one Chromium; with four tests at a time on two busy cores an email
// address has taken over 10 s.
const waitFor = 20 * time.Second

// screenshotDir collects the PNGs the tests take (artifacts/ is ignored by git) when
// TEST_SHOTS is set (make shots sets it): a screenshot is a full raster and a PNG encoding
// in Chromium, and make test, which looks at none of them, took 43.
var screenshotDir = filepath.Join("..", "..", "artifacts", "screenshots")

// recorderJS runs before any script of every document of a tab. It records live.js's events
// (with the verification run's progress as the DOM shows it right after each applied frame),
// every poll request and every CSP violation, in sessionStorage so that the log survives the
// tab's navigations.
const recorderJS = `(() => {
  const key = '__liveLog';
  let log = [];
  try { log = JSON.parse(sessionStorage.getItem(key) || '[]'); } catch {}
  window.__liveLog = log;
  window.__docId = Math.random().toString(36).slice(2);
  const save = () => { try { sessionStorage.setItem(key, JSON.stringify(log)); } catch {} };
  const progress = () => {
    const run = document.querySelector('[data-testid=verification-run]');
    const bar = run && run.querySelector('[data-testid=run-progress]');
    const st = run && run.querySelector('[data-testid=run-status]');
    return { done: bar ? Number(bar.dataset.done) : -1, total: bar ? Number(bar.dataset.total) : -1,
      status: st ? st.dataset.status : '' };
  };
  for (const name of ['live:applied', 'live:conflict', 'live:state']) {
    document.addEventListener(name, (e) => {
      log.push(Object.assign({ type: name.slice(5), t: Date.now(), doc: window.__docId }, e.detail,
        name === 'live:applied' ? progress() : {}));
      save();
    });
  }
  // Anything the Content-Security-Policy blocks (inline code, foreign origins).
  document.addEventListener('securitypolicyviolation', (e) => {
    log.push({ type: 'csp', t: Date.now(), doc: window.__docId, directive: e.violatedDirective,
      blocked: e.blockedURI, url: e.documentURI, sample: e.sample });
    save();
  });
  const f = window.fetch;
  window.fetch = function (input) {
    const u = String((input && input.url) || input);
    if (u.includes('/live/poll')) { log.push({ type: 'poll', t: Date.now(), url: u, doc: window.__docId }); save(); }
    return f.apply(this, arguments);
  };
})();`

// liveEntry is one record of recorderJS.
type liveEntry struct {
	Type      string `json:"type"` // applied, conflict, state, poll, csp
	T         int64  `json:"t"`    // Date.now() in the browser (same clock as the test)
	Doc       string `json:"doc"`  // which document of the tab
	DraftID   string `json:"draftId"`
	Rev       string `json:"rev"`
	Version   string `json:"version"`
	Lifecycle string `json:"lifecycle"`
	UpdatedBy string `json:"updatedBy"`
	Source    string `json:"source"` // push, poll, reload, api
	State     string `json:"state"`
	Done      int    `json:"done"`
	Total     int    `json:"total"`
	Status    string `json:"status"`
	Directive string `json:"directive"` // csp: the violated directive
	Blocked   string `json:"blocked"`   // csp: what was blocked
	URL       string `json:"url"`       // poll: the request; csp: the document
	Sample    string `json:"sample"`    // csp: the start of the blocked code
}

// browsers is the package's one headless Chromium, at the window size the screenshots use;
// TestMain stops it.
var browsers = testkit.NewSharedBrowser(chromedp.WindowSize(1280, 800))

// newBrowser returns t's context in the package's Chromium (started by the first test that
// asks): each session opens a browser context of its own in it, closed at t's cleanup.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	return browsers.Context(t)
}

// sessionOptions change how a tab is set up before it signs in.
type sessionOptions struct {
	// liveOptions is a JavaScript object literal assigned to window.liveConsoleOptions
	// before live.js loads (docs/ui.md), e.g. `{backoffMaxMs: 1000}`.
	liveOptions string
	// gate puts a proxy in front of the app for this tab, so that page.blockLive can
	// block its WebSocket.
	gate bool
	// blockLive blocks the tab's /live WebSocket from the start (implies gate).
	blockLive bool
	// blockPoll also blocks its poll requests (GET /live/poll), for a tab that must really
	// miss every change.
	blockPoll bool
	// lifetime bounds everything the tab does; default 2 minutes (make soak's fault tests
	// keep a tab for longer).
	lifetime time.Duration
	// signInForm signs in through the login page, as a person does, and leaves the tab on
	// the page the sign-in leads to. Without it the session is made through the API and its
	// cookie given to the tab, which is left blank: the form costs two page loads and a few
	// dozen key presses, and most tests are about what comes after it.
	signInForm bool
}

// newSession opens a tab in a browser context of its own (its own cookies), installs the
// event recorder and signs in (through the API unless sessionOptions.signInForm).
func newSession(t *testing.T, browser context.Context, base, email string, o ...sessionOptions) *page {
	t.Helper()
	tab, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	var opt sessionOptions
	if len(o) > 0 {
		opt = o[0]
	}
	ctx, cancelTimeout := context.WithTimeout(tab, cmp.Or(opt.lifetime, 2*time.Minute))
	t.Cleanup(cancelTimeout)
	p := &page{t: t, ctx: ctx, base: base, email: email}
	if opt.gate || opt.blockLive || opt.blockPoll {
		p.gate = newLiveGate(t, base)
		p.base = p.gate.url
	}
	src := recorderJS
	if opt.liveOptions != "" {
		src = "window.liveConsoleOptions = " + opt.liveOptions + ";\n" + src
	}
	if _, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: src}); err != nil {
		t.Fatalf("install the recorder: %v", err)
	}
	if opt.blockLive || opt.blockPoll {
		p.blockLive(true)
	}
	if opt.blockPoll {
		p.gate.pollBlocked.Store(true)
	}
	// The window's 1280×800 includes the (headless) browser chrome: make the page itself
	// 1280×800, the size of the screenshots.
	p.do("set the viewport", chromedp.EmulateViewport(1280, 800))
	// Reduced motion, as the crawl has it: the stylesheet's endless animations (a pulsing
	// badge, a spinner, an indeterminate bar) otherwise keep every open tab drawing frames.
	// The browser tests used 17 % less CPU so (TestBrowser*: 322 → 267 CPU-seconds), and
	// none of them is about motion.
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-reduced-motion", Value: "reduce"}}}); err != nil {
		t.Fatalf("reduced motion: %v", err)
	}
	if email == "" { // anonymous: not signed in
		return p
	}
	if !opt.signInForm {
		p.signInByAPI()
		return p
	}
	p.open("/admin/login")
	p.typeInto("#email", email)
	p.typeInto("#password", "demo-password-1")
	p.submit(`[data-testid=login-submit]`, 200)
	p.text(`[data-testid=user-email]`, email)
	return p
}

// signInByAPI signs the tab's user in through POST /api/v1/session, as the browser (its user
// agent), and gives the tab the session's cookie.
func (p *page) signInByAPI() {
	p.t.Helper()
	ua := eval[string](p, `navigator.userAgent`)
	body, _ := json.Marshal(map[string]string{"email": p.email, "password": "demo-password-1"})
	req, _ := http.NewRequest(http.MethodPost, p.base+"/api/v1/session", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", ua)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("sign in %s: %v", p.email, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		p.t.Fatalf("sign in %s: status %d, want 204", p.email, resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		if c.Name != "onboard_session" {
			continue
		}
		if _, err := chromedp.Call(p.bounded(), network.SetCookie, network.SetCookieParams{Name: c.Name, Value: c.Value, URL: p.base,
			Path: "/", HTTPOnly: &c.HttpOnly, Secure: &c.Secure, SameSite: network.CookieSameSiteLax}); err != nil {
			p.t.Fatalf("give the tab its session: %v", err)
		}
		return
	}
	p.t.Fatalf("sign in %s: no session cookie in %v", p.email, resp.Header.Values("Set-Cookie"))
}

// page is one tab driven by a test.
type page struct {
	t     *testing.T
	ctx   context.Context
	base  string
	email string
	gate  *liveGate // nil unless the tab was opened with sessionOptions.gate
}

func (p *page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitFor)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.fail("%s: %v", what, err)
	}
}

// bounded is the tab's context for one call, bounded by twice waitFor: a call into a browser
// that stopped answering (two busy cores) fails the test instead of holding the package
// until its timeout.
func (p *page) bounded() context.Context {
	ctx, cancel := context.WithTimeout(p.ctx, 2*waitFor)
	p.t.Cleanup(cancel)
	return ctx
}

// fail reports err with where the tab is and what it shows.
func (p *page) fail(format string, args ...any) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second) // the tab may be what broke
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	txt, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 3000) : ''`))
	p.t.Fatalf(format+"\n%s at %s\n%s", append(args, p.email, loc, txt)...)
}

func (p *page) open(path string) {
	p.t.Helper()
	resp, err := chromedp.RunResponse(p.bounded(), chromedp.Navigate(p.base+path))
	if err != nil {
		p.fail("open %s: %v", path, err)
	}
	if resp.Status != 200 {
		p.fail("open %s: status %d", path, resp.Status)
	}
}

func (p *page) reload() {
	p.t.Helper()
	if _, err := chromedp.RunResponse(p.bounded(), chromedp.Reload()); err != nil {
		p.fail("reload: %v", err)
	}
}

// submit clicks a button that sends a form and waits for the page it leads to (after the
// 303, if any), checking its status.
func (p *page) submit(sel string, status int64) {
	p.t.Helper()
	p.visible(sel)
	resp, err := chromedp.RunResponse(p.bounded(), chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		p.fail("submit %s: %v", sel, err)
	}
	if resp.Status != status {
		p.fail("submit %s: status %d, want %d", sel, resp.Status, status)
	}
}

// confirmSubmit clicks a button of a form with data-confirm, answers live.js's dialog with
// its confirm button and waits for the page the form leads to.
func (p *page) confirmSubmit(sel string, status int64) {
	p.t.Helper()
	p.click(sel)
	p.js(`document.querySelector('dialog.confirm-dialog')?.open === true`)
	p.submit(`dialog.confirm-dialog button[value=ok]`, status)
}

func (p *page) click(sel string) {
	p.t.Helper()
	p.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// clickText clicks the button inside sel whose text is text, from JavaScript (live.js's
// banner buttons do not navigate).
func (p *page) clickText(sel, text string) {
	p.t.Helper()
	p.js(fmt.Sprintf(`(() => { const b = [...document.querySelectorAll(%q)].find(e => e.textContent.trim() === %q);
		if (b) b.click(); return !!b; })()`, sel+" button", text))
}

func (p *page) typeInto(sel, value string) {
	p.t.Helper()
	clear := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[any](fmt.Sprintf(`document.querySelector(%q).value = ''`, sel))(ctx, t)
		return err
	})
	p.do("type into "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), clear, chromedp.SendKeys(chromedp.CSS(sel), value))
}

func (p *page) visible(sel string) {
	p.t.Helper()
	p.do("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
}

// js waits until a JavaScript expression is true.
func (p *page) js(expr string) {
	p.t.Helper()
	p.jsWithin(waitFor, expr)
}

// pollEvery is how often a wait evaluates its condition in the tab. chromedp's default
// evaluates it on every animation frame, which keeps every waiting tab rendering 60 frames a
// second for as long as it waits; a person-paced test loses nothing at 50 ms.
const pollEvery = 50 * time.Millisecond

// jsWithin waits at most d until a JavaScript expression is true.
//
// A wait outlives the document it started in: when the page goes on to another document
// while the condition is evaluated (a redirect, a reload), Chromium drops the evaluation
// ("Cannot find context with specified id") and the wait starts again in the new one.
func (p *page) jsWithin(d time.Duration, expr string) {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for {
		_, err := chromedp.Run(p.ctx, chromedp.Poll[any](expr, chromedp.WithPollingTimeout(time.Until(deadline)), chromedp.WithPollingInterval(pollEvery)))
		if err == nil {
			return
		}
		if documentGone(err) && time.Now().Before(deadline) {
			continue
		}
		p.fail("wait %v for %s: %v", d, expr, err)
	}
}

// documentGone reports whether err says that the document an evaluation ran in went away.
func documentGone(err error) bool {
	s := err.Error()
	return strings.Contains(s, "Cannot find context with specified id") || strings.Contains(s, "Execution context was destroyed") ||
		strings.Contains(s, "Inspected target navigated or closed")
}

// eval evaluates expr now and decodes its value into T.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.bounded(), chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.fail("evaluate %s: %v", expr, err)
	}
	return v
}

// text waits until the element's text contains want.
func (p *page) text(sel, want string) {
	p.t.Helper()
	p.js(fmt.Sprintf(`(document.querySelector(%q) || {}).innerText?.includes(%q)`, sel, want))
}

func (p *page) toast(want string) {
	p.t.Helper()
	p.js(fmt.Sprintf(`[...document.querySelectorAll('[data-toast]')].some(e => e.innerText.includes(%q))`, want))
}

// lifecycle checks the draft's state on the fragment's root and in the badge words.
func (p *page) lifecycle(state, words string) {
	p.t.Helper()
	p.jsWithin(15*time.Second, lifecycleJS(state, words))
}

func lifecycleJS(state, words string) string {
	return fmt.Sprintf(`document.querySelector('#checkpoint')?.dataset.lifecycle === %q &&
		document.querySelector('[data-testid=lifecycle-badge]').innerText.trim() === %q &&
		document.querySelector('[data-testid=status-lifecycle]').innerText.trim() === %q`, state, words, words)
}

func (p *page) reason(code string) {
	p.t.Helper()
	p.js(fmt.Sprintf(`document.querySelector('[data-testid=reason]')?.dataset.code === %q`, code))
}

// liveState waits until live.js reports state and the indicator shows it.
func (p *page) liveState(state string, within time.Duration) {
	p.t.Helper()
	p.jsWithin(within, fmt.Sprintf(`window.liveConsole?.state() === %[1]q &&
		document.querySelector('[data-live-status]')?.dataset.state === %[1]q`, state))
}

// noBanner checks, now, that no conflict banner is shown and none was raised in the tab
// (on any of its pages).
func (p *page) noBanner() {
	p.t.Helper()
	p.noBannerSince(time.Time{})
}

// noBannerSince checks, now, that no conflict banner is shown and none was raised in the
// tab since t0.
func (p *page) noBannerSince(t0 time.Time) {
	p.t.Helper()
	if eval[bool](p, `!!document.querySelector('[data-testid=conflict-banner]')`) {
		p.fail("a conflict banner is shown")
	}
	for _, e := range p.liveLog() {
		if e.Type == "conflict" && e.T >= t0.UnixMilli() {
			p.fail("live.js raised a conflict: %+v", e)
		}
	}
}

func (p *page) draftID() string {
	p.t.Helper()
	id := eval[string](p, `document.querySelector('#checkpoint')?.dataset.draftId || ''`)
	if id == "" {
		p.fail("no draft id on the page")
	}
	return id
}

// shownRev is the checkpoint fragment's rev the tab shows.
func (p *page) shownRev() int64 {
	p.t.Helper()
	return eval[int64](p, `Number(document.querySelector('#checkpoint').dataset.rev)`)
}

func (p *page) html() string {
	p.t.Helper()
	return eval[string](p, `document.documentElement.outerHTML`)
}

// liveLog returns what recorderJS recorded in this tab so far.
func (p *page) liveLog() []liveEntry {
	p.t.Helper()
	raw := eval[string](p, `JSON.stringify(window.__liveLog || [])`)
	var log []liveEntry
	if err := json.Unmarshal([]byte(raw), &log); err != nil {
		p.fail("live log: %v", err)
	}
	return log
}

// markDocument tags the current document, so that a later stillSameDocument proves the tab
// did not navigate or reload in between.
func (p *page) markDocument() {
	p.t.Helper()
	eval[bool](p, `(window.__marked = true)`)
}

func (p *page) stillSameDocument() {
	p.t.Helper()
	if !eval[bool](p, `window.__marked === true`) {
		p.fail("the tab navigated or reloaded")
	}
}

// blockLive blocks (or unblocks) the tab's /live WebSocket; the tab must have been opened
// with sessionOptions.gate. live.js sees a failed handshake (1006), reconnects with backoff
// and polls meanwhile.
func (p *page) blockLive(block bool) {
	p.t.Helper()
	if p.gate == nil {
		p.t.Fatal("blockLive needs a tab opened with sessionOptions{gate: true}")
	}
	p.gate.blocked.Store(block)
}

// liveGate is a reverse proxy in front of the app for one tab. Chromium's
// Network.setBlockedURLs does not apply to WebSocket handshakes (checked with Chromium 156),
// so the test blocks /live in the network path instead: while blocked, the proxy refuses
// the upgrade. It also counts the tab's poll requests, as the server sees them.
type liveGate struct {
	url     string
	blocked atomic.Bool
	// pollBlocked refuses GET /live/poll too (502), as a network that drops both would.
	pollBlocked atomic.Bool
	mu          sync.Mutex
	polls       []time.Time // GET /live/poll requests that reached the proxy
}

// newLiveGate starts the proxy for base. The Host header is kept, so that CrossOriginProtection
// sees the proxy's origin on both sides; the tab's Origin becomes the app's own, the one origin
// /live accepts (as PUBLIC_URL would name the proxy's in front of a real deployment).
func newLiveGate(t *testing.T, base string) *liveGate {
	t.Helper()
	target, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	g := &liveGate{}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Host = pr.In.Host
		if pr.In.URL.Path == "/live" && pr.In.Header.Get("Origin") == g.url {
			pr.Out.Header.Set("Origin", base)
		}
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/live" && g.blocked.Load() {
			http.Error(w, "WebSockets blocked by the test", http.StatusBadGateway)
			return
		}
		if r.URL.Path == "/live/poll" && g.pollBlocked.Load() {
			http.Error(w, "polls blocked by the test", http.StatusBadGateway)
			return
		}
		if r.URL.Path == "/live/poll" {
			g.mu.Lock()
			g.polls = append(g.polls, time.Now())
			g.mu.Unlock()
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	g.url = srv.URL
	return g
}

// pollsSince counts the poll requests that reached the proxy after t0.
func (g *liveGate) pollsSince(t0 time.Time) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, at := range g.polls {
		if at.After(t0) {
			n++
		}
	}
	return n
}

// post sends a form to the wizard's action from the page (same origin, the tab's session)
// with the version shown, as a forged or stale request would, and returns status and body.
func (p *page) post(action string, fields map[string]string) (int, string) {
	p.t.Helper()
	type result struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	var args strings.Builder
	for k, v := range fields {
		fmt.Fprintf(&args, "f.append(%q, %q);", k, v)
	}
	res := eval[result](p, fmt.Sprintf(`(async () => {
		const cp = document.querySelector('#checkpoint');
		const f = new URLSearchParams(); f.append('version', cp.dataset.version); %s
		const r = await fetch(location.pathname + %q, {method: 'POST', body: f, redirect: 'manual'});
		return {status: r.status, body: await r.text()};
	})()`, args.String(), action))
	return res.Status, res.Body
}

// barSettled waits until the verification's progress bar has finished its CSS width
// transition (0.4 s), so that a screenshot shows the bar at the count the text says.
func (p *page) barSettled() {
	p.t.Helper()
	p.js(`(() => { const bar = document.querySelector('[data-testid=verification-run] [data-testid=run-progress]');
		if (!bar) return true;
		const want = 100 * Number(bar.dataset.done) / Math.max(1, Number(bar.dataset.total));
		const got = 100 * bar.firstElementChild.getBoundingClientRect().width / bar.clientWidth;
		return Math.abs(got - want) < 1; })()`)
}

// shot saves a 1280×800 screenshot of the viewport, scrolled to the element of the first
// selector given, if any.
func (p *page) shot(name string, scrollTo ...string) {
	p.t.Helper()
	if os.Getenv("TEST_SHOTS") == "" {
		return
	}
	if len(scrollTo) > 0 {
		p.do("scroll to "+scrollTo[0], chromedp.ScrollIntoView(chromedp.CSS(scrollTo[0])))
	}
	png, err := chromedp.Run(p.bounded(), chromedp.CaptureScreenshot())
	if err != nil {
		p.fail("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	path := filepath.Join(screenshotDir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	abs, _ := filepath.Abs(path)
	p.t.Logf("screenshot: %s", abs)
}

// startDraft starts onboarding from workspace ws's drafts page and returns the new draft's
// id; the wizard opens at the connection step.
func (p *page) startDraft(ws, tenantID, name, domain string) string {
	p.t.Helper()
	p.open("/admin/workspaces/" + ws + "/onboarding")
	p.submit(`[data-testid=new-onboarding]`, 200)
	p.typeInto("#tenant_id", tenantID)
	p.typeInto("#display_name", name)
	p.typeInto("#primary_domain", domain)
	p.submit(`[data-testid=start-submit]`, 200)
	p.visible(`[data-testid=panel-connection]`)
	return p.draftID()
}

// attachConnection fills and sends the connection step; the wizard moves to Verify access.
func (p *page) attachConnection() {
	p.t.Helper()
	p.typeInto("#client_id", newUUID())
	p.typeInto("#client_secret", "a-fake-secret-for-tests")
	p.submit(`[data-testid=save-connection]`, 200)
	p.visible(`[data-testid=panel-verify]`)
}

// newUUID returns a random version 4 UUID (tenant and client ids of test drafts).
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// createDraftAPI starts a draft through the JSON API and returns its id.
func createDraftAPI(t *testing.T, c *http.Client, base, tenantID, name, domain string) string {
	t.Helper()
	body := fmt.Sprintf(`{"tenant_id":%q,"display_name":%q,"primary_domain":%q}`, tenantID, name, domain)
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/workspaces/acme/onboarding/drafts", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create draft: status %d, %v", resp.StatusCode, err)
	}
	return d.ID
}
