// Package testkit holds helpers shared by tests of several packages: a goroutine-safe log
// buffer, the headless Chromium the browser tests drive, signing in over the API. Only tests import it.
package testkit

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// SyncBuffer is an io.Writer that goroutines may share, for logs and process output.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// ChromiumPath is the browser the tests drive (Debian's chromium package; CI installs it).
// CHROMIUM_PATH names another, e.g. /usr/bin/chromium-headless-shell (Debian's
// chromium-headless-shell, Chromium's old headless mode), which ran the browser tests with
// 25–58 % less CPU before startBrowser's switches took most of the difference away (README,
// Testing: the sixth and seventh rounds).
const ChromiumPath = "/usr/bin/chromium"

// NewBrowser starts one headless Chromium for a test function, stopped at cleanup; its
// subtests open tabs or browser contexts of their own in it. extra options are added to the
// defaults (e.g. chromedp.WindowSize). A missing browser is a failure, never a skip. A
// package with several browser tests shares one Chromium instead (SharedBrowser).
func NewBrowser(t testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	browser, stop, err := startBrowser(extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return browser
}

// startBrowser starts one headless Chromium and returns its first tab's context and the
// function that stops it.
func startBrowser(extra ...chromedp.ExecAllocatorOption) (context.Context, func(), error) {
	path := cmp.Or(os.Getenv("CHROMIUM_PATH"), ChromiumPath)
	if _, err := os.Stat(path); err != nil {
		return nil, nil, fmt.Errorf("browser tests need %s (apt-get install -y chromium): %w", path, err)
	}
	// DefaultExecAllocatorOptions already turn off background timer throttling and
	// renderer backgrounding, so tabs that are not in front keep their timers exact.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		// chromedp's two, and no spare renderer: Chromium starts a renderer process ahead
		// of the next navigation, in the browser context last used, and every test session
		// is a browser context of its own, so most spares were started for nothing.
		// TestBrowser* used 206–221 CPU-seconds with it off, 229–242 with it on.
		//
		// Nor the omnibox popup's WebUI: Chromium 156 loads chrome://omnibox-popup.top-chrome
		// in a renderer of its own for every window, and every test session opens a window
		// (a browser context of its own). It cost 0.7 CPU-seconds a window, for a popup no
		// test opens: TestBrowserLive 51.9 → 42.6 CPU-seconds without it.
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,SpareRendererForSitePerProcess,"+
			"WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup"),
	)
	if roomyShm() {
		// chromedp's defaults keep shared memory in /tmp (disable-dev-shm-usage), for
		// containers whose /dev/shm is 64 MB; where /dev/shm is roomy, files there cost less
		// (TestBrowserLive 41.6–42.8 → 35.1–38.2 CPU-seconds).
		opts = append(opts, chromedp.Flag("disable-dev-shm-usage", false))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(opts, extra...)...)
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	stop := func() { cancelBrowser(); cancelAlloc() }
	if err := chromedp.Do(browser); err != nil {
		stop()
		return nil, nil, fmt.Errorf("start chromium: %w", err)
	}
	return browser, stop, nil
}

// SharedBrowser is one headless Chromium that every test of a package uses: it starts on
// the first Context call and stops at Close, which TestMain calls after the tests. Starting
// Chromium costs a second or more of both cores; a tab or a browser context costs little, and
// the tests' browser contexts are as separate as separate browsers (cookies, storage, cache).
type SharedBrowser struct {
	extra []chromedp.ExecAllocatorOption
	once  sync.Once
	root  context.Context
	stop  func()
	err   error
}

// NewSharedBrowser describes a package's Chromium; extra options are added to the defaults
// (e.g. chromedp.WindowSize). Nothing starts until Context is called.
func NewSharedBrowser(extra ...chromedp.ExecAllocatorOption) *SharedBrowser {
	return &SharedBrowser{extra: extra}
}

// Context returns a context for t in the shared Chromium, started if it is not yet:
// chromedp.NewContext on it opens a tab (WithNewBrowserContext: in a browser context of its
// own), and every tab opened from it is closed at t's cleanup. A missing browser is a
// failure, never a skip.
func (b *SharedBrowser) Context(t testing.TB) context.Context {
	t.Helper()
	b.once.Do(func() { b.root, b.stop, b.err = startBrowser(b.extra...) })
	if b.err != nil {
		t.Fatal(b.err)
	}
	// A child of the first tab's context: it has no tab of its own until something runs on
	// it, and cancelling it closes the tabs opened from it, not the browser.
	ctx, cancel := chromedp.NewContext(b.root)
	t.Cleanup(cancel)
	return ctx
}

// Close stops Chromium if it was started.
func (b *SharedBrowser) Close() {
	if b.stop != nil {
		b.stop()
	}
}

// SignIn starts a session for email on the app at base through the JSON API (POST
// /api/v1/session) and returns a client holding its cookie. Redirects are not followed, so a
// test sees the app's own answers.
func SignIn(t testing.TB, base, email, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	resp, err := c.Post(base+"/api/v1/session", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("sign in as %s: status %d, want 204", email, resp.StatusCode)
	}
	return c
}

// SoakDuration is how long a fault test keeps injecting faults: SOAK_DURATION (make soak
// sets it; e.g. 2m) or, when it is unset (make test), short.
func SoakDuration(t testing.TB, short time.Duration) time.Duration {
	t.Helper()
	s := os.Getenv("SOAK_DURATION")
	if s == "" {
		return short
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		t.Fatalf("SOAK_DURATION=%q: want a positive duration like 2m", s)
	}
	return d
}

// roomyShm reports whether /dev/shm has room for Chromium's shared memory: 1 GiB free, as
// Debian's chromium launcher wants before it leaves /dev/shm in use (it asks 3.8 GB of a
// browser that people keep open for days).
func roomyShm() bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs("/dev/shm", &st); err != nil {
		return false
	}
	return st.Bavail*uint64(st.Bsize) >= 1<<30
}
