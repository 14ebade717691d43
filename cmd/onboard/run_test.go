package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/postgres/pgtest"
	"github.com/tenantops/onboard/internal/testkit"
)

// startApp calls run("serve") on a free port against a fresh database (or extraEnv's
// DATABASE_URL) and returns the base URL once /healthz answers.
func startApp(t *testing.T, extraEnv map[string]string) string {
	t.Helper()
	base, _ := startAppMetrics(t, extraEnv)
	return base
}

// startAppOnDB is startApp on a database of its own that the test also reads and writes: it
// returns the base URL and a connection to that database, closed at cleanup.
func startAppOnDB(t *testing.T, extraEnv map[string]string) (string, *pgx.Conn) {
	t.Helper()
	dbURL := pgtest.NewURL(t)
	env := map[string]string{"DATABASE_URL": dbURL}
	for k, v := range extraEnv {
		env[k] = v
	}
	base := startApp(t, env)
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return base, conn
}

// startAppMetrics is startApp that also returns the URL of /metrics, served on its own free
// port (METRICS_ADDR).
func startAppMetrics(t *testing.T, extraEnv map[string]string) (base, metrics string) {
	t.Helper()
	base, metrics, _ = startAppLog(t, extraEnv)
	return base, metrics
}

// startAppLog is startAppMetrics that also returns what the server logs.
func startAppLog(t *testing.T, extraEnv map[string]string) (base, metrics string, log *testkit.SyncBuffer) {
	t.Helper()
	env := map[string]string{
		"ADDR":         "127.0.0.1:0",
		"METRICS_ADDR": "127.0.0.1:0",
		"DEMO":         "if-empty",
		"DEMO_STORY":   "false", // tests count what they make; TestDemoStory loads it
		"SECRET_KEY":   "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"LOG_LEVEL":    "warn",
		// Parallel subtests sign in to one server at the same time; with the default two
		// hashing slots a third would get 503. TestSignInHashingBounded tests the bound.
		"LOGIN_CONCURRENCY": "16",
		// Tests run many apps at once against one PostgreSQL (max_connections 100, shared
		// with every other test process); a pool of 20 each would exhaust it. Requests
		// beyond the pool wait for a connection, which changes no result.
		"DB_MAX_CONNS": "6",
	}
	for k, v := range extraEnv {
		env[k] = v
	}
	if env["DATABASE_URL"] == "" { // a database of its own, cloned only when the caller brings none
		env["DATABASE_URL"] = pgtest.NewURL(t)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &testkit.SyncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"onboard", "serve"}, func(k string) string { return env[k] }, pw, stderr)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run returned %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("run did not return after cancel")
		}
		if strings.Contains(stderr.String(), "demo-password-1") {
			t.Error("a password appeared in the logs")
		}
		if t.Failed() { // what the server said (warnings and errors) explains most failures
			log := stderr.String()
			t.Logf("server log (last 4000 bytes):\n%s", log[max(0, len(log)-4000):])
		}
	})
	urlc := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		re := regexp.MustCompile(`listening on (http://\S+)`)
		reMetrics := regexp.MustCompile(`metrics on (http://\S+)`)
		var metrics string
		for sc.Scan() {
			if m := reMetrics.FindStringSubmatch(sc.Text()); m != nil {
				metrics = m[1]
			}
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- [2]string{m[1], metrics}
			}
		}
	}()
	select {
	case u := <-urlc:
		base, metrics, log = u[0], u[1], stderr
	case err := <-done:
		t.Fatalf("run exited early: %v\n%s", err, stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("no listening line within 60s\n%s", stderr.String())
	}
	for i := 0; ; i++ {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if i == 100 {
			t.Fatalf("/healthz never answered 200: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return base, metrics, log
}

// client returns an HTTP client signed in as email (demo password), not following redirects.
func client(t *testing.T, base, email string) *http.Client {
	t.Helper()
	return testkit.SignIn(t, base, email, "demo-password-1")
}

func get(t *testing.T, c *http.Client, url, accept string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestServeEndToEnd(t *testing.T) {
	t.Parallel()
	base, metrics := startAppMetrics(t, nil)

	t.Run("ReadyAndMetrics", func(t *testing.T) {
		if code, _, _ := get(t, http.DefaultClient, base+"/readyz", ""); code != http.StatusOK {
			t.Fatalf("/readyz = %d, want 200", code)
		}
		code, body, _ := get(t, http.DefaultClient, metrics, "")
		if code != http.StatusOK || !strings.Contains(body, "onboard_http_request_duration_seconds") {
			t.Fatalf("/metrics = %d without the request histogram", code)
		}
		// Not on the public address: it needs no sign-in.
		if code, _, _ := get(t, http.DefaultClient, base+"/metrics", ""); code != http.StatusNotFound {
			t.Errorf("public /metrics = %d, want 404", code)
		}
	})

	t.Run("LoginPage", func(t *testing.T) {
		code, body, _ := get(t, http.DefaultClient, base+"/admin/login", "text/html")
		if code != http.StatusOK || !strings.Contains(body, `data-testid="login-form"`) {
			t.Fatalf("/admin/login = %d, want the sign-in form", code)
		}
	})

	t.Run("Unauthenticated", func(t *testing.T) {
		code, _, h := get(t, http.DefaultClient, base+"/api/v1/workspaces/acme/onboarding/drafts", "")
		if code != http.StatusUnauthorized || h.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("API without session = %d %s, want 401 problem+json", code, h.Get("Content-Type"))
		}
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		code, _, h = get(t, c, base+"/admin/workspaces/acme/onboarding", "text/html")
		if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/admin/login?next=") {
			t.Fatalf("page without session = %d %s, want 303 to the sign-in page", code, h.Get("Location"))
		}
	})

	// The 404/403 rules on workspace routes, for each demo user.
	type want struct{ drafts, audit, unknown int }
	cases := map[string]struct {
		acme, globex want
	}{
		"owner@acme.test":    {acme: want{200, 200, 404}, globex: want{404, 404, 404}},
		"operator@acme.test": {acme: want{200, 403, 404}, globex: want{404, 404, 404}},
		"viewer@acme.test":   {acme: want{200, 403, 404}, globex: want{404, 404, 404}},
		"owner@globex.test":  {acme: want{404, 404, 404}, globex: want{200, 200, 404}},
	}
	var notFoundBodies []string
	for email, tc := range cases {
		t.Run(email, func(t *testing.T) {
			c := client(t, base, email)
			for ws, w := range map[string]want{"acme": tc.acme, "globex": tc.globex} {
				code, body, h := get(t, c, base+"/api/v1/workspaces/"+ws+"/onboarding/drafts", "")
				if code != w.drafts {
					t.Errorf("%s API drafts = %d, want %d", ws, code, w.drafts)
				}
				if code == http.StatusNotFound {
					notFoundBodies = append(notFoundBodies, body)
					if h.Get("Content-Type") != "application/problem+json" {
						t.Errorf("404 content type %q, want application/problem+json", h.Get("Content-Type"))
					}
				}
				if code == http.StatusOK {
					var list []map[string]any
					if err := json.Unmarshal([]byte(body), &list); err != nil {
						t.Errorf("drafts body is not a JSON list: %v", err)
					}
				}
				if code, _, _ := get(t, c, base+"/admin/workspaces/"+ws+"/onboarding", "text/html"); code != w.drafts {
					t.Errorf("%s drafts page = %d, want %d", ws, code, w.drafts)
				}
				if code, body, _ := get(t, c, base+"/admin/workspaces/"+ws+"/audit", "text/html"); code != w.audit {
					t.Errorf("%s audit page = %d, want %d", ws, code, w.audit)
				} else if code >= 400 && !strings.Contains(body, `data-testid="error-page"`) {
					t.Errorf("%s audit page %d is not an error page", ws, code)
				}
				code, body, _ = get(t, c, base+"/api/v1/workspaces/nope-"+ws+"/onboarding/drafts", "")
				if code != w.unknown {
					t.Errorf("unknown workspace = %d, want %d", code, w.unknown)
				}
				notFoundBodies = append(notFoundBodies, body)
			}
			code, body, _ := get(t, c, base+"/admin", "text/html")
			if code != http.StatusOK || !strings.Contains(body, `data-testid="workspace-`) {
				t.Errorf("/admin = %d without workspaces", code)
			}
		})
	}
	t.Run("NotFoundBodiesIdentical", func(t *testing.T) {
		for _, b := range notFoundBodies {
			if b != notFoundBodies[0] {
				t.Fatalf("404 bodies differ:\n%s\n%s", b, notFoundBodies[0])
			}
		}
	})
}

func TestLoginBadInput(t *testing.T) {
	t.Parallel()
	base := startApp(t, nil)
	for _, tc := range []struct {
		name, ctype, body string
		want              int
	}{
		{"MissingFields", "application/json", `{}`, 422},
		{"MissingPassword", "application/json", `{"email":"owner@acme.test"}`, 422},
		{"WrongJSON", "application/json", `{"email":`, 400},
		{"NotAnObject", "application/json", `["x"]`, 400},
		{"WrongType", "application/json", `{"email":1,"password":2}`, 400},
		{"UnknownField", "application/json", `{"email":"a@b.c","password":"x","admin":true}`, 400},
		{"TrailingData", "application/json", `{"email":"a@b.c","password":"x"} {}`, 400},
		{"HugeBody", "application/json", `{"email":"` + strings.Repeat("a", 1<<20) + `","password":"x"}`, 413},
		{"WrongContentType", "text/plain", `email=x`, 415},
		{"WrongPassword", "application/json", `{"email":"owner@acme.test","password":"nope"}`, 401},
		{"UnknownUser", "application/json", `{"email":"ghost@acme.test","password":"demo-password-1"}`, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(base+"/api/v1/session", tc.ctype, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.want {
				t.Fatalf("status = %d, want %d (%s)", resp.StatusCode, tc.want, b)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("content type = %q, want application/problem+json", ct)
			}
			if strings.Contains(string(b), "goroutine") || strings.Contains(string(b), ".go:") {
				t.Errorf("body leaks a stack trace: %s", b)
			}
			if resp.Header.Get("Set-Cookie") != "" {
				t.Errorf("a failed sign-in set a cookie")
			}
		})
	}
}

func TestLoginRateLimitAndSessionRotation(t *testing.T) {
	t.Parallel()
	base := startApp(t, nil)
	t.Run("RateLimited", func(t *testing.T) {
		var last *http.Response
		for i := 0; i < 6; i++ {
			resp, err := http.Post(base+"/api/v1/session", "application/json", strings.NewReader(`{"email":"viewer@acme.test","password":"wrong"}`))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			last = resp
		}
		if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
			t.Fatalf("6th failed attempt = %d Retry-After %q, want 429 with Retry-After", last.StatusCode, last.Header.Get("Retry-After"))
		}
		// Even the right password is refused while limited.
		resp, _ := http.Post(base+"/api/v1/session", "application/json", strings.NewReader(`{"email":"viewer@acme.test","password":"demo-password-1"}`))
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("right password while limited = %d, want 429", resp.StatusCode)
		}
	})
	t.Run("NewSessionIDOnLogin", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		if code, _, _ := get(t, c, base+"/admin/login", "text/html"); code != 200 {
			t.Fatal("login page")
		}
		resp, err := c.Post(base+"/api/v1/session", "application/json", strings.NewReader(`{"email":"owner@acme.test","password":"demo-password-1"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var sc string
		for _, ck := range resp.Cookies() {
			if ck.Name == "onboard_session" {
				sc = ck.Raw
				if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
					t.Errorf("session cookie flags: HttpOnly=%v SameSite=%v", ck.HttpOnly, ck.SameSite)
				}
			}
		}
		if sc == "" {
			t.Fatal("no session cookie set on sign in")
		}
		// Sign out destroys the session server-side: the old cookie no longer works.
		req, _ := http.NewRequest(http.MethodDelete, base+"/api/v1/session", nil)
		resp, err = c.Do(req)
		if err != nil || resp.StatusCode != http.StatusNoContent {
			t.Fatalf("sign out: %v %v", err, resp)
		}
		if code, _, _ := get(t, c, base+"/api/v1/workspaces/acme/onboarding/drafts", ""); code != http.StatusUnauthorized {
			t.Fatalf("after sign out = %d, want 401", code)
		}
	})
	t.Run("CrossOriginWriteRefused", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/session", strings.NewReader(`{"email":"owner@acme.test","password":"demo-password-1"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-origin POST = %d, want 403", resp.StatusCode)
		}
	})
}
