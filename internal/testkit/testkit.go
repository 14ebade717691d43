// Package testkit holds helpers shared by tests of several packages: a goroutine-safe log
// buffer, the headless Chromium the browser tests drive, signing in over the API. Only tests import it.
package testkit

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"os"
	"sync"
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
const ChromiumPath = "/usr/bin/chromium"

// NewBrowser starts one headless Chromium for a test function, stopped at cleanup; its
// subtests open tabs or browser contexts of their own in it. extra options are added to the
// defaults (e.g. chromedp.WindowSize). A missing browser is a failure, never a skip.
func NewBrowser(t testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		t.Fatalf("browser tests need %s (apt-get install -y chromium): %v", ChromiumPath, err)
	}
	// DefaultExecAllocatorOptions already turn off background timer throttling and
	// renderer backgrounding, so tabs that are not in front keep their timers exact.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(ChromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(opts, extra...)...)
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return browser
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
